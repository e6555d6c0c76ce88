import { queryOptions } from '@tanstack/react-query';
import { api } from './api';
import type { Check, Endpoint, Me, Paginated, Plan } from './types';

export const PAGE_SIZE = 10;
export const POLL_MS = 10_000;

export const meQuery = () =>
  queryOptions({
    queryKey: ['me'],
    queryFn: async () => (await api.get<Me>('/auth/me/')).data,
    staleTime: 30_000,
  });

export const endpointsQuery = (page: number) =>
  queryOptions({
    queryKey: ['endpoints', { page }],
    queryFn: async () =>
      (await api.get<Paginated<Endpoint>>('/endpoints/', { params: { page, page_size: PAGE_SIZE } })).data,
  });

export const checksQuery = (id: string) =>
  queryOptions({
    queryKey: ['checks', id],
    queryFn: async () => {
      const data = (await api.get<{ results: Check[] } | Check[]>(`/endpoints/${id}/checks/`)).data;
      return Array.isArray(data) ? data : (data?.results ?? []);
    },
    retry: false,
  });

// The plans are the server's (GET /api/billing/plans/, defined once in actors/common/plans.h):
// nothing here restates a limit, so the page can never contradict what the API enforces.
export const plansQuery = () =>
  queryOptions({
    queryKey: ['plans'],
    queryFn: async () => {
      const data = (await api.get<{ results?: Plan[]; plans?: Plan[] } | Plan[]>('/billing/plans/')).data;
      const list = Array.isArray(data) ? data : (data?.results ?? data?.plans);
      return Array.isArray(list) ? list.map(normalizePlan) : [];
    },
    staleTime: 5 * 60_000,
  });

function normalizePlan(p: Partial<Plan>): Plan {
  return {
    id: String(p.id ?? ''),
    name: p.name ?? String(p.id),
    price: p.price ?? (p.id === 'free' ? 0 : null),
    endpoint_limit: p.endpoint_limit ?? null,
    features: Array.isArray(p.features) ? p.features.map(String) : [],
  };
}
