// The static site in headless Chromium against a real model built by the builder:
// search → pick → recommendations equal to the native CLI's, filters, cache on reload,
// no console errors, screenshots. Error states: site-model-errors.test.mjs.
// Run: node --test tests/browser/site.test.mjs   (needs pkg/ built by scripts/build-wasm.sh)
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startServer } from './server.mjs';
import {
  root,
  workDir,
  testModel,
  makeBucket,
  buildSite,
  nativeRecommend,
  nativePopular,
  chooseQuery,
  launchBrowser,
  routeCovers,
  watchConsole,
  readSnapshotGames,
  waitForCachedModel,
} from './harness.mjs';

const screenshots = path.join(root, 'target', 'screenshots');
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now. Its source goes in through
 * page.evaluate (the DevTools protocol), which the page's Content-Security-Policy does not block,
 * unlike an injected <script>.
 */
async function axeViolations(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

test('static site in Chromium', async (t) => {
  // PLAYALIKE_TEST_PKG_DIR: serve another build of the package (default pkg/).
  const pkgDir = process.env.PLAYALIKE_TEST_PKG_DIR ?? path.join(root, 'pkg');
  const { blob, snapshot } = testModel();
  const bucket = path.join(workDir, 'bucket-site');
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob, { version: 1 });
  const query = snapshot ? chooseQuery(snapshot) : { partial: process.env.PLAYALIKE_TEST_QUERY ?? 'the', name: null };

  // A second, different model (the engine's committed 40-game blob): another allowed ?model=.
  const other = path.join(workDir, 'bucket-site-other');
  fs.rmSync(other, { recursive: true, force: true });
  const otherPointer = makeBucket(other, path.join(root, 'crates', 'engine', 'tests', 'data', 'format-1.0.bin'), { version: 7 });
  // A bucket for the offline test, which publishes a second version.
  const own = path.join(workDir, 'bucket-offline');
  fs.rmSync(own, { recursive: true, force: true });
  makeBucket(own, blob, { version: 1 });
  const server = await startServer({ '/': buildSite(pkgDir), '/bucket/': bucket, '/other/': other, '/offline/': own });
  t.after(() => server.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  fs.mkdirSync(screenshots, { recursive: true });
  const site = (params) => `${server.url}/?${params}`;
  const blobPath = '/bucket/models/v1/model.bin';

  // The service worker is blocked unless a test asks for it: with Playwright's routing the HTTP
  // cache is off, so the worker's install fetches the page's files a second time, and these
  // tests count requests to check the loader. The offline test allows it.
  async function newPage(t2, viewport = { width: 1100, height: 900 }, serviceWorkers = 'block') {
    const context = await browser.newContext({ viewport, serviceWorkers });
    t2.after(() => context.close());
    await routeCovers(context);
    const page = await context.newPage();
    const errors = watchConsole(page);
    return { context, page, errors };
  }

  const recIds = (page) => page.$$eval('#recs > li', (lis) => lis.map((li) => Number(li.dataset.id)));

  await t.test('search, pick, recommendations equal the native CLI, filters, cache on reload', async (t2) => {
    const { page, errors } = await newPage(t2);
    await page.goto(site('model=/bucket/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'network');
    assert.equal(server.count(blobPath), 1);
    assert.match(await page.textContent('#status'), /Model v1 · trained \d{4}-\d\d-\d\d · [\d,]+ games/);

    // Type a partial title; suggestions appear; walk them with the arrow keys to the wanted game.
    const input = page.locator('#search-input');
    await input.click();
    await input.pressSequentially(query.partial, { delay: 20 });
    await page.waitForSelector('#suggestions [role=option]');
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    const options = await page.$$eval('#suggestions [role=option]', (lis) => lis.map((li) => ({ id: Number(li.dataset.id), text: li.textContent })));
    assert.ok(options.length > 0, `suggestions for "${query.partial}"`);
    let target = options.findIndex((o) => query.name && o.text.startsWith(query.name));
    if (target < 0) target = 0;
    for (let i = 0; i <= target; i++) await input.press('ArrowDown');
    assert.equal(await input.getAttribute('aria-activedescendant'), `suggestion-${target}`);
    await input.press('Enter');
    const picked = options[target].id;
    await page.waitForSelector(`#game[data-id="${picked}"]`);
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    assert.match(page.url(), new RegExp(`[?&]game=${picked}(&|$)`));

    // Recommendations equal the native engine's, in order.
    await page.waitForSelector('#recs > li');
    const shown = await recIds(page);
    const native = nativeRecommend(blob, picked, shown.length);
    assert.deepEqual(shown, native, 'browser and native CLI recommend the same games');
    const because = await page.$$eval('#recs .because', (ps) => ps.map((p) => p.textContent));
    assert.ok(because.every((b) => b.startsWith('because: ')), 'every recommendation says why');
    assert.ok(because.some((b) => b !== 'because: similar overall'), 'explain gives concrete reasons');
    assert.ok((await page.$$('#game .cover.placeholder')).length === 1, 'an unloadable cover falls back to a placeholder');

    await page.screenshot({ path: path.join(screenshots, 'site.png'), fullPage: true });

    // Filter by release year: every recommendation respects it, and the URL carries it.
    await page.click('#filters-box summary');
    const from = 2010;
    await page.fill('#f-from', String(from));
    await page.dispatchEvent('#f-from', 'change');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '2010');
    const filtered = await recIds(page);
    assert.ok(filtered.length > 0, 'the year filter leaves some recommendations');
    const years = await page.evaluate((ids) => ids.map((id) => window.playalike.game(id).year), filtered);
    assert.ok(years.every((y) => y >= from), `years ${years} all ≥ ${from}`);

    // Platform filter: PC (Windows), IGDB id 6.
    await page.selectOption('#f-platform', '6');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('platform') === '6');
    const onPc = await recIds(page);
    assert.ok(onPc.length > 0, 'the platform filter leaves some recommendations');
    const platforms = await page.evaluate((ids) => ids.map((id) => window.playalike.game(id).platforms), onPc);
    for (const p of platforms) {
      const ok = p.some((x) => x === 6 || x?.id === 6 || /PC \(Microsoft Windows\)|^PC/.test(typeof x === 'string' ? x : x?.name ?? ''));
      assert.ok(ok, `platforms ${JSON.stringify(p)} include PC`);
    }

    // Like the picked game and a recommendation: recommendations for the set.
    await page.click('#game .actions button');
    await page.click('#recs > li:first-child .like');

    await page.waitForSelector('#liked li:nth-child(2)');
    assert.match(page.url(), /liked=\d+(%2C|,)\d+/);
    assert.match(await page.textContent('#recs-heading'), /your 2 picks/);

    // Reload the shared URL: same view, the blob comes from the cache (only the pointer is fetched).
    await waitForCachedModel(page);
    const pointerBefore = server.count('/bucket/latest.json');
    const before = await recIds(page);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'cache');
    assert.equal(server.count(blobPath), 1, 'no second blob download');
    assert.equal(server.count('/bucket/latest.json'), pointerBefore + 1, 'the pointer is re-checked');
    assert.deepEqual(await recIds(page), before, 'the shared URL restores the same recommendations');
    assert.equal(await page.inputValue('#f-from'), '2010');

    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('a first visit shows the engine\'s popular games; picking one shows its recommendations', async (t2) => {
    const { page, errors } = await newPage(t2);
    await page.goto(site('model=/bucket/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.isVisible('#start-section'), true, 'something to start from before anything is typed');
    assert.equal(await page.isVisible('#recs-section'), false);
    const shown = await page.$$eval('#start > li', (lis) => lis.map((li) => Number(li.dataset.id)));
    assert.equal(shown.length, 12);
    assert.deepEqual(shown, nativePopular(blob, 12), 'the native engine\'s popular games, in order');
    // With a filter in the address, the list respects it.
    await page.goto(site('model=/bucket/latest.json&from=2015'));
    await page.waitForSelector('html[data-ready="true"]');
    const recent = await page.$$eval('#start > li', (lis) => lis.map((li) => Number(li.dataset.id)));
    assert.deepEqual(recent, nativePopular(blob, 12, { yearMin: 2015 }));
    assert.notDeepEqual(recent, shown);
    // Picking one: its card and recommendations, as a search pick gives, and the start list goes.
    await page.click('#start > li:first-child .rec-title');
    await page.waitForSelector(`#game[data-id="${recent[0]}"]`);
    await page.waitForSelector('#recs > li');
    assert.match(page.url(), new RegExp(`[?&]game=${recent[0]}(&|$)`));
    const recs = await recIds(page);
    assert.ok(recs.length > 0 && !recs.includes(recent[0]), 'recommendations for the picked game');
    const years = await page.evaluate((ids) => ids.map((id) => window.playalike.game(id).year), recs);
    assert.ok(years.every((y) => y >= 2015), 'the filter still applies');
    assert.equal(await page.isVisible('#start-section'), false);
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('the liked list survives a reload without liked= in the address, and clearing it is remembered too', async (t2) => {
    const { page, errors } = await newPage(t2);
    const id = query.id ?? nativePopular(blob, 1)[0];
    await page.goto(site(`model=/bucket/latest.json&game=${id}`));
    await page.waitForSelector('html[data-ready="true"]');
    await page.click('#game .actions button');
    await page.waitForSelector(`#liked li`);
    // A new visit to the bare address: the list comes back, and into the address.
    await page.goto(site('model=/bucket/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.isVisible('#liked-section'), true, 'the liked list is back');
    assert.equal(await page.locator('#liked li').count(), 1);
    assert.match(page.url(), new RegExp(`[?&]liked=${id}(&|$)`));
    assert.equal(await page.evaluate(() => localStorage.getItem('playalike:liked')), String(id));
    await page.waitForSelector('#recs > li'); // the liked game seeds recommendations
    await page.click('#clear-liked');
    await page.waitForSelector('#liked-section', { state: 'hidden' });
    await page.goto(site('model=/bucket/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.isVisible('#liked-section'), false, 'a cleared list stays cleared');
    assert.equal(await page.isVisible('#start-section'), true);
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('?lang=sv shows Swedish, the switch goes back to English, and a Swedish browser gets Swedish', async (t2) => {
    const { page, errors } = await newPage(t2);
    await page.goto(site('model=/bucket/latest.json&lang=sv'));
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'lang'), 'sv');
    assert.equal(await page.textContent('#search-label'), 'Hitta ett spel du gillar');
    assert.equal(await page.textContent('#start-heading'), 'Populära spel att börja med');
    assert.match(await page.textContent('#status'), /^Modell v1 · tränad \d{4}-\d\d-\d\d · [\d\u00a0]+ spel/);
    assert.equal(await page.getAttribute('#search-input', 'placeholder'), 't.ex. Witcher, Portal, Zelda…');
    assert.equal(await page.title(), 'playalike: spel som spelas likadant');
    // Pick a game: the card and the because lines are Swedish as well; the address keeps lang=sv.
    await page.click('#start > li:first-child .rec-title');
    await page.waitForSelector('#recs > li .because:not(:empty)');
    assert.match(await page.textContent('#recs-heading'), /^Spel som liknar /);
    assert.match(await page.textContent('#recs > li .because'), /^eftersom: /);
    assert.match(page.url(), /[?&]lang=sv(&|$)/);
    // The visible switch: to English, on the same view.
    assert.equal(await page.textContent('#lang-switch'), 'English');
    await page.click('#lang-switch');
    await page.waitForSelector('html[lang="en"][data-ready="true"]');
    assert.equal(await page.textContent('#search-label'), 'Find a game you like');
    assert.match(await page.textContent('#recs-heading'), /^Games like /);
    assert.equal(await page.textContent('#lang-switch'), 'Svenska');
    assert.deepEqual(errors, [], 'no console errors');

    const context = await browser.newContext({ locale: 'sv-SE' });
    t2.after(() => context.close());
    await routeCovers(context);
    const sv = await context.newPage();
    await sv.goto(site('model=/bucket/latest.json'));
    await sv.waitForSelector('html[data-ready="true"]');
    assert.equal(await sv.getAttribute('html', 'lang'), 'sv', 'chosen from the browser\'s language');
    assert.equal(await sv.textContent('#search-label'), 'Hitta ett spel du gillar');
  });

  await t.test('phone width', async (t2) => {
    const { page, errors } = await newPage(t2, { width: 390, height: 844 });
    const games = snapshot ? readSnapshotGames(snapshot) : [];
    const id = query.id ?? games[0]?.id;
    await page.goto(site(`model=/bucket/latest.json${id ? `&game=${id}` : ''}`));
    await page.waitForSelector('html[data-ready="true"]');
    if (id) await page.waitForSelector('#recs > li');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
    await page.screenshot({ path: path.join(screenshots, 'site-phone.png'), fullPage: false });
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('a shared ?game= link: one load shared by boot.js and app.js, because lines filled in, reload from the cache', async (t2) => {
    const { page, errors } = await newPage(t2);
    const id = query.id ?? (snapshot ? readSnapshotGames(snapshot)[0]?.id : undefined);
    const count = () => ({ pointer: server.count('/bucket/latest.json'), blob: server.count(blobPath), wasm: server.count('/pkg/playalike_bg.wasm') });
    const before = count();
    await page.goto(site(`model=/bucket/latest.json${id ? `&game=${id}` : ''}`));
    await page.waitForSelector('html[data-ready="true"]');
    const cold = count();
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'network');
    assert.equal(cold.pointer - before.pointer, 1, 'the pointer is requested once (the early load is adopted, not repeated)');
    assert.equal(cold.blob - before.blob, 1, 'the blob is requested once');
    assert.equal(cold.wasm - before.wasm, 1, 'the preloaded wasm is the one compiled (no second download)');
    assert.match(await page.textContent('#status'), /Model v1 · trained \d{4}-\d\d-\d\d · [\d,]+ games/);
    assert.equal(await page.isDisabled('#search-input'), false);
    if (id) {
      const because = await page.$$eval('#recs .because', (ps) => ps.map((p) => p.textContent));
      assert.ok(because.length > 0 && because.every((b) => b.startsWith('because: ')), 'the because lines are filled in once the page is ready');
    }

    const marks = () => page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name.replace('playalike:', '')));
    assert.ok((await marks()).includes('cache-skipped'), 'a first visit downloads without looking in the empty cache');

    await waitForCachedModel(page);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    const warm = count();
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'cache');
    assert.equal(warm.blob, cold.blob, 'no second blob download on reload');
    assert.equal(warm.pointer - cold.pointer, 1, 'the pointer is re-checked once');
    assert.ok((await marks()).includes('cache-checked') && !(await marks()).includes('cache-skipped'), 'a return visit looks in the cache');

    // The cache emptied behind the loader's back (the note still says "stored"): looked up, missed, downloaded.
    await page.evaluate(async () => Promise.all((await caches.keys()).map((name) => caches.delete(name))));
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'network');
    assert.equal(count().blob, warm.blob + 1, 'downloaded again');
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('the default model from <meta name="playalike-model">: its pointer is requested by the page\'s inline script, before boot.js runs, and adopted', async (t2) => {
    const { page, errors } = await newPage(t2);
    // The page's default pointer is latest.json beside it; here it names the bucket's blob.
    const pointer = JSON.parse(fs.readFileSync(path.join(bucket, 'latest.json'), 'utf8'));
    server.override('/latest.json', { status: 200, type: 'application/json', body: JSON.stringify({ ...pointer, url: blobPath }) });
    t2.after(() => server.clearOverrides());
    const before = server.count('/latest.json');
    await page.goto(`${server.url}/`);
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(server.count('/latest.json') - before, 1, 'the pointer is requested once');
    const timing = await page.evaluate(() => ({
      adopted: performance.getEntriesByName('playalike:pointer-adopted').length,
      pointer: performance.getEntriesByType('resource').find((e) => e.name.endsWith('/latest.json'))?.startTime,
      boot: performance.getEntriesByName('playalike:boot-started')[0]?.startTime,
    }));
    assert.equal(timing.adopted, 1, 'boot.js adopted the request the inline script made');
    assert.ok(timing.pointer < timing.boot, `the pointer was requested (${timing.pointer} ms) before boot.js ran (${timing.boot} ms)`);
    assert.match(await page.textContent('#status'), /Model v1 · /);
    assert.deepEqual(errors, [], 'no console errors');
  });

  // The same server under another name is another origin, as a stranger's bucket would be.
  const foreign = `http://localhost:${server.port}`;

  await t.test('a ?model= on another origin is refused with a message naming it, and never requested', async (t2) => {
    const { page, errors } = await newPage(t2);
    const before = server.count('/bucket/latest.json');
    await page.goto(site(`model=${encodeURIComponent(`${foreign}/bucket/latest.json`)}`));
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'foreign-origin');
    assert.equal(await page.textContent('#error-title'), 'A model from another site was refused');
    const message = await page.textContent('#error-message');
    assert.ok(message.includes(`refused the model at ${foreign}`), message);
    assert.match(message, /Remove \?model= from the address/);
    assert.equal(await page.getAttribute('html', 'data-ready'), null, 'no model was loaded');
    assert.equal(await page.evaluate(() => typeof window.playalike), 'undefined');
    // "Try again" refuses it again, still without a request.
    await page.click('#retry');
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'foreign-origin');
    assert.equal(server.count('/bucket/latest.json'), before, 'nothing was requested from the foreign origin');
    assert.deepEqual(errors, [], 'no console errors (no request was blocked by the CSP either)');
  });

  await t.test('a folder listed in index.html\'s playalike-model-origins (and its CSP) is allowed, and only it', async (t2) => {
    const { page, errors } = await newPage(t2);
    const html = fs.readFileSync(path.join(workDir, 'site', 'index.html'), 'utf8');
    // A folder on another origin, as a bucket on a shared host (storage.googleapis.com/BUCKET/).
    const listed = html
      .replace('<meta name="playalike-model-origins" content="">', `<meta name="playalike-model-origins" content="${foreign}/other">`)
      .replace("connect-src 'self'", `connect-src 'self' ${foreign}/other/`);
    assert.notEqual(listed, html);
    server.override('/listed.html', { status: 200, type: 'text/html', body: listed });
    t2.after(() => server.clearOverrides());
    await page.goto(`${server.url}/listed.html?model=${encodeURIComponent(`${foreign}/other/latest.json`)}`);
    await page.waitForSelector('html[data-ready="true"]');
    assert.match(await page.textContent('#status'), /Model v7 · /);
    // Another folder of the same origin is not listed: refused.
    const before = server.count('/bucket/latest.json');
    await page.goto(`${server.url}/listed.html?model=${encodeURIComponent(`${foreign}/bucket/latest.json`)}`);
    await page.waitForSelector('#error:not([hidden])');
    assert.equal(await page.getAttribute('#error', 'data-code'), 'foreign-origin');
    assert.equal(server.count('/bucket/latest.json'), before, 'nothing was requested from the unlisted folder');
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('trying another model never evicts the cached official one', async (t2) => {
    const { page, errors } = await newPage(t2);
    const pointer = JSON.parse(fs.readFileSync(path.join(bucket, 'latest.json'), 'utf8'));
    server.override('/latest.json', { status: 200, type: 'application/json', body: JSON.stringify({ ...pointer, url: blobPath }) });
    t2.after(() => server.clearOverrides());
    const cached = (name) => page.evaluate(async (n) => (await (await caches.open(n)).keys()).map((r) => r.url), name);
    const official = `https://playalike.invalid/sha256/${pointer.checksum}`;
    await page.goto(`${server.url}/`);
    await page.waitForSelector('html[data-ready="true"]');
    await waitForCachedModel(page);
    assert.deepEqual(await cached('playalike-models'), [official]);
    // Another (allowed) model: loaded and cached on its own, the official entry stays.
    await page.goto(site('model=/other/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    assert.match(await page.textContent('#status'), /Model v7 · /);
    const otherKey = `https://playalike.invalid/sha256/${otherPointer.checksum}`;
    // Wait until some cache holds just the other model (storing is not awaited by the load).
    await page.waitForFunction(async (key) => {
      for (const name of await caches.keys()) {
        const keys = (await (await caches.open(name)).keys()).map((r) => r.url);
        if (keys.length === 1 && keys[0] === key) return true;
      }
      return false;
    }, otherKey);
    assert.deepEqual(await cached('playalike-models'), [official], 'the official model is still cached');
    assert.deepEqual(await cached('playalike-models-other'), [otherKey]);
    // And the site's own model comes back from the cache.
    const blobs = server.count(blobPath);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'cache');
    assert.equal(server.count(blobPath), blobs, 'no second download of the official model');
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('axe-core finds no serious or critical accessibility violations (first visit, a game, Swedish)', async (t2) => {
    const { page, errors } = await newPage(t2);
    await page.goto(site('model=/bucket/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    await page.waitForSelector('#start > li');
    assert.deepEqual(await axeViolations(page), [], 'first visit');
    const id = query.id ?? nativePopular(blob, 1)[0];
    await page.goto(site(`model=/bucket/latest.json&game=${id}&lang=sv`));
    await page.waitForSelector('html[data-ready="true"]');
    await page.waitForSelector('#recs > li');
    await page.click('#filters-box summary');
    await page.locator('#search-input').pressSequentially(query.partial.slice(0, 3));
    await page.waitForSelector('#suggestions:not([hidden])');
    assert.deepEqual(await axeViolations(page), [], 'a game with recommendations, filters open, suggestions shown, in Swedish');
    // The check can fail: a control without a name is a critical violation.
    await page.evaluate(() => document.getElementById('search-label').remove());
    assert.ok((await axeViolations(page)).some((v) => v.includes('label')), 'axe reports an unlabelled input');
    assert.deepEqual(errors, [], 'no console errors');
  });

  await t.test('offline: a returning visitor gets the site, the engine and the model; a new model is picked up online', async (t2) => {
    const { context, page, errors } = await newPage(t2, undefined, 'allow');
    const id = query.id ?? nativePopular(blob, 1)[0];
    const url = site(`model=/offline/latest.json&game=${id}`);
    await page.goto(url);
    await page.waitForSelector('html[data-ready="true"][data-offline-ready="true"]');
    await waitForCachedModel(page);
    const online = await recIds(page);
    assert.ok(online.length > 0);
    // The worker cached the page's files at install, the page its pointer.
    await page.waitForFunction(async () => (await (await caches.open('playalike-site')).keys()).length >= 5);

    await context.setOffline(true);
    assert.equal(await page.evaluate(() => fetch('/offline/models/v1/model.bin').then(() => 'online', () => 'offline')), 'offline');
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'cache');
    assert.deepEqual(await recIds(page), online, 'the same recommendations, offline');
    assert.match(await page.textContent('#status'), /Model v1 · /);
    assert.equal(await page.isVisible('#error'), false);

    // Back online, a new model is published: the next visit shows it (the pointer is network-first).
    await context.setOffline(false);
    makeBucket(own, path.join(root, 'crates', 'engine', 'tests', 'data', 'format-1.0.bin'), { version: 2 });
    await page.goto(site('model=/offline/latest.json'));
    await page.waitForSelector('html[data-ready="true"]');
    // The new blob is the engine's 40-game test model (its own metadata says v7).
    assert.match(await page.textContent('#status'), /Model v7 · .* 40 games/);
    assert.equal(await page.getAttribute('html', 'data-model-source'), 'network');
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), [], 'no console errors');
  });

  // The model failure states (missing, corrupt, damaged, truncated, oversized, offline) are in
  // site-model-errors.test.mjs.

  if (process.env.PLAYALIKE_UPDATE_SCREENSHOT === '1') {
    fs.copyFileSync(path.join(screenshots, 'site.png'), path.join(root, 'docs', 'screenshot.png'));
  }
});
