import axios, { AxiosError, type AxiosRequestConfig, type InternalAxiosRequestConfig } from 'axios';
import { useAuth } from './auth';
import type { components } from './api-schema';

// The one Axios instance of the app. Same origin as the dashboard: the edge serves both.
export const api = axios.create({
  baseURL: '/api',
  withCredentials: true,
  headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
  timeout: 20000,
});

type RetryConfig = InternalAxiosRequestConfig & { _retried?: boolean; _noRefresh?: boolean };

// Requests whose 401 means "bad credentials", not "expired access token".
const NO_REFRESH = ['/auth/token/', '/auth/token/refresh/', '/auth/register/', '/auth/verify-email/',
  '/auth/resend-verification/'];

api.interceptors.request.use((config) => {
  const token = useAuth.getState().accessToken;
  if (token && !(config as RetryConfig)._noRefresh) config.headers.set('Authorization', `Bearer ${token}`);
  return config;
});

let refreshing: Promise<string> | null = null;

/** Trades the httpOnly refresh cookie for a new access token. Concurrent callers share
 * one request (the server rotates refresh tokens; two parallel refreshes would look
 * like reuse and revoke the session). */
export function refreshAccessToken(): Promise<string> {
  if (!refreshing) {
    refreshing = api
      .post<components['schemas']['TokenPair']>('/auth/token/refresh/', {}, { withCredentials: true, _noRefresh: true } as AxiosRequestConfig)
      .then((res) => {
        useAuth.getState().setAccessToken(res.data.access);
        return res.data.access;
      })
      .catch((err) => {
        useAuth.getState().clear();
        throw err;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/** True when there is (or could be restored) a session: used by the route guard. */
export async function ensureSession(): Promise<boolean> {
  if (useAuth.getState().accessToken) return true;
  try {
    await refreshAccessToken();
    return true;
  } catch {
    return false;
  }
}

let onAuthFailure: () => void = () => {};
/** What to do when a request is still 401 after a refresh (the router sends to /login). */
export function setAuthFailureHandler(fn: () => void) {
  onAuthFailure = fn;
}

api.interceptors.response.use(undefined, async (error: AxiosError) => {
  const config = error.config as RetryConfig | undefined;
  const url = config?.url ?? '';
  if (
    error.response?.status !== 401 ||
    !config ||
    config._retried ||
    config._noRefresh ||
    NO_REFRESH.some((p) => url.endsWith(p))
  ) {
    if (error.response?.status === 401 && config?._retried) {
      useAuth.getState().clear();
      onAuthFailure();
    }
    return Promise.reject(error);
  }
  config._retried = true;
  try {
    const token = await refreshAccessToken();
    config.headers.set('Authorization', `Bearer ${token}`);
  } catch {
    onAuthFailure();
    return Promise.reject(error);
  }
  return api.request(config);
});

export type ApiErrorInfo = {
  status?: number;
  detail?: string;
  code?: string;
  fields: Record<string, string[]>;
  retryAfter?: number;
};

/** DRF-style error bodies: {"detail","code"} or {"field": ["msg", ...]}. */
export function parseApiError(err: unknown): ApiErrorInfo {
  const info: ApiErrorInfo = { fields: {} };
  if (!axios.isAxiosError(err)) {
    info.detail = 'Something went wrong. Please try again.';
    return info;
  }
  const res = err.response;
  if (!res) {
    info.detail = 'Cannot reach the server. Check your connection and try again.';
    return info;
  }
  info.status = res.status;
  const data = res.data as unknown;
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (k === 'detail' && typeof v === 'string') info.detail = v;
      else if (k === 'code' && typeof v === 'string') info.code = v;
      else if (Array.isArray(v)) info.fields[k] = v.map(String);
      else if (typeof v === 'string') info.fields[k] = [v];
    }
  }
  const ra = Number(res.headers?.['retry-after']);
  if (res.status === 429) {
    if (Number.isFinite(ra) && ra > 0) info.retryAfter = ra;
    info.detail = `Too many attempts. Please try again ${formatWait(info.retryAfter)}.`;
  }
  if (!info.detail && !Object.keys(info.fields).length) {
    info.detail =
      res.status >= 500
        ? 'The server had a problem. Please try again in a moment.'
        : `Request failed (${res.status}).`;
  }
  return info;
}

function formatWait(seconds?: number) {
  if (!seconds) return 'later';
  if (seconds < 90) return `in ${Math.ceil(seconds)} seconds`;
  return `in ${Math.ceil(seconds / 60)} minutes`;
}

/** Puts API field errors under the form's fields; returns what has no field to go to. */
export function applyFieldErrors(
  info: ApiErrorInfo,
  known: readonly string[],
  setError: (name: never, e: { type: string; message: string }) => void,
): string[] {
  const rest: string[] = [];
  for (const [field, msgs] of Object.entries(info.fields)) {
    if (known.includes(field)) setError(field as never, { type: 'server', message: msgs.join(' ') });
    else rest.push(...msgs);
  }
  if (info.detail) rest.unshift(info.detail);
  return rest;
}
