// The dashboard's own errors go to Sentry only when the server configures a DSN for it:
// GET /api/config/ answers {"sentry": {dsn, environment, release, traces_sample_rate}} or
// {"sentry": null}. Without a DSN the Sentry SDK is never even downloaded: it is imported
// lazily (a chunk of its own, outside the first load), and only after the config says so.
// The edge's CSP allows connect-src to the DSN's host and nothing else.

export type SentrySettings = {
  dsn: string;
  environment: string;
  release: string;
  traces_sample_rate: number;
};
export type PublicConfig = { sentry: SentrySettings | null };

type SentryModule = typeof import('@sentry/react');
type SentryEvent = Parameters<NonNullable<Parameters<SentryModule['init']>[0]>['beforeSend'] & {}>[0];

const SECRET_PARAM = /([?&#](?:[^=&#]*(?:token|refresh|access|password|secret|key|signature|code)[^=&#]*)=)[^&#]*/gi;

/** A URL with the values of secret-looking query parameters replaced (the verification link
 * carries its token in the query), like the server's log scrubbing. */
export function scrubUrl(url: string): string {
  return url.replace(SECRET_PARAM, '$1[redacted]');
}

/** Drops what must never leave the browser: cookies, headers, the user's address, and token
 * values in URLs (the request's and the breadcrumbs'). */
export function scrubEvent<E extends SentryEvent>(event: E): E {
  if (event.request) {
    delete event.request.cookies;
    delete event.request.headers;
    if (event.request.url) event.request.url = scrubUrl(event.request.url);
    if (typeof event.request.query_string === 'string') event.request.query_string = '[redacted]';
  }
  if (event.user) event.user = { id: event.user.id };
  for (const b of event.breadcrumbs ?? []) {
    const data = b.data as Record<string, unknown> | undefined;
    if (data && typeof data.url === 'string') data.url = scrubUrl(data.url);
    if (data && typeof data.from === 'string') data.from = scrubUrl(data.from);
    if (data && typeof data.to === 'string') data.to = scrubUrl(data.to);
  }
  return event;
}

function valid(s: unknown): s is SentrySettings {
  if (!s || typeof s !== 'object') return false;
  const o = s as Record<string, unknown>;
  return typeof o.dsn === 'string' && /^https?:\/\/[0-9a-f]+@/i.test(o.dsn) &&
    typeof o.environment === 'string' && typeof o.release === 'string' &&
    typeof o.traces_sample_rate === 'number' && o.traces_sample_rate >= 0 && o.traces_sample_rate <= 1;
}

export async function fetchPublicConfig(fetchImpl: typeof fetch = fetch): Promise<PublicConfig> {
  const res = await fetchImpl('/api/config/', { headers: { Accept: 'application/json' }, credentials: 'omit' });
  if (!res.ok) return { sentry: null };
  const body = (await res.json()) as { sentry?: unknown };
  return { sentry: valid(body?.sentry) ? body.sentry : null };
}

/** Starts error reporting when the server configures it. Resolves to true when the SDK was
 * started, false when no DSN is configured (or the config could not be read): then nothing was
 * loaded and nothing will ever be sent. Never throws: a broken config must not break the app. */
export async function initErrorReporting(deps: {
  fetchImpl?: typeof fetch;
  loadSdk?: () => Promise<SentryModule>;
} = {}): Promise<boolean> {
  try {
    const { sentry } = await fetchPublicConfig(deps.fetchImpl);
    if (!sentry) return false;
    const Sentry = await (deps.loadSdk ?? (() => import('@sentry/react')))();
    const tracing = sentry.traces_sample_rate > 0;
    Sentry.init({
      dsn: sentry.dsn,
      environment: sentry.environment,
      release: sentry.release,
      // Nothing about the user or the request beyond what scrubEvent keeps.
      dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
      // SENTRY_TRACES_SAMPLE_RATE: page loads and navigations of the dashboard, sampled.
      tracesSampleRate: sentry.traces_sample_rate,
      // Errors only: no session pings (they would let Sentry infer the user's address).
      integrations: (defaults) => [
        ...defaults.filter((i) => i.name !== 'BrowserSession'),
        ...(tracing ? [Sentry.browserTracingIntegration()] : []),
      ],
      beforeSend: (event) => scrubEvent(event),
      beforeBreadcrumb: (crumb) => {
        const data = crumb.data as Record<string, unknown> | undefined;
        if (data && typeof data.url === 'string') data.url = scrubUrl(data.url);
        return crumb;
      },
    });
    return true;
  } catch {
    return false;
  }
}
