// The static site in headless Chromium when the model is not usable: missing, corrupt in
// transit, damaged at rest, truncated, oversized (longer than published, or a pointer announcing
// more than any model can be), offline. Each case must show its own title and message, disable
// the search box, and log nothing beyond the failed request itself.
// Run: node --test tests/browser/site-model-errors.test.mjs   (needs pkg/ built by scripts/build-wasm.sh)
// PLAYALIKE_RELIABILITY_REPORT=FILE writes what the page showed per case as JSON (scripts/reliability.sh).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './server.mjs';
import { root, workDir, testModel, makeBucket, buildSite, launchBrowser, routeCovers, watchConsole } from './harness.mjs';

// Chromium reports every non-2xx resource as a console error; these tests expect those.
const isHttpFailure = (e) => /Failed to load resource/.test(e);

test('site: model failure states', async (t) => {
  const pkgDir = process.env.PLAYALIKE_TEST_PKG_DIR ?? path.join(root, 'pkg');
  const { blob } = testModel();
  const bucket = path.join(workDir, 'bucket-errors');
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob, { version: 1 });
  const good = fs.readFileSync(blob);
  // A blob whose pointer matches it but whose payload is damaged: the engine must refuse it.
  const damaged = Buffer.from(good);
  damaged[damaged.length - 5] ^= 0x5a;
  makeBucket(path.join(bucket, 'damaged'), blob, { blobBytes: damaged });
  // A pointer announcing 5 GB: refused before any download.
  const huge = makeBucket(path.join(bucket, 'huge'), blob);
  fs.writeFileSync(path.join(bucket, 'huge', 'latest.json'), JSON.stringify({ ...huge, size: 5_000_000_000 }));

  const server = await startServer({ '/': buildSite(pkgDir, 'site-errors'), '/bucket/': bucket });
  t.after(() => server.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const blobPath = '/bucket/models/v1/model.bin';
  const report = [];

  const half = Math.floor(good.length / 2);
  const cases = [
    { name: 'missing model', model: '/bucket/nowhere/latest.json', title: 'No model found', message: /No model is published at .*nowhere\/latest\.json \(HTTP 404\)/ },
    { name: 'corrupt download (one byte flipped in transit)', model: '/bucket/latest.json', body: () => { const b = Buffer.from(good); b[100] ^= 0xff; return b; }, title: 'The model download is corrupt', message: /SHA-256 checksum does not match/ },
    { name: 'damaged model file (checksum of the damaged file published)', model: '/bucket/damaged/latest.json', title: 'The model file is damaged', message: /damaged and could not be read \(model blob is corrupted: checksum/ },
    { name: 'truncated download (half the blob)', model: '/bucket/latest.json', body: () => good.subarray(0, half), title: 'The model download is corrupt', message: new RegExp(`incomplete or corrupt: expected ${good.length} bytes, got ${half}`) },
    { name: 'oversized download (4 MB more than latest.json says)', model: '/bucket/latest.json', body: () => Buffer.concat([good, Buffer.alloc(4 << 20, 7)]), title: 'The model download is corrupt', message: new RegExp(`larger than published: expected ${good.length} bytes`) },
    { name: 'oversized pointer (latest.json announces 5 GB)', model: '/bucket/huge/latest.json', title: 'The model is too large', message: /announces a model of 5000000000 bytes, more than the 1073741848/, noBlob: true },
    { name: 'truncated blob named directly (no pointer)', model: '/bucket/cut.bin', direct: () => good.subarray(0, half), title: 'The model file is damaged', message: /damaged and could not be read \(model blob is truncated/ },
    // The engine's refusals reach the page by their code (pkg/loader.js decodeError), not by their wording.
    { name: 'blob in a newer format named directly', model: '/bucket/newer.bin', direct: () => { const b = Buffer.from(good); b.writeUInt16LE(2, 8); b.writeUInt16LE(0, 10); return b; }, title: 'This page cannot read this model', code: 'unsupported-format', message: /uses a newer format than this version of playalike reads \(model blob format 2\.0 is newer/ },
    { name: 'blob in an obsolete format named directly', model: '/bucket/older.bin', direct: () => { const b = Buffer.from(good); b.writeUInt16LE(0, 8); return b; }, title: 'This page cannot read this model', code: 'unsupported-format', message: /uses an older format than this version of playalike reads .*must be rebuilt/ },
    { name: 'offline', model: '/bucket/latest.json', offline: true, title: 'You are offline', message: /offline/ },
  ];
  for (const c of cases) {
    await t.test(`error state: ${c.name}`, async (t2) => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      t2.after(() => context.close());
      await routeCovers(context);
      const page = await context.newPage();
      const errors = watchConsole(page);
      if (c.body) server.override(blobPath, { body: c.body() });
      if (c.direct) server.override(c.model, { body: c.direct() });
      t2.after(() => server.clearOverrides());
      if (c.offline) {
        // The page itself is served; then the network goes away before the model is fetched.
        await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'onLine', { get: () => false }));
        await context.route('**/bucket/**', (route) => route.abort('internetdisconnected'));
      }
      server.resetCounts();
      await page.goto(`${server.url}/?model=${encodeURIComponent(c.model)}`);
      await page.waitForSelector('#error:not([hidden])');
      const shown = {
        case: c.name,
        title: await page.textContent('#error-title'),
        message: await page.textContent('#error-message'),
        code: await page.getAttribute('#error', 'data-code'),
        searchDisabled: await page.isDisabled('#search-input'),
      };
      report.push(shown);
      assert.equal(shown.title, c.title);
      assert.match(shown.message, c.message);
      if (c.code) assert.equal(shown.code, c.code);
      assert.equal(shown.searchDisabled, true);
      if (c.name.startsWith('corrupt download')) {
        fs.mkdirSync(path.join(root, 'target', 'screenshots'), { recursive: true });
        await page.screenshot({ path: path.join(root, 'target', 'screenshots', 'site-error.png') });
      }
      if (c.noBlob) assert.equal(server.count(blobPath), 0, 'the oversized model is not downloaded');
      const unexpected = errors.filter((e) => !isHttpFailure(e) && !/ERR_INTERNET_DISCONNECTED/.test(e));
      assert.deepEqual(unexpected, [], 'no console errors beyond the failed request itself');
    });
  }
  await t.test('Try again after a failed load starts a new load and shows the model', async (t2) => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    t2.after(() => context.close());
    await routeCovers(context);
    const page = await context.newPage();
    const errors = watchConsole(page);
    server.override('/bucket/latest.json', { status: 503 });
    t2.after(() => server.clearOverrides());
    await page.goto(`${server.url}/?model=${encodeURIComponent('/bucket/latest.json')}`);
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error-message'), /HTTP 503/);
    server.clearOverrides();
    await page.click('#retry');
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.isHidden('#error'), true);
    assert.equal(await page.isDisabled('#search-input'), false);
    assert.match(await page.textContent('#status'), /Model v1/);
    assert.deepEqual(errors.filter((e) => !isHttpFailure(e)), [], 'no console errors beyond the failed request itself');
  });

  if (process.env.PLAYALIKE_RELIABILITY_REPORT) {
    fs.writeFileSync(process.env.PLAYALIKE_RELIABILITY_REPORT, JSON.stringify(report, null, 1));
  }
});
