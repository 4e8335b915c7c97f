'use client';
// The way a Next.js frontend uses playalike: the model is loaded in the browser once per mount
// (useRecommender, which frees it on unmount), then queried synchronously; the package's
// analytics events go to app/analytics.ts.
import { useState } from 'react';
import type { Game, Hit, Recommender } from '../playalike/index.js';
import { onPlayalikeEvent } from './analytics';
import GameSearch from './GameSearch';
import { useRecommender } from './useRecommender';

const K = 10;

// Model pointer: `?model=URL` in the address, else NEXT_PUBLIC_PLAYALIKE_MODEL at build time,
// else /latest.json on this site.
function modelUrl(): string {
  const fromQuery = new URLSearchParams(window.location.search).get('model');
  return fromQuery || process.env.NEXT_PUBLIC_PLAYALIKE_MODEL || '/latest.json';
}

export default function Playalike() {
  const model = useRecommender(modelUrl, onPlayalikeEvent);
  if (model.status === 'error') {
    return (
      <div role="alert" className="error">
        {model.message}
      </div>
    );
  }
  if (model.status === 'loading') {
    const { progress } = model;
    return (
      <p data-testid="loading">
        Loading the model…{' '}
        {progress && progress.total ? `${Math.round((100 * progress.loaded) / progress.total)} %` : ''}
      </p>
    );
  }
  // A new model (after loading again) starts with nothing picked.
  return <Recommendations rec={model.rec} />;
}

interface View {
  game: Game;
  recs: Hit[];
}

function Recommendations({ rec }: { rec: Recommender }) {
  const [view, setView] = useState<View | null>(null);

  const show = (id: number, from: string, position: number) => {
    rec.picked(id, { from, position }); // analytics: only the page knows what was chosen
    const game = rec.game(id);
    if (game) setView({ game, recs: rec.recommend(id, { k: K }) });
  };

  const status = rec.status();
  return (
    <section data-testid="ready">
      <p className="status">
        {status.games.toLocaleString('en')} games · model v{status.modelVersion || rec.source?.pointer?.version || 0}
      </p>
      <GameSearch rec={rec} onPick={(hit, position) => show(hit.id, 'search', position)} />
      {view && (
        <>
          <h2 data-testid="game" data-id={view.game.id}>
            Games like {view.game.name}
          </h2>
          <ol className="recs">
            {view.recs.map((r, i) => (
              <li key={r.id} data-id={r.id}>
                <button type="button" onClick={() => show(r.id, 'recommendations', i)}>
                  {r.name}
                </button>{' '}
                {r.year ?? ''}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
