#!/usr/bin/env bash
# The proof, side by side: runs every benchmark of the project on this machine and collects
# their reports (each prints ratios against the approach playalike replaces) into
# bench/RESULTS.md, stamped with the date and the machine.
#
#   ./scripts/bench.sh            # all parts
#   ./scripts/bench.sh quality    # rerun one part: quality | engine | fetch | web | reliability
#   ./scripts/bench.sh --collect  # rerun nothing: assemble RESULTS.md from the committed outputs
#
# RESULTS.md is always assembled from every part's latest output; each section carries its own
# date and commit, and the header says which parts this invocation reran.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(quality engine fetch web reliability)
parts=("$@")
collect_only=0
if [ "${parts[0]:-}" = "--collect" ]; then
  collect_only=1
  parts=()
fi
[ ${#parts[@]} -gt 0 ] || [ $collect_only = 1 ] || parts=("${all[@]}")

[ $collect_only = 1 ] || ./scripts/setup.sh >&2
mkdir -p bench
{
  echo "# playalike benchmark results"
  echo
  echo "Produced by \`./scripts/bench.sh\` on $(date -u +%Y-%m-%d) — $(uname -m), $(nproc) cores,"
  echo "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB RAM."
  if [ $collect_only = 1 ]; then
    echo "This pass reran nothing: each section below is the committed output of the named script"
    echo "(each states when and at which commit it was produced)."
  elif [ ${#parts[@]} -eq ${#all[@]} ]; then
    echo "Each section below is the committed output of the named script, all run in this one pass."
  else
    echo "This pass reran: ${parts[*]}. The other sections are the outputs of an earlier full pass"
    echo "(each section states when and at which commit it was produced)."
  fi
  echo
} > bench/RESULTS.md.tmp

for part in ${parts[@]+"${parts[@]}"}; do
  case "$part" in
    quality) script=scripts/bench-quality.sh; out=bench/quality.md ;;
    engine) script=scripts/bench-engine.sh; out=bench/engine.md ;;
    fetch) script=scripts/bench-fetch.sh; out=bench/fetch.md ;;
    web) script=scripts/bench-web.sh; out=bench/web.md ;;
    reliability) script=scripts/reliability.sh; out=bench/reliability.md ;;
    *) echo "bench.sh: unknown part '$part' (quality | engine | fetch | web | reliability)" >&2; exit 2 ;;
  esac
  echo "==> $part ($script)" >&2
  if [ ! -x "$script" ]; then
    echo "bench.sh: $script is missing" >&2
    exit 1
  fi
  "$script" >&2
done
for part in "${all[@]}"; do
  out="bench/$part.md"
  [ -s "$out" ] || continue
  { echo "## $part"; echo; sed '1{/^# /d}' "$out"; echo; } >> bench/RESULTS.md.tmp
  # The same benchmark with emulated network latency (bench-web.mjs --rtt MS), when committed.
  for extra in bench/"$part"-rtt*.md; do
    [ -s "$extra" ] || continue
    { echo "## $part, $(basename "$extra" .md | sed 's/.*-rtt//') ms per request"; echo; sed '1{/^# /d}' "$extra"; echo; } >> bench/RESULTS.md.tmp
  done
done
mv bench/RESULTS.md.tmp bench/RESULTS.md
echo "wrote bench/RESULTS.md" >&2
