// The site's service worker: a returning visitor who is offline still gets the page, its script,
// stylesheet and wasm, and the model (docs/decisions/511-site-offline.md).
//
// - Network first for everything it handles: online, every visit sees the current page and the
//   current model pointer (a new model is picked up on the next online visit); the cache is only
//   the fallback when the network fails.
// - Handled: same-origin GETs of the page (navigations, whatever their query string), main.js,
//   style.css, pkg/playalike_bg.wasm, pkg/worker.js (the engine's worker, used for big models),
//   and model pointers (*.json). Not handled: the model blob
//   (the loader keeps it in its own Cache API cache by checksum, decision 502), covers, source
//   maps, anything cross-origin.
// - The pointer is stored by the page (web/boot.js), which has its bytes on every load, also on
//   the first visit, before this worker controls anything; this worker only reads it back.
// - The page's files are cached at install from the browser's HTTP cache where they are (the
//   first visit has just loaded them), so installing costs no second download.

const CACHE = 'playalike-site';
const SHELL = ['./', 'main.js', 'style.css', 'pkg/playalike_bg.wasm', 'pkg/worker.js'];
const scope = new URL(self.registration.scope);
const shellUrls = new Set(SHELL.map((p) => new URL(p, scope).href));
const pageUrl = new URL('./', scope).href;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        SHELL.map(async (p) => {
          const url = new URL(p, scope).href;
          const res = await fetch(url, { cache: 'force-cache' });
          if (res.ok) await cache.put(url, res);
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** The cache key of a request this worker handles, or null to leave the request alone. */
function keyOf(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== scope.origin || !url.href.startsWith(scope.href)) return null;
  // Every address of the page is the same document: its state is in the query string.
  if (request.mode === 'navigate') return url.pathname === scope.pathname || url.href.startsWith(`${pageUrl}index.html`) ? pageUrl : null;
  if (url.pathname.endsWith('.json')) return url.href;
  url.search = '';
  return shellUrls.has(url.href) ? url.href : null;
}

self.addEventListener('fetch', (event) => {
  const key = keyOf(event.request);
  if (!key) return;
  event.respondWith(
    (async () => {
      try {
        const res = await fetch(event.request);
        // Pointers are stored by the page (it has them on every visit); the rest here.
        if (res.ok && !key.endsWith('.json')) {
          const copy = res.clone();
          event.waitUntil(caches.open(CACHE).then((c) => c.put(key, copy)));
        }
        return res;
      } catch (e) {
        const cached = await caches.match(key, { cacheName: CACHE });
        if (cached) return cached;
        throw e;
      }
    })(),
  );
});
