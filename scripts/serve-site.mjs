#!/usr/bin/env node
// Serves the site for development: web/ at /, pkg/ at /pkg/, and optionally a bucket folder
// (latest.json + models/vN/model.bin, e.g. one written by `playalike publish --bucket file://DIR`)
// at /bucket/. Prints the URL to open.
// Usage: node scripts/serve-site.mjs [--bucket DIR] [--port N]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/browser/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const mounts = { '/': path.join(root, 'web'), '/pkg/': path.join(root, 'pkg') };
const bucket = opt('--bucket');
if (bucket) mounts['/bucket/'] = path.resolve(bucket);
const server = await startServer(mounts, { port: Number(opt('--port') ?? 0), log: args.includes('--log') });
const model = bucket ? '?model=/bucket/latest.json' : '';
console.log(`playalike site: ${server.url}/${model}`);
