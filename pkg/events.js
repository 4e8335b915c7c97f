// Analytics events (hand-written): the package tells the host app what a visitor did with the
// engine, so the app can forward it to its own analytics. It sends nothing anywhere itself: with
// no listener, nothing is built and nothing leaves the page (docs/decisions/512).
//
//   loaded       a model was loaded: `Recommender.load` with `onEvent` emits it; a host that loads
//                otherwise (fromBytes) reports it with `rec.emitLoaded(ms)`
//   searched     `search` answered
//   recommended  `recommend` answered
//   picked       the host reports that the visitor chose a game (`rec.picked(id, {from, position})`):
//                only the page knows which list was clicked
//
// Listeners belong to one engine instance: `rec.onEvent(fn)` (returns an unsubscribe function) or
// `Recommender.load(url, { onEvent })`. A listener that throws never breaks the call that emitted.

/** The event types, in the order a visit produces them. */
export const EVENT_TYPES = Object.freeze(['loaded', 'searched', 'recommended', 'picked']);

/** Engine instance → its listeners (a WeakMap: a freed, dropped instance takes them along). */
const listeners = new WeakMap();

const now = () => globalThis.performance?.now?.() ?? Date.now();
const round = (ms) => Math.round(ms * 1000) / 1000;

/** Adds `fn` as a listener of `target`'s events; returns a function that removes it. */
export function addEventListenerTo(target, fn) {
  if (typeof fn !== 'function') throw new TypeError('playalike: onEvent expects a function');
  let set = listeners.get(target);
  if (!set) {
    set = new Set();
    listeners.set(target, set);
  }
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

function hasListeners(target) {
  const set = listeners.get(target);
  return !!set && set.size > 0;
}

/** Calls `target`'s listeners with `event` (a frozen plain object); listener errors are swallowed. */
export function emit(target, event) {
  const set = listeners.get(target);
  if (!set || set.size === 0) return;
  const frozen = Object.freeze(event);
  for (const fn of [...set]) {
    try {
      fn(frozen);
    } catch {
      // a host's analytics must not break search or recommendations
    }
  }
}

/** The seed ids of a `recommend` query (number, seeds array or {liked, disliked}). */
function seeds(query) {
  const idOf = (s) => (typeof s === 'number' ? s : Array.isArray(s) ? s[0] : s && typeof s === 'object' ? s.id : undefined);
  const ids = (list) => (Array.isArray(list) ? list.map(idOf).filter((id) => Number.isFinite(id)) : []);
  if (typeof query === 'number') return { liked: [query], disliked: [] };
  if (Array.isArray(query)) return { liked: ids(query), disliked: [] };
  if (query && typeof query === 'object') return { liked: ids(query.liked), disliked: ids(query.disliked) };
  return { liked: [], disliked: [] };
}

function filtered(options) {
  const f = options && options.filters;
  return !!f && typeof f === 'object' && Object.values(f).some((v) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0));
}

/** Runs `call`; when it answers (now or, for an async engine, later), emits `make(answer, ms)`. */
function answered(target, call, make) {
  const start = now();
  const result = call();
  const done = (value) => {
    try {
      emit(target, make(value, round(now() - start)));
    } catch {
      // a malformed answer: the caller gets it as is, the event is skipped
    }
  };
  if (result && typeof result.then === 'function') {
    result.then(done, () => {});
  } else {
    done(result);
  }
  return result;
}

const idsOf = (hits) => (Array.isArray(hits) ? hits.map((h) => h.id) : []);

/**
 * The `loaded` event of an engine instance: what it holds and where it came from (`source` is set
 * by `Recommender.load`/`loadWith`). `ms`: how long the load took, when the caller knows.
 */
export function loadedEvent(rec, ms, known) {
  let status = known ?? {};
  if (known === undefined) {
    try {
      status = rec.status() ?? {};
    } catch {
      // an engine without status: the event still says that a model is there
    }
  }
  if (typeof status.then === 'function') status = {}; // an async engine: emitLoaded awaits it
  const src = rec.source;
  return {
    type: 'loaded',
    games: typeof status.games === 'number' ? status.games : typeof rec.size === 'number' ? rec.size : 0,
    modelVersion: status.modelVersion ?? src?.pointer?.version ?? null,
    formatVersion: status.formatVersion ?? null,
    fromCache: typeof src?.fromCache === 'boolean' ? src.fromCache : null,
    bytes: typeof src?.bytes === 'number' ? src.bytes : null,
    ms: typeof ms === 'number' && Number.isFinite(ms) ? round(ms) : null,
  };
}

/**
 * Adds events to an engine class: `search` and `recommend` emit `searched` and `recommended` to the
 * instance's listeners (nothing is computed when it has none), and the instance gets
 * `onEvent(fn)`, `emitLoaded(ms)` and `picked(id, info)`. Works for a class whose methods answer synchronously (the
 * wasm `Recommender`) or with promises (an engine behind a worker).
 */
export function withEvents(Engine) {
  const proto = Engine.prototype;
  const search = proto.search;
  const recommend = proto.recommend;
  proto.search = function searchWithEvents(text, options) {
    if (!hasListeners(this)) return search.call(this, text, options);
    return answered(
      this,
      () => search.call(this, text, options),
      (hits, ms) => ({ type: 'searched', query: String(text), results: idsOf(hits).length, ids: idsOf(hits), ms }),
    );
  };
  proto.recommend = function recommendWithEvents(query, options) {
    if (!hasListeners(this)) return recommend.call(this, query, options);
    return answered(
      this,
      () => recommend.call(this, query, options),
      (hits, ms) => ({ type: 'recommended', ...seeds(query), filtered: filtered(options), results: idsOf(hits).length, ids: idsOf(hits), ms }),
    );
  };
  proto.onEvent = function onEvent(fn) {
    return addEventListenerTo(this, fn);
  };
  proto.emitLoaded = function emitLoaded(ms) {
    if (!hasListeners(this)) return;
    let status;
    try {
      status = this.status();
    } catch {
      status = {};
    }
    // An engine behind a worker answers status() with a promise: emit once it has answered.
    if (status && typeof status.then === 'function') {
      status.then(
        (s) => emit(this, loadedEvent(this, ms, s ?? {})),
        () => emit(this, loadedEvent(this, ms, {})),
      );
    } else {
      emit(this, loadedEvent(this, ms, status ?? {}));
    }
  };
  proto.picked = function picked(id, info = {}) {
    if (!hasListeners(this)) return;
    const position = Number.isSafeInteger(info.position) && info.position >= 0 ? info.position : null;
    emit(this, { type: 'picked', id, from: typeof info.from === 'string' ? info.from : 'other', position });
  };
  return Engine;
}
