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

// The wasm compiles as soon as the package is there (its bytes come from the preload in the head).
const engine = pkg.then((m) => m.ready(wasmUrl));

/**
 * The model, loaded like `Recommender.load` does it, except that the download starts as soon as
 * the small loader module is there instead of after the engine's glue: fetch + verify + cache
 * (pkg/loader.js), then decode once the engine is ready. Rejects with a ModelLoadError.
 */
export const loading = import('./pkg/loader.js').then(({ loadWith, mark, ModelLoadError }) => {
  mark('loader-imported');
  if (refusedOrigin) throw refusal(ModelLoadError);
  const report = (p) => {
    lastProgress = p;
    for (const fn of listeners) fn(p);
  };
  // The pointer request index.html started, taken once, when it asks for this page's model.
  let early = globalThis.playalikeEarlyPointer;
  globalThis.playalikeEarlyPointer = undefined;
  const fetchEarly = (url, init) => {
    if (early && url === early.url && init?.cache === 'no-cache' && !init.signal) {
      const { response } = early;
      early = undefined;
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
  return loadWith(model, { onProgress: report, fetch: fetchPointer, cache }, async (bytes) => {
    let Recommender;
    try {
      ({ Recommender } = await pkg);
      await engine;
    } catch (e) {
      throw new ModelLoadError(`The playalike engine could not be started (${e && e.message ? e.message : e}).`, 'engine', e);
    }
    mark('engine-ready');
    const rec = Recommender.fromBytes(bytes);
    mark('model-decoded');
    return rec;
  });
});

engine.catch(() => {});
loading.catch(() => {});
