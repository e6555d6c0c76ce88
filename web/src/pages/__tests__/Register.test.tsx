import { describe, it, expect, afterEach } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp } from '../../test/utils';

const mock = mockApi();
afterEach(() => mock.reset());

const GOOD = 'Sturdy-Lamp-42x';

async function fill(user: ReturnType<typeof userEvent.setup>, values: Record<string, string>) {
  for (const [label, v] of Object.entries(values)) {
    const el = screen.getByLabelText(label, { selector: 'input' });
    await user.clear(el);
    if (v) await user.type(el, v);
  }
}

describe('RegisterPage', () => {
  it('quotes the Free limit the server states', async () => {
    mock.onGet('/billing/plans/').reply(200, { plans: [{ id: 'free', name: 'Free', endpoint_limit: 5, features: [] }] });
    renderApp('/register');
    expect(await screen.findByText(/Free for up to 5 endpoints\./)).toBeInTheDocument();
  });

  it('shows the password rule live as the user types', async () => {
    const user = userEvent.setup();
    renderApp('/register');
    const pw = await screen.findByLabelText('Password', { selector: 'input' });
    const rules = screen.getByRole('list', { name: 'Password requirements' });
    const rule = (name: RegExp) => within(rules).getByText(name).closest('li')!;
    expect(rule(/12–128 characters/)).toHaveAttribute('data-ok', 'false');
    await user.type(pw, 'abc');
    expect(rule(/A lowercase letter/)).toHaveAttribute('data-ok', 'true');
    expect(rule(/An uppercase letter/)).toHaveAttribute('data-ok', 'false');
    await user.type(pw, 'DEF-12345678');
    for (const r of [/12–128/, /uppercase/, /lowercase/, /digit/, /special/]) expect(rule(r)).toHaveAttribute('data-ok', 'true');
  });

  it('rates the password with zxcvbn-ts (loaded on first use), as advice only', async () => {
    const user = userEvent.setup();
    renderApp('/register');
    const pw = await screen.findByLabelText('Password', { selector: 'input' });
    expect(screen.queryByRole('meter', { name: 'Password strength' })).not.toBeInTheDocument();
    // A breached password that passes every composition rule: rated weak, with a warning.
    await user.type(pw, 'Qwerty123456!');
    const meter = await screen.findByRole('meter', { name: 'Password strength' }, { timeout: 10000 });
    await waitFor(() => expect(Number(meter.getAttribute('aria-valuenow'))).toBeLessThanOrEqual(1));
    expect(meter.closest('.pw-strength')?.textContent).toMatch(/Strength: (Very weak|Weak)/);
    await user.clear(pw);
    await user.type(pw, 'Gravel-Otter-Sings-Nightly-83');
    await waitFor(() =>
      expect(Number(screen.getByRole('meter', { name: 'Password strength' }).getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(3),
    );
  }, 20000);

  it('validates on the client: weak password and mismatch, nothing sent', async () => {
    const user = userEvent.setup();
    renderApp('/register');
    await screen.findByRole('heading', { name: 'Create your account' });
    await fill(user, { 'Organization name': 'Acme', Email: 'not-an-email', Password: 'short', 'Confirm password': 'other' });
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Enter a valid email address.')).toBeInTheDocument();
    expect(screen.getByText('Password must contain at least 12 characters.')).toBeInTheDocument();
    await fill(user, { Email: 'a@acme.test', Password: GOOD, 'Confirm password': GOOD + 'x' });
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Passwords do not match.')).toBeInTheDocument();
    expect(mock.history.post).toHaveLength(0);
  });

  it('registers, goes to /login with a banner that survives a refresh', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/register/').reply(201, { id: 'u1' });
    const { router, unmount } = renderApp('/register');
    await screen.findByRole('heading', { name: 'Create your account' });
    await fill(user, { 'Organization name': 'Acme', Email: 'a@acme.test', Password: GOOD, 'Confirm password': GOOD });
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText(/Account created\./)).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(JSON.parse(mock.history.post[0].data)).toEqual({
      organization_name: 'Acme',
      email: 'a@acme.test',
      password: GOOD,
      password_confirm: GOOD,
    });
    // "Refresh": a brand-new app at the same URL still shows the banner.
    const href = router.state.location.href;
    unmount();
    renderApp(href);
    expect(await screen.findByText(/Account created\./)).toBeInTheDocument();
  });

  it('puts API field errors under their fields', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/register/').reply(400, {
      email: ['A user with this email already exists.'],
      password: ['This password is too common.'],
    });
    renderApp('/register');
    await screen.findByRole('heading', { name: 'Create your account' });
    await fill(user, { 'Organization name': 'Acme', Email: 'a@acme.test', Password: GOOD, 'Confirm password': GOOD });
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    const email = screen.getByLabelText('Email');
    await waitFor(() => expect(email).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByText('A user with this email already exists.')).toHaveAttribute('id', email.getAttribute('aria-describedby')!.split(' ')[0]);
    expect(screen.getByText('This password is too common.')).toBeInTheDocument();
  });

  it('shows throttling with the wait time', async () => {
    const user = userEvent.setup();
    mock.onPost('/auth/register/').reply(429, { detail: 'Request was throttled.' }, { 'retry-after': '1800' });
    renderApp('/register');
    await screen.findByRole('heading', { name: 'Create your account' });
    await fill(user, { 'Organization name': 'Acme', Email: 'a@acme.test', Password: GOOD, 'Confirm password': GOOD });
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Please try again in 30 minutes.');
  });
});
