#!/usr/bin/env bash
# Builds the npm package in pkg/: release wasm → wasm-bindgen (--target web) → wasm-opt -O3 --converge
# (npm binaryen; never Debian's, whose output fails at run time) → pkg/package.json.
# pkg/index.js, index.d.ts, loader.js, loader.d.ts, worker.js, worker-client.js, worker-client.d.ts and README.md are hand-written and committed; the rest of pkg/
# is generated (package.json here, LICENSE-* copied from the top level).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-wasm: %s\n' "$*" >&2; }

lock_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! command -v wasm-bindgen >/dev/null 2>&1; then
  log "wasm-bindgen CLI not found; run scripts/setup.sh"
  exit 1
fi
cli_version=$(wasm-bindgen --version | awk '{ print $2 }')
if [ -z "$lock_version" ] || [ "$cli_version" != "$lock_version" ]; then
  log "wasm-bindgen CLI $cli_version differs from Cargo.lock's wasm-bindgen ${lock_version:-?}; run scripts/setup.sh"
  exit 1
fi
wasm_opt=node_modules/.bin/wasm-opt
if [ ! -x "$wasm_opt" ]; then
  log "$wasm_opt missing (npm binaryen); run scripts/setup.sh"
  exit 1
fi

cargo build --profile wasm-release --target wasm32-unknown-unknown -p playalike-engine
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
raw="$target_dir/wasm32-unknown-unknown/wasm-release/playalike_engine.wasm"

wasm-bindgen --target web --out-name playalike --out-dir pkg "$raw"
"$wasm_opt" -O3 --converge pkg/playalike_bg.wasm -o pkg/playalike_bg.wasm.opt
mv pkg/playalike_bg.wasm.opt pkg/playalike_bg.wasm

version=$(awk -F'"' '/^\[workspace.package\]/ { inws = 1 } inws && /^version/ { print $2; exit }' Cargo.toml)
repository=$(awk -F'"' '/^\[workspace.package\]/ { inws = 1 } inws && /^repository/ { print $2; exit }' Cargo.toml)
# The licence texts live at the top of the repository; the package carries copies (gitignored).
cp LICENSE-MIT LICENSE-APACHE pkg/
cat > pkg/package.json <<JSON
{
  "name": "playalike",
  "version": "$version",
  "description": "Game recommendations in the browser: the playalike engine compiled to WebAssembly",
  "keywords": ["recommender", "recommendations", "games", "igdb", "wasm", "webassembly", "search"],
  "license": "MIT OR Apache-2.0",
  "repository": { "type": "git", "url": "git+$repository.git", "directory": "pkg" },
  "homepage": "$repository#readme",
  "engines": { "node": ">=20.16" },
  "type": "module",
  "main": "./index.js",
  "types": "./index.d.ts",
  "exports": {
    ".": { "types": "./index.d.ts", "default": "./index.js" },
    "./worker": { "types": "./worker-client.d.ts", "default": "./worker-client.js" },
    "./playalike_bg.wasm": "./playalike_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["index.js", "index.d.ts", "loader.js", "loader.d.ts", "playalike.js", "playalike.d.ts", "playalike_bg.wasm", "playalike_bg.wasm.d.ts", "worker.js", "worker-client.js", "worker-client.d.ts", "README.md", "LICENSE-MIT", "LICENSE-APACHE"],
  "sideEffects": ["./index.js"]
}
JSON
size=$(wc -c < pkg/playalike_bg.wasm)
gz=$(gzip -9 -c pkg/playalike_bg.wasm | wc -c)
log "pkg/playalike_bg.wasm: $size bytes, $gz gzipped (raw from cargo: $(wc -c < "$raw"))"
