import { render } from '@testing-library/react';
import { createMemoryHistory } from '@tanstack/react-router';
import { QueryClient } from '@tanstack/react-query';
import MockAdapter from 'axios-mock-adapter';
import { api } from '../lib/api';
import { useAuth } from '../lib/auth';
import { App } from '../App';
import { createAppRouter } from '../router';
import type { Endpoint, Me } from '../lib/types';

export function mockApi() {
  return new MockAdapter(api, { onNoMatch: 'throwException' });
}

export function renderApp(path: string, { token }: { token?: string | null } = {}) {
  if (token !== undefined) useAuth.setState({ accessToken: token });
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false }, mutations: { retry: false } },
  });
  const history = createMemoryHistory({ initialEntries: [path] });
  const router = createAppRouter(queryClient, history);
  const utils = render(<App router={router} queryClient={queryClient} />);
  return { ...utils, router, queryClient, history };
}

export const me = (over: Partial<Me> = {}): Me => ({
  id: 'u1',
  email: 'owner@acme.test',
  role: 'owner',
  is_verified: true,
  date_joined: '2025-01-01T00:00:00Z',
  tenant: { id: 't_abc', name: 'Acme', slug: 'acme', plan: 'free', domain: 'acme.statuswatch.local' },
  plan: 'free',
  endpoint_limit: 3,
  ...over,
});

let n = 0;
export const endpoint = (over: Partial<Endpoint> = {}): Endpoint => {
  n += 1;
  return {
    id: `e${n}`,
    name: `Site ${n}`,
    url: `https://site${n}.example.com/`,
    interval_seconds: 60,
    timeout_seconds: 10,
    expected_status: '2xx-3xx',
    regions: ['local'],
    failure_threshold: 3,
    recovery_threshold: 2,
    paused: false,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    last_status: 'up',
    last_checked_at: new Date(Date.now() - 30_000).toISOString(),
    last_latency_ms: 123,
    last_http_status: 200,
    ...over,
  };
};

export const page = <T,>(results: T[], { count, next, previous }: { count?: number; next?: string | null; previous?: string | null } = {}) => ({
  count: count ?? results.length,
  next: next ?? null,
  previous: previous ?? null,
  results,
});
