'use client';
// Loads a published model in the browser and frees it when the component unmounts: the engine
// holds the model in wasm memory, which the garbage collector does not see, so a page that
// mounts and unmounts the recommender (a route change, a closed panel) must call `free()`.
import { useEffect, useState } from 'react';
import type { LoadProgress, PlayalikeEventListener, Recommender } from '../playalike/index.js';

export type ModelState =
  | { status: 'loading'; progress: LoadProgress | null }
  | { status: 'ready'; rec: Recommender }
  | { status: 'error'; message: string };

declare global {
  interface Window {
    /** The loaded model while the recommender is mounted, for the browser console (and the tests). */
    playalike?: Recommender;
  }
}

/**
 * The model at `modelUrl()` (read in the browser, once per mount). `onEvent` receives the
 * package's analytics events; pass a stable function (or undefined), not a new one per render.
 */
export function useRecommender(modelUrl: () => string, onEvent?: PlayalikeEventListener): ModelState {
  const [state, setState] = useState<ModelState>({ status: 'loading', progress: null });

  useEffect(() => {
    const abort = new AbortController();
    let mounted = true;
    let rec: Recommender | null = null;
    (async () => {
      try {
        // Imported here, in the browser: the wasm never runs during server rendering.
        const { Recommender } = await import('../playalike/index.js');
        const loaded = await Recommender.load(modelUrl(), {
          signal: abort.signal,
          onProgress: (progress) => {
            if (mounted) setState({ status: 'loading', progress });
          },
          ...(onEvent ? { onEvent } : {}),
        });
        if (!mounted) {
          loaded.free(); // unmounted while the decode finished
          return;
        }
        rec = loaded;
        window.playalike = loaded;
        setState({ status: 'ready', rec: loaded });
      } catch (e) {
        if (mounted && !abort.signal.aborted) setState({ status: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    })();
    return () => {
      mounted = false;
      abort.abort(); // a download still running stops
      if (rec) {
        if (window.playalike === rec) delete window.playalike;
        rec.free();
        rec = null;
      }
      // When only the inputs changed (the component stays), nothing may use the freed model.
      setState({ status: 'loading', progress: null });
    };
  }, [modelUrl, onEvent]);

  return state;
}
