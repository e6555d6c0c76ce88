import { Badge, type BadgeTone } from './ui/badge';
import type { EndpointStatus } from '../lib/types';

const MAP: Record<EndpointStatus, { tone: BadgeTone; label: string }> = {
  up: { tone: 'success', label: 'Up' },
  down: { tone: 'danger', label: 'Down' },
  pending: { tone: 'neutral', label: 'Pending' },
  paused: { tone: 'warning', label: 'Paused' },
};

export function StatusBadge({ status, paused }: { status: EndpointStatus | null | undefined; paused?: boolean }) {
  const m = MAP[paused ? 'paused' : (status ?? 'pending')] ?? MAP.pending;
  return (
    <Badge tone={m.tone} className="status-badge">
      <span className="dot" aria-hidden="true" />
      {m.label}
    </Badge>
  );
}
