// Smoke test of the Next.js example (TypeScript, App Router), built both ways the example claims:
// `next build --webpack` and `next build` (Turbopack), each type-checked against the package's
// .d.ts by the build and then started with `next start`. In headless Chromium, for each: search
// through the combobox with the keyboard (roles and states checked), pick, compare the
// recommendations with the native CLI, leave the page (the model is freed on unmount) and come
// back. The model is served from a separate loopback server (cross-origin, as from a bucket).
// Run: node --test tests/browser/next.test.mjs   (needs pkg/ built and web/next/node_modules)
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { startServer } from './server.mjs';
import { root, workDir, testModel, makeBucket, nativeRecommend, chooseQuery, launchBrowser, watchConsole } from './harness.mjs';

const app = path.join(root, 'web', 'next');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitForHttp(url, child, timeoutMs = 60_000) {
  const start = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() - start > timeoutMs) throw new Error(`next start did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `npm run <script>` in the app; fails the test with the build's output. */
function build(script) {
  const run = spawnSync('npm', ['run', script], { cwd: app, env, encoding: 'utf8' });
  assert.equal(run.status, 0, `npm run ${script} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** `next start` on a free port; stopped when the test ends. */
async function start(t) {
  const port = await freePort();
  const child = spawn(path.join(app, 'node_modules', '.bin', 'next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  t.after(stop);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(base, child);
  return { base, stop };
}

/** The combobox's state as a screen reader sees it. */
async function combobox(page) {
  return page.$eval('#q', (input) => {
    const list = document.getElementById(input.getAttribute('aria-controls') ?? '');
    const activeId = input.getAttribute('aria-activedescendant');
    const active = activeId ? document.getElementById(activeId) : null;
    return {
      role: input.getAttribute('role'),
      expanded: input.getAttribute('aria-expanded'),
      listRole: list?.getAttribute('role') ?? null,
      listVisible: !!list && !list.hidden,
      options: list ? [...list.querySelectorAll('[role=option]')].map((o) => Number(o.dataset.id)) : [],
      active: active ? { id: Number(active.dataset.id), role: active.getAttribute('role'), selected: active.getAttribute('aria-selected') } : null,
      selected: list ? [...list.querySelectorAll('[aria-selected=true]')].length : 0,
    };
  });
}

/** Loads the app on `base`, searches and picks by keyboard, compares with the CLI, leaves and returns. */
async function exercise(browser, base, models, blob, snapshot, label) {
  // Server rendering does not touch the model: the HTML is the loading shell.
  const html = await (await fetch(base)).text();
  assert.match(html, /Loading the model/);

  const page = await browser.newPage();
  const errors = watchConsole(page);
  await page.goto(`${base}/?model=${encodeURIComponent(`${models.url}/latest.json`)}`);
  await page.waitForSelector('[data-testid=ready]');

  // Closed combobox: the roles are there, nothing is expanded or active.
  let box = await combobox(page);
  assert.deepEqual(
    { role: box.role, expanded: box.expanded, listRole: box.listRole, listVisible: box.listVisible, active: box.active },
    { role: 'combobox', expanded: 'false', listRole: 'listbox', listVisible: false, active: null },
    `${label}: closed combobox`,
  );

  const query = snapshot ? chooseQuery(snapshot) : { partial: 'the', name: null };
  await page.locator('#q').pressSequentially(query.partial, { delay: 20 });
  await page.waitForSelector('[role=listbox] [role=option]');
  box = await combobox(page);
  assert.equal(box.expanded, 'true', `${label}: typing opens the list`);
  assert.equal(box.listVisible, true);
  assert.equal(box.active, null, `${label}: nothing highlighted before an arrow key`);
  const names = await page.$$eval('[role=listbox] [role=option]', (os) => os.map((o) => o.textContent ?? ''));
  const index = Math.max(0, names.findIndex((n) => query.name && n.startsWith(query.name)));
  const chosen = box.options[index];

  // ↓ highlights the first option, ↓ the next, ↑ goes back; exactly one option is selected.
  await page.keyboard.press('ArrowDown');
  box = await combobox(page);
  assert.deepEqual(box.active, { id: box.options[0], role: 'option', selected: 'true' }, `${label}: ↓ highlights the first option`);
  assert.equal(box.selected, 1);
  if (box.options.length > 1) {
    await page.keyboard.press('ArrowDown');
    assert.equal((await combobox(page)).active?.id, box.options[1], `${label}: ↓ moves down`);
    await page.keyboard.press('ArrowUp');
    assert.equal((await combobox(page)).active?.id, box.options[0], `${label}: ↑ moves up`);
  }
  // Escape closes the list and keeps the text; ↓ opens it again on the first option.
  await page.keyboard.press('Escape');
  box = await combobox(page);
  assert.deepEqual({ expanded: box.expanded, listVisible: box.listVisible, active: box.active }, { expanded: 'false', listVisible: false, active: null }, `${label}: Escape closes`);
  assert.equal(await page.inputValue('#q'), query.partial);
  await page.keyboard.press('ArrowDown');
  assert.equal((await combobox(page)).active?.id, box.options[0], `${label}: ↓ reopens on the first option`);
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
  assert.equal((await combobox(page)).active?.id, chosen);
  // Enter picks the highlighted option.
  await page.keyboard.press('Enter');
  await page.waitForSelector(`[data-testid=game][data-id="${chosen}"]`);
  box = await combobox(page);
  assert.equal(box.expanded, 'false', `${label}: picking closes the list`);
  assert.equal(await page.inputValue('#q'), '');
  await page.waitForSelector('.recs li');
  const shown = await page.$$eval('.recs li', (lis) => lis.map((li) => Number(li.dataset.id)));
  assert.deepEqual(shown, nativeRecommend(blob, chosen, shown.length), `${label}: Next.js page and native CLI agree`);
  fs.mkdirSync(path.join(root, 'target', 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'target', 'screenshots', `next-${label}.png`), fullPage: true });

  // Leaving the page unmounts the recommender, which frees the model's wasm memory: the instance
  // the page held answers no more. Coming back loads the model again.
  const held = await page.evaluateHandle(() => window.playalike);
  assert.equal(await held.evaluate((r) => typeof r?.search), 'function', `${label}: the page exposes its model`);
  await page.click('a[href="/about"]');
  await page.waitForSelector('[data-testid=about]');
  assert.equal(await page.evaluate(() => window.playalike), undefined);
  const afterFree = await held.evaluate((r) => {
    try {
      r.search('a', { k: 1 });
      return 'still usable';
    } catch (e) {
      return `threw: ${e && e.message}`;
    }
  });
  assert.match(afterFree, /^threw/, `${label}: the model was not freed on unmount`);
  // Back (client-side, as a visitor would): the model is loaded again and answers.
  await page.goBack();
  await page.waitForSelector('[data-testid=ready]');
  await page.locator('#q').pressSequentially(query.partial, { delay: 20 });
  await page.waitForSelector('[role=listbox] [role=option]');
  assert.deepEqual(errors, [], `${label}: no console errors`);
  await page.close();
}

test('Next.js example: next build --webpack and next build (Turbopack), start, search with the keyboard, recommend, free on unmount', async (t) => {
  assert.ok(fs.existsSync(path.join(app, 'node_modules', 'next')), 'web/next/node_modules is missing: run npm ci in web/next');
  const { blob, snapshot } = testModel();
  const bucket = path.join(workDir, 'bucket-next');
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob);
  const models = await startServer({ '/': bucket });
  t.after(() => models.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());

  // Both builds write .next: build, start and test one, then the other.
  const webpackOut = build('build:webpack');
  assert.match(webpackOut, /Next\.js [\d.]+ \(webpack\)/, 'built with webpack');
  const webpack = await start(t);
  await exercise(browser, webpack.base, models, blob, snapshot, 'webpack');
  webpack.stop();

  const turbopackOut = build('build');
  assert.match(turbopackOut, /Next\.js [\d.]+ \(Turbopack\)/, 'built with Turbopack');
  const turbopack = await start(t);
  await exercise(browser, turbopack.base, models, blob, snapshot, 'turbopack');
});
