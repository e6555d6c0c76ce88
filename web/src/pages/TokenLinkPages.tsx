// The pages a mailed link opens: accept an invitation, reset a forgotten password; and the
// form that asks for the reset mail. No session needed.
import { useState, type FormEvent } from 'react';
import { Link, useSearch } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { parseApiError, type ApiErrorInfo } from '../lib/api';
import { AuthShell } from '../components/AuthShell';
import { Button } from '../components/ui/button';
import { Field } from '../components/ui/input';
import { Alert } from '../components/ui/alert';
import { FormError } from '../components/FormError';

function NewPasswordForm({ submitLabel, onSubmit }: { submitLabel: string; onSubmit: (pw: string, pw2: string) => Promise<void> }) {
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await onSubmit(pw, pw2);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} className="form" noValidate>
      <Field label="New password" type="password" autoComplete="new-password" value={pw} onChange={(e) => setPw(e.target.value)} />
      <Field label="Confirm password" type="password" autoComplete="new-password" value={pw2} onChange={(e) => setPw2(e.target.value)} />
      <Button type="submit" className="btn-block" loading={busy}>
        {submitLabel}
      </Button>
    </form>
  );
}

export function AcceptInvitationPage() {
  const { token } = useSearch({ from: '/accept-invitation' });
  const [error, setError] = useState<ApiErrorInfo | null>(null);
  const [done, setDone] = useState(false);
  if (done) {
    return (
      <AuthShell>
        <h1 className="card-title">Welcome aboard</h1>
        <Link to="/login" className="btn btn-primary btn-block">
          Continue to log in
        </Link>
      </AuthShell>
    );
  }
  return (
    <AuthShell>
      <h1 className="card-title">Join your team</h1>
      <p className="card-description">Choose a password for your StatusWatch account.</p>
      <FormError info={error} />
      <NewPasswordForm
        submitLabel="Accept invitation"
        onSubmit={async (password, password_confirm) => {
          try {
            await apiRequest('post', '/api/auth/accept-invitation/', { body: { token: token ?? '', password, password_confirm } });
            setDone(true);
          } catch (err) {
            setError(parseApiError(err));
          }
        }}
      />
    </AuthShell>
  );
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiErrorInfo | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await apiRequest('post', '/api/auth/password-reset/', { body: { email } });
      setSent(true);
      setError(null);
    } catch (err) {
      setError(parseApiError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <AuthShell>
      <h1 className="card-title">Forgot your password?</h1>
      {sent ? (
        <Alert tone="success">If an account with this email exists, a link to reset its password is on its way. It is valid for 1 hour.</Alert>
      ) : (
        <>
          <FormError info={error} />
          <form onSubmit={submit} className="form" noValidate>
            <Field label="Email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
            <Button type="submit" className="btn-block" loading={busy}>
              Send the reset link
            </Button>
          </form>
        </>
      )}
      <p className="card-foot-text">
        <Link to="/login" className="link">
          Back to log in
        </Link>
      </p>
    </AuthShell>
  );
}

export function ResetPasswordPage() {
  const { token } = useSearch({ from: '/reset-password' });
  const [error, setError] = useState<ApiErrorInfo | null>(null);
  const [done, setDone] = useState(false);
  if (done) {
    return (
      <AuthShell>
        <h1 className="card-title">Password changed</h1>
        <p className="card-description">Every session of your account has ended. Log in with the new password.</p>
        <Link to="/login" className="btn btn-primary btn-block">
          Continue to log in
        </Link>
      </AuthShell>
    );
  }
  return (
    <AuthShell>
      <h1 className="card-title">Choose a new password</h1>
      <FormError info={error} />
      <NewPasswordForm
        submitLabel="Set password"
        onSubmit={async (password, password_confirm) => {
          try {
            await apiRequest('post', '/api/auth/password-reset/confirm/', { body: { token: token ?? '', password, password_confirm } });
            setDone(true);
          } catch (err) {
            setError(parseApiError(err));
          }
        }}
      />
    </AuthShell>
  );
}
