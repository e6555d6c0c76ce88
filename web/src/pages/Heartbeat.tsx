// One heartbeat monitor: its status, the ping URL with a copy button and lines ready to paste
// (curl, crontab), when the next ping is expected, and the log of pings received.
import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { timeAgo } from '../lib/format';
import { Button } from '../components/ui/button';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { StatusBadge } from '../components/StatusBadge';

const POLL = 5000;

function schedule(e: { period_seconds?: number | null; cron?: string | null; tz?: string; grace_seconds?: number }) {
  const grace = e.grace_seconds ? ` + ${Math.round(e.grace_seconds / 60)} min grace` : '';
  if (e.cron) return `cron "${e.cron}" (${e.tz ?? 'UTC'})${grace}`;
  const p = e.period_seconds ?? 0;
  const human = p % 86400 === 0 ? `${p / 86400} day(s)` : p % 3600 === 0 ? `${p / 3600} hour(s)` : `${Math.round(p / 60)} minute(s)`;
  return `every ${human}${grace}`;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <Button
      variant="secondary"
      size="sm"
      aria-label={label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 2000);
        } catch {
          setDone(false);
        }
      }}
    >
      {done ? 'Copied' : 'Copy'}
    </Button>
  );
}

export default function HeartbeatPage() {
  const { id } = useParams({ from: '/authed/heartbeats/$id' });
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const hb = useQuery({
    queryKey: ['endpoint', id],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/', { params: { id } }),
    refetchInterval: POLL,
  });
  const pings = useQuery({
    queryKey: ['pings', id, page],
    queryFn: () => apiRequest('get', '/api/endpoints/{id}/pings/', { params: { id }, query: { page, page_size: 20 } }),
    refetchInterval: POLL,
    placeholderData: keepPreviousData,
  });
  const rotate = useMutation({
    mutationFn: () => apiRequest('post', '/api/endpoints/{id}/rotate-ping-url/', { params: { id } }),
    onSuccess: (e) => queryClient.setQueryData(['endpoint', id], e),
  });

  if (hb.isPending) return <div className="page" role="status">Loading…</div>;
  if (hb.isError || !hb.data)
    return (
      <div className="page">
        <div className="state state-error" role="alert">
          <h2>Could not load this heartbeat</h2>
          <p>{parseApiError(hb.error).detail}</p>
          <Link to="/dashboard" className="link">
            Back to the endpoints
          </Link>
        </div>
      </div>
    );
  const e = hb.data;
  const url = e.ping_url ?? '';
  const curl = `curl -fsS -m 10 --retry 5 -o /dev/null ${url}`;
  const crontab = `${e.cron ?? '0 3 * * *'} /path/to/job.sh && ${curl}`;
  const count = pings.data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / 20));

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
          <p className="page-subtitle">
            Heartbeat, expected {schedule(e)} · <StatusBadge status={e.last_status} paused={e.paused} />
          </p>
        </div>
      </div>

      <section className="card hb-card" aria-label="Ping URL">
        <h2>Ping URL</h2>
        <div className="hb-line">
          <code data-testid="ping-url">{url}</code>
          <CopyButton text={url} label="Copy ping URL" />
        </div>
        <p className="hint">GET, POST or HEAD. Add /start when a run begins, /fail or /&lt;exit status&gt; when it ends.</p>
        <h3>curl</h3>
        <div className="hb-line">
          <code data-testid="curl-line">{curl}</code>
          <CopyButton text={curl} label="Copy curl line" />
        </div>
        <h3>crontab</h3>
        <div className="hb-line">
          <code data-testid="crontab-line">{crontab}</code>
          <CopyButton text={crontab} label="Copy crontab line" />
        </div>
        <p>
          <Button variant="secondary" size="sm" onClick={() => rotate.mutate()} loading={rotate.isPending}>
            New ping URL
          </Button>{' '}
          <span className="hint">The current URL stops working.</span>
        </p>
      </section>

      <section className="card hb-card" aria-label="Timing">
        <dl className="hb-facts">
          <dt>Expected next ping</dt>
          <dd data-testid="next-ping">
            {e.next_ping_at ? <time dateTime={e.next_ping_at}>{new Date(e.next_ping_at).toLocaleString()}</time> : 'After the first ping'}
          </dd>
          <dt>Last ping</dt>
          <dd>{e.last_ping_at ? <time dateTime={e.last_ping_at}>{timeAgo(e.last_ping_at)}</time> : 'None yet'}</dd>
        </dl>
      </section>

      <section aria-label="Ping log">
        <h2>Pings</h2>
        {count === 0 ? (
          <p className="muted">No pings yet. Run the curl line above to send one.</p>
        ) : (
          <>
            <Table aria-label="Pings">
              <THead>
                <Tr>
                  <Th>Received</Th>
                  <Th>Kind</Th>
                  <Th className="hide-sm">From</Th>
                  <Th className="hide-sm">Duration</Th>
                  <Th>Body</Th>
                </Tr>
              </THead>
              <TBody>
                {(pings.data?.results ?? []).map((p) => (
                  <Tr key={p.id}>
                    <Td>
                      <time dateTime={p.received_at} title={new Date(p.received_at).toLocaleString()}>
                        {timeAgo(p.received_at)}
                      </time>
                    </Td>
                    <Td>
                      {p.kind}
                      {p.exit_status != null ? ` (exit ${p.exit_status})` : ''}
                    </Td>
                    <Td className="hide-sm" title={p.user_agent}>
                      {p.method} from {p.client_ip}
                    </Td>
                    <Td className="hide-sm">{p.duration_ms != null ? `${(p.duration_ms / 1000).toFixed(1)} s` : '—'}</Td>
                    <Td>
                      <span className="hb-body">{p.body}</span>
                    </Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
            <nav className="pager" aria-label="Pagination">
              <span className="pager-info">
                Page {page} of {pages} · {count} ping{count === 1 ? '' : 's'}
              </span>
              <div className="pager-buttons">
                <Button variant="secondary" size="sm" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                  Previous
                </Button>
                <Button variant="secondary" size="sm" disabled={page >= pages} onClick={() => setPage(page + 1)}>
                  Next
                </Button>
              </div>
            </nav>
          </>
        )}
      </section>
    </div>
  );
}
