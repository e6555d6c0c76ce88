import { describe, it, expect, afterEach } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp } from '../../test/utils';

const mock = mockApi();
afterEach(() => mock.reset());

describe('VerifyEmailPage', () => {
  it('verifies the token once and links to login', async () => {
    mock.onPost('/auth/verify-email/').reply(200, { detail: 'Email verified. You can now log in.' });
    const user = userEvent.setup();
    const { router } = renderApp('/verify-email?token=tok123');
    expect(await screen.findByRole('heading', { name: 'Email verified' })).toBeInTheDocument();
    expect(mock.history.post).toHaveLength(1);
    expect(JSON.parse(mock.history.post[0].data)).toEqual({ token: 'tok123' });
    await user.click(screen.getByRole('link', { name: 'Continue to log in' }));
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Email verified. You can now log in.');
    expect(router.state.location.pathname).toBe('/login');
  });

  it('explains an expired token and offers a resend', async () => {
    mock.onPost('/auth/verify-email/').reply(400, { detail: 'This verification link has expired.', code: 'token_expired' });
    mock.onPost('/auth/resend-verification/').reply(200, { detail: 'ok' });
    const user = userEvent.setup();
    renderApp('/verify-email?token=old');
    expect(await screen.findByRole('heading', { name: 'This link has expired' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('Email'), 'a@acme.test');
    await user.click(screen.getByRole('button', { name: 'Send a new link' }));
    expect(await screen.findByText(/a new link is on its way/)).toBeInTheDocument();
    expect(JSON.parse(mock.history.post[1].data)).toEqual({ email: 'a@acme.test' });
  });

  it('explains a used token', async () => {
    mock.onPost('/auth/verify-email/').reply(400, { detail: 'Used.', code: 'token_used' });
    renderApp('/verify-email?token=used');
    expect(await screen.findByRole('heading', { name: 'This link was already used' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Send a new link' })).toBeInTheDocument();
  });

  it('validates the resend form and handles a missing token', async () => {
    const user = userEvent.setup();
    renderApp('/verify-email');
    expect(await screen.findByRole('heading', { name: 'No verification token' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Send a new link' }));
    expect(await screen.findByText('Enter your email.')).toBeInTheDocument();
    expect(mock.history.post).toHaveLength(0);
  });
});
