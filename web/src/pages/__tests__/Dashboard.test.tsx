import { describe, it, expect, afterEach } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, endpoint, page } from '../../test/utils';
import { useAuth } from '../../lib/auth';

const mock = mockApi();
afterEach(() => mock.reset());

function meOk() {
  mock.onGet('/auth/me/').reply(200, me());
}

describe('DashboardPage', () => {
  it('sends an unauthenticated visitor to /login and back after logging in', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/token/refresh/').reply(400, { refresh: ['This field is required.'] });
    mock.onPost('/auth/token/').reply(200, { access: 'A', refresh: 'R' });
    meOk();
    mock.onGet('/endpoints/').reply(200, page([]));
    const { router } = renderApp('/dashboard?page=2');
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toEqual({ redirect: '/dashboard?page=2' });
    expect(screen.getByText('Please log in to continue.')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Email'), 'owner@acme.test');
    await user.type(screen.getByLabelText('Password'), 'Sturdy-Lamp-42x');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(router.state.location.href).toBe('/dashboard?page=2'));
  });

  it('restores the session from the refresh cookie on a reload', async () => {
    mock.onPost('/auth/token/refresh/').reply(200, { access: 'RESTORED', refresh: 'R2' });
    meOk();
    mock.onGet('/endpoints/').reply((c) =>
      c.headers?.Authorization === 'Bearer RESTORED' ? [200, page([endpoint({ name: 'API' })])] : [401, {}],
    );
    renderApp('/dashboard');
    expect(await screen.findByText('API')).toBeInTheDocument();
    expect(useAuth.getState().accessToken).toBe('RESTORED');
  });

  it('lists endpoints with kind, status (degraded too), last check, latency and certificate days, in one request per page', async () => {
    meOk();
    const soon = new Date(Date.now() + 5 * 86_400_000 + 3_600_000).toISOString();
    const up = endpoint({ id: 'a', name: 'Homepage', url: 'https://acme.test/', last_status: 'up', last_latency_ms: 87, tls_expires_at: soon });
    const down = endpoint({ id: 'b', name: 'API', last_status: 'down', last_latency_ms: null, last_checked_at: null });
    const slow = endpoint({ id: 'c', name: 'DB', url: 'tcp://db.acme.test:5432', kind: 'tcp', last_status: 'degraded', last_http_status: null });
    mock.onGet('/endpoints/').reply(200, page([up, down, slow]));
    renderApp('/dashboard', { token: 'T' });
    const table = await screen.findByRole('table', { name: 'Endpoints' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(4);
    expect(within(rows[1]).getByRole('link', { name: 'Homepage' })).toHaveAttribute('href', '/endpoints/a');
    expect(within(rows[1]).getByText('HTTP')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Up')).toBeInTheDocument();
    expect(within(rows[1]).getByText('87 ms')).toBeInTheDocument();
    expect(within(rows[1]).getByText(/ago|just now/)).toBeInTheDocument();
    expect(within(rows[1]).getByText('5 days left')).toBeInTheDocument();
    expect(within(rows[2]).getByText('Down')).toBeInTheDocument();
    expect(within(rows[2]).getByText('Not yet')).toBeInTheDocument();
    expect(within(rows[3]).getByText('TCP')).toBeInTheDocument();
    expect(within(rows[3]).getByText('Degraded')).toBeInTheDocument();
    expect(screen.getByText(/3 of 3 endpoints on the Free plan/)).toBeInTheDocument();
    // The list is the page's only endpoint request: no per-row /checks/ polling.
    expect(mock.history.get.map((r) => r.url).filter((u) => u !== '/auth/me/')).toEqual(['/endpoints/']);
  });

  it('shows a deliberate empty state', async () => {
    meOk();
    mock.onGet('/endpoints/').reply(200, page([]));
    renderApp('/dashboard', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'No endpoints yet' })).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Add your first endpoint' })).toBeInTheDocument();
  });

  it('hides the add and delete controls from a viewer', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'viewer' }));
    mock.onGet('/endpoints/').reply(200, page([endpoint({ name: 'Homepage' })]));
    renderApp('/dashboard', { token: 'T' });
    expect(await screen.findByText('Homepage')).toBeInTheDocument();
    expect(await screen.findByText('Acme')).toBeInTheDocument(); // the caller (me) has loaded
    expect(screen.queryByRole('button', { name: '+ Add endpoint' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Delete / })).toBeNull();
    expect(screen.queryByRole('link', { name: 'API tokens' })).toBeNull();
  });

  it('shows the add and delete controls to a member', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'member' }));
    mock.onGet('/endpoints/').reply(200, page([endpoint({ name: 'Homepage' })]));
    renderApp('/dashboard', { token: 'T' });
    expect(await screen.findByRole('button', { name: '+ Add endpoint' })).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Delete Homepage' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'API tokens' })).toBeNull();
  });

  it('shows an error state with a retry', async () => {
    const user = userEvent.setup();
    meOk();
    mock.onGet('/endpoints/').replyOnce(503, { detail: 'Service temporarily unavailable.' });
    renderApp('/dashboard', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Could not load your endpoints' })).toBeInTheDocument();
    mock.onGet('/endpoints/').reply(200, page([]));
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { name: 'No endpoints yet' })).toBeInTheDocument();
  });

  it('paginates on the server', async () => {
    const user = userEvent.setup();
    meOk();
    mock.onGet('/endpoints/').reply((c) =>
      c.params.page === 2
        ? [200, page([endpoint({ name: 'Eleven' })], { count: 11, previous: '/api/endpoints/?page=1' })]
        : [200, page(Array.from({ length: 10 }, (_, i) => endpoint({ name: `E${i + 1}` })), { count: 11, next: '/api/endpoints/?page=2' })],
    );
    const { router } = renderApp('/dashboard', { token: 'T' });
    expect(await screen.findByText('E1')).toBeInTheDocument();
    expect(screen.getByText(/Page 1 of 2/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('Eleven')).toBeInTheDocument();
    expect(router.state.location.search).toEqual({ page: 2 });
    expect(mock.history.get.filter((r) => r.url === '/endpoints/').map((r) => r.params)).toContainEqual({ page: 2, page_size: 10 });
  });

  it('adds an endpoint in a modal: client validation, API field errors, then success refreshes the list', async () => {
    const user = userEvent.setup();
    meOk();
    const created = endpoint({ name: 'Cloudflare', url: 'http://1.1.1.1/', last_status: 'pending', last_checked_at: null, last_latency_ms: null });
    let list = [endpoint({ name: 'Old' })];
    mock.onGet('/endpoints/').reply(() => [200, page(list)]);
    let posts = 0;
    mock.onPost('/endpoints/').reply((c) => {
      posts += 1;
      if (posts === 1) return [400, { url: ['This address is not allowed.'] }];
      list = [...list, created];
      expect(JSON.parse(c.data)).toEqual({ name: 'Cloudflare', url: 'http://1.1.1.1/', interval_seconds: 60 });
      return [201, created];
    });
    renderApp('/dashboard', { token: 'T' });
    await screen.findByText('Old');
    await user.click(screen.getByRole('button', { name: '+ Add endpoint' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add endpoint' });
    const name = within(dialog).getByLabelText('Name');
    expect(name).toHaveFocus();
    await user.clear(within(dialog).getByLabelText('URL'));
    await user.type(within(dialog).getByLabelText('URL'), 'ftp://x');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    // The name is optional (the server names the endpoint after the URL's host) and may have
    // 200 characters, as http/openapi.yaml says.
    expect(await within(dialog).findByText('Enter a full http:// or https:// URL.')).toBeInTheDocument();
    expect(name).not.toHaveAttribute('aria-invalid', 'true');
    expect(posts).toBe(0);
    await user.click(name);
    await user.paste('x'.repeat(201));
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    expect(await within(dialog).findByText('At most 200 characters.')).toBeInTheDocument();
    expect(posts).toBe(0);

    await user.clear(name);
    await user.type(name, 'Cloudflare');
    await user.clear(within(dialog).getByLabelText('URL'));
    await user.type(within(dialog).getByLabelText('URL'), 'http://1.1.1.1/');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    expect(await within(dialog).findByText('This address is not allowed.')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('URL')).toHaveAttribute('aria-invalid', 'true');

    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(await screen.findByText('Cloudflare')).toBeInTheDocument();
    expect(screen.getByText('Pending')).toBeInTheDocument();
  });

  it('shows the plan limit with a link to billing', async () => {
    const user = userEvent.setup();
    meOk();
    mock.onGet('/endpoints/').reply(200, page([endpoint(), endpoint(), endpoint()]));
    mock.onPost('/endpoints/').reply(403, { detail: 'The Free plan allows 3 endpoints. Upgrade to Pro for more.', code: 'plan_limit' });
    mock.onGet('/billing/plans/').reply(200, { plans: [] });
    const { router } = renderApp('/dashboard', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: '+ Add endpoint' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText('Name'), 'Fourth');
    await user.clear(within(dialog).getByLabelText('URL'));
    await user.type(within(dialog).getByLabelText('URL'), 'https://four.example.com/');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    expect(await within(dialog).findByText(/Upgrade to Pro for more/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole('link', { name: 'See plans and upgrade' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/billing'));
  });

  it('the dialog closes on Escape and keeps focus inside', async () => {
    const user = userEvent.setup();
    meOk();
    mock.onGet('/endpoints/').reply(200, page([]));
    renderApp('/dashboard', { token: 'T' });
    const opener = await screen.findByRole('button', { name: '+ Add endpoint' });
    await user.click(opener);
    const dialog = await screen.findByRole('dialog');
    for (let i = 0; i < 8; i++) {
      await user.tab();
      expect(dialog.contains(document.activeElement)).toBe(true);
    }
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(opener).toHaveFocus();
  });

  it('deletes after confirmation and refreshes the list', async () => {
    const user = userEvent.setup();
    meOk();
    let list = [endpoint({ id: 'k', name: 'Keep' }), endpoint({ id: 'g', name: 'Gone' })];
    mock.onGet('/endpoints/').reply(() => [200, page(list)]);
    mock.onDelete('/endpoints/g/').reply(() => {
      list = list.filter((e) => e.id !== 'g');
      return [204];
    });
    renderApp('/dashboard', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'Delete Gone' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete endpoint?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(mock.history.delete).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Delete Gone' }));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByText('Gone')).toBeNull());
    expect(screen.getByText('Keep')).toBeInTheDocument();
    expect(mock.history.delete).toHaveLength(1);
  });

  it('refreshes an expired access token and retries (401 → refresh → retry)', async () => {
    meOk();
    mock.onPost('/auth/token/refresh/').reply(200, { access: 'NEW', refresh: 'R' });
    mock.onGet('/endpoints/').reply((c) => (c.headers?.Authorization === 'Bearer NEW' ? [200, page([endpoint({ name: 'Retried' })])] : [401, {}]));
    renderApp('/dashboard', { token: 'EXPIRED' });
    expect(await screen.findByText('Retried')).toBeInTheDocument();
    expect(mock.history.post.filter((r) => r.url === '/auth/token/refresh/')).toHaveLength(1);
  });

  it('a session that cannot be refreshed ends on /login', async () => {
    mock.onGet('/auth/me/').reply(401, {});
    mock.onPost('/auth/token/refresh/').reply(401, { detail: 'Token is invalid or expired', code: 'token_not_valid' });
    mock.onGet('/endpoints/').reply(401, {});
    const { router } = renderApp('/dashboard', { token: 'REVOKED' });
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(router.state.location.search).toMatchObject({ redirect: '/dashboard' });
    expect(useAuth.getState().accessToken).toBeNull();
  });

  it('logs out: revokes the session on the server, clears state, goes to /login', async () => {
    const user = userEvent.setup();
    meOk();
    mock.onGet('/endpoints/').reply(200, page([]));
    mock.onPost('/auth/logout/').reply((c) => {
      expect(c.headers?.Authorization).toBe('Bearer T');
      expect(c.withCredentials).toBe(true);
      return [205];
    });
    const { router, queryClient } = renderApp('/dashboard', { token: 'T' });
    await screen.findByText('Acme');
    await user.click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(mock.history.post.filter((r) => r.url === '/auth/logout/')).toHaveLength(1);
    expect(useAuth.getState().accessToken).toBeNull();
    expect(queryClient.getQueryData(['me'])).toBeUndefined();
  });
});
