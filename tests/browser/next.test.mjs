// Smoke test of the Next.js example: `next build && next start`, then search, pick and compare
// the recommendations with the native CLI, in headless Chromium. The model is served from a
// separate loopback server (cross-origin, as from a bucket).
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

test('Next.js example: build, start, search and recommend', async (t) => {
  assert.ok(fs.existsSync(path.join(app, 'node_modules', 'next')), 'web/next/node_modules is missing: run npm ci in web/next');
  const build = spawnSync('npm', ['run', 'build'], { cwd: app, env, encoding: 'utf8' });
  assert.equal(build.status, 0, `next build failed:\n${build.stdout}\n${build.stderr}`);

  const { blob, snapshot } = testModel();
  const bucket = path.join(workDir, 'bucket-next');
  fs.rmSync(bucket, { recursive: true, force: true });
  makeBucket(bucket, blob);
  const models = await startServer({ '/': bucket });
  t.after(() => models.close());

  const port = await freePort();
  const child = spawn(path.join(app, 'node_modules', '.bin', 'next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  t.after(() => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(base, child);

  // Server rendering does not touch the model: the HTML is the loading shell.
  const html = await (await fetch(base)).text();
  assert.match(html, /Loading the model/);

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = watchConsole(page);
  await page.goto(`${base}/?model=${encodeURIComponent(`${models.url}/latest.json`)}`);
  await page.waitForSelector('[data-testid=ready]');

  const query = snapshot ? chooseQuery(snapshot) : { partial: 'the', name: null };
  await page.locator('#q').pressSequentially(query.partial, { delay: 20 });
  await page.waitForSelector('.suggestions button');
  const options = await page.$$eval('.suggestions button', (bs) => bs.map((b) => ({ id: Number(b.dataset.id), text: b.textContent })));
  const chosen = options.find((o) => query.name && o.text.startsWith(query.name)) ?? options[0];
  await page.click(`.suggestions button[data-id="${chosen.id}"]`);
  await page.waitForSelector(`[data-testid=game][data-id="${chosen.id}"]`);
  await page.waitForSelector('.recs li');
  const shown = await page.$$eval('.recs li', (lis) => lis.map((li) => Number(li.dataset.id)));
  assert.deepEqual(shown, nativeRecommend(blob, chosen.id, shown.length), 'Next.js page and native CLI agree');
  fs.mkdirSync(path.join(root, 'target', 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'target', 'screenshots', 'next.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no console errors');
});
