// Unit tests of pkg/loader.js under Node: pointer parsing, verification, cache, error messages.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startServer } from './server.mjs';
import { fetchModelBytes, loadWith, parsePointer, resolveSource, sha256Hex, ModelLoadError, MAX_MODEL_BYTES, POINTER_SCHEMA } from '../../pkg/loader.js';
import { initSync, maxModelBytes } from '../../pkg/playalike.js';
import { Recommender } from '../../pkg/index.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** An in-memory stand-in for a Cache API cache. */
function memoryCache() {
  const m = new Map();
  return {
    map: m,
    match: async (k) => (m.has(k) ? new Response(m.get(k)) : undefined),
    put: async (k, res) => m.set(k, new Uint8Array(await res.arrayBuffer())),
    delete: async (k) => m.delete(typeof k === 'string' ? k : k.url),
    keys: async () => [...m.keys()],
  };
}

async function fixture(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'playalike-loader-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const blob = new Uint8Array(300_000).map((_, i) => (i * 7) & 255);
  fs.mkdirSync(path.join(dir, 'models/v3'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models/v3/model.bin'), blob);
  const pointer = { schema: 1, version: 3, url: 'models/v3/model.bin', checksum: sha(blob), size: blob.length, createdAt: '2026-11-29T00:00:00Z', games: 4000 };
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(pointer));
  const server = await startServer({ '/': dir });
  t.after(() => server.close());
  return { dir, blob, pointer, server };
}

test('parsePointer reads the documented keys of latest.json and resolves the blob relative to the pointer', () => {
  const hex = 'ab'.repeat(32);
  // The publisher's latest.json (docs/decisions/401-bucket-layout.md).
  const c = parsePointer({
    schema: 1, version: 3, url: 'models/v3/model.bin', absoluteUrl: 'https://storage.googleapis.com/b/models/v3/model.bin',
    metadataUrl: 'models/v3/metadata.json', checksum: hex, size: 99, encoding: 'gzip', formatVersion: '0.1',
    createdAt: '2026-01-01T00:00:00Z', publishedAt: 'x', updatedAt: 'y', games: 10, metrics: { 'recall@10': 0.5 },
  }, 'http://127.0.0.1:9000/bucket/latest.json');
  assert.equal(c.blobUrl, 'http://127.0.0.1:9000/bucket/models/v3/model.bin', 'the relative url wins: works from any host');
  assert.equal(c.schema, 1);
  assert.equal(c.version, 3);
  assert.equal(c.checksum, hex);
  assert.equal(c.size, 99);
  assert.equal(c.createdAt, '2026-01-01T00:00:00Z');
  assert.equal(c.formatVersion, '0.1');
  assert.deepEqual(c.metrics, { 'recall@10': 0.5 });
  const base = { schema: 1, url: 'm.bin', checksum: hex, size: 5 };
  const { url, ...noUrl } = base;
  assert.equal(url, 'm.bin');
  assert.equal(parsePointer({ ...noUrl, absoluteUrl: 'https://cdn.example/m.bin' }, 'https://b.example/latest.json').blobUrl, 'https://cdn.example/m.bin');
  assert.equal(parsePointer({ ...base, futureKey: 1 }, 'https://b.example/latest.json').size, 5, 'unknown keys are ignored');

  const badPointer = (raw, re) => assert.throws(() => parsePointer(raw, 'https://b.example/latest.json'), (e) => {
    assert.ok(e instanceof ModelLoadError);
    assert.equal(e.code, 'bad-pointer');
    assert.match(e.message, re);
    return true;
  });
  badPointer({ version: 1 }, /no valid "schema" \(expected 1, found none\)/);
  badPointer({ ...base, schema: '1' }, /no valid "schema"/);
  badPointer({ ...noUrl }, /does not name a model file \(no "url"\)/);
  badPointer({ ...base, checksum: 'nothex' }, /no valid "checksum"/);
  badPointer({ ...base, checksum: hex.toUpperCase() }, /lowercase hex/);
  badPointer({ ...base, size: '10' }, /no valid "size" \(a byte count is required, found "10"\)/);
  badPointer([], /not a JSON object/);
  // The spellings the lax reader used to accept are not the layout's keys: refused, not guessed.
  badPointer({ schema: 1, blob_url: 'm.bin', checksum: hex, size: 5 }, /no "url"/);
  badPointer({ schema: 1, url: 'm.bin', sha256: hex, size: 5 }, /no valid "checksum"/);
  badPointer({ schema: 1, url: 'm.bin', checksum: `sha256:${hex}`, size: 5 }, /no valid "checksum"/);
  badPointer({ schema: 1, url: 'm.bin', checksum: hex, size_bytes: 5 }, /no valid "size"/);
  // A newer schema: a clear message that names it.
  assert.equal(POINTER_SCHEMA, 1);
  assert.throws(() => parsePointer({ ...base, schema: 2 }, 'https://b.example/latest.json'), (e) => {
    assert.equal(e.code, 'unsupported-format');
    assert.match(e.message, /uses schema 2, newer than this page reads \(1\)\. Update the page or the package\./);
    return true;
  });
});

test('MAX_MODEL_BYTES is the engine\'s own limit (maxModelBytes() of the built wasm, not a copy)', () => {
  const wasm = fs.readFileSync(new URL('../../pkg/playalike_bg.wasm', import.meta.url));
  initSync({ module: wasm });
  assert.equal(MAX_MODEL_BYTES, maxModelBytes());
  // format::MAX_BLOB: the 24-byte header and the 1 GiB payload limit.
  assert.equal(MAX_MODEL_BYTES, 2 ** 30 + 24);
});

test('a pointer claiming a giant size costs no memory before the bytes arrive', async (t) => {
  const { blob, pointer, server } = await fixture(t);
  // Under the limit, so the loader does download: about 1 GiB announced, 300 KB served.
  const claimed = MAX_MODEL_BYTES - 1;
  server.override('/latest.json', { body: JSON.stringify({ ...pointer, size: claimed }), type: 'application/json' });
  let largest = 0;
  const onProgress = () => {
    largest = Math.max(largest, process.memoryUsage().arrayBuffers);
  };
  const before = process.memoryUsage().arrayBuffers;
  await assert.rejects(fetchModelBytes(`${server.url}/latest.json`, { cache: false, onProgress }), (e) => {
    assert.equal(e.code, 'size-mismatch');
    assert.match(e.message, new RegExp(`expected ${claimed} bytes, got ${blob.length}`));
    return true;
  });
  assert.ok(largest > 0, 'progress was reported while downloading');
  assert.ok(largest - before < 64 << 20, `buffers grew by ${largest - before} bytes for a ${blob.length}-byte download`);
});

test('no WebCrypto: the load fails with a clear error instead of skipping the checksum', async (t) => {
  const { server } = await fixture(t);
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  t.after(() => Object.defineProperty(globalThis, 'crypto', saved));
  assert.equal(globalThis.crypto, undefined);
  const cache = memoryCache();
  await assert.rejects(fetchModelBytes(`${server.url}/latest.json`, { cache }), (e) => {
    assert.ok(e instanceof ModelLoadError);
    assert.equal(e.code, 'insecure-context');
    assert.match(e.message, /cannot verify the model's SHA-256 checksum: the browser offers no WebCrypto/);
    return true;
  });
  await assert.rejects(sha256Hex(new Uint8Array(3)), (e) => e.code === 'insecure-context');
  assert.equal(cache.map.size, 0, 'nothing unverified was cached');
});

test('resolveSource tells pointers from blobs', () => {
  const base = 'https://site.example/app/';
  assert.deepEqual(resolveSource('latest.json', base), { kind: 'pointer', url: 'https://site.example/app/latest.json' });
  assert.deepEqual(resolveSource('/m/model.bin?x=1', base), { kind: 'blob', url: 'https://site.example/m/model.bin?x=1' });
  assert.deepEqual(resolveSource({ latestUrl: 'https://b.example/p' }, base), { kind: 'pointer', url: 'https://b.example/p' });
  assert.deepEqual(resolveSource({ url: 'x.bin' }, base), { kind: 'blob', url: 'https://site.example/app/x.bin' });
  assert.throws(() => resolveSource('', base), /No model URL/);
});

test('loads through the pointer with progress, verifies, caches, and reloads from the cache', async (t) => {
  const { blob, pointer, server } = await fixture(t);
  const cache = memoryCache();
  const progress = [];
  const got = await fetchModelBytes({ latestUrl: `${server.url}/latest.json` }, { cache, onProgress: (p) => progress.push(p) });
  assert.equal(got.fromCache, false);
  assert.deepEqual(got.bytes, blob);
  assert.equal(got.checksum, pointer.checksum);
  assert.equal(got.pointer.version, 3);
  assert.equal(got.blobUrl, `${server.url}/models/v3/model.bin`);
  assert.ok(progress.length >= 2, 'progress reported more than once');
  assert.deepEqual(progress.at(-1), { loaded: blob.length, total: blob.length });
  assert.ok(progress.every((p, i) => i === 0 || p.loaded >= progress[i - 1].loaded), 'progress is monotonic');
  assert.equal(server.count('/models/v3/model.bin'), 1);
  await got.stored;
  assert.equal(cache.map.size, 1);

  const again = await fetchModelBytes(`${server.url}/latest.json`, { cache });
  assert.equal(again.fromCache, true);
  assert.deepEqual(again.bytes, blob);
  assert.equal(server.count('/latest.json'), 2, 'the pointer is fetched every time');
  assert.equal(server.count('/models/v3/model.bin'), 1, 'the blob is not fetched again');
});

test('the blob is stored in the cache after it is decoded, not before', async (t) => {
  const { blob, server } = await fixture(t);
  const cache = memoryCache();
  const events = [];
  const put = cache.put;
  cache.put = (k, res) => {
    events.push('put');
    return put(k, res);
  };
  const model = await loadWith(`${server.url}/latest.json`, { cache }, (bytes) => {
    events.push('decode');
    return { n: bytes.length };
  });
  assert.equal(model.n, blob.length);
  while (cache.map.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(events, ['decode', 'put']);
  assert.equal(cache.map.size, 1);
  assert.equal((await fetchModelBytes(`${server.url}/latest.json`, { cache })).fromCache, true);
  assert.equal(server.count('/models/v3/model.bin'), 1, 'still exactly one blob download');
});

test('a corrupted cache entry is dropped and the blob downloaded again', async (t) => {
  const { pointer, server } = await fixture(t);
  const cache = memoryCache();
  cache.map.set(`https://playalike.invalid/sha256/${pointer.checksum}`, new Uint8Array([1, 2, 3]));
  const got = await fetchModelBytes(`${server.url}/latest.json`, { cache });
  assert.equal(got.fromCache, false);
  assert.equal(server.count('/models/v3/model.bin'), 1);
});

test('a new model replaces the old one in the cache', async (t) => {
  const { dir, server } = await fixture(t);
  const cache = memoryCache();
  await (await fetchModelBytes(`${server.url}/latest.json`, { cache })).stored;
  const blob2 = new Uint8Array([9, 8, 7]);
  fs.mkdirSync(path.join(dir, 'models/v4'));
  fs.writeFileSync(path.join(dir, 'models/v4/model.bin'), blob2);
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify({ schema: 1, version: 4, url: 'models/v4/model.bin', checksum: sha(blob2), size: 3 }));
  const got = await fetchModelBytes(`${server.url}/latest.json`, { cache });
  await got.stored;
  assert.deepEqual(got.bytes, blob2);
  assert.deepEqual([...cache.map.keys()], [`https://playalike.invalid/sha256/${sha(blob2)}`]);
});

test('a blob URL loads directly without pointer or cache', async (t) => {
  const { blob, server } = await fixture(t);
  const got = await fetchModelBytes(`${server.url}/models/v3/model.bin`, { cache: memoryCache() });
  assert.deepEqual(got.bytes, blob);
  assert.equal(got.pointer, undefined);
  assert.equal(server.count('/latest.json'), 0);
});

test('failures reject with page-ready messages and codes', async (t) => {
  const { blob, pointer, server } = await fixture(t);
  const url = `${server.url}/latest.json`;
  const rejects = (p, code, re) => assert.rejects(p, (e) => {
    assert.ok(e instanceof ModelLoadError && e instanceof Error);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });

  await rejects(fetchModelBytes(`${server.url}/missing/latest.json`, { cache: false }), 'not-found', /No model is published at .*missing\/latest\.json \(HTTP 404\)/);

  server.override('/latest.json', { status: 500 });
  await rejects(fetchModelBytes(url, { cache: false }), 'http', /HTTP 500/);

  server.override('/latest.json', { status: 200, body: '<html>' });
  await rejects(fetchModelBytes(url, { cache: false }), 'bad-pointer', /not valid JSON/);

  server.clearOverrides();
  const corrupt = blob.slice();
  corrupt[1000] ^= 0xff;
  server.override('/models/v3/model.bin', { body: corrupt });
  await rejects(fetchModelBytes(url, { cache: memoryCache() }), 'checksum-mismatch', /corrupt: its SHA-256 checksum does not match/);

  server.override('/models/v3/model.bin', { body: blob.slice(0, 100) });
  await rejects(fetchModelBytes(url, { cache: false }), 'size-mismatch', new RegExp(`expected ${pointer.size} bytes, got 100`));

  // Oversized: a body longer than the pointer says is refused as soon as it runs past the size.
  server.override('/models/v3/model.bin', { body: Buffer.concat([Buffer.from(blob), Buffer.alloc(4 << 20)]) });
  await rejects(fetchModelBytes(url, { cache: false }), 'size-mismatch', new RegExp(`larger than published: expected ${pointer.size} bytes`));

  // A pointer announcing more than any model can be: refused before the blob is requested.
  server.clearOverrides();
  server.override('/latest.json', { body: JSON.stringify({ ...pointer, size: 5e9 }), type: 'application/json' });
  const blobRequests = server.count('/models/v3/model.bin');
  await rejects(fetchModelBytes(url, { cache: false }), 'too-large', new RegExp(`announces a model of 5000000000 bytes, more than the ${MAX_MODEL_BYTES}`));
  assert.equal(server.count('/models/v3/model.bin'), blobRequests, 'no download started');

  server.clearOverrides();
  await rejects(fetchModelBytes('http://127.0.0.1:9/latest.json', { cache: false }), 'network', /Could not reach the model pointer/);
});

test('loadWith decodes, maps engine errors and attaches the source', async (t) => {
  const { server, pointer } = await fixture(t);
  const url = `${server.url}/latest.json`;
  const model = await loadWith(url, { cache: false }, (bytes) => ({ n: bytes.length }));
  assert.equal(model.n, pointer.size);
  assert.equal(model.source.checksum, pointer.checksum);
  assert.equal(model.source.fromCache, false);
  // By the engine error's code (EngineErrorCode), never by its English message.
  const engineError = (message, code) => Object.assign(new Error(message), { code });
  const mapped = async (thrown, code, message) => {
    await assert.rejects(loadWith(url, { cache: false }, () => { throw thrown; }), (e) => {
      assert.ok(e instanceof ModelLoadError);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.equal(e.cause, thrown, 'the engine error is the cause');
      return true;
    });
  };
  await mapped(engineError('model blob format 9.0 is newer than this engine supports (1.x); update playalike', 'unsupported_version'), 'unsupported-format', /uses a newer format than this version of playalike reads .*Update the page/);
  await mapped(engineError('model blob format 0.1 is older than this engine reads (1.x)', 'obsolete_version'), 'unsupported-format', /uses an older format .*must be rebuilt/);
  await mapped(engineError('model blob is refused: decoding it would need 9 bytes', 'too_large'), 'too-large', /too large to decode here/);
  for (const code of ['truncated', 'bad_magic', 'checksum_mismatch', 'malformed']) {
    await mapped(engineError('model blob is malformed: x', code), 'corrupt', /damaged and could not be read/);
  }
  // A message that reads like a version problem but carries no such code is not guessed at.
  await mapped(new Error('unsupported format version 9.0 (this engine reads 0.x)'), 'corrupt', /damaged/);
});

test('the real engine\'s refusals reach the page as codes: newer, older, damaged blob', async (t) => {
  const { server, pointer } = await fixture(t);
  const header = (major) => {
    const b = new Uint8Array(24 + 16);
    b.set(new TextEncoder().encode('PLAYALKE'));
    new DataView(b.buffer).setUint16(8, major, true);
    new DataView(b.buffer).setBigUint64(12, 16n, true);
    return b;
  };
  const cases = [
    [header(2), 'unsupported-format', 'unsupported_version'],
    [header(0), 'unsupported-format', 'obsolete_version'],
    [new Uint8Array(100), 'corrupt', 'bad_magic'],
  ];
  for (const [blob, code, engineCode] of cases) {
    server.override('/models/v3/model.bin', { body: Buffer.from(blob) });
    server.override('/latest.json', { body: JSON.stringify({ ...pointer, checksum: sha(blob), size: blob.length }), type: 'application/json' });
    await assert.rejects(loadWith(`${server.url}/latest.json`, { cache: false }, (bytes) => Recommender.fromBytes(bytes)), (e) => {
      assert.equal(e.code, code);
      assert.equal(e.cause?.code, engineCode);
      return true;
    });
  }
});
