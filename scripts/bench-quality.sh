#!/usr/bin/env bash
# Quality and training-time benchmark: playalike vs the plan's scikit-learn model vs TF-IDF vs
# popularity on igdb-sample-4k (cold-start split, seed 42), and training time at 4k and 333k.
# Output: bench/quality.md (committed). Needs the release build and ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${PLAYALIKE_DATA_DIR:-$(pwd)/../shared/data}"
OUT="${1:-bench/quality.md}"
cargo build --release -q -p playalike-builder
B=target/release/playalike
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench && .venv-bench/bin/pip install -q -r scripts/requirements-bench.txt
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$B eval --snapshot "$DATA/igdb-sample-4k" --json > "$tmp/eval.json"
$B eval --snapshot "$DATA/igdb-sample-4k" --json --no-indegree --no-baselines > "$tmp/eval-noindeg.json"
.venv-bench/bin/python scripts/sklearn_baseline.py "$DATA/igdb-sample-4k" --json > "$tmp/sk.json"
t4k() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
T4=$(t4k $B train --snapshot "$DATA/igdb-sample-4k" --out "$tmp/4k.bin" --created-at 2026-01-01T00:00:00Z)
T333=$(t4k $B train --snapshot "$DATA/igdb-catalog-333k" --out "$tmp/333k.bin" --created-at 2026-01-01T00:00:00Z)
python3 - "$tmp" "$T4" "$T333" > "$OUT" <<'PY'
import json, sys, os
tmp, t4, t333 = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
e = json.load(open(f"{tmp}/eval.json"))["results"]
n = json.load(open(f"{tmp}/eval-noindeg.json"))["results"]["playalike"]
sk = json.load(open(f"{tmp}/sk.json"))
rows = [("playalike (learned)", e["playalike"]), ("playalike, no in-degree prior", n),
        ("plan one-hot cosine (Rust)", e["plan-onehot-cosine"]), ("TF-IDF cosine (Rust)", e["tfidf-cosine"]),
        ("popularity", e["popularity"])]
base = e["plan-onehot-cosine"]["recall"]
print("# Quality benchmark (scripts/bench-quality.sh)\n")
print("igdb-sample-4k, cold-start split (seed 42, 20 % of games with in-set similar games held out), k = 10.\n")
print("| approach | recall@10 | hit@10 | genre agreement@10 | coverage@10 | recall vs plan |")
print("|---|---|---|---|---|---|")
for name, r in rows:
    print(f"| {name} | {r['recall']:.3f} | {r['hit']:.3f} | {r['genre_agreement']:.3f} | {r['coverage']:.3f} | {r['recall']/base:.2f}x |")
print("\nscikit-learn (scripts/sklearn_baseline.py), same split and the README's all-queries protocol:\n")
print("| approach | protocol | recall@10 | hit@10 | coverage@10 | p50 query ms | pickled+gzip MB |")
print("|---|---|---|---|---|---|---|")
for name, r in sk.items():
    for proto in ("cold-start", "all"):
        p = r[proto]
        print(f"| {name} | {proto} ({p['queries']} queries) | {p['recall']:.3f} | {p['hit']:.3f} | {r['coverage']:.3f} | {r['latency_p50_ms']:.2f} | {r['model_gzip_bytes']/1e6:.2f} |")
print("\nTraining, whole process (release build), wall seconds and peak RSS:\n")
print("| snapshot | seconds | peak MB |")
print("|---|---|---|")
print(f"| igdb-sample-4k (learned) | {float(t4[0]):.2f} | {int(t4[1])/1024:.0f} |")
print(f"| igdb-catalog-333k (no ground truth: defaults + IDF) | {float(t333[0]):.2f} | {int(t333[1])/1024:.0f} |")
print(f"\nload average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine).")
PY
cat "$OUT"
