// The page's one script: scripts/build-site.sh bundles it with everything it imports (boot.js,
// app.js, config.js and the package's JS) into a single file, so a first visit waits for one
// script instead of a chain of modules (docs/decisions/507-site-bundle.md). index.html loads it
// as an async module: it runs as soon as it has arrived, before the document is parsed.
//
// boot.js starts the model download and the engine at once; app.js touches the DOM, so it is
// evaluated only once the document is parsed (the bundler keeps a dynamic import lazy).
import './boot.js';

const start = () => import('./app.js');
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
