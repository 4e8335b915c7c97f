#!/usr/bin/env bash
# Assembles the deployable static site into one folder any static host can serve:
#   index.html, style.css,
#   main.js (+ main.js.map): web/main.js bundled by esbuild with everything it imports (boot.js,
#     app.js, config.js and the npm package's JS), so a first visit waits for one script instead
#     of a chain of modules (docs/decisions/507-site-bundle.md),
#   pkg/playalike_bg.wasm: the engine (from scripts/build-wasm.sh),
#   pkg/worker.js: the package's engine worker (pkg/worker.js with the loader and the glue, bundled
#     the same way), which the page uses for big models (docs/decisions/512-worker-mode.md),
#   sw.js: the service worker that serves the site offline (docs/decisions/511-site-offline.md).
# Usage: scripts/build-site.sh [OUT_DIR]   (default out/site)
#   PLAYALIKE_PKG_DIR: take the package from another folder (default pkg/).
#   PLAYALIKE_WEB_DIR: take the page's sources from another folder (default web/; the benchmark
#     builds its engine-only page this way).
# Then e.g.: python3 -m http.server -d out/site  and open /?model=URL_OF_latest.json
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/site}"
pkg="${PLAYALIKE_PKG_DIR:-pkg}"
web="${PLAYALIKE_WEB_DIR:-web}"
for f in playalike_bg.wasm index.js loader.js playalike.js worker.js worker-client.js; do
  if [ ! -f "$pkg/$f" ]; then
    echo "build-site: $pkg/$f is missing: build the package with scripts/build-wasm.sh first" >&2
    exit 1
  fi
done
esbuild=node_modules/.bin/esbuild
if [ ! -x "$esbuild" ]; then
  echo "build-site: $esbuild is missing: install the npm packages (npm ci, or scripts/setup.sh)" >&2
  exit 1
fi

# Written next to OUT_DIR and moved into place at the end: a failed build never leaves a
# half-written site where a server could see it.
parent="$(dirname "$out")"
mkdir -p "$parent"
tmp="$(mktemp -d "$parent/.build-site.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The sources as the page sees them unbundled: the page's JS with the package's JS in pkg/ beside it.
mkdir -p "$tmp/src/pkg" "$tmp/site/pkg"
cp "$web"/*.js "$tmp/src/"
cp "$pkg/index.js" "$pkg/loader.js" "$pkg/playalike.js" "$pkg/worker.js" "$pkg/worker-client.js" "$tmp/src/pkg/"
# ESM output keeps import.meta.url (boot.js resolves the wasm from it) and dynamic imports of
# bundled modules stay lazy (app.js runs once the document is parsed). The source map keeps
# errors in the console readable; it is fetched only when the developer tools are open.
"$esbuild" "$tmp/src/main.js" --bundle --format=esm --minify --sourcemap --legal-comments=none \
  --log-level=warning --outfile="$tmp/site/main.js"
# The engine's worker is a script of its own, beside the wasm it loads (its default wasm URL is
# relative to itself).
"$esbuild" "$tmp/src/pkg/worker.js" --bundle --format=esm --minify --sourcemap --legal-comments=none \
  --log-level=warning --outfile="$tmp/site/pkg/worker.js"
cp "$web/index.html" "$web/style.css" "$tmp/site/"
# The service worker is its own script (a worker cannot be bundled into the page's).
if [ -f "$web/sw.js" ]; then cp "$web/sw.js" "$tmp/site/"; fi
cp "$pkg/playalike_bg.wasm" "$tmp/site/pkg/"

rm -rf "$out.old"
if [ -e "$out" ]; then mv "$out" "$out.old"; fi
mv "$tmp/site" "$out"
rm -rf "$out.old"
echo "build-site: wrote $out (main.js $(wc -c <"$out/main.js") bytes, $(du -sh "$out" | cut -f1) in all)" >&2
