// The engine in a Web Worker, seen from the page: `RecommenderWorker` has the API of
// `Recommender` (./index.js), async. Its worker (./worker.js) downloads, verifies, caches and
// decodes the model, so a big catalogue never blocks the page's main thread; every query is a
// message (well under a millisecond of overhead on top of the engine's own time).
//
//   import { RecommenderWorker } from 'playalike/worker';
//   const rec = await RecommenderWorker.load('https://…/latest.json', { onProgress });
//   const hits = await rec.search('witcher', { k: 8 });
//   rec.free(); // ends the worker and its memory
//
// Bundlers (webpack 5, Vite, Turbopack) recognise `new Worker(new URL('./worker.js',
// import.meta.url), { type: 'module' })` below and emit the worker; a page that bundles this file
// itself can pass the worker script's URL as the `worker` option (docs/decisions/515-worker-mode.md).
import { ModelLoadError } from './loader.js';
import { withEvents } from './events.js';

/** localStorage key prefix of the loader's notes (pkg/loader.js `noteStored`). */
const NOTE_PREFIX = 'playalike:cached:';

function defaultWorker() {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'playalike' });
}

/** The loader's notes in this page's localStorage, for the worker (which has none). */
function readNotes() {
  const notes = {};
  try {
    const storage = globalThis.localStorage;
    if (!storage) return notes;
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key && key.startsWith(NOTE_PREFIX)) notes[key] = storage.getItem(key);
    }
  } catch {
    // storage blocked: the worker looks in its cache instead
  }
  return notes;
}

function writeNote(key, value) {
  if (typeof key !== 'string' || !key.startsWith(NOTE_PREFIX)) return;
  try {
    if (value === null) globalThis.localStorage?.removeItem(key);
    else globalThis.localStorage?.setItem(key, String(value));
  } catch {
    // the note is only a shortcut
  }
}

/** An error posted by the worker, as the Error the main-thread engine would have thrown. */
function reviveError(e) {
  if (!e || typeof e !== 'object') return new Error(String(e));
  if (e.name === 'AbortError') return new DOMException(e.message, 'AbortError');
  if (e.name === 'ModelLoadError') return new ModelLoadError(e.message, e.code);
  const err = new Error(e.message);
  if (e.name && e.name !== 'Error') err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  if (e.kind !== undefined) err.kind = e.kind;
  return err;
}

/** A User Timing mark for a step the worker reported (its clock is converted to the page's). */
function markFromWorker(name, at) {
  if (!globalThis.document || typeof at !== 'number') return;
  try {
    performance.mark(`playalike:${name}`, { startTime: Math.max(0, at - performance.timeOrigin) });
  } catch {
    // marks are diagnostics only
  }
}

/** One worker and the requests waiting for its answers. */
class Channel {
  constructor(worker, received = []) {
    this.worker = worker;
    this.next = 1;
    this.pending = new Map();
    this.closed = null;
    worker.addEventListener('message', (event) => this.receive(event.data));
    // What a started worker posted before this channel listened (its marks).
    for (const msg of received) this.receive(msg);
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      this.close(new ModelLoadError(`The playalike engine's worker failed to start (${event.message || 'script error'}).`, 'engine'));
    });
    worker.addEventListener('messageerror', () => this.close(new Error('playalike worker: a message could not be read')));
  }

  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.mark) return markFromWorker(msg.mark, msg.at);
    if (msg.storage) return writeNote(msg.storage[0], msg.storage[1]);
    const waiting = this.pending.get(msg.id);
    if (!waiting) return;
    if (msg.progress) {
      try {
        waiting.onProgress?.(msg.progress);
      } catch {
        // a page's progress callback must not break the load
      }
      return;
    }
    this.pending.delete(msg.id);
    if (msg.ok) waiting.resolve(msg.value);
    else waiting.reject(reviveError(msg.error));
  }

  request(op, args, { onProgress, transfer, signal } = {}) {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      if (signal) {
        const abort = () => this.worker.postMessage({ op: 'abort', target: id });
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
      }
      this.worker.postMessage({ id, op, args }, transfer ?? []);
    });
  }

  close(reason) {
    if (this.closed) return;
    this.closed = reason;
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(reason);
    this.pending.clear();
  }
}

/** A URL option as an absolute string (the worker resolves against its own address otherwise). */
function absolute(url, base) {
  if (url === undefined || url === null) return undefined;
  if (typeof url === 'object' && !(url instanceof URL)) return url; // {latestUrl} / {url} / a Module
  try {
    return new URL(String(url), base).href;
  } catch {
    return String(url);
  }
}

function startWorker(option) {
  if (typeof option === 'function') return option();
  if (option instanceof Worker) return option;
  if (option !== undefined) return new Worker(option, { type: 'module', name: 'playalike' });
  return defaultWorker();
}

/** The engine in a Web Worker: `Recommender`'s methods, each returning a Promise. */
export class RecommenderWorker {
  /** @private */
  constructor(channel, info) {
    this.channel = channel;
    /** Number of games. */
    this.size = info.size;
    if (info.source) Object.defineProperty(this, 'source', { value: info.source, enumerable: false });
    Object.defineProperty(this, 'channel', { enumerable: false });
  }

  /**
   * Starts a worker and loads a published model in it (pointer, blob, verify, cache, decode):
   * the options of `Recommender.load`, except `fetch` (the worker uses its own), plus `worker`
   * (the worker script's URL, a Worker, or a function returning one) and `prefetched`
   * ({url, body, status?, headers?} or a list of them: a response the page already has or has
   * started for `url`, e.g. the pointer's text or a download's `ReadableStream` body, which is
   * transferred; the worker's first request for `url` gets it instead of the network), and
   * `received` (with a started `worker`: the messages it posted before this call, which the page
   * collected, e.g. its User Timing marks).
   * Rejects with a ModelLoadError.
   */
  static async load(source, options = {}) {
    const started = globalThis.performance?.now?.() ?? Date.now();
    const base = options.base ?? globalThis.location?.href;
    let worker;
    try {
      worker = startWorker(options.worker);
    } catch (e) {
      throw new ModelLoadError(`The playalike engine's worker could not be started (${e && e.message ? e.message : e}).`, 'engine', e);
    }
    const channel = new Channel(worker, Array.isArray(options.received) ? options.received : []);
    const cache = options.cache;
    const prefetched = [options.prefetched ?? []].flat().map((p) => ({ ...p, url: absolute(p.url, base) }));
    const streams = prefetched.map((p) => p.body).filter((b) => typeof ReadableStream === 'function' && b instanceof ReadableStream);
    if (cache && typeof cache === 'object') throw new ModelLoadError('RecommenderWorker.load: `cache` takes a cache name or a boolean (a Cache object cannot be sent to a worker).', 'bad-pointer');
    // A promised wasm (e.g. a Module the page compiles from its preload) follows the load
    // message, so that the download does not wait for the compile.
    const later = options.wasm && typeof options.wasm.then === 'function' ? options.wasm : null;
    if (later) {
      later.then(
        (source) => channel.worker.postMessage({ op: 'wasm', source: absolute(source, base) }),
        () => channel.worker.postMessage({ op: 'wasm', source: undefined }),
      );
    }
    try {
      const info = await channel.request(
        'load',
        [
          absolute(source, base),
          {
            cache,
            base,
            wasm: later ? 'later' : absolute(options.wasm, base),
            prefetched: prefetched.length ? prefetched : undefined,
            notes: cache === false ? {} : readNotes(),
          },
        ],
        { onProgress: options.onProgress, signal: options.signal, transfer: streams },
      );
      const rec = new RecommenderWorker(channel, info);
      // Analytics (./events.js), as Recommender.load: the listener stays on the engine and
      // hears 'loaded' first; it runs on the page, never in the worker.
      if (typeof options.onEvent === 'function') {
        rec.onEvent(options.onEvent);
        rec.emitLoaded((globalThis.performance?.now?.() ?? Date.now()) - started);
      }
      return rec;
    } catch (e) {
      channel.close(e);
      throw e;
    }
  }

  /**
   * Starts a worker and decodes `bytes` in it (copied, or with `{transfer: true}` moved: the
   * caller's buffer is then emptied). Rejects like `Recommender.fromBytes` throws.
   */
  static async fromBytes(bytes, options = {}) {
    const channel = new Channel(startWorker(options.worker));
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    try {
      const transfer = options.transfer ? [view.buffer] : [];
      const info = await channel.request('fromBytes', [view, absolute(options.wasm, globalThis.location?.href)], { transfer });
      return new RecommenderWorker(channel, info);
    } catch (e) {
      channel.close(e);
      throw e;
    }
  }

  /** @private */
  call(method, ...params) {
    return this.channel.request('call', [method, params]);
  }

  search(text, options) {
    return this.call('search', text, options);
  }

  prepareSearch() {
    return this.call('prepareSearch');
  }

  recommend(query, options) {
    return this.call('recommend', query, options);
  }

  popular(options) {
    return this.call('popular', options);
  }

  explain(a, b) {
    return this.call('explain', a, b);
  }

  game(id) {
    return this.call('game', id);
  }

  status() {
    return this.call('status');
  }

  /** Ends the worker: its memory is released, and pending calls reject. */
  free() {
    this.channel.close(new Error('playalike: this RecommenderWorker was freed'));
  }
}

/** Whether this environment can run the engine in a module worker. */
export function workerSupported() {
  return typeof Worker === 'function';
}

// search/recommend emit 'searched'/'recommended' when they answer (rec.onEvent(fn)); picked and
// emitLoaded as on Recommender. Nothing is sent anywhere.
withEvents(RecommenderWorker);

export default RecommenderWorker;
export { ModelLoadError } from './loader.js';
