// Analytics events of the package (pkg/events.js): an instance's listeners hear 'loaded',
// 'searched', 'recommended' and 'picked' with the documented payloads, a throwing listener breaks
// nothing, an instance without listeners emits nothing, and the package itself never makes a
// request for them (fetch is watched while events fire).
// Needs: scripts/build-wasm.sh run, and env PLAYALIKE_TEST_BLOB (a model blob; scripts/test.sh sets it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Recommender, EVENT_TYPES } from '../../pkg/index.js';

const blobPath = process.env.PLAYALIKE_TEST_BLOB;
if (!blobPath) throw new Error('set PLAYALIKE_TEST_BLOB (scripts/test.sh does)');
const bytes = readFileSync(blobPath);

/** A search text the model answers, whatever the blob: the first word of a popular title. */
function queryFor(rec) {
  const [top] = rec.popular({ k: 1 });
  assert.ok(top, 'the model has games');
  return top.name.split(/\s+/)[0];
}

/** A fetch that serves one bucket from memory and records every request. */
function bucketFetch() {
  const requests = [];
  const pointer = {
    schema: 1,
    version: 7,
    url: 'models/v7/model.bin',
    checksum: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
  };
  const fetchFn = async (url) => {
    requests.push(String(url));
    if (String(url).endsWith('/latest.json')) return new Response(JSON.stringify(pointer));
    if (String(url).endsWith('/models/v7/model.bin')) return new Response(bytes);
    return new Response('not found', { status: 404 });
  };
  return { fetchFn, requests };
}

test('EVENT_TYPES lists the four events', () => {
  assert.deepEqual([...EVENT_TYPES], ['loaded', 'searched', 'recommended', 'picked']);
  assert.ok(Object.isFrozen(EVENT_TYPES));
});

test('load with onEvent: loaded, searched, recommended, picked carry the documented payloads; no request is made for them', async (t) => {
  const { fetchFn, requests } = bucketFetch();
  // Any request the package made on its own (for the events) would go through the global fetch.
  const globalFetch = globalThis.fetch;
  const stray = [];
  globalThis.fetch = async (url) => {
    stray.push(String(url));
    throw new Error('no network in this test');
  };
  t.after(() => {
    globalThis.fetch = globalFetch;
  });

  const events = [];
  const rec = await Recommender.load('https://bucket.test/latest.json', { fetch: fetchFn, cache: false, onEvent: (e) => events.push(e) });
  t.after(() => rec.free());
  assert.deepEqual(requests, ['https://bucket.test/latest.json', 'https://bucket.test/models/v7/model.bin']);

  assert.equal(events.length, 1);
  const [loaded] = events;
  assert.equal(loaded.type, 'loaded');
  assert.equal(loaded.games, rec.size);
  assert.equal(loaded.modelVersion, rec.status().modelVersion);
  assert.equal(loaded.formatVersion, rec.status().formatVersion);
  assert.equal(loaded.fromCache, false);
  assert.equal(loaded.bytes, bytes.length);
  assert.ok(typeof loaded.ms === 'number' && loaded.ms >= 0, `ms: ${loaded.ms}`);
  assert.ok(Object.isFrozen(loaded), 'events are frozen');

  // searched: the text, the hits' ids, their number.
  const text = queryFor(rec);
  const hits = rec.search(text, { k: 5 });
  assert.ok(hits.length > 0, `the test model answers "${text}"`);
  const searched = events.at(-1);
  assert.equal(searched.type, 'searched');
  assert.equal(searched.query, text);
  assert.deepEqual(searched.ids, hits.map((h) => h.id));
  assert.equal(searched.results, hits.length);
  assert.ok(searched.ms >= 0);

  // recommended: the seeds in each query shape, the results' ids, whether a filter was set.
  // Three distinct seeds: the hits, topped up with popular games.
  const [a, b, c] = [...new Set([...hits, ...rec.popular({ k: 5 })].map((h) => h.id))];
  const one = rec.recommend(a, { k: 4 });
  assert.deepEqual(
    { ...events.at(-1), ms: 0 },
    { type: 'recommended', liked: [a], disliked: [], filtered: false, results: one.length, ids: one.map((h) => h.id), ms: 0 },
  );
  const many = rec.recommend({ liked: [a, [b, 2]], disliked: [c] }, { k: 3, filters: { yearMin: 1990 } });
  const recommended = events.at(-1);
  assert.deepEqual(recommended.liked, [a, b]);
  assert.deepEqual(recommended.disliked, [c]);
  assert.equal(recommended.filtered, true);
  assert.deepEqual(recommended.ids, many.map((h) => h.id));
  rec.recommend([{ id: a, weight: 1 }], { k: 3, filters: { platforms: [] } });
  assert.deepEqual(events.at(-1).liked, [a]);
  assert.equal(events.at(-1).filtered, false, 'an empty filter list restricts nothing');

  // picked: reported by the host.
  rec.picked(one[1].id, { from: 'recommendations', position: 1 });
  assert.deepEqual({ ...events.at(-1) }, { type: 'picked', id: one[1].id, from: 'recommendations', position: 1 });
  rec.picked(a);
  assert.deepEqual({ ...events.at(-1) }, { type: 'picked', id: a, from: 'other', position: null });

  assert.deepEqual(
    events.map((e) => e.type),
    ['loaded', 'searched', 'recommended', 'recommended', 'recommended', 'picked', 'picked'],
  );
  assert.deepEqual(requests.length, 2, 'no request after the model download');
  assert.deepEqual(stray, [], 'the package made no request of its own');
});

test('fromBytes: no listener, no events; onEvent subscribes and unsubscribes; emitLoaded for a host that loaded the bytes', () => {
  const rec = Recommender.fromBytes(bytes);
  try {
    // Without a listener, the calls answer as before (and nothing is built).
    const text = queryFor(rec);
    const plain = rec.search(text, { k: 3 });
    assert.ok(plain.length > 0);

    const seen = [];
    const off = rec.onEvent((e) => seen.push(e));
    rec.emitLoaded(12.5);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].type, 'loaded');
    assert.equal(seen[0].games, rec.size);
    assert.equal(seen[0].ms, 12.5);
    assert.equal(seen[0].fromCache, null, 'not loaded by the loader');
    assert.equal(seen[0].bytes, null);

    // A throwing listener breaks neither the call nor the other listeners.
    const offBad = rec.onEvent(() => {
      throw new Error('analytics down');
    });
    assert.deepEqual(rec.search(text, { k: 3 }), plain);
    assert.equal(seen.at(-1).type, 'searched');
    offBad();

    off();
    const before = seen.length;
    rec.search(text, { k: 3 });
    rec.recommend(plain[0].id, { k: 3 });
    rec.picked(plain[0].id, { from: 'search', position: 0 });
    assert.equal(seen.length, before, 'an unsubscribed listener hears nothing');

    // Listeners belong to one instance.
    const other = Recommender.fromBytes(bytes);
    const otherSeen = [];
    other.onEvent((e) => otherSeen.push(e));
    rec.search(text, { k: 3 });
    assert.equal(otherSeen.length, 0);
    other.search(text, { k: 1 });
    assert.equal(otherSeen.length, 1);
    other.free();

    assert.throws(() => rec.onEvent('not a function'), TypeError);
  } finally {
    rec.free();
  }
});

test('an engine error still throws, and emits nothing', () => {
  const rec = Recommender.fromBytes(bytes);
  try {
    const seen = [];
    rec.onEvent((e) => seen.push(e));
    assert.throws(() => rec.recommend(-1, { k: 0 }));
    assert.deepEqual(seen, []);
  } finally {
    rec.free();
  }
});
