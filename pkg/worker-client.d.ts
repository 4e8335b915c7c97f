// Types of pkg/worker-client.js (hand-written): the engine in a Web Worker, `Recommender`'s API, async.
import type { Hit, RecommendOptions, SearchOptions, RecommendQuery, Filters, Reason, Game, Status, ready } from './index.js';
import type { ModelSource, LoadOptions, ModelSourceInfo } from './loader.js';
import type { PickInfo, PlayalikeEventListener } from './events.js';

/** A response the page hands to the worker's loader (see `WorkerLoadOptions.prefetched`). */
export interface PrefetchedResponse {
  url: string | URL;
  body: string | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array> | null;
  status?: number;
  headers?: Record<string, string>;
}

/** Where the worker script comes from: its URL, a started Worker, or a function returning one. */
export type WorkerOption = string | URL | Worker | (() => Worker);

export interface WorkerLoadOptions extends Omit<LoadOptions, 'fetch' | 'cache'> {
  /** Cache API use: true (default, cache "playalike-models"), false, or a cache name. */
  cache?: boolean | string;
  /**
   * The engine's wasm for the worker (default: playalike_bg.wasm beside the worker script): a
   * URL, bytes or a compiled `WebAssembly.Module`, or a promise of one, sent when it settles
   * (the download starts without waiting for it; a rejected promise falls back to the default).
   */
  wasm?: Parameters<typeof ready>[0] | Promise<Parameters<typeof ready>[0]>;
  /** Analytics: listens to the engine's events (as `onEvent`), starting with 'loaded'; runs on the page. */
  onEvent?: PlayalikeEventListener | undefined;
  /** The worker script (default: worker.js beside this module, which bundlers emit). */
  worker?: WorkerOption;
  /**
   * Responses the page already has or has started (e.g. the pointer's text, or a download's
   * body stream, which is transferred): the worker's first request for each `url` gets that
   * `body` instead of going to the network.
   */
  prefetched?: PrefetchedResponse | PrefetchedResponse[];
  /**
   * With a `worker` the page started earlier: the messages it posted before this call (collected
   * by the page's own listener), e.g. its User Timing marks, handled as if they arrived now.
   */
  received?: unknown[];
}

/** The engine in a Web Worker: the methods of `Recommender`, each returning a Promise. */
export class RecommenderWorker {
  private constructor();
  /**
   * Starts a worker that fetches, verifies, caches and decodes a published model. Rejects with
   * a {@link ModelLoadError} (code 'engine' when the worker or the wasm cannot start).
   */
  static load(source: ModelSource, options?: WorkerLoadOptions): Promise<RecommenderWorker>;
  /** Starts a worker and decodes `bytes` there (copied; moved with `transfer: true`). */
  static fromBytes(
    bytes: Uint8Array | ArrayBuffer,
    options?: { worker?: WorkerOption; wasm?: Parameters<typeof ready>[0]; transfer?: boolean },
  ): Promise<RecommenderWorker>;
  /** Where `load` got the model from (absent after `fromBytes`). */
  readonly source?: ModelSourceInfo;
  /** Number of games. */
  readonly size: number;
  search(text: string, options?: SearchOptions): Promise<Hit[]>;
  /** Builds the title index in the worker now (otherwise the first `search` does). */
  prepareSearch(): Promise<void>;
  recommend(query: RecommendQuery, options?: RecommendOptions): Promise<Hit[]>;
  popular(options?: { k?: number; filters?: Filters }): Promise<Hit[]>;
  explain(a: number, b: number): Promise<Reason[]>;
  game(id: number): Promise<Game | null>;
  status(): Promise<Status>;
  /** Ends the worker, releasing its memory; pending calls reject. */
  free(): void;
  /**
   * Analytics, as on `Recommender`: 'searched' and 'recommended' when `search`/`recommend`
   * answer, and what the host reports with `emitLoaded`/`picked`. Listeners run on the page;
   * nothing is sent anywhere. Returns a function that removes the listener.
   */
  onEvent(listener: PlayalikeEventListener): () => void;
  /** Analytics: the host reports that the visitor chose `id` (emits 'picked'). */
  picked(id: number, info?: PickInfo): void;
  /** Analytics: after `fromBytes`, the host emits 'loaded' (once the worker has told its status). */
  emitLoaded(ms?: number): void;
}

/** Whether this environment can run the engine in a module worker (`Worker` exists). */
export function workerSupported(): boolean;

export { ModelLoadError } from './loader.js';
export default RecommenderWorker;
