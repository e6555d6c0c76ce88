import { queryOptions } from '@tanstack/react-query';
import { apiRequest } from './contract';

export const PAGE_SIZE = 10;
export const POLL_MS = 10_000;

export const meQuery = () =>
  queryOptions({
    queryKey: ['me'],
    queryFn: () => apiRequest('get', '/api/auth/me/'),
    staleTime: 30_000,
  });

export const endpointsQuery = (page: number) =>
  queryOptions({
    queryKey: ['endpoints', { page }],
    queryFn: () => apiRequest('get', '/api/endpoints/', { query: { page, page_size: PAGE_SIZE } }),
  });

export const checksQuery = (id: string) =>
  queryOptions({
    queryKey: ['checks', id],
    queryFn: async () => (await apiRequest('get', '/api/endpoints/{id}/checks/', { params: { id } })).results,
    retry: false,
  });

export const plansQuery = () =>
  queryOptions({
    queryKey: ['plans'],
    queryFn: async () => (await apiRequest('get', '/api/billing/plans/')).plans,
    staleTime: 5 * 60_000,
  });
