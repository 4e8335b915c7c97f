#!/usr/bin/env bash
# Web benchmark (headless Chromium, loopback): navigation → first recommendations and keystroke →
# suggestions with the 4k and the 333k models. Writes bench/web.md. Args go to bench-web.mjs
# (--runs N, --skip-333k).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-wasm.sh
PLAYALIKE_BUILDER_PROFILE=release node scripts/bench-web.mjs "$@"
