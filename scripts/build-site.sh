#!/usr/bin/env bash
# Assembles the deployable static site: web/ (HTML, JS, CSS, config) + the built npm package
# (pkg/, from scripts/build-wasm.sh) into one folder any static host can serve.
# Usage: scripts/build-site.sh [OUT_DIR]   (default out/site)
# Then e.g.: python3 -m http.server -d out/site  and open /?model=URL_OF_latest.json
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/site}"
if [ ! -f pkg/playalike_bg.wasm ] || [ ! -f pkg/index.js ]; then
  echo "build-site: pkg/ is not built; run scripts/build-wasm.sh first" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out/pkg"
cp web/index.html web/boot.js web/app.js web/style.css web/config.js "$out/"
# Only what the browser loads: the JS modules and the wasm (no node-only files).
for f in pkg/*.js pkg/*.wasm; do cp "$f" "$out/pkg/"; done
echo "build-site: wrote $out ($(du -sh "$out" | cut -f1))" >&2
