// The page's analytics events (docs/decisions/512-analytics-events.md): the package emits
// 'loaded', 'searched', 'recommended' and 'picked' to the listener this module attaches, and the
// page passes each one on in two ways, both local to the page:
//   - a `playalike` CustomEvent on `window` (`event.detail` is the package's event object), for a
//     deployer's own script;
//   - config.js's `onEvent(event)` hook, null by default.
// With neither used, nothing leaves the page: the package and this module make no requests.
import config from './config.js';

/** Passes one event on to the page's listeners and the configured hook. */
function forward(event) {
  try {
    window.dispatchEvent(new CustomEvent('playalike', { detail: event }));
  } catch {
    // no CustomEvent (very old browsers): the hook still gets it
  }
  if (typeof config.onEvent === 'function') config.onEvent(event);
}

/**
 * Listens to a loaded model's events and reports 'loaded' (`ms`: how long the load took). An
 * engine without events (an older package) is left alone.
 */
export function listen(rec, ms) {
  if (!rec || typeof rec.onEvent !== 'function') return;
  rec.onEvent(forward);
  rec.emitLoaded?.(ms);
}

/** Reports that the visitor chose `id` from the list `from` ('search', 'start', 'recommendations', 'liked'), at `position` (0 = first). */
export function picked(rec, id, from, position) {
  if (rec && typeof rec.picked === 'function') rec.picked(id, { from, position });
}
