import { describe, it, expect } from 'vitest';
import { toAligned } from '../responseTimes';

describe('toAligned', () => {
  it('puts p50 and p95 of each region on one time axis, gaps as null', () => {
    const pt = (start: string, p50_ms: number, p95_ms: number) => ({ start, checks: 60, p50_ms, p95_ms, p99_ms: p95_ms + 10 });
    const { regions, data } = toAligned({
      series: [
        { region: 'us', points: [pt('2026-12-02T01:00:00Z', 90, 200)] },
        { region: 'eu', points: [pt('2026-12-02T00:00:00Z', 40, 80), pt('2026-12-02T01:00:00Z', 45, 85)] },
      ],
    });
    expect(regions).toEqual(['eu', 'us']);
    const t0 = Date.parse('2026-12-02T00:00:00Z') / 1000;
    expect(data).toEqual([
      [t0, t0 + 3600],
      [40, 45],
      [80, 85],
      [null, 90],
      [null, 200],
    ]);
  });
});
