import { useRef } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { Card } from '../components/ui/card';
import { Badge } from '../components/ui/badge';

const MAX_TRIES = 10;
const EVERY_MS = 2000;

export default function BillingSuccessPage() {
  // The webhook may land a moment after Stripe sends the browser back: ask /me again
  // a few times until the plan says pro.
  const tries = useRef(0);
  const me = useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      tries.current += 1;
      return apiRequest('get', '/api/auth/me/');
    },
    staleTime: 0,
    refetchOnMount: 'always',
    refetchInterval: (q) => (q.state.data?.plan === 'pro' || tries.current >= MAX_TRIES ? false : EVERY_MS),
  });
  const pro = me.data?.plan === 'pro';
  const waiting = !pro && tries.current < MAX_TRIES;

  return (
    <div className="page page-narrow">
      <Card className="success-card">
        {pro ? (
          <>
            <div className="success-mark" aria-hidden="true">✓</div>
            <h1 className="card-title">Welcome to Pro</h1>
            <p className="card-description">
              {me.data?.tenant?.name ?? 'Your organization'} is now on the <Badge tone="info">Pro</Badge> plan: add as many
              endpoints as you need.
            </p>
          </>
        ) : waiting ? (
          <>
            <div className="page-loading" role="status">
              <span className="spinner spinner-lg" aria-hidden="true" />
            </div>
            <h1 className="card-title">Confirming your payment…</h1>
            <p className="card-description">This usually takes a few seconds.</p>
          </>
        ) : (
          <>
            <h1 className="card-title">Payment received</h1>
            <p className="card-description">
              Your plan still shows as <Badge>{me.data?.plan ?? 'unknown'}</Badge>. It may take a minute to update — refresh
              this page shortly.
            </p>
          </>
        )}
        <p className="plan-current" aria-live="polite">
          Current plan: <strong data-testid="current-plan">{me.data ? (pro ? 'Pro' : me.data.plan === 'free' ? 'Free' : me.data.plan) : '…'}</strong>
        </p>
        <Link to="/dashboard" className="btn btn-primary">
          Go to the dashboard
        </Link>
      </Card>
    </div>
  );
}
