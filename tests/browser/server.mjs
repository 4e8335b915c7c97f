// A small static file server for the browser tests and benchmarks (Node's http module only).
// Serves mounted directories on a free loopback port, counts requests per path, and can be told
// to answer a path with a fixed status or fixed bytes (to simulate missing or corrupt models).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * Starts a server. `mounts` maps a URL prefix ('/' or '/models/') to a directory.
 * Returns {url, port, counts, override(path, {status, body}), clearOverrides(), resetCounts(), close()}.
 */
export async function startServer(mounts, { host = '127.0.0.1', port = 0, log = false } = {}) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const counts = new Map();
  const overrides = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const pathname = decodeURIComponent(url.pathname);
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    if (log) process.stderr.write(`serve: ${req.method} ${req.url}\n`);
    const ov = overrides.get(pathname);
    if (ov) {
      res.writeHead(ov.status ?? 200, { 'content-type': ov.type ?? 'application/octet-stream', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(ov.body ?? '');
      return;
    }
    const prefix = prefixes.find((p) => pathname.startsWith(p));
    if (!prefix) return notFound(res);
    let file = path.join(mounts[prefix], pathname.slice(prefix.length));
    if (!file.startsWith(path.resolve(mounts[prefix]))) return notFound(res);
    // Synchronous stat and read from memory (refreshed when the file changes): one turn of the
    // event loop per request, like a static host serving from memory. This process also drives
    // the browser in the tests and the benchmark; threadpool round trips per file added up to
    // 100-200 ms per request on the loaded test machine.
    let st;
    try {
      st = fs.statSync(file);
      if (st.isDirectory()) {
        file = path.join(file, 'index.html');
        st = fs.statSync(file);
      }
    } catch {
      return notFound(res);
    }
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    // Like a bucket: the pointer must be revalidated, versioned objects are immutable.
    // Everything revalidates, so a second blob download would show in the counts: the test
    // proves the loader's own cache, not the HTTP cache.
    // Like a static host, files carry validators, so a revalidation of an unchanged file is a
    // 304 without a body (it still counts as a request).
    const cache = 'no-cache';
    const etag = `"${st.size.toString(16)}-${Math.round(st.mtimeMs * 1000).toString(16)}"`;
    const headers = { 'cache-control': cache, etag, 'last-modified': st.mtime.toUTCString(), 'access-control-allow-origin': '*' };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    let body;
    try {
      body = contents(file, st, etag);
    } catch {
      return notFound(res);
    }
    res.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    counts,
    count: (p) => counts.get(p) ?? 0,
    override: (p, o) => overrides.set(p, o),
    clearOverrides: () => overrides.clear(),
    resetCounts: () => counts.clear(),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** File contents by path, kept while the file's size and mtime (its ETag) stay the same. */
const memory = new Map();
function contents(file, st, etag) {
  const hit = memory.get(file);
  if (hit && hit.etag === etag) return hit.body;
  const body = fs.readFileSync(file);
  if (body.length !== st.size) throw new Error(`${file} changed while read`);
  memory.set(file, { etag, body });
  return body;
}

function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
  res.end('not found');
}
