#!/usr/bin/env node
// Serves the site for development. By default it builds the site as it ships
// (scripts/build-site.sh into target/site-dev: the bundled main.js) and serves that; with
// --source it serves the unbundled sources instead (web/ at /, pkg/ at /pkg/), so an edit shows
// on reload without a rebuild. Optionally a bucket folder (latest.json + models/vN/model.bin,
// e.g. one written by `playalike publish --bucket file://DIR`) at /bucket/. Prints the URL to open.
// Usage: node scripts/serve-site.mjs [--bucket DIR] [--port N] [--source] [--log]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from '../tests/browser/server.mjs';
import { buildSite } from '../tests/browser/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    bucket: { type: 'string' },
    port: { type: 'string', default: '0' },
    source: { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
  },
});
const pkg = path.join(root, 'pkg');
const mounts = opts.source ? { '/': path.join(root, 'web'), '/pkg/': pkg } : { '/': buildSite(pkg, path.join(root, 'target', 'site-dev')) };
if (opts.bucket) mounts['/bucket/'] = path.resolve(opts.bucket);
const server = await startServer(mounts, { port: Number(opts.port), log: opts.log });
const model = opts.bucket ? '?model=/bucket/latest.json' : '';
console.log(`playalike site${opts.source ? ' (sources, unbundled)' : ` (built into ${path.relative(root, mounts['/'])})`}: ${server.url}/${model}`);
