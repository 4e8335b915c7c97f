// The engine in a Web Worker (a module worker): the other side of ./worker-client.js, which
// starts it and gives the page the same API as `Recommender`, async. Hand-written.
//
// Everything heavy of a load runs here, off the page's main thread: the loader (./loader.js:
// pointer, blob download, size and SHA-256 check, Cache API lookup and store), compiling and
// instantiating the wasm, and decoding the model. The page only posts small messages and gets
// plain objects back (docs/decisions/515-worker-mode.md).
//
// Protocol (one engine per worker; messages are plain objects):
//   page → worker  {id, op, args}          op: load | fromBytes | call | abort
//                  {op: 'wasm', source}    the wasm (a compiled Module or URL) a load announced
//                                          with `wasm: 'later'`; instantiated as soon as it arrives
//                  {op: 'prefetch', pointer: {url, body}, note}
//                                          before any load (the site's head script, which has
//                                          read the pointer): the worker starts downloading the
//                                          blob it names, unless `note` (the loader's cached
//                                          checksum) says the Cache API has it; the load that
//                                          follows takes that download instead of a new one
//   worker → page  {id, ok: true, value}   or {id, ok: false, error: {name, message, code}}
//                  {id, progress}          download progress of a load
//                  {mark, at}              a step of the load, `at` in ms since the epoch
//                  {storage: [key, value]} the loader's localStorage note (workers have no
//                                          localStorage: the page keeps it for the worker)
import { Recommender, ready, isReady } from './index.js';
import { ModelDecoder } from './playalike.js';
import { loadWith, ModelLoadError, parsePointer, MAX_MODEL_BYTES } from './loader.js';

/** The methods a page may call on the engine (everything `Recommender` has that takes JSON). */
const METHODS = new Set(['search', 'recommend', 'popular', 'explain', 'game', 'status', 'prepareSearch']);

/** @type {Recommender | null} */
let engine = null;
/** Aborts of running loads, by message id. */
const aborts = new Map();
/** The wasm the page promised to send later (`wasm: 'later'`, then a `wasm` message). */
let laterWasm = null;
let giveWasm = null;

const post = (msg) => self.postMessage(msg);
const markAt = (name) => post({ mark: name, at: performance.timeOrigin + performance.now() });

/** A thrown value as a plain object that survives postMessage (Error subclasses do not). */
function serializeError(e) {
  if (e && typeof e === 'object') {
    const out = { name: String(e.name ?? 'Error'), message: String(e.message ?? e) };
    if (typeof e.code === 'string') out.code = e.code;
    if (typeof e.kind === 'string') out.kind = e.kind;
    return out;
  }
  return { name: 'Error', message: String(e) };
}

/**
 * The loader reads and writes a localStorage note (its cached blob's checksum) to skip a cache
 * lookup; a worker has no localStorage, so the page hands the notes over with the load and
 * writes back what the loader sets here.
 */
function installStorage(notes) {
  if (globalThis.localStorage) return;
  const map = new Map(Object.entries(notes ?? {}));
  globalThis.localStorage = {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => {
      map.set(k, String(v));
      post({ storage: [k, String(v)] });
    },
    removeItem: (k) => {
      map.delete(k);
      post({ storage: [k, null] });
    },
  };
}

/** A quiet spell of the worker: no message from the page for this long (ms). */
const QUIET_MS = 150;
let lastMessage = 0;

/** Resolves once the page has sent no message for QUIET_MS. */
function whenQuiet() {
  return new Promise((resolve) => {
    const check = () => {
      const quiet = performance.now() - lastMessage;
      if (quiet >= QUIET_MS) resolve();
      else setTimeout(check, QUIET_MS - quiet);
    };
    setTimeout(check, QUIET_MS);
  });
}

/**
 * The loader stores a downloaded blob in the Cache API from a later task, after the decode
 * (decision 505); that copy takes ~100 ms for 12 MB on the thread that makes it, here the
 * worker's, where it would hold up the page's first questions (recommend, game, ...) that arrive
 * just after the load. So the worker's Cache API waits with every `put` until the page has been
 * quiet for QUIET_MS. The loader itself is unchanged.
 */
function deferCachePuts() {
  const storage = globalThis.caches;
  if (!storage || storage.playalikeDeferred) return;
  const wrap = (cache) => ({
    match: (...a) => cache.match(...a),
    keys: (...a) => cache.keys(...a),
    delete: (...a) => cache.delete(...a),
    put: async (...a) => {
      await whenQuiet();
      return cache.put(...a);
    },
  });
  const deferred = {
    playalikeDeferred: true,
    open: async (name) => wrap(await storage.open(name)),
    keys: () => storage.keys(),
    has: (name) => storage.has(name),
    delete: (name) => storage.delete(name),
    match: (...a) => storage.match(...a),
  };
  try {
    Object.defineProperty(globalThis, 'caches', { value: deferred, configurable: true, writable: true });
  } catch {
    // the store then happens at once, as on the main thread
  }
}

/** Downloads started by a `prefetch` message, by blob URL: {got (a promise of their Response), signal}. */
const early = new Map();


/**
 * Starts downloading the blob a pointer names (a `prefetch` message, before any load), reading
 * its body into memory as it arrives so the network does not wait for the load: up to the
 * pointer's size (or MAX_MODEL_BYTES) and no further; any excess is left unread for the loader,
 * whose own checks refuse it. The loader's request for that URL gets a Response replaying it.
 */
function prefetch({ pointer, note } = {}) {
  let parsed;
  try {
    parsed = parsePointer(JSON.parse(pointer.body), pointer.url);
  } catch {
    return; // the load reports it
  }
  if (note === parsed.checksum || early.has(parsed.blobUrl)) return; // cached: the load reads the Cache API
  if (parsed.size > MAX_MODEL_BYTES) return; // refused by the load before any download
  markAt('worker-prefetch');
  const cap = Math.min(parsed.size, MAX_MODEL_BYTES) + 1;
  const entry = { signal: null };
  entry.got = fetch(parsed.blobUrl).then((res) => {
    if (!res.ok || !res.body || typeof res.body.getReader !== 'function') return res;
    const reader = res.body.getReader();
    const chunks = [];
    let buffered = 0;
    let done = false;
    let failed = null;
    let wake = null;
    const pump = async () => {
      try {
        while (buffered < cap) {
          const r = await reader.read();
          if (r.done) {
            done = true;
            break;
          }
          chunks.push(r.value);
          buffered += r.value.length;
          wake?.();
        }
      } catch (e) {
        failed = e;
      }
      wake?.();
    };
    const pumping = pump();
    const body = new ReadableStream({
      async pull(controller) {
        while (!chunks.length && !done && !failed && buffered < cap) await new Promise((resolve) => (wake = resolve));
        wake = null;
        if (entry.signal?.aborted) {
          reader.cancel().catch(() => {});
          return controller.error(entry.signal.reason ?? new DOMException('The load was aborted.', 'AbortError'));
        }
        if (chunks.length) return controller.enqueue(chunks.shift());
        if (failed) return controller.error(failed);
        if (done) return controller.close();
        // Past the cap: the rest comes straight from the network, for the loader to refuse.
        await pumping;
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  });
  entry.got.catch(() => {}); // the load's request reports it
  early.set(parsed.blobUrl, entry);
}

/**
 * A fetch that answers the first request for each `prefetched` URL (what the page already has
 * or has started: the pointer's text, the blob's body as a transferred stream) from the page's
 * copy instead of the network.
 */
function fetchWith(prefetched) {
  const pending = new Map();
  for (const p of [prefetched ?? []].flat()) if (p && typeof p.url === 'string') pending.set(p.url, p);
  return (url, init) => {
    const got = pending.get(url);
    if (got) {
      pending.delete(url);
      const { body, status = 200, headers } = got;
      return Promise.resolve(new Response(body, { status, headers }));
    }
    const take = () => {
      const started = early.get(url);
      if (!started) return fetch(url, init);
      early.delete(url);
      started.signal = init?.signal ?? null;
      if (started.signal?.aborted) return Promise.reject(started.signal.reason ?? new DOMException('The load was aborted.', 'AbortError'));
      return started.got;
    };
    // The blob (not the pointer, which is revalidated): from a prefetch rather than a second download.
    return init?.cache ? fetch(url, init) : take();
  };
}

async function load(id, source, options) {
  installStorage(options.notes);
  deferCachePuts();
  if (options.wasm === 'later' && !laterWasm) laterWasm = new Promise((resolve) => (giveWasm = resolve));
  const wasm = options.wasm === 'later' ? laterWasm.then((source) => ready(source)) : ready(options.wasm);
  wasm.catch(() => {}); // reported through the load's own rejection
  const controller = new AbortController();
  aborts.set(id, controller);
  const streamed = streamInto(wasm);
  try {
    const rec = await loadWith(
      source,
      {
        onProgress: (progress) => post({ id, progress }),
        onChunk: streamed.push,
        cache: options.cache,
        base: options.base,
        signal: controller.signal,
        fetch: fetchWith(options.prefetched),
      },
      async (bytes) => {
        markAt('worker-bytes');
        try {
          await wasm;
        } catch (e) {
          throw new ModelLoadError(`The playalike engine could not be started (${e && e.message ? e.message : e}).`, 'engine', e);
        }
        markAt('worker-engine-ready');
        // The download's SHA-256 has been checked: the decoder fed as it arrived may finish.
        let decoded = streamed.finish(bytes);
        if (decoded) markAt('worker-streamed');
        else decoded = Recommender.fromBytes(bytes);
        markAt('worker-decoded');
        return decoded;
      },
    );
    return adopt(rec);
  } finally {
    streamed.drop();
    aborts.delete(id);
  }
}

/**
 * Downloads that arrive slower than this many bytes per millisecond (20 MB/s) over two windows
 * in a row are decoded as they arrive; faster ones once they are in. A thread decoding does not
 * read its download meanwhile (the browser then pauses it), so decoding early only pays when the
 * network, not this thread, is what the load waits for: on loopback (~100 MB/s here) it cost
 * ~40 ms, at 100 Mbit/s it hides most of the decode (docs/decisions/518-streamed-decode.md).
 */
const STREAM_BELOW = 20_000;
/**
 * Bytes over which the rate is measured, window after window until two in a row are slow (one
 * slow window may only be this thread busy for a moment, which delays its reading, not the
 * network).
 */
const RATE_OVER = 512 << 10;

/**
 * Decodes a download as it arrives when the network is slow (STREAM_BELOW): the bytes go into
 * the engine's ModelDecoder, which indexes the games as soon as their sections are in, while the
 * titles still download. The rate is measured over windows of RATE_OVER bytes (a first burst of
 * pieces that were waiting reads as fast, later windows show the network's pace); once two
 * windows in a row are slow, everything so far and each piece after it is decoded as it comes,
 * as soon as the wasm is ready. `finish(bytes)` (only once the loader has verified the whole
 * download) gives the model, or `null` when the decoder did not see exactly these bytes (a fast
 * or cached download): then the caller decodes them at once. Its errors are `fromBytes`'s on the same bytes.
 */
function streamInto(wasm) {
  let decoder = null;
  let latest = null; // the loader's view of every byte so far
  let pushed = 0;
  let window = null; // [time, bytes] where the current rate window began
  let slow = 0; // slow windows in a row
  let chosen = false;
  let broken = false;
  const drain = () => {
    if (broken || !chosen || !latest || pushed >= latest.length || !isReady()) return;
    try {
      decoder ??= new ModelDecoder();
      decoder.push(latest.subarray(pushed));
      pushed = latest.length;
    } catch {
      broken = true;
    }
  };
  wasm.then(drain, () => {
    broken = true;
  });
  return {
    push(soFar) {
      latest = soFar;
      if (broken) return;
      if (!chosen) {
        const now = performance.now();
        if (!window) window = [now, soFar.length];
        else if (soFar.length - window[1] >= RATE_OVER) {
          slow = (soFar.length - window[1]) / Math.max(now - window[0], 1) < STREAM_BELOW ? slow + 1 : 0;
          chosen = slow >= 2;
          if (chosen) markAt('worker-streaming');
          else window = [now, soFar.length];
        }
      }
      drain();
    },
    finish(bytes) {
      drain();
      if (broken || !decoder || pushed !== bytes.length) return null;
      const d = decoder;
      decoder = null;
      try {
        return d.finish();
      } finally {
        d.free();
      }
    },
    drop() {
      decoder?.free();
      decoder = null;
      latest = null;
    },
  };
}

/** Makes `rec` this worker's engine; returns what the page's proxy needs to know about it. */
function adopt(rec) {
  if (engine) engine.free();
  engine = rec;
  const src = rec.source;
  // The pointer's raw JSON is data from the network: clone-safe, but only the documented part goes.
  const source = src ? { blobUrl: src.blobUrl, pointer: src.pointer, checksum: src.checksum, fromCache: src.fromCache, bytes: src.bytes } : undefined;
  return { size: rec.size, source };
}

async function handle(msg) {
  const { op, args = [] } = msg;
  if (op === 'load') return load(msg.id, args[0], args[1] ?? {});
  if (op === 'fromBytes') {
    await ready(args[1]);
    return adopt(Recommender.fromBytes(args[0]));
  }
  if (op === 'call') {
    const [method, params = []] = args;
    if (!METHODS.has(method)) throw new Error(`playalike worker: unknown method ${method}`);
    if (!engine) throw new Error('playalike worker: no model is loaded');
    return engine[method](...params);
  }
  throw new Error(`playalike worker: unknown operation ${op}`);
}

self.addEventListener('message', (event) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  lastMessage = performance.now();
  if (msg.op === 'abort') {
    aborts.get(msg.target)?.abort();
    return;
  }
  if (msg.op === 'wasm') {
    if (!laterWasm) laterWasm = Promise.resolve(msg.source);
    else giveWasm?.(msg.source);
    // Instantiated now, not when the model's bytes are in: a load that follows finds it ready.
    laterWasm.then((source) => ready(source)).catch(() => {});
    return;
  }
  if (msg.op === 'prefetch') {
    prefetch(msg);
    return;
  }
  Promise.resolve()
    .then(() => handle(msg))
    .then(
      (value) => post({ id: msg.id, ok: true, value }),
      (e) => post({ id: msg.id, ok: false, error: serializeError(e) }),
    )
    .finally(() => {
      lastMessage = performance.now();
    });
});

markAt('worker-started');
