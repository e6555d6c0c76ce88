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

export const endpointQuery = (id: string) =>
  queryOptions({
    queryKey: ['endpoint', id],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/', { params: { id } }),
  });

export const CHECKS_PAGE = 20;
export const uptimeQuery = (id: string) =>
  queryOptions({
    queryKey: ['uptime', id],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/uptime/', { params: { id } }),
    staleTime: 60_000,
  });

export const plansQuery = () =>
  queryOptions({
    queryKey: ['plans'],
    queryFn: async () => (await apiRequest('get', '/api/billing/plans/')).plans,
    staleTime: 5 * 60_000,
  });
