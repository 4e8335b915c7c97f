// A TypeScript app using every export of the `playalike` package, so that `tsc -p tests/types`
// checks the hand-written pkg/index.d.ts and pkg/loader.d.ts: a declaration that is missing,
// misspelt or of the wrong shape fails the test command. Type-checked only, never run.
import Default, {
  CACHE_NAME,
  MAX_MODEL_BYTES,
  ModelLoadError,
  Recommender,
  fetchModelBytes,
  isReady,
  ready,
  wasmMemoryBytes,
} from 'playalike';
import type {
  EngineError,
  EngineErrorCode,
  Filters,
  Game,
  Hit,
  LikedSeed,
  LoadOptions,
  LoadProgress,
  ModelLoadErrorCode,
  ModelPointer,
  ModelSource,
  ModelSourceInfo,
  Reason,
  ReasonField,
  RecommendOptions,
  RecommendQuery,
  SearchOptions,
  Status,
} from 'playalike';

// The loader's own module is not part of the package's API: the exports map does not reach it.
// @ts-expect-error -- 'playalike/loader.js' is not exported
import('playalike/loader.js');

const sameClass: typeof Recommender = Default;

async function start(bytes: Uint8Array): Promise<Recommender> {
  await ready();
  await ready(new URL('https://cdn.example/playalike_bg.wasm'));
  if (!isReady()) throw new Error('not ready');
  const memory: number = wasmMemoryBytes();
  const limit: number = MAX_MODEL_BYTES;
  if (bytes.length > limit || memory < 0) throw new Error('too large');
  return sameClass.fromBytes(bytes);
}

function use(rec: Recommender): void {
  const filters: Filters = { platforms: [6], genres: [12], yearMin: 1990, yearMax: 2020, minRating: 70, minRatingCount: 5, gameTypes: [0], exclude: [1] };
  const options: RecommendOptions = { k: 10, filters, maxPerFranchise: 2 };
  const seeds: LikedSeed[] = [1, [2, 0.5], { id: 3 }, { id: 4, weight: 2 }];
  const queries: RecommendQuery[] = [1, seeds, { liked: seeds, disliked: [5] }];
  for (const q of queries) {
    const hits: Hit[] = rec.recommend(q, options);
    const top: Hit | undefined = hits[0];
    if (top) {
      const year: number | null = top.year;
      const why: Reason[] = rec.explain(1, top.id);
      const fields: ReasonField[] = why.map((r) => r.field);
      console.log(top.name, top.score, year, fields, why.map((r) => `${r.name}:${r.weight}`));
    }
  }
  const search: SearchOptions = { k: 5 };
  rec.prepareSearch();
  const found: Hit[] = rec.search('zelda', search);
  const start: Hit[] = rec.popular({ k: 12, filters });
  const game: Game | null = rec.game(found[0]?.id ?? 1);
  if (game) {
    const names: string[] = [...game.genres, ...game.themes, ...game.platforms, ...game.gameModes, ...game.playerPerspectives,
      ...game.keywords, ...game.franchises, ...game.collections, ...game.companies, ...game.engines, ...game.altNames];
    const cover: string | null = game.cover;
    console.log(game.id, game.name, game.slug, game.year, game.rating, game.ratingCount, game.popularity, game.gameType, game.similar, names, cover);
  }
  const status: Status = rec.status();
  const metrics: Record<string, number> = status.metrics;
  console.log(status.formatVersion, status.modelVersion, status.createdAt, status.games, status.source, status.builderVersion, metrics, start, rec.size);
  const info: ModelSourceInfo | undefined = rec.source;
  const pointer: ModelPointer | undefined = info?.pointer;
  console.log(info?.blobUrl, info?.checksum, info?.fromCache, info?.bytes, pointer?.schema, pointer?.checksum, pointer?.size, pointer?.raw);
  rec.free();
}

/** Engine errors branch on `code`, never on the message. */
function explainFailure(e: unknown): string {
  if (e instanceof ModelLoadError) {
    const code: ModelLoadErrorCode = e.code;
    const known: readonly ModelLoadErrorCode[] = ModelLoadError.codes;
    return known.includes(code) ? code : 'unknown';
  }
  const err = e as EngineError;
  const code: EngineErrorCode = err.code;
  switch (code) {
    case 'unknown_game':
    case 'invalid_query':
      return 'query';
    case 'truncated':
    case 'bad_magic':
    case 'checksum_mismatch':
    case 'malformed':
    case 'unsupported_version':
    case 'obsolete_version':
    case 'too_large':
    case 'encode':
      return 'model';
    default: {
      const never: never = code;
      return never;
    }
  }
}

async function load(): Promise<void> {
  const progress = (p: LoadProgress): void => console.log(p.loaded, p.total, p.fromCache);
  const controller = new AbortController();
  const options: LoadOptions = { onProgress: progress, cache: CACHE_NAME, fetch: globalThis.fetch, signal: controller.signal, base: 'https://example.org/' };
  const sources: ModelSource[] = ['latest.json', new URL('https://example.org/latest.json'), { latestUrl: 'latest.json' }, { url: 'model.bin' }, { blobUrl: 'model.bin' }];
  for (const source of sources) {
    try {
      const got = await fetchModelBytes(source, options);
      await got.stored;
      use(await start(got.bytes));
      use(await Recommender.load(source, { ...options, cache: false, wasm: new URL('https://cdn.example/playalike_bg.wasm') }));
    } catch (e) {
      console.log(explainFailure(e));
    }
  }
  const mine = new ModelLoadError('message', 'corrupt', new Error('cause'));
  console.log(mine.code, mine.message);
}

void load();
