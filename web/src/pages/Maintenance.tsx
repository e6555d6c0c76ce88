// Maintenance windows (issue 19): during one, checks still run but no incident is opened or
// notified, the endpoints show "maintenance" and the time is left out of uptime. Owner, admins
// and members plan, change and delete them; a viewer reads.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { meQuery } from '../lib/queries';
import { atLeast, type Role } from '../lib/roles';
import { allEndpointsQuery } from '../lib/alerts';
import type { MaintenanceWindow } from '../lib/types';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { Button } from '../components/ui/button';
import { Badge } from '../components/ui/badge';
import { Alert } from '../components/ui/alert';
import { AlertsTabs } from '../components/AlertsTabs';
import { Dialog } from '../components/ui/dialog';
import { Field } from '../components/ui/input';
import { ConfirmDialog } from '../components/ConfirmDialog';

/** An ISO instant as a datetime-local value in the browser's zone, and back. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function fromLocalInput(v: string): string | null {
  if (!v) return null;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

export default function MaintenancePage() {
  const qc = useQueryClient();
  const me = useQuery(meQuery());
  const canEdit = atLeast(me.data?.role as Role | undefined, 'member');
  const list = useQuery({
    queryKey: ['maintenance-windows'],
    queryFn: () => apiRequest('get', '/api/maintenance-windows/', { query: { page_size: 100 } }),
    refetchInterval: 30_000,
  });
  const endpoints = useQuery(allEndpointsQuery());
  const names = new Map((endpoints.data?.results ?? []).map((e) => [e.id, e.name]));
  const [editing, setEditing] = useState<MaintenanceWindow | 'new' | null>(null);
  const [deleting, setDeleting] = useState<MaintenanceWindow | null>(null);
  const del = useMutation({
    mutationFn: (id: string) => apiRequest('delete', '/api/maintenance-windows/{id}/', { params: { id } }),
    onSuccess: async () => {
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ['maintenance-windows'] });
    },
  });
  const rows = list.data?.results ?? [];
  // A server without the maintenance routes yet answers 404: say so rather than offer a form.
  const unavailable = list.isError && parseApiError(list.error).status === 404;
  return (
    <div className="page">
      <AlertsTabs />
      <div className="page-header">
        <div>
          <h1 className="page-title">Maintenance windows</h1>
          <p className="page-subtitle">Planned work: checks go on, but nobody is paged and uptime leaves the time out.</p>
        </div>
        {canEdit && !unavailable && (
          <div className="page-actions">
            <Button onClick={() => setEditing('new')}>+ Plan maintenance</Button>
          </div>
        )}
      </div>
      {list.isPending ? (
        <p role="status">Loading…</p>
      ) : unavailable ? (
        <Alert tone="info">Maintenance windows are not available on this server yet.</Alert>
      ) : list.isError ? (
        <Alert tone="danger">{parseApiError(list.error).detail}</Alert>
      ) : rows.length === 0 ? (
        <div className="state state-empty">
          <h2>No maintenance planned</h2>
          <p>Plan a window before deploying or migrating, once or repeating.</p>
        </div>
      ) : (
        <Table aria-label="Maintenance windows">
          <THead>
            <Tr>
              <Th>Name</Th>
              <Th>When</Th>
              <Th className="hide-sm">Endpoints</Th>
              <Th>State</Th>
              <Th>
                <span className="sr-only">Actions</span>
              </Th>
            </Tr>
          </THead>
          <TBody>
            {rows.map((w) => (
              <Tr key={w.id}>
                <Td>{w.name}</Td>
                <Td>
                  {new Date(w.starts_at).toLocaleString()} – {new Date(w.ends_at).toLocaleString()}
                  {w.rrule && (
                    <div className="hint">
                      repeats {w.rrule} ({w.tz})
                      {w.next_starts_at && <> · next {new Date(w.next_starts_at).toLocaleString()}</>}
                    </div>
                  )}
                </Td>
                <Td className="hide-sm">{w.endpoint_ids.map((id) => names.get(id) ?? 'deleted').join(', ')}</Td>
                <Td>{w.active ? <Badge tone="info">In progress</Badge> : w.next_starts_at ? <Badge>Planned</Badge> : <Badge>Over</Badge>}</Td>
                <Td className="actions">
                  {canEdit && (
                    <>
                      <Button variant="secondary" size="sm" aria-label={`Edit ${w.name}`} onClick={() => setEditing(w)}>
                        Edit
                      </Button>{' '}
                      <Button variant="ghost" size="sm" aria-label={`Delete ${w.name}`} onClick={() => setDeleting(w)}>
                        Delete
                      </Button>
                    </>
                  )}
                </Td>
              </Tr>
            ))}
          </TBody>
        </Table>
      )}
      {canEdit && (
        <Dialog open={editing !== null} onClose={() => setEditing(null)} title={editing && editing !== 'new' ? 'Edit maintenance window' : 'Plan maintenance'}>
          {editing !== null && (
            <WindowForm window={editing === 'new' ? null : editing} endpoints={endpoints.data?.results ?? []} onClose={() => setEditing(null)} />
          )}
        </Dialog>
      )}
      <ConfirmDialog
        open={!!deleting}
        title="Delete maintenance window?"
        description={deleting ? <>The endpoints of <strong>{deleting.name}</strong> alert as usual again.</> : undefined}
        pending={del.isPending}
        error={del.isError ? (parseApiError(del.error).detail ?? 'Could not delete it.') : null}
        onConfirm={() => deleting && del.mutate(deleting.id)}
        onClose={() => {
          del.reset();
          setDeleting(null);
        }}
      />
    </div>
  );
}

function WindowForm({ window: w, endpoints, onClose }: { window: MaintenanceWindow | null; endpoints: { id: string; name: string }[]; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(w?.name ?? '');
  const [ids, setIds] = useState<string[]>(w?.endpoint_ids ?? []);
  const [starts, setStarts] = useState(toLocalInput(w?.starts_at));
  const [ends, setEnds] = useState(toLocalInput(w?.ends_at));
  const [rrule, setRrule] = useState(w?.rrule ?? '');
  const [tz, setTz] = useState(w?.tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const [errs, setErrs] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), endpoint_ids: ids, starts_at: fromLocalInput(starts)!, ends_at: fromLocalInput(ends)!, rrule: rrule.trim() || null, tz: tz.trim() || null };
      return w
        ? apiRequest('patch', '/api/maintenance-windows/{id}/', { params: { id: w.id }, body })
        : apiRequest('post', '/api/maintenance-windows/', { body });
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['maintenance-windows'] });
      await qc.invalidateQueries({ queryKey: ['endpoints'] });
      onClose();
    },
    onError: (err) => {
      const info = parseApiError(err);
      const e: Record<string, string> = {};
      const rest: string[] = info.detail ? [info.detail] : [];
      for (const [k, m] of Object.entries(info.fields)) {
        if (['name', 'endpoint_ids', 'starts_at', 'ends_at', 'rrule', 'tz'].includes(k)) e[k] = m.join(' ');
        else rest.push(m.join(' '));
      }
      setErrs(e);
      setGeneral(rest.join(' ') || null);
    },
  });
  function submit(ev: FormEvent) {
    ev.preventDefault();
    const e: Record<string, string> = {};
    if (!name.trim()) e.name = 'Name the window.';
    if (!ids.length) e.endpoint_ids = 'Pick at least one endpoint.';
    const s = fromLocalInput(starts);
    const en = fromLocalInput(ends);
    if (!s) e.starts_at = 'When does it start?';
    if (!en) e.ends_at = 'When does it end?';
    if (s && en && en <= s) e.ends_at = 'It must end after it starts.';
    if (rrule.trim() && !/^(RRULE:)?FREQ=/i.test(rrule.trim())) e.rrule = 'An RFC 5545 rule such as FREQ=WEEKLY;BYDAY=SU.';
    setErrs(e);
    setGeneral(null);
    if (!Object.keys(e).length) save.mutate();
  }
  return (
    <form className="form" onSubmit={submit} noValidate>
      {general && <Alert tone="danger">{general}</Alert>}
      <Field label="Name" placeholder="Database upgrade" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} />
      <fieldset className="ep-assertions">
        <legend className="label">Endpoints</legend>
        {endpoints.length === 0 && <p className="muted">No endpoints yet.</p>}
        {endpoints.map((e) => (
          <label key={e.id} className="sp-check">
            <input type="checkbox" checked={ids.includes(e.id)} onChange={(ev) => setIds((cur) => (ev.target.checked ? [...cur, e.id] : cur.filter((x) => x !== e.id)))} /> {e.name}
          </label>
        ))}
        {errs.endpoint_ids && (
          <p className="field-error" role="alert">
            {errs.endpoint_ids}
          </p>
        )}
      </fieldset>
      <Field label="Starts" type="datetime-local" value={starts} onChange={(e) => setStarts(e.target.value)} error={errs.starts_at} />
      <Field label="Ends" type="datetime-local" value={ends} onChange={(e) => setEnds(e.target.value)} error={errs.ends_at} />
      <Field label="Repeat (RRULE)" placeholder="FREQ=WEEKLY;BYDAY=SU" hint="Optional; empty for once." value={rrule} onChange={(e) => setRrule(e.target.value)} error={errs.rrule} />
      <Field label="Time zone" placeholder="Europe/Berlin" value={tz} onChange={(e) => setTz(e.target.value)} error={errs.tz} />
      <div className="dialog-actions">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" loading={save.isPending}>
          {w ? 'Save changes' : 'Plan it'}
        </Button>
      </div>
    </form>
  );
}
