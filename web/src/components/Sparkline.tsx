import { useQuery } from '@tanstack/react-query';
import { checksQuery, POLL_MS } from '../lib/queries';
import type { Check } from '../lib/types';

const W = 96;
const H = 24;

/** Response times of the recent checks (oldest left), failed checks as red dots. */
export function SparklineSvg({ checks }: { checks: Check[] }) {
  const pts = [...checks].reverse().slice(-30);
  if (pts.length < 2) return <span className="muted">—</span>;
  const lat = pts.map((c) => c.latency_ms ?? 0);
  const max = Math.max(...lat, 1);
  const step = W / (pts.length - 1);
  const y = (v: number) => H - 2 - (v / max) * (H - 4);
  const d = lat.map((v, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const avg = Math.round(lat.reduce((a, b) => a + b, 0) / lat.length);
  const failed = pts.filter((c) => !c.ok).length;
  return (
    <svg
      className="sparkline"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Response time over the last ${pts.length} checks, average ${avg} ms${failed ? `, ${failed} failed` : ''}`}
    >
      <path d={d} className="sparkline-line" />
      {pts.map((c, i) =>
        c.ok ? null : <circle key={i} cx={i * step} cy={y(lat[i])} r={2} className="sparkline-fail" />,
      )}
    </svg>
  );
}

export function Sparkline({ endpointId }: { endpointId: string }) {
  // /checks/ may not exist yet on the server: then there is simply no sparkline.
  const q = useQuery({ ...checksQuery(endpointId), refetchInterval: (query) => (query.state.error ? false : POLL_MS) });
  if (q.isPending) return <span className="sparkline-placeholder" aria-hidden="true" />;
  if (q.isError || !q.data) return <span className="muted">—</span>;
  return <SparklineSvg checks={q.data} />;
}
