import { describe, it, expect, afterEach } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, page } from '../../test/utils';
import { useAuth } from '../../lib/auth';

const mock = mockApi();
afterEach(() => mock.reset());

async function login(user: ReturnType<typeof userEvent.setup>, email = 'owner@acme.test', password = 'Sturdy-Lamp-42x') {
  await user.type(await screen.findByLabelText('Email'), email);
  await user.type(screen.getByLabelText('Password'), password);
  await user.click(screen.getByRole('button', { name: 'Log in' }));
}

describe('LoginPage', () => {
  it('logs in, keeps the access token in memory only, and goes back to where the visitor was headed', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/token/').reply(200, { access: 'ACCESS', refresh: 'R' });
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/billing/plans/').reply(200, { plans: [] });
    const { router } = renderApp('/login?redirect=%2Fbilling');
    await login(user);
    await waitFor(() => expect(router.state.location.pathname).toBe('/billing'));
    expect(useAuth.getState().accessToken).toBe('ACCESS');
    expect(localStorage.length + sessionStorage.length).toBe(0);
    expect(JSON.parse(mock.history.post[0].data)).toEqual({ email: 'owner@acme.test', password: 'Sturdy-Lamp-42x' });
  });

  it('goes to the dashboard by default and never to a foreign redirect', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/token/').reply(200, { access: 'ACCESS', refresh: 'R' });
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/').reply(200, page([]));
    const { router } = renderApp('/login?redirect=%2F%2Fevil.example');
    await login(user);
    await waitFor(() => expect(router.state.location.pathname).toBe('/dashboard'));
  });

  it('validates empty fields on the client', async () => {
    const user = userEvent.setup();
    renderApp('/login');
    await user.click(await screen.findByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Enter your email.')).toBeInTheDocument();
    expect(screen.getByText('Enter your password.')).toBeInTheDocument();
    expect(mock.history.post).toHaveLength(0);
  });

  it('shows bad credentials', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/token/').reply(401, { detail: 'No active account found with the given credentials', code: 'no_active_account' });
    renderApp('/login');
    await login(user);
    expect(await screen.findByRole('alert')).toHaveTextContent('No active account found with the given credentials');
    expect(useAuth.getState().accessToken).toBeNull();
    expect(mock.history.post.filter((r) => r.url === '/auth/token/refresh/')).toHaveLength(0);
  });

  it('explains an unverified email and resends the link', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/token/').reply(403, { detail: 'Verify your email address first.', code: 'email_not_verified' });
    mock.onPost('/auth/resend-verification/').reply(200, { detail: 'ok' });
    renderApp('/login');
    await login(user);
    expect(await screen.findByText(/Verify your email address first/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Resend the verification email' }));
    expect(await screen.findByText('A new verification link is on its way.')).toBeInTheDocument();
    expect(JSON.parse(mock.history.post[1].data)).toEqual({ email: 'owner@acme.test' });
  });

  it('shows the verified banner', async () => {
    renderApp('/login?verified=1');
    expect(await screen.findByText(/Email verified\./)).toBeInTheDocument();
  });
});
