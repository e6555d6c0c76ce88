// Incidents (issue 19): the list (open or all, paginated) and one incident's timeline with
// Acknowledge, which stops its reminders. Owner, admins and members acknowledge.
import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { meQuery } from '../lib/queries';
import { atLeast, type Role } from '../lib/roles';
import { timeAgo } from '../lib/format';
import { NOTIFICATION_LABEL, duration } from '../lib/alerts';
import type { IncidentDetail, IncidentEvent, NotificationKind } from '../lib/types';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { Button } from '../components/ui/button';
import { Badge } from '../components/ui/badge';
import { Alert } from '../components/ui/alert';

const POLL = 10_000;
const PAGE = 20;

function StateBadge({ i }: { i: { status: 'open' | 'resolved'; acknowledged_at: string | null } }) {
  if (i.status === 'resolved') return <Badge tone="success">Resolved</Badge>;
  return i.acknowledged_at ? <Badge tone="warning">Acknowledged</Badge> : <Badge tone="danger">Open</Badge>;
}

export function IncidentsPage() {
  const [openOnly, setOpenOnly] = useState(false);
  const [page, setPage] = useState(1);
  const query = { page, page_size: PAGE, ...(openOnly ? { open: true } : {}) };
  const list = useQuery({
    queryKey: ['incidents', query],
    queryFn: () => apiRequest('get', '/api/incidents/', { query }),
    refetchInterval: POLL,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.results ?? [];
  const count = list.data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / PAGE));
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Incidents</h1>
          <p className="page-subtitle">Each outage or degradation of an endpoint, from the first failing check to recovery.</p>
        </div>
        <label className="sp-check">
          <input
            type="checkbox"
            checked={openOnly}
            onChange={(e) => {
              setOpenOnly(e.target.checked);
              setPage(1);
            }}
          />{' '}
          Open only
        </label>
      </div>
      {list.isPending ? (
        <p role="status">Loading…</p>
      ) : list.isError ? (
        <Alert tone="danger">{parseApiError(list.error).detail}</Alert>
      ) : rows.length === 0 ? (
        <div className="state state-empty">
          <h2>{openOnly ? 'No open incidents' : 'No incidents yet'}</h2>
          <p>When an endpoint goes down or degraded, its incident shows here.</p>
        </div>
      ) : (
        <>
          <Table aria-label="Incidents">
            <THead>
              <Tr>
                <Th>Endpoint</Th>
                <Th>State</Th>
                <Th>Opened</Th>
                <Th className="hide-sm">Duration</Th>
                <Th className="hide-sm">Cause</Th>
              </Tr>
            </THead>
            <TBody>
              {rows.map((i) => (
                <Tr key={i.id}>
                  <Td>
                    <Link to="/incidents/$id" params={{ id: i.id }} className="link">
                      {i.endpoint_name ?? 'Deleted endpoint'}
                    </Link>
                  </Td>
                  <Td>
                    <StateBadge i={i} />
                  </Td>
                  <Td>
                    <time dateTime={i.opened_at} title={new Date(i.opened_at).toLocaleString()}>
                      {timeAgo(i.opened_at)}
                    </time>
                  </Td>
                  <Td className="hide-sm">{duration(i.duration_seconds)}</Td>
                  <Td className="hide-sm check-error">{i.cause ?? ''}</Td>
                </Tr>
              ))}
            </TBody>
          </Table>
          <nav className="pager" aria-label="Pagination">
            <span className="pager-info">
              Page {page} of {pages} · {count} incident{count === 1 ? '' : 's'}
            </span>
            <div className="pager-buttons">
              <Button variant="secondary" size="sm" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </Button>
              <Button variant="secondary" size="sm" disabled={!list.data?.next} onClick={() => setPage(page + 1)}>
                Next
              </Button>
            </div>
          </nav>
        </>
      )}
    </div>
  );
}

function eventText(ev: IncidentEvent): string {
  const d = (ev.detail ?? {}) as Record<string, unknown>;
  switch (ev.type) {
    case 'opened':
      return 'Incident opened';
    case 'region_failing':
      return `Failing in region ${String(d.region ?? '?')}`;
    case 'notification_sent':
      return `${NOTIFICATION_LABEL[d.kind as NotificationKind] ?? 'Notification'} sent via ${String(d.channel_kind ?? 'a channel')}`;
    case 'notification_failed':
      return `${NOTIFICATION_LABEL[d.kind as NotificationKind] ?? 'Notification'} failed via ${String(d.channel_kind ?? 'a channel')}`;
    case 'reminder':
      return 'Reminder sent';
    case 'acknowledged':
      return 'Acknowledged';
    case 'resolved':
      return 'Resolved';
    default:
      return ev.type;
  }
}

export function IncidentPage() {
  const { id } = useParams({ from: '/authed/incidents/$id' });
  const qc = useQueryClient();
  const me = useQuery(meQuery());
  const canAck = atLeast(me.data?.role as Role | undefined, 'member');
  const q = useQuery({
    queryKey: ['incident', id],
    queryFn: () => apiRequest('get', '/api/incidents/{id}/', { params: { id } }),
    refetchInterval: POLL,
  });
  const ack = useMutation({
    mutationFn: () => apiRequest('post', '/api/incidents/{id}/acknowledge/', { params: { id }, body: {} }),
    onSuccess: async (i: IncidentDetail) => {
      qc.setQueryData(['incident', id], i);
      await qc.invalidateQueries({ queryKey: ['incidents'] });
    },
  });
  if (q.isPending) return <div className="page" role="status">Loading…</div>;
  if (q.isError || !q.data)
    return (
      <div className="page">
        <div className="state state-error" role="alert">
          <h2>Could not load this incident</h2>
          <p>{parseApiError(q.error).detail}</p>
          <Link to="/incidents" className="link">
            Back to the incidents
          </Link>
        </div>
      </div>
    );
  const i = q.data;
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <p>
            <Link to="/incidents" className="link">
              ← Incidents
            </Link>
          </p>
          <h1 className="page-title">{i.endpoint_name ?? 'Deleted endpoint'}</h1>
          <p className="page-subtitle ep-subtitle">
            <StateBadge i={i} /> <span>opened {new Date(i.opened_at).toLocaleString()}</span> <span>· {duration(i.duration_seconds)}</span>
            {i.endpoint_name && (
              <Link to="/endpoints/$id" params={{ id: i.endpoint_id }} className="link">
                Endpoint page
              </Link>
            )}
          </p>
        </div>
        {canAck && i.status === 'open' && !i.acknowledged_at && (
          <div className="page-actions">
            <Button onClick={() => ack.mutate()} loading={ack.isPending}>
              Acknowledge
            </Button>
          </div>
        )}
      </div>
      {ack.isError && <Alert tone="danger">{parseApiError(ack.error).detail ?? 'Could not acknowledge it.'}</Alert>}
      {i.cause && (
        <Alert tone={i.status === 'open' ? 'danger' : 'info'}>
          Cause: <span className="check-error">{i.cause}</span>
        </Alert>
      )}
      {i.acknowledged_at && <p className="muted">Acknowledged {timeAgo(i.acknowledged_at)}; no more reminders.</p>}
      <section className="card ep-card" aria-label="Timeline">
        <h2>Timeline</h2>
        <ol className="timeline" aria-label="Incident timeline">
          {i.timeline.map((ev, n) => (
            <li key={`${ev.at}-${n}`} className={`tl-${ev.type}`}>
              <time dateTime={ev.at}>{new Date(ev.at).toLocaleString()}</time> · {eventText(ev)}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
