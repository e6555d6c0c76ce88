// Prints the gzip size of every JS/CSS asset in dist/ and of the first load
// (the JS that dist/index.html loads: its entry script plus modulepreloads).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
if (!existsSync(join(dist, 'index.html'))) {
  console.error('size: no dist/index.html — run `npm run build` first');
  process.exit(1);
}
const LIMIT = 200 * 1024;
const assets = join(dist, 'assets');
const gz = (f) => gzipSync(readFileSync(join(assets, f)), { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(1).padStart(8) + ' KB';
const files = readdirSync(assets).filter((f) => /\.(js|css)$/.test(f)).sort();
console.log('asset'.padEnd(44), '     raw', '    gzip');
for (const f of files) {
  const raw = readFileSync(join(assets, f)).length;
  console.log(f.padEnd(44), kb(raw), kb(gz(f)));
}
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
const first = initial.reduce((s, f) => s + gz(f), 0);
const inline = /<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /<style[\s>]/i.test(html);
console.log(`\nfirst load JS (${initial.join(', ')}): ${kb(first).trim()} gzipped (limit 200 KB)`);
console.log(`inline <script>/<style> in dist/index.html: ${inline ? 'YES (violates CSP)' : 'none'}`);
if (first > LIMIT || inline) process.exit(1);
