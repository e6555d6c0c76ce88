// The API reference at /api/docs/: Redoc (bundled from npm, no CDN) rendering the document the
// edge serves at /api/schema/ (http/openapi.yaml). A page of its own, so the dashboard's first
// load never carries Redoc.
import * as bundle from 'redoc/bundles/redoc.standalone.js';

type RedocApi = {
  init: (spec: string, options: Record<string, unknown>, element: HTMLElement | null, done?: (err?: unknown) => void) => void;
};

const mod = bundle as unknown as { default?: RedocApi } & Partial<RedocApi>;
const redoc: RedocApi | undefined =
  mod.init ? (mod as RedocApi) : (mod.default ?? (window as unknown as { Redoc?: RedocApi }).Redoc);
const el = document.getElementById('redoc');
if (!redoc || !el) {
  document.body.textContent = 'The API reference could not start; the document is at /api/schema/.';
} else {
  redoc.init(
    el.dataset.specUrl ?? '/api/schema/',
    { hideDownloadButton: false, expandResponses: '200,201', pathInMiddlePanel: true, nativeScrollbars: true },
    el,
    (err) => {
      if (err) el.setAttribute('data-error', String(err));
      else el.setAttribute('data-ready', 'true');
    },
  );
}
