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

export const FALLBACK_PLANS: Plan[] = [
  { id: 'free', name: 'Free', price: 0, endpoint_limit: 3, features: ['Up to 3 monitored endpoints', 'Email alerts'] },
  { id: 'pro', name: 'Pro', price: null, endpoint_limit: null, features: ['Unlimited endpoints', 'Email alerts', 'Priority support'] },
];

export const plansQuery = () =>
  queryOptions({
    queryKey: ['plans'],
    queryFn: async () => {
      try {
        const data = (await api.get<{ results?: Plan[]; plans?: Plan[] } | Plan[]>('/billing/plans/')).data;
        const list = Array.isArray(data) ? data : (data?.results ?? data?.plans);
        return Array.isArray(list) && list.length ? list.map(normalizePlan) : FALLBACK_PLANS;
      } catch {
        return FALLBACK_PLANS; // the plans are public facts; the page still works
      }
    },
    staleTime: 5 * 60_000,
    retry: false,
  });

function normalizePlan(p: Partial<Plan>): Plan {
  const fallback = FALLBACK_PLANS.find((f) => f.id === p.id);
  return {
    id: String(p.id ?? ''),
    name: p.name ?? fallback?.name ?? String(p.id),
    price: p.price ?? (p.id === 'free' ? 0 : null),
    endpoint_limit: p.endpoint_limit === undefined ? (fallback?.endpoint_limit ?? null) : p.endpoint_limit,
    features: Array.isArray(p.features) ? p.features.map(String) : (fallback?.features ?? []),
  };
}
