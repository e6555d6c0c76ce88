// Response times of one endpoint, p50 and p95 per region, drawn by uPlot (npm). This module is
// imported lazily by the endpoint page only, so uPlot never weighs on the dashboard's first load.
import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { responseTimesQuery, toAligned, type Period } from '../lib/responseTimes';
import type { ResponseTimes } from '../lib/types';
import { parseApiError } from '../lib/api';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4b5563', '#db2777'];
const PERIODS: Period[] = ['24h', '7d', '30d'];

export default function ResponseTimeChart({ endpointId }: { endpointId: string }) {
  const [period, setPeriod] = useState<Period>('24h');
  const q = useQuery(responseTimesQuery(endpointId, period));
  const empty = !q.data || q.data.series.every((s) => s.points.length === 0);
  return (
    <div className="rt-chart">
      <div className="rt-periods" role="group" aria-label="Period">
        {PERIODS.map((p) => (
          <button key={p} type="button" className={`btn btn-sm ${p === period ? 'btn-primary' : 'btn-secondary'}`} aria-pressed={p === period} onClick={() => setPeriod(p)}>
            {p}
          </button>
        ))}
      </div>
      {q.isError ? (
        <p className="muted">Response times are not available ({parseApiError(q.error).detail}).</p>
      ) : q.isPending ? (
        <div className="chart-placeholder" role="status">
          Loading…
        </div>
      ) : empty ? (
        <p className="muted">No checks in this period yet.</p>
      ) : (
        <Plot rt={q.data!} period={period} />
      )}
    </div>
  );
}

function Plot({ rt, period }: { rt: ResponseTimes; period: Period }) {
  const box = useRef<HTMLDivElement>(null);
  const { regions, data } = toAligned(rt);
  const label = `p50 and p95 response times per region over ${period}: ${regions.join(', ')}`;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const series: uPlot.Series[] = [{}];
    regions.forEach((r, i) => {
      const stroke = COLORS[i % COLORS.length];
      series.push({ label: `${r} p50`, stroke, width: 2, value: (_u, v) => (v == null ? '—' : `${Math.round(v)} ms`) });
      series.push({ label: `${r} p95`, stroke, width: 1, dash: [6, 4], value: (_u, v) => (v == null ? '—' : `${Math.round(v)} ms`) });
    });
    const width = () => Math.max(280, el.clientWidth || 640);
    const plot = new uPlot(
      {
        width: width(),
        height: 240,
        series,
        scales: { x: { time: true } },
        axes: [{}, { label: 'ms', values: (_u, vals) => vals.map((v) => `${v}`) }],
        cursor: { drag: { x: false, y: false } },
      },
      data as uPlot.AlignedData,
      el,
    );
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => plot.setSize({ width: width(), height: 240 })) : null;
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      plot.destroy();
    };
    // data changes with buckets; regions with it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rt]);
  return <div ref={box} className="rt-plot" role="img" aria-label={label} />;
}
