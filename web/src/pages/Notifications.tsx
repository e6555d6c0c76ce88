// The delivery log (issue 19): one row per (notification, channel) with its status, attempts
// and last error; pending rows are retried with back-off for at least 2 hours.
import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { timeAgo } from '../lib/format';
import { CHANNEL_KINDS, DELIVERY_LABEL, DELIVERY_TONE, NOTIFICATION_LABEL } from '../lib/alerts';
import type { DeliveryStatus } from '../lib/types';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { Button } from '../components/ui/button';
import { Badge } from '../components/ui/badge';
import { Alert } from '../components/ui/alert';
import { AlertsTabs } from '../components/AlertsTabs';

const PAGE = 20;

export default function NotificationsPage() {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [page, setPage] = useState(1);
  const query = { page, page_size: PAGE, ...(status ? { status } : {}) };
  const list = useQuery({
    queryKey: ['notifications', query],
    queryFn: () => apiRequest('get', '/api/notifications/', { query }),
    refetchInterval: 5000,
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.results ?? [];
  const count = list.data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / PAGE));
  return (
    <div className="page">
      <AlertsTabs />
      <div className="page-header">
        <div>
          <h1 className="page-title">Delivery log</h1>
          <p className="page-subtitle">
            Every notification sent to every channel. Failing receivers are retried for at least 2 hours.
          </p>
        </div>
        <select
          className="input input-sm"
          aria-label="Status"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as DeliveryStatus | '');
            setPage(1);
          }}
        >
          <option value="">All</option>
          <option value="pending">Pending</option>
          <option value="delivered">Delivered</option>
          <option value="failed">Failed</option>
        </select>
      </div>
      {list.isPending ? (
        <p role="status">Loading…</p>
      ) : list.isError ? (
        <Alert tone="danger">{parseApiError(list.error).detail}</Alert>
      ) : rows.length === 0 ? (
        <div className="state state-empty">
          <h2>Nothing sent yet</h2>
          <p>Send a test from the channels page to see it here.</p>
        </div>
      ) : (
        <>
          <Table aria-label="Deliveries">
            <THead>
              <Tr>
                <Th>When</Th>
                <Th>What</Th>
                <Th>Channel</Th>
                <Th>Status</Th>
                <Th className="num hide-sm">Attempts</Th>
                <Th className="hide-sm">Last error</Th>
              </Tr>
            </THead>
            <TBody>
              {rows.map((n) => (
                <Tr key={n.id}>
                  <Td>
                    <time dateTime={n.created_at} title={new Date(n.created_at).toLocaleString()}>
                      {timeAgo(n.created_at)}
                    </time>
                  </Td>
                  <Td>
                    {n.incident_id ? (
                      <Link to="/incidents/$id" params={{ id: n.incident_id }} className="link">
                        {NOTIFICATION_LABEL[n.kind] ?? n.kind}
                      </Link>
                    ) : (
                      (NOTIFICATION_LABEL[n.kind] ?? n.kind)
                    )}
                  </Td>
                  <Td>
                    {n.channel_name} <span className="muted">({CHANNEL_KINDS[n.channel_kind]?.label ?? n.channel_kind})</span>
                  </Td>
                  <Td>
                    <Badge tone={DELIVERY_TONE[n.status]}>{DELIVERY_LABEL[n.status]}</Badge>
                    {n.delivered_at && <span className="hint"> {timeAgo(n.delivered_at)}</span>}
                  </Td>
                  <Td className="num hide-sm">{n.attempts}</Td>
                  <Td className="hide-sm check-error">{n.last_error ?? ''}</Td>
                </Tr>
              ))}
            </TBody>
          </Table>
          <nav className="pager" aria-label="Pagination">
            <span className="pager-info">
              Page {page} of {pages} · {count} deliver{count === 1 ? 'y' : 'ies'}
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
