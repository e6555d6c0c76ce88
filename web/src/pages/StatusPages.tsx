// Public status pages (issue 20): the organization's pages, an editor (name, slug, description,
// which endpoints under which display name and group, uptime shown or not, published or not),
// a preview of what visitors will see, and badge snippets (Markdown, HTML) to copy.
import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../lib/contract';
import { parseApiError } from '../lib/api';
import type { Endpoint, StatusPage, StatusPageWritable } from '../lib/types';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';
import { Field } from '../components/ui/input';
import { StatusBadge } from '../components/StatusBadge';

const SLUG_RE = /^[a-z0-9-]{3,63}$/;

type Row = { endpoint_id: string; name: string; group: string; on: boolean };
type Draft = { name: string; slug: string; description: string; show_uptime: boolean; is_public: boolean; rows: Row[] };

const pagesQuery = { queryKey: ['status-pages'], queryFn: () => apiRequest('get', '/api/status-pages/', { query: { page_size: 100 } }) };
const allEndpointsQuery = {
  queryKey: ['endpoints', 'all'],
  queryFn: async () => (await apiRequest('get', '/api/endpoints/', { query: { page_size: 100 } })).results,
};

function slugify(s: string) {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

function draftOf(page: StatusPage | null, endpoints: Endpoint[]): Draft {
  const chosen = new Map((page?.components ?? []).map((c, i) => [c.endpoint_id, { c, i }]));
  const rows: Row[] = endpoints.map((e) => {
    const hit = chosen.get(e.id);
    return { endpoint_id: e.id, name: hit?.c.name ?? e.name, group: hit?.c.group ?? '', on: !!hit };
  });
  // The page's order first, then the endpoints not on it.
  rows.sort((a, b) => (chosen.get(a.endpoint_id)?.i ?? 1e9) - (chosen.get(b.endpoint_id)?.i ?? 1e9));
  return {
    name: page?.name ?? '',
    slug: page?.slug ?? '',
    description: page?.description ?? '',
    show_uptime: page?.show_uptime ?? true,
    is_public: page?.is_public ?? true,
    rows,
  };
}

function publicUrl(slug: string) {
  return `${window.location.origin}/status/${slug}/`;
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
          setTimeout(() => setDone(false), 1500);
        } catch {
          setDone(false);
        }
      }}
    >
      {done ? 'Copied' : 'Copy'}
    </Button>
  );
}

/** What a visitor will see, from the endpoints' current states (the public page renders the same). */
function Preview({ draft, endpoints }: { draft: Draft; endpoints: Endpoint[] }) {
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  const on = draft.rows.filter((r) => r.on);
  const down = on.filter((r) => byId.get(r.endpoint_id)?.last_status === 'down').length;
  const overall = down === 0 ? 'All Systems Operational' : down === on.length ? 'Major System Outage' : 'Partial System Outage';
  const groups = [...new Set(on.map((r) => r.group.trim()))];
  return (
    <section className="sp-preview" aria-label="Preview">
      <h3 className="sp-preview-title">{draft.name || 'Your page'}</h3>
      {draft.description && <p className="muted">{draft.description}</p>}
      <div className={`sp-overall ${down ? 'sp-down' : 'sp-ok'}`}>{overall}</div>
      {on.length === 0 && <p className="muted">Pick the endpoints to show.</p>}
      {groups.map((g) => (
        <div key={g || '(none)'}>
          {g && <h4 className="sp-group">{g}</h4>}
          {on
            .filter((r) => r.group.trim() === g)
            .map((r) => {
              const e = byId.get(r.endpoint_id);
              return (
                <div className="sp-comp" key={r.endpoint_id}>
                  <span>{r.name || e?.name}</span>
                  <StatusBadge status={e?.last_status ?? 'pending'} paused={e?.paused ?? false} />
                </div>
              );
            })}
        </div>
      ))}
    </section>
  );
}

function Badges({ page }: { page: StatusPage }) {
  const url = publicUrl(page.slug);
  const kinds = [
    ['status.svg', 'status'],
    ...(page.show_uptime
      ? [
          ['uptime-30d.svg', 'uptime 30 days'],
          ['uptime-7d.svg', 'uptime 7 days'],
          ['uptime-24h.svg', 'uptime 24 hours'],
          ['uptime-90d.svg', 'uptime 90 days'],
          ['response-time.svg', 'response time'],
        ]
      : []),
  ];
  if (page.components.length === 0) return null;
  return (
    <section className="sp-badges" aria-label="Badges">
      <h3>Badges</h3>
      {page.components.map((c) => (
        <div key={c.id} className="sp-badge-row">
          <strong>{c.name}</strong>
          {kinds.map(([file, what]) => {
            const img = `${url}badge/${c.id}/${file}`;
            const md = `[![${c.name} ${what}](${img})](${url})`;
            const html = `<a href="${url}"><img src="${img}" alt="${c.name} ${what}"></a>`;
            return (
              <div key={file} className="sp-snippet">
                <img src={`/status/${page.slug}/badge/${c.id}/${file}`} alt={`${c.name} ${what}`} height={20} />
                <code className="sp-code">{md}</code>
                <CopyButton text={md} label={`Copy Markdown for ${c.name} ${what}`} />
                <code className="sp-code">{html}</code>
                <CopyButton text={html} label={`Copy HTML for ${c.name} ${what}`} />
              </div>
            );
          })}
        </div>
      ))}
    </section>
  );
}

function Editor({ page, endpoints, onDone }: { page: StatusPage | null; endpoints: Endpoint[]; onDone: (p: StatusPage | null) => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(page, endpoints));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [slugTouched, setSlugTouched] = useState(!!page);
  useEffect(() => setDraft(draftOf(page, endpoints)), [page, endpoints]);

  const save = useMutation({
    mutationFn: () => {
      const body: StatusPageWritable = {
        name: draft.name.trim(),
        slug: draft.slug,
        description: draft.description,
        show_uptime: draft.show_uptime,
        is_public: draft.is_public,
        components: draft.rows.filter((r) => r.on).map((r) => ({ endpoint_id: r.endpoint_id, name: r.name.trim() || null, group: r.group.trim() || null })),
      };
      return page
        ? apiRequest('patch', '/api/status-pages/{id}/', { params: { id: page.id }, body })
        : apiRequest('post', '/api/status-pages/', { body: { ...body, name: body.name ?? '', slug: body.slug ?? '' } });
    },
    onSuccess: async (saved) => {
      setErrors({});
      await queryClient.invalidateQueries({ queryKey: ['status-pages'] });
      onDone(saved ?? null);
    },
    onError: (err) => {
      const info = parseApiError(err);
      setErrors(info.fields && Object.keys(info.fields).length ? info.fields : { non_field_errors: [(info.detail ?? "Something went wrong.")] });
    },
  });

  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setRow = (i: number, patch: Partial<Row>) => setDraft((d) => ({ ...d, rows: d.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)) }));
  const move = (i: number, by: number) =>
    setDraft((d) => {
      const rows = [...d.rows];
      const j = i + by;
      if (j < 0 || j >= rows.length) return d;
      [rows[i], rows[j]] = [rows[j], rows[i]];
      return { ...d, rows };
    });
  const slugError = draft.slug && !SLUG_RE.test(draft.slug) ? '3 to 63 characters: lowercase letters, digits and hyphens.' : errors.slug?.join(' ');

  return (
    <div className="sp-editor">
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!draft.name.trim()) return setErrors({ name: ['Give the page a name.'] });
          if (!SLUG_RE.test(draft.slug)) return setErrors({ slug: ['3 to 63 characters: lowercase letters, digits and hyphens.'] });
          save.mutate();
        }}
      >
        {(errors.non_field_errors || errors.components) && (
          <Alert tone="danger">{[...(errors.non_field_errors ?? []), ...(errors.components ?? [])].join(' ')}</Alert>
        )}
        <Field
          label="Page name"
          value={draft.name}
          error={errors.name?.join(' ')}
          onChange={(e) => set({ name: e.target.value, ...(slugTouched ? {} : { slug: slugify(e.target.value) }) })}
        />
        <Field
          label="Address"
          value={draft.slug}
          error={slugError}
          hint={draft.slug ? `${window.location.origin}/status/${draft.slug}/` : 'Lowercase letters, digits and hyphens'}
          onChange={(e) => {
            setSlugTouched(true);
            set({ slug: e.target.value.toLowerCase() });
          }}
        />
        <div className="field">
          <label className="label" htmlFor="sp-desc">
            Description
          </label>
          <textarea id="sp-desc" className="input sp-textarea" maxLength={2000} value={draft.description} onChange={(e) => set({ description: e.target.value })} />
        </div>
        <label className="sp-check">
          <input type="checkbox" checked={draft.show_uptime} onChange={(e) => set({ show_uptime: e.target.checked })} /> Show 90-day uptime and response times
        </label>
        <label className="sp-check">
          <input type="checkbox" checked={draft.is_public} onChange={(e) => set({ is_public: e.target.checked })} /> Published (anyone with the address can see it)
        </label>
        <fieldset className="sp-components">
          <legend className="label">Endpoints on the page</legend>
          {draft.rows.length === 0 && <p className="muted">Add endpoints on the dashboard first.</p>}
          {draft.rows.map((r, i) => (
            <div key={r.endpoint_id} className={`sp-row ${r.on ? '' : 'sp-row-off'}`}>
              <label className="sp-check">
                <input type="checkbox" checked={r.on} onChange={(e) => setRow(i, { on: e.target.checked })} aria-label={`Show ${endpoints.find((x) => x.id === r.endpoint_id)?.name ?? r.name}`} />
              </label>
              <input className="input" aria-label="Display name" value={r.name} onChange={(e) => setRow(i, { name: e.target.value })} />
              <input className="input" aria-label="Group" placeholder="Group (optional)" value={r.group} onChange={(e) => setRow(i, { group: e.target.value })} />
              <Button variant="secondary" size="sm" aria-label="Move up" onClick={() => move(i, -1)}>
                ↑
              </Button>
              <Button variant="secondary" size="sm" aria-label="Move down" onClick={() => move(i, 1)}>
                ↓
              </Button>
            </div>
          ))}
        </fieldset>
        <div className="dialog-actions">
          <Button variant="secondary" onClick={() => onDone(page)}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {page ? 'Save changes' : 'Publish page'}
          </Button>
        </div>
      </form>
      <Preview draft={draft} endpoints={endpoints} />
    </div>
  );
}

export default function StatusPagesPage() {
  const queryClient = useQueryClient();
  const pages = useQuery(pagesQuery);
  const endpoints = useQuery(allEndpointsQuery);
  const [editing, setEditing] = useState<StatusPage | 'new' | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => apiRequest('delete', '/api/status-pages/{id}/', { params: { id } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['status-pages'] }),
  });
  const eps = useMemo(() => endpoints.data ?? [], [endpoints.data]);

  if (pages.isError) {
    const info = parseApiError(pages.error);
    return <Alert tone="danger">{info.status === 403 ? 'Only the owner and admins manage status pages.' : (info.detail ?? "Something went wrong.")}</Alert>;
  }
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Status pages</h1>
          <p className="muted">Public pages that tell your customers how your services are doing.</p>
        </div>
        {editing === null && <Button onClick={() => setEditing('new')}>New status page</Button>}
      </div>
      {editing !== null && (
        <Editor
          page={editing === 'new' ? null : editing}
          endpoints={eps}
          onDone={(p) => {
            setEditing(null);
            if (p) setShown(p.id);
          }}
        />
      )}
      {pages.data?.results.length === 0 && editing === null && <p className="muted">No status page yet.</p>}
      <ul className="sp-list">
        {pages.data?.results.map((p) => (
          <li key={p.id} className="card sp-item">
            <div className="sp-item-head">
              <div>
                <strong>{p.name}</strong> {!p.is_public && <span className="badge badge-neutral">Draft</span>}
                <div>
                  <a className="link" href={`/status/${p.slug}/`} target="_blank" rel="noreferrer">
                    {publicUrl(p.slug)}
                  </a>
                </div>
                <div className="muted">{p.components.length} endpoint(s)</div>
              </div>
              <div className="sp-actions">
                <Button variant="secondary" size="sm" onClick={() => setShown(shown === p.id ? null : p.id)}>
                  {shown === p.id ? 'Hide badges' : 'Badges'}
                </Button>
                <Button variant="secondary" size="sm" onClick={() => setEditing(p)}>
                  Edit
                </Button>
                <Button variant="ghost" size="sm" onClick={() => remove.mutate(p.id)} aria-label={`Delete ${p.name}`}>
                  Delete
                </Button>
              </div>
            </div>
            {shown === p.id && <Badges page={p} />}
          </li>
        ))}
      </ul>
    </div>
  );
}
