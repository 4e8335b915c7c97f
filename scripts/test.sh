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

step "JS loader unit tests (node --test)"
node --test tests/browser/loader.test.mjs

step "browser tests: static site in Chromium (real 4k model, compared with the native CLI)"
./scripts/build-wasm.sh
node --test tests/browser/site.test.mjs

step "browser tests: Next.js example (next build && next start)"
node --test tests/browser/next.test.mjs

step "all test steps passed"
