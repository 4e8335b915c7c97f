// Types of the `playalike` npm package (hand-written, matches pkg/index.js and src/wasm.rs;
// checked by `tsc` against tests/types/consumer.ts, and the error codes against the engine's
// `Error::CODES` by crates/engine/tests/js_contract.rs).

/**
 * The `code` of an error the engine throws: one per kind of the engine's `Error`
 * (crates/engine/src/error.rs). Decoding (`fromBytes`): `truncated`, `bad_magic`,
 * `checksum_mismatch`, `malformed` (a damaged blob), `unsupported_version` (a newer format),
 * `obsolete_version` (an older one: rebuild the model), `too_large` (decoding would take more
 * memory than the blob's size allows). Queries: `unknown_game` (an id the model does not
 * hold), `invalid_query` (a bad argument or option). `encode` is the builder's only.
 */
export type EngineErrorCode =
  | 'truncated'
  | 'bad_magic'
  | 'unsupported_version'
  | 'obsolete_version'
  | 'checksum_mismatch'
  | 'malformed'
  | 'too_large'
  | 'unknown_game'
  | 'invalid_query'
  | 'encode';

/** What `fromBytes`, `recommend`, `popular`, `explain`, `search` and `game` throw: an `Error` with a stable `code`. */
export interface EngineError extends Error {
  readonly code: EngineErrorCode;
}

/** One result of `search` or `recommend`. */
export interface Hit {
  id: number;
  name: string;
  /** Year of first release, or null when unknown. */
  year: number | null;
  /** Higher is better; comparable within one query only (search: 0..1). */
  score: number;
}

/** Candidate filters of `recommend`; omitted fields do not restrict. */
export interface Filters {
  /** IGDB platform ids: keep games on at least one. */
  platforms?: number[];
  /** IGDB genre ids: keep games with at least one. */
  genres?: number[];
  yearMin?: number;
  yearMax?: number;
  /** Minimum rating, 0..100. */
  minRating?: number;
  minRatingCount?: number;
  /** IGDB game types (0 = main game). */
  gameTypes?: number[];
  /** Game ids never returned. */
  exclude?: number[];
}

export interface RecommendOptions {
  /** Number of results, 1..1000 (default 10). */
  k?: number;
  filters?: Filters;
  /** At most this many results sharing a franchise or collection (0 = no limit). */
  maxPerFranchise?: number;
}

export interface SearchOptions {
  /** Number of results (default 10). */
  k?: number;
}

/** A liked seed: an id, `[id, weight]` or `{id, weight}` (weight 1 when omitted). */
export type LikedSeed = number | [number, number] | { id: number; weight?: number };

/** What `recommend` accepts: one id, several, or liked and disliked seeds. */
export type RecommendQuery = number | LikedSeed[] | { liked: LikedSeed[]; disliked?: number[] };

/** The `field` of a {@link Reason}: an IGDB field the two games share a value of, or `similar_games` (IGDB lists one as similar to the other). */
export type ReasonField =
  | 'genres'
  | 'themes'
  | 'platforms'
  | 'game_modes'
  | 'player_perspectives'
  | 'keywords'
  | 'franchises'
  | 'collections'
  | 'companies'
  | 'game_engines'
  | 'similar_games';

/** One reason why two games are similar. */
export interface Reason {
  field: ReasonField;
  /** Display name of the shared feature. */
  name: string;
  weight: number;
}

export interface Game {
  id: number;
  name: string;
  slug: string;
  year: number | null;
  rating: number | null;
  ratingCount: number;
  popularity: number;
  /** IGDB cover image id: https://images.igdb.com/igdb/image/upload/t_cover_big/{cover}.jpg */
  cover: string | null;
  gameType: number | null;
  altNames: string[];
  genres: string[];
  themes: string[];
  platforms: string[];
  gameModes: string[];
  playerPerspectives: string[];
  keywords: string[];
  franchises: string[];
  collections: string[];
  companies: string[];
  engines: string[];
  /** IGDB's curated similar games (ids present in the model). */
  similar: number[];
}

export interface Status {
  /** Blob format, `major.minor`. */
  formatVersion: string;
  modelVersion: number;
  /** RFC 3339 UTC. */
  createdAt: string;
  games: number;
  source: string;
  builderVersion: string;
  metrics: Record<string, number>;
}

export class Recommender {
  private constructor();
  /** Decodes a model blob; throws an {@link EngineError} on corrupt, truncated or unsupported input. */
  static fromBytes(bytes: Uint8Array): Recommender;
  /**
   * Fetches, verifies, caches and decodes a published model (loads the wasm as well): `source` is
   * a latest.json URL (or `{latestUrl}`) or a blob URL. Rejects with a {@link ModelLoadError}.
   */
  static load(
    source: ModelSource,
    options?: LoadOptions & {
      wasm?: Parameters<typeof ready>[0];
      /** Analytics: listens to the model's events (as `onEvent`), starting with 'loaded'. */
      onEvent?: PlayalikeEventListener | undefined;
    },
  ): Promise<Recommender>;
  /** Where `load` got the model from (absent after `fromBytes`). */
  readonly source?: ModelSourceInfo;
  /** Number of games. */
  readonly size: number;
  /** Title search as you type; the first call builds the title index (see `prepareSearch`). */
  search(text: string, options?: SearchOptions): Hit[];
  /**
   * Builds the title index now if it is not built yet (otherwise the first `search` does it):
   * `fromBytes` leaves it out (at 333k games it is ~40 % of the load); call this when idle.
   */
  prepareSearch(): void;
  /** Throws an {@link EngineError}: `unknown_game` for a seed the model lacks, `invalid_query` for bad options. */
  recommend(query: RecommendQuery, options?: RecommendOptions): Hit[];
  /**
   * Where a visitor with nothing typed yet could start: the games passing `filters` with the
   * highest popularity plus rating (both priors in 0..1), best first (`k` 1..1000, default 10).
   */
  popular(options?: { k?: number; filters?: Filters }): Hit[];
  /** Throws an {@link EngineError} (`unknown_game`) when either id is not in the model. */
  explain(a: number, b: number): Reason[];
  /** The game, or null for an unknown id. */
  game(id: number): Game | null;
  status(): Status;
  /** Frees the wasm memory held by this instance. */
  free(): void;
  /**
   * Analytics: calls `listener` with this instance's events ('searched' and 'recommended' as
   * `search`/`recommend` answer, and what the host reports with `emitLoaded`/`picked`). Nothing is
   * sent anywhere by the package. Returns a function that removes the listener.
   */
  onEvent(listener: PlayalikeEventListener): () => void;
  /** Analytics: the host reports that the visitor chose `id` (emits 'picked'). */
  picked(id: number, info?: PickInfo): void;
  /** Analytics: a host that loaded the model itself (`fromBytes`) emits 'loaded'; `ms` is how long it took. */
  emitLoaded(ms?: number): void;
}

/** Loads the wasm (browsers and bundlers: await once before `fromBytes`; Node: already done). */
export function ready(
  source?: string | URL | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;
/** Bytes of wasm linear memory (grows with loaded models; never shrinks). */
export function wasmMemoryBytes(): number;
/** Whether the wasm is loaded. */
export function isReady(): boolean;

export { ModelLoadError, fetchModelBytes, CACHE_NAME, MAX_MODEL_BYTES } from './loader.js';
import type { ModelSource, LoadOptions, ModelSourceInfo } from './loader.js';
export { EVENT_TYPES } from './events.js';
import type { PlayalikeEventListener, PickInfo } from './events.js';
export type {
  PlayalikeEvent,
  PlayalikeEventType,
  PlayalikeEventListener,
  PickInfo,
  LoadedEvent,
  SearchedEvent,
  RecommendedEvent,
  PickedEvent,
} from './events.js';
export type { ModelSource, LoadOptions, LoadProgress, ModelPointer, ModelSourceInfo, ModelLoadErrorCode } from './loader.js';

export default Recommender;
