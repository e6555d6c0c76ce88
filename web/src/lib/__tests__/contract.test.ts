// The contract check of `ops/sw test` (scripts/contract.mjs) on hand-made exchanges: what it
// must refuse, with a message naming the route, the status and what did not match.
import { describe, expect, it } from 'vitest';
import { checkExchange, loadContract } from '../../../scripts/contract.mjs';

const c = loadContract();
const headers = { 'x-request-id': '0123456789abcdef0123456789abcdef', 'content-type': 'application/json; charset=utf-8' };
const endpoint = {
  id: '6f1c5a52-8f0e-4a43-9a53-0b1c2d3e4f50',
  name: 'Example',
  url: 'https://example.com/',
  interval_seconds: 60,
  timeout_seconds: 10,
  expected_status: '2xx-3xx',
  regions: ['local'],
  failure_threshold: 3,
  recovery_threshold: 2,
  paused: false,
  created_at: '2026-12-01T10:00:00.123456Z',
  updated_at: '2026-12-01T10:00:00.123456Z',
  last_status: 'pending',
  last_checked_at: null,
  last_latency_ms: null,
  last_http_status: null,
};
const ex = (method: string, path: string, status: number, body: unknown, extra: Record<string, string> = {}) => ({
  source: 'test',
  method,
  path,
  status,
  headers: { ...headers, ...extra },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const bearer = { 'www-authenticate': 'Bearer realm="api"' };

describe('contract check', () => {
  it('accepts documented answers, with and without the trailing slash', () => {
    expect(checkExchange(c, ex('GET', '/api/endpoints/6f1c5a52-8f0e-4a43-9a53-0b1c2d3e4f50/', 200, endpoint))).toMatchObject({ ok: true });
    expect(checkExchange(c, ex('GET', '/api/auth/me', 401, { detail: 'x' }, bearer))).toMatchObject({ ok: true });
    const list = { count: 2, next: 'http://127.0.0.1:8080/api/endpoints/?page=2&page_size=1', previous: null, results: [endpoint] };
    expect(checkExchange(c, ex('GET', '/api/endpoints/?page_size=1', 200, list))).toMatchObject({ ok: true });
    expect(checkExchange(c, ex('DELETE', '/api/endpoints/6f1c5a52-8f0e-4a43-9a53-0b1c2d3e4f50/', 204, ''))).toMatchObject({ ok: true });
    expect(checkExchange(c, ex('GET', '/api/nope/', 404, { detail: 'Not found.' }))).toMatchObject({ ok: true });
    expect(checkExchange(c, ex('GET', '/assets/main.js', 200, 'x', { 'content-type': 'text/javascript' }))).toMatchObject({ skipped: true });
  });

  it('refuses a status the operation does not list', () => {
    // The message names the route, the status and what the document has instead.
    expect(checkExchange(c, ex('GET', '/api/auth/me/', 418, { detail: 'x' })).error).toMatch(
      /^GET \/api\/auth\/me\/ -> 418: GET \/api\/auth\/me\/ does not document status 418 \(documented: 200, 400, 401, [0-9, ]+\)$/,
    );
  });

  it('refuses a route the document lacks, and a method a path does not list unless 405 with Allow', () => {
    expect(checkExchange(c, ex('GET', '/api/nope/', 200, {})).error).toMatch(/the document has no path \/api\/nope\//);
    expect(checkExchange(c, ex('DELETE', '/api/auth/me/', 200, {})).error).toMatch(/has no DELETE operation in the document \(it lists GET; expected 405\)/);
    expect(checkExchange(c, ex('DELETE', '/api/auth/me/', 405, { detail: 'x' })).error).toMatch(/header Allow is missing/);
    expect(checkExchange(c, ex('DELETE', '/api/auth/me/', 405, { detail: 'x' }, { allow: 'GET' }))).toMatchObject({ ok: true });
  });

  it('refuses missing required headers: WWW-Authenticate on 401, Retry-After on 429', () => {
    expect(checkExchange(c, ex('GET', '/api/auth/me/', 401, { detail: 'x' })).error).toMatch(/-> 401: .*header WWW-Authenticate is missing/);
    expect(checkExchange(c, ex('POST', '/api/auth/token/', 429, { detail: 'x', code: 'throttled' })).error).toMatch(/-> 429: .*header Retry-After is missing/);
    expect(checkExchange(c, ex('POST', '/api/auth/token/', 429, { detail: 'x' }, { 'retry-after': '30' }))).toMatchObject({ ok: true });
  });

  it('refuses bodies that do not match, naming the field', () => {
    const relative = { count: 2, next: '/api/endpoints/?page=2', previous: null, results: [] };
    expect(checkExchange(c, ex('GET', '/api/endpoints/', 200, relative)).error).toMatch(/body\/next must match pattern/);
    expect(checkExchange(c, ex('GET', '/api/endpoints/6f1c5a52-8f0e-4a43-9a53-0b1c2d3e4f50/', 200, { ...endpoint, expected_status: 200 })).error).toMatch(
      /body\/expected_status/,
    );
    expect(checkExchange(c, ex('POST', '/api/endpoints/', 400, { url: 'not a list' })).error).toMatch(/-> 400: /);
    expect(checkExchange(c, ex('DELETE', '/api/endpoints/6f1c5a52-8f0e-4a43-9a53-0b1c2d3e4f50/', 204, 'x')).error).toMatch(/the document says no body/);
    expect(checkExchange(c, ex('GET', '/metrics', 200, 'x')).error).toMatch(/content type application\/json is not documented \(text\/plain\)/);
  });
});
