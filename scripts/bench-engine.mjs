// Engine benchmark: wasm (under Node) and native side by side for each model blob, against the
// scikit-learn reference figures of ../shared/data/README.md. Prints a markdown report.
// Usage: node scripts/bench-engine.mjs QUERY_BIN LABEL=BLOB [LABEL=BLOB…]  (see scripts/bench-engine.sh)
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { Recommender, wasmMemoryBytes } from '../pkg/index.js';
import { gzippedSize, WASM_GZIP_BUDGET } from './wasm-size.mjs';

const [queryBin, ...blobs] = process.argv.slice(2);
const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
// scikit-learn approach (the plan playalike replaces), measured on this machine class:
// scikit-learn's plan model: measured in this run (bench-engine.sh writes sklearn-LABEL.json),
// else the data README's reference figures.
const SKLEARN = { '4k': { p50: 1.3, gz: 0.13, measured: false }, '333k': { p50: 20.9, gz: 6.2, measured: false } };
for (const label of Object.keys(SKLEARN)) {
  try {
    const m = JSON.parse(readFileSync(`${process.env.SKLEARN_DIR ?? 'target/bench-engine'}/sklearn-${label}.json`, 'utf8'));
    SKLEARN[label] = { p50: m.latency_p50_ms, gz: m.model_gzip_bytes / 1e6, measured: true };
  } catch {
    // not measured: keep the reference
  }
}

const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.round((s.length - 1) * p)];
};
const fmt = (x, d = 3) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d));
const mb = (n) => n / 1e6;

function native(blob, lines) {
  const run = spawnSync(queryBin, [blob], { input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 256 << 20 });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

function measure(label, blob) {
  const bytes = readFileSync(blob);
  const memBefore = wasmMemoryBytes();
  const loads = [];
  const indexes = [];
  let r = null;
  for (let i = 0; i < 5; i++) {
    if (r) r.free();
    let t = performance.now();
    r = Recommender.fromBytes(bytes);
    loads.push(performance.now() - t);
    // The title index is built on first search (or prepareSearch, which the site calls when idle).
    t = performance.now();
    r.prepareSearch();
    indexes.push(performance.now() - t);
  }
  const mem = wasmMemoryBytes();
  const sample = native(blob, [{ op: 'sample', n: 500 }])[0];
  const ids = sample.map((g) => g.id);
  for (let i = 0; i < 50; i++) r.recommend(ids[i % ids.length]); // warm-up
  const rec = [];
  for (let i = 0; i < RUNS; i++) {
    const id = ids[(i * 7919) % ids.length];
    const t = performance.now();
    r.recommend(id, { k: 10 });
    rec.push(performance.now() - t);
  }
  const keys = [];
  for (let i = 0; keys.length < RUNS; i++) {
    const name = sample[(i * 31) % sample.length].name;
    for (let j = 1; j <= Math.min(name.length, 20); j++) {
      const t = performance.now();
      r.search(name.slice(0, j), { k: 10 });
      keys.push(performance.now() - t);
    }
  }
  const nat = JSON.parse(spawnSync(queryBin, [blob, 'bench', String(RUNS)], { encoding: 'utf8' }).stdout);
  const gz = gzipSync(bytes, { level: 9 }).length;
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length;
  r.free();
  return {
    label, games: nat.games, raw: bytes.length, gz, br, memGrowth: mem - memBefore, mem,
    load: pct(loads, 0.5), loadFirst: loads[0], index: pct(indexes, 0.5), indexFirst: indexes[0], wasmP50: pct(rec, 0.5), wasmP90: pct(rec, 0.9),
    natP50: nat.recommendMsP50, natP90: nat.recommendMsP90, natLoad: nat.loadMsP50, natIndex: nat.searchIndexMs,
    keyP50: pct(keys, 0.5), keyP90: pct(keys, 0.9), natKeyP50: nat.searchMsP50,
  };
}

const results = blobs.map((arg) => {
  const [label, blob] = arg.split('=');
  return measure(label, blob);
});
const wasmFile = new URL('../pkg/playalike_bg.wasm', import.meta.url);
const wasmGz = gzippedSize(readFileSync(wasmFile));

const out = [];
out.push(`Machine: ${process.platform} ${process.arch}, Node ${process.version}, ${RUNS} queries per figure (medians; 2 shared cores, expect noise).`);
out.push('');
out.push('| figure | ' + results.map((r) => `${r.label} (${r.games} games)`).join(' | ') + ' |');
out.push('|---|' + results.map(() => '---|').join(''));
const row = (name, f) => out.push(`| ${name} | ` + results.map(f).join(' | ') + ' |');
const how = (label) => (SKLEARN[label]?.measured ? 'measured' : 'README reference');
const ratio = (label, x) => {
  const ref = SKLEARN[label]?.p50;
  return ref ? ` (sklearn ${fmt(ref)} ms, ${how(label)}: ×${fmt(ref / x, 1)} faster)` : '';
};
row('recommend p50, wasm in Node', (r) => `${fmt(r.wasmP50)} ms${ratio(r.label, r.wasmP50)}`);
row('recommend p90, wasm in Node', (r) => `${fmt(r.wasmP90)} ms`);
row('recommend p50 / p90, native', (r) => `${fmt(r.natP50)} / ${fmt(r.natP90)} ms${ratio(r.label, r.natP50)}`);
row('wasm / native (p50)', (r) => `×${fmt(r.wasmP50 / r.natP50, 2)}`);
row('search keystroke p50 / p90, wasm', (r) => `${fmt(r.keyP50)} / ${fmt(r.keyP90)} ms`);
row('search keystroke p50, native', (r) => `${fmt(r.natKeyP50)} ms`);
row('decode + ready (fromBytes), wasm', (r) => `${fmt(r.load, 1)} ms (native ${fmt(r.natLoad, 1)} ms)`);
row('↳ the first fromBytes of the process (first-run costs such as fresh memory; decision 519)', (r) => `${fmt(r.loadFirst, 1)} ms`);
row('title index, built on first search or prepareSearch, wasm', (r) => `${fmt(r.index, 1)} ms (first of the process ${fmt(r.indexFirst, 1)} ms; native ${fmt(r.natIndex, 1)} ms)`);
const allSeconds = (label) => {
  try {
    return JSON.parse(readFileSync(`${process.env.SKLEARN_DIR ?? 'target/bench-engine'}/all-${label}.json`, 'utf8')).seconds;
  } catch {
    return undefined;
  }
};
row('`playalike recommend --all` (every game, CLI, all cores)', (r) => (allSeconds(r.label) === undefined ? '–' : `${fmt(allSeconds(r.label), 1)} s`));
row('wasm memory after load and the title index (high-water mark)', (r) => `${fmt(mb(r.mem), 1)} MB`);
row('blob raw / gzip -9 / brotli 11', (r) => `${fmt(mb(r.raw), 2)} / ${fmt(mb(r.gz), 2)} / ${fmt(mb(r.br), 2)} MB`);
row('blob gzip vs sklearn pickle gzip', (r) => SKLEARN[r.label] ? `${fmt(mb(r.gz), 2)} vs ${fmt(SKLEARN[r.label].gz, 2)} MB, ${how(r.label)} (sklearn / playalike ×${fmt(SKLEARN[r.label].gz / mb(r.gz), 1)})` : '–');
out.push('');
out.push(`\`playalike_bg.wasm\`: ${statSync(wasmFile).size} bytes, ${wasmGz} gzipped (Node zlib level 9; budget ${WASM_GZIP_BUDGET}).`);
console.log(out.join('\n'));
