import { describe, it, expect } from 'vitest';
import { toAligned } from '../responseTimes';

describe('toAligned', () => {
  it('puts p50 and p95 of each region on one time axis, gaps as null', () => {
    const { regions, data } = toAligned([
      { start: '2026-12-02T01:00:00Z', region: 'us', p50_ms: 90, p95_ms: 200 },
      { start: '2026-12-02T00:00:00Z', region: 'eu', p50_ms: 40, p95_ms: 80 },
      { start: '2026-12-02T01:00:00Z', region: 'eu', p50_ms: 45, p95_ms: 85 },
    ]);
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
