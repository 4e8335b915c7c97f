// Starts the slow part of the page first: imports the package (which starts compiling the wasm)
// and starts loading the model (pointer, then blob or cache) while the HTML and the stylesheet are
// still being parsed and laid out. index.html loads this as an async module, so it runs as soon as
// it and its imports have arrived, without waiting for the document; app.js imports it (the same
// module instance) and adopts what it started. No DOM access here (the body may not exist yet).
//
// Failures are kept in the promises for app.js to show; they are marked handled here so an early
// failure is not reported to the console as an unhandled rejection before app.js takes it.

import config from './config.js';

/** The model this page loads: `?model=URL` or the configured pointer. */
export const model = new URLSearchParams(location.search).get('model') || config.model;

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

/** The model, loaded with the package's `Recommender.load` (rejects with its ModelLoadError). */
export const loading = pkg.then(({ Recommender }) => {
  performance.mark('playalike:package-imported');
  return Recommender.load(model, {
    onProgress(p) {
      lastProgress = p;
      for (const fn of listeners) fn(p);
    },
  });
});

pkg.catch(() => {});
loading.catch(() => {});
