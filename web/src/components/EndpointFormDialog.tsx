// Create or edit an HTTP or TCP endpoint: URL, interval, method, headers (values are
// write-only: an existing header shows its name and keeps its value unless a new one is
// typed), body, redirects, TLS verification, the degraded threshold, the certificate alert
// days and the assertions editor. API field errors land under their fields; an assertion's
// errors under its own entry (DRF: {"assertions": [{}, {"comparison": ["..."]}]}).
import { useState } from 'react';
import { Controller, useFieldArray, useForm, useWatch } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import axios from 'axios';
import { parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import { CHANNEL_KINDS, channelsQuery } from '../lib/alerts';
import type { Endpoint, EndpointCreate } from '../lib/types';
import {
  COMPARISONS,
  COMPARISON_LABEL,
  DEFAULT_TLS_DAYS,
  MASK,
  METHODS,
  NEEDS_PROPERTY,
  SOURCES,
  SOURCE_LABEL,
  UNARY,
  parseDays,
} from '../lib/checks';
import { Dialog } from './ui/dialog';
import { Field } from './ui/input';
import { Button } from './ui/button';
import { Alert } from './ui/alert';

const isHttpUrl = (v: string) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
};
const TCP_RE = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const isTcpUrl = (v: string) => {
  const m = TCP_RE.exec(v);
  return !!m && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
};

const assertionSchema = z.object({
  source: z.enum(SOURCES),
  property: z.string().trim().max(512, 'At most 512 characters.'),
  comparison: z.enum(COMPARISONS),
  target: z.string().max(1024, 'At most 1024 characters.'),
});

const schema = z
  .object({
    name: z.string().trim().max(200, 'At most 200 characters.'),
    kind: z.enum(['http', 'tcp']),
    url: z.string().trim().min(1, 'Enter the URL to monitor.').max(2048, 'At most 2048 characters.'),
    interval_seconds: z.coerce.number().int().min(30, 'At least 30 seconds.').max(86400, 'At most a day.'),
    method: z.enum(METHODS),
    headers: z
      .array(z.object({ name: z.string().trim().max(256, 'At most 256 characters.'), value: z.string().max(1024, 'At most 1 KiB.'), existing: z.boolean() }))
      .max(20, 'At most 20 headers.'),
    body: z.string().max(16384, 'At most 16 KiB.'),
    follow_redirects: z.boolean(),
    tls_verify: z.boolean(),
    degraded_threshold_ms: z.string().trim().regex(/^(\d{1,6})?$/, 'A whole number of milliseconds, or empty for none.'),
    tls_expiry_alert_days: z.string().refine((v) => parseDays(v) !== null, 'Whole days between 1 and 365, separated by commas.'),
    assertions: z.array(assertionSchema).max(10, 'At most 10 assertions.'),
    // null: the organization's default channels (left out of the request)
    channel_ids: z.array(z.string()).max(50, 'At most 50 channels.').nullable(),
    reminder_minutes: z.coerce.number().int().min(0, 'At least 0 (none).').max(10080, 'At most a week (10080 minutes).'),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'http' && !isHttpUrl(v.url)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Enter a full http:// or https:// URL.' });
    if (v.kind === 'tcp' && !isTcpUrl(v.url)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Enter tcp://host:port.' });
    v.headers.forEach((h, i) => {
      if (!h.name) ctx.addIssue({ code: 'custom', path: ['headers', i, 'name'], message: 'Name the header.' });
      else if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h.name)) ctx.addIssue({ code: 'custom', path: ['headers', i, 'name'], message: 'Not a valid header name.' });
    });
    v.assertions.forEach((a, i) => {
      if (NEEDS_PROPERTY.includes(a.source) && !a.property)
        ctx.addIssue({ code: 'custom', path: ['assertions', i, 'property'], message: a.source === 'header' ? 'Name the header.' : 'Enter a JSONPath such as $.status.' });
      if (!UNARY.includes(a.comparison) && a.target === '')
        ctx.addIssue({ code: 'custom', path: ['assertions', i, 'target'], message: 'Enter the value to compare with.' });
    });
  });
export type EndpointFormValues = z.infer<typeof schema>;
type AssertionValues = EndpointFormValues['assertions'][number];

const TOP_FIELDS = [
  'name',
  'kind',
  'url',
  'interval_seconds',
  'method',
  'headers',
  'body',
  'follow_redirects',
  'tls_verify',
  'degraded_threshold_ms',
  'tls_expiry_alert_days',
  'channel_ids',
  'reminder_minutes',
] as const;
const A_FIELDS = ['source', 'property', 'comparison', 'target'] as const;

/** What the endpoint's settings look like as form values. */
export function toFormValues(e?: Endpoint | null): EndpointFormValues {
  return {
    name: e?.name ?? '',
    kind: e?.kind === 'tcp' ? 'tcp' : 'http',
    url: e?.url ?? 'https://',
    interval_seconds: e?.interval_seconds ?? 60,
    method: e?.method ?? 'GET',
    headers: Object.keys(e?.headers ?? {}).map((name) => ({ name, value: '', existing: true })),
    body: e?.body ?? '',
    follow_redirects: e?.follow_redirects ?? true,
    tls_verify: e?.tls_verify ?? true,
    degraded_threshold_ms: e?.degraded_threshold_ms != null ? String(e.degraded_threshold_ms) : '',
    tls_expiry_alert_days: (e?.tls_expiry_alert_days ?? DEFAULT_TLS_DAYS).join(', '),
    assertions: (e?.assertions ?? []).map((a) => ({
      source: a.source,
      property: a.property ?? '',
      comparison: a.comparison,
      target: a.target == null ? '' : String(a.target),
    })),
    channel_ids: e?.channel_ids ?? null,
    reminder_minutes: e?.reminder_minutes ?? 0,
  };
}

function assertionBody(a: AssertionValues) {
  const out: Record<string, unknown> = { source: a.source, comparison: a.comparison };
  if (NEEDS_PROPERTY.includes(a.source)) out.property = a.property;
  if (!UNARY.includes(a.comparison)) {
    // Numbers go as numbers where they compare as numbers (status code, response time,
    // greater/less than); the rest as text.
    const numeric =
      (a.source === 'status_code' || a.source === 'response_time_ms' || a.comparison === 'greater_than' || a.comparison === 'less_than') &&
      /^-?\d+(\.\d+)?$/.test(a.target);
    out.target = numeric ? Number(a.target) : a.target;
  }
  return out;
}

/** The request body: on create only what differs from the server's defaults, on edit only
 * what the user changed (headers: all of them once any changed; a kept value goes back as the
 * mask, which the server reads as "unchanged"). */
export function toRequestBody(
  v: EndpointFormValues,
  mode: 'create' | 'edit',
  dirty: Partial<Record<keyof EndpointFormValues, unknown>> = {},
): Record<string, unknown> {
  const all: Record<string, unknown> = {
    name: v.name || undefined,
    kind: v.kind,
    url: v.url,
    interval_seconds: v.interval_seconds,
    method: v.method,
    headers: Object.fromEntries(v.headers.map((h) => [h.name, h.existing && h.value === '' ? MASK : h.value])),
    body: v.body,
    follow_redirects: v.follow_redirects,
    tls_verify: v.tls_verify,
    degraded_threshold_ms: v.degraded_threshold_ms === '' ? null : Number(v.degraded_threshold_ms),
    tls_expiry_alert_days: parseDays(v.tls_expiry_alert_days) ?? DEFAULT_TLS_DAYS,
    assertions: v.assertions.map(assertionBody),
    channel_ids: v.channel_ids ?? undefined,
    reminder_minutes: v.reminder_minutes,
  };
  const http = v.kind === 'http';
  const httpOnly = new Set(['method', 'headers', 'body', 'follow_redirects', 'tls_verify', 'tls_expiry_alert_days', 'assertions']);
  const out: Record<string, unknown> = {};
  if (mode === 'edit') {
    for (const k of Object.keys(all) as (keyof EndpointFormValues)[]) {
      if (!dirty[k]) continue;
      if (k === 'name') out.name = v.name; // emptied: the server names it after the host again
      else if (k === 'channel_ids' && v.channel_ids === null) continue;
      else if (!httpOnly.has(k) || http) out[k] = all[k];
    }
    return out;
  }
  if (v.name) out.name = v.name;
  if (v.kind !== 'http') out.kind = v.kind;
  out.url = v.url;
  out.interval_seconds = v.interval_seconds;
  if (v.degraded_threshold_ms !== '') out.degraded_threshold_ms = all.degraded_threshold_ms;
  if (v.channel_ids !== null) out.channel_ids = v.channel_ids;
  if (v.reminder_minutes) out.reminder_minutes = v.reminder_minutes;
  if (!http) return out;
  if (v.method !== 'GET') out.method = v.method;
  if (v.headers.length) out.headers = all.headers;
  if (v.body) out.body = v.body;
  if (!v.follow_redirects) out.follow_redirects = false;
  if (!v.tls_verify) out.tls_verify = false;
  if ((all.tls_expiry_alert_days as number[]).join(',') !== DEFAULT_TLS_DAYS.join(',')) out.tls_expiry_alert_days = all.tls_expiry_alert_days;
  if (v.assertions.length) out.assertions = all.assertions;
  return out;
}

/** After a change: the endpoint page's reads (checks, uptime, incidents, response times) again. */
export async function invalidateEndpointReads(queryClient: ReturnType<typeof useQueryClient>, id: string) {
  await Promise.all(
    ['endpoint', 'checks', 'uptime', 'endpoint-incidents', 'response-times'].map((k) => queryClient.invalidateQueries({ queryKey: [k, id] })),
  );
}

type Props = { open: boolean; onClose: () => void; endpoint?: Endpoint | null; onSaved?: (e: Endpoint) => void };

export function EndpointFormDialog({ open, onClose, endpoint, onSaved }: Props) {
  const editing = !!endpoint;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={editing ? 'Edit endpoint' : 'Add endpoint'}
      description={editing ? undefined : 'We will check it from every region and tell you when it goes down.'}
    >
      {/* Mounted while open only: every opening starts from the endpoint's current settings. */}
      {open && <EndpointForm endpoint={endpoint} onClose={onClose} onSaved={onSaved} />}
    </Dialog>
  );
}

function EndpointForm({ endpoint, onClose, onSaved }: Omit<Props, 'open'>) {
  const editing = !!endpoint;
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<string[]>([]);
  const [planLimit, setPlanLimit] = useState(false);
  const form = useForm<EndpointFormValues>({ resolver: zodResolver(schema), defaultValues: toFormValues(endpoint) });
  const {
    register,
    control,
    handleSubmit,
    setError,
    setValue,
    formState: { errors, dirtyFields },
  } = form;
  const headers = useFieldArray({ control, name: 'headers' });
  const assertions = useFieldArray({ control, name: 'assertions' });
  const kind = useWatch({ control, name: 'kind' });
  const watched = useWatch({ control, name: 'assertions' });

  const save = useMutation({
    mutationFn: (values: EndpointFormValues) => {
      const dirty = dirtyFields as Partial<Record<keyof EndpointFormValues, unknown>>;
      const body = toRequestBody(values, editing ? 'edit' : 'create', dirty);
      return editing
        ? apiRequest('patch', '/api/endpoints/{id}/', { params: { id: endpoint!.id }, body: body as EndpointCreate })
        : apiRequest('post', '/api/endpoints/', { body: body as EndpointCreate });
    },
    onSuccess: async (saved) => {
      if (editing) queryClient.setQueryData(['endpoint', saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ['endpoints'] });
      if (editing) await invalidateEndpointReads(queryClient, saved.id);
      onSaved?.(saved);
      onClose();
    },
    onError: (err) => {
      const info = parseApiError(err);
      setPlanLimit(info.code === 'plan_limit');
      const rest: string[] = info.detail ? [info.detail] : [];
      const raw = axios.isAxiosError(err) ? (err.response?.data as Record<string, unknown> | undefined) : undefined;
      for (const [field, msgs] of Object.entries(info.fields)) {
        if (field === 'assertions' && Array.isArray(raw?.assertions) && raw!.assertions.some((x) => x && typeof x === 'object')) continue;
        if (field === 'headers' && raw?.headers && typeof raw.headers === 'object' && !Array.isArray(raw.headers)) continue;
        if ((TOP_FIELDS as readonly string[]).includes(field) || field === 'assertions') setError(field as never, { type: 'server', message: msgs.join(' ') });
        else rest.push(`${field.replace(/_/g, ' ')}: ${msgs.join(' ')}`);
      }
      // Per entry: [{}, {"comparison": ["..."]}]
      if (Array.isArray(raw?.assertions)) {
        raw!.assertions.forEach((entry, i) => {
          if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return;
          for (const [f, m] of Object.entries(entry as Record<string, unknown>)) {
            const msg = Array.isArray(m) ? m.map(String).join(' ') : String(m);
            if ((A_FIELDS as readonly string[]).includes(f)) setError(`assertions.${i}.${f}` as never, { type: 'server', message: msg });
            else rest.push(`Assertion ${i + 1}: ${msg}`);
          }
        });
      }
      // Headers by name: {"headers": {"X-Key": ["..."]}}
      if (raw?.headers && typeof raw.headers === 'object' && !Array.isArray(raw.headers)) {
        const names = form.getValues('headers').map((h) => h.name);
        for (const [name, m] of Object.entries(raw.headers as Record<string, unknown>)) {
          const msg = Array.isArray(m) ? m.map(String).join(' ') : String(m);
          const i = names.indexOf(name);
          if (i >= 0) setError(`headers.${i}.value` as never, { type: 'server', message: msg });
          else rest.push(`Header ${name}: ${msg}`);
        }
      }
      setFormError(rest);
    },
  });

  const onSubmit = handleSubmit((values) => {
    setFormError([]);
    setPlanLimit(false);
    save.mutate(values);
  });

  const onKind = (next: 'http' | 'tcp') => {
    const url = form.getValues('url');
    if (next === 'tcp' && !url.startsWith('tcp://')) setValue('url', 'tcp://', { shouldDirty: true });
    if (next === 'http' && url.startsWith('tcp://')) setValue('url', 'https://', { shouldDirty: true });
  };
  const kindReg = register('kind', { onChange: (e) => onKind(e.target.value) });

  return (
    <form onSubmit={onSubmit} noValidate className="form">
      {formError.length > 0 && (
        <Alert tone="danger">
          {formError.join(' ')}
          {planLimit && (
            <>
              {' '}
              <Link to="/billing" className="link" onClick={() => onClose()}>
                See plans and upgrade
              </Link>
            </>
          )}
        </Alert>
      )}
      <Field label="Name" hint="Optional: the URL's host when left empty" placeholder="Marketing site" error={errors.name?.message} {...register('name')} />
      <fieldset className="ep-kind">
        <legend className="label">Kind</legend>
        <label className="sp-check">
          <input type="radio" value="http" {...kindReg} /> HTTP(S)
        </label>
        <label className="sp-check">
          <input type="radio" value="tcp" {...kindReg} /> TCP port
        </label>
      </fieldset>
      <Field
        label="URL"
        type={kind === 'tcp' ? 'text' : 'url'}
        inputMode="url"
        placeholder={kind === 'tcp' ? 'tcp://db.example.com:5432' : 'https://example.com/health'}
        hint={kind === 'tcp' ? 'Up when a connection opens within the timeout.' : undefined}
        error={errors.url?.message}
        {...register('url')}
      />
      <div className="field">
        <label htmlFor="interval" className="label">
          Check every
        </label>
        <select id="interval" className="input" {...register('interval_seconds')}>
          <option value={30}>30 seconds</option>
          <option value={60}>1 minute</option>
          <option value={300}>5 minutes</option>
          <option value={900}>15 minutes</option>
          <option value={3600}>1 hour</option>
        </select>
        {errors.interval_seconds && (
          <p className="field-error" role="alert">
            {errors.interval_seconds.message}
          </p>
        )}
      </div>
      <Field
        label="Degraded above (ms)"
        inputMode="numeric"
        placeholder="none"
        hint="A passing check slower than this shows the endpoint as degraded."
        error={errors.degraded_threshold_ms?.message}
        {...register('degraded_threshold_ms')}
      />

      <fieldset className="ep-assertions">
        <legend className="label">Notify</legend>
        <Controller
          control={control}
          name="channel_ids"
          render={({ field }) => <ChannelPicker value={field.value} onChange={field.onChange} />}
        />
        {errors.channel_ids && <p className="field-error" role="alert">{errors.channel_ids.message}</p>}
        <Field
          label="Remind every (minutes)"
          inputMode="numeric"
          hint="While it stays down and nobody has acknowledged it; 0 for no reminders."
          error={errors.reminder_minutes?.message}
          {...register('reminder_minutes')}
        />
      </fieldset>

      {kind === 'http' && (
        <>
          <details className="ep-section" open={editing || undefined}>
            <summary>Request: method, headers, body, TLS</summary>
            <div className="field">
              <label htmlFor="method" className="label">
                Method
              </label>
              <select id="method" className="input" {...register('method')}>
                {METHODS.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <span className="label">Headers</span>
              <p className="hint">Values are write-only: they are stored encrypted and never shown again.</p>
              {headers.fields.map((f, i) => (
                <div className="ep-row" key={f.id}>
                  <Field label={`Header ${i + 1} name`} placeholder="Authorization" error={errors.headers?.[i]?.name?.message} {...register(`headers.${i}.name`)} />
                  <Field
                    label={`Header ${i + 1} value`}
                    type="password"
                    autoComplete="off"
                    placeholder={f.existing ? 'unchanged' : ''}
                    error={errors.headers?.[i]?.value?.message}
                    {...register(`headers.${i}.value`)}
                  />
                  <Button variant="ghost" size="sm" aria-label={`Remove header ${i + 1}`} onClick={() => headers.remove(i)}>
                    Remove
                  </Button>
                </div>
              ))}
              {errors.headers?.message && <p className="field-error" role="alert">{errors.headers.message}</p>}
              {errors.headers?.root?.message && <p className="field-error" role="alert">{errors.headers.root.message}</p>}
              {headers.fields.length < 20 && (
                <Button variant="secondary" size="sm" onClick={() => headers.append({ name: '', value: '', existing: false })}>
                  + Add header
                </Button>
              )}
            </div>
            <div className="field">
              <label htmlFor="req-body" className="label">
                Body
              </label>
              <textarea id="req-body" className="input sp-textarea" aria-invalid={errors.body ? true : undefined} {...register('body')} />
              {errors.body && (
                <p className="field-error" role="alert">
                  {errors.body.message}
                </p>
              )}
            </div>
            <label className="sp-check">
              <input type="checkbox" {...register('follow_redirects')} /> Follow redirects
            </label>
            <label className="sp-check">
              <input type="checkbox" {...register('tls_verify')} /> Verify the TLS certificate
            </label>
            {errors.follow_redirects && <p className="field-error" role="alert">{errors.follow_redirects.message}</p>}
            {errors.tls_verify && <p className="field-error" role="alert">{errors.tls_verify.message}</p>}
            <Field
              label="Certificate alerts (days before expiry)"
              hint="A mail when the days left cross one of these."
              error={errors.tls_expiry_alert_days?.message}
              {...register('tls_expiry_alert_days')}
            />
          </details>

          <fieldset className="ep-assertions">
            <legend className="label">Assertions</legend>
            <p className="hint">All must hold, with the expected status, for a check to pass.</p>
            {assertions.fields.map((f, i) => {
              const a = watched?.[i] ?? f;
              const err = errors.assertions?.[i];
              return (
                <div className="ep-assertion" key={f.id} role="group" aria-label={`Assertion ${i + 1}`}>
                  <div className="field">
                    <label className="label" htmlFor={`a${i}-source`}>
                      Source
                    </label>
                    <select id={`a${i}-source`} className="input" {...register(`assertions.${i}.source`)}>
                      {SOURCES.map((s) => (
                        <option key={s} value={s}>
                          {SOURCE_LABEL[s]}
                        </option>
                      ))}
                    </select>
                    {err?.source && <p className="field-error" role="alert">{err.source.message}</p>}
                  </div>
                  {NEEDS_PROPERTY.includes(a.source) && (
                    <Field
                      label={a.source === 'header' ? 'Header name' : 'JSONPath'}
                      placeholder={a.source === 'header' ? 'Content-Type' : '$.status'}
                      error={err?.property?.message}
                      {...register(`assertions.${i}.property`)}
                    />
                  )}
                  <div className="field">
                    <label className="label" htmlFor={`a${i}-comparison`}>
                      Comparison
                    </label>
                    <select
                      id={`a${i}-comparison`}
                      className="input"
                      aria-invalid={err?.comparison ? true : undefined}
                      {...register(`assertions.${i}.comparison`)}
                    >
                      {COMPARISONS.map((c) => (
                        <option key={c} value={c}>
                          {COMPARISON_LABEL[c]}
                        </option>
                      ))}
                    </select>
                    {err?.comparison && <p className="field-error" role="alert">{err.comparison.message}</p>}
                  </div>
                  {!UNARY.includes(a.comparison) && <Field label="Target" error={err?.target?.message} {...register(`assertions.${i}.target`)} />}
                  <Button variant="ghost" size="sm" aria-label={`Remove assertion ${i + 1}`} onClick={() => assertions.remove(i)}>
                    Remove
                  </Button>
                </div>
              );
            })}
            {errors.assertions?.message && <p className="field-error" role="alert">{errors.assertions.message}</p>}
            {errors.assertions?.root?.message && <p className="field-error" role="alert">{errors.assertions.root.message}</p>}
            {assertions.fields.length < 10 && (
              <Button variant="secondary" size="sm" onClick={() => assertions.append({ source: 'body', property: '', comparison: 'contains', target: '' })}>
                + Add assertion
              </Button>
            )}
          </fieldset>
        </>
      )}

      <div className="dialog-actions">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button type="submit" loading={save.isPending}>
          {editing ? 'Save changes' : 'Add endpoint'}
        </Button>
      </div>
    </form>
  );
}

/** The organization's channels as checkboxes; null (untouched) shows the default channels. */
function ChannelPicker({ value, onChange }: { value: string[] | null; onChange: (v: string[]) => void }) {
  const q = useQuery(channelsQuery());
  if (q.isPending) return <p className="hint">Loading the channels…</p>;
  if (q.isError) return <p className="hint">The channels could not be loaded; the default channels are notified.</p>;
  const channels = q.data.results;
  if (!channels.length) return <p className="hint">No channels yet.</p>;
  const shown = value ?? channels.filter((c) => c.is_default).map((c) => c.id);
  return (
    <div className="ep-channels">
      {channels.map((c) => (
        <label key={c.id} className="sp-check">
          <input
            type="checkbox"
            checked={shown.includes(c.id)}
            onChange={(e) => onChange(e.target.checked ? [...shown, c.id] : shown.filter((x) => x !== c.id))}
          />{' '}
          {c.name} <span className="muted">({CHANNEL_KINDS[c.kind]?.label ?? c.kind}{c.is_default ? ', default' : ''})</span>
        </label>
      ))}
    </div>
  );
}
