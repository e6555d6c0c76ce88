import { describe, it, expect, vi, afterEach } from 'vitest';
import { initErrorReporting, scrubEvent, scrubUrl } from '../errorReporting';

const DSN = 'https://0123abcd@sentry.example.test/42';

function configFetch(body: unknown, status = 200) {
  return vi.fn(async (input: RequestInfo | URL) => {
    expect(String(input)).toBe('/api/config/');
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as unknown as typeof fetch;
}

afterEach(async () => {
  const Sentry = await import('@sentry/react');
  await Sentry.close();
  vi.unstubAllGlobals();
});

describe('error reporting without a DSN', () => {
  it('never loads the Sentry SDK when the server configures none', async () => {
    const loadSdk = vi.fn();
    const started = await initErrorReporting({ fetchImpl: configFetch({ sentry: null }), loadSdk });
    expect(started).toBe(false);
    expect(loadSdk).not.toHaveBeenCalled();
  });

  it('never loads it when the config cannot be read or is malformed', async () => {
    const loadSdk = vi.fn();
    expect(await initErrorReporting({ fetchImpl: configFetch({ detail: 'x' }, 404), loadSdk })).toBe(false);
    expect(await initErrorReporting({ fetchImpl: configFetch({ sentry: { dsn: 'javascript:alert(1)' } }), loadSdk }))
      .toBe(false);
    const broken = vi.fn(async () => { throw new TypeError('network'); }) as unknown as typeof fetch;
    expect(await initErrorReporting({ fetchImpl: broken, loadSdk })).toBe(false);
    expect(loadSdk).not.toHaveBeenCalled();
  });
});

describe('error reporting with a DSN', () => {
  const config = { sentry: { dsn: DSN, environment: 'staging', release: 'statuswatch@abc', traces_sample_rate: 0 } };

  it('starts the SDK with the server settings', async () => {
    const init = vi.fn();
    const loadSdk = vi.fn(async () => ({ init, browserTracingIntegration: vi.fn() }) as never);
    expect(await initErrorReporting({ fetchImpl: configFetch(config), loadSdk })).toBe(true);
    expect(loadSdk).toHaveBeenCalledOnce();
    const opts = init.mock.calls[0][0];
    expect(opts).toMatchObject({ dsn: DSN, environment: 'staging', release: 'statuswatch@abc',
      tracesSampleRate: 0, dataCollection: { userInfo: false, cookies: false, httpHeaders: false } });
    const kept = opts.integrations([{ name: 'BrowserSession' }, { name: 'GlobalHandlers' }]);
    expect(kept).toEqual([{ name: 'GlobalHandlers' }]);
  });

  it('sends an error to the envelope endpoint of the DSN host, scrubbed', async () => {
    const sent: { url: string; body: string }[] = [];
    const transportFetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      sent.push({ url: String(input), body: String(init?.body ?? '') });
      return new Response('{}', { status: 200 });
    });
    vi.stubGlobal('fetch', transportFetch);
    window.history.replaceState(null, '', '/verify-email?token=s3cr3t-token-value');
    expect(await initErrorReporting({ fetchImpl: configFetch(config) })).toBe(true);
    const Sentry = await import('@sentry/react');
    Sentry.captureException(new Error('dashboard exploded'));
    await Sentry.flush(2000);
    expect(sent.every((s) => s.url.startsWith('https://sentry.example.test/api/42/envelope/'))).toBe(true);
    expect(sent.some((s) => s.body.includes('"type":"session"'))).toBe(false);
    const envelope = sent.find((s) => s.body.includes('"type":"event"'));
    expect(envelope, JSON.stringify(sent.map((s) => s.url))).toBeDefined();
    expect(envelope!.url).toContain('sentry_key=0123abcd');
    expect(envelope!.body).toContain('dashboard exploded');
    expect(envelope!.body).toContain('"environment":"staging"');
    expect(envelope!.body).not.toContain('s3cr3t-token-value');
    window.history.replaceState(null, '', '/');
  });

  it('scrubs tokens from URLs, cookies and headers', () => {
    expect(scrubUrl('https://x.test/verify-email?token=abc&next=/d')).toBe('https://x.test/verify-email?token=[redacted]&next=/d');
    expect(scrubUrl('/a?refresh_token=r1&access=a2')).toBe('/a?refresh_token=[redacted]&access=[redacted]');
    const ev = scrubEvent({
      request: { url: '/x?token=t', cookies: { sw_refresh: 'r' }, headers: { Authorization: 'Bearer t' } },
      user: { id: 'u1', ip_address: '10.0.0.1', email: 'a@b.c' },
      breadcrumbs: [{ data: { url: '/api/auth/verify-email/?token=zz' } }],
    } as never) as { request: Record<string, unknown>; user: Record<string, unknown>; breadcrumbs: { data: { url: string } }[] };
    expect(ev.request.cookies).toBeUndefined();
    expect(ev.request.headers).toBeUndefined();
    expect(ev.request.url).toBe('/x?token=[redacted]');
    expect(ev.user).toEqual({ id: 'u1' });
    expect(ev.breadcrumbs[0].data.url).toBe('/api/auth/verify-email/?token=[redacted]');
  });
});
