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

export default function TeamPage() {
  const qc = useQueryClient();
  const me = useQuery(meQuery());
  const role = me.data?.role as Role | undefined;
  const admin = atLeast(role, 'admin');
  const members = useQuery({ queryKey: ['members'], queryFn: () => apiRequest('get', '/api/team/members/', { query: { page_size: 100 } }) });
  const invitations = useQuery({
    queryKey: ['invitations'],
    queryFn: () => apiRequest('get', '/api/team/invitations/', { query: { page_size: 100 } }),
    enabled: admin,
  });
  const [error, setError] = useState<ApiErrorInfo | null>(null);
  const [email, setEmail] = useState('');
  const [inviteRole, setInviteRole] = useState<Role>('member');
  const [sent, setSent] = useState('');
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['members'] });
    void qc.invalidateQueries({ queryKey: ['invitations'] });
  };
  const onError = (e: unknown) => setError(parseApiError(e));
  const invite = useMutation({
    mutationFn: () => apiRequest('post', '/api/team/invitations/', { body: { email, role: inviteRole as 'admin' | 'member' | 'viewer' } }),
    onSuccess: () => {
      setSent(email);
      setEmail('');
      setError(null);
      refresh();
    },
    onError,
  });
  const changeRole = useMutation({
    mutationFn: (v: { id: string; role: 'admin' | 'member' | 'viewer' }) =>
      apiRequest('patch', '/api/team/members/{id}/', { params: { id: v.id }, body: { role: v.role } }),
    onSuccess: () => {
      setError(null);
      refresh();
    },
    onError,
  });
  const remove = useMutation({
    mutationFn: (id: string) => apiRequest('delete', '/api/team/members/{id}/', { params: { id } }),
    onSuccess: refresh,
    onError,
  });
  // Ownership (the owner only): a verified member becomes the owner, the caller an admin; the
  // password confirms it. The server ends the caller's access token, so "me" is asked again.
  const owner = role === 'owner';
  const [transferTo, setTransferTo] = useState<{ id: string; email: string } | null>(null);
  const [password, setPassword] = useState('');
  const [transferred, setTransferred] = useState('');
  const transfer = useMutation({
    mutationFn: (v: { id: string; password: string }) =>
      apiRequest('post', '/api/team/transfer-ownership/', { body: { user_id: v.id, password: v.password } }),
    onSuccess: () => {
      setTransferred(transferTo?.email ?? '');
      setTransferTo(null);
      setPassword('');
      setError(null);
      refresh();
      void qc.invalidateQueries({ queryKey: meQuery().queryKey });
    },
    onError,
  });
  const withdraw = useMutation({
    mutationFn: (id: string) => apiRequest('delete', '/api/team/invitations/{id}/', { params: { id } }),
    onSuccess: refresh,
    onError,
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    invite.mutate();
  }

  return (
    <div className="page">
      <h1 className="page-title">Team</h1>
      <FormError info={error} />
      <Card>
        <CardHeader>
          <CardTitle>Members</CardTitle>
          <CardDescription>Viewers read; members also manage endpoints; admins also manage the team, channels and tokens.</CardDescription>
        </CardHeader>
        <CardContent>
          <Table aria-label="Members">
            <THead>
              <Tr>
                <Th>Email</Th>
                <Th>Role</Th>
                {admin && <Th>Actions</Th>}
              </Tr>
            </THead>
            <TBody>
              {members.data?.results.map((m) => {
                const editable = admin && m.role !== 'owner' && m.id !== me.data?.id;
                return (
                  <Tr key={m.id}>
                    <Td>{m.email}</Td>
                    <Td>
                      {editable ? (
                        <select
                          aria-label={`Role of ${m.email}`}
                          value={m.role}
                          onChange={(e) => changeRole.mutate({ id: m.id, role: e.target.value as 'admin' | 'member' | 'viewer' })}
                        >
                          {grantable(role).map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        m.role
                      )}
                    </Td>
                    {admin && (
                      <Td>
                        {editable && (
                          <Button variant="secondary" size="sm" onClick={() => remove.mutate(m.id)} aria-label={`Remove ${m.email}`}>
                            Remove
                          </Button>
                        )}
                        {owner && editable && m.is_verified !== false && (
                          <Button
                            variant="secondary"
                            size="sm"
                            onClick={() => {
                              setTransferTo({ id: m.id, email: m.email });
                              setTransferred('');
                            }}
                            aria-label={`Make ${m.email} the owner`}
                          >
                            Make owner
                          </Button>
                        )}
                      </Td>
                    )}
                  </Tr>
                );
              })}
            </TBody>
          </Table>
          {transferred && <Alert tone="success">{transferred} is now the owner; you are an admin.</Alert>}
          {owner && transferTo && (
            <form
              className="form"
              noValidate
              aria-label="Transfer ownership"
              onSubmit={(e) => {
                e.preventDefault();
                transfer.mutate({ id: transferTo.id, password });
              }}
            >
              <p>
                Make {transferTo.email} the owner of the organization? You become an admin; billing and this choice are theirs from then
                on.
              </p>
              <Field label="Your password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
              <Button type="submit" loading={transfer.isPending}>
                Transfer ownership
              </Button>
              <Button type="button" variant="secondary" onClick={() => setTransferTo(null)}>
                Cancel
              </Button>
            </form>
          )}
        </CardContent>
      </Card>
      {admin && (
        <Card>
          <CardHeader>
            <CardTitle>Invite someone</CardTitle>
            <CardDescription>They get a link by mail, valid 7 days, that works once.</CardDescription>
          </CardHeader>
          <CardContent>
            {sent && <Alert tone="success">Invitation sent to {sent}.</Alert>}
            <form onSubmit={submit} className="form" noValidate>
              <Field label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
              <label className="label" htmlFor="invite-role">
                Role
              </label>
              <select id="invite-role" value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
                {grantable(role).map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <Button type="submit" loading={invite.isPending}>
                Send invitation
              </Button>
            </form>
            <h3>Pending invitations</h3>
            <Table aria-label="Pending invitations">
              <TBody>
                {invitations.data?.results.map((i) => (
                  <Tr key={i.id}>
                    <Td>{i.email}</Td>
                    <Td>{i.role}</Td>
                    <Td>{new Date(i.expires_at).toLocaleDateString()}</Td>
                    <Td>
                      <Button variant="secondary" size="sm" onClick={() => withdraw.mutate(i.id)}>
                        Withdraw
                      </Button>
                    </Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
          </CardContent>
        </Card>
      )}
    </div>
  );
}
