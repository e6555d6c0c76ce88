// Notification channels (issue 19): email, signed webhooks, Slack, Discord, Teams, PagerDuty,
// ntfy, Telegram. Add, edit (secrets are write-only: left empty they keep their value), send a
// test and watch its delivery, delete. Owner and admins change and test them; members and viewers read.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import axios from 'axios';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import { meQuery } from '../lib/queries';
import { atLeast, type Role } from '../lib/roles';
import { CHANNEL_KINDS, DELIVERY_LABEL, DELIVERY_TONE, KIND_ORDER, MASK, channelsQuery, configSummary } from '../lib/alerts';
import type { Channel, ChannelCreate, ChannelKind, Notification } from '../lib/types';
import { Table, TBody, THead, Td, Th, Tr } from '../components/ui/table';
import { Button } from '../components/ui/button';
import { Badge } from '../components/ui/badge';
import { Alert } from '../components/ui/alert';
import { AlertsTabs } from '../components/AlertsTabs';
import { Dialog } from '../components/ui/dialog';
import { Field } from '../components/ui/input';
import { ConfirmDialog } from '../components/ConfirmDialog';

export default function ChannelsPage() {
  const qc = useQueryClient();
  const me = useQuery(meQuery());
  const canEdit = atLeast(me.data?.role as Role | undefined, 'admin');
  const list = useQuery(channelsQuery());
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [created, setCreated] = useState<Channel | null>(null);
  // The test deliveries started here, by channel: followed until delivered or failed.
  const [tests, setTests] = useState<Record<string, string>>({});

  const del = useMutation({
    mutationFn: (id: string) => apiRequest('delete', '/api/channels/{id}/', { params: { id } }),
    onSuccess: async () => {
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ['channels'] });
    },
  });
  const test = useMutation({
    mutationFn: (id: string) => apiRequest('post', '/api/channels/{id}/test/', { params: { id }, body: {} }),
    onSuccess: (n, id) => setTests((t) => ({ ...t, [id]: n.id })),
  });

  const rows = list.data?.results ?? [];
  return (
    <div className="page">
      <AlertsTabs />
      <div className="page-header">
        <div>
          <h1 className="page-title">Notification channels</h1>
          <p className="page-subtitle">
            Where incidents, reminders and certificate warnings go. New endpoints notify the default channels.
          </p>
        </div>
        {canEdit && (
          <div className="page-actions">
            <Button onClick={() => setEditing('new')}>+ Add channel</Button>
          </div>
        )}
      </div>
      {created && (
        <Alert tone="success" data-testid="created-secret">
          Channel <strong>{created.name}</strong> added.
          {created.kind === 'webhook' && typeof (created.config as { secret?: string }).secret === 'string' && (
            <>
              {' '}
              Its signing secret, shown only now: <code>{(created.config as { secret: string }).secret}</code>
            </>
          )}{' '}
          <Button variant="link" size="sm" onClick={() => setCreated(null)}>
            Dismiss
          </Button>
        </Alert>
      )}
      {test.isError && <Alert tone="danger">{parseApiError(test.error).detail ?? 'The test could not be sent.'}</Alert>}
      {list.isPending ? (
        <p role="status">Loading…</p>
      ) : list.isError ? (
        <Alert tone="danger">{parseApiError(list.error).detail}</Alert>
      ) : rows.length === 0 ? (
        <div className="state state-empty">
          <h2>No channels</h2>
          <p>Add one to hear about outages in email, Slack, a webhook and more.</p>
        </div>
      ) : (
        <Table aria-label="Channels">
          <THead>
            <Tr>
              <Th>Name</Th>
              <Th>Kind</Th>
              <Th className="hide-sm">Sends to</Th>
              <Th>Default</Th>
              <Th>
                <span className="sr-only">Actions</span>
              </Th>
            </Tr>
          </THead>
          <TBody>
            {rows.map((c) => (
              <Tr key={c.id}>
                <Td>{c.name}</Td>
                <Td>{CHANNEL_KINDS[c.kind]?.label ?? c.kind}</Td>
                <Td className="hide-sm">
                  <span className="ep-url">{configSummary(c.kind, c.config as Record<string, unknown>)}</span>
                </Td>
                <Td>{c.is_default ? <Badge tone="info">Default</Badge> : <span className="muted">—</span>}</Td>
                <Td className="actions">
                  {tests[c.id] && <TestStatus channelId={c.id} notificationId={tests[c.id]} />}
                  {canEdit && (
                    <>
                      <Button variant="secondary" size="sm" aria-label={`Test ${c.name}`} loading={test.isPending && test.variables === c.id} onClick={() => test.mutate(c.id)}>
                        Test
                      </Button>{' '}
                      <Button variant="secondary" size="sm" aria-label={`Edit ${c.name}`} onClick={() => setEditing(c)}>
                        Edit
                      </Button>{' '}
                      <Button variant="ghost" size="sm" aria-label={`Delete ${c.name}`} onClick={() => setDeleting(c)}>
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
        <ChannelDialog
          channel={editing}
          onClose={() => setEditing(null)}
          onCreated={(c) => {
            setCreated(c);
          }}
        />
      )}
      <ConfirmDialog
        open={!!deleting}
        title="Delete channel?"
        description={deleting ? <>Endpoints stop notifying <strong>{deleting.name}</strong>. Its delivery log stays.</> : undefined}
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

/** The test delivery's status, polled from the delivery log until it is settled. */
function TestStatus({ channelId, notificationId }: { channelId: string; notificationId: string }) {
  const q = useQuery({
    queryKey: ['notifications', { channel: channelId, test: notificationId }],
    queryFn: () => apiRequest('get', '/api/notifications/', { query: { channel: channelId, page_size: 20 } }),
    refetchInterval: (query) => {
      const n = query.state.data?.results.find((r) => r.id === notificationId);
      return n && n.status !== 'pending' ? false : 1000;
    },
  });
  const n: Notification | undefined = q.data?.results.find((r) => r.id === notificationId);
  const status = n?.status ?? 'pending';
  return (
    <span className="test-status" data-testid={`test-status-${channelId}`} title={n?.last_error ?? undefined}>
      <Badge tone={DELIVERY_TONE[status]}>Test: {DELIVERY_LABEL[status]}</Badge>
      {n?.status === 'failed' && n.last_error && <span className="check-error"> {n.last_error}</span>}{' '}
    </span>
  );
}

type FieldErrs = Record<string, string>;

function ChannelDialog({ channel, onClose, onCreated }: { channel: Channel | 'new' | null; onClose: () => void; onCreated: (c: Channel) => void }) {
  const open = channel !== null;
  const editing = channel && channel !== 'new' ? channel : null;
  return (
    <Dialog open={open} onClose={onClose} title={editing ? 'Edit channel' : 'Add channel'}>
      {open && <ChannelForm channel={editing} onClose={onClose} onCreated={onCreated} />}
    </Dialog>
  );
}

function ChannelForm({ channel, onClose, onCreated }: { channel: Channel | null; onClose: () => void; onCreated: (c: Channel) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(channel?.name ?? '');
  const [kind, setKind] = useState<ChannelKind>(channel?.kind ?? 'webhook');
  const [isDefault, setIsDefault] = useState(channel?.is_default ?? false);
  const initial = (channel?.config ?? {}) as Record<string, unknown>;
  const [values, setValues] = useState<Record<string, string>>(() => {
    const v: Record<string, string> = {};
    for (const f of CHANNEL_KINDS[channel?.kind ?? 'webhook'].fields) {
      const x = initial[f.key];
      v[f.key] = f.secret || x == null || x === MASK ? '' : Array.isArray(x) ? x.join(', ') : String(x);
    }
    return v;
  });
  const [errs, setErrs] = useState<FieldErrs>({});
  const [general, setGeneral] = useState<string[]>([]);

  const fields = CHANNEL_KINDS[kind].fields;
  function config(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const v = (values[f.key] ?? '').trim();
      if (f.list) out[f.key] = v.split(/[\s,;]+/).filter(Boolean);
      else if (v) out[f.key] = v;
      // An empty secret on edit keeps the stored one (left out); on create an optional one is generated/none.
    }
    return out;
  }
  function validate(): FieldErrs {
    const e: FieldErrs = {};
    if (!name.trim()) e.name = 'Name the channel.';
    for (const f of fields) {
      const v = (values[f.key] ?? '').trim();
      if (!v && !f.optional && !(channel && f.secret)) e[f.key] = `Enter the ${f.label.toLowerCase()}.`;
      if (v && f.key === 'url' && !/^https?:\/\/[^\s]+$/.test(v)) e[f.key] = 'Enter a full http:// or https:// URL.';
      if (v && f.list && v.split(/[\s,;]+/).some((a) => a && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a))) e[f.key] = 'Enter email addresses separated by commas.';
    }
    return e;
  }

  const save = useMutation({
    mutationFn: () => {
      if (channel) {
        return apiRequest('patch', '/api/channels/{id}/', { params: { id: channel.id }, body: { name: name.trim(), is_default: isDefault, config: config() as ChannelCreate['config'] } });
      }
      // The contract types config as a plain object (its shape depends on kind: ChannelConfig).
      const body: ChannelCreate = { name: name.trim(), kind, config: config() as ChannelCreate['config'], is_default: isDefault };
      return apiRequest('post', '/api/channels/', { body });
    },
    onSuccess: async (c) => {
      await qc.invalidateQueries({ queryKey: ['channels'] });
      if (!channel) onCreated(c);
      onClose();
    },
    onError: (err) => {
      const info = parseApiError(err);
      const e: FieldErrs = {};
      const rest: string[] = info.detail ? [info.detail] : [];
      const raw = axios.isAxiosError(err) ? (err.response?.data as Record<string, unknown> | undefined) : undefined;
      const cfg = raw?.config;
      if (cfg && typeof cfg === 'object' && !Array.isArray(cfg)) {
        for (const [k, m] of Object.entries(cfg as Record<string, unknown>)) {
          const msg = Array.isArray(m) ? m.map(String).join(' ') : String(m);
          if (fields.some((f) => f.key === k)) e[k] = msg;
          else rest.push(`${k}: ${msg}`);
        }
      }
      for (const [k, m] of Object.entries(info.fields)) {
        if (k === 'config' && cfg && typeof cfg === 'object' && !Array.isArray(cfg)) continue;
        if (k === 'name' || k === 'kind') e[k] = m.join(' ');
        else rest.push(`${k.replace(/_/g, ' ')}: ${m.join(' ')}`);
      }
      setErrs(e);
      setGeneral(rest);
    },
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    const e = validate();
    setErrs(e);
    setGeneral([]);
    if (Object.keys(e).length === 0) save.mutate();
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      {general.length > 0 && <Alert tone="danger">{general.join(' ')}</Alert>}
      <Field label="Name" placeholder="On-call webhook" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} />
      <div className="field">
        <label className="label" htmlFor="channel-kind">
          Kind
        </label>
        <select
          id="channel-kind"
          className="input"
          value={kind}
          disabled={!!channel}
          onChange={(e) => {
            setKind(e.target.value as ChannelKind);
            setValues({});
            setErrs({});
          }}
        >
          {KIND_ORDER.map((k) => (
            <option key={k} value={k}>
              {CHANNEL_KINDS[k].label}
            </option>
          ))}
        </select>
        {errs.kind && (
          <p className="field-error" role="alert">
            {errs.kind}
          </p>
        )}
      </div>
      {fields.map((f) => (
        <Field
          key={`${kind}-${f.key}`}
          label={f.label}
          type={f.secret ? 'password' : 'text'}
          autoComplete="off"
          placeholder={channel && f.secret ? 'unchanged' : f.placeholder}
          hint={f.secret ? 'Write-only: stored encrypted, never shown again.' : undefined}
          value={values[f.key] ?? ''}
          onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
          error={errs[f.key]}
        />
      ))}
      <label className="sp-check">
        <input type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} /> Default for new endpoints
      </label>
      <div className="dialog-actions">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" loading={save.isPending}>
          {channel ? 'Save changes' : 'Add channel'}
        </Button>
      </div>
    </form>
  );
}
