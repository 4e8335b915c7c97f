// The npm package as it would be published: `npm pack --dry-run` in pkg/ lists the README, both
// licence texts and every file the package needs, and package.json carries the metadata a
// registry page and a host app rely on (engines, repository, keywords, the ./package.json export).
// Needs: scripts/build-wasm.sh run (it writes pkg/package.json and copies the licences).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzippedSize, WASM_GZIP_BUDGET } from '../../scripts/wasm-size.mjs';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg');

test('npm pack --dry-run lists README, LICENSE files and the whole package', () => {
  assert.ok(existsSync(path.join(pkgDir, 'package.json')), 'pkg/ is not built: run scripts/build-wasm.sh');
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: pkgDir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' },
  });
  assert.equal(run.status, 0, `npm pack failed: ${run.stderr}`);
  const [report] = JSON.parse(run.stdout);
  const files = report.files.map((f) => f.path).sort();
  for (const want of ['README.md', 'LICENSE-MIT', 'LICENSE-APACHE', 'package.json', 'index.js', 'index.d.ts',
    'loader.js', 'loader.d.ts', 'limits.js', 'events.js', 'events.d.ts', 'playalike.js', 'playalike.d.ts', 'playalike_bg.wasm', 'playalike_bg.wasm.d.ts', 'worker.js', 'worker-client.js', 'worker-client.d.ts']) {
    assert.ok(files.includes(want), `${want} is not in the package: ${files.join(', ')}`);
  }
  // Nothing else slips in (tests, sources, stray build output).
  assert.equal(files.length, 18, `unexpected files in the package: ${files.join(', ')}`);
  const readme = readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
  assert.match(readme, /Recommender\.load/);
  assert.match(readFileSync(path.join(pkgDir, 'LICENSE-MIT'), 'utf8'), /^MIT License/);
  assert.match(readFileSync(path.join(pkgDir, 'LICENSE-APACHE'), 'utf8'), /Apache License\s+Version 2\.0/);
});

test('package.json declares engines, repository, keywords and exports ./package.json', () => {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'playalike');
  assert.equal(pkg.license, 'MIT OR Apache-2.0');
  assert.equal(pkg.engines?.node, '>=20.16');
  assert.match(pkg.repository?.url ?? '', /^git\+https:\/\/github\.com\/.+\.git$/);
  assert.equal(pkg.repository?.directory, 'pkg');
  assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.includes('wasm'), `keywords: ${pkg.keywords}`);
  assert.equal(pkg.exports['./package.json'], './package.json');
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', default: './index.js' });
  // The worker mode (docs/decisions/515-worker-mode.md): `import { RecommenderWorker } from 'playalike/worker'`.
  assert.deepEqual(pkg.exports['./worker'], { types: './worker-client.d.ts', default: './worker-client.js' });
  // Every entry of `files` exists, so the list cannot drift from what the build writes.
  for (const f of pkg.files) assert.ok(existsSync(path.join(pkgDir, f)), `files lists ${f}, which is missing`);
  // The running Node satisfies the declared range (the suite runs on what the package claims).
  const [major, minor] = process.versions.node.split('.').map(Number);
  assert.ok(major > 20 || (major === 20 && minor >= 16), `Node ${process.versions.node} is below engines.node`);
});

// The .wasm size budget (issue 16), by the one measure the build log and bench/engine.md report:
// Node's zlib at level 9 (scripts/wasm-size.mjs; docs/decisions/517).
test('pkg/playalike_bg.wasm gzipped (Node zlib level 9) stays within the 150,000-byte budget', () => {
  const file = path.join(pkgDir, 'playalike_bg.wasm');
  assert.ok(existsSync(file), 'pkg/ is not built: run scripts/build-wasm.sh');
  const bytes = readFileSync(file);
  const gz = gzippedSize(bytes);
  assert.ok(
    gz <= WASM_GZIP_BUDGET,
    `pkg/playalike_bg.wasm is ${gz} bytes gzipped (Node zlib level 9; ${bytes.length} raw), over the ${WASM_GZIP_BUDGET}-byte budget`,
  );
});
