#!/usr/bin/env node
// Part 4 of the reliability campaign (scripts/reliability.sh hostile): hostile input, one case at
// a time, against the real binary over real HTTP. Each case states what must happen, checks it,
// and records what happened; the script exits 1 when any case fails.
//
//   node scripts/hostile.mjs --bin target/debug/playalike --data DIR --out FILE.json
//
// Parts:
//   sandbox  `playalike sandbox` under parser bombs, oversized and endless bodies, a slow client,
//            a connection flood and a token flood: each answered or closed, the server alive
//            after every case, its memory bounded;
//   fetch    `playalike fetch` against a scripted IGDB that answers what IGDB never would (a
//            result named like a path, more rows than asked, a gzip bomb, an endless answer, a
//            redirect on the token request, the secret echoed back), plus plain http to a remote
//            host and a second fetch of a locked snapshot: each a clear error with its exit
//            code, the previous snapshot untouched, nothing written outside, the secret never
//            printed;
//   publish  a bucket holding `models/v4294967295/`, and a 64 MiB `latest.json`: a clear error,
//            the pointer untouched.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const BIN = path.resolve(args.bin ?? 'target/debug/playalike');
const DATA = args.data && path.resolve(args.data);
const OUT = args.out ?? 'target/reliability/hostile.json';
if (!DATA || !fs.existsSync(DATA)) throw new Error(`hostile: --data ${DATA} is missing (a snapshot folder)`);
if (!fs.existsSync(BIN)) throw new Error(`hostile: ${BIN} is missing (cargo build -p playalike-builder)`);

const MiB = 1 << 20;
const SECRET = 'hostile-secret-0123456789abcdef';
const results = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'playalike-hostile-'));
const log = (m) => process.stderr.write(`hostile: ${m}\n`);

/** Record one case: `check` returns {ok, got, ...extra}. Exceptions are failures. */
async function kase(part, name, expect, check) {
  const t0 = Date.now();
  let r;
  try {
    r = await check();
  } catch (e) {
    r = { ok: false, got: `threw: ${e.message}` };
  }
  const row = { part, case: name, expect, ms: Date.now() - t0, ...r };
  results.push(row);
  log(`${row.ok ? 'ok  ' : 'FAIL'} ${part}: ${name}: ${row.got}`);
}

const rssKiB = (pid) => {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
};

// ---------------------------------------------------------------- sandbox
async function startSandbox() {
  const child = spawn(BIN, ['sandbox', '--data', DATA, '--port', '0', '--no-limits', '-q'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const first = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', (c) => reject(new Error(`sandbox exited ${c}`)));
  });
  const info = JSON.parse(first);
  const base = new URL(info.api_url ?? info.apiUrl ?? info.url).origin;
  return { child, base, port: Number(new URL(base).port) };
}

/** One raw HTTP/1.1 exchange: resolves with the status (0 = closed unanswered) and the text. */
function raw(port, head, body = '', { timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (v) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done({ status: -1, text: got }), timeoutMs);
    s.on('data', (d) => (got += d));
    s.on('error', () => {});
    s.on('close', () => done({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0), text: got }));
    s.write(head);
    if (body) s.write(body);
  });
}

async function token(port, client = 'hostile') {
  const r = await raw(
    port,
    `POST /oauth2/token?client_id=${client}&client_secret=${SECRET}&grant_type=client_credentials HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  );
  return JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)).access_token;
}

function query(port, tok, endpoint, body) {
  const b = Buffer.from(body);
  return raw(
    port,
    `POST /v4/${endpoint} HTTP/1.1\r\nHost: x\r\nClient-ID: hostile\r\nAuthorization: Bearer ${tok}\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n`,
    b,
  );
}

async function sandboxPart() {
  const sbx = await startSandbox();
  let tok = await token(sbx.port);
  const alive = async () => (await query(sbx.port, tok, 'genres', 'fields name; limit 1;')).status === 200;
  const bad = async (name, body) =>
    kase('sandbox', name, '400; server alive', async () => {
      const r = await query(sbx.port, tok, 'games', body);
      const live = await alive();
      return { ok: r.status === 400 && live, got: `${r.status}, alive ${live}` };
    });
  await bad('where of 100,000 `!`', `fields name; where ${'!'.repeat(100000)}id = 1;`);
  await bad('where of 100,000 `(`', `fields name; where ${'('.repeat(100000)}id = 1;`);
  await kase('sandbox', 'an escaped multibyte char "\\é" (was a char-boundary panic)', 'answered (200 or 400), not 500; server alive', async () => {
    const r = await query(sbx.port, tok, 'games', 'fields name; where name = "\\é";');
    const live = await alive();
    return { ok: (r.status === 200 || r.status === 400) && live, got: `${r.status}, alive ${live}` };
  });
  await bad('a where of 5,000 comparisons', `fields name; where ${Array.from({ length: 5000 }, (_, i) => `id = ${i}`).join(' | ')};`);
  await bad('a 300 KiB query body', `fields name; where name = "${'a'.repeat(300 * 1024)}";`);

  await kase('sandbox', 'an endless chunked body (64 MiB offered)', 'refused at the 1 MiB cap (413 or closed); server alive', async () => {
    const s = net.connect(sbx.port, '127.0.0.1');
    let got = '';
    let sent = 0;
    s.on('data', (d) => (got += d));
    s.on('error', () => {});
    s.write(`POST /v4/games HTTP/1.1\r\nHost: x\r\nClient-ID: hostile\r\nAuthorization: Bearer ${tok}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.concat([Buffer.from(`${(64 * 1024).toString(16)}\r\n`), Buffer.alloc(64 * 1024, 97), Buffer.from('\r\n')]);
    while (sent < 64 * MiB && !got && !s.destroyed) {
      if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r));
      sent += 64 * 1024;
    }
    await new Promise((r) => setTimeout(r, 200));
    s.destroy();
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0);
    const live = await alive();
    return { ok: (status === 413 || status === 0) && sent < 64 * MiB && live, got: `${status || 'closed'} after ${(sent / MiB).toFixed(1)} MiB sent, alive ${live}` };
  });

  await kase('sandbox', 'a client that never finishes its headers', 'closed by the server within the 10 s header timeout (+2 s)', async () => {
    const t0 = Date.now();
    const r = await raw(sbx.port, 'POST /v4/games HTTP/1.1\r\nHost: x\r\n', '', { timeoutMs: 15000 });
    const secs = (Date.now() - t0) / 1000;
    return { ok: r.status !== -1 && secs <= 12, got: `closed after ${secs.toFixed(1)} s` };
  });

  await kase('sandbox', '400 idle connections at once', 'those over 256 closed unanswered; a request answered after they go', async () => {
    const socks = await Promise.all(
      Array.from({ length: 400 }, () => new Promise((resolve) => {
        const s = net.connect(sbx.port, '127.0.0.1', () => resolve(s));
        s.on('error', () => resolve(s));
      })),
    );
    await new Promise((r) => setTimeout(r, 500));
    const closed = socks.filter((s) => s.destroyed || s.readableEnded).length;
    socks.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 300));
    const st = await raw(sbx.port, 'GET /_sandbox/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '', { timeoutMs: 5000 });
    let stats = {};
    try { stats = JSON.parse(st.text.slice(st.text.indexOf('\r\n\r\n') + 4)); } catch { /* counted below from the client side */ }
    const live = await alive();
    const refused = stats.connections_refused ?? closed;
    return { ok: refused >= 400 - 256 - 2 && live, got: `${refused} refused, alive ${live}` };
  });

  await kase('sandbox', '40,000 token requests from 2,000 client ids', 'answered; server memory grows by < 32 MiB (tokens are capped at 10,000)', async () => {
    const before = rssKiB(sbx.child.pid);
    for (let i = 0; i < 40000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => token(sbx.port, `flood-${(i + j) % 2000}`)));
    const after = rssKiB(sbx.child.pid);
    tok = await token(sbx.port);
    const grew = (after - before) / 1024;
    const live = await alive();
    return { ok: grew < 32 && live, got: `RSS ${(before / 1024).toFixed(0)} → ${(after / 1024).toFixed(0)} MiB, alive ${live}` };
  });
  sbx.child.kill();
}

// ---------------------------------------------------------------- fetch
/** A scripted IGDB + token server: `answer(req, body, res)` writes the answer. */
async function scripted(answer) {
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body });
      if (req.url.startsWith('/oauth2/token')) {
        const t = answer.token?.(req, body, res);
        if (t !== 'handled') res.end(JSON.stringify({ access_token: 'tok', expires_in: 3600, token_type: 'bearer' }));
        return;
      }
      answer.api(req, body, res);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, seen, close: () => new Promise((r) => server.close(r)) };
}

const names = (body) => [...body.matchAll(/query [^"]*"([^"]+)"/g)].map((m) => m[1]);
const multi = (body, f) =>
  JSON.stringify(
    names(body).map((n) => (n === 'games-count' ? { name: n, count: f?.count ?? 0 } : { name: n, result: f?.[n] ?? (n === 'games-max' ? [] : []) })),
  );

function previousSnapshot(dir) {
  const out = path.join(dir, 'snap');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'games.jsonl'), '{"id": 1, "name": "old"}\n');
  return out;
}
const untouched = (out) =>
  fs.readFileSync(path.join(out, 'games.jsonl'), 'utf8') === '{"id": 1, "name": "old"}\n' &&
  fs.readdirSync(out).every((f) => f === 'games.jsonl');
function stray(dir, needle) {
  const found = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name.includes(needle)) found.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return found;
}

/** Runs a command to its end without blocking this process's servers: {code, stdout, stderr}. */
function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `playalike fetch` under /usr/bin/time (peak RSS) against `srv`. */
async function runFetch(srv, out, extra = []) {
  const a = [
    '-f', '%M', BIN, 'fetch', '--igdb-url', `${srv.base ?? srv}/v4`, '--auth-url', `${srv.base ?? srv}/oauth2/token`,
    '--out', out, '--where', '', '--tables', 'genres', '--max-retries', '0', '--timeout', '20', '--json', ...extra,
  ];
  const r = await run('/usr/bin/time', a, { IGDB_CLIENT_ID: 'hostile', IGDB_CLIENT_SECRET: SECRET, PLAYALIKE_LOG: 'debug' });
  const lines = r.stderr.trimEnd().split('\n');
  const peakMiB = Number(lines.at(-1)) / 1024;
  return { code: r.code, stderr: lines.slice(0, -1).join('\n'), stdout: r.stdout, peakMiB };
}

async function fetchCase(name, expect, answer, { extra = [], want = 10, msg, check } = {}) {
  await kase('fetch', name, expect, async () => {
    const srv = answer && (await scripted(answer));
    const dir = fs.mkdtempSync(path.join(tmp, 'fetch-'));
    const out = previousSnapshot(dir);
    const r = await runFetch(srv ?? extra.base, out, extra.args ?? extra);
    const intact = untouched(out);
    const leaked = r.stderr.includes(SECRET) || r.stdout.includes(SECRET) || r.stderr.includes(SECRET.slice(0, 16));
    const named = msg ? msg.test(r.stderr) : true;
    const more = check ? check(srv, dir, r) : { ok: true, note: '' };
    await srv?.close();
    const ok = r.code === want && intact && !leaked && named && more.ok;
    const line = r.stderr.split('\n').filter((l) => /error|Error/.test(l)).at(-1)?.slice(0, 160) ?? '';
    return {
      ok,
      got: `exit ${r.code}, snapshot ${intact ? 'untouched' : 'CHANGED'}, secret ${leaked ? 'LEAKED' : 'not shown'}, peak ${r.peakMiB.toFixed(0)} MiB${more.note ? `, ${more.note}` : ''}`,
      message: line,
      peakMiB: r.peakMiB,
    };
  });
}

async function fetchPart() {
  await fetchCase('a result named "../../escape"', 'exit 10, nothing written outside', {
    api: (req, body, res) => res.end(JSON.stringify([...JSON.parse(multi(body)), { name: '../../escape', result: [{ id: 1, name: 'x' }] }])),
  }, { msg: /not asked for/, check: (_s, dir) => { const f = stray(dir, 'escape'); return { ok: f.length === 0, note: `${f.length} stray files` }; } });

  await fetchCase('a page with more rows than its limit', 'exit 10 naming the count', {
    api: (req, body, res) => res.end(multi(body, { count: 5, 'games-max': [{ id: 5 }], p0: [{ id: 1 }, { id: 2 }, { id: 3 }] })),
  }, { extra: ['--page-size', '2'], msg: /more than its limit/ });

  // 256 MiB of zeros gzipped to ~250 KiB: the client must stop at its 128 MiB cap.
  const bomb = zlib.gzipSync(Buffer.alloc(256 * MiB), { level: 9 });
  await fetchCase(`a gzip bomb (${(bomb.length / 1024).toFixed(0)} KiB → 256 MiB)`, 'exit 10 "too large", memory bounded (< 400 MiB peak)', {
    api: (req, body, res) => { res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }); res.end(bomb); },
  }, { msg: /too large|larger than|exceeds/i, check: (_s, _d, r) => ({ ok: r.peakMiB < 400, note: '' }) });

  await fetchCase('an endless answer (streams until closed)', 'exit 10 "too large" at the cap, memory bounded (< 400 MiB peak)', {
    api: (req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(MiB, 32);
      let sent = 0;
      const pump = () => { while (sent < 1024 && res.write(chunk)) sent++; if (sent < 1024 && !res.destroyed) res.once('drain', pump); else res.end(); };
      res.on('close', () => (sent = 1024));
      pump();
    },
  }, { msg: /too large|larger than|exceeds/i, check: (_s, _d, r) => ({ ok: r.peakMiB < 400, note: '' }) });

  const elsewhere = await scripted({ api: (req, body, res) => res.end('[]') });
  await fetchCase('a 307 redirect on the token request', 'an error naming the status; the other host receives nothing', {
    token: (req, body, res) => { res.writeHead(307, { location: `${elsewhere.base}/oauth2/token` }); res.end(); return 'handled'; },
    api: (req, body, res) => res.end('[]'),
  }, { want: 10, msg: /307|redirect/i, check: () => ({ ok: elsewhere.seen.length === 0, note: `${elsewhere.seen.length} requests reached the other host` }) });
  await elsewhere.close();

  await fetchCase('a 10 MiB token answer', 'an error, not read whole', {
    token: (req, body, res) => { res.end(`{"access_token": "${'t'.repeat(10 * MiB)}"}`); return 'handled'; },
    api: (req, body, res) => res.end('[]'),
  }, { want: 10, msg: /too large|larger than|exceeds/i });

  await fetchCase('a malformed answer that echoes the secret', 'exit 10; the secret never printed', {
    api: (req, body, res) => res.end(`{"oops": "${'x'.repeat(280)}${SECRET}${SECRET}"`),
  }, {});

  await fetchCase('plain http to a remote host', 'exit 2 (usage) before any request', null, {
    want: 2, msg: /https/, extra: { base: 'http://api.igdb.example', args: [] },
  });

  await kase('fetch', 'a second fetch of a snapshot whose lock is held', 'exit 10 "another fetch holds the lock", nothing touched', async () => {
    const srv = await scripted({ api: (req, body, res) => res.end(multi(body)) });
    const dir = fs.mkdtempSync(path.join(tmp, 'lock-'));
    const out = previousSnapshot(dir);
    const lockFile = path.join(dir, '.snap.fetch-lock');
    fs.writeFileSync(lockFile, '');
    const holder = spawn('flock', ['--exclusive', lockFile, 'sleep', '30'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const r = await runFetch(srv, out);
    holder.kill();
    await srv.close();
    const intact = untouched(out);
    const named = /another fetch holds the lock/.test(r.stderr);
    return { ok: r.code === 10 && intact && named, got: `exit ${r.code}, snapshot ${intact ? 'untouched' : 'CHANGED'}, message ${named ? 'names the lock' : 'MISSING'}` };
  });
}

// ---------------------------------------------------------------- publish
async function publishPart() {
  const model = path.join(tmp, 'model.bin');
  const t = spawnSync(BIN, ['train', '--snapshot', DATA, '--out', model, '--report', '-', '--no-learn', '--metrics', path.join(tmp, 'metrics.json'), '--created-at', '2026-01-01T00:00:00Z', '-q'], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`train failed: ${t.stderr}`);
  const publish = (bucket) => spawnSync(BIN, ['publish', '--model', model, '--bucket', `file://${bucket}`, '--json', '-q'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  await kase('publish', 'a bucket holding models/v4294967295/', 'a clear error naming the version; the live pointer unchanged', async () => {
    const b = path.join(tmp, 'bucket-max');
    const first = publish(b);
    if (first.status !== 0) throw new Error(`first publish failed: ${first.stderr}`);
    const before = fs.readFileSync(path.join(b, 'latest.json'), 'utf8');
    fs.mkdirSync(path.join(b, 'models', 'v4294967295'), { recursive: true });
    fs.writeFileSync(path.join(b, 'models', 'v4294967295', 'model.bin'), 'x');
    const r = publish(b);
    const same = fs.readFileSync(path.join(b, 'latest.json'), 'utf8') === before;
    const named = /4294967295/.test(r.stderr + r.stdout);
    return { ok: r.status !== 0 && r.status !== null && same && named, got: `exit ${r.status}, pointer ${same ? 'unchanged' : 'MOVED'}, message ${named ? 'names it' : 'MISSING'}`, message: r.stderr.split('\n').filter((l) => /error/i.test(l)).at(-1)?.slice(0, 160) };
  });

  await kase('publish', 'a 64 MiB latest.json', 'a clear error, read no further than the cap; the pointer left as it was', async () => {
    const b = path.join(tmp, 'bucket-big');
    const first = publish(b);
    if (first.status !== 0) throw new Error(`first publish failed: ${first.stderr}`);
    const big = `{"schema": 1, "pad": "${' '.repeat(64 * MiB)}"}`;
    fs.writeFileSync(path.join(b, 'latest.json'), big);
    const r = spawnSync('/usr/bin/time', ['-f', '%M', BIN, 'publish', '--model', model, '--bucket', `file://${b}`, '--json', '-q'], { encoding: 'utf8' });
    const peak = Number(r.stderr.trimEnd().split('\n').at(-1)) / 1024;
    const same = fs.statSync(path.join(b, 'latest.json')).size === Buffer.byteLength(big);
    return { ok: r.status !== 0 && same && peak < 200, got: `exit ${r.status}, pointer ${same ? 'unchanged' : 'REPLACED'}, peak ${peak.toFixed(0)} MiB`, message: r.stderr.split('\n').filter((l) => /error/i.test(l)).at(-1)?.slice(0, 160) };
  });
}

const parts = (args.parts ?? 'sandbox,fetch,publish').split(',');
try {
  if (parts.includes('sandbox')) await sandboxPart();
  if (parts.includes('fetch')) await fetchPart();
  if (parts.includes('publish')) await publishPart();
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(results, null, 2));
const failed = results.filter((r) => !r.ok);
log(`${results.length - failed.length}/${results.length} cases as required`);
process.exit(failed.length ? 1 : 0);
