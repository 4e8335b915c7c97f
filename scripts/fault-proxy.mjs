// A seeded fault-injecting HTTP proxy for the reliability campaign (scripts/reliability.sh):
// sits between `playalike` and fake-gcs-server and, at a seeded rate, answers 503/500/429,
// drops the connection before forwarding, forwards and then drops the answer (the write
// happened, the client does not know), delays, or cuts the answer's body short.
//
//   node scripts/fault-proxy.mjs --target http://127.0.0.1:PORT [--port 0]
//
// Prints one JSON line {"url": ...} when listening. Control (not proxied):
//   POST /_proxy/config {"rate": 0.2, "seed": 7, "kinds": ["503", ...], "delayMs": 800}
//   GET  /_proxy/stats   → {"requests", "faults": {kind: n}}  (reset by each config)
// Node's http module only; no dependency.
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const target = new URL(opt('target', ''));
const port = Number(opt('port', '0'));

export const KINDS = ['503', '500', '429', 'drop-before', 'drop-after', 'delay', 'truncate'];
let config = { rate: 0, seed: 1, kinds: KINDS, delayMs: 800 };
let stats = { requests: 0, faults: {} };

// SplitMix64 on BigInt: the same seed gives the same fault sequence for the same request order.
let state = 0n;
const MASK = (1n << 64n) - 1n;
function next() {
  state = (state + 0x9e3779b97f4a7c15n) & MASK;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return Number((z ^ (z >> 31n)) >> 11n) / 2 ** 53;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(req, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host };
    const up = http.request(
      { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      async (res) => {
        try {
          resolve({ status: res.statusCode, headers: res.headers, body: await readBody(res) });
        } catch (e) {
          reject(e);
        }
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.url === '/_proxy/config' && req.method === 'POST') {
      const c = JSON.parse((await readBody(req)).toString('utf8') || '{}');
      config = { ...config, ...c };
      state = BigInt(config.seed >>> 0) * 0x100000001n;
      stats = { requests: 0, faults: {} };
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(config));
    }
    if (req.url === '/_proxy/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(stats));
    }
    stats.requests += 1;
    const body = await readBody(req);
    const kind = next() < config.rate ? config.kinds[Math.floor(next() * config.kinds.length)] : null;
    if (kind) stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
    if (kind === '503' || kind === '500' || kind === '429') {
      res.writeHead(Number(kind), { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: Number(kind), message: `injected ${kind}` } }));
    }
    if (kind === 'drop-before') return req.socket.destroy();
    if (kind === 'delay') await new Promise((r) => setTimeout(r, config.delayMs));
    const up = await forward(req, body);
    if (kind === 'drop-after') return req.socket.destroy();
    const headers = { ...up.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(up.body.length);
    if (kind === 'truncate' && up.body.length > 1) {
      // Headers promise the full length; half the body arrives, then the connection closes.
      res.writeHead(up.status, headers);
      res.write(up.body.subarray(0, Math.floor(up.body.length / 2)));
      return setTimeout(() => req.socket.destroy(), 10);
    }
    res.writeHead(up.status, headers);
    res.end(up.body);
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`fault-proxy: upstream failed: ${e.message}`);
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}`, target: target.href })}\n`);
});
