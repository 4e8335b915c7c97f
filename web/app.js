// The playalike page: loads the model once, then answers search and recommendations locally.
// Plain ES module, no framework. State lives in the query string so every view is shareable:
//   ?model=URL  game=ID  liked=ID,ID  platform=ID  from=YEAR  to=YEAR  rating=N  main=1  lang=en|sv
// The liked list is also remembered in localStorage, so a visit without `liked=` gets it back.
// Every string shown is in i18n.js.

import config from './config.js';
import * as boot from './boot.js';
import { lang, t, translatePage } from './i18n.js';
import * as events from './events.js';

const $ = (id) => document.getElementById(id);
const els = {
  status: $('status'),
  loading: $('loading'),
  progress: $('progress'),
  progressText: $('progress-text'),
  error: $('error'),
  errorTitle: $('error-title'),
  errorMessage: $('error-message'),
  retry: $('retry'),
  input: $('search-input'),
  suggestions: $('suggestions'),
  searchCount: $('search-count'),
  likedSection: $('liked-section'),
  liked: $('liked'),
  clearLiked: $('clear-liked'),
  filtersBox: $('filters-box'),
  filters: $('filters'),
  filterSummary: $('filter-summary'),
  platform: $('f-platform'),
  from: $('f-from'),
  to: $('f-to'),
  rating: $('f-rating'),
  main: $('f-main'),
  game: $('game'),
  recsSection: $('recs-section'),
  recsHeading: $('recs-heading'),
  recsEmpty: $('recs-empty'),
  recs: $('recs'),
  startSection: $('start-section'),
  start: $('start'),
  langSwitch: $('lang-switch'),
};

/**
 * @type {any} the loaded engine: a Recommender (main thread) or a RecommenderWorker (the same
 * methods, returning promises; web/boot.js picks by the model's size). Every call is awaited, so
 * the page works with either.
 */
let rec = null;
let firstRecsShown = false;
/** game(id) answers of the current engine (a worker answers by message: ask once per id). */
let games = new Map();

// ---------------------------------------------------------------------------------------------
// State <-> URL

/** localStorage key of the liked list (ids, comma separated). */
const LIKED_KEY = 'playalike:liked';

function storedLiked() {
  try {
    return localStorage.getItem(LIKED_KEY) ?? '';
  } catch {
    return ''; // storage disabled: the list lives in the address only
  }
}

function storeLiked(ids) {
  try {
    if (ids.length) localStorage.setItem(LIKED_KEY, ids.join(','));
    else localStorage.removeItem(LIKED_KEY);
  } catch {
    // storage disabled or full: the address still carries the list
  }
}

function readState() {
  const q = new URLSearchParams(location.search);
  const int = (v) => {
    const n = Number.parseInt(v ?? '', 10);
    return Number.isFinite(n) ? n : null;
  };
  const ids = (v) => (v ?? '').split(',').map((s) => int(s)).filter((n) => n !== null);
  return {
    game: int(q.get('game')),
    // The address wins (a shared link); without `liked=`, the list this browser remembers.
    liked: [...new Set(ids(q.has('liked') ? q.get('liked') : storedLiked()))],
    platform: int(q.get('platform')),
    from: int(q.get('from')),
    to: int(q.get('to')),
    rating: int(q.get('rating')),
    main: q.get('main') === '1',
  };
}

let state = readState();

function writeState(push) {
  const q = new URLSearchParams();
  const current = new URLSearchParams(location.search);
  if (current.get('model')) q.set('model', current.get('model'));
  if (current.get('lang')) q.set('lang', current.get('lang'));
  if (state.game !== null) q.set('game', String(state.game));
  if (state.liked.length) q.set('liked', state.liked.join(','));
  if (state.platform !== null) q.set('platform', String(state.platform));
  if (state.from !== null) q.set('from', String(state.from));
  if (state.to !== null) q.set('to', String(state.to));
  if (state.rating !== null) q.set('rating', String(state.rating));
  if (state.main) q.set('main', '1');
  storeLiked(state.liked);
  const search = q.toString();
  const url = `${location.pathname}${search ? `?${search}` : ''}`;
  updateLangSwitch(search);
  if (url === `${location.pathname}${location.search}`) return;
  history[push ? 'pushState' : 'replaceState'](null, '', url);
}

/** The switch to the other language: this view's address with `lang=` set to it. */
function updateLangSwitch(search = location.search.slice(1)) {
  const other = lang === 'sv' ? 'en' : 'sv';
  const q = new URLSearchParams(search);
  q.set('lang', other);
  els.langSwitch.href = `${location.pathname}?${q}`;
  els.langSwitch.lang = other;
  els.langSwitch.hreflang = other;
}

// ---------------------------------------------------------------------------------------------
// Loading

function showProgress({ loaded, total }) {
  if (total) {
    els.progress.max = total;
    els.progress.value = Math.min(loaded, total);
    els.progressText.textContent = t('progressOf', { loaded: formatBytes(loaded), total: formatBytes(total) });
  } else {
    els.progress.removeAttribute('value');
    els.progressText.textContent = formatBytes(loaded);
  }
}

/**
 * An integer with thousands separators, as toLocaleString('en') writes it. Written out because
 * the first toLocaleString in a page initialises ICU's number formatting: 30 to 120 ms measured
 * in headless Chromium, on the way to the first recommendations.
 */
function grouped(n) {
  const x = Math.round(Number(n));
  if (!Number.isFinite(x)) return String(n);
  return String(x).replace(/\B(?=(\d{3})+(?!\d))/g, t('thousands'));
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function showError(err) {
  const code = err && err.code;
  const titles = t('errors');
  els.errorTitle.textContent = code && Object.hasOwn(titles, code) ? titles[code] : t('errorDefault');
  els.errorMessage.textContent = err && err.message ? err.message : String(err);
  els.error.dataset.code = code ?? 'unknown';
  els.error.hidden = false;
  els.loading.hidden = true;
  els.status.textContent = t('noModel');
}

let attempts = 0;

async function load() {
  els.error.hidden = true;
  els.loading.hidden = false;
  els.status.textContent = t('loadingModel');
  // The first attempt adopts what boot.js started while the page was parsed; "Try again" starts over.
  const early = attempts++ === 0;
  const started = early ? 0 : performance.now(); // the first load started with the page
  try {
    await (early ? boot.pkg : import('./pkg/index.js'));
  } catch (e) {
    const err = new Error(t('packageMissing', { detail: e.message }));
    err.code = 'package';
    showError(err);
    return;
  }
  let loaded;
  try {
    if (early || boot.refusedOrigin) {
      const stop = boot.onProgress(showProgress);
      try {
        loaded = await boot.loading;
      } finally {
        stop();
      }
    } else {
      loaded = await boot.loadModel({ onProgress: showProgress });
    }
  } catch (e) {
    // Report to the console as a warning only: the page shows the message.
    console.warn('playalike: model load failed:', e);
    showError(e);
    return;
  }
  performance.mark('playalike:model-loaded');
  if (rec && rec !== loaded) rec.free?.();
  rec = loaded;
  games = new Map();
  els.loading.hidden = true;
  // The loaded model, for the browser console (and the tests): playalike.search('portal')
  // (with the worker engine, `await playalike.search('portal')`).
  window.playalike = rec;
  // Analytics: the engine's events go to window and config.onEvent, never over the network.
  events.listen(rec, performance.now() - started);
  document.documentElement.dataset.modelSource = rec.source?.fromCache ? 'cache' : 'network';
  document.documentElement.dataset.engine = boot.currentMode();
  // What the visitor came for first: the game and its recommendations. The "because" lines, the
  // status line, the platform list, the liked list and the search box follow once that is painted.
  const gen = ++renderGen;
  await Promise.all([renderGame(gen), renderRecs({ explain: false }, gen)]);
  await afterPaint();
  if (firstRecsShown) performance.mark('playalike:first-recs-painted');
  await showStatus();
  fillPlatforms();
  // With the engine in a worker, the search box opens once the worker has built its title index
  // (below), so that no keystroke waits behind that build; on the main thread it opens now.
  const worker = boot.currentMode() === 'worker';
  if (!worker) els.input.disabled = false;
  applyStateToForm();
  await renderLiked(gen);
  renderFilterSummary();
  await fillBecause();
  document.documentElement.dataset.ready = 'true';
  registerWorker();
  // The engine builds its title index on the first search; build it now, while the visitor
  // reads (at 333k games that is ~150 ms that would otherwise land on the first keystroke). A
  // worker builds it off the main thread at once; the main-thread engine waits for an idle moment.
  const idle = worker ? (f) => f() : (window.requestIdleCallback ?? ((f) => setTimeout(f, 50)));
  idle(() =>
    safe(() => rec.prepareSearch(), undefined).then(() => {
      performance.mark('playalike:search-ready');
      if (rec === loaded) els.input.disabled = false;
    }),
  );
}

/**
 * The service worker that keeps the site and its model pointer for offline visits (web/sw.js),
 * registered once the page is ready so that it never competes with the first recommendations.
 */
function registerWorker() {
  if (!config.serviceWorker || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker
    .register(new URL('sw.js', document.baseURI))
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      document.documentElement.dataset.offlineReady = 'true';
    })
    .catch((e) => console.warn('playalike: no offline support:', e));
}

/** Resolves after the next frame is painted (or soon, where frames are not produced: hidden tabs). */
function afterPaint() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

async function showStatus() {
  let s;
  try {
    s = await rec.status();
  } catch {
    s = {};
  }
  const parts = [];
  // The blob says 0 until publishing numbers it; the pointer knows the published version.
  const version = s.modelVersion || rec.source?.pointer?.version;
  if (version !== undefined && version !== null && version !== 0) parts.push(t('modelVersion', { v: String(version).replace(/^v/, '') }));
  else parts.push(t('modelUnpublished'));
  const created = s.createdAt ?? rec.source?.pointer?.createdAt;
  if (created) {
    const d = new Date(created);
    parts.push(t('trained', { date: Number.isNaN(d.getTime()) ? created : d.toISOString().slice(0, 10) }));
  }
  if (s.games !== undefined) parts.push(t('games', { n: grouped(s.games) }));
  const metric = pickMetric(s.metrics);
  if (metric) parts.push(`${metric[0]} ${Number(metric[1]).toFixed(3)}`);
  els.status.textContent = parts.join(' · ');
  els.status.title = s.formatVersion ? `format ${s.formatVersion}` : '';
}

function pickMetric(metrics) {
  if (!metrics) return null;
  const entries = Object.entries(metrics);
  const found = entries.find(([k]) => /recall.*10/i.test(k)) ?? entries.find(([k]) => /recall|hit|ndcg/i.test(k));
  if (!found) return null;
  return [found[0].replace(/_at_|_@_?/i, '@'), found[1]];
}

function fillPlatforms() {
  // The engine has no vocabulary export: the configured common IGDB platforms (web/config.js).
  const list = config.platforms;
  const frag = document.createDocumentFragment();
  for (const [id, name] of list) {
    const o = document.createElement('option');
    o.value = String(id);
    o.textContent = name;
    frag.append(o);
  }
  els.platform.append(frag);
}

// ---------------------------------------------------------------------------------------------
// Search combobox (WAI-ARIA 1.2 combobox with listbox popup)

let suggestions = [];
let active = -1;
/** Counts searches: only the answer to the latest one is shown. */
let searchSeq = 0;

async function onSearchInput(ev) {
  const text = els.input.value.trim();
  const seq = ++searchSeq;
  const found = text && rec ? await safe(() => rec.search(text, { k: config.suggestions }), []) : [];
  if (seq !== searchSeq) return;
  suggestions = found ?? [];
  active = -1;
  renderSuggestions();
  const count = text ? t('suggestionCount', { n: suggestions.length }) : '';
  if (els.searchCount.textContent !== count) els.searchCount.textContent = count;
  if (ev && typeof ev.timeStamp === 'number') {
    // For the benchmark: event creation → suggestions in the DOM.
    try {
      performance.measure('playalike:suggest', { start: ev.timeStamp, end: performance.now() });
    } catch {
      // older browsers
    }
  }
}

function renderSuggestions() {
  const ul = els.suggestions;
  ul.replaceChildren();
  if (!suggestions.length) {
    closeSuggestions();
    if (els.input.value.trim() && rec) {
      const li = document.createElement('li');
      li.className = 'none';
      li.setAttribute('role', 'presentation');
      li.textContent = t('noMatch');
      ul.append(li);
      ul.hidden = false;
    }
    return;
  }
  suggestions.forEach((s, i) => {
    const li = document.createElement('li');
    li.id = `suggestion-${i}`;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', String(i === active));
    li.dataset.id = String(s.id);
    const name = document.createElement('span');
    name.textContent = s.name;
    li.append(name);
    if (s.year) {
      const y = document.createElement('span');
      y.className = 'year';
      y.textContent = ` ${s.year}`;
      li.append(y);
    }
    li.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the input
    li.addEventListener('click', () => pick(s.id, 'search', i));
    ul.append(li);
  });
  ul.hidden = false;
  els.input.setAttribute('aria-expanded', 'true');
  updateActive();
}

function updateActive() {
  const items = els.suggestions.querySelectorAll('[role=option]');
  items.forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
  if (active >= 0 && items[active]) {
    els.input.setAttribute('aria-activedescendant', items[active].id);
    items[active].scrollIntoView({ block: 'nearest' });
  } else {
    els.input.removeAttribute('aria-activedescendant');
  }
}

function closeSuggestions() {
  els.suggestions.hidden = true;
  els.input.setAttribute('aria-expanded', 'false');
  els.input.removeAttribute('aria-activedescendant');
  active = -1;
}

function onSearchKey(e) {
  const open = !els.suggestions.hidden && suggestions.length > 0;
  switch (e.key) {
    case 'ArrowDown':
      if (!open) {
        onSearchInput().then(() => {
          if (suggestions.length) active = 0;
          updateActive();
        });
      } else {
        active = (active + 1) % suggestions.length;
        updateActive();
      }
      e.preventDefault();
      break;
    case 'ArrowUp':
      if (open) {
        active = active <= 0 ? suggestions.length - 1 : active - 1;
        updateActive();
        e.preventDefault();
      }
      break;
    case 'Enter':
      if (open) {
        pick(suggestions[Math.max(active, 0)].id, 'search', Math.max(active, 0));
        e.preventDefault();
      }
      break;
    case 'Escape':
      if (open || !els.suggestions.hidden) closeSuggestions();
      else els.input.value = '';
      e.preventDefault();
      break;
    default:
  }
}

function pick(id, from, position) {
  events.picked(rec, id, from, position);
  closeSuggestions();
  els.input.value = '';
  state.game = id;
  writeState(true);
  render();
  els.game.focus();
}

// ---------------------------------------------------------------------------------------------
// Game card, liked list, recommendations

/** `fn()`'s value (awaited: the worker engine answers with promises), or `fallback` if it fails. */
async function safe(fn, fallback) {
  try {
    return await fn();
  } catch (e) {
    console.warn('playalike:', e);
    return fallback;
  }
}

/** The game (display fields), or null; asked of the engine once per id. */
function gameInfo(id) {
  if (!games.has(id)) games.set(id, safe(() => rec.game(id), null));
  return games.get(id);
}

/** Counts renders: a render that an engine answer outlived (a newer one began) is dropped. */
let renderGen = 0;
const stale = (gen) => gen !== renderGen;

function names(list) {
  return Array.isArray(list) ? list.filter((x) => typeof x === 'string' && x) : [];
}

function coverNode(g, size) {
  const wrap = document.createElement('div');
  wrap.className = `cover ${size}`;
  const placeholder = () => {
    wrap.replaceChildren();
    wrap.classList.add('placeholder');
    const span = document.createElement('span');
    span.setAttribute('aria-hidden', 'true');
    span.textContent = (g?.name ?? '?').replace(/^(the|a)\s+/i, '').slice(0, 1).toUpperCase();
    wrap.append(span);
  };
  if (g && g.cover) {
    const img = document.createElement('img');
    img.alt = '';
    img.loading = 'lazy';
    img.decoding = 'async';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', placeholder, { once: true });
    img.src = config.coverUrl.replace('{cover}', encodeURIComponent(g.cover));
    wrap.append(img);
  } else {
    placeholder();
  }
  return wrap;
}

async function renderGame(gen) {
  const section = els.game;
  const g = state.game === null ? null : await gameInfo(state.game);
  if (stale(gen)) return;
  section.replaceChildren();
  if (state.game === null) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  section.tabIndex = -1;
  if (!g) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = t('notInModel', { id: state.game });
    section.append(p);
    return;
  }
  section.dataset.id = String(g.id);
  section.append(coverNode(g, 'big'));
  const body = document.createElement('div');
  body.className = 'game-body';
  const h = document.createElement('h2');
  h.id = 'game-title';
  h.textContent = g.name;
  section.setAttribute('aria-labelledby', 'game-title');
  body.append(h);
  const meta = document.createElement('dl');
  const row = (label, value) => {
    if (!value) return;
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    meta.append(dt, dd);
  };
  row(t('released'), g.year ? String(g.year) : t('unknown'));
  row(t('platforms'), names(g.platforms).join(', '));
  row(t('genres'), names(g.genres).join(', '));
  if (typeof g.rating === 'number') {
    row(t('rating'), t('ratingValue', { r: Math.round(g.rating), count: g.ratingCount ? grouped(g.ratingCount) : 0 }));
  } else {
    row(t('rating'), t('notRated'));
  }
  body.append(meta);
  const actions = document.createElement('div');
  actions.className = 'actions';
  const like = document.createElement('button');
  like.type = 'button';
  const isLiked = state.liked.includes(g.id);
  like.textContent = isLiked ? t('liked') : t('addLiked');
  like.setAttribute('aria-pressed', String(isLiked));
  like.addEventListener('click', () => toggleLiked(g.id));
  actions.append(like);
  if (g.slug) {
    const a = document.createElement('a');
    a.href = `https://www.igdb.com/games/${encodeURIComponent(g.slug)}`;
    a.textContent = t('viewIgdb');
    a.rel = 'noopener';
    actions.append(a);
  }
  body.append(actions);
  section.append(body);
}

function toggleLiked(id) {
  state.liked = state.liked.includes(id) ? state.liked.filter((x) => x !== id) : [...state.liked, id];
  writeState(true);
  render();
}

async function renderLiked(gen) {
  const infos = await Promise.all(state.liked.map((id) => gameInfo(id)));
  if (stale(gen)) return;
  els.liked.replaceChildren();
  els.likedSection.hidden = state.liked.length === 0;
  for (const [i, id] of state.liked.entries()) {
    const g = infos[i];
    const li = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'link';
    open.textContent = g ? g.name : `#${id}`;
    open.addEventListener('click', () => {
      events.picked(rec, id, 'liked', i);
      state.game = id;
      writeState(true);
      render();
    });
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove';
    remove.textContent = '×';
    remove.setAttribute('aria-label', t('removeLiked', { name: g ? g.name : id }));
    remove.addEventListener('click', () => toggleLiked(id));
    li.append(open, remove);
    els.liked.append(li);
  }
}

function currentFilters() {
  const f = {};
  if (state.platform !== null) f.platforms = [state.platform];
  if (state.from !== null) f.yearMin = state.from;
  if (state.to !== null) f.yearMax = state.to;
  if (state.rating !== null) f.minRating = state.rating;
  if (state.main) f.gameTypes = [0];
  return f;
}

async function seeds() {
  const s = [];
  if (state.game !== null) s.push(state.game);
  for (const id of state.liked) if (!s.includes(id)) s.push(id);
  const known = await Promise.all(s.map((id) => gameInfo(id)));
  return s.filter((_, i) => known[i]);
}

/** Explain's field names → keys of i18n.js's `field` table ('' = no label). */
const FIELD_LABELS = {
  genres: 'genres',
  themes: 'themes',
  platforms: 'platforms',
  game_modes: 'modes',
  player_perspectives: 'views',
  keywords: '',
  franchises: 'series',
  collections: 'series',
  companies: 'studio',
  game_engines: 'engine',
};

async function because(seedIds, id) {
  let best = [];
  let bestTotal = -Infinity;
  const all = await Promise.all(seedIds.map((s) => safe(() => rec.explain(s, id), [])));
  for (const found of all) {
    const reasons = found ?? [];
    const total = reasons.reduce((a, r) => a + (Number(r.weight) || 0), 0);
    if (total > bestTotal) {
      bestTotal = total;
      best = reasons;
    }
  }
  const parts = [];
  for (const r of [...best].filter((x) => x && x.name).sort((a, b) => b.weight - a.weight)) {
    let text;
    if (r.field === 'similar_games') text = t('igdbSimilar');
    else {
      const key = FIELD_LABELS[r.field];
      const label = key === undefined ? r.field : key && t(`field.${key}`);
      text = label ? `${label} ${r.name}` : r.name;
    }
    // A franchise and a collection often share a name: say it once.
    if (!parts.includes(text)) parts.push(text);
    if (parts.length === 3) break;
  }
  return parts.length ? t('because', { reasons: parts.join(' · ') }) : t('becauseOverall');
}

/** "because" lines rendered without text, to fill in by fillBecause(): [element, seed ids, id]. */
let pendingBecause = [];

async function fillBecause() {
  const list = pendingBecause;
  pendingBecause = [];
  const texts = await Promise.all(list.map(([, ids, id]) => because(ids, id)));
  list.forEach(([p], i) => {
    p.textContent = texts[i];
  });
}

async function renderRecs({ explain = true } = {}, gen = renderGen) {
  const ids = await seeds();
  if (stale(gen)) return;
  if (!ids.length) {
    pendingBecause = [];
    els.recs.replaceChildren();
    els.recsSection.hidden = true;
    await renderStart(true, gen);
    return;
  }
  const query = ids.length === 1 ? ids[0] : { liked: ids };
  const opts = { k: config.k, filters: currentFilters() };
  if (config.maxPerFranchise) opts.maxPerFranchise = config.maxPerFranchise;
  const results = (await safe(() => rec.recommend(query, opts), [])) ?? [];
  const [first, infos, whys] = await Promise.all([
    gameInfo(ids[0]),
    Promise.all(results.map((r) => gameInfo(r.id))),
    explain ? Promise.all(results.map((r) => because(ids, r.id))) : null,
  ]);
  if (stale(gen)) return;
  pendingBecause = [];
  els.recs.replaceChildren();
  els.start.replaceChildren();
  els.startSection.hidden = true;
  els.recsSection.hidden = false;
  els.recsHeading.textContent =
    ids.length === 1 ? t('gamesLike', { name: first ? first.name : ids[0] }) : t('gamesLikeN', { n: ids.length });
  els.recsEmpty.hidden = results.length > 0;
  const frag = document.createDocumentFragment();
  for (const [i, r] of results.entries()) {
    const { g, li, body, title, year } = gameItem(r, infos[i], () => {
      events.picked(rec, r.id, 'recommendations', i);
      state.game = r.id;
      writeState(true);
      render();
      els.game.focus();
      window.scrollTo({ top: 0 });
    });
    const why = document.createElement('p');
    why.className = 'because';
    if (whys) why.textContent = whys[i];
    else pendingBecause.push([why, ids, r.id]);
    body.append(title, year, why);
    if (g) {
      const meta = document.createElement('p');
      meta.className = 'rec-meta';
      const bits = [];
      if (typeof g.rating === 'number') bits.push(t('rated', { r: Math.round(g.rating) }));
      const plats = names(g.platforms);
      if (plats.length) bits.push(plats.slice(0, 3).join(', ') + (plats.length > 3 ? ` +${plats.length - 3}` : ''));
      meta.textContent = bits.join(' · ');
      body.append(meta);
    }
    const like = document.createElement('button');
    like.type = 'button';
    like.className = 'like';
    const liked = state.liked.includes(r.id);
    like.textContent = liked ? '♥' : '♡';
    like.setAttribute('aria-pressed', String(liked));
    like.setAttribute('aria-label', t('likeToggle', { name: r.name, liked }));
    like.addEventListener('click', () => toggleLiked(r.id));
    li.append(body, like);
    frag.append(li);
  }
  els.recs.append(frag);
  if (!firstRecsShown && results.length) {
    firstRecsShown = true;
    performance.mark('playalike:first-recs');
  }
}

/**
 * The start of one game's list item, shared by the recommendations and the start list: the
 * item with its cover, a body, the title as a button calling `onPick`, and the year. The caller
 * appends the title and year to the body (with whatever else it shows) and the body to the item.
 */
function gameItem(r, g, onPick) {
  const li = document.createElement('li');
  li.className = 'rec';
  li.dataset.id = String(r.id);
  li.append(coverNode(g ?? r, 'small'));
  const body = document.createElement('div');
  const title = document.createElement('button');
  title.type = 'button';
  title.className = 'rec-title link';
  title.textContent = r.name;
  title.addEventListener('click', onPick);
  const year = document.createElement('span');
  year.className = 'year';
  year.textContent = r.year ? ` ${r.year}` : '';
  return { g, li, body, title, year };
}

/**
 * Before anything is picked: the catalogue's most popular and best-rated games passing the
 * filters, chosen by the engine (`popular`), each a button that picks it as a search would.
 */
async function renderStart(show, gen) {
  const results = show && typeof rec.popular === 'function' ? ((await safe(() => rec.popular({ k: config.start, filters: currentFilters() }), [])) ?? []) : [];
  const infos = await Promise.all(results.map((r) => gameInfo(r.id)));
  if (stale(gen)) return;
  els.start.replaceChildren();
  els.startSection.hidden = true;
  if (!results.length) return;
  const frag = document.createDocumentFragment();
  for (const [i, r] of results.entries()) {
    const { g, li, body, title, year } = gameItem(r, infos[i], () => pick(r.id, 'start', i));
    body.append(title, year);
    if (g && typeof g.rating === 'number') {
      const meta = document.createElement('p');
      meta.className = 'rec-meta';
      meta.textContent = t('rated', { r: Math.round(g.rating) });
      body.append(meta);
    }
    li.append(body);
    frag.append(li);
  }
  els.start.append(frag);
  els.startSection.hidden = false;
}

function renderFilterSummary() {
  const bits = [];
  if (state.platform !== null) bits.push(els.platform.selectedOptions[0]?.textContent ?? `platform ${state.platform}`);
  if (state.from !== null || state.to !== null) bits.push(`${state.from ?? '…'}–${state.to ?? '…'}`);
  if (state.rating !== null) bits.push(`${state.rating}+`);
  if (state.main) bits.push(t('mainGames'));
  els.filterSummary.textContent = bits.length ? `(${bits.join(', ')})` : '';
  if (bits.length) els.filtersBox.open = true;
}

async function render() {
  if (!rec) return;
  const gen = ++renderGen;
  renderFilterSummary();
  await Promise.all([renderGame(gen), renderLiked(gen), renderRecs({}, gen)]);
}

// ---------------------------------------------------------------------------------------------
// Filters form

function applyStateToForm() {
  const ensureOption = (id) => {
    if (id === null || [...els.platform.options].some((o) => o.value === String(id))) return;
    const o = document.createElement('option');
    o.value = String(id);
    o.textContent = t('platformN', { id });
    els.platform.append(o);
  };
  ensureOption(state.platform);
  els.platform.value = state.platform === null ? '' : String(state.platform);
  els.from.value = state.from === null ? '' : String(state.from);
  els.to.value = state.to === null ? '' : String(state.to);
  els.rating.value = state.rating === null ? '' : String(state.rating);
  els.main.checked = state.main;
}

function readForm() {
  const int = (v) => {
    const n = Number.parseInt(v, 10);
    return Number.isFinite(n) ? n : null;
  };
  const next = {
    platform: int(els.platform.value),
    from: int(els.from.value),
    to: int(els.to.value),
    rating: int(els.rating.value),
    main: els.main.checked,
  };
  // A blur can fire `change` again with nothing changed; re-rendering then would replace the
  // button the visitor is clicking.
  if (Object.keys(next).every((k) => next[k] === state[k])) return;
  Object.assign(state, next);
  writeState(false);
  render();
}

// ---------------------------------------------------------------------------------------------
// Wiring

translatePage();
updateLangSwitch();
els.langSwitch.textContent = t('langSwitch');
els.langSwitch.setAttribute('aria-label', t('langSwitchLabel'));
// A liked list remembered from an earlier visit goes into the address, so the view stays shareable.
if (state.liked.length && !new URLSearchParams(location.search).has('liked')) writeState(false);

els.input.addEventListener('input', onSearchInput);
els.input.addEventListener('keydown', onSearchKey);
els.input.addEventListener('blur', () => setTimeout(closeSuggestions, 0));
els.filters.addEventListener('change', readForm);
els.filters.addEventListener('submit', (e) => e.preventDefault());
els.filters.addEventListener('reset', () => setTimeout(readForm, 0));
els.clearLiked.addEventListener('click', () => {
  state.liked = [];
  writeState(true);
  render();
});
els.retry.addEventListener('click', () => load());
window.addEventListener('popstate', () => {
  state = readState();
  applyStateToForm();
  render();
});

load();
