// The API reference at /api/docs/: Redoc (bundled from npm, no CDN) rendering the document the
// edge serves at /api/schema/ (http/openapi.yaml). A page of its own, so the dashboard's first
// load never carries Redoc. Redoc's standalone bundle (copied by scripts/redoc-bundle.mjs, its
// CDN logo replaced by ours) is a UMD file: Vite copies it into
// dist/assets/ (hashed) and it is loaded as a classic script from our own origin, which makes
// it set window.Redoc (run through the module bundler it would import a module called "null").
import redocUrl from './redoc.standalone.js?url'; // scripts/redoc-bundle.mjs (prebuild)

type RedocApi = {
  init: (spec: string, options: Record<string, unknown>, element: HTMLElement | null, done?: (err?: unknown) => void) => void;
};

function fail(why: string) {
  const p = document.createElement('p');
  p.textContent = `The API reference could not start (${why}); the document itself is at /api/schema/.`;
  document.body.prepend(p);
}

const el = document.getElementById('redoc');
const script = document.createElement('script');
script.src = redocUrl;
script.onerror = () => fail('its script did not load');
script.onload = () => {
  const redoc = (window as unknown as { Redoc?: RedocApi }).Redoc;
  if (!redoc || !el) {
    fail('Redoc is missing');
    return;
  }
  redoc.init(
    el.dataset.specUrl ?? '/api/schema/',
    { expandResponses: '200,201', pathInMiddlePanel: true, nativeScrollbars: true },
    el,
    (err) => {
      if (err) el.setAttribute('data-error', String(err));
      else el.setAttribute('data-ready', 'true');
    },
  );
};
document.head.append(script);
