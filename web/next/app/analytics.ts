// The analytics hook of the example: the playalike package emits events (loaded, searched,
// recommended, picked) to a listener and sends nothing itself. Forward them to your own analytics
// here, e.g. `(e) => posthog.capture(`playalike_${e.type}`, e)`. The example logs them to the
// console in development and listens to nothing in production, so nothing leaves the page.
import type { PlayalikeEventListener } from '../playalike/index.js';

export const onPlayalikeEvent: PlayalikeEventListener | undefined =
  process.env.NODE_ENV === 'development' ? (event) => console.debug(`[playalike] ${event.type}`, event) : undefined;
