#!/usr/bin/env node
// Web benchmark: the static site in headless Chromium on loopback, with real models.
//   navigation → first recommendations in the DOM (cold: empty cache; warm: blob from the Cache API)
//   keystroke → suggestions in the DOM (input event timestamp → render done)
//   engine calls from JS (search, recommend, explain) for reference
// Writes bench/web.md. Usage: node scripts/bench-web.mjs [--runs N] [--skip-333k]
// Env: PLAYALIKE_TEST_MODEL (4k blob), PLAYALIKE_BENCH_MODEL_333K (333k blob), else trains them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer } from '../tests/browser/server.mjs';
import { root, workDir, testModel, makeBucket, chooseQuery, launchBrowser, routeCovers, readSnapshotGames, waitForCachedModel } from '../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 9;
const skip333k = args.includes('--skip-333k');

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(0));

async function benchModel(label, blob, queryGame, partials, browser) {
  const bucket = path.join(workDir, `bench-${label}`);
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob);
  const server = await startServer({ '/': path.join(root, 'web'), '/pkg/': process.env.PLAYALIKE_TEST_PKG_DIR ?? path.join(root, 'pkg'), '/bucket/': bucket });
  const url = `${server.url}/?model=/bucket/latest.json&game=${queryGame}`;
  const firstRecs = async (page) => {
    await page.waitForFunction(() => performance.getEntriesByName('playalike:first-recs').length > 0, null, { timeout: 120_000 });
    return page.evaluate(() => performance.getEntriesByName('playalike:first-recs')[0].startTime);
  };
  try {
    const cold = [];
    const warm = [];
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      await routeCovers(context);
      const page = await context.newPage();
      await page.goto(url);
      cold.push(await firstRecs(page));
      await waitForCachedModel(page);
      await page.goto(url);
      warm.push(await firstRecs(page));
      const source = await page.getAttribute('html', 'data-model-source');
      if (source !== 'cache') throw new Error(`warm load did not come from the cache (${source})`);
      await context.close();
    }

    // Keystrokes: type each partial title character by character, in a warm page.
    const context = await browser.newContext();
    await routeCovers(context);
    const page = await context.newPage();
    await page.goto(url);
    await firstRecs(page);
    const input = page.locator('#search-input');
    for (const p of partials) {
      await input.fill('');
      await input.pressSequentially(p, { delay: 30 });
    }
    const keys = await page.evaluate(() => performance.getEntriesByName('playalike:suggest').map((e) => e.duration));
    const engine = await page.evaluate(
      ({ id, partials }) => {
        const rec = window.playalike;
        const time = (fn, n) => {
          const t = [];
          for (let i = 0; i < n; i++) {
            const t0 = performance.now();
            fn(i);
            t.push(performance.now() - t0);
          }
          t.sort((a, b) => a - b);
          return t[Math.floor(t.length / 2)];
        };
        return {
          search: time((i) => rec.search(partials[i % partials.length], { k: 8 }), 50),
          recommend: time(() => rec.recommend(id, { k: 10 }), 20),
          recommendFiltered: time(() => rec.recommend(id, { k: 10, filters: { platforms: [6], yearMin: 2010 } }), 20),
          explain10: time(() => {
            for (const r of rec.recommend(id, { k: 10 })) rec.explain(id, r.id);
          }, 10),
          games: rec.status().games,
        };
      },
      { id: queryGame, partials },
    );
    await context.close();
    return { label, bytes: fs.statSync(blob).size, cold, warm, keys, engine };
  } finally {
    await server.close();
  }
}

function partialsOf(snapshot, n = 6) {
  const games = readSnapshotGames(snapshot).filter((g) => typeof g.name === 'string' && g.name.length >= 6);
  const out = [];
  for (let i = 0; out.length < n && i < games.length; i += Math.max(1, Math.floor(games.length / n))) {
    out.push(games[i].name.slice(0, 6).toLowerCase());
  }
  return out;
}

const browser = await launchBrowser();
const results = [];
try {
  const small = testModel('igdb-sample-4k');
  const q = small.snapshot ? chooseQuery(small.snapshot) : { id: Number(process.env.PLAYALIKE_BENCH_GAME), partial: 'the' };
  const partials = small.snapshot ? [q.partial, ...partialsOf(small.snapshot)] : ['the', 'mario', 'zelda'];
  results.push(await benchModel('4k', small.blob, q.id, partials, browser));
  if (!skip333k) {
    let big;
    if (process.env.PLAYALIKE_BENCH_MODEL_333K) big = { blob: process.env.PLAYALIKE_BENCH_MODEL_333K, snapshot: null };
    else big = testModel('igdb-catalog-333k');
    const bigSnap = big.snapshot ?? path.resolve(root, '..', 'shared', 'data', 'igdb-catalog-333k');
    const games = readSnapshotGames(bigSnap);
    const known = games.find((g) => g.name === 'The Witcher 3: Wild Hunt') ?? games[Math.floor(games.length / 2)];
    results.push(await benchModel('333k', big.blob, known.id, ['witch', 'mario', 'zelda', 'portal', ...partialsOf(bigSnap, 4)], browser));
  }
} finally {
  await browser.close();
}

const chromium = execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
const lines = [];
lines.push('# Web benchmark: the static site in headless Chromium');
lines.push('');
lines.push(`Measured by \`node scripts/bench-web.mjs\` on ${new Date().toISOString().slice(0, 10)}: ${chromium}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), site and model served on loopback by tests/browser/server.mjs, ${runs} runs per figure. Load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (the machine is shared; figures scale with it).`);
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
lines.push('');
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
const out = path.join(root, 'bench', 'web.md');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
process.stderr.write(`bench-web: wrote ${out}\n`);
