// Copies Redoc's standalone bundle (node_modules/redoc) into src/docs/redoc.standalone.js for the
// API reference page (/api/docs/), with its one fetch from a CDN replaced: the side menu's
// "API docs by Redocly" logo (https://cdn.redoc.ly/redoc/logo-mini.svg) becomes our own
// /favicon.svg, so the page loads nothing from elsewhere and stays within its CSP
// (img-src 'self'). Run by `npm run build`/`dev` (prebuild); the output is not committed.
// Fails when the bundle no longer has that URL, so an upgrade of redoc is looked at.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const src = require.resolve('redoc/bundles/redoc.standalone.js');
const out = fileURLToPath(new URL('../src/docs/redoc.standalone.js', import.meta.url));
const CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const text = readFileSync(src, 'utf8');
const count = text.split(CDN_LOGO).length - 1;
if (count !== 1) {
  console.error(`redoc-bundle: expected the CDN logo URL once in ${src}, found it ${count} times`);
  process.exit(1);
}
writeFileSync(out, text.replace(CDN_LOGO, '/favicon.svg'));
