// One HTTP or TCP endpoint's story: its status (up, down, degraded, maintenance, paused),
// uptime over 24 h / 7 d / 30 d / 90 d, response times per region (a uPlot chart, a chunk of
// its own loaded by this page only), incidents, recent checks with their errors and the
// certificate. Members and above edit, pause and resume it; a viewer only reads.
import { lazy, Suspense, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, useParams } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { timeAgo } from '../lib/format';
import { CHECKS_PAGE, endpointQuery, meQuery, uptimeQuery } from '../lib/queries';
import { atLeast, type Role } from '../lib/roles';
import { daysLeft, describeAssertion } from '../lib/checks';
import type { Endpoint } from '../lib/types';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { StatusBadge } from '../components/StatusBadge';
import { EndpointFormDialog, invalidateEndpointReads } from '../components/EndpointFormDialog';

const ResponseTimeChart = lazy(() => import('../components/ResponseTimeChart'));

const POLL = 10_000;

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
      await invalidateEndpointReads(queryClient, id);
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
  const e = ep.data;
  if (e.kind === 'heartbeat') return <Navigate to="/heartbeats/$id" params={{ id }} replace />;
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
      {e.last_error && !e.paused && (
        <Alert tone={e.last_status === 'down' ? 'danger' : 'warning'} data-testid="last-error">
          Last check failed: {e.last_error}
        </Alert>
      )}
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
      <ChecksSection id={id} regions={e.regions} />

      {canEdit && <EndpointFormDialog open={editing} onClose={() => setEditing(false)} endpoint={e} />}
    </div>
  );
}

function Certificate({ e }: { e: Endpoint }) {
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

const WINDOWS = [
  { key: '24h', days: 1, label: '24 hours' },
  { key: '7d', days: 7, label: '7 days' },
  { key: '30d', days: 30, label: '30 days' },
  { key: '90d', days: 90, label: '90 days' },
] as const;
type Days = (typeof WINDOWS)[number]['days'];

function UptimeSection({ id }: { id: string }) {
  const all = useQuery(uptimeQuery(id));
  const [days, setDays] = useState<Days>(1);
  const one = useQuery({
    queryKey: ['uptime', id, days],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/uptime/', { params: { id }, query: { days } }),
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  const sel = WINDOWS.find((w) => w.days === days)!;
  const buckets = one.data?.days === days ? (one.data.buckets ?? []) : [];
  return (
    <section className="card ep-card" aria-label="Uptime">
      <h2>Uptime</h2>
      <div className="ep-uptime" role="group" aria-label="Uptime windows">
        {WINDOWS.map((w) => {
          const win = all.data?.windows?.[w.key];
          return (
            <button
              type="button"
              className={`ep-tile${w.days === days ? ' ep-tile-on' : ''}`}
              key={w.key}
              data-testid={`uptime-${w.key}`}
              aria-pressed={w.days === days}
              onClick={() => setDays(w.days)}
            >
              <span className="ep-tile-label">{w.label}</span>
              <span className="ep-tile-value">{all.isPending ? '…' : fmtPct(win?.uptime_percent)}</span>
              <span className="hint">{win ? `${win.checks} checks, ${win.failures} failed` : all.isError ? 'not available' : ''}</span>
            </button>
          );
        })}
      </div>
      {buckets.length > 0 && (
        <div className="uptime-bar" role="img" aria-label={`Uptime per ${days === 1 ? 'hour' : 'day'} over ${sel.label}`}>
          {buckets.map((b) => (
            <span
              key={b.start}
              className={`uptime-cell ${b.uptime_percent == null ? 'u-none' : b.uptime_percent >= 99.9 ? 'u-up' : b.uptime_percent >= 95 ? 'u-some' : 'u-down'}`}
              title={`${new Date(b.start).toLocaleString()}: ${b.uptime_percent == null ? 'no checks' : `${fmtPct(b.uptime_percent)}, ${b.failures} of ${b.checks} failed`}`}
            />
          ))}
        </div>
      )}
    </section>
  );
}

function duration(s: number) {
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} days`;
}

function IncidentsSection({ id }: { id: string }) {
  const [page, setPage] = useState(1);
  const q = useQuery({
    queryKey: ['endpoint-incidents', id, page],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/incidents/', { params: { id }, query: { page, page_size: 10 } }),
    refetchInterval: POLL,
    placeholderData: keepPreviousData,
  });
  const rows = q.data?.results ?? [];
  return (
    <section className="card ep-card" aria-label="Incidents">
      <h2>Incidents</h2>
      {q.isError ? (
        <p className="muted">Incidents are not available ({parseApiError(q.error).detail}).</p>
      ) : rows.length === 0 ? (
        <p className="muted">{q.isPending ? 'Loading…' : 'No incidents. Every check has passed so far.'}</p>
      ) : (
        <>
          <ol className="timeline" aria-label="Incident timeline">
            {rows.map((i) => (
              <li key={i.id} className={i.closed_at ? 'tl-resolved' : 'tl-opened'}>
                <strong>{i.kind === 'down' ? 'Down' : 'Degraded'}</strong>{' '}
                <time dateTime={i.opened_at}>{new Date(i.opened_at).toLocaleString()}</time>
                {i.closed_at ? (
                  <>
                    {' '}
                    → resolved <time dateTime={i.closed_at}>{new Date(i.closed_at).toLocaleString()}</time> after {duration(i.duration_seconds)}
                  </>
                ) : (
                  <> · ongoing for {duration(i.duration_seconds)}</>
                )}
                {i.cause && <div className="check-error">{i.cause}</div>}
              </li>
            ))}
          </ol>
          {(q.data?.next || page > 1) && (
            <div className="pager-buttons">
              <Button variant="secondary" size="sm" disabled={!q.data?.previous} onClick={() => setPage(page - 1)}>
                Newer
              </Button>
              <Button variant="secondary" size="sm" disabled={!q.data?.next} onClick={() => setPage(page + 1)}>
                Older
              </Button>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function ChecksSection({ id, regions }: { id: string; regions: string[] }) {
  const [page, setPage] = useState(1);
  const [failedOnly, setFailedOnly] = useState(false);
  const [region, setRegion] = useState('');
  const query = { page, page_size: CHECKS_PAGE, ...(failedOnly ? { ok: 'false' as const } : {}), ...(region ? { region } : {}) };
  const q = useQuery({
    queryKey: ['checks', id, query],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/checks/', { params: { id }, query }),
    refetchInterval: page === 1 ? POLL : false,
    placeholderData: keepPreviousData,
  });
  const rows = q.data?.results ?? [];
  const count = q.data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / CHECKS_PAGE));
  return (
    <section aria-label="Recent checks">
      <div className="ep-checks-head">
        <h2>Recent checks</h2>
        <label className="sp-check">
          <input
            type="checkbox"
            checked={failedOnly}
            onChange={(ev) => {
              setFailedOnly(ev.target.checked);
              setPage(1);
            }}
          />{' '}
          Failed only
        </label>
        {regions.length > 1 && (
          <select
            className="input input-sm"
            aria-label="Region"
            value={region}
            onChange={(ev) => {
              setRegion(ev.target.value);
              setPage(1);
            }}
          >
            <option value="">All regions</option>
            {regions.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        )}
      </div>
      {q.isError ? (
        <Alert tone="danger">{parseApiError(q.error).detail}</Alert>
      ) : rows.length === 0 ? (
        <p className="muted">{q.isPending ? 'Loading…' : failedOnly ? 'No failed checks.' : 'No checks yet.'}</p>
      ) : (
        <>
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
          <nav className="pager" aria-label="Checks pagination">
            <span className="pager-info">
              Page {page} of {pages} · {count} check{count === 1 ? '' : 's'}
            </span>
            <div className="pager-buttons">
              <Button variant="secondary" size="sm" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Newer
              </Button>
              <Button variant="secondary" size="sm" disabled={!q.data?.next} onClick={() => setPage(page + 1)}>
                Older
              </Button>
            </div>
          </nav>
        </>
      )}
    </section>
  );
}
