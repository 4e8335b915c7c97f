#!/usr/bin/env bash
# The front door: the scheduled job end to end on an embedded default, then the site.
#
#   ./scripts/demo.sh
#
# With no IGDB credentials and no bucket in the environment it needs no network: it starts the
# project's IGDB sandbox in-process on ../shared/data/igdb-sample-4k (or, where that is absent,
# on a catalogue it generates), runs `playalike run` through the real HTTP client into a local
# bucket (file://target/demo/bucket), builds the wasm package and serves the site on loopback.
# With IGDB_CLIENT_ID + IGDB_CLIENT_SECRET and PLAYALIKE_BUCKET=gs://… set, the same command
# does the production run against IGDB and the bucket (and serves the site on that model).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo="$root/target/demo"
port="${PORT:-8080}"
log() { printf 'demo: %s\n' "$*" >&2; }

./scripts/setup.sh --no-browser --no-gcs
log "building the playalike CLI (release)"
cargo build --release -q -p playalike-builder
bin="$root/target/release/playalike"
mkdir -p "$demo"

if [ -n "${IGDB_CLIENT_ID:-}" ] && [ -n "${IGDB_CLIENT_SECRET:-}" ] && [ -n "${PLAYALIKE_BUCKET:-}" ]; then
  log "IGDB credentials and PLAYALIKE_BUCKET set: production run against IGDB and $PLAYALIKE_BUCKET"
  "$bin" run --bucket "$PLAYALIKE_BUCKET" --snapshot "$demo/snapshot" --work "$demo/work" | tee "$demo/run.json"
  bucket_url="$PLAYALIKE_BUCKET"
else
  data="${PLAYALIKE_DATA_DIR:-$root/../shared/data}/igdb-sample-4k"
  if [ ! -d "$data" ]; then
    log "$data is absent: generating a 4,000-game catalogue instead (synthetic titles, IGDB's real vocabularies)"
    "$bin" generate --out "$demo/generated" --games 4000 --seed 1 >&2
    data="$demo/generated"
  fi
  log "no IGDB credentials: fetching from the embedded IGDB sandbox serving $data"
  "$bin" run --bucket "file://$demo/bucket" --snapshot "$demo/snapshot" --work "$demo/work" \
    --sandbox "$data" | tee "$demo/run.json"
  bucket_url="file://$demo/bucket"
fi

log "bucket status"
"$bin" status --bucket "$bucket_url" >&2 || true

log "building the wasm package (pkg/)"
./scripts/build-wasm.sh >&2

if [[ "$bucket_url" == file://* ]]; then
  log "serving the site; open the URL below (Ctrl-C to stop)"
  exec node scripts/serve-site.mjs --bucket "${bucket_url#file://}" --port "$port"
else
  log "serving the site on the published model"
  exec node scripts/serve-site.mjs --port "$port"
fi
