// Checks HTTP exchanges against the REST contract (http/openapi.yaml). The integration tests'
// client (tests/support/it.c) and the e2e run (e2e/run.mjs) append every exchange with the edge
// to the JSON-lines file in SW_CONTRACT_LOG: {source, method, path, status, headers, body}.
//
//   node scripts/contract.mjs FILE...     # ops/sw test runs it as the "contract" phase
//
// Each exchange must be documented: its path and method an operation of the document (a path
// the document lacks is only allowed as the edge's 404, a method it lacks only as 405 with
// Allow), its status one of the operation's responses, the response's required headers
// present and valid, its content type one the response declares, and its body valid against
// the response's schema (JSON Schema 2020-12, Ajv). Paths outside /api/, /health and /metrics
// (the dashboard's files) are not part of the contract and are skipped. Prints one TAP line per
// source and "# pass N / # fail N"; every mismatch names the source, method, path, status and
// what did not match. Exit 1 on any mismatch, or when a file is missing or empty.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

// (import.meta.dirname: also right under vitest's jsdom environment, where URLs are http:.)
const DOC_PATH = resolvePath(import.meta.dirname ?? dirname(fileURLToPath(import.meta.url)), '../../http/openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function loadContract(file = DOC_PATH) {
  const doc = loadYaml(readFileSync(file, 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi');
  const routes = Object.keys(doc.paths).map((tpl) => {
    const names = [];
    const body = tpl
      .replace(/\/$/, '')
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const m = part.match(/^\{([^}]+)\}$/);
        if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(m[1]);
        return '([^/]+)';
      })
      .join('');
    // The edge accepts every path with and without its trailing slash.
    return { tpl, names, re: new RegExp(`^${body}/?$`) };
  });
  return { doc, ajv, routes, validators: new Map() };
}

const pointer = (parts) => '#/' + parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function resolve(doc, obj, parts) {
  // Follows a local $ref; returns the object and its JSON pointer parts.
  let guard = 0;
  while (obj && obj.$ref && guard++ < 10) {
    parts = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    obj = parts.reduce((o, k) => (o == null ? o : o[k]), doc);
  }
  return [obj, parts];
}

function validatorFor(c, parts) {
  const key = pointer(parts);
  if (!c.validators.has(key)) c.validators.set(key, c.ajv.compile({ $ref: `openapi${key}` }));
  return c.validators.get(key);
}

function paramOk(c, op, pathItem, name, value) {
  const params = [...(pathItem.parameters ?? []), ...(op?.parameters ?? [])].map((p) => resolve(c.doc, p, [])[0]);
  const p = params.find((x) => x.in === 'path' && x.name === name);
  if (!p?.schema) return true;
  const v = c.ajv.compile(p.schema);
  return v(value);
}

/** Finds what the document says about one exchange: {tpl, op, response, parts} or an error. */
export function checkExchange(c, ex) {
  const method = String(ex.method || '').toLowerCase();
  const [rawPath] = String(ex.path || '').split('?');
  const status = String(ex.status);
  const where = `${ex.method} ${ex.path} -> ${status}`;
  let tpl = null;
  let pathItem = null;
  for (const r of c.routes) {
    const m = rawPath.match(r.re);
    if (!m) continue;
    const item = c.doc.paths[r.tpl];
    const op = item[method === 'head' ? 'get' : method];
    if (r.names.every((n, i) => paramOk(c, op, item, n, decodeURIComponent(m[i + 1])))) {
      tpl = r.tpl;
      pathItem = item;
      break;
    }
  }
  let response;
  let parts;
  let opName;
  if (!tpl) {
    if (!/^\/api(\/|$)/.test(rawPath)) return { skipped: true };
    // A path the document does not have: only the edge's 404 is right.
    if (status !== '404') return { error: `${where}: the document has no path ${rawPath} (and only a 404 is expected for unknown /api/ paths)` };
    [response, parts] = resolve(c.doc, { $ref: '#/components/responses/NotFound' }, []);
    opName = `unknown path ${rawPath}`;
  } else {
    const op = pathItem[method === 'head' ? 'get' : method];
    if (!op) {
      const documented = METHODS.filter((m) => pathItem[m]).map((m) => m.toUpperCase()).join(', ');
      if (status !== '405') return { error: `${where}: ${tpl} has no ${ex.method} operation in the document (it lists ${documented}; expected 405)` };
      [response, parts] = resolve(c.doc, { $ref: '#/components/responses/MethodNotAllowed' }, []);
      opName = `${ex.method} ${tpl} (405)`;
    } else {
      opName = `${ex.method} ${tpl}`;
      const responses = op.responses ?? {};
      const key = responses[status] ? status : responses[`${status[0]}XX`] ? `${status[0]}XX` : responses.default ? 'default' : null;
      if (!key) return { error: `${where}: ${opName} does not document status ${status} (documented: ${Object.keys(responses).join(', ')})`, tpl, op: opName };
      [response, parts] = resolve(c.doc, responses[key], ['paths', tpl, method === 'head' ? 'get' : method, 'responses', key]);
    }
  }
  const problems = [];
  const headers = Object.fromEntries(Object.entries(ex.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [name, hdef] of Object.entries(response.headers ?? {})) {
    const [h] = resolve(c.doc, hdef, []);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (h.required) problems.push(`header ${name} is missing`);
      continue;
    }
    if (h.schema) {
      const v = c.ajv.compile(h.schema);
      if (!v(value)) problems.push(`header ${name}: ${JSON.stringify(value)} ${v.errors.map((e) => e.message).join('; ')}`);
    }
  }
  if (ex.body === null && !ex.body_unavailable) problems.push('the body is not UTF-8');
  const body = ex.body ?? '';
  const content = response.content;
  if (method !== 'head' && !ex.body_unavailable) {
    if (!content) {
      if (body.length) problems.push(`the document says no body, got ${body.length} bytes`);
    } else {
      const ctype = String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const media = Object.keys(content).find((m) => m === ctype || (m.endsWith('/*') && ctype.startsWith(m.slice(0, -1))));
      if (!media) {
        problems.push(`content type ${ctype || '(none)'} is not documented (${Object.keys(content).join(', ')})`);
      } else if (content[media].schema) {
        let value = body;
        let parsed = true;
        if (/json/.test(media)) {
          try {
            value = JSON.parse(body);
          } catch {
            parsed = false;
            problems.push(`the body is not JSON: ${JSON.stringify(body.slice(0, 80))}`);
          }
        }
        if (parsed) {
          const v = validatorFor(c, [...parts, 'content', media, 'schema']);
          if (!v(value)) {
            const errs = v.errors.slice(0, 6).map((e) => `body${e.instancePath || ''} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`);
            problems.push(...errs);
          }
        }
      }
    }
  }
  if (problems.length) return { error: `${where}: ${opName}: ${problems.join('; ')}`, tpl, op: opName };
  return { ok: true, tpl, op: opName };
}

function main(files) {
  const c = loadContract();
  const results = [];
  const seen = new Set();
  let n = 0;
  for (const file of files) {
    n += 1;
    if (!existsSync(file)) {
      console.log(`not ok ${n} - ${file}\n  # missing: no exchange was logged (SW_CONTRACT_LOG not passed to the tests?)`);
      results.push('fail');
      continue;
    }
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const bySource = new Map();
    for (const line of lines) {
      const ex = JSON.parse(line);
      const src = ex.source || 'unknown';
      if (!bySource.has(src)) bySource.set(src, { checked: 0, skipped: 0, errors: [] });
      const s = bySource.get(src);
      const r = checkExchange(c, ex);
      if (r.skipped) s.skipped += 1;
      else {
        s.checked += 1;
        if (r.error) s.errors.push(r.error);
        if (r.op) seen.add(r.op.replace(/ \(405\)$/, ''));
      }
    }
    if (!lines.length) {
      console.log(`not ok ${n} - ${file}\n  # empty: no exchange was logged`);
      results.push('fail');
      continue;
    }
    n -= 1;
    for (const [src, s] of [...bySource.entries()].sort()) {
      n += 1;
      const unique = [...new Set(s.errors)];
      if (unique.length) {
        console.log(`not ok ${n} - ${src}: ${s.errors.length} of ${s.checked} responses do not match http/openapi.yaml`);
        for (const e of unique.slice(0, 40)) console.log(`  # ${src}: ${e}`);
        if (unique.length > 40) console.log(`  # ... and ${unique.length - 40} more`);
        results.push('fail');
      } else {
        console.log(`ok ${n} - ${src}: ${s.checked} responses match http/openapi.yaml (${s.skipped} dashboard files skipped)`);
        results.push('pass');
      }
    }
  }
  const all = [];
  for (const [tpl, item] of Object.entries(c.doc.paths))
    for (const m of METHODS) if (item[m]) all.push(`${m.toUpperCase()} ${tpl}`);
  const missing = all.filter((o) => !seen.has(o));
  console.log(`# operations exercised: ${all.length - missing.length} of ${all.length}${missing.length ? ` (not seen: ${missing.join(', ')})` : ''}`);
  console.log(`1..${n}`);
  console.log(`# pass ${results.filter((r) => r === 'pass').length}`);
  console.log(`# fail ${results.filter((r) => r === 'fail').length}`);
  process.exit(results.includes('fail') || !results.length ? 1 : 0);
}

if (process.argv[1] && import.meta.url.startsWith('file:') && fileURLToPath(import.meta.url) === resolvePath(process.argv[1])) main(process.argv.slice(2));
