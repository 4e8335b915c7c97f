// The same queries through the wasm package (pkg/) and the native engine (the `query` example)
// give identical results: same ids, names, years, and bit-identical f32 scores.
// Needs: scripts/build-wasm.sh run, and env PLAYALIKE_TEST_BLOB (a model blob) and
// PLAYALIKE_QUERY_BIN (target/…/examples/query), both set by scripts/test.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Recommender, isReady, wasmMemoryBytes } from '../../pkg/index.js';

const blobPath = process.env.PLAYALIKE_TEST_BLOB;
const queryBin = process.env.PLAYALIKE_QUERY_BIN;
if (!blobPath || !queryBin) {
  throw new Error('set PLAYALIKE_TEST_BLOB and PLAYALIKE_QUERY_BIN (scripts/test.sh does)');
}
const bytes = readFileSync(blobPath);

/** Runs JSON-lines queries through the native engine. */
function native(queries) {
  const run = spawnSync(queryBin, [blobPath], {
    input: queries.map((q) => JSON.stringify(q)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

/** Native JSON prints f32 in shortest form; Math.fround recovers the exact f32 wasm returns. */
function normalize(rows) {
  if (!Array.isArray(rows)) return rows;
  return rows.map((r) => ({ ...r, score: Math.fround(r.score) }));
}

function wasmAnswer(r, q) {
  try {
    if (q.op === 'search') return r.search(q.text, { k: q.k });
    if (q.op === 'popular') return r.popular({ k: q.k, filters: q.filters });
    return r.recommend(
      { liked: q.liked, disliked: q.disliked ?? [] },
      { k: q.k, filters: q.filters, maxPerFranchise: q.maxPerFranchise ?? 0 },
    );
  } catch (e) {
    assert.ok(e instanceof Error, 'errors are JS Errors');
    return { error: e.message, code: e.code };
  }
}

test('the package loads in Node without an explicit init', () => {
  assert.equal(isReady(), true);
  const r = Recommender.fromBytes(bytes);
  assert.ok(r.size > 0);
  assert.ok(wasmMemoryBytes() > bytes.length, 'the model lives in wasm memory');
  const s = r.status();
  // The blob's own header: major (u16 LE at 8), minor (at 10).
  assert.equal(s.formatVersion, `${bytes[8] | (bytes[9] << 8)}.${bytes[10] | (bytes[11] << 8)}`);
  assert.match(s.formatVersion, /^1\.\d+$/);
  assert.equal(s.games, r.size);
  assert.equal(typeof s.metrics, 'object');
  r.free();
});

test('native and wasm answer identically', () => {
  const r = Recommender.fromBytes(bytes);
  const sample = native([{ op: 'sample', n: 40 }])[0];
  assert.equal(sample.length, 40);
  const ids = sample.map((g) => g.id);
  const queries = [];
  ids.forEach((id, i) => {
    queries.push({ op: 'recommend', liked: [[id, 1]], k: 10 });
    queries.push({ op: 'recommend', liked: [[id, 1]], k: 25, maxPerFranchise: 1 });
    queries.push({
      op: 'recommend',
      liked: [[id, 1], [ids[(i + 1) % ids.length], 0.5]],
      disliked: [ids[(i + 2) % ids.length]],
      k: 10,
      filters: { yearMin: 1995, minRatingCount: 0 },
    });
    const name = sample[i].name;
    queries.push({ op: 'search', text: name.slice(0, 3), k: 10 });
    queries.push({ op: 'search', text: name, k: 5 });
    // One typo: swap two letters in the middle of the title.
    const m = Math.floor(name.length / 2);
    queries.push({ op: 'search', text: name.slice(0, m - 1) + name[m] + name[m - 1] + name.slice(m + 1), k: 5 });
  });
  queries.push({ op: 'recommend', liked: [[4294967295, 1]], k: 10 });
  queries.push({ op: 'recommend', liked: [[ids[0], 1]], k: 0 });
  queries.push({ op: 'search', text: '', k: 10 });
  queries.push({ op: 'popular', k: 12 });
  queries.push({ op: 'popular', k: 30, filters: { yearMin: 2000, gameTypes: [0] } });
  queries.push({ op: 'popular', k: 10, filters: { platforms: [6], exclude: [ids[0]] } });
  queries.push({ op: 'popular', k: 0 });
  const want = native(queries);
  let nonEmpty = 0;
  queries.forEach((q, i) => {
    const got = wasmAnswer(r, q);
    assert.deepEqual(normalize(got), normalize(want[i]), JSON.stringify(q));
    if (Array.isArray(got) && got.length > 0) nonEmpty += 1;
  });
  assert.ok(nonEmpty > queries.length / 2, `most queries return results (${nonEmpty}/${queries.length})`);
  assert.equal(want.at(-7).error, 'unknown game id 4294967295');
  assert.equal(want.at(-7).code, 'unknown_game');
  assert.equal(want.at(-6).code, 'invalid_query');
  assert.equal(want.at(-4).length, 12, 'popular returns k games');
  assert.match(want.at(-1).error, /k must be 1\.\.=1000/);
  r.free();
});

test('prepareSearch builds the title index ahead: same answers as building it on first search', () => {
  const lazy = Recommender.fromBytes(bytes);
  const eager = Recommender.fromBytes(bytes);
  eager.prepareSearch();
  eager.prepareSearch(); // a second call is a no-op
  const sample = native([{ op: 'sample', n: 20 }])[0];
  let found = 0;
  for (const g of sample) {
    for (const text of [g.name.slice(0, 4), g.name]) {
      const a = lazy.search(text, { k: 10 });
      assert.deepEqual(eager.search(text, { k: 10 }), a, text);
      if (a.some((h) => h.id === g.id)) found += 1;
    }
  }
  assert.ok(found >= sample.length, `full titles find their game (${found})`);
  lazy.free();
  eager.free();
});

test('search finds a title from its prefix and game() shows it', () => {
  const r = Recommender.fromBytes(bytes);
  const [g] = native([{ op: 'sample', n: 1 }])[0];
  const hits = r.search(g.name, { k: 20 });
  assert.ok(hits.some((h) => h.id === g.id), `${g.name} found by its own title`);
  const view = r.game(g.id);
  assert.equal(view.name, g.name);
  assert.ok(Array.isArray(view.genres) && Array.isArray(view.platforms));
  assert.equal(r.game(4294967295), null);
  assert.throws(() => Recommender.fromBytes(new Uint8Array([1, 2, 3])), /not a playalike model blob/);
  const corrupt = Uint8Array.from(bytes);
  corrupt[corrupt.length - 1] ^= 0xff;
  assert.throws(() => Recommender.fromBytes(corrupt), /checksum/);
  r.free();
});
