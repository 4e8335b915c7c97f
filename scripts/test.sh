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

step "fetch from the embedded IGDB sandbox (the no-credentials path the demo uses)"
fetch_tmp="$(mktemp -d)"
cargo run -q -p playalike-builder -- fetch --sandbox "${PLAYALIKE_DATA_DIR:-../shared/data}/igdb-sample-4k" \
  --out "$fetch_tmp/snapshot" --tables genres,themes --json
rm -rf "$fetch_tmp"

step "all test steps passed"
