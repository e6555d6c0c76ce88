// Writes the server's common-password list (actors/common/data/common-passwords.txt) from the
// list the sign-up form's strength meter uses: @zxcvbn-ts/language-common's "passwords"
// dictionary (the most common passwords of public breach corpora, by frequency; MIT). One
// password a line, lowercase, in the package's (frequency) order. Run after a version change
// of the package: `node scripts/export-common-passwords.mjs`; the file is committed so the C
// build never needs npm.
import { readFileSync, writeFileSync } from 'node:fs';
import passwords from '@zxcvbn-ts/language-common/dist/passwords.json.mjs';

const pkg = JSON.parse(
  readFileSync(new URL('../node_modules/@zxcvbn-ts/language-common/package.json', import.meta.url)),
);
const out = new URL('../../actors/common/data/common-passwords.txt', import.meta.url);
const seen = new Set();
const lines = [];
for (const p of passwords) {
  const w = String(p).toLowerCase();
  if (w && !w.includes('\n') && w.length <= 128 && !seen.has(w)) {
    seen.add(w);
    lines.push(w);
  }
}
writeFileSync(out, lines.join('\n') + '\n');
console.log(`${lines.length} passwords from ${pkg.name} ${pkg.version} -> ${out.pathname}`);
