#!/usr/bin/env bash
# The reliability campaign (issue 7): three parts, one report, bench/reliability.md.
#   1. the blob decoder under a seeded mutation fuzzer (crates/engine/examples/fuzz_decode.rs):
#      inputs tried, decoded, refused by kind, panics (must be 0);
#   2. `playalike run`, repeated, under IGDB faults (the sandbox), GCS faults (scripts/fault-proxy.mjs
#      in front of fake-gcs-server) and crashes at each publish step (PLAYALIKE_FAILPOINT), the
#      bucket checked independently after and during every run (scripts/reliability_runs.py):
#      models lost and times the live pointer named a broken version (both must be 0);
#   3. the site in Chromium with a missing, corrupt, damaged, truncated and oversized model
#      (tests/browser/site-model-errors.test.mjs): the message each case shows;
#   4. hostile input over real HTTP (scripts/hostile.mjs): the sandbox under parser bombs, endless
#      bodies, slow clients and floods; fetch against a scripted IGDB that answers what IGDB never
#      would; publish against a bucket at the last version number or with a giant pointer.
# Every check asserts: the script exits non-zero when any part fails, after writing the report.
#
#   ./scripts/reliability.sh                 # all parts (about 5 minutes here)
#   ./scripts/reliability.sh fuzz runs       # some parts: fuzz | runs | site | hostile
# Environment: PLAYALIKE_FUZZ_ITERS (400000), PLAYALIKE_FUZZ_SECONDS (600), PLAYALIKE_FUZZ_SEED (1),
#   PLAYALIKE_RELIABILITY_RUNS (48), PLAYALIKE_RELIABILITY_SEED (1), PLAYALIKE_DATA_DIR,
#   PLAYALIKE_BENCH_NO_BUILD=1 (use the binaries already built).
# Output: bench/reliability.md (committed; only a run of all three parts writes it, a partial run
# writes target/reliability/partial.md), also printed on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(fuzz runs site hostile)
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
for p in "${parts[@]}"; do
  case "$p" in fuzz | runs | site | hostile) ;; *) echo "reliability: unknown part '$p' (fuzz | runs | site | hostile)" >&2; exit 2 ;; esac
done
log() { printf 'reliability: %s\n' "$*" >&2; }

OUT=target/reliability
mkdir -p "$OUT" bench
DATA="${PLAYALIKE_DATA_DIR:-$(pwd)/../shared/data}"
RUNS="${PLAYALIKE_RELIABILITY_RUNS:-48}"
RSEED="${PLAYALIKE_RELIABILITY_SEED:-1}"
FAKE_GCS="${PLAYALIKE_FAKE_GCS:-.venv/bin/fake-gcs-server}"
BIN=target/debug/playalike
FUZZ=target/debug/examples/fuzz_decode
QUERY=target/debug/examples/query
rm -f "$OUT"/fuzz.json "$OUT"/runs.json "$OUT"/site.json "$OUT"/hostile.json "$OUT"/*.status

# One dev-profile build of what the parts run (our crates are opt-level 2 in dev; overflow checks
# stay on, which makes the fuzzer stricter than the release/wasm builds).
if [ "${PLAYALIKE_BENCH_NO_BUILD:-}" != 1 ]; then
  log "cargo build -p playalike-builder --features failpoints -p playalike-engine --examples (dev profile)"
  cargo build -q -p playalike-builder --features failpoints
  cargo build -q -p playalike-engine --example fuzz_decode --example query
fi

# The corpus: the committed blobs, plus a model trained from the 4k sample when it is there.
corpus=(crates/engine/tests/data/format-1.1.bin crates/engine/tests/data/format-1.0.bin crates/engine/tests/data/format-0.1.bin)
if [ -d "$DATA/igdb-sample-4k" ]; then
  "$BIN" train --snapshot "$DATA/igdb-sample-4k" --out "$OUT/model-4k.bin" --report - --no-learn \
    --metrics "$OUT/model-4k.metrics.json" --created-at 2026-01-01T00:00:00Z >/dev/null
  corpus+=("$OUT/model-4k.bin")
else
  log "$DATA/igdb-sample-4k is absent: the corpus is the committed and synthetic blobs only"
fi

status=0
if want fuzz; then
  log "part 1: fuzzing the blob decoder"
  start=$(date +%s)
  if "$FUZZ" "${corpus[@]}" >"$OUT/fuzz.json"; then echo ok >"$OUT/fuzz.status"; else echo FAILED >"$OUT/fuzz.status"; status=1; fi
  log "part 1 took $(($(date +%s) - start)) s"
fi

if want runs; then
  log "part 2: $RUNS runs of playalike run under IGDB and GCS faults and crashes"
  [ -x "$FAKE_GCS" ] || { log "$FAKE_GCS missing: run scripts/setup.sh"; exit 2; }
  start=$(date +%s)
  if python3 scripts/reliability_runs.py --bin "$BIN" --query "$QUERY" --gcs "$FAKE_GCS" \
    --data crates/builder/tests/data/mini-snapshot --runs "$RUNS" --seed "$RSEED" --out "$OUT/runs.json"; then
    echo ok >"$OUT/runs.status"
  else
    echo FAILED >"$OUT/runs.status"; status=1
  fi
  log "part 2 took $(($(date +%s) - start)) s"
fi

if want site; then
  log "part 3: the site with a missing, corrupt, damaged, truncated and oversized model"
  if [ ! -f pkg/playalike_bg.wasm ]; then
    log "pkg/ is not built; building it (scripts/build-wasm.sh)"
    ./scripts/build-wasm.sh >&2
  fi
  model="${corpus[${#corpus[@]} - 1]}"
  [ -f "$OUT/model-4k.bin" ] || { "$QUERY" --synth 4000 1 "$OUT/model-synth.bin" >/dev/null; model="$OUT/model-synth.bin"; }
  if PLAYALIKE_TEST_MODEL="$model" PLAYALIKE_BIN="$BIN" PLAYALIKE_RELIABILITY_REPORT="$OUT/site.json" \
    node --test tests/browser/site-model-errors.test.mjs >"$OUT/site.log" 2>&1; then
    echo ok >"$OUT/site.status"
  else
    echo FAILED >"$OUT/site.status"; status=1; tail -40 "$OUT/site.log" >&2
  fi
fi

if want hostile; then
  log "part 4: hostile input to the sandbox, fetch and publish"
  hostile_data="$DATA/igdb-sample-4k"
  [ -d "$hostile_data" ] || hostile_data=crates/builder/tests/data/mini-snapshot
  start=$(date +%s)
  if node scripts/hostile.mjs --bin "$BIN" --data "$hostile_data" --out "$OUT/hostile.json"; then
    echo ok >"$OUT/hostile.status"
  else
    echo FAILED >"$OUT/hostile.status"; status=1
  fi
  log "part 4 took $(($(date +%s) - start)) s"
fi

report=bench/reliability.md
[ ${#parts[@]} -eq 4 ] || report="$OUT/partial.md"
python3 - "$OUT" "$RUNS" "$RSEED" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates pkg web scripts tests || echo '+changes')" "${parts[*]}" >"$report" <<'PY'
import datetime, json, os, sys
out, runs_n, rseed, commit, parts = sys.argv[1:6]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
def status(name):
    p = os.path.join(out, name + ".status")
    return open(p).read().strip() if os.path.exists(p) else "not run"
load1, load5, _ = os.getloadavg()
print("# reliability campaign\n")
print(f"Produced by `./scripts/reliability.sh` ({parts}) on {datetime.date.today().isoformat()}, commit {commit}; "
      f"{os.cpu_count()} cores, shared (load average {load1:.1f} / {load5:.1f} at the end). "
      "Rerun: `./scripts/reliability.sh [fuzz|runs|site|hostile]`; each part asserts, the script exits non-zero on any failure.\n")

f = load("fuzz.json")
print(f"## 1. Blob decoder under a mutation fuzzer — **{status('fuzz')}**\n")
if f:
    print("`crates/engine/examples/fuzz_decode.rs`: each input is a corpus blob with 1–4 seeded mutations (bit flips, byte "
          "overwrites, truncation, extension, splicing, section-table edits, header length edits, varint edits inside a section, "
          "insertions/deletions inside a section with the table fixed up, version edits); in 3 of 4 inputs the header's length and "
          "CRC-32 are recomputed afterwards so the parser past the checksum sees the damage. Every input goes to `Engine::from_bytes` "
          "under `catch_unwind`; blobs that decode are queried (status, game views, recommend with and without filters, explain, search).\n")
    print("| measure | value |\n|---|---|")
    print(f"| inputs tried | **{f['tried']:,}** in {f['seconds']:.0f} s ({f['tried'] / max(f['seconds'], 1e-9):,.0f}/s, {f['profile']}) |")
    print(f"| of which header length + CRC recomputed | {f['headerFixed']:,} |")
    print(f"| decoded (then queried: {f['answers']:,} answers) | {f['decoded']:,} |")
    errs = ", ".join(f"{k} {v:,}" for k, v in sorted(f["errors"].items(), key=lambda kv: -kv[1]))
    print(f"| refused, by error kind | {errs} |")
    errs = ", ".join(f"{k} {v:,}" for k, v in sorted(f["errorsWithHeaderFixed"].items(), key=lambda kv: -kv[1]))
    print(f"| refused with a valid CRC, by kind | {errs} |")
    print(f"| **panics** | **{f['panics']}** (must be 0){' — seeds ' + ', '.join(map(str, f['panicSeeds'])) if f['panics'] else ''} |")
    print(f"| corpus | {'; '.join(f['corpus'])} |")
    print(f"| seed | {f['seed']} (`PLAYALIKE_FUZZ_SEED`; a failing input reproduces with `fuzz_decode --repro SEED BLOB…`) |\n")
    if f.get("hostile"):
        print("Hostile blobs, decoded under a counting allocator before the fuzzing (valid CRC; each must be refused, or "
              "decode within the stated bound of 4 × its size + 64 KiB, docs/decisions/509-bounded-decoder.md):\n")
        print("| blob | bytes | outcome | decode peak | bound |\n|---|---|---|---|---|")
        for h in f["hostile"]:
            print(f"| {h['name']} | {h['bytes']:,} | {h['outcome']} | {h['peakBytes']:,} B ({h['ratio']:.2f}×) | "
                  f"{h['bound']:,} B{'' if h['withinBound'] else ' **OVER**'} |")
        print()
    print("Found by this fuzzer and fixed: string lengths whose sum overflows 64 bits (a huge varint after a small one, CRC valid) "
          "panicked on an integer overflow in checked builds and wrapped in release builds "
          "(regression test `string_lengths_that_overflow_are_refused` in crates/engine/tests/format.rs).\n")

r = load("runs.json")
print(f"## 2. `playalike run` under IGDB and GCS faults and crashes — **{status('runs')}**\n")
if r:
    t = r["totals"]
    print(f"{t['runs']} runs (seed {r['seed']}) against the project's IGDB sandbox (60-game snapshot, "
          "crates/builder/tests/data/mini-snapshot, a fault kind per run) and fake-gcs-server behind "
          "`scripts/fault-proxy.mjs` (503/500/429, connections dropped before forwarding or after the write, delays, "
          "bodies cut short, at a seeded rate per run), some runs killed at a publish step with `PLAYALIKE_FAILPOINT`. "
          "Each run trains a model with a new `source`, so every successful run publishes a new version. The bucket is read "
          "directly from the emulator after each run and every 50 ms during it: every `models/vN/` blob is checked against "
          "its metadata.json (size, SHA-256) and decoded by the native engine; latest.json must name a complete version "
          "whose size and SHA-256 it states correctly.\n")
    print("| measure | value |\n|---|---|")
    print(f"| runs tried | **{t['runs']}** |")
    print(f"| succeeded (published a new version) | {t['published']} (+{t['unchanged']} unchanged) |")
    print(f"| failed with a clear error (documented exit code + JSON summary with the error) | {t['failed_clear']} |")
    print(f"| killed on purpose at a publish step (exit 86) | {t['crashed_on_purpose']} |")
    print(f"| failed without a clear error | **{t['unclear']}** (must be 0) |")
    print(f"| **models lost** (a complete version gone or changed afterwards) | **{t['models_lost']}** (must be 0) |")
    print(f"| **live pointer naming a broken or missing version**, after runs / during runs | "
          f"**{t['pointer_broken_after']} / {t['pointer_broken_during']}** (must be 0; {t['pointer_checks_during']:,} checks during runs) |")
    print(f"| versions.json naming an incomplete version | {t['history_naming_incomplete']} (must be 0) |")
    print(f"| complete versions at the end / live version / incomplete uploads left behind (never live) | "
          f"{r['complete_versions_at_end']} / v{r['live_at_end']} / {t['orphans_left']} |")
    print(f"| exit codes | {', '.join(f'{k}: {v}' for k, v in sorted(r['by_exit'].items(), key=lambda kv: str(kv[0])))} |")
    st = r.get("self_test", {})
    print(f"| checker self-test (a pointer to a missing version and a deleted blob are both caught) | "
          f"{'passed' if st and all(st.values()) else 'FAILED'} |\n")
    print("| IGDB fault (sandbox) | runs | fetch succeeded | published |\n|---|---|---|---|")
    for k, v in r["by_igdb"].items():
        print(f"| {k} | {v['runs']} | {v['fetch_ok']} | {v['published']} |")
    print("\n| GCS fault rate (proxy) | runs | published |\n|---|---|---|")
    for k, v in sorted(r["by_gcs"].items(), key=lambda kv: float(kv[0].rstrip(' %'))):
        print(f"| {k} | {v['runs']} | {v['published']} |")
    print("\n| crash point (`PLAYALIKE_FAILPOINT`) | runs | live pointer moved |\n|---|---|---|")
    for k, v in r["by_failpoint"].items():
        print(f"| {k} | {v['runs']} | {v['moved']} |")
    stages = {}
    for x in r["runs"]:
        if x["outcome"] == "failed_clear":
            key = (x.get("failed_stage") or "?", x["exit"])
            stages[key] = stages.get(key, 0) + 1
    if stages:
        print("\n| failed stage | exit code | runs |\n|---|---|---|")
        for (stage, code), n in sorted(stages.items(), key=lambda kv: str(kv[0])):
            print(f"| {stage} | {code} | {n} |")
    gate12 = [x for x in r["runs"] if x["exit"] == 12]
    reads12 = [x for x in gate12 if x["error"].startswith(("while reading", "while downloading"))]
    if gate12:
        print(f"\nOf the {len(gate12)} runs that exited 12 (\"the validation gate refused the model\"), {len(reads12)} failed "
              "reading the live model from the bucket (latest.json or its blob) under GCS faults, before any comparison: "
              "the bucket client retries 5xx/429 answers and refused connections but not a connection dropped mid-request "
              "or a body cut short, and the run tags that read with the validate stage's code.")
    failed = [x for x in r["runs"] if x["outcome"] == "failed_clear"]
    if failed:
        print("\nErrors the failed runs reported (first of each exit code):\n")
        seen = set()
        for x in failed:
            if x["exit"] in seen:
                continue
            seen.add(x["exit"])
            print(f"- exit {x['exit']} ({x['igdb']}, GCS {int(x['gcs_rate'] * 100)} %): `{x['error'][:220]}`")
    if r["problems"]:
        print("\nProblems:\n")
        for p in r["problems"]:
            print(f"- {p}")
    print()

s = load("site.json")
print(f"## 3. The site with an unusable model — **{status('site')}**\n")
if s:
    print("`tests/browser/site-model-errors.test.mjs` in headless Chromium (Debian), the static site and pkg/ as built; "
          "each case asserts its title and message, a disabled search box and no console errors beyond the failed request.\n")
    print("| case | title shown | message shown |\n|---|---|---|")
    for c in s:
        msg = c["message"].replace("|", "\\|")
        print(f"| {c['case']} | {c['title']} | {msg} |")
    print()

h = load("hostile.json")
print(f"## 4. Hostile input over HTTP — **{status('hostile')}**\n")
if h:
    print("`scripts/hostile.mjs` against the real binary: `playalike sandbox` fed parser bombs, oversized and endless bodies, "
          "a client that never finishes its headers, a connection flood and a token flood (after each case a normal query "
          "must still answer 200); `playalike fetch` against a scripted IGDB + token server in the script that answers what "
          "IGDB never would (each run starts from a previous snapshot that must stay byte-identical; its peak memory is "
          "`/usr/bin/time`'s maximum RSS; its output is searched for the client secret, which the hostile server also echoes); "
          "`playalike publish` against a file:// bucket at the last version number or with a 64 MiB latest.json.\n")
    print("| part | hostile input | required | what happened | ok |\n|---|---|---|---|---|")
    for c in h:
        cells = [c["part"], c["case"], c["expect"], c["got"]]
        cells = [x.replace("|", "\\|") for x in cells]
        print("| " + " | ".join(cells) + " | " + ("yes" if c["ok"] else "**NO**") + " |")
    msgs = [c for c in h if c.get("message")]
    if msgs:
        print("\nThe error each refused case printed (first 160 characters):\n")
        for c in msgs:
            print("- " + c["case"] + ": `" + c["message"].replace("`", "'") + "`")
    print()
PY
cat "$report"
for p in fuzz runs site hostile; do
  want "$p" || continue
  [ "$(cat "$OUT/$p.status" 2>/dev/null)" = ok ] || { log "part $p FAILED"; status=1; }
done
exit $status
