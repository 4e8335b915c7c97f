// Every string the page shows, in English and Swedish, in one place. The language is `?lang=en|sv`
// when given, else the first of the browser's languages (navigator.languages) we have, else
// English. index.html carries the English text as written; elements marked `data-i18n="key"`
// (text) and `data-i18n-attr="attr:key attr:key"` (attributes) are translated by `translatePage`.
// Values are strings, or functions of parameters for the few that need numbers or names.

export const LANGS = ['en', 'sv'];

const en = {
  title: 'playalike: games that play alike',
  description: 'Find video games that play alike. Runs entirely in your browser.',
  skip: 'Skip to search',
  tagline: 'Games that play alike, found in your browser.',
  langSwitch: 'Svenska',
  langSwitchLabel: 'På svenska',
  loadingModel: 'Loading the model…',
  noModel: 'No model loaded.',
  modelDownload: 'Model download',
  progressOf: ({ loaded, total }) => `${loaded} of ${total}`,
  errorDefault: 'The model could not be loaded',
  retry: 'Try again',
  searchLabel: 'Find a game you like',
  searchPlaceholder: 'e.g. Witcher, Portal, Zelda…',
  searchHint: 'Type a title, use ↑ ↓ to choose and Enter to pick.',
  suggestionsLabel: 'Suggestions',
  suggestionCount: ({ n }) => (n ? `${n} suggestion${n === 1 ? '' : 's'}` : 'No suggestions'),
  noMatch: 'No matching title',
  likedHeading: 'Liked games',
  clearLiked: 'Clear liked games',
  filters: 'Filters',
  platform: 'Platform',
  anyPlatform: 'Any platform',
  platformN: ({ id }) => `Platform ${id}`,
  releasedFrom: 'Released from',
  releasedTo: 'to',
  year: 'year',
  minRating: 'Minimum rating',
  anyRating: 'Any',
  mainOnly: 'Main games only',
  mainGames: 'main games',
  resetFilters: 'Reset filters',
  recommendations: 'Recommendations',
  recsEmpty: 'No game matches these filters. Loosen them to see more.',
  startHeading: 'Popular games to start from',
  startHint: 'Pick one to see games that play like it, or search above.',
  gamesLike: ({ name }) => `Games like ${name}`,
  gamesLikeN: ({ n }) => `Games like your ${n} picks`,
  notInModel: ({ id }) => `Game ${id} is not in this model.`,
  released: 'Released',
  unknown: 'unknown',
  platforms: 'Platforms',
  genres: 'Genres',
  rating: 'Rating',
  ratingValue: ({ r, count }) => `${r} / 100${count ? ` (${count} ratings)` : ''}`,
  notRated: 'not rated',
  liked: '♥ Liked',
  addLiked: '♡ Add to liked games',
  viewIgdb: 'View on IGDB',
  removeLiked: ({ name }) => `Remove ${name} from liked games`,
  likeToggle: ({ name, liked }) => (liked ? `Remove ${name} from liked games` : `Add ${name} to liked games`),
  rated: ({ r }) => `rated ${r}`,
  because: ({ reasons }) => `because: ${reasons}`,
  becauseOverall: 'because: similar overall',
  igdbSimilar: 'IGDB lists it as similar',
  field: { genres: 'genre', themes: 'theme', platforms: 'platform', modes: 'mode', views: 'view', series: 'series', studio: 'studio', engine: 'engine' },
  modelVersion: ({ v }) => `Model v${v}`,
  modelUnpublished: 'Model (unpublished)',
  trained: ({ date }) => `trained ${date}`,
  games: ({ n }) => `${n} games`,
  thousands: ',',
  footer: 'Data provided by <a href="https://www.igdb.com/">IGDB</a>. Recommendations are computed on your device; nothing you type leaves the browser.',
  refused: ({ origin }) =>
    `This page loads models only from its own sources; it refused the model at ${origin} that the address names (?model=). ` +
    "Remove ?model= from the address to use the site's own model.",
  packageMissing: ({ detail }) => `The playalike package could not be loaded (${detail}). Build the site with scripts/build-site.sh.`,
  errors: {
    'not-found': 'No model found',
    offline: 'You are offline',
    network: 'The model could not be reached',
    'checksum-mismatch': 'The model download is corrupt',
    'size-mismatch': 'The model download is corrupt',
    'too-large': 'The model is too large',
    corrupt: 'The model file is damaged',
    'unsupported-format': 'This page cannot read this model',
    'bad-pointer': 'The model address is not usable',
    'foreign-origin': 'A model from another site was refused',
    'insecure-context': 'The model cannot be verified here',
    package: 'The page is incomplete',
    engine: 'The page is incomplete',
  },
};

/** @type {typeof en} */
const sv = {
  title: 'playalike: spel som spelas likadant',
  description: 'Hitta tv-spel som spelas likadant. Körs helt i din webbläsare.',
  skip: 'Hoppa till sökningen',
  tagline: 'Spel som spelas likadant, hittade i din webbläsare.',
  langSwitch: 'English',
  langSwitchLabel: 'In English',
  loadingModel: 'Laddar modellen…',
  noModel: 'Ingen modell laddad.',
  modelDownload: 'Nedladdning av modellen',
  progressOf: ({ loaded, total }) => `${loaded} av ${total}`,
  errorDefault: 'Modellen kunde inte laddas',
  retry: 'Försök igen',
  searchLabel: 'Hitta ett spel du gillar',
  searchPlaceholder: 't.ex. Witcher, Portal, Zelda…',
  searchHint: 'Skriv en titel, välj med ↑ ↓ och tryck Enter.',
  suggestionsLabel: 'Förslag',
  suggestionCount: ({ n }) => (n ? `${n} förslag` : 'Inga förslag'),
  noMatch: 'Ingen titel matchar',
  likedHeading: 'Gillade spel',
  clearLiked: 'Töm listan med gillade spel',
  filters: 'Filter',
  platform: 'Plattform',
  anyPlatform: 'Alla plattformar',
  platformN: ({ id }) => `Plattform ${id}`,
  releasedFrom: 'Utgivet från',
  releasedTo: 'till',
  year: 'år',
  minRating: 'Lägsta betyg',
  anyRating: 'Alla',
  mainOnly: 'Bara huvudspel',
  mainGames: 'huvudspel',
  resetFilters: 'Återställ filtren',
  recommendations: 'Rekommendationer',
  recsEmpty: 'Inget spel matchar filtren. Lätta på dem för att se fler.',
  startHeading: 'Populära spel att börja med',
  startHint: 'Välj ett för att se spel som spelas likadant, eller sök ovan.',
  gamesLike: ({ name }) => `Spel som liknar ${name}`,
  gamesLikeN: ({ n }) => `Spel som liknar dina ${n} val`,
  notInModel: ({ id }) => `Spel ${id} finns inte i den här modellen.`,
  released: 'Utgivet',
  unknown: 'okänt',
  platforms: 'Plattformar',
  genres: 'Genrer',
  rating: 'Betyg',
  ratingValue: ({ r, count }) => `${r} / 100${count ? ` (${count} betyg)` : ''}`,
  notRated: 'inget betyg',
  liked: '♥ Gillad',
  addLiked: '♡ Lägg till bland gillade spel',
  viewIgdb: 'Visa på IGDB',
  removeLiked: ({ name }) => `Ta bort ${name} från gillade spel`,
  likeToggle: ({ name, liked }) => (liked ? `Ta bort ${name} från gillade spel` : `Lägg till ${name} bland gillade spel`),
  rated: ({ r }) => `betyg ${r}`,
  because: ({ reasons }) => `eftersom: ${reasons}`,
  becauseOverall: 'eftersom: likartat överlag',
  igdbSimilar: 'IGDB listar det som likartat',
  field: { genres: 'genre', themes: 'tema', platforms: 'plattform', modes: 'spelläge', views: 'perspektiv', series: 'serie', studio: 'studio', engine: 'spelmotor' },
  modelVersion: ({ v }) => `Modell v${v}`,
  modelUnpublished: 'Modell (opublicerad)',
  trained: ({ date }) => `tränad ${date}`,
  games: ({ n }) => `${n} spel`,
  thousands: '\u00a0',
  footer: 'Data från <a href="https://www.igdb.com/">IGDB</a>. Rekommendationerna räknas fram på din enhet; inget du skriver lämnar webbläsaren.',
  refused: ({ origin }) =>
    `Den här sidan laddar bara modeller från sina egna källor; den avvisade modellen på ${origin} som adressen anger (?model=). ` +
    'Ta bort ?model= ur adressen för att använda webbplatsens egen modell.',
  packageMissing: ({ detail }) => `Paketet playalike kunde inte laddas (${detail}). Bygg webbplatsen med scripts/build-site.sh.`,
  errors: {
    'not-found': 'Ingen modell hittades',
    offline: 'Du är offline',
    network: 'Modellen gick inte att nå',
    'checksum-mismatch': 'Nedladdningen av modellen är trasig',
    'size-mismatch': 'Nedladdningen av modellen är trasig',
    'too-large': 'Modellen är för stor',
    corrupt: 'Modellfilen är skadad',
    'unsupported-format': 'Sidan kan inte läsa den här modellen',
    'bad-pointer': 'Modellens adress går inte att använda',
    'foreign-origin': 'En modell från en annan webbplats avvisades',
    'insecure-context': 'Modellen kan inte verifieras här',
    package: 'Sidan är ofullständig',
    engine: 'Sidan är ofullständig',
  },
};

export const TABLES = { en, sv };

/** The page's language: `?lang=` when it names one we have, else the browser's, else English. */
export function pickLang(search = location.search, languages = navigator.languages ?? [navigator.language]) {
  const asked = new URLSearchParams(search).get('lang');
  if (LANGS.includes(asked)) return asked;
  for (const l of languages ?? []) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export const lang = pickLang();
const table = TABLES[lang];

/** The string `key` (a dotted path) in the page's language; functions get `params`. */
export function t(key, params = {}) {
  let v = key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), table);
  if (v === undefined) v = key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), en);
  return typeof v === 'function' ? v(params) : (v ?? key);
}

/** Translates the document: `<html lang>`, the title, and the marked elements. */
export function translatePage(doc = document) {
  doc.documentElement.lang = lang;
  doc.title = t('title');
  doc.querySelector('meta[name="description"]')?.setAttribute('content', t('description'));
  for (const el of doc.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  // The one string with a link in it, from this file only (never from the address or the model).
  for (const el of doc.querySelectorAll('[data-i18n-html]')) el.innerHTML = t(el.dataset.i18nHtml);
  for (const el of doc.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(/\s+/).filter(Boolean)) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
}
