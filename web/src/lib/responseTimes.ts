// GET /api/endpoints/{id}/response-times/?period=24h|7d|30d: per region, buckets of
// p50/p95/p99 (passing checks only), turned into uPlot's aligned columns.
import { queryOptions } from '@tanstack/react-query';
import { apiRequest } from './contract';
import type { ResponseTimes } from './types';

export type Period = ResponseTimes['period'];

export const responseTimesQuery = (id: string, period: Period) =>
  queryOptions({
    queryKey: ['response-times', id, period],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/response-times/', { params: { id }, query: { period } }),
    staleTime: 60_000,
  });

/** uPlot's aligned data: the bucket starts (seconds) and, per region, a p50 and a p95 column
 * (null where that region had no passing check in the bucket). */
export function toAligned(rt: Pick<ResponseTimes, 'series'>): { regions: string[]; data: [number[], ...(number | null)[][]] } {
  const times = [...new Set(rt.series.flatMap((s) => s.points.map((p) => Date.parse(p.start) / 1000)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const series = [...rt.series].sort((a, b) => a.region.localeCompare(b.region));
  const cols: (number | null)[][] = [];
  for (const s of series) {
    const p50: (number | null)[] = times.map(() => null);
    const p95: (number | null)[] = times.map(() => null);
    for (const p of s.points) {
      const i = at.get(Date.parse(p.start) / 1000)!;
      p50[i] = p.p50_ms;
      p95[i] = p.p95_ms;
    }
    cols.push(p50, p95);
  }
  return { regions: series.map((s) => s.region), data: [times, ...cols] };
}
