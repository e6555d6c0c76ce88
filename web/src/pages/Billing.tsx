import { useQuery, useMutation } from '@tanstack/react-query';
import { parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import { meQuery, plansQuery } from '../lib/queries';
import { redirectBrowser } from '../lib/format';
import { Card } from '../components/ui/card';
import { Button } from '../components/ui/button';
import { Badge } from '../components/ui/badge';
import { Alert } from '../components/ui/alert';
import { PageLoading } from '../components/States';

export default function BillingPage() {
  const me = useQuery(meQuery());
  const plans = useQuery(plansQuery());
  const checkout = useMutation({
    mutationFn: () => apiRequest('post', '/api/billing/create-checkout-session/', { body: {} }),
    onSuccess: (data) => {
      if (data?.url) redirectBrowser(data.url);
    },
  });

  if (me.isPending || plans.isPending) return <PageLoading />;
  const current = me.data?.plan ?? 'free';
  const isOwner = !me.data || me.data.role === 'owner';

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Billing</h1>
          <p className="page-subtitle">
            {me.data?.tenant?.name ? `${me.data.tenant.name} is on the ` : 'You are on the '}
            <strong>{current === 'pro' ? 'Pro' : 'Free'}</strong> plan.
          </p>
        </div>
      </div>
      {me.isError && <Alert tone="danger">Could not load your account: {parseApiError(me.error).detail}</Alert>}
      {plans.isError && <Alert tone="danger">Could not load the plans: {parseApiError(plans.error).detail}</Alert>}
      {checkout.isError && <Alert tone="danger">{parseApiError(checkout.error).detail ?? 'Could not start the checkout.'}</Alert>}
      <div className="plans">
        {(plans.data ?? []).map((plan) => {
          const isCurrent = plan.id === current;
          const isPro = plan.id === 'pro';
          return (
            <Card key={plan.id} className={isPro ? 'plan plan-pro' : 'plan'} aria-labelledby={`plan-${plan.id}`}>
              <div className="plan-head">
                <h2 id={`plan-${plan.id}`} className="plan-name">
                  {plan.name}
                </h2>
                {isCurrent && <Badge tone="success">Current plan</Badge>}
              </div>
              {/* The price lives in Stripe (STRIPE_PRICE_PRO); the plans route does not quote it. */}
              {isPro ? (
                <p className="plan-price muted">Monthly subscription, paid securely with Stripe</p>
              ) : (
                <p className="plan-price">
                  <span className="plan-amount">$0</span>
                  <span className="muted"> / month</span>
                </p>
              )}
              <p className="plan-limit">
                {plan.endpoint_limit == null ? 'Unlimited endpoints' : `Up to ${plan.endpoint_limit} endpoints`}
              </p>
              <ul className="plan-features">
                {plan.features.map((f) => (
                  <li key={f}>
                    <span aria-hidden="true">✓</span> {f}
                  </li>
                ))}
              </ul>
              {isPro && !isCurrent && (
                <Button className="btn-block" onClick={() => checkout.mutate()} loading={checkout.isPending || checkout.isSuccess} disabled={!isOwner}>
                  Upgrade to Pro
                </Button>
              )}
              {isPro && !isCurrent && !isOwner && <p className="hint">Only the organization owner can upgrade.</p>}
            </Card>
          );
        })}
      </div>
    </div>
  );
}
