// Starts the slow part of the page first: the model download (pointer, then blob or cache) and
// the engine (package import, wasm compile), while the HTML and the stylesheet are still being
// parsed and laid out. main.js (index.html's async script) imports it first, so it runs as soon as
// the script has arrived, without waiting for the document; app.js imports it (the same module
// instance) and adopts what it started. It adopts in turn the pointer request index.html's inline
// script made.
// No DOM access here beyond the head (the body may not exist yet).
//
// Failures stay in the promises for app.js to show; they are marked handled here so that an early
// failure is not reported to the console as an unhandled rejection before app.js takes it.

import config from './config.js';
import { t } from './i18n.js';

performance.mark('playalike:boot-started');

const metaContent = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';
const resolved = (url) => {
  try {
    return new URL(url, location.href);
  } catch {
    return undefined;
  }
};

/** The site's own model: index.html's `<meta name="playalike-model">`. */
export const defaultModel = metaContent('playalike-model');

/**
 * Where a model may come from, as URL prefixes (docs/decisions/510-site-model-origins.md): this
 * page's origin; the default model's folder (on a shared host such as storage.googleapis.com,
 * its bucket's path, not every bucket there); and the entries of index.html's
 * `<meta name="playalike-model-origins">`: space-separated origins or folder URLs (its
 * Content-Security-Policy's connect-src must allow them too).
 */
export const allowedPrefixes = [
  resolved('/')?.href,
  resolved(defaultModel) && new URL('.', resolved(defaultModel)).href,
  ...metaContent('playalike-model-origins')
    .split(/\s+/)
    .filter(Boolean)
    .map((u) => resolved(u)?.href)
    .map((p) => (p && !p.endsWith('/') ? `${p}/` : p)),
].filter((p) => p && /^https?:/.test(p));

const asked = new URLSearchParams(location.search).get('model');

/** The model this page loads: `?model=URL`, else the default model. */
export const model = asked || defaultModel;

const allowed = (url) => !!url && allowedPrefixes.some((p) => url.href.startsWith(p));

/**
 * The origin of a `?model=` this page refuses to load (not under `allowedPrefixes`), else null.
 * A refused model is never requested: the page shows a message naming the origin instead.
 */
export const refusedOrigin = asked && !allowed(resolved(asked)) ? (resolved(asked)?.origin ?? asked) : null;

/**
 * The Cache API cache for this page's model: the loader's default for the site's own model, a
 * second one for any other (allowed) `?model=`, so that trying another model never evicts the
 * official one (the loader keeps one blob per cache).
 */
export const cache = resolved(model)?.href === resolved(defaultModel)?.href ? true : 'playalike-models-other';

/** The error a refused `?model=` shows (code 'foreign-origin'). */
export function refusal(ModelLoadError) {
  return new ModelLoadError(t('refused', { origin: refusedOrigin }), 'foreign-origin');
}

/** The service worker's cache (web/sw.js): the page's files and the model pointers it loaded. */
export const SITE_CACHE = 'playalike-site';

let lastProgress = null;
const listeners = new Set();

/**
 * Calls `fn` with every progress report of the early load, starting with the latest one so far.
 * Returns a function that stops the reports.
 */
export function onProgress(fn) {
  if (lastProgress) fn(lastProgress);
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The package module (rejects when pkg/ is missing or broken). */
export const pkg = import('./pkg/index.js');
pkg.then(() => performance.mark('playalike:package-imported'), () => {});

/**
 * The engine's wasm, beside the page in pkg/ (index.html preloads this URL). Given explicitly: in
 * the bundle, the package's own default (relative to its module) would point next to main.js.
 */
export const wasmUrl = new URL('./pkg/playalike_bg.wasm', import.meta.url);

/** The worker mode's script (scripts/build-site.sh bundles pkg/worker.js there). */
export const workerUrl = new URL('./pkg/worker.js', import.meta.url);

/**
 * Where the engine runs for a model of `bytes` (the pointer's `size`; undefined when unknown):
 * 'worker' from `config.workerAbove` bytes up, else 'main' (docs/decisions/515-worker-mode.md).
 */
export function engineMode(bytes) {
  const above = config.workerAbove;
  if (typeof Worker !== 'function' || typeof above !== 'number' || !Number.isFinite(above)) return 'main';
  return typeof bytes === 'number' && bytes >= above ? 'worker' : 'main';
}

let mode = 'main';
/** Where the engine of the current load runs: 'main' or 'worker' (known once the pointer is read). */
export const currentMode = () => mode;

// The main-thread engine's wasm compiles once the page knows it needs it (its bytes come from the
// preload in the head); the worker mode compiles it in the worker instead.
let engine = null;
const mainEngine = () => {
  engine ??= pkg.then((m) => m.ready(wasmUrl));
  engine.catch(() => {});
  return engine;
};

/**
 * Loads this page's model, like `Recommender.load`, except that the download starts as soon as
 * the small loader module is there instead of after the engine's glue, and that a model of
 * `config.workerAbove` bytes or more (by its pointer's `size`) is loaded, verified, cached and
 * decoded in a Web Worker (pkg/worker-client.js), so the page's main thread stays free. The first
 * call adopts the pointer request index.html's inline script made. Rejects with a ModelLoadError.
 */
export function loadModel({ onProgress: progress, early = false } = {}) {
  return import('./pkg/loader.js').then(async ({ loadWith, mark, ModelLoadError }) => {
    mark('loader-imported');
    if (refusedOrigin) throw refusal(ModelLoadError);
    // The pointer request index.html started, taken once, when it asks for this page's model.
    let adopted = early ? globalThis.playalikeEarlyPointer : undefined;
    if (early) globalThis.playalikeEarlyPointer = undefined;
    const fetchEarly = (url, init) => {
      if (adopted && url === adopted.url && init?.cache === 'no-cache' && !init.signal) {
        const { response } = adopted;
        adopted = undefined;
        mark('pointer-adopted');
        return response;
      }
      return fetch(url, init);
    };
    // The pointer this page got is kept for the service worker (web/sw.js), which gives it back
    // when the network fails: stored here because the first visit loads it before the worker runs.
    const fetchPointer = async (url, init) => {
      const res = await fetchEarly(url, init);
      if (res.ok && init?.cache === 'no-cache' && globalThis.caches && /\.json$/.test(new URL(url).pathname)) {
        const copy = res.clone();
        setTimeout(() => caches.open(SITE_CACHE).then((c) => c.put(url, copy)).catch(() => {}), 0);
      }
      return res;
    };
    // The pointer first (a small request), to learn the model's size and choose where the
    // engine runs. A failed request is left to the loader, which explains it.
    const target = resolved(model);
    let pointer = null;
    let size;
    if (target && /\.json$/.test(target.pathname)) {
      pointer = fetchPointer(target.href, { cache: 'no-cache' });
      try {
        const res = await pointer;
        if (res.ok) {
          const body = await res.clone().text();
          pointer = Promise.resolve({ res, body });
          const raw = JSON.parse(body);
          if (raw && Number.isSafeInteger(raw.size)) size = raw.size;
        }
      } catch {
        // not JSON, or the request failed: the loader reports it
      }
    }
    mode = engineMode(size);
    mark(`engine-${mode}`);
    // The worker index.html's inline script started for this model (after the same pointer
    // request; settled by the time the pointer's text is read here), taken once.
    const earlyWorker = early ? globalThis.playalikeEarlyWorker : undefined;
    if (early) globalThis.playalikeEarlyWorker = undefined;
    if (mode === 'worker') {
      // The worker index.html's inline script started (docs/decisions/516-early-worker.md), else
      // one started now; it downloads the blob itself. (Starting the download here and
      // handing its body stream over overlapped the worker's start, but the transferred stream
      // is pumped through this thread: bench-web showed 100-270 ms tasks during the download.)
      const started = await Promise.resolve(earlyWorker).catch(() => null);
      let adopt = started && started.url === target.href ? started : null;
      if (started && !adopt) started.worker.terminate();
      // The wasm is compiled here from the head's preload (off this thread, and from the
      // browser's code cache on a return visit) and the Module handed to the worker, which
      // would otherwise fetch and compile it again (bench-web: warm decodes twice as slow).
      const wasm = (adopt ? adopt.wasm : WebAssembly.compileStreaming(fetch(wasmUrl))).catch(() => wasmUrl);
      const [{ RecommenderWorker }, got] = await Promise.all([import('./pkg/worker-client.js'), pointer]);
      const prefetched = { url: target.href, body: got.body };
      // An early worker whose script failed to start is replaced by one whose failure the
      // proxy hears (and reports); a working one is adopted with what it posted so far (its marks).
      if (adopt?.failed()) {
        adopt.stop();
        adopt.worker.terminate();
        adopt = null;
      }
      if (adopt) {
        adopt.stop();
        mark('worker-adopted');
      }
      const worker = adopt ? adopt.worker : new Worker(workerUrl, { type: 'module', name: 'playalike' });
      return RecommenderWorker.load(model, { onProgress: progress, cache, wasm, worker, prefetched, received: adopt?.received });
    }
    // A worker started for a model this page loads on the main thread after all (not expected:
    // both read the same pointer and threshold, but a browser may lack what the worker needs) is
    // not kept.
    Promise.resolve(earlyWorker).then((w) => w?.worker.terminate(), () => {});
    mainEngine();
    let handed = pointer;
    const fetchFn = (url, init) => {
      if (handed && url === target.href && init?.cache === 'no-cache') {
        const p = handed.then((got) => (got && got.res ? got.res : got));
        handed = null;
        return p;
      }
      return fetchPointer(url, init);
    };
    return loadWith(model, { onProgress: progress, fetch: fetchFn, cache }, async (bytes) => {
      let Recommender;
      try {
        ({ Recommender } = await pkg);
        await mainEngine();
      } catch (e) {
        throw new ModelLoadError(`The playalike engine could not be started (${e && e.message ? e.message : e}).`, 'engine', e);
      }
      mark('engine-ready');
      const rec = Recommender.fromBytes(bytes);
      mark('model-decoded');
      return rec;
    });
  });
}

/** The early load, started as soon as this module runs; app.js adopts it. */
export const loading = loadModel({
  early: true,
  onProgress: (p) => {
    lastProgress = p;
    for (const fn of listeners) fn(p);
  },
});

loading.catch(() => {});
