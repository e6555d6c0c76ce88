import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { Link, useRouter, useSearch } from '@tanstack/react-router';
import { useQueryClient } from '@tanstack/react-query';
import { applyFieldErrors, parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import { useAuth } from '../lib/auth';
import { safeRedirect } from '../lib/format';
import { AuthShell } from '../components/AuthShell';
import { Field } from '../components/ui/input';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';

const schema = z.object({
  email: z.string().trim().min(1, 'Enter your email.').email('Enter a valid email address.'),
  password: z.string().min(1, 'Enter your password.'),
});
type Values = z.infer<typeof schema>;

export default function LoginPage() {
  const search = useSearch({ from: '/login' });
  const router = useRouter();
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<string[]>([]);
  const [unverified, setUnverified] = useState(false);
  const [resend, setResend] = useState<'idle' | 'sending' | 'sent' | 'error'>('idle');
  const {
    register,
    handleSubmit,
    setError,
    getValues,
    formState: { errors, isSubmitting },
  } = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: '', password: '' } });

  const onSubmit = handleSubmit(async (values) => {
    setFormError([]);
    setUnverified(false);
    try {
      const data = await apiRequest('post', '/api/auth/token/', { body: values });
      queryClient.clear();
      useAuth.getState().setAccessToken(data.access);
      router.history.push(safeRedirect(search.redirect));
    } catch (err) {
      const info = parseApiError(err);
      if (info.code === 'email_not_verified') setUnverified(true);
      setFormError(applyFieldErrors(info, ['email', 'password'], setError));
    }
  });

  async function resendVerification() {
    setResend('sending');
    try {
      await apiRequest('post', '/api/auth/resend-verification/', { body: { email: getValues('email') } });
      setResend('sent');
    } catch {
      setResend('error');
    }
  }

  return (
    <AuthShell>
      <h1 className="card-title">Log in</h1>
      <p className="card-description">Welcome back to StatusWatch.</p>
      {search.registered && (
        <Alert tone="success">
          <strong>Account created.</strong> We sent you a verification link by email. Verify your address, then log in.
        </Alert>
      )}
      {search.verified && (
        <Alert tone="success">
          <strong>Email verified.</strong> You can now log in.
        </Alert>
      )}
      {search.redirect && !search.registered && !search.verified && (
        <Alert tone="info">Please log in to continue.</Alert>
      )}
      {formError.length > 0 && (
        <Alert tone="danger">
          {formError.join(' ')}
          {unverified && (
            <span className="alert-action">
              {resend === 'sent' ? (
                <span>A new verification link is on its way.</span>
              ) : (
                <Button variant="link" onClick={resendVerification} loading={resend === 'sending'}>
                  Resend the verification email
                </Button>
              )}
              {resend === 'error' && <span> Could not send it; try again later.</span>}
            </span>
          )}
        </Alert>
      )}
      <form onSubmit={onSubmit} noValidate className="form">
        <Field label="Email" type="email" autoComplete="email" autoFocus error={errors.email?.message} {...register('email')} />
        <Field label="Password" type="password" autoComplete="current-password" error={errors.password?.message} {...register('password')} />
        <Button type="submit" className="btn-block" loading={isSubmitting}>
          Log in
        </Button>
      </form>
      <p className="card-foot-text">
        <Link to="/forgot-password" className="link">
          Forgot your password?
        </Link>
      </p>
      <p className="card-foot-text">
        New to StatusWatch?{' '}
        <Link to="/register" className="link">
          Create an account
        </Link>
      </p>
    </AuthShell>
  );
}
