// The npm package's .wasm size budget and its one measure (docs/decisions/517): Node's zlib
// gzip at level 9, as scripts/bench-engine.mjs, scripts/build-wasm.sh and tests/node report it.
// GNU `gzip -9` gives a few KB less on the same bytes, so it is not used anywhere.
// CLI: node scripts/wasm-size.mjs FILE  →  prints "RAW GZIPPED BUDGET" (bytes).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** Largest gzipped size of pkg/playalike_bg.wasm, bytes (issue 16: 150 KB). */
export const WASM_GZIP_BUDGET = 150_000;

/** Gzipped size in bytes: Node's zlib at level 9. */
export function gzippedSize(bytes) {
  return gzipSync(bytes, { level: 9 }).length;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/wasm-size.mjs FILE');
    process.exit(2);
  }
  const bytes = readFileSync(file);
  console.log(`${bytes.length} ${gzippedSize(bytes)} ${WASM_GZIP_BUDGET}`);
}
