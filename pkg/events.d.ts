// Types of pkg/events.js (hand-written): the analytics events an engine instance emits.
// Nothing is sent anywhere: the host app forwards them to its own analytics, or does not.

/** A model was loaded (`Recommender.load` with `onEvent`, or the host's `rec.emitLoaded(ms)`). */
export interface LoadedEvent {
  type: 'loaded';
  /** Games in the model. */
  games: number;
  modelVersion: number | string | null;
  /** Blob format, `major.minor`. */
  formatVersion: string | null;
  /** Whether the blob came from the browser's Cache API (null: not loaded by the loader). */
  fromCache: boolean | null;
  /** Size of the blob, bytes (null: not loaded by the loader). */
  bytes: number | null;
  /** Milliseconds from the start of the load to the decoded model (null: not known). */
  ms: number | null;
}

/** `search` answered. `query` is the text as the visitor typed it: forward it only if your privacy policy allows. */
export interface SearchedEvent {
  type: 'searched';
  query: string;
  /** Number of hits. */
  results: number;
  /** Ids of the hits, best first. */
  ids: number[];
  /** Time the engine took, milliseconds. */
  ms: number;
}

/** `recommend` answered. */
export interface RecommendedEvent {
  type: 'recommended';
  /** Ids of the liked seeds. */
  liked: number[];
  /** Ids of the disliked seeds. */
  disliked: number[];
  /** Whether any candidate filter was set. */
  filtered: boolean;
  results: number;
  /** Ids of the recommendations, best first. */
  ids: number[];
  ms: number;
}

/** The host reported that the visitor chose a game (`rec.picked(id, info)`). */
export interface PickedEvent {
  type: 'picked';
  id: number;
  /** Which list it was chosen from, as the host names it, e.g. 'search', 'recommendations'; 'other' when not given. */
  from: string;
  /** Index in that list, 0 = first (null: not given). */
  position: number | null;
}

/** One analytics event; switch on `type`. Events are frozen plain objects. */
export type PlayalikeEvent = LoadedEvent | SearchedEvent | RecommendedEvent | PickedEvent;

export type PlayalikeEventType = PlayalikeEvent['type'];

/** A listener; one that throws never breaks the call that emitted. */
export type PlayalikeEventListener = (event: PlayalikeEvent) => void;

/** What the host says about a pick. */
export interface PickInfo {
  /** The list it was chosen from, e.g. 'search', 'recommendations', 'start'. */
  from?: string;
  /** Index in that list, 0 = first. */
  position?: number;
}

/** The event types, in the order a visit produces them. */
export declare const EVENT_TYPES: readonly PlayalikeEventType[];
