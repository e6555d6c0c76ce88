import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '../lib/contract';
import { parseApiError, type ApiErrorInfo } from '../lib/api';
import { meQuery } from '../lib/queries';
import { atLeast, grantable, type Role } from '../lib/roles';
import { Card, CardContent, CardHeader, CardTitle, CardDescription } from '../components/ui/card';
import { Table, THead, TBody, Tr, Th, Td } from '../components/ui/table';
import { Button } from '../components/ui/button';
import { Field } from '../components/ui/input';
import { Alert } from '../components/ui/alert';
import { FormError } from '../components/FormError';

export default function TokensPage() {
  const qc = useQueryClient();
  const me = useQuery(meQuery());
  const role = me.data?.role as Role | undefined;
  const admin = atLeast(role, 'admin');
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => apiRequest('get', '/api/tokens/', { query: { page_size: 100 } }), enabled: admin });
  const [name, setName] = useState('');
  const [tokenRole, setTokenRole] = useState<Role>('viewer');
  const [expires, setExpires] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<ApiErrorInfo | null>(null);
  const create = useMutation({
    mutationFn: () =>
      apiRequest('post', '/api/tokens/', {
        body: { name, role: tokenRole, expires_at: expires ? new Date(expires).toISOString() : null },
      }),
    onSuccess: (t) => {
      setShown(t.token);
      setCopied(false);
      setName('');
      setError(null);
      void qc.invalidateQueries({ queryKey: ['tokens'] });
    },
    onError: (e) => setError(parseApiError(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => apiRequest('delete', '/api/tokens/{id}/', { params: { id } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['tokens'] }),
    onError: (e) => setError(parseApiError(e)),
  });

  if (me.data && !admin) {
    return (
      <div className="page">
        <h1 className="page-title">API tokens</h1>
        <Alert tone="info">API tokens are managed by the organization's admins.</Alert>
      </div>
    );
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <div className="page">
      <h1 className="page-title">API tokens</h1>
      <FormError info={error} />
      {shown && (
        <Alert tone="success">
          <div>Copy this token now: it is not shown again.</div>
          <code data-testid="new-token">{shown}</code>{' '}
          <Button
            size="sm"
            variant="secondary"
            onClick={() => {
              void navigator.clipboard?.writeText(shown);
              setCopied(true);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </Button>{' '}
          <Button size="sm" variant="link" onClick={() => setShown(null)}>
            Done
          </Button>
        </Alert>
      )}
      <Card>
        <CardHeader>
          <CardTitle>Create a token</CardTitle>
          <CardDescription>Use it as "Authorization: Bearer swt_..." on the API. Its role is at most yours.</CardDescription>
        </CardHeader>
        <CardContent>
          <form onSubmit={submit} className="form" noValidate>
            <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} />
            <label className="field-label" htmlFor="token-role">
              Role
            </label>
            <select id="token-role" value={tokenRole} onChange={(e) => setTokenRole(e.target.value as Role)}>
              {grantable(role, true).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <Field label="Expires (optional)" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
            <Button type="submit" loading={create.isPending}>
              Create token
            </Button>
          </form>
        </CardContent>
      </Card>
      <Table aria-label="API tokens">
        <THead>
          <Tr>
            <Th>Name</Th>
            <Th>Role</Th>
            <Th>Prefix</Th>
            <Th>Created by</Th>
            <Th>Last used</Th>
            <Th>Expires</Th>
            <Th />
          </Tr>
        </THead>
        <TBody>
          {tokens.data?.results.map((t) => (
            <Tr key={t.id}>
              <Td>{t.name}</Td>
              <Td>{t.role}</Td>
              <Td>
                <code>{t.prefix}…</code>
              </Td>
              <Td>{t.created_by.email ?? '—'}</Td>
              <Td>{t.last_used_at ? new Date(t.last_used_at).toLocaleString() : 'never'}</Td>
              <Td>{t.expires_at ? new Date(t.expires_at).toLocaleString() : 'never'}</Td>
              <Td>
                <Button size="sm" variant="secondary" onClick={() => revoke.mutate(t.id)}>
                  Revoke
                </Button>
              </Td>
            </Tr>
          ))}
        </TBody>
      </Table>
    </div>
  );
}
