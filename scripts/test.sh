#!/usr/bin/env bash
# The whole test suite: the README's test command, and what .ci/run calls.
# Steps: formatting, lints, native tests, wasm tests under Node, JS tests, end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*" >&2; }

./scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "native tests (cargo nextest)"
# nextest fails when no tests ran, which is what we want.
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc

step "publish + run: bucket and job suites against fake-gcs-server (HTTP) and file://, deploy configs"
# Also part of the native tests above; run by name so a bucket failure is easy to spot.
cargo nextest run -p playalike-builder --no-fail-fast -E 'binary(publish_bucket) | binary(run_job)'
python3 -m json.tool deploy/cors.json >/dev/null
for s in deploy/create-bucket.sh deploy/cloud-run-job.sh; do bash -n "$s"; done

step "all test steps passed"
