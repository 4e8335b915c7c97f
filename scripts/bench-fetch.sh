#!/usr/bin/env bash
# Benchmark: `playalike fetch` of the full-size catalogue (igdb-catalog-333k, 333,128 games) from
# the IGDB sandbox, which enforces IGDB's limits (4 requests/s, 8 open). Reports wall time
# against the bound those limits allow (games / 5000 per multiquery / 4 per second), side by
# side with the bound of plain paging (500 per request), and the peak RSS of the fetch process.
# Usage: scripts/bench-fetch.sh [DATA_DIR]   (default ../shared/data/igdb-catalog-333k)
# Output: bench/fetch.md (committed), also printed on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-${PLAYALIKE_DATA_DIR:-../shared/data}/igdb-catalog-333k}"
[ -d "$DATA" ] || { echo "bench-fetch: $DATA not found (set PLAYALIKE_DATA_DIR)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-fetch: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ "${PLAYALIKE_BENCH_NO_BUILD:-}" = 1 ] || cargo build --release -p playalike-builder >&2
BIN=target/release/playalike
WORK="$(mktemp -d)"
SBX_PID=""
cleanup() { [ -n "$SBX_PID" ] && kill "$SBX_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" sandbox --data "$DATA" --port 0 >"$WORK/sandbox.out" 2>"$WORK/sandbox.err" &
SBX_PID=$!
for _ in $(seq 1 600); do [ -s "$WORK/sandbox.out" ] && break; sleep 0.1; done
[ -s "$WORK/sandbox.out" ] || { echo "bench-fetch: the sandbox did not start" >&2; cat "$WORK/sandbox.err" >&2; exit 1; }
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$WORK/sandbox.out")
AUTH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["authUrl"])' "$WORK/sandbox.out")
GAMES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["games"])' "$WORK/sandbox.out")
sleep 1.2  # let the sandbox's one-second window start empty

/usr/bin/time -v "$BIN" fetch --igdb-url "$URL" --auth-url "$AUTH" --out "$WORK/snap" \
  --where "" --include-adult --token-cache "$WORK/token.json" --json \
  >"$WORK/fetch.json" 2>"$WORK/fetch.err"
STATS=$(curl -s "${URL%/v4}/_sandbox/stats")

mkdir -p bench
python3 - "$WORK/fetch.json" "$WORK/fetch.err" "$GAMES" "$STATS" "$DATA" >bench/fetch.md <<'PY'
import json, re, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
err = open(sys.argv[2]).read()
games = int(sys.argv[3]); st = json.loads(sys.argv[4])
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
wall = s["elapsedSecs"]
bound_mq = games / 5000 / 4
bound_plain = games / 500 / 4
print(f"# fetch benchmark: {sys.argv[5].rstrip('/').split('/')[-1]} from the IGDB sandbox\n")
print("The sandbox enforces IGDB's limits (429 above 4 requests in any second or 8 open).\n")
print("| measure | value |")
print("|---|---|")
print(f"| games fetched | {s['games']:,} (sandbox serves {games:,}) |")
print(f"| API requests (retries) | {s['requests']} ({s['retries']}) |")
print(f"| wall time of fetch | {wall:.2f} s |")
print(f"| bound with multiquery (games / 5000 / 4 rps) | {bound_mq:.2f} s |")
print(f"| **share of the bound reached** | **{100 * bound_mq / wall:.0f} %** (target ≥ 80 %) |")
print(f"| bound of plain paging (500 per request, 4 rps) | {bound_plain:.1f} s ({bound_plain / wall:.1f}× slower than this run) |")
print(f"| peak RSS of fetch | {rss_kb / 1024:.0f} MB (target < 500 MB) |")
print(f"| sandbox: max requests in one second / max open / refused for limits | {st['max_per_second']} / {st['max_open']} / {st['limited']} |")
print(f"\nMachine: {open('/proc/cpuinfo').read().count('processor')} cores, shared; release build.")
PY
cat bench/fetch.md
