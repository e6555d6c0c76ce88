import { useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { endpointsQuery, meQuery, PAGE_SIZE, POLL_MS } from '../lib/queries';
import { parseApiError } from '../lib/api';
import { timeAgo } from '../lib/format';
import { daysLeft } from '../lib/checks';
import type { Endpoint } from '../lib/types';
import { Button } from '../components/ui/button';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { StatusBadge } from '../components/StatusBadge';
import { AddEndpointDialog } from '../components/AddEndpointDialog';
import { AddHeartbeatDialog } from '../components/AddHeartbeatDialog';
import { DeleteEndpointDialog } from '../components/DeleteEndpointDialog';
import { atLeast, type Role } from '../lib/roles';

const col = createColumnHelper<Endpoint>();
const KIND_LABEL: Record<string, string> = { http: 'HTTP', tcp: 'TCP', heartbeat: 'Heartbeat' };

/** Days until the certificate expires (from the list row itself: no request per row). */
function CertDays({ iso }: { iso: string | null | undefined }) {
  const d = daysLeft(iso);
  if (d == null) return <span className="muted">—</span>;
  const tone = d < 0 ? 'cert-expired' : d <= 7 ? 'cert-danger' : d <= 14 ? 'cert-warning' : 'cert-ok';
  return (
    <span className={tone} title={`Expires ${new Date(iso!).toLocaleString()}`}>
      {d < 0 ? 'expired' : `${d} day${d === 1 ? '' : 's'} left`}
    </span>
  );
}

export default function DashboardPage() {
  const search = useSearch({ from: '/authed/dashboard' });
  const navigate = useNavigate({ from: '/dashboard' });
  const page = search.page ?? 1;
  const [adding, setAdding] = useState(false);
  const [addingHeartbeat, setAddingHeartbeat] = useState(false);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);

  const me = useQuery(meQuery());
  // Viewers read only: no add or delete controls (the API answers 403 anyway).
  const canEdit = atLeast(me.data?.role as Role | undefined, 'member');
  const list = useQuery({
    ...endpointsQuery(page),
    placeholderData: keepPreviousData, // no flicker while paging or polling
    refetchInterval: POLL_MS,
  });

  const setPage = (p: number) => navigate({ search: { page: p > 1 ? p : undefined } });

  const columns = useMemo(
    () => [
      col.accessor('name', {
        header: 'Name',
        cell: (c) => (
          <div className="cell-name">
            {c.row.original.kind === 'heartbeat' ? (
              <Link to="/heartbeats/$id" params={{ id: c.row.original.id }} className="ep-name link">
                {c.getValue()}
              </Link>
            ) : (
              <Link to="/endpoints/$id" params={{ id: c.row.original.id }} className="ep-name link">
                {c.getValue()}
              </Link>
            )}
            <span className="ep-url-sm">{c.row.original.url ?? 'Heartbeat'}</span>
          </div>
        ),
      }),
      col.accessor((e) => e.kind ?? 'http', {
        id: 'kind',
        header: 'Kind',
        cell: (c) => <span className="ep-kind-cell">{KIND_LABEL[c.getValue()] ?? c.getValue()}</span>,
      }),
      col.accessor('url', {
        header: 'URL',
        meta: { className: 'hide-sm' },
        cell: (c) => (
          <span className="ep-url" title={c.getValue() ?? undefined}>
            {c.getValue() ?? <span className="muted">Heartbeat (pinged)</span>}
          </span>
        ),
      }),
      col.accessor('last_status', {
        header: 'Status',
        cell: (c) => (
          <span title={c.row.original.last_error ?? undefined}>
            <StatusBadge status={c.getValue()} paused={c.row.original.paused} />
          </span>
        ),
      }),
      col.accessor('last_checked_at', {
        header: 'Last check',
        meta: { className: 'hide-sm' },
        cell: (c) => {
          const v = c.getValue();
          return v ? <time dateTime={v} title={new Date(v).toLocaleString()}>{timeAgo(v)}</time> : <span className="muted">Not yet</span>;
        },
      }),
      col.accessor('last_latency_ms', {
        header: 'Latency',
        meta: { className: 'num hide-sm' },
        // Only a check that got an HTTP answer has a response time worth showing.
        cell: (c) =>
          c.getValue() == null || c.row.original.last_http_status == null ? (
            <span className="muted">—</span>
          ) : (
            `${Math.round(c.getValue()!)} ms`
          ),
      }),
      col.display({
        id: 'certificate',
        header: 'Certificate',
        meta: { className: 'hide-sm' },
        cell: (c) => <CertDays iso={c.row.original.tls_expires_at} />,
      }),
      col.display({
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        meta: { className: 'actions' },
        cell: (c) =>
          canEdit ? (
            <Button variant="ghost" size="sm" onClick={() => setDeleting(c.row.original)} aria-label={`Delete ${c.row.original.name}`}>
              Delete
            </Button>
          ) : null,
      }),
    ],
    [canEdit],
  );

  const rows = list.data?.results ?? [];
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => String(r.id),
    manualPagination: true,
    rowCount: list.data?.count ?? 0,
  });

  const count = list.data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  const limit = me.data?.endpoint_limit ?? null;

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Endpoints</h1>
          <p className="page-subtitle">
            {me.data ? (
              limit != null ? (
                <>
                  {count} of {limit} endpoints on the Free plan ·{' '}
                  <Link to="/billing" className="link">
                    Upgrade for unlimited
                  </Link>
                </>
              ) : (
                <>{count} endpoints · Pro plan</>
              )
            ) : (
              'Checked every minute; this page refreshes itself.'
            )}
          </p>
        </div>
        {canEdit && (
          <div className="page-actions">
            <Button variant="secondary" onClick={() => setAddingHeartbeat(true)}>
              + Add heartbeat
            </Button>{' '}
            <Button onClick={() => setAdding(true)}>+ Add endpoint</Button>
          </div>
        )}
      </div>

      {list.isPending ? (
        <LoadingTable />
      ) : list.isError && !list.data ? (
        <div className="state state-error" role="alert">
          <h2>Could not load your endpoints</h2>
          <p>{parseApiError(list.error).detail}</p>
          <Button variant="secondary" onClick={() => list.refetch()} loading={list.isFetching}>
            Retry
          </Button>
        </div>
      ) : count === 0 && page === 1 ? (
        <div className="state state-empty">
          <div className="state-icon" aria-hidden="true">
            <svg viewBox="0 0 32 32" width="40" height="40">
              <path d="M3 17h7l3-8 5 15 3-7h8" />
            </svg>
          </div>
          <h2>No endpoints yet</h2>
          <p>Add a URL and StatusWatch will check it around the clock.</p>
          {canEdit && <Button onClick={() => setAdding(true)}>Add your first endpoint</Button>}
        </div>
      ) : (
        <>
          <Table aria-label="Endpoints" aria-busy={list.isFetching || undefined}>
            <THead>
              {table.getHeaderGroups().map((hg) => (
                <Tr key={hg.id}>
                  {hg.headers.map((h) => (
                    <Th key={h.id} className={(h.column.columnDef.meta as { className?: string } | undefined)?.className}>
                      {h.isPlaceholder ? null : flexRender(h.column.columnDef.header, h.getContext())}
                    </Th>
                  ))}
                </Tr>
              ))}
            </THead>
            <TBody>
              {table.getRowModel().rows.map((row) => (
                <Tr key={row.id}>
                  {row.getVisibleCells().map((cell) => (
                    <Td key={cell.id} className={(cell.column.columnDef.meta as { className?: string } | undefined)?.className}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </Td>
                  ))}
                </Tr>
              ))}
            </TBody>
          </Table>
          <nav className="pager" aria-label="Pagination">
            <span className="pager-info">
              Page {page} of {pages} · {count} endpoint{count === 1 ? '' : 's'}
              {list.isError && <span className="pager-stale"> · showing last known data</span>}
            </span>
            <div className="pager-buttons">
              <Button variant="secondary" size="sm" disabled={!list.data?.previous || page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </Button>
              <Button variant="secondary" size="sm" disabled={!list.data?.next} onClick={() => setPage(page + 1)}>
                Next
              </Button>
            </div>
          </nav>
        </>
      )}

      <AddEndpointDialog open={adding} onClose={() => setAdding(false)} />
      <AddHeartbeatDialog open={addingHeartbeat} onClose={() => setAddingHeartbeat(false)} />
      <DeleteEndpointDialog
        endpoint={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={() => {
          if (rows.length === 1 && page > 1) setPage(page - 1);
        }}
      />
    </div>
  );
}

function LoadingTable() {
  return (
    <div className="table-wrap" role="status" aria-label="Loading endpoints">
      <div className="skeleton-table">
        {Array.from({ length: 4 }, (_, i) => (
          <div className="skeleton-row" key={i}>
            <span className="skeleton skeleton-w40" />
            <span className="skeleton skeleton-w20" />
            <span className="skeleton skeleton-w10" />
          </div>
        ))}
      </div>
    </div>
  );
}
