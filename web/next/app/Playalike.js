'use client';
// The way a Next.js frontend uses playalike: import the package dynamically in an effect (the
// wasm never runs on the server), load the published model once, then query it synchronously.
import { useEffect, useMemo, useState } from 'react';

// Model pointer: `?model=URL` in the address, else NEXT_PUBLIC_PLAYALIKE_MODEL at build time,
// else /latest.json on this site.
function modelUrl() {
  const fromQuery = new URLSearchParams(window.location.search).get('model');
  return fromQuery || process.env.NEXT_PUBLIC_PLAYALIKE_MODEL || '/latest.json';
}

export default function Playalike() {
  const [rec, setRec] = useState(null);
  const [error, setError] = useState(null);
  const [progress, setProgress] = useState(null);
  const [text, setText] = useState('');
  const [picked, setPicked] = useState(null);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const { Recommender } = await import('../playalike/index.js');
        const loaded = await Recommender.load(modelUrl(), { onProgress: (p) => !cancelled && setProgress(p) });
        if (!cancelled) setRec(loaded);
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, []);

  const suggestions = useMemo(() => (rec && text.trim() ? rec.search(text, { k: 8 }) : []), [rec, text]);
  const game = useMemo(() => (rec && picked !== null ? rec.game(picked) : null), [rec, picked]);
  const recs = useMemo(() => (rec && picked !== null ? rec.recommend(picked, { k: 10 }) : []), [rec, picked]);

  if (error) {
    return (
      <div role="alert" className="error">
        {error}
      </div>
    );
  }
  if (!rec) {
    return (
      <p data-testid="loading">
        Loading the model…{' '}
        {progress && progress.total ? `${Math.round((100 * progress.loaded) / progress.total)} %` : ''}
      </p>
    );
  }
  const status = rec.status();
  return (
    <section data-testid="ready">
      <p className="status">
        {Number(status.games).toLocaleString('en')} games · model v{status.modelVersion || rec.source?.pointer?.version || 0}
      </p>
      <label htmlFor="q">Find a game</label>
      <input id="q" type="search" value={text} autoComplete="off" onChange={(e) => setText(e.target.value)} />
      {suggestions.length > 0 && (
        <ul className="suggestions" aria-label="Suggestions">
          {suggestions.map((s) => (
            <li key={s.id}>
              <button
                type="button"
                data-id={s.id}
                onClick={() => {
                  setPicked(s.id);
                  setText('');
                }}
              >
                {s.name} {s.year ? `(${s.year})` : ''}
              </button>
            </li>
          ))}
        </ul>
      )}
      {game && (
        <>
          <h2 data-testid="game" data-id={game.id}>
            Games like {game.name}
          </h2>
          <ol className="recs">
            {recs.map((r) => (
              <li key={r.id} data-id={r.id}>
                <button type="button" onClick={() => setPicked(r.id)}>
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
