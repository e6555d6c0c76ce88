// Issue 17's endpoint settings as the dashboard edits them: HTTP method, headers (write-only
// values), body, redirects, TLS, degraded threshold, certificate alerts and assertions.
// The option lists mirror http/openapi.yaml's enums (Assertion*, HttpMethod).
import type { AssertionComparison, AssertionSource, HttpMethod } from './types';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const satisfies readonly HttpMethod[];
export const SOURCES = ['status_code', 'response_time_ms', 'body', 'json_body', 'header'] as const satisfies readonly AssertionSource[];
export const COMPARISONS = [
  'equals',
  'not_equals',
  'greater_than',
  'less_than',
  'contains',
  'not_contains',
  'matches',
  'not_matches',
  'exists',
  'not_exists',
  'is_empty',
  'not_empty',
] as const satisfies readonly AssertionComparison[];
// The label records below name every value of the contract's enums (a new one fails tsc).
export type Source = AssertionSource;
export type Comparison = AssertionComparison;


export const SOURCE_LABEL: Record<Source, string> = {
  status_code: 'Status code',
  response_time_ms: 'Response time (ms)',
  body: 'Body',
  json_body: 'JSON body',
  header: 'Header',
};
export const COMPARISON_LABEL: Record<Comparison, string> = {
  equals: 'equals',
  not_equals: 'does not equal',
  greater_than: 'greater than',
  less_than: 'less than',
  contains: 'contains',
  not_contains: 'does not contain',
  matches: 'matches (regex)',
  not_matches: 'does not match (regex)',
  exists: 'exists',
  not_exists: 'does not exist',
  is_empty: 'is empty',
  not_empty: 'is not empty',
};
/** Comparisons that take no target. */
export const UNARY: readonly Comparison[] = ['exists', 'not_exists', 'is_empty', 'not_empty'];
/** Sources whose entry names a property (a JSONPath, a header name). */
export const NEEDS_PROPERTY: readonly Source[] = ['json_body', 'header'];

export const MASK = '********';
export const DEFAULT_TLS_DAYS = [14, 7, 1];

/** Days until an ISO instant (rounded down; negative once past). */
export function daysLeft(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.floor((t - now) / 86_400_000);
}

/** "14, 7, 1" → [14, 7, 1]; null when any entry is not a whole number of days 1–365. */
export function parseDays(text: string): number[] | null {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return null;
    const n = Number(p);
    if (n < 1 || n > 365) return null;
    out.push(n);
  }
  return out;
}

/** A human line for one assertion: `json_body $.status equals "ok"`. */
export function describeAssertion(a: { source: string; property?: string | null; comparison: string; target?: unknown }) {
  const prop = a.property ? ` ${a.property}` : '';
  const cmp = COMPARISON_LABEL[a.comparison as Comparison] ?? a.comparison;
  const target = UNARY.includes(a.comparison as Comparison) || a.target == null || a.target === '' ? '' : ` ${JSON.stringify(a.target)}`;
  return `${SOURCE_LABEL[a.source as Source] ?? a.source}${prop} ${cmp}${target}`;
}

