// Types of pkg/loader.js (hand-written): fetch, verify and cache model blobs.

/** Largest model the loader accepts, bytes (the engine's 1 GiB payload limit plus the header). */
export declare const MAX_MODEL_BYTES: number;

/** The newest latest.json `schema` the loader reads; a newer one is refused ('unsupported-format'). */
export declare const POINTER_SCHEMA: number;

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

/** A load failure; `message` is meant to be shown to the visitor as is. */
export class ModelLoadError extends Error {
  readonly code: ModelLoadErrorCode;
  static readonly codes: readonly ModelLoadErrorCode[];
}

export const CACHE_NAME: string;
export function parsePointer(raw: unknown, pointerUrl: string): ModelPointer;
export function resolveSource(source: ModelSource, base?: string): { kind: 'pointer' | 'blob'; url: string };
/** Rejects with code 'insecure-context' where WebCrypto (crypto.subtle) is unavailable. */
export function sha256Hex(bytes: Uint8Array): Promise<string>;
export function fetchModelBytes(
  source: ModelSource,
  options?: LoadOptions,
): Promise<{ bytes: Uint8Array; blobUrl: string; pointer?: ModelPointer; checksum?: string; fromCache: boolean; stored?: Promise<void> }>;
/** Sets a User Timing mark `playalike:NAME` in browsers (the page's load timeline); no-op elsewhere. */
export function mark(name: string): void;
export function decodeError(error: unknown, blobUrl: string): ModelLoadError;
export function loadWith<T>(source: ModelSource, options: LoadOptions | undefined, decode: (bytes: Uint8Array) => T | Promise<T>): Promise<T>;
