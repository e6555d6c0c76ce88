// GET /api/endpoints/{id}/response-times/?period=24h|7d|30d: buckets of p50/p95/p99 per region.
import { queryOptions } from '@tanstack/react-query';
import { api } from './api';
import { apiUrl } from './contract';

export type Period = '24h' | '7d' | '30d';
export type RtBucket = { start: string; region: string; p50_ms: number | null; p95_ms: number | null; p99_ms?: number | null; checks?: number };

export const responseTimesQuery = (id: string, period: Period) =>
  queryOptions({
    queryKey: ['response-times', id, period],
    queryFn: async () => {
      const res = await api.get(apiUrl('/api/endpoints/{id}/response-times/', { id }), { params: { period } });
      return (res.data?.buckets ?? []) as RtBucket[];
    },
    staleTime: 60_000,
    retry: false,
  });

/** uPlot's aligned data: the bucket starts (seconds) and, per region, a p50 and a p95 series. */
export function toAligned(buckets: RtBucket[]): { regions: string[]; data: [number[], ...(number | null)[][]] } {
  const times = [...new Set(buckets.map((b) => Date.parse(b.start) / 1000))].sort((a, b) => a - b);
  const regions = [...new Set(buckets.map((b) => b.region))].sort();
  const at = new Map(times.map((t, i) => [t, i]));
  const series: (number | null)[][] = [];
  for (const r of regions) {
    const p50: (number | null)[] = times.map(() => null);
    const p95: (number | null)[] = times.map(() => null);
    for (const b of buckets) {
      if (b.region !== r) continue;
      const i = at.get(Date.parse(b.start) / 1000)!;
      p50[i] = b.p50_ms;
      p95[i] = b.p95_ms;
    }
    series.push(p50, p95);
  }
  return { regions, data: [times, ...series] as [number[], ...(number | null)[][]] };
}

