// The site's worker mode (docs/decisions/515-worker-mode.md) in headless Chromium: with the
// threshold set to 0 (web/config.js `workerAbove`), the real 4k model is fetched, verified,
// cached and decoded in the engine's Web Worker (pkg/worker.js), never by the page, and the page
// answers exactly as the main-thread engine does: the same recommendations (equal to the native
// CLI's), the same suggestions, the same "because" lines, from the cache on reload, offline
// with the service worker, and the loader's error codes.
// Run: node --test tests/browser/site-worker.test.mjs   (needs pkg/ built by scripts/build-wasm.sh)
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './server.mjs';
import { execFileSync } from 'node:child_process';
import { root, workDir, testModel, makeBucket, buildSite, buildSiteWith, nativeRecommend, chooseQuery, launchBrowser, routeCovers, watchConsole, waitForCachedModel, queryBin } from './harness.mjs';

test('site worker mode in Chromium', async (t) => {
  const pkgDir = process.env.PLAYALIKE_TEST_PKG_DIR ?? path.join(root, 'pkg');
  const { blob, snapshot } = testModel();
  const bucket = path.join(workDir, 'bucket-worker');
  fs.rmSync(bucket, { recursive: true, force: true });
  const pointer = makeBucket(bucket, blob, { version: 1 });
  // A damaged blob (its pointer describes the real one): the worker's loader must refuse it.
  const damaged = path.join(workDir, 'bucket-worker-damaged');
  fs.rmSync(damaged, { recursive: true, force: true });
  const real = fs.readFileSync(blob);
  const bad = Buffer.from(real);
  bad[bad.length >> 1] ^= 0xff;
  makeBucket(damaged, blob, { blobBytes: bad, pointerFor: real });
  // A bigger synthetic model (1.9 MB) for the slow-network case.
  const slow = path.join(workDir, 'bucket-worker-slow');
  fs.rmSync(slow, { recursive: true, force: true });
  const synthetic = path.join(workDir, 'synthetic-30k.bin');
  execFileSync(queryBin(), ['--synth', '30000', '1', synthetic]);
  makeBucket(slow, synthetic, { version: 1 });
  const query = snapshot ? chooseQuery(snapshot) : { id: Number(process.env.PLAYALIKE_TEST_GAME), partial: process.env.PLAYALIKE_TEST_QUERY ?? 'the' };
  if (!Number.isInteger(query.id)) throw new Error('set PLAYALIKE_TEST_GAME to a game id of PLAYALIKE_TEST_MODEL');

  const servers = {
    // The site as it ships (the 4k model is far below its threshold: main thread) ...
    // (pkg/ itself at /rawpkg/: the npm package's RecommenderWorker as a bundler-less page uses it.)
    main: await startServer({ '/': buildSite(pkgDir, 'site-worker-main'), '/bucket/': bucket, '/damaged/': damaged, '/rawpkg/': pkgDir }),
    // ... and with every model in the worker.
    worker: await startServer({ '/': buildSiteWith(pkgDir, 'site-worker', { workerAbove: 0 }), '/bucket/': bucket, '/damaged/': damaged, '/slow/': slow }),
  };
  t.after(() => Promise.all(Object.values(servers).map((s) => s.close())));
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const blobPath = '/bucket/models/v1/model.bin';

  async function newPage(t2, serviceWorkers = 'block') {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, serviceWorkers });
    t2.after(() => context.close());
    await routeCovers(context);
    const page = await context.newPage();
    return { context, page, errors: watchConsole(page) };
  }

  /** What a page shows for the query game, and what it suggests for the partial title. */
  async function view(page, server) {
    await page.goto(`${server.url}/?model=/bucket/latest.json&game=${query.id}`);
    await page.waitForSelector('html[data-ready="true"]');
    const recs = await page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id)));
    const because = await page.$$eval('#recs .because', (ps) => ps.map((p) => p.textContent));
    const title = await page.textContent('#game h2');
    const status = await page.textContent('#status');
    const input = page.locator('#search-input');
    await input.click();
    await input.pressSequentially(query.partial, { delay: 20 });
    await page.waitForSelector('#suggestions [role=option]');
    // The last keystroke's answer (earlier answers are dropped when a newer search was asked).
    await page.waitForFunction((n) => performance.getEntriesByName('playalike:suggest').length >= n, query.partial.length);
    const suggestions = await page.$$eval('#suggestions [role=option]', (lis) => lis.map((li) => Number(li.dataset.id)));
    return { recs, because, title, status, suggestions, engine: await page.getAttribute('html', 'data-engine') };
  }

  let expected;
  await t.test('the main-thread site, for reference', async (t2) => {
    const { page, errors } = await newPage(t2);
    expected = await view(page, servers.main);
    assert.equal(expected.engine, 'main', 'a 0.3 MB model stays on the main thread');
    assert.deepEqual(expected.recs, nativeRecommend(blob, query.id, expected.recs.length));
    assert.deepEqual(errors, []);
  });

  await t.test('the worker answers, off the main thread, as the main-thread engine does', async (t2) => {
    const { page, errors } = await newPage(t2);
    servers.worker.resetCounts();
    const got = await view(page, servers.worker);
    assert.equal(got.engine, 'worker');
    assert.deepEqual(got.recs, expected.recs, 'the same recommendations');
    assert.deepEqual(got.because, expected.because, 'the same reasons');
    assert.deepEqual(got.suggestions, expected.suggestions, 'the same suggestions');
    assert.equal(got.title, expected.title);
    assert.equal(got.status, expected.status);
    // The decode happened in the worker: its marks are in the page's timeline, the page's own
    // decode mark is not, and the page itself never requested the blob. The wasm is fetched once
    // (the head's preload, compiled by the page and handed to the worker as a Module).
    const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
    for (const m of ['playalike:engine-worker', 'playalike:worker-started', 'playalike:worker-bytes', 'playalike:worker-decoded']) {
      assert.ok(marks.includes(m), `${m} in ${marks.join(', ')}`);
    }

    for (const m of ['playalike:model-decoded', 'playalike:engine-ready', 'playalike:blob-fetched', 'playalike:blob-verified']) {
      assert.ok(!marks.includes(m), `${m}: the page's own loader or engine ran`);
    }
    assert.ok(marks.indexOf('playalike:worker-decoded') < marks.indexOf('playalike:first-recs'));
    // index.html's inline script started that worker once it had the pointer, before the page's
    // script ran: the worker began the download, and the page adopted it (decision 516).
    for (const m of ['playalike:worker-adopted', 'playalike:worker-prefetch']) assert.ok(marks.includes(m), `${m} in ${marks.join(', ')}`);
    assert.equal(servers.worker.count('/pkg/worker.js'), 1, 'one worker started');
    assert.equal(servers.worker.count('/bucket/latest.json'), 1, 'the pointer requested once (the head script\'s request, adopted)');
    const requested = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    assert.ok(requested.includes('/pkg/worker.js'), `the page started the worker: ${requested.join(', ')}`);
    assert.ok(!requested.includes(blobPath), 'the blob was downloaded by the worker, not the page');
    assert.equal(servers.worker.count(blobPath), 1, 'one download');
    assert.equal(servers.worker.count('/pkg/playalike_bg.wasm'), 1, 'the worker did not fetch the wasm again');
    // The page's engine is the worker's proxy: its answers are promises.
    assert.equal(await page.evaluate(() => typeof window.playalike.game(1)?.then), 'function');
    // A reload takes the blob from the Cache API, in the worker ...
    await waitForCachedModel(page);
    // ... which kept the loader's note (the blob it stored; `?model=` is not the site's default
    // model, hence the second cache, decision 510) in the page's localStorage: workers have none.
    await page.waitForFunction((sum) => localStorage.getItem('playalike:cached:playalike-models-other') === sum, pointer.checksum);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'cache');
    assert.equal(await page.getAttribute('html', 'data-engine'), 'worker');
    assert.equal(servers.worker.count(blobPath), 1, 'no second download');
    assert.ok(!(await page.evaluate(() => performance.getEntriesByName('playalike:worker-prefetch').length)), 'the early worker saw the note: no download begun');
    assert.deepEqual(await page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id))), expected.recs);

    // Picking another game goes through the worker as well.
    const next = expected.recs[0];
    await page.click(`#recs > li[data-id="${next}"] .rec-title`);
    await page.waitForSelector(`#game[data-id="${next}"]`);
    await page.waitForFunction((id) => document.querySelector('#recs > li') && !document.querySelector(`#recs > li[data-id="${id}"]`), next);
    const after = await page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id)));
    assert.deepEqual(after, nativeRecommend(blob, next, after.length));
    assert.deepEqual(errors, []);
  });

  await t.test('the package: RecommenderWorker.fromBytes answers like Recommender, errors alike, free() ends it', async (t2) => {
    const { page, errors } = await newPage(t2);
    await page.goto(`${servers.main.url}/?model=/bucket/latest.json&game=${query.id}`);
    await page.waitForSelector('html[data-ready="true"]');
    const got = await page.evaluate(
      async ({ id, partial }) => {
        const { RecommenderWorker } = await import('/rawpkg/worker-client.js');
        const bytes = new Uint8Array(await (await fetch('/bucket/models/v1/model.bin')).arrayBuffer());
        const w = await RecommenderWorker.fromBytes(bytes);
        const main = window.playalike; // the page's main-thread Recommender, same model
        const same = async (fn) => JSON.stringify(await fn(w)) === JSON.stringify(fn(main));
        const out = {
          size: w.size === main.size,
          bytesKept: bytes.length > 0,
          recommend: await same((r) => r.recommend(id, { k: 10 })),
          filtered: await same((r) => r.recommend({ liked: [id] }, { k: 5, filters: { yearMin: 2005 } })),
          search: await same((r) => r.search(partial, { k: 8 })),
          popular: await same((r) => r.popular({ k: 5 })),
          explain: await same((r) => r.explain(id, main.recommend(id, { k: 1 })[0].id)),
          game: await same((r) => r.game(id)),
          status: await same((r) => r.status()),
        };
        let thrown;
        try {
          main.recommend(id, { k: 0 });
        } catch (e) {
          thrown = e.message;
        }
        out.badQuery = await w.recommend(id, { k: 0 }).then(
          () => 'resolved',
          (e) => e instanceof Error && e.message === thrown,
        );
        out.corrupt = await RecommenderWorker.fromBytes(new Uint8Array([1, 2, 3])).then(
          () => 'resolved',
          (e) => e instanceof Error && e.message.length > 0,
        );
        w.free();
        out.freed = await w.search(partial).then(
          () => 'resolved',
          (e) => /freed/.test(e.message),
        );
        return out;
      },
      { id: query.id, partial: query.partial },
    );
    assert.deepEqual(got, {
      size: true,
      bytesKept: true,
      recommend: true,
      filtered: true,
      search: true,
      popular: true,
      explain: true,
      game: true,
      status: true,
      badQuery: true,
      corrupt: true,
      freed: true,
    });
    assert.deepEqual(errors, []);
  });

  await t.test('a slow download is decoded as it arrives, with the same answers', async (t2) => {
    const { page, context, errors } = await newPage(t2);
    // A 1.9 MB synthetic model at 16 Mbit/s: the worker measures two windows below its rate
    // threshold and feeds the engine's ModelDecoder as the bytes come (decision 518).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 16e6 / 8, uploadThroughput: -1 });
    await page.goto(`${servers.worker.url}/?model=/slow/latest.json&game=1`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
    const recs = await page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id)));
    assert.deepEqual(recs, nativeRecommend(synthetic, 1), 'the same recommendations as the native engine');
    const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
    for (const m of ['playalike:worker-streaming', 'playalike:worker-streamed']) assert.ok(marks.includes(m), `${m} in ${marks.join(', ')}`);
    assert.ok(marks.indexOf('playalike:worker-streaming') < marks.indexOf('playalike:worker-bytes'), 'chosen while downloading');
    assert.deepEqual(errors, []);
  });

  await t.test("a damaged blob is refused by the worker's loader with the loader's code", async (t2) => {
    const { page } = await newPage(t2);
    await page.goto(`${servers.worker.url}/?model=/damaged/latest.json&game=${query.id}`);
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'checksum-mismatch');
    assert.match(await page.textContent('#error-message'), /SHA-256 checksum does not match/);
  });

  await t.test("an engine worker that cannot start (its script missing) is reported, not waited for", async (t2) => {
    // index.html's inline script starts it before the page's script runs (decision 516): the
    // page must still hear its failure.
    servers.worker.override('/pkg/worker.js', { status: 404, type: 'text/plain', body: 'gone' });
    t2.after(() => servers.worker.clearOverrides());
    const { page } = await newPage(t2);
    await page.goto(`${servers.worker.url}/?model=/bucket/latest.json&game=${query.id}`);
    await page.waitForSelector('#error:not([hidden])', { timeout: 20_000 });
    assert.equal(await page.getAttribute('#error', 'data-code'), 'engine');
    assert.match(await page.textContent('#error-message'), /worker/);
  });

  await t.test('the service worker keeps the engine worker for offline visits', async (t2) => {
    const { context, page } = await newPage(t2, 'allow');
    await page.goto(`${servers.worker.url}/?model=/bucket/latest.json&game=${query.id}`);
    await page.waitForSelector('html[data-ready="true"][data-offline-ready="true"]');
    await waitForCachedModel(page);
    const cached = await page.evaluate(async () => (await (await caches.open('playalike-site')).keys()).map((r) => new URL(r.url).pathname));
    assert.ok(cached.includes('/pkg/worker.js'), `playalike-site holds ${cached.join(', ')}`);
    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-engine'), 'worker');
    assert.deepEqual(await page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id))), expected.recs);
  });
});
