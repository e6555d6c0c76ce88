import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { Link, useNavigate } from '@tanstack/react-router';
import { applyFieldErrors, parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import { plansQuery } from '../lib/queries';
import { passwordRules, registerSchema, type RegisterValues } from '../lib/password';
import { AuthShell } from '../components/AuthShell';
import { Field } from '../components/ui/input';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';
import { PasswordStrength } from '../components/PasswordStrength';

const FIELDS = ['organization_name', 'email', 'password', 'password_confirm'] as const;

export default function RegisterPage() {
  const navigate = useNavigate();
  const [formError, setFormError] = useState<string[]>([]);
  // The Free limit as the server states it; said only once it is known.
  const freeLimit = useQuery(plansQuery()).data?.find((p) => p.id === 'free')?.endpoint_limit ?? null;
  const {
    register,
    handleSubmit,
    watch,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<RegisterValues>({
    resolver: zodResolver(registerSchema),
    defaultValues: { organization_name: '', email: '', password: '', password_confirm: '' },
    // Errors after the first submit, then live; validating on blur would shift the
    // layout under the pointer and swallow a click on the submit button.
    mode: 'onSubmit',
  });
  const password = watch('password') ?? '';
  const email = watch('email') ?? '';
  const organization = watch('organization_name') ?? '';

  const onSubmit = handleSubmit(async (values) => {
    setFormError([]);
    try {
      await apiRequest('post', '/api/auth/register/', { body: values });
      // The banner is in the URL so it survives a refresh of /login.
      await navigate({ to: '/login', search: { registered: '1' } });
    } catch (err) {
      setFormError(applyFieldErrors(parseApiError(err), FIELDS, setError));
    }
  });

  return (
    <AuthShell>
      <h1 className="card-title">Create your account</h1>
      <p className="card-description">
        Start monitoring your endpoints in minutes.
        {freeLimit != null && ` Free for up to ${freeLimit} endpoints.`}
      </p>
      {formError.length > 0 && <Alert tone="danger">{formError.join(' ')}</Alert>}
      <form onSubmit={onSubmit} noValidate className="form">
        <Field label="Organization name" autoComplete="organization" error={errors.organization_name?.message} {...register('organization_name')} />
        <Field label="Email" type="email" autoComplete="email" error={errors.email?.message} {...register('email')} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          error={errors.password?.message}
          hint={
            <>
            <ul className="pw-rules" aria-label="Password requirements">
              {passwordRules.map((r) => {
                const ok = r.test(password);
                return (
                  <li key={r.id} className={ok ? 'pw-rule ok' : 'pw-rule'} data-ok={ok}>
                    <span aria-hidden="true">{ok ? '✓' : '○'}</span> {r.label}
                    <span className="sr-only">{ok ? ' (met)' : ' (not met)'}</span>
                  </li>
                );
              })}
            </ul>
            <PasswordStrength password={password} userInputs={[email, organization, 'statuswatch']} />
            </>
          }
          {...register('password')}
        />
        <Field
          label="Confirm password"
          type="password"
          autoComplete="new-password"
          error={errors.password_confirm?.message}
          {...register('password_confirm')}
        />
        <Button type="submit" className="btn-block" loading={isSubmitting}>
          Create account
        </Button>
      </form>
      <p className="card-foot-text">
        Already have an account?{' '}
        <Link to="/login" className="link">
          Log in
        </Link>
      </p>
    </AuthShell>
  );
}
