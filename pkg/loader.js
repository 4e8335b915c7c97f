// The model loader: fetch the published pointer (latest.json), download the blob it names with
// progress, verify its size and SHA-256, keep it in the browser's Cache API keyed by checksum,
// and hand the bytes to the engine. Hand-written; the wasm glue beside it is generated.
//
// Every failure rejects with a `ModelLoadError`: `message` is a sentence a page can show as is,
// `code` says which kind of failure it was (see `ModelLoadError.codes`).

import { MAX_MODEL_BYTES } from './limits.js';

/** Name of the Cache API cache holding model blobs. */
export const CACHE_NAME = 'playalike-models';

/** Synthetic URL under which a blob is cached (Cache API keys must be http(s) URLs). */
const CACHE_KEY_PREFIX = 'https://playalike.invalid/sha256/';

/**
 * Largest model the loader accepts, bytes: the largest blob the engine reads (its
 * `maxModelBytes()`, which scripts/build-wasm.sh writes into ./limits.js), so a pointer
 * announcing more, or a download running past it, is refused before the page reserves the memory.
 */
export { MAX_MODEL_BYTES };

/** The newest `latest.json` schema this loader reads (docs/decisions/401-bucket-layout.md). */
export const POINTER_SCHEMA = 1;

/** First buffer of a download; it grows with the bytes that arrive, never from a claimed size. */
const FIRST_CHUNK = 1 << 20;

/**
 * A User Timing mark (`playalike:NAME`) for a page's timeline (the web benchmark reads them).
 * Browsers only: Node keeps marks in a global buffer, and a server loading models would fill it.
 */
export function mark(name) {
  if (!globalThis.document) return;
  try {
    globalThis.performance?.mark?.(`playalike:${name}`);
  } catch {
    // marks are diagnostics only
  }
}

/** A loader failure whose message is fit for the page. */
export class ModelLoadError extends Error {
  /**
   * @param {string} message shown to the visitor as is
   * @param {string} code one of ModelLoadError.codes
   * @param {unknown} [cause]
   */
  constructor(message, code, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ModelLoadError';
    this.code = code;
  }
}

ModelLoadError.codes = Object.freeze([
  'not-found', // the pointer or the blob answered 404/410
  'http', // another HTTP error status
  'offline', // the browser is offline
  'network', // the request failed (DNS, refused, CORS, aborted)
  'bad-pointer', // latest.json is not JSON, or lacks or misspells a documented key
  'insecure-context', // no WebCrypto (crypto.subtle): the blob's SHA-256 cannot be checked
  'size-mismatch', // the blob's size differs from the pointer's
  'too-large', // the pointer or the download is larger than any model can be, or decoding it would take more memory than its size allows (engine: too_large)
  'checksum-mismatch', // the blob's SHA-256 differs from the pointer's
  'unsupported-format', // a pointer schema or blob format this version does not read (engine: unsupported_version, obsolete_version)
  'corrupt', // the engine could not decode the blob (engine: truncated, bad_magic, checksum_mismatch, malformed)
  'engine', // the engine itself (the wasm) could not be loaded
]);

/**
 * Reads a pointer (latest.json) strictly, by the bucket layout's documented keys
 * (docs/decisions/401-bucket-layout.md): `schema` 1, `url` (else `absoluteUrl`), `checksum`
 * (SHA-256, lowercase hex) and `size` are required; `version`, `createdAt`, `formatVersion`,
 * `metrics`, `games` are passed on. Unknown keys are ignored (a schema adds keys compatibly); a
 * newer `schema` is refused with `unsupported-format`.
 * @param {any} raw parsed latest.json
 * @param {string} pointerUrl where it came from (blob URLs resolve against it)
 */
export function parsePointer(raw, pointerUrl) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelLoadError(`The model pointer ${pointerUrl} is not a JSON object.`, 'bad-pointer');
  }
  const bad = (what) => new ModelLoadError(`The model pointer ${pointerUrl} ${what}.`, 'bad-pointer');
  const { schema } = raw;
  if (!Number.isSafeInteger(schema) || schema < 1) {
    throw bad(`has no valid "schema" (expected ${POINTER_SCHEMA}, found ${JSON.stringify(schema) ?? 'none'})`);
  }
  if (schema > POINTER_SCHEMA) {
    throw new ModelLoadError(
      `The model pointer ${pointerUrl} uses schema ${schema}, newer than this page reads (${POINTER_SCHEMA}). Update the page or the package.`,
      'unsupported-format',
    );
  }
  const rel = typeof raw.url === 'string' && raw.url !== '' ? raw.url : raw.absoluteUrl;
  if (typeof rel !== 'string' || rel === '') throw bad('does not name a model file (no "url")');
  let blobUrl;
  try {
    blobUrl = new URL(rel, pointerUrl).href;
  } catch (e) {
    throw new ModelLoadError(`The model pointer ${pointerUrl} names an invalid model URL: ${rel}`, 'bad-pointer', e);
  }
  const { checksum, size } = raw;
  if (typeof checksum !== 'string' || !/^[0-9a-f]{64}$/.test(checksum)) {
    throw bad(`has no valid "checksum" (a SHA-256 in lowercase hex is required, found ${JSON.stringify(checksum) ?? 'none'})`);
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw bad(`has no valid "size" (a byte count is required, found ${JSON.stringify(size) ?? 'none'})`);
  }
  return {
    schema,
    version: raw.version,
    blobUrl,
    checksum,
    size,
    createdAt: raw.createdAt,
    formatVersion: raw.formatVersion,
    metrics: raw.metrics,
    games: raw.games,
    raw,
  };
}

/**
 * Classifies a source: a pointer (latest.json) or a blob URL.
 * `{latestUrl}` → pointer; `{url}`/`{blobUrl}` → blob; a string whose path ends in `.json` → pointer,
 * any other string → blob.
 */
export function resolveSource(source, base) {
  const abs = (u) => {
    try {
      return new URL(String(u), base).href;
    } catch (e) {
      throw new ModelLoadError(`Not a valid model URL: ${u}`, 'bad-pointer', e);
    }
  };
  if (source && typeof source === 'object' && !(source instanceof URL)) {
    if (source.latestUrl) return { kind: 'pointer', url: abs(source.latestUrl) };
    const blob = source.blobUrl ?? source.url;
    if (blob) return { kind: 'blob', url: abs(blob) };
    throw new ModelLoadError('No model URL given: pass a URL or {latestUrl}.', 'bad-pointer');
  }
  if (source === undefined || source === null || String(source) === '') {
    throw new ModelLoadError('No model URL given: pass a URL or {latestUrl}.', 'bad-pointer');
  }
  const url = abs(source);
  return { kind: new URL(url).pathname.endsWith('.json') ? 'pointer' : 'blob', url };
}

function defaultBase() {
  const loc = globalThis.location;
  return loc && loc.href ? loc.href : undefined;
}

function isOffline() {
  const nav = globalThis.navigator;
  return !!nav && nav.onLine === false;
}

async function request(fetchFn, url, what, init) {
  let res;
  try {
    res = await fetchFn(url, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    if (isOffline()) {
      throw new ModelLoadError(`You appear to be offline: the ${what} could not be downloaded. Reconnect and reload.`, 'offline', e);
    }
    throw new ModelLoadError(`Could not reach the ${what} at ${url} (network error${e && e.message ? `: ${e.message}` : ''}).`, 'network', e);
  }
  if (res.status === 404 || res.status === 410) {
    throw new ModelLoadError(`No model is published at ${url} (HTTP ${res.status}). Check the model URL.`, 'not-found');
  }
  if (!res.ok) {
    throw new ModelLoadError(`The ${what} at ${url} could not be downloaded (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}).`, 'http');
  }
  return res;
}

/**
 * Reads a response body to bytes, reporting progress. Stops as soon as more than `expected`
 * bytes (the pointer's size) or more than MAX_MODEL_BYTES arrive: an oversized answer is refused
 * without being buffered.
 */
async function readBody(res, total, onProgress, url, expected, onChunk) {
  const tooMuch = (loaded) => {
    if (expected !== undefined && loaded > expected) {
      return new ModelLoadError(
        `The model download is larger than published: expected ${expected} bytes, got more. Reload to try again.`,
        'size-mismatch',
      );
    }
    if (loaded > MAX_MODEL_BYTES) {
      return new ModelLoadError(`The model at ${url} is larger than the ${MAX_MODEL_BYTES} bytes a model may have.`, 'too-large');
    }
    return null;
  };
  const report = (loaded) => {
    if (onProgress) {
      try {
        // A compressed Content-Length can undercount; then the total is unknown.
        onProgress({ loaded, total: total !== undefined && loaded <= total ? total : undefined });
      } catch {
        // a page's progress callback must not break the download
      }
    }
  };
  try {
    if (!res.body || typeof res.body.getReader !== 'function') {
      const bytes = new Uint8Array(await res.arrayBuffer());
      const over = tooMuch(bytes.length);
      if (over) throw over;
      report(bytes.length);
      onChunk?.(bytes);
      return bytes;
    }
    const reader = res.body.getReader();
    // Sized by what arrives (doubling, capped at the expected total): a pointer claiming 1 GiB
    // costs nothing until 1 GiB actually arrives.
    let buf = new Uint8Array(Math.min(total ?? FIRST_CHUNK, FIRST_CHUNK));
    let loaded = 0;
    report(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const over = tooMuch(loaded + value.length);
      if (over) {
        reader.cancel().catch(() => {});
        throw over;
      }
      if (loaded + value.length > buf.length) {
        const want = Math.max(buf.length * 2, loaded + value.length);
        const grown = new Uint8Array(total !== undefined && loaded + value.length <= total ? Math.min(want, total) : want);
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(value, loaded);
      loaded += value.length;
      report(loaded);
      onChunk?.(buf.subarray(0, loaded));
    }
    return loaded === buf.length ? buf : buf.slice(0, loaded);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    if (e instanceof ModelLoadError) throw e;
    if (isOffline()) {
      throw new ModelLoadError('The connection was lost while downloading the model. Reconnect and reload.', 'offline', e);
    }
    throw new ModelLoadError(`The model download from ${url} was interrupted${e && e.message ? `: ${e.message}` : ''}.`, 'network', e);
  }
}

/**
 * SHA-256 of bytes as lowercase hex. Rejects with code `insecure-context` where WebCrypto is
 * unavailable (browsers withhold it from pages not served over HTTPS or from localhost): a model
 * is never loaded unverified.
 */
export async function sha256Hex(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) {
    throw new ModelLoadError(
      "This page cannot verify the model's SHA-256 checksum: the browser offers no WebCrypto (crypto.subtle) here, as on pages not served over HTTPS. Open the page over HTTPS.",
      'insecure-context',
    );
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** The name of the browser cache the `cache` option asks for; undefined for none or a Cache object. */
function cacheNameOf(option) {
  if (option === false || (option && typeof option === 'object')) return undefined;
  return typeof option === 'string' ? option : CACHE_NAME;
}

async function openCache(option) {
  if (option && typeof option === 'object') return option; // an injected Cache (tests)
  const name = cacheNameOf(option);
  const storage = globalThis.caches;
  if (!name || !storage) return undefined; // no cache asked for; Node, insecure origins
  try {
    return await storage.open(name);
  } catch {
    return undefined; // private mode, quota, disabled storage: load without cache
  }
}

/** localStorage key prefix of the note kept by `noteStored` (followed by the cache's name). */
const CACHE_KEY_NOTE = 'playalike:cached:';

/**
 * The checksum of the blob the browser's model cache `name` holds, as this loader last stored
 * it: a string, `null` when it stored none, `undefined` when unknown (no localStorage, or it is
 * blocked). A first visit's cache lookup takes tens of milliseconds in a fresh browser profile;
 * this synchronous note lets the download start without it. The cache itself stays the truth:
 * when the note says "stored", the blob is still looked up and verified.
 */
function storedChecksum(name) {
  try {
    const storage = globalThis.localStorage;
    return storage ? storage.getItem(`${CACHE_KEY_NOTE}${name}`) : undefined;
  } catch {
    return undefined;
  }
}

function noteStored(name, checksum) {
  try {
    if (checksum) globalThis.localStorage?.setItem(`${CACHE_KEY_NOTE}${name}`, checksum);
    else globalThis.localStorage?.removeItem(`${CACHE_KEY_NOTE}${name}`);
  } catch {
    // the note is only a shortcut
  }
}

async function cacheGet(cache, checksum, name) {
  if (!cache || !checksum) return undefined;
  try {
    const hit = await cache.match(CACHE_KEY_PREFIX + checksum);
    if (!hit) return undefined;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    const actual = await sha256Hex(bytes);
    if (actual !== checksum) {
      await cache.delete(CACHE_KEY_PREFIX + checksum);
      if (name) noteStored(name, null);
      return undefined;
    }
    return bytes;
  } catch {
    return undefined;
  }
}

async function cachePut(cache, checksum, bytes, name) {
  if (!cache || !checksum) return;
  try {
    const key = CACHE_KEY_PREFIX + checksum;
    await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
    if (name) noteStored(name, checksum);
    // Keep only the current model: older blobs are dead weight once the pointer moved on.
    for (const req of await cache.keys()) {
      const url = typeof req === 'string' ? req : req.url;
      if (url.startsWith(CACHE_KEY_PREFIX) && url !== key) await cache.delete(req);
    }
  } catch {
    // quota exceeded or storage disabled: the model still works, only the next visit re-downloads
  }
}

/**
 * Fetches and verifies model bytes.
 *
 * @param {string | URL | {latestUrl?: string, url?: string, blobUrl?: string}} source
 * @param {{onProgress?: (p: {loaded: number, total?: number}) => void, fetch?: typeof fetch,
 *          cache?: boolean | string | Cache, signal?: AbortSignal, base?: string,
 *          onChunk?: (soFar: Uint8Array) => void}} [options] `onChunk` gets, as each piece of a
 *          downloaded blob arrives, a view of all its bytes so far (valid until the next piece),
 *          after the size checks and before the checksum is known
 *          (the engine's worker decodes as the bytes arrive, docs/decisions/518-streamed-decode.md);
 *          not called for a blob read from the cache. Internal: not part of the package's types.
 * @returns {Promise<{bytes: Uint8Array, blobUrl: string, pointer?: object, checksum?: string,
 *                    fromCache: boolean, stored?: Promise<void>}>} (`stored` settles when the
 *                    blob is in the cache)
 */
export async function fetchModelBytes(source, options = {}) {
  const fetchFn = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (!fetchFn) throw new ModelLoadError('This environment has no fetch(); load the bytes yourself and call fromBytes.', 'network');
  const { kind, url } = resolveSource(source, options.base ?? defaultBase());
  const signal = options.signal;

  // Opening the cache overlaps with fetching the pointer.
  const cacheReady = openCache(options.cache);
  let pointer;
  let blobUrl = url;
  if (kind === 'pointer') {
    // The pointer is small and changes when a model is published: always revalidate it.
    const res = await request(fetchFn, url, 'model pointer', { cache: 'no-cache', signal });
    let raw;
    try {
      raw = JSON.parse(await res.text());
    } catch (e) {
      throw new ModelLoadError(`The model pointer ${url} is not valid JSON.`, 'bad-pointer', e);
    }
    pointer = parsePointer(raw, res.url || url);
    blobUrl = pointer.blobUrl;
    mark('pointer-fetched');
  }
  const checksum = pointer?.checksum;
  // The browser's own cache by name (not an injected Cache object): its note can spare the lookup.
  const cacheName = cacheNameOf(options.cache);
  const note = cacheName && checksum && globalThis.caches ? storedChecksum(cacheName) : undefined;
  if (note !== undefined && note !== checksum) {
    // This loader never stored this blob here (a first visit, or a new model): download now.
    mark('cache-skipped');
  } else {
    const cache = await cacheReady;
    mark('cache-opened');
    const cached = await cacheGet(cache, checksum, cacheName);
    mark('cache-checked');
    if (cached) {
      options.onProgress?.({ loaded: cached.length, total: cached.length, fromCache: true });
      return { bytes: cached, blobUrl, pointer, checksum, fromCache: true };
    }
  }

  if (pointer?.size !== undefined && pointer.size > MAX_MODEL_BYTES) {
    throw new ModelLoadError(
      `The model pointer ${url} announces a model of ${pointer.size} bytes, more than the ${MAX_MODEL_BYTES} a model may have.`,
      'too-large',
    );
  }
  const res = await request(fetchFn, blobUrl, 'model', { signal });
  const header = Number(res.headers.get('content-length'));
  // Content-Length is the encoded size when the server compresses; the pointer's size is exact.
  const plainLength = !res.headers.get('content-encoding') && header > 0 ? header : undefined;
  if (pointer?.size === undefined && plainLength !== undefined && plainLength > MAX_MODEL_BYTES) {
    throw new ModelLoadError(`The model at ${blobUrl} is ${plainLength} bytes, more than the ${MAX_MODEL_BYTES} a model may have.`, 'too-large');
  }
  const total = pointer?.size ?? plainLength;
  const bytes = await readBody(res, total, options.onProgress, blobUrl, pointer?.size, options.onChunk);
  mark('blob-fetched');

  if (pointer?.size !== undefined && bytes.length !== pointer.size) {
    throw new ModelLoadError(
      `The model download is incomplete or corrupt: expected ${pointer.size} bytes, got ${bytes.length}. Reload to try again.`,
      'size-mismatch',
    );
  }
  let stored = Promise.resolve();
  if (checksum) {
    const actual = await sha256Hex(bytes);
    if (actual !== checksum) {
      throw new ModelLoadError(
        'The model download is corrupt: its SHA-256 checksum does not match the published one. Reload to try again.',
        'checksum-mismatch',
      );
    }
    mark('blob-verified');
    // Not awaited, and begun in a later task: storing copies the blob to the browser's storage on
    // this thread (about 140 ms for 12 MB on the test machine), which must not delay decoding and
    // the first answer. Failures only cost the next visit.
    stored = new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => cacheReady)
      .then((cache) => cachePut(cache, checksum, bytes, cacheName));
  }
  return { bytes, blobUrl, pointer, checksum, fromCache: false, stored };
}

/**
 * Turns what the engine's `fromBytes` threw into a ModelLoadError with a page-ready message, by
 * the engine error's `code` (pkg/index.d.ts `EngineErrorCode`); the engine's error is the `cause`.
 */
export function decodeError(e, blobUrl) {
  const detail = e && e.message ? e.message : String(e);
  switch (e && e.code) {
    case 'unsupported_version':
      return new ModelLoadError(
        `This model file (${blobUrl}) uses a newer format than this version of playalike reads (${detail}). Update the page or the package.`,
        'unsupported-format',
        e,
      );
    case 'obsolete_version':
      return new ModelLoadError(
        `This model file (${blobUrl}) uses an older format than this version of playalike reads (${detail}). The model must be rebuilt.`,
        'unsupported-format',
        e,
      );
    case 'too_large':
      return new ModelLoadError(`The model file (${blobUrl}) is too large to decode here (${detail}).`, 'too-large', e);
    default:
      return new ModelLoadError(`The model file (${blobUrl}) is damaged and could not be read (${detail}).`, 'corrupt', e);
  }
}

/**
 * Loads a model: fetch + verify + cache, then `decode(bytes)` (the engine's `fromBytes`).
 * The result gets a read-only `source` property: {blobUrl, pointer, checksum, fromCache, bytes}.
 * @template T
 * @param {Parameters<typeof fetchModelBytes>[0]} source
 * @param {Parameters<typeof fetchModelBytes>[1]} options
 * @param {(bytes: Uint8Array) => T | Promise<T>} decode
 * @returns {Promise<T>}
 */
export async function loadWith(source, options, decode) {
  const got = await fetchModelBytes(source, options);
  let value;
  try {
    value = await decode(got.bytes);
  } catch (e) {
    throw e instanceof ModelLoadError ? e : decodeError(e, got.blobUrl);
  }
  const info = {
    blobUrl: got.blobUrl,
    pointer: got.pointer,
    checksum: got.checksum,
    fromCache: got.fromCache,
    bytes: got.bytes.length,
  };
  if (value && (typeof value === 'object' || typeof value === 'function')) {
    try {
      Object.defineProperty(value, 'source', { value: info, enumerable: false, configurable: true });
    } catch {
      // a frozen object: the caller still gets the model
    }
  }
  return value;
}
