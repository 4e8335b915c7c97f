#!/usr/bin/env node
// Web benchmark: the static site in headless Chromium on loopback, with real models.
//   navigation → first recommendations in the DOM (cold: empty cache; warm: blob from the Cache API)
//   keystroke → suggestions in the DOM (input event timestamp → render done)
//   engine calls from JS (search, recommend, explain) for reference
// Writes bench/web.md. Usage: node scripts/bench-web.mjs [--runs N] [--skip-333k] [--baseline REV]
//   [--route-covers] [--rtt MS] [--mbit N]
//   --baseline REV: also load the site as it was at git revision REV (web/, pkg/'s hand-written
//     JS and scripts/build-site.sh from REV, today's wasm), interleaved run by run with the current
//     one: a before/after under the same machine load. Both are built by scripts/build-site.sh.
//   --baseline-engine: the baseline also runs REV's engine: its wasm and glue, built from REV's
//     tree (git archive) by its own scripts/build-wasm.sh (target dir target/bench-baseline-target,
//     kept for the next run): a before/after of an engine change.
//   --rtt MS: add MS of latency to every request (Chromium's network emulation), as a visitor
//     on a real network sees; writes bench/web-rtt<MS>.md instead.
//   --mbit N: limit downloads to N megabits per second (Chromium's network emulation; the test
//     server sends the blob uncompressed, so 12 MB at 333k), as a visitor's connection does;
//     writes bench/web-mbit<N>.md (web-rtt<MS>-mbit<N>.md with --rtt) instead.
//   --route-covers: answer IGDB covers with Playwright routing, as the benchmark did before
//     2026-11-29 (every request then waits for a round trip to this process, no HTTP cache).
//   --no-engine-path: leave out the engine-path-only page.
// Every run measures the site three ways, alternating: as it ships (the engine in a worker from
// config.workerAbove bytes up), with the engine always on the main thread, and always in the
// worker (docs/decisions/515-worker-mode.md), and prints the worker/main ratios. Per load it also
// records the longest main-thread task (Long Tasks API, an observer registered at document
// start) up to 1 s after the page is ready, and types a partial title as soon as the search box
// is enabled (keystroke → suggestions during the load).
// Env: PLAYALIKE_TEST_MODEL (4k blob), PLAYALIKE_BENCH_MODEL_333K (333k blob), else trains them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startServer } from '../tests/browser/server.mjs';
import { root, workDir, testModel, makeBucket, buildSite, buildSiteWith, chooseQuery, launchBrowser, NO_COVERS_FLAGS, routeCovers, readSnapshotGames, waitForCachedModel } from '../tests/browser/harness.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    'skip-333k': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    'baseline-engine': { type: 'boolean', default: false },
    'route-covers': { type: 'boolean', default: false },
    rtt: { type: 'string', default: '0' },
    mbit: { type: 'string', default: '0' },
    'no-engine-path': { type: 'boolean', default: false },
  },
});
const runs = Number(opts.runs);
if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs takes a positive count, not ${opts.runs}`);
const skip333k = opts['skip-333k'];
const baselineRev = opts.baseline ?? null;
const baselineEngine = opts['baseline-engine'];
if (baselineEngine && !baselineRev) throw new Error('--baseline-engine needs --baseline REV');
const routed = opts['route-covers'];
const rtt = Number(opts.rtt);
if (!(rtt >= 0)) throw new Error(`--rtt takes a latency in milliseconds, not ${opts.rtt}`);
const mbit = Number(opts.mbit);
if (!(mbit >= 0)) throw new Error(`--mbit takes a download rate in megabits per second, not ${opts.mbit}`);

/** Each page's own CDP session (bench pages only). */
const sessions = new WeakMap();

/** A page in `context`, with the emulated latency and rate when --rtt or --mbit is given. */
async function openPage(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  sessions.set(page, cdp);
  if (rtt || mbit) {
    await cdp.send('Network.enable');
    const downloadThroughput = mbit ? (mbit * 1e6) / 8 : -1;
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: rtt, downloadThroughput, uploadThroughput: -1 });
  }
  return page;
}

/**
 * Loads `url` in `page` and returns once the navigation has committed: the driver does nothing
 * in the page while it loads. (`page.goto` waits for the load event and `waitForFunction` then
 * injects Playwright's scripts into the page and polls each frame: on this machine that work
 * landed in the middle of a cold load: 20-60 ms in A/B runs, docs/decisions/508.)
 */
async function load(page, url) {
  await page.goto(url, { waitUntil: 'commit' });
}

/**
 * Waits until `expression` is true in the page, asking every 50 ms with a bare CDP
 * Runtime.evaluate (one tiny task in the page per question, nothing injected).
 */
async function until(page, expression, timeout) {
  const cdp = sessions.get(page);
  const deadline = Date.now() + timeout;
  for (;;) {
    const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression, returnByValue: true });
    if (exceptionDetails) throw new Error(`bench-web: ${expression} threw: ${exceptionDetails.text}`);
    if (result.value === true) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pkgDir = process.env.PLAYALIKE_TEST_PKG_DIR ?? path.join(root, 'pkg');

/**
 * The sites to measure, each built by its own revision's scripts/build-site.sh (what ships): the
 * working tree's, and the baseline revision's when asked (its web/, pkg/'s hand-written JS and
 * build script from REV; today's generated glue and wasm).
 */
function sites() {
  const list = [
    { name: 'current', site: buildSite(pkgDir, 'bench-site') },
    { name: 'main thread (workerAbove: Infinity)', mode: 'main', site: buildSiteWith(pkgDir, 'bench-site-main', { workerAbove: 'Infinity' }) },
    { name: 'worker (workerAbove: 0)', mode: 'worker', site: buildSiteWith(pkgDir, 'bench-site-worker', { workerAbove: 0 }) },
  ];
  if (!baselineRev) return list;
  const commit = execFileSync('git', ['rev-parse', '--short', baselineRev], { cwd: root, encoding: 'utf8' }).trim();
  const dir = path.join(workDir, 'bench-baseline');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  const files = execFileSync('git', ['ls-tree', '-r', '--name-only', commit, 'web', 'pkg', 'scripts/build-site.sh'], { cwd: root, encoding: 'utf8' }).split('\n');
  for (const f of files.filter((f) => /^web\/[^/]+$|^pkg\/[^/]+\.js$|^scripts\/build-site\.sh$/.test(f))) {
    const out = path.join(dir, f);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, execFileSync('git', ['show', `${commit}:${f}`], { cwd: root }));
  }
  // The generated glue and wasm are not in git: today's build, or with --baseline-engine REV's.
  const generated = baselineEngine ? buildEngineAt(commit) : pkgDir;
  for (const f of fs.readdirSync(generated)) {
    if (!fs.existsSync(path.join(dir, 'pkg', f))) fs.copyFileSync(path.join(generated, f), path.join(dir, 'pkg', f));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  const site = path.join(dir, 'site');
  execFileSync('bash', ['scripts/build-site.sh', site], { cwd: dir, env: { ...process.env, PLAYALIKE_PKG_DIR: 'pkg' }, stdio: ['ignore', 'inherit', 'inherit'] });
  list.push({ name: baselineEngine ? `baseline ${commit} (its engine too)` : `baseline ${commit}`, site });
  return list;
}

/** REV's npm package built from its own tree by its scripts/build-wasm.sh; returns its pkg/. */
function buildEngineAt(commit) {
  const src = path.join(workDir, 'bench-baseline-src');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  execFileSync('bash', ['-c', `git archive ${commit} | tar -x -C "${src}"`], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'));
  const env = { ...process.env, CARGO_TARGET_DIR: path.join(root, 'target', 'bench-baseline-target') };
  execFileSync('bash', ['scripts/build-wasm.sh'], { cwd: src, env, stdio: ['ignore', 'inherit', 'inherit'] });
  return path.join(src, 'pkg');
}

/**
 * The engine's path alone, as a site to measure beside the real one: index.html's head (the
 * inline pointer request, the wasm preload) and web/boot.js (pointer, blob, verify, cache,
 * decode), built by scripts/build-site.sh like the site, then the ten recommendations as bare
 * list items, with no stylesheet and no page UI. What the real page adds on top of it is the
 * page's own cost.
 */
function enginePathSite() {
  const dir = path.join(workDir, 'bench-engine-path');
  const src = path.join(dir, 'web');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  // boot.js and what it imports (i18n.js: the refusal message).
  for (const f of ['boot.js', 'i18n.js', 'config.js']) fs.copyFileSync(path.join(root, 'web', f), path.join(src, f));
  fs.writeFileSync(
    path.join(src, 'main.js'),
    `import { loading } from './boot.js';
const rec = await loading;
if (document.readyState === 'loading') await new Promise((r) => document.addEventListener('DOMContentLoaded', r, { once: true }));
document.documentElement.dataset.modelSource = rec.source?.fromCache ? 'cache' : 'network';
const list = document.getElementById('recs');
for (const r of await rec.recommend(Number(new URLSearchParams(location.search).get('game')), { k: 10 })) {
  const li = document.createElement('li');
  li.textContent = r.name;
  list.append(li);
}
performance.mark('playalike:first-recs');
requestAnimationFrame(() => setTimeout(() => performance.mark('playalike:first-recs-painted'), 0));
`,
  );
  const html = fs.readFileSync(path.join(root, 'web', 'index.html'), 'utf8');
  const head = html.slice(0, html.indexOf('</head>')).replace(/\s*<link rel="stylesheet"[^>]*>/, '');
  if (!head.includes('src="main.js"')) throw new Error('web/index.html no longer loads main.js: update enginePathSite()');
  fs.writeFileSync(path.join(src, 'index.html'), `${head}</head>\n<body><ol id="recs"></ol></body>\n</html>\n`);
  fs.writeFileSync(path.join(src, 'style.css'), ''); // build-site.sh copies one; this page does not link it
  return { name: 'engine path only (no page UI)', enginePath: true, site: buildSite(pkgDir, path.join(dir, 'site'), src) };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(0));

async function benchModel(label, blob, queryGame, partials, browser, variants) {
  const bucket = path.join(workDir, `bench-${label}`);
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob);
  const servers = [];
  for (const v of variants) servers.push(await startServer({ '/': v.site, '/bucket/': bucket }));
  const urlOf = (server) => `${server.url}/?model=/bucket/latest.json&game=${queryGame}`;
  const url = urlOf(servers[0]);
  const newContext = async () => {
    const context = await browser.newContext();
    if (routed) await routeCovers(context);
    // Long Tasks (> 50 ms on the page's main thread), from the start of the document.
    await context.addInitScript(() => {
      window.playalikeLongTasks = [];
      try {
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.playalikeLongTasks.push([e.startTime, e.duration]);
        }).observe({ type: 'longtask' });
      } catch {
        // no Long Tasks API
      }
    });
    return context;
  };
  /** The longest main-thread task from navigation to 1 s after the page is ready (ms, 0 if none over 50 ms). */
  const longestTask = async (page) => {
    await until(page, "document.documentElement.dataset.ready === 'true'", 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const tasks = await page.evaluate(() => window.playalikeLongTasks ?? []);
    return Math.max(0, ...tasks.map(([, d]) => d));
  };
  /** Where the longest task of a load began (ms after navigation), to place it in the timeline. */
  const longestAt = async (page) => {
    const tasks = await page.evaluate(() => window.playalikeLongTasks ?? []);
    const top = tasks.reduce((a, t) => (!a || t[1] > a[1] ? t : a), null);
    return top ? top[0] : null;
  };
  /**
   * Types a partial title as soon as the search box is enabled, in a page still loading (the
   * because lines, status, cache store and title index follow the first recommendations);
   * returns the keystroke → suggestions times of those keys.
   */
  const typeDuringLoad = async (page, text) => {
    const cdp = sessions.get(page);
    if (!(await until(page, "!document.getElementById('search-input').disabled", 30_000))) return [];
    await cdp.send('Runtime.evaluate', { expression: "document.getElementById('search-input').focus()" });
    const before = (await cdp.send('Runtime.evaluate', { expression: "performance.getEntriesByName('playalike:suggest').length", returnByValue: true })).result.value;
    for (const ch of text) {
      await page.keyboard.type(ch);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await until(page, `performance.getEntriesByName('playalike:suggest').length >= ${before + text.length}`, 10_000);
    return page.evaluate((n) => performance.getEntriesByName('playalike:suggest').slice(n).map((e) => e.duration), before);
  };
  // The page's own User Timing marks (web/boot.js, web/app.js, pkg/loader.js, pkg/index.js) and
  // navigation timing, by name: the timeline of one load.
  const timeline = (page) =>
    page.evaluate(() => {
      const out = {};
      const nav = performance.getEntriesByType('navigation')[0];
      if (nav) {
        out['html received'] = nav.responseEnd;
        out.DOMContentLoaded = nav.domContentLoadedEventStart;
      }
      for (const m of performance.getEntriesByType('mark')) {
        if (m.name.startsWith('playalike:') && !(m.name.slice(10) in out)) out[m.name.slice(10)] = m.startTime;
      }
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      if (fcp) out['first contentful paint'] = fcp.startTime;
      return out;
    });
  const firstRecs = async (page, marks) => {
    if (!(await until(page, "performance.getEntriesByName('playalike:first-recs').length > 0", 120_000))) {
      throw new Error('bench-web: no recommendations within 120 s');
    }
    // The frame that shows them ends a little later: wait for its mark too, for the timeline.
    await until(page, "performance.getEntriesByName('playalike:first-recs-painted').length > 0 || document.documentElement.dataset.ready === 'true'", 10_000);
    const t = await timeline(page);
    marks.push(t);
    return t['first-recs'];
  };
  try {
    const loads = variants.map(() => ({ cold: [], warm: [], coldMarks: [], warmMarks: [], coldLong: [], coldLongAt: [], warmLong: [], keysDuring: [], engine: null }));
    for (let i = 0; i < runs; i++) {
      // Sites alternate run by run, so a change in the machine's load hits all of them alike.
      for (let j = 0; j < variants.length; j++) {
        const at = loads[j];
        const context = await newContext();
        const page = await openPage(context);
        await load(page, urlOf(servers[j]));
        at.cold.push(await firstRecs(page, at.coldMarks));
        const real = !variants[j].enginePath;
        if (real) at.keysDuring.push(...(await typeDuringLoad(page, partials[i % partials.length])));
        if (real) at.coldLong.push(await longestTask(page));
        if (real) at.coldLongAt.push(await longestAt(page));
        at.engine ??= await page.getAttribute('html', 'data-engine');
        await waitForCachedModel(page);
        await load(page, urlOf(servers[j]));
        at.warm.push(await firstRecs(page, at.warmMarks));
        if (real) at.warmLong.push(await longestTask(page));
        const source = await page.getAttribute('html', 'data-model-source');
        if (source !== 'cache') throw new Error(`warm load did not come from the cache (${source})`);
        await context.close();
      }
    }
    const { cold, warm, coldMarks, warmMarks } = loads[0];
    const others = variants.slice(1).map((v, j) => ({ name: v.name, mode: v.mode, ...loads[j + 1] }));

    // Keystrokes after the load: type each partial title character by character, in a warm page
    // of the site as it ships and of each mode. Engine calls from the page (awaited: with the
    // worker, each is a message there and back).
    const afterLoad = async (server) => {
      const context = await newContext();
      const page = await openPage(context);
      await load(page, urlOf(server));
      await firstRecs(page, []);
      await until(page, "performance.getEntriesByName('playalike:search-ready').length > 0", 30_000);
      const input = page.locator('#search-input');
      for (const p of partials) {
        await input.fill('');
        await input.pressSequentially(p, { delay: 30 });
      }
      const keys = await page.evaluate(() => performance.getEntriesByName('playalike:suggest').map((e) => e.duration));
      const engine = await page.evaluate(
        async ({ id, partials }) => {
          const rec = window.playalike;
          const time = async (fn, n) => {
            const t = [];
            for (let i = 0; i < n; i++) {
              const t0 = performance.now();
              await fn(i);
              t.push(performance.now() - t0);
            }
            t.sort((a, b) => a - b);
            return t[Math.floor(t.length / 2)];
          };
          return {
            search: await time((i) => rec.search(partials[i % partials.length], { k: 8 }), 50),
            recommend: await time(() => rec.recommend(id, { k: 10 }), 20),
            recommendFiltered: await time(() => rec.recommend(id, { k: 10, filters: { platforms: [6], yearMin: 2010 } }), 20),
            explain10: await time(async () => {
              const recs = await rec.recommend(id, { k: 10 });
              await Promise.all(recs.map((r) => rec.explain(id, r.id)));
            }, 10),
            games: (await rec.status()).games,
            mode: document.documentElement.dataset.engine,
          };
        },
        { id: queryGame, partials },
      );
      await context.close();
      return { keys, engine };
    };
    const { keys, engine } = await afterLoad(servers[0]);
    for (const [j, v] of variants.entries()) {
      if (v.mode) Object.assign(j === 0 ? {} : others[j - 1], { after: await afterLoad(servers[j]) });
    }
    return { label, bytes: fs.statSync(blob).size, cold, warm, coldMarks, warmMarks, coldLong: loads[0].coldLong, coldLongAt: loads[0].coldLongAt, warmLong: loads[0].warmLong, keysDuring: loads[0].keysDuring, mode: loads[0].engine, others, keys, engine };
  } finally {
    for (const server of servers) await server.close();
  }
}

/**
 * The floor of this harness: an empty page (one inline script, one module that imports another)
 * from the same server in a fresh context, then reloaded. Whatever a page does, its first module
 * cannot run earlier than this on this machine.
 */
async function floor(browser) {
  const dir = path.join(workDir, 'bench-floor');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title>
<script>performance.mark('inline-script')</script><script type="module" src="m.js"></script></head><body><p>empty</p></body></html>\n`,
  );
  fs.writeFileSync(path.join(dir, 'm.js'), "performance.mark('module-ran');\nimport('./n.js').then(() => performance.mark('module-imported'));\n");
  fs.writeFileSync(path.join(dir, 'n.js'), 'export const n = 1;\n');
  const server = await startServer({ '/': dir });
  const marks = { cold: [], warm: [] };
  const read = (page) =>
    page.evaluate(() => {
      const at = (k) => performance.getEntriesByName(k)[0]?.startTime;
      const nav = performance.getEntriesByType('navigation')[0];
      return { html: nav.responseEnd, inline: at('inline-script'), module: at('module-ran'), imported: at('module-imported'), dcl: nav.domContentLoadedEventStart };
    });
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await openPage(context);
      for (const kind of ['cold', 'warm']) {
        await load(page, `${server.url}/`);
        if (!(await until(page, "performance.getEntriesByName('module-imported').length > 0", 30_000))) throw new Error('bench-web: the floor page did not load');
        marks[kind].push(await read(page));
      }
      await context.close();
    }
  } finally {
    await server.close();
  }
  const med = (xs, k) => pct(xs.map((m) => m[k]), 50);
  return Object.fromEntries(
    ['cold', 'warm'].map((kind) => [kind, Object.fromEntries(['html', 'inline', 'module', 'imported', 'dcl'].map((k) => [k, med(marks[kind], k)]))]),
  );
}

function partialsOf(snapshot, n = 6) {
  const games = readSnapshotGames(snapshot).filter((g) => typeof g.name === 'string' && g.name.length >= 6);
  const out = [];
  for (let i = 0; out.length < n && i < games.length; i += Math.max(1, Math.floor(games.length / n))) {
    out.push(games[i].name.slice(0, 6).toLowerCase());
  }
  return out;
}

const variants = [...sites(), ...(opts['no-engine-path'] ? [] : [enginePathSite()])];
const loadStart = os.loadavg().map((x) => x.toFixed(1)).join(' / ');
// No request interception (Playwright routing would hold every request for a round trip to this
// process and turn the HTTP cache off, which no visitor has): covers fail at the resolver instead.
const browser = await launchBrowser(routed ? [] : NO_COVERS_FLAGS);
const results = [];
let floorMarks = null;
try {
  floorMarks = await floor(browser);
  const small = testModel('igdb-sample-4k');
  const q = small.snapshot ? chooseQuery(small.snapshot) : { id: Number(process.env.PLAYALIKE_BENCH_GAME), partial: 'the' };
  const partials = small.snapshot ? [q.partial, ...partialsOf(small.snapshot)] : ['the', 'mario', 'zelda'];
  results.push(await benchModel('4k', small.blob, q.id, partials, browser, variants));
  if (!skip333k) {
    let big;
    if (process.env.PLAYALIKE_BENCH_MODEL_333K) big = { blob: process.env.PLAYALIKE_BENCH_MODEL_333K, snapshot: null };
    else big = testModel('igdb-catalog-333k');
    const bigSnap = big.snapshot ?? path.resolve(root, '..', 'shared', 'data', 'igdb-catalog-333k');
    const games = readSnapshotGames(bigSnap);
    const known = games.find((g) => g.name === 'The Witcher 3: Wild Hunt') ?? games[Math.floor(games.length / 2)];
    results.push(await benchModel('333k', big.blob, known.id, ['witch', 'mario', 'zelda', 'portal', ...partialsOf(bigSnap, 4)], browser, variants));
  }
} finally {
  await browser.close();
}

// Median time of each mark over the runs, in the order of the medians.
function medianTimeline(runsMarks) {
  const names = new Set(runsMarks.flatMap((m) => Object.keys(m)));
  const rows = [];
  for (const name of names) {
    const xs = runsMarks.map((m) => m[name]).filter((x) => typeof x === 'number');
    if (xs.length === runsMarks.length) rows.push([name, pct(xs, 50)]);
  }
  return rows.sort((a, b) => a[1] - b[1]);
}

const chromium = execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
const lines = [];
lines.push('# Web benchmark: the static site in headless Chromium');
lines.push('');
lines.push(`Measured by \`node scripts/bench-web.mjs\` on ${new Date().toISOString().slice(0, 10)}: ${chromium}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), site and model served on loopback by tests/browser/server.mjs (HTTP/1.1, \`no-cache\` with ETag/304 like a static host)${rtt ? `, **${rtt} ms of latency added to every request** (Chromium's network emulation: the wait for each response a visitor on a real network sees, beyond loopback)` : ''}${mbit ? `, **downloads limited to ${mbit} Mbit/s** (Chromium's network emulation, applied to the page's and its workers' requests; the blob is sent uncompressed)` : ''}, ${routed ? 'IGDB covers answered by Playwright routing (every request intercepted, HTTP cache off)' : 'no request interception (IGDB covers fail at the resolver)'}, ${runs} runs per figure${baselineRev ? `, the current site and the baseline alternating run by run${baselineEngine ? ' (the baseline with its own engine: wasm and glue built from its tree)' : ''}` : ''}, the driver silent during a load (navigation returns at commit; the marks are polled with a bare CDP \`Runtime.evaluate\` every 50 ms; nothing of Playwright's is injected into the page until it has shown its recommendations). Load average at the start: ${loadStart} and at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (the machine is shared; figures scale with it).`);
lines.push('Navigation → first recommendations: from navigation start to the recommendations of `?game=ID` in the DOM (page, wasm, pointer, blob, verify, decode, recommend, explain, render). Cold: empty cache; warm: reload, blob from the Cache API (only latest.json fetched).');
lines.push('Keystroke → suggestions: the input event\'s timestamp to the suggestion list rendered (search + DOM update), each character of typed partial titles.');
lines.push('');
lines.push('| model | blob | nav → recs cold p50 (max) | warm p50 (max) | target | ratio to target (cold p50) | keystroke → suggestions p50 / p95 / max | target | ratio (p95) |');
lines.push('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const mb = (r.bytes / 1024 / 1024).toFixed(2);
  lines.push(
    `| ${r.label} | ${mb} MB | ${ms(pct(r.cold, 50))} ms (${ms(Math.max(...r.cold))}) | ${ms(pct(r.warm, 50))} ms (${ms(Math.max(...r.warm))}) | 300 ms | ${(pct(r.cold, 50) / 300).toFixed(2)} | ${ms(pct(r.keys, 50))} / ${ms(pct(r.keys, 95))} / ${ms(Math.max(...r.keys))} ms (${r.keys.length} keys) | 16 ms | ${(pct(r.keys, 95) / 16).toFixed(2)} |`,
  );
}
// The two engine modes side by side (docs/decisions/515-worker-mode.md).
const stat = (xs) => (xs && xs.length ? `${ms(pct(xs, 50))} / ${ms(pct(xs, 95))} / ${ms(Math.max(...xs))} ms (${xs.length})` : 'n/a');
const med = (xs) => (xs && xs.length ? pct(xs, 50) : NaN);
const emptyPage = floorMarks ? floorMarks.cold.imported : NaN;
lines.push('');
lines.push(`Where the engine runs (docs/decisions/515-worker-mode.md): the same site built three ways, alternating run by run: as it ships (\`config.workerAbove\`: a model of that many bytes or more, by its pointer's \`size\`, loads in the Web Worker), with the engine always on the main thread, and always in the worker. "Longest task": the longest main-thread task (Long Tasks API, observer registered at document start) from navigation to 1 s after the page is ready, median (max) over the loads (0: none over 50 ms). "Keys during load": a partial title typed as soon as the search box is enabled in each cold load (the because lines, status, cache store and title index still follow); "after load": the typed partial titles in a warm page once the title index is built. Keystroke figures are p50 / p95 / max (count).`);
lines.push('');
lines.push('| model | site | engine | nav → recs cold p50 (max) | warm p50 (max) | longest task, cold p50 (max) | longest task, warm p50 (max) | keys during load | keys after load | search / recommend from the page (p50) |');
lines.push('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const rows = [{ name: 'current', cold: r.cold, warm: r.warm, coldLong: r.coldLong, warmLong: r.warmLong, keysDuring: r.keysDuring, engine: r.mode, after: { keys: r.keys, engine: r.engine } }, ...r.others.filter((o) => o.mode)];
  for (const v of rows) {
    const e = v.after?.engine;
    lines.push(
      `| ${r.label} | ${v.name} | ${v.engine ?? '?'} | ${ms(pct(v.cold, 50))} ms (${ms(Math.max(...v.cold))}) | ${ms(pct(v.warm, 50))} ms (${ms(Math.max(...v.warm))}) | ${ms(med(v.coldLong))} ms (${ms(Math.max(...v.coldLong))}) | ${ms(med(v.warmLong))} ms (${ms(Math.max(...v.warmLong))}) | ${stat(v.keysDuring)} | ${stat(v.after?.keys)} | ${e ? `${ms(e.search)} / ${ms(e.recommend)} ms` : 'n/a'} |`,
    );
  }
  const main = r.others.find((o) => o.mode === 'main');
  const worker = r.others.find((o) => o.mode === 'worker');
  if (main && worker) {
    const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    lines.push(
      `| ${r.label} | ratio worker / main | | ${ratio(pct(worker.cold, 50), pct(main.cold, 50))} | ${ratio(pct(worker.warm, 50), pct(main.warm, 50))} | ${ratio(med(worker.coldLong), med(main.coldLong))} | ${ratio(med(worker.warmLong), med(main.warmLong))} | p95 ${ratio(pct(worker.keysDuring, 95), pct(main.keysDuring, 95))} | p95 ${ratio(pct(worker.after.keys, 95), pct(main.after.keys, 95))} | ${ratio(worker.after.engine.search, main.after.engine.search)} / ${ratio(worker.after.engine.recommend, main.after.engine.recommend)} |`,
    );
  }
}
lines.push('');
lines.push('Goals (issue 16), from the rows above:');
lines.push('');
for (const r of results) {
  const cold = pct(r.cold, 50);
  if (r.label === '4k') {
    lines.push(`- 4k, the site as it ships (${r.mode}), cold p50 ${ms(cold)} ms against the empty page's ${ms(emptyPage)} ms (the floor below, its import loaded): +${ms(cold - emptyPage)} ms (goal ≤ +200 ms, ratio ${((cold - emptyPage) / 200).toFixed(2)}).`);
  } else {
    const during = [...r.keysDuring];
    const keysAll = [...during, ...r.keys];
    lines.push(`- ${r.label}, the site as it ships (${r.mode}): cold p50 ${ms(cold)} ms (goal ≤ 450 ms, ratio ${(cold / 450).toFixed(2)}); longest main-thread task during the cold loads ${ms(Math.max(...r.coldLong))} ms at most, ${ms(med(r.coldLong))} ms median (goal ≤ 50 ms: 0 means none over 50 ms); keystroke → suggestions p95 during load ${ms(pct(during, 95))} ms, after ${ms(pct(r.keys, 95))} ms, together ${ms(pct(keysAll, 95))} ms (goal ≤ 16 ms, ratio ${(pct(keysAll, 95) / 16).toFixed(2)}).`);
  }
}
if (results.some((r) => r.others.length)) {
  lines.push('');
  lines.push(`Sites in the same run, alternating run by run (same server and model; the same wasm${baselineEngine ? ' except the baseline, which runs its own engine' : ''})${baselineRev ? ': the current one, the baseline revision' : ': the current one'}, and the engine's path alone: the same head and web/boot.js (pointer, blob, verify, cache, decode) bundled the same way, then the ten recommendations as bare list items, no stylesheet, no page UI. The difference between the current site and that row is what the page itself costs on the way to its first recommendations.`);
  lines.push('');
  lines.push('| model | site | nav → recs cold p50 (max) | warm p50 (max) |');
  lines.push('|---|---|---|---|');
  for (const r of results) {
    for (const v of [{ name: 'current', cold: r.cold, warm: r.warm }, ...r.others]) {
      lines.push(`| ${r.label} | ${v.name} | ${ms(pct(v.cold, 50))} ms (${ms(Math.max(...v.cold))}) | ${ms(pct(v.warm, 50))} ms (${ms(Math.max(...v.warm))}) |`);
    }
  }
}
lines.push('');
if (floorMarks) {
  const f = (kind) => {
    const m = floorMarks[kind];
    return `html received ${ms(m.html)} → inline script ${ms(m.inline)} → first module runs ${ms(m.module)} → DOMContentLoaded ${ms(m.dcl)} → its import loaded ${ms(m.imported)} ms`;
  };
  lines.push(`The floor of this harness (an empty page with one inline script and one module importing another, same server and browser, median of ${runs}): cold ${f('cold')}; warm ${f('warm')}. No page's first module runs earlier than that here; everything after it is the page's own.`);
  lines.push('');
}
lines.push('Engine calls from JavaScript in the page (median):');
lines.push('');
lines.push('| model | games | search (k=8) | recommend (k=10) | recommend, filtered | explain × 10 | vs scikit-learn plan, one query (native CPython, from ../shared/data/README.md) |');
lines.push('|---|---|---|---|---|---|---|');
const sk = { '4k': 1.3, '333k': 20.9 };
for (const r of results) {
  const e = r.engine;
  lines.push(
    `| ${r.label} | ${Number(e.games).toLocaleString('en')} | ${ms(e.search)} ms | ${ms(e.recommend)} ms | ${ms(e.recommendFiltered)} ms | ${ms(e.explain10)} ms | ${sk[r.label]} ms → ratio ${(e.recommend / sk[r.label]).toFixed(2)} (and no server round trip; the plan's target was < 2 s per request) |`,
  );
}
lines.push('');
lines.push('Where the time goes: median time of each step after navigation start, from the page\'s own User Timing marks (`playalike:*`; web/boot.js, web/app.js, pkg/loader.js, pkg/index.js) and navigation timing. Medians of each step taken separately, so they need not add up; `first-recs` is the list in the DOM (the figure in the tables above), `first-recs-painted` the end of the frame that shows it; the "because" lines, status line and filters follow.');
lines.push('');
for (const r of results) {
  for (const [kind, marks] of [['cold', r.coldMarks], ['warm', r.warmMarks]]) {
    lines.push(`- ${r.label} ${kind}: ${medianTimeline(marks).map(([n, t]) => `${n} ${ms(t)}`).join(' → ')}`);
  }
  for (const o of r.others.filter((v) => v.mode)) {
    lines.push(`- ${r.label} cold, ${o.name}: ${medianTimeline(o.coldMarks).map(([n, t]) => `${n} ${ms(t)}`).join(' → ')}`);
  }
  for (const o of [{ name: 'current', coldLong: r.coldLong, coldLongAt: r.coldLongAt }, ...r.others.filter((v) => v.mode)]) {
    const at = o.coldLongAt.map((x, i) => (x === null ? null : `${ms(o.coldLong[i])} ms at ${ms(x)}`)).filter(Boolean);
    lines.push(`- ${r.label} cold, ${o.name}: longest main-thread task of each load: ${at.length ? at.join(', ') : 'none over 50 ms'}`);
  }
}
lines.push('');
const variant = [rtt ? `rtt${rtt}` : '', mbit ? `mbit${mbit}` : ''].filter(Boolean).join('-');
const out = path.join(root, 'bench', variant ? `web-${variant}.md` : 'web.md');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
process.stderr.write(`bench-web: wrote ${out}\n`);
