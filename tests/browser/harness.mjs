// Shared setup for the browser tests and the web benchmark: a real model built by the builder,
// a bucket folder in the published layout, the native CLI's answers, and Debian's Chromium.
//
// Environment:
//   PLAYALIKE_DATA_DIR    shared data folder (default <repo>/../shared/data)
//   PLAYALIKE_TEST_MODEL  a prebuilt model blob to use instead of training one
//   PLAYALIKE_TEST_SNAPSHOT  the snapshot that blob was trained from (default: the 4k sample)
//   PLAYALIKE_BIN         the playalike binary (default: cargo build, target/debug/playalike;
//                         PLAYALIKE_BUILDER_PROFILE=release for target/release/playalike)
//   CHROMIUM              browser executable (default /usr/bin/chromium)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const workDir = path.join(root, 'target', 'web-test');

/** Chromium flags that work as root in a closed network (TOOLCHAIN.md). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function log(msg) {
  process.stderr.write(`harness: ${msg}\n`);
}

/** The playalike binary, built once in release mode unless PLAYALIKE_BIN names one. */
let builtBin;
export function builderBin() {
  if (process.env.PLAYALIKE_BIN) return process.env.PLAYALIKE_BIN;
  if (builtBin) return builtBin;
  // Tests use the debug build (already there after the native tests); the benchmark asks for release.
  const release = process.env.PLAYALIKE_BUILDER_PROFILE === 'release';
  log(`cargo build${release ? ' --release' : ''} -p playalike-builder`);
  const r = spawnSync('cargo', ['build', ...(release ? ['--release'] : []), '-q', '-p', 'playalike-builder'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cargo build of playalike-builder failed');
  builtBin = path.join(root, 'target', release ? 'release' : 'debug', 'playalike');
  return builtBin;
}

/** The snapshot to train on: ../shared/data/<name>, or a generated one when the data is absent. */
export function snapshotDir(name = 'igdb-sample-4k') {
  const data = process.env.PLAYALIKE_DATA_DIR ?? path.resolve(root, '..', 'shared', 'data');
  const dir = path.join(data, name);
  if (fs.existsSync(dir)) return dir;
  if (name !== 'igdb-sample-4k') throw new Error(`snapshot ${dir} is absent (set PLAYALIKE_DATA_DIR)`);
  // Documented fallback: the project's own generated catalogue (same layout, same size).
  const gen = path.join(workDir, 'generated-4k');
  if (!fs.existsSync(path.join(gen, 'games.json.gz')) && !fs.existsSync(path.join(gen, 'games.jsonl.gz'))) {
    log(`${dir} is absent; generating a synthetic snapshot in ${gen}`);
    execFileSync(builderBin(), ['generate', '--out', gen, '--games', '4000'], { stdio: 'inherit' });
  }
  return gen;
}

/** Reads the games of a snapshot (games.json[l][.gz]). */
export function readSnapshotGames(dir) {
  for (const f of ['games.json.gz', 'games.jsonl.gz', 'games.json', 'games.jsonl']) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) continue;
    let text = fs.readFileSync(p);
    if (f.endsWith('.gz')) text = zlib.gunzipSync(text);
    text = text.toString('utf8');
    return f.includes('jsonl') ? text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : JSON.parse(text);
  }
  throw new Error(`no games file in snapshot ${dir}`);
}

/**
 * Builds the deployable site (scripts/build-site.sh: the bundled main.js, index.html, style.css
 * and pkg/playalike_bg.wasm) from the package in `pkgDir` and the page's sources in `webDir` into
 * `out` (a folder name under target/web-test, or an absolute path), and returns the folder. The tests and the benchmark
 * serve what ships, not the sources.
 */
export function buildSite(pkgDir, out = 'site', webDir = path.join(root, 'web')) {
  if (!fs.existsSync(path.join(pkgDir, 'playalike_bg.wasm'))) throw new Error(`${pkgDir} is not built: run scripts/build-wasm.sh`);
  const dir = path.resolve(workDir, out);
  execFileSync(path.join(root, 'scripts', 'build-site.sh'), [dir], {
    cwd: root,
    env: { ...process.env, PLAYALIKE_PKG_DIR: pkgDir, PLAYALIKE_WEB_DIR: webDir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return dir;
}

/**
 * Builds the site as buildSite does, with settings of web/config.js replaced (e.g.
 * `{workerAbove: 0}`: the engine in a worker for any model): web/ is copied to
 * target/web-test/<out>-src and each `key: value,` line of its config.js rewritten.
 */
export function buildSiteWith(pkgDir, out, settings) {
  const src = path.resolve(workDir, `${out}-src`);
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  for (const f of fs.readdirSync(path.join(root, 'web'))) {
    const from = path.join(root, 'web', f);
    if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(src, f));
  }
  let config = fs.readFileSync(path.join(src, 'config.js'), 'utf8');
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^(\\s*${key}:).*,$`, 'm');
    if (!line.test(config)) throw new Error(`web/config.js has no \`${key}:\` setting`);
    config = config.replace(line, `$1 ${value},`);
  }
  fs.writeFileSync(path.join(src, 'config.js'), config);
  return buildSite(pkgDir, out, src);
}

/**
 * A model blob: PLAYALIKE_TEST_MODEL, or trained by the builder from the snapshot.
 * Returns {blob (path), snapshot (dir or null)}.
 */
export function testModel(name = 'igdb-sample-4k') {
  if (name === 'igdb-sample-4k' && process.env.PLAYALIKE_TEST_MODEL) {
    // The snapshot it was trained from (for picking query titles), when known.
    const data = process.env.PLAYALIKE_DATA_DIR ?? path.resolve(root, '..', 'shared', 'data');
    const guess = process.env.PLAYALIKE_TEST_SNAPSHOT ?? path.join(data, name);
    return { blob: path.resolve(process.env.PLAYALIKE_TEST_MODEL), snapshot: fs.existsSync(guess) ? guess : null };
  }
  const snapshot = snapshotDir(name);
  const out = path.join(workDir, name, 'model.bin');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const bin = builderBin();
  log(`training ${out} from ${snapshot}`);
  const r = spawnSync(bin, ['train', '--snapshot', snapshot, '--out', out, '--report', '-'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`playalike train failed (exit ${r.status})`);
  return { blob: out, snapshot };
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes a bucket folder in the published layout: latest.json → models/v{version}/model.bin.
 * `blobBytes` overrides the blob content (for corrupt-model tests); the pointer's checksum and size
 * describe what is written unless `pointerFor` supplies other bytes.
 */
export function makeBucket(dir, blobPath, { version = 1, blobBytes, pointerFor } = {}) {
  const bytes = blobBytes ?? fs.readFileSync(blobPath);
  const described = pointerFor ?? bytes;
  fs.mkdirSync(path.join(dir, 'models', `v${version}`), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models', `v${version}`, 'model.bin'), bytes);
  const pointer = {
    schema: 1,
    version,
    url: `models/v${version}/model.bin`,
    checksum: sha256(described),
    size: described.length,
    createdAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(pointer, null, 2));
  return pointer;
}

/** Ids from the native CLI's JSON output, whatever its exact shape. */
export function idsFromCliJson(stdout) {
  const text = stdout.trim();
  let values;
  try {
    values = [JSON.parse(text)];
  } catch {
    values = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }
  const pickList = (v) => {
    if (Array.isArray(v)) return v;
    for (const k of ['results', 'recommendations', 'hits', 'items', 'games']) if (Array.isArray(v?.[k])) return v[k];
    return null;
  };
  let list = values.length === 1 ? pickList(values[0]) : values;
  if (list && list.length === 1 && pickList(list[0])) list = pickList(list[0]);
  if (!list) throw new Error(`unrecognised CLI output: ${text.slice(0, 200)}`);
  return list.map((x) => (typeof x === 'number' ? x : x.id));
}

let queryBinPath;
/** The engine's native query tool (crates/engine/examples/query.rs). */
export function queryBin() {
  if (process.env.PLAYALIKE_QUERY_BIN) return process.env.PLAYALIKE_QUERY_BIN;
  if (queryBinPath) return queryBinPath;
  const r = spawnSync('cargo', ['build', '-q', '-p', 'playalike-engine', '--example', 'query'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cargo build of the engine query example failed');
  queryBinPath = path.join(root, 'target', 'debug', 'examples', 'query');
  return queryBinPath;
}

/**
 * The native engine's recommendations for one game, ids best first:
 * `playalike recommend --model M --game ID --json`. While that subcommand is still a
 * placeholder ("not built yet"), the engine's own native query tool answers instead.
 */
export function nativeRecommend(blob, id, k = 10) {
  const r = spawnSync(builderBin(), ['recommend', '--model', blob, '--game', String(id), '--json'], { encoding: 'utf8' });
  if (r.status === 0) return idsFromCliJson(r.stdout).slice(0, k);
  // The placeholder subcommand takes no flags (clap: unexpected argument) and bails (not built yet).
  if (!/not built yet|unexpected argument '--model'/.test(r.stderr ?? '')) throw new Error(`playalike recommend failed (exit ${r.status}): ${r.stderr}`);
  log('`playalike recommend` is not built yet; comparing with the engine\'s native query tool');
  const out = execFileSync(queryBin(), [blob], {
    input: `${JSON.stringify({ op: 'recommend', liked: [[id, 1]], k })}\n`,
    encoding: 'utf8',
  });
  return idsFromCliJson(out).slice(0, k);
}

/** The native engine's popular games (`Engine::popular`), ids best first. */
export function nativePopular(blob, k = 10, filters = {}) {
  const out = execFileSync(queryBin(), [blob], { input: `${JSON.stringify({ op: 'popular', k, filters })}\n`, encoding: 'utf8' });
  return idsFromCliJson(out);
}

/**
 * Chooses a query game from the snapshot: a well-rated, often-rated game with a plain multi-word
 * title, and a partial title to type for it.
 */
export function chooseQuery(snapshot) {
  const games = readSnapshotGames(snapshot);
  const score = (g) => g.total_rating_count ?? g.rating_count ?? g.follows ?? 0;
  const candidates = games
    .filter((g) => typeof g.name === 'string' && /^[A-Za-z0-9 :'-]{8,40}$/.test(g.name) && g.name.split(' ').length >= 2)
    .sort((a, b) => score(b) - score(a) || a.id - b.id);
  const g = candidates[0] ?? games[0];
  const words = g.name.toLowerCase().replace(/^(the|a) /, '').split(/\s+/);
  // The first word plus the start of the next: a partial title, as people type it.
  const partial = words.length > 1 ? `${words[0]} ${words[1].slice(0, Math.max(1, Math.ceil(words[1].length / 2)))}` : words[0].slice(0, 5);
  return { id: g.id, name: g.name, partial };
}

export function freshProfileDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'playalike-chromium-'));
}

export async function launchBrowser(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: [...CHROMIUM_FLAGS, ...extraArgs], headless: true });
}

/**
 * Chromium flags that make IGDB cover requests fail at once (no DNS, no network) without
 * `routeCovers`: for the benchmark, where Playwright routing would distort the figures (any
 * route makes every request of the page wait for a round trip to the driver, and turns the HTTP
 * cache off). Covers then show their placeholder, as with routeCovers.
 */
export const NO_COVERS_FLAGS = ['--host-resolver-rules=MAP images.igdb.com ~NOTFOUND'];

/** A tiny valid-looking JPEG stand-in is not needed: covers get a body that fails to decode, so
 * the page shows its placeholder (the IGDB CDN is unreachable from here). Routing intercepts every
 * request of the context and disables its HTTP cache: fine for tests, not for timings (see
 * NO_COVERS_FLAGS). */
export async function routeCovers(context, body = 'not an image') {
  await context.route('https://images.igdb.com/**', (route) => route.fulfill({ status: 200, contentType: 'image/jpeg', body }));
}

/** Collects console errors and page errors; `ignore` filters expected ones. */
export function watchConsole(page) {
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/**
 * Waits until the page's loader has stored a model in the Cache API (storing is not awaited by
 * load): in `playalike-models` for the site's own model, `playalike-models-other` for another
 * `?model=` (web/boot.js), so any playalike cache counts.
 */
export async function waitForCachedModel(page) {
  await page.evaluate(async () => {
    for (;;) {
      for (const name of await caches.keys()) {
        if (name.startsWith('playalike-models') && (await (await caches.open(name)).keys()).length > 0) return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  });
}
