import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearch } from '@tanstack/react-router';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { applyFieldErrors, parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import { AuthShell } from '../components/AuthShell';
import { Field } from '../components/ui/input';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';
import { PageLoading } from '../components/States';

const EXPLAIN: Record<string, { title: string; text: string }> = {
  token_used: {
    title: 'This link was already used',
    text: 'Your address may already be verified — try logging in. If you still cannot log in, ask for a new link below.',
  },
  token_expired: {
    title: 'This link has expired',
    text: 'Verification links are valid for 48 hours. Enter your email and we will send you a new one.',
  },
  token_invalid: {
    title: 'This link is not valid',
    text: 'It may be incomplete, or a newer link replaced it. Enter your email to get a new one.',
  },
  missing: {
    title: 'No verification token',
    text: 'Open the link from your verification email, or ask for a new one below.',
  },
};

export default function VerifyEmailPage() {
  const { token } = useSearch({ from: '/verify-email' });
  // A query (not an effect) so the single-use token is posted once, even in StrictMode.
  const verify = useQuery({
    queryKey: ['verify-email', token],
    queryFn: () => apiRequest('post', '/api/auth/verify-email/', { body: { token: token ?? '' } }), // enabled only with a token
    enabled: !!token,
    retry: false,
    staleTime: Infinity,
    gcTime: Infinity,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });

  if (token && verify.isPending) {
    return (
      <AuthShell>
        <h1 className="card-title">Verifying your email…</h1>
        <PageLoading />
      </AuthShell>
    );
  }

  if (token && verify.isSuccess) {
    return (
      <AuthShell>
        <div className="success-mark" aria-hidden="true">✓</div>
        <h1 className="card-title">Email verified</h1>
        <p className="card-description">{verify.data?.detail || 'Your address is confirmed.'}</p>
        <Link to="/login" search={{ verified: '1' }} className="btn btn-primary btn-block">
          Continue to log in
        </Link>
      </AuthShell>
    );
  }

  const info = verify.error ? parseApiError(verify.error) : null;
  const key = !token ? 'missing' : info?.code && EXPLAIN[info.code] ? info.code : 'token_invalid';
  const explain = info && !info.code && info.status !== 400 ? { title: 'Could not verify', text: info.detail ?? '' } : EXPLAIN[key];

  return (
    <AuthShell>
      <h1 className="card-title">{explain.title}</h1>
      <p className="card-description">{explain.text}</p>
      <ResendForm />
      <p className="card-foot-text">
        <Link to="/login" className="link">
          Back to log in
        </Link>
      </p>
    </AuthShell>
  );
}

const resendSchema = z.object({ email: z.string().trim().min(1, 'Enter your email.').email('Enter a valid email address.') });

function ResendForm() {
  const [sent, setSent] = useState(false);
  const [formError, setFormError] = useState<string[]>([]);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<{ email: string }>({ resolver: zodResolver(resendSchema), defaultValues: { email: '' } });

  const onSubmit = handleSubmit(async (values) => {
    setFormError([]);
    try {
      await apiRequest('post', '/api/auth/resend-verification/', { body: values });
      setSent(true);
    } catch (err) {
      setFormError(applyFieldErrors(parseApiError(err), ['email'], setError));
    }
  });

  if (sent) {
    return (
      <Alert tone="success">If an account with that address is waiting for verification, a new link is on its way.</Alert>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate className="form" aria-label="Resend verification email">
      {formError.length > 0 && <Alert tone="danger">{formError.join(' ')}</Alert>}
      <Field label="Email" type="email" autoComplete="email" error={errors.email?.message} {...register('email')} />
      <Button type="submit" className="btn-block" loading={isSubmitting}>
        Send a new link
      </Button>
    </form>
  );
}
