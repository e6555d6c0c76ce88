import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import MockAdapter from 'axios-mock-adapter';
import { api, parseApiError, refreshAccessToken, setAuthFailureHandler, ensureSession } from '../api';
import { useAuth } from '../auth';

let mock: MockAdapter;
beforeEach(() => {
  mock = new MockAdapter(api);
});
afterEach(() => {
  mock.restore();
  setAuthFailureHandler(() => {});
});

describe('api instance', () => {
  it('adds the bearer token from the in-memory store', async () => {
    useAuth.setState({ accessToken: 'A1' });
    mock.onGet('/auth/me/').reply((c) => [200, { auth: c.headers?.Authorization }]);
    const res = await api.get('/auth/me/');
    expect(res.data.auth).toBe('Bearer A1');
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });

  it('on 401 refreshes once through the cookie ({} body, credentials) and retries', async () => {
    useAuth.setState({ accessToken: 'old' });
    const refreshBodies: unknown[] = [];
    mock.onPost('/auth/token/refresh/').reply((c) => {
      refreshBodies.push(JSON.parse(c.data));
      expect(c.withCredentials).toBe(true);
      return [200, { access: 'new', refresh: 'r2' }];
    });
    mock.onGet('/endpoints/').reply((c) =>
      c.headers?.Authorization === 'Bearer new' ? [200, { ok: true }] : [401, { detail: 'expired', code: 'token_not_valid' }],
    );
    const res = await api.get('/endpoints/');
    expect(res.data).toEqual({ ok: true });
    expect(refreshBodies).toEqual([{}]);
    expect(useAuth.getState().accessToken).toBe('new');
  });

  it('concurrent 401s share one refresh', async () => {
    useAuth.setState({ accessToken: 'old' });
    let refreshes = 0;
    mock.onPost('/auth/token/refresh/').reply(async () => {
      refreshes += 1;
      await new Promise((r) => setTimeout(r, 20));
      return [200, { access: 'new', refresh: 'r2' }];
    });
    mock.onGet(/\/endpoints\/.*/).reply((c) => (c.headers?.Authorization === 'Bearer new' ? [200, { url: c.url }] : [401, {}]));
    const results = await Promise.all([api.get('/endpoints/1/'), api.get('/endpoints/2/'), api.get('/endpoints/3/')]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(refreshes).toBe(1);
  });

  it('when the refresh fails it clears the session and reports the auth failure', async () => {
    useAuth.setState({ accessToken: 'old' });
    const onFail = vi.fn();
    setAuthFailureHandler(onFail);
    mock.onPost('/auth/token/refresh/').reply(401, { detail: 'Token is invalid or expired', code: 'token_not_valid' });
    mock.onGet('/endpoints/').reply(401, {});
    await expect(api.get('/endpoints/')).rejects.toMatchObject({ response: { status: 401 } });
    expect(useAuth.getState().accessToken).toBeNull();
    expect(onFail).toHaveBeenCalledTimes(1);
  });

  it('does not refresh twice for one request (a retried 401 ends the session)', async () => {
    useAuth.setState({ accessToken: 'old' });
    const onFail = vi.fn();
    setAuthFailureHandler(onFail);
    let refreshes = 0;
    mock.onPost('/auth/token/refresh/').reply(() => {
      refreshes += 1;
      return [200, { access: 'new', refresh: 'r' }];
    });
    mock.onGet('/endpoints/').reply(401, {});
    await expect(api.get('/endpoints/')).rejects.toBeTruthy();
    expect(refreshes).toBe(1);
    expect(onFail).toHaveBeenCalledTimes(1);
  });

  it('a 401 from the login endpoint is an answer, not a reason to refresh', async () => {
    const refresh = vi.fn(() => [200, { access: 'x' }] as [number, unknown]);
    mock.onPost('/auth/token/refresh/').reply(refresh);
    mock.onPost('/auth/token/').reply(401, { detail: 'No active account found with the given credentials', code: 'no_active_account' });
    await expect(api.post('/auth/token/', {})).rejects.toBeTruthy();
    expect(refresh).not.toHaveBeenCalled();
  });

  it('ensureSession restores a session from the refresh cookie or says there is none', async () => {
    mock.onPost('/auth/token/refresh/').replyOnce(200, { access: 'fresh', refresh: 'r' });
    expect(await ensureSession()).toBe(true);
    expect(useAuth.getState().accessToken).toBe('fresh');
    useAuth.setState({ accessToken: null });
    mock.onPost('/auth/token/refresh/').replyOnce(400, { refresh: ['This field is required.'] });
    expect(await ensureSession()).toBe(false);
    await expect(refreshAccessToken()).rejects.toBeTruthy();
  });
});

describe('parseApiError', () => {
  it('reads field errors, detail and code, and Retry-After', async () => {
    mock.onPost('/a/').reply(400, { email: ['Enter a valid email address.'], non_field_errors: ['Nope.'] });
    mock.onPost('/b/').reply(403, { detail: 'Upgrade to Pro', code: 'plan_limit' });
    mock.onPost('/c/').reply(429, { detail: 'Request was throttled.' }, { 'retry-after': '120' });
    const a = parseApiError(await api.post('/a/').catch((e) => e));
    expect(a.fields).toEqual({ email: ['Enter a valid email address.'], non_field_errors: ['Nope.'] });
    const b = parseApiError(await api.post('/b/').catch((e) => e));
    expect(b).toMatchObject({ status: 403, code: 'plan_limit', detail: 'Upgrade to Pro' });
    const c = parseApiError(await api.post('/c/').catch((e) => e));
    expect(c.retryAfter).toBe(120);
    expect(c.detail).toMatch(/in 2 minutes/);
  });
});
