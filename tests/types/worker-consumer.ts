// A TypeScript app using every export of `playalike/worker` (pkg/worker-client.d.ts), so that
// `tsc -p tests/types` checks it like pkg/index.d.ts. Type-checked only, never run.
import RecommenderWorkerDefault, { ModelLoadError, RecommenderWorker, workerSupported } from 'playalike/worker';
import type { PrefetchedResponse, WorkerLoadOptions, WorkerOption } from 'playalike/worker';
import type { Hit, Reason, Game, Status } from 'playalike';

async function main(): Promise<void> {
  if (!workerSupported()) return;
  const worker: WorkerOption = new URL('https://example.org/pkg/worker.js');
  const prefetched: PrefetchedResponse = { url: 'latest.json', body: '{"schema": 1}', status: 200 };
  const options: WorkerLoadOptions = {
    worker,
    prefetched: [prefetched],
    received: [],
    cache: 'my-cache',
    onProgress: (p) => console.log(p.loaded),
    onEvent: (e) => console.log(e.type),
  };
  let rec: RecommenderWorker;
  try {
    rec = await RecommenderWorker.load('latest.json', options);
  } catch (e) {
    if (e instanceof ModelLoadError) console.log(e.code);
    return;
  }
  const again: RecommenderWorker = await RecommenderWorkerDefault.fromBytes(new Uint8Array(8), { transfer: true });
  again.free();
  const hits: Hit[] = await rec.search('portal', { k: 5 });
  await rec.prepareSearch();
  const recs: Hit[] = await rec.recommend({ liked: [1942] }, { k: 10 });
  const popular: Hit[] = await rec.popular({ k: 3 });
  const why: Reason[] = await rec.explain(1942, 1943);
  const game: Game | null = await rec.game(1942);
  const status: Status = await rec.status();
  console.log(hits.length, recs.length, popular.length, why.length, game?.name, status, rec.size, rec.source?.fromCache);
  const off = rec.onEvent((e) => {
    if (e.type === 'recommended') console.log(e.liked, e.ids);
  });
  rec.picked(1942, { from: 'recommendations', position: 0 });
  rec.emitLoaded(12.5);
  off();
  rec.free();
}

void main();
