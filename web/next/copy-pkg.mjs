// Copies the built playalike package (../../pkg, from scripts/build-wasm.sh) into ./playalike,
// where the app imports it. A copy inside the app builds reliably with Turbopack and webpack
// alike (a symlinked file: dependency outside the app root does not). Runs before dev and build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, process.env.PLAYALIKE_PKG_DIR ?? '../../pkg');
const dst = path.join(here, 'playalike');
if (!fs.existsSync(path.join(src, 'index.js')) || !fs.existsSync(path.join(src, 'playalike_bg.wasm'))) {
  console.error(`copy-pkg: ${src} has no built package; run scripts/build-wasm.sh first`);
  process.exit(1);
}
fs.rmSync(dst, { recursive: true, force: true });
fs.mkdirSync(dst);
for (const f of fs.readdirSync(src)) {
  if (/\.(js|wasm|d\.ts)$/.test(f)) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}
console.log(`copy-pkg: ${src} -> ${dst}`);
