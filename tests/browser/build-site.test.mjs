// scripts/build-site.sh: the deployable site is one bundled script plus the page, the stylesheet
// and the wasm; a build that fails leaves the previous site as it was.
// Run: node --test tests/browser/build-site.test.mjs   (needs pkg/ built by scripts/build-wasm.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root, workDir } from './harness.mjs';

const script = path.join(root, 'scripts', 'build-site.sh');
const build = (out, env = {}) => spawnSync(script, [out], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

test('build-site.sh bundles the page into one script beside the page, the stylesheet and the wasm', () => {
  const pkg = path.join(root, 'pkg');
  assert.ok(fs.existsSync(path.join(pkg, 'playalike_bg.wasm')), 'pkg/ is not built: run scripts/build-wasm.sh');
  const out = path.join(workDir, 'build-site-test');
  fs.rmSync(out, { recursive: true, force: true });
  const run = build(out);
  assert.equal(run.status, 0, run.stderr);
  const files = fs.readdirSync(out, { recursive: true }).sort();
  assert.deepEqual(files, ['index.html', 'main.js', 'main.js.map', 'pkg', 'pkg/playalike_bg.wasm', 'pkg/worker.js', 'pkg/worker.js.map', 'style.css', 'sw.js']);
  assert.equal(fs.readFileSync(path.join(out, 'sw.js'), 'utf8'), fs.readFileSync(path.join(root, 'web', 'sw.js'), 'utf8'));
  assert.deepEqual(fs.readFileSync(path.join(out, 'pkg', 'playalike_bg.wasm')), fs.readFileSync(path.join(pkg, 'playalike_bg.wasm')));
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.match(html, /<script type="module" async src="main.js"><\/script>/);
  assert.match(html, /<link rel="preload" href="pkg\/playalike_bg.wasm"/);
  const js = fs.readFileSync(path.join(out, 'main.js'), 'utf8');
  // Everything is inside: no import of another file is left (only the wasm is fetched, by URL).
  assert.doesNotMatch(js, /\bimport\s*\(?\s*["'`]\./, 'main.js still imports a module file');
  assert.doesNotMatch(js, /\bfrom\s*["'`]\./, 'main.js still imports a module file');
  for (const marker of ['playalike:boot-started', 'playalike:first-recs', 'playalike-models', 'pkg/playalike_bg.wasm']) {
    assert.ok(js.includes(marker), `main.js lacks ${marker}: not the whole page`);
  }
  assert.match(js, /\/\/# sourceMappingURL=main\.js\.map\s*$/);
  // The engine's worker (docs/decisions/515-worker-mode.md) is one file too, beside the wasm.
  const worker = fs.readFileSync(path.join(out, 'pkg', 'worker.js'), 'utf8');
  assert.doesNotMatch(worker, /\bimport\s*\(?\s*["'`]\./, 'pkg/worker.js still imports a module file');
  assert.doesNotMatch(worker, /\bfrom\s*["'`]\./, 'pkg/worker.js still imports a module file');
  for (const marker of ['worker-decoded', 'playalike-models', 'playalike_bg.wasm']) assert.ok(worker.includes(marker), `pkg/worker.js lacks ${marker}`);
  assert.ok(js.includes('pkg/worker.js'), 'main.js does not start the worker');
  // No build leftovers beside the output.
  assert.deepEqual(fs.readdirSync(workDir).filter((f) => f.startsWith('.build-site.')), []);
});

test('a failed build names what is missing and leaves the previous site untouched', () => {
  const out = path.join(workDir, 'build-site-keep');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'index.html'), 'the site that is live');
  const empty = fs.mkdtempSync(path.join(workDir, 'no-pkg-'));
  try {
    const run = build(out, { PLAYALIKE_PKG_DIR: empty });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no-pkg-[^/]+\/playalike_bg\.wasm is missing: build the package with scripts\/build-wasm\.sh/);
    assert.equal(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), 'the site that is live');
    assert.deepEqual(fs.readdirSync(out), ['index.html']);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
  // A package whose JS does not parse: the bundler fails after the build has started.
  const broken = fs.mkdtempSync(path.join(workDir, 'broken-pkg-'));
  try {
    for (const f of ['index.js', 'loader.js', 'events.js', 'playalike.js', 'playalike_bg.wasm', 'worker.js', 'worker-client.js']) fs.copyFileSync(path.join(root, 'pkg', f), path.join(broken, f));
    fs.appendFileSync(path.join(broken, 'loader.js'), '\nexport const = ;\n');
    const run = build(out, { PLAYALIKE_PKG_DIR: broken });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /loader\.js/);
    assert.equal(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), 'the site that is live');
    assert.deepEqual(fs.readdirSync(out), ['index.html']);
    assert.deepEqual(fs.readdirSync(workDir).filter((f) => f.startsWith('.build-site.')), [], 'the half-built site was removed');
  } finally {
    fs.rmSync(broken, { recursive: true, force: true });
  }
});

/** The page's Content-Security-Policy, directive → sources. */
function cspOf(html) {
  const m = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
  assert.ok(m, 'index.html has no Content-Security-Policy meta tag');
  return Object.fromEntries(m[1].split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k, v]));
}

test('index.html carries a tight Content-Security-Policy that matches its inline script and model origins', async () => {
  const { createHash } = await import('node:crypto');
  const html = fs.readFileSync(path.join(root, 'web', 'index.html'), 'utf8');
  const csp = cspOf(html);
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy comes before the first script');
  assert.deepEqual(csp['default-src'], ["'none'"]);
  assert.deepEqual(csp['base-uri'], ["'none'"]);
  assert.deepEqual(csp['style-src'], ["'self'"]);
  assert.ok(!JSON.stringify(csp).includes("'unsafe-inline'") && !JSON.stringify(csp).includes("'unsafe-eval'"), 'no unsafe-inline or unsafe-eval');
  // Every inline script is allowed by its hash, and nothing else is.
  const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
  assert.equal(inline.length, 1);
  assert.deepEqual(csp['script-src'].filter((s) => s.startsWith("'sha256-")), inline, 'the inline script changed: update its hash in the policy');
  assert.deepEqual(csp['script-src'].filter((s) => !s.startsWith("'sha256-")).sort(), ["'self'", "'wasm-unsafe-eval'"]);
  // The model origins the page allows are the ones the policy lets it fetch from.
  const listed = html.match(/<meta name="playalike-model-origins" content="([^"]*)">/);
  assert.ok(listed, 'index.html lists no playalike-model-origins');
  const model = html.match(/<meta name="playalike-model" content="([^"]*)">/)[1];
  const places = [/^https?:/.test(model) ? new URL('.', model).href : '', ...listed[1].split(/\s+/)].filter((u) => /^https?:/.test(u));
  for (const p of places) {
    assert.ok(csp['connect-src'].some((src) => /^https?:/.test(src) && p.startsWith(src)), `${p} is an allowed model place but not in connect-src`);
  }
  assert.ok(csp['connect-src'].includes("'self'"));
  // The service worker (sw.js, same origin) is allowed: worker-src falls back to script-src.
  assert.ok((csp['worker-src'] ?? csp['script-src']).includes("'self'"), 'the policy lets the page register sw.js');
});
