#!/usr/bin/env bash
# The whole test suite: the README's test command, and what .ci/run calls.
# Steps: formatting, lints, native tests, wasm tests under Node, JS tests, end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*" >&2; }

# The shared IGDB data. Without it (a fresh clone) the steps that only need IGDB-shaped data use
# the project's generated catalogue, and the tests that measure quality on the real sample say
# "SKIPPED <name>: <reason>"; in CI (CI=true) those fail instead (docs/decisions/741).
data="${PLAYALIKE_DATA_DIR:-$(pwd)/../shared/data}"
sample="$data/igdb-sample-4k"
if [ ! -d "$sample" ]; then
  if [ "${CI:-}" = true ]; then
    echo "test: $sample is missing; in CI (CI=true) the quality tests on the real sample will fail" >&2
  else
    echo "test: $sample is missing; IGDB-shaped tests use a generated catalogue, quality tests on the real sample are skipped (each named below)" >&2
  fi
fi

./scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "native tests (cargo nextest)"
# nextest fails when no tests ran, which is what we want.
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc

step "deploy configs parse"
# The bucket and job suites (publish_bucket, run_job) ran with the native tests above.
python3 -m json.tool deploy/cors.json >/dev/null
python3 -m json.tool deploy/monitoring/status-alert-policy.json >/dev/null
for s in deploy/create-bucket.sh deploy/cloud-run-job.sh; do bash -n "$s"; done

step "clippy of the wasm bridge (wasm32 target)"
cargo clippy -p playalike-engine --target wasm32-unknown-unknown --lib --tests -- -D warnings

step "engine wasm tests under Node (wasm-bindgen-test)"
cargo test -p playalike-engine --target wasm32-unknown-unknown --lib --tests

step "build the npm package (scripts/build-wasm.sh)"
./scripts/build-wasm.sh

step "the package's .d.ts type-check against a TypeScript consumer (tsc -p tests/types)"
# `playalike` resolves through a link to pkg/, so only what its exports map reaches is importable.
mkdir -p tests/types/node_modules && ln -sfn ../../../pkg tests/types/node_modules/playalike
node_modules/.bin/tsc -p tests/types

step "JS tests: native and wasm engines answer identically; npm pack lists README and LICENSE (node --test tests/node)"
# A real blob from the 4k IGDB sample when the data and the trainer are there; otherwise (a
# fresh machine without ../shared/data) a synthetic catalogue, and the output says so.
cargo build -q -p playalike-engine --example query
mkdir -p target/test-engine
test_blob=target/test-engine/model.bin
if [ -d "$sample" ] && cargo run -q -p playalike-builder -- train --help >/dev/null 2>&1; then
  cargo run -q -p playalike-builder -- train --snapshot "$sample" --out "$test_blob" \
    --report - --no-learn --metrics target/test-engine/metrics.json --created-at 2026-01-01T00:00:00Z >/dev/null
else
  echo "test: $sample or playalike train missing; using a synthetic 4000-game blob" >&2
  target/debug/examples/query --synth 4000 1 "$test_blob"
fi
PLAYALIKE_TEST_BLOB="$test_blob" PLAYALIKE_QUERY_BIN=target/debug/examples/query node --test tests/node/

step "JS loader unit tests and the site build (node --test)"
node --test tests/browser/loader.test.mjs tests/browser/build-site.test.mjs

step "browser tests: static site in Chromium (real 4k model, compared with the native CLI)"
node --test tests/browser/site.test.mjs

step "browser tests: the site with a missing, corrupt, damaged, truncated or oversized model"
node --test tests/browser/site-model-errors.test.mjs

step "browser tests: the site's analytics events reach window, and nothing is sent"
node --test tests/browser/site-events.test.mjs

step "browser tests: the site's worker mode (engine in a Web Worker, same answers as the main thread)"
node --test tests/browser/site-worker.test.mjs

step "browser tests: Next.js example (next build --webpack and next build, each started)"
node --test tests/browser/next.test.mjs

step "fetch from the embedded IGDB sandbox (the no-credentials path the demo uses)"
fetch_tmp="$(mktemp -d)"
fetch_data="$sample"
if [ ! -d "$fetch_data" ]; then
  fetch_data="$fetch_tmp/generated"
  echo "test: $sample is missing; serving a generated 4000-game catalogue instead" >&2
  cargo run -q -p playalike-builder -- generate --out "$fetch_data" --games 4000 --seed 1 >&2
fi
cargo run -q -p playalike-builder -- fetch --sandbox "$fetch_data" \
  --out "$fetch_tmp/snapshot" --tables genres,themes --json
rm -rf "$fetch_tmp"

if [ -d "$sample" ]; then
  step "all test steps passed"
else
  step "all test steps passed without $sample: the SKIPPED lines above name what did not run"
fi
