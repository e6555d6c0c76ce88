import { describe, it, expect, afterEach, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me } from '../../test/utils';
import type { Plan } from '../../lib/types';

vi.mock('../../lib/format', async (orig) => ({ ...(await orig<typeof import('../../lib/format')>()), redirectBrowser: vi.fn() }));
import { redirectBrowser } from '../../lib/format';

const mock = mockApi();
afterEach(() => mock.reset());

// GET /api/billing/plans/ as http/openapi.yaml has it (typed: a contract change breaks tsc here).
const PLANS: Plan[] = [
  { id: 'free', name: 'Free', endpoint_limit: 3, history_days: 7, retention_days: 7, multi_region: false, features: ['Up to 3 monitored endpoints'] },
  { id: 'pro', name: 'Pro', endpoint_limit: null, history_days: 90, retention_days: 90, multi_region: true, features: ['Unlimited monitored endpoints', 'Priority support'] },
];

describe('BillingPage', () => {
  it('shows Free and Pro with the current plan, and Upgrade redirects to the checkout URL', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/billing/plans/').reply(200, { plans: PLANS });
    mock.onPost('/billing/create-checkout-session/').reply(200, { url: 'http://127.0.0.1:9/checkout/cs_test_1' });
    renderApp('/billing', { token: 'T' });
    const free = (await screen.findByRole('heading', { name: 'Free' })).closest('.card') as HTMLElement;
    expect(within(free).getByText('Current plan')).toBeInTheDocument();
    const pro = screen.getByRole('heading', { name: 'Pro' }).closest('.card') as HTMLElement;
    expect(within(pro).getByText('Unlimited endpoints', { selector: 'p' })).toBeInTheDocument();
    expect(within(pro).getByText(/paid securely with Stripe/)).toBeInTheDocument();
    await user.click(within(pro).getByRole('button', { name: 'Upgrade to Pro' }));
    await waitFor(() => expect(redirectBrowser).toHaveBeenCalledWith('http://127.0.0.1:9/checkout/cs_test_1'));
  });

  it('hides Upgrade on Pro', async () => {
    mock.onGet('/auth/me/').reply(200, me({ plan: 'pro', endpoint_limit: null }));
    mock.onGet('/billing/plans/').reply(200, { plans: PLANS });
    renderApp('/billing', { token: 'T' });
    const pro = (await screen.findByRole('heading', { name: 'Pro' })).closest('.card') as HTMLElement;
    expect(within(pro).getByText('Current plan')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Upgrade to Pro' })).toBeNull();
    expect(within(pro).getByText('Priority support')).toBeInTheDocument();
    const free = screen.getByRole('heading', { name: 'Free' }).closest('.card') as HTMLElement;
    expect(within(free).getByText('$0')).toBeInTheDocument();
    expect(within(free).getByText('Up to 3 endpoints')).toBeInTheDocument();
  });

  it('says so when the plans cannot be loaded, without inventing any', async () => {
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/billing/plans/').reply(503, { detail: 'Service temporarily unavailable.' });
    renderApp('/billing', { token: 'T' });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load the plans');
    expect(screen.queryByRole('heading', { name: 'Free' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Upgrade to Pro' })).not.toBeInTheDocument();
  });

  it('shows checkout errors', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/billing/plans/').reply(200, { plans: PLANS });
    mock.onPost('/billing/create-checkout-session/').reply(403, { detail: 'Only the owner can change the plan.', code: 'permission_denied' });
    renderApp('/billing', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'Upgrade to Pro' }));
    expect(await screen.findByText('Only the owner can change the plan.')).toBeInTheDocument();
    expect(redirectBrowser).not.toHaveBeenCalled();
  });
});

describe('BillingSuccessPage', () => {
  it('refetches /me until the plan says pro', async () => {
    let calls = 0;
    mock.onGet('/auth/me/').reply(() => {
      calls += 1;
      return [200, calls >= 2 ? me({ plan: 'pro', endpoint_limit: null }) : me()];
    });
    renderApp('/billing/success?session_id=cs_test_1', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Confirming your payment…' })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Welcome to Pro' }, { timeout: 6000 })).toBeInTheDocument();
    expect(screen.getByTestId('current-plan')).toHaveTextContent('Pro');
  });
});
