import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { apiRequest } from '../lib/contract';
import { parseApiError, type ApiErrorInfo } from '../lib/api';
import { useAuth } from '../lib/auth';
import { meQuery } from '../lib/queries';
import { Card, CardContent, CardHeader, CardTitle, CardDescription } from '../components/ui/card';
import { Button } from '../components/ui/button';
import { Field } from '../components/ui/input';
import { Alert } from '../components/ui/alert';
import { FormError } from '../components/FormError';

export default function AccountPage() {
  const me = useQuery(meQuery());
  const [current, setCurrent] = useState('');
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ApiErrorInfo | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setDone(false);
    try {
      const pair = await apiRequest('post', '/api/auth/password-change/', {
        body: { current_password: current, password: pw, password_confirm: pw2 },
      });
      // Every other session ended; this one goes on with the new pair.
      useAuth.getState().setAccessToken(pair.access);
      setError(null);
      setDone(true);
      setCurrent('');
      setPw('');
      setPw2('');
    } catch (err) {
      setError(parseApiError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="page">
      <h1 className="page-title">Account</h1>
      <p>
        {me.data?.email} · {me.data?.role}
      </p>
      <Card>
        <CardHeader>
          <CardTitle>Change your password</CardTitle>
          <CardDescription>Your other sessions end; this one stays logged in.</CardDescription>
        </CardHeader>
        <CardContent>
          {done && <Alert tone="success">Password changed.</Alert>}
          <FormError info={error} />
          <form onSubmit={submit} className="form" noValidate>
            <Field label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
            <Field label="New password" type="password" autoComplete="new-password" value={pw} onChange={(e) => setPw(e.target.value)} />
            <Field label="Confirm new password" type="password" autoComplete="new-password" value={pw2} onChange={(e) => setPw2(e.target.value)} />
            <Button type="submit" loading={busy}>
              Change password
            </Button>
          </form>
        </CardContent>
      </Card>
    </div>
  );
}
