import { Badge, type BadgeTone } from './ui/badge';
import type { EndpointStatus } from '../lib/types';

// degraded (issue 17: a passing check slower than the threshold) and maintenance (issue 19: in
// a maintenance window) beside the contract's up, down, pending and paused.
const MAP: Record<EndpointStatus, { tone: BadgeTone; label: string }> = {
  up: { tone: 'success', label: 'Up' },
  down: { tone: 'danger', label: 'Down' },
  degraded: { tone: 'warning', label: 'Degraded' },
  maintenance: { tone: 'info', label: 'Maintenance' },
  pending: { tone: 'neutral', label: 'Pending' },
  paused: { tone: 'neutral', label: 'Paused' },
};

export function StatusBadge({ status, paused }: { status: EndpointStatus | null | undefined; paused?: boolean }) {
  const m = MAP[paused ? 'paused' : (status ?? 'pending')] ?? MAP.pending;
  return (
    <Badge tone={m.tone} className={`status-badge status-${paused ? 'paused' : (status ?? 'pending')}`}>
      <span className="dot" aria-hidden="true" />
      {m.label}
    </Badge>
  );
}
