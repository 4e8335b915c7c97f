// Site configuration: edit for a deployment. The model URL is not here but in index.html's
// `<meta name="playalike-model">`, where the page can read it before any script file has arrived
// (docs/decisions/506-site-early-pointer.md); `?model=URL` in the address overrides it.

export default {
  /**
   * Models of at least this many bytes (the pointer's `size`) load and run in a Web Worker
   * (pkg/worker-client.js), so that decoding them never blocks the page; smaller ones on the main
   * thread, where they are ready sooner. Measured in docs/decisions/515-worker-mode.md.
   * `Infinity` never uses the worker, 0 always does.
   */
  workerAbove: 2 * 1024 * 1024,
  /** How many recommendations to show. */
  k: 10,
  /** How many popular games a first visit shows before anything is picked. */
  start: 12,
  /** Register the service worker (web/sw.js) that lets a returning visitor load the site offline. */
  serviceWorker: true,
  /**
   * Analytics (docs/decisions/512-analytics-events.md): called with every event of the engine
   * ('loaded', 'searched', 'recommended', 'picked'; pkg/events.d.ts). null: nothing leaves the page.
   * Forward them to your analytics here, e.g. `(e) => window.plausible?.(`playalike ${e.type}`)`,
   * and allow its origin in index.html's Content-Security-Policy. The page also dispatches each
   * one as a `playalike` CustomEvent on `window`.
   */
  onEvent: null,
  /** How many suggestions under the search box. */
  suggestions: 8,
  /** At most this many recommendations from one franchise or series (0 = no limit). */
  maxPerFranchise: 0,
  /** IGDB cover URL; `{cover}` is the image id. */
  coverUrl: 'https://images.igdb.com/igdb/image/upload/t_cover_big/{cover}.jpg',
  /** Platforms offered by the filter (IGDB ids), when the model does not list its own. */
  platforms: [
    [6, 'PC (Windows)'],
    [167, 'PlayStation 5'],
    [48, 'PlayStation 4'],
    [9, 'PlayStation 3'],
    [8, 'PlayStation 2'],
    [7, 'PlayStation'],
    [169, 'Xbox Series X|S'],
    [49, 'Xbox One'],
    [12, 'Xbox 360'],
    [11, 'Xbox'],
    [130, 'Nintendo Switch'],
    [41, 'Wii U'],
    [5, 'Wii'],
    [37, 'Nintendo 3DS'],
    [20, 'Nintendo DS'],
    [21, 'GameCube'],
    [4, 'Nintendo 64'],
    [19, 'Super Nintendo (SNES)'],
    [18, 'Nintendo Entertainment System'],
    [24, 'Game Boy Advance'],
    [46, 'PlayStation Vita'],
    [38, 'PlayStation Portable'],
    [14, 'Mac'],
    [3, 'Linux'],
    [34, 'Android'],
    [39, 'iOS'],
  ],
};
