// The site's analytics events (web/events.js, pkg/events.js) in headless Chromium: the page
// dispatches the engine's 'loaded', 'searched', 'recommended' and 'picked' events as `playalike`
// CustomEvents on window, with the payloads the package documents, and no request leaves the page
// for them (nothing is configured by default).
// Run: node --test tests/browser/site-events.test.mjs   (needs pkg/ built by scripts/build-wasm.sh)
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './server.mjs';
import { root, workDir, testModel, makeBucket, buildSite, buildSiteWith, nativeRecommend, chooseQuery, launchBrowser, routeCovers, watchConsole } from './harness.mjs';

// The same visit with the engine on the main thread and in the Web Worker (web/config.js
// `workerAbove: 0`): both engines emit the same events with the same payloads.
for (const mode of ['main', 'worker']) {
  test(`site (${mode} thread engine): analytics events reach window with their payloads, and nothing is sent`, (t) => visit(t, mode));
}

async function visit(t, mode) {
  const { blob, snapshot } = testModel();
  const bucket = path.join(workDir, `bucket-events-${mode}`);
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob, { version: 3 });
  const pkgDir = path.join(root, 'pkg');
  const site = mode === 'worker' ? buildSiteWith(pkgDir, 'site-events-worker', { workerAbove: 0 }) : buildSite(pkgDir, 'site-events');
  const server = await startServer({ '/': site, '/bucket/': bucket });
  t.after(() => server.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const context = await browser.newContext({ serviceWorkers: 'block' });
  await routeCovers(context);
  const page = await context.newPage();
  const errors = watchConsole(page);
  // A listener in place before the page's own script runs, as a deployer's script would be.
  await page.addInitScript(() => {
    window.seen = [];
    window.addEventListener('playalike', (e) => window.seen.push(e.detail));
  });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));

  await page.goto(`${server.url}/?model=/bucket/latest.json`);
  await page.waitForSelector('html[data-ready="true"]');
  assert.equal(await page.getAttribute('html', 'data-engine'), mode);
  // 'loaded' waits for the engine's status, which a worker answers asynchronously.
  await page.waitForFunction(() => window.seen.length >= 1);
  const seen = () => page.evaluate(() => window.seen.map((e) => ({ ...e })));

  // loaded: what the model holds and where it came from.
  const [loaded, ...rest] = await seen();
  assert.deepEqual(rest, [], 'nothing but loaded before the visitor acts (the start list is not a recommendation)');
  const status = await page.evaluate(() => window.playalike.status());
  assert.equal(loaded.type, 'loaded');
  assert.equal(loaded.games, status.games);
  assert.equal(loaded.modelVersion, status.modelVersion);
  assert.equal(loaded.fromCache, false);
  assert.equal(loaded.bytes, fs.statSync(blob).size);
  assert.ok(loaded.ms > 0, `ms: ${loaded.ms}`);
  const afterLoad = requests.length;

  // searched: one per search the page makes, the last one with the typed text and the shown ids.
  const query = snapshot ? chooseQuery(snapshot) : { partial: 'the', name: null };
  await page.locator('#search-input').pressSequentially(query.partial, { delay: 20 });
  await page.waitForSelector('#suggestions [role=option]');
  const shownIds = await page.$$eval('#suggestions [role=option]', (os) => os.map((o) => Number(o.dataset.id)));
  let events = await seen();
  const searched = events.filter((e) => e.type === 'searched');
  assert.ok(searched.length >= 1);
  const last = searched.at(-1);
  assert.equal(last.query, query.partial.trim());
  assert.deepEqual(last.ids, shownIds);
  assert.equal(last.results, shownIds.length);

  // picked from the search (Enter on the highlighted option), then recommended.
  const names = await page.$$eval('#suggestions [role=option]', (os) => os.map((o) => o.textContent ?? ''));
  const index = Math.max(0, names.findIndex((n) => query.name && n.startsWith(query.name)));
  for (let i = 0; i <= index; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#recs > li');
  const chosen = shownIds[index];
  const recIds = await page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id)));
  assert.deepEqual(recIds, nativeRecommend(blob, chosen, recIds.length));
  events = (await seen()).slice(1 + searched.length);
  assert.deepEqual(
    events.map((e) => ({ ...e, ms: undefined })),
    [
      { type: 'picked', id: chosen, from: 'search', position: index, ms: undefined },
      { type: 'recommended', liked: [chosen], disliked: [], filtered: false, results: recIds.length, ids: recIds, ms: undefined },
    ],
  );

  // picked from the recommendations: the second one.
  const before = (await seen()).length;
  await page.click('#recs > li:nth-child(2) .rec-title');
  await page.waitForFunction((n) => window.seen.length >= n + 2, before);
  events = (await seen()).slice(before);
  assert.deepEqual({ ...events[0] }, { type: 'picked', id: recIds[1], from: 'recommendations', position: 1 });
  assert.equal(events[1].type, 'recommended');
  assert.deepEqual(events[1].liked, [recIds[1]]);

  // No request left the page for any of this: after the model, only cover images (IGDB's CDN).
  const after = requests.slice(afterLoad).filter((u) => !u.startsWith('https://images.igdb.com/'));
  assert.deepEqual(after, [], 'requests made after the load besides covers');
  assert.deepEqual(errors, [], 'no console errors');
}
