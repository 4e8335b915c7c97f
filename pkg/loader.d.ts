// Types of pkg/loader.js (hand-written): fetch, verify and cache model blobs. Only what the
// package's entry point (index.js, the one path of package.json's exports map) re-exports is
// declared here; the loader's other exports are the site's, not the package's API.

/** Largest model the loader accepts, bytes: the largest blob the engine reads (generated from the engine). */
export declare const MAX_MODEL_BYTES: number;

/** Progress of a model download. `total` is undefined when the size is not known in advance. */
export interface LoadProgress {
  loaded: number;
  total?: number;
  /** Set when the blob came from the cache (then loaded === total). */
  fromCache?: boolean;
}

/** Where a model comes from: a latest.json pointer or a blob URL. A string ending in `.json` is a pointer. */
export type ModelSource = string | URL | { latestUrl: string } | { url: string } | { blobUrl: string };

export interface LoadOptions {
  /** Called as bytes arrive (and once with the full size on a cache hit). */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Cache API use: true (default, cache "playalike-models"), false, a cache name, or a Cache object.
   * With a cache by name, the loader also keeps the checksum it stored there in localStorage
   * (`playalike:cached:<name>`), so a first visit downloads without a cache lookup.
   */
  cache?: boolean | string | Cache;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Aborts the downloads. */
  signal?: AbortSignal;
  /** Base URL for relative sources (default: the page's location). */
  base?: string;
}

/**
 * latest.json, read strictly by the bucket layout's keys (docs/decisions/401-bucket-layout.md):
 * `schema`, `url` (or `absoluteUrl`), `checksum` and `size` are required.
 */
export interface ModelPointer {
  schema: number;
  version?: number | string;
  blobUrl: string;
  checksum: string;
  size: number;
  createdAt?: string;
  formatVersion?: string;
  metrics?: Record<string, number>;
  games?: number;
  raw: Record<string, unknown>;
}

/** Where a loaded model came from; set as `recommender.source` by `Recommender.load`. */
export interface ModelSourceInfo {
  blobUrl: string;
  pointer?: ModelPointer;
  checksum?: string;
  fromCache: boolean;
  bytes: number;
}

export type ModelLoadErrorCode =
  | 'not-found'
  | 'http'
  | 'offline'
  | 'network'
  | 'bad-pointer'
  | 'insecure-context'
  | 'size-mismatch'
  | 'too-large'
  | 'checksum-mismatch'
  | 'unsupported-format'
  | 'corrupt'
  | 'engine';

/**
 * A load failure; `message` is meant to be shown to the visitor as is. When the engine refused
 * the blob, `cause` is the engine's error (an `EngineError` with its own `code`).
 */
export class ModelLoadError extends Error {
  constructor(message: string, code: ModelLoadErrorCode, cause?: unknown);
  readonly code: ModelLoadErrorCode;
  static readonly codes: readonly ModelLoadErrorCode[];
}

/** Name of the Cache API cache the loader keeps model blobs in by default. */
export const CACHE_NAME: string;
/** Fetches and verifies model bytes (pointer → cache or blob → size and SHA-256), without decoding. */
export function fetchModelBytes(
  source: ModelSource,
  options?: LoadOptions,
): Promise<{ bytes: Uint8Array; blobUrl: string; pointer?: ModelPointer; checksum?: string; fromCache: boolean; stored?: Promise<void> }>;
