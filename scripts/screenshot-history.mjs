#!/usr/bin/env node
// docs/history.png: a screenshot of the bucket's history.html after a few nights of
// `playalike run` against a local bucket (file://), with the project's Chromium harness.
//
// The nights: generated IGDB catalogues that grow a little each night, served by the embedded
// sandbox, fetched, trained, gated and published; one night without IGDB credentials (fetch
// fails, exit 14) and one with an empty snapshot (train fails, exit 11), so the page shows
// failures too. Nothing of the shared data is used.
//
//   node scripts/screenshot-history.mjs [OUT.png]     (default docs/history.png)
//
// Environment: PLAYALIKE_BIN (default: cargo build, target/debug/playalike), CHROMIUM.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builderBin, launchBrowser, root } from '../tests/browser/harness.mjs';

const out = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'history.png'));
const work = path.join(root, 'target', 'history-demo');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const bin = builderBin();
const bucket = path.join(work, 'bucket');

function playalike(args, env = {}) {
  const r = spawnSync(bin, args, {
    env: { ...process.env, PLAYALIKE_LOG: 'warn', PLAYALIKE_NO_LEARN: 'true', ...env },
    encoding: 'utf8',
  });
  process.stderr.write(`playalike ${args.slice(0, 2).join(' ')} … → exit ${r.status}\n`);
  return r;
}

// Each night: [games in the catalogue, generator seed] or a failure.
const nights = [[1500, 1], [1560, 2], [1620, 3], 'no-credentials', [1700, 4], [1750, 5], 'empty-snapshot', [1800, 6], [1880, 7]];
for (const [i, night] of nights.entries()) {
  const common = ['--bucket', `file://${bucket}`, '--work', path.join(work, 'work')];
  if (night === 'no-credentials') {
    playalike(['run', ...common, '--snapshot', path.join(work, 'snapshot-none')]);
    continue;
  }
  if (night === 'empty-snapshot') {
    fs.mkdirSync(path.join(work, 'empty'), { recursive: true });
    playalike(['run', ...common, '--snapshot', path.join(work, 'empty'), '--skip-fetch']);
    continue;
  }
  const [games, seed] = night;
  const igdb = path.join(work, `igdb-${i}`);
  const g = playalike(['generate', '--games', String(games), '--seed', String(seed), '--out', igdb]);
  if (g.status !== 0) throw new Error(`generate failed: ${g.stderr}`);
  // A new snapshot folder per night (the generator's ids restart), quality gate relaxed so the
  // catalogues of different seeds publish.
  playalike(['run', ...common, '--snapshot', path.join(work, `snapshot-${i}`), '--sandbox', igdb], {
    PLAYALIKE_MAX_RECALL_DROP: '1',
  });
}

const page = path.join(bucket, 'history.html');
if (!fs.existsSync(page)) throw new Error(`${page} was not written`);
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, javaScriptEnabled: false });
  const tab = await context.newPage();
  await tab.goto(`file://${page}`);
  await tab.screenshot({ path: out, fullPage: true });
  process.stderr.write(`wrote ${path.relative(root, out)} from ${path.relative(root, page)}\n`);
} finally {
  await browser.close();
}
