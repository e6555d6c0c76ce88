import { describe, it, expect, afterEach } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, page } from '../../test/utils';

const mock = mockApi();
afterEach(() => mock.reset());

const member = (id: string, email: string, role: string, is_verified = true) => ({
  id,
  email,
  role,
  is_verified,
  date_joined: '2026-11-01T10:00:00Z',
});
const team = [
  member('u1', 'owner@acme.test', 'owner'),
  member('u2', 'ada@acme.test', 'admin'),
  member('u3', 'new@acme.test', 'member', false),
];

describe('TeamPage ownership transfer', () => {
  it('lets the owner hand the organization to a verified member, confirmed with the password', async () => {
    const user = userEvent.setup();
    let role = 'owner';
    mock.onGet('/auth/me/').reply(() => [200, me({ role: role as 'owner' })]);
    mock.onGet('/team/members/').reply(200, page(team));
    mock.onGet('/team/invitations/').reply(200, page([]));
    let sent: unknown = null;
    mock.onPost('/team/transfer-ownership/').reply((c) => {
      sent = JSON.parse(c.data as string);
      const body = sent as { password: string };
      if (body.password !== 'Sturdy-Lamp-42x') return [400, { password: ['The password is not correct.'] }];
      role = 'admin';
      return [200, { detail: 'Ownership transferred.', owner: 'u2' }];
    });
    renderApp('/team', { token: 'T' });
    const table = await screen.findByRole('table', { name: 'Members' }, { timeout: 15000 });
    await within(table).findByText('ada@acme.test');
    // Not for oneself, and not for a member who has not verified their address.
    expect(within(table).queryByRole('button', { name: 'Make owner@acme.test the owner' })).toBeNull();
    expect(within(table).queryByRole('button', { name: 'Make new@acme.test the owner' })).toBeNull();

    await user.click(within(table).getByRole('button', { name: 'Make ada@acme.test the owner' }));
    const form = screen.getByRole('form', { name: 'Transfer ownership' });
    expect(form).toHaveTextContent('Make ada@acme.test the owner');
    await user.type(within(form).getByLabelText('Your password'), 'wrong');
    await user.click(within(form).getByRole('button', { name: 'Transfer ownership' }));
    expect(await screen.findByText(/The password is not correct/)).toBeInTheDocument();
    expect(sent).toEqual({ user_id: 'u2', password: 'wrong' });

    await user.clear(within(form).getByLabelText('Your password'));
    await user.type(within(form).getByLabelText('Your password'), 'Sturdy-Lamp-42x');
    await user.click(within(form).getByRole('button', { name: 'Transfer ownership' }));
    expect(await screen.findByText('ada@acme.test is now the owner; you are an admin.')).toBeInTheDocument();
    expect(sent).toEqual({ user_id: 'u2', password: 'Sturdy-Lamp-42x' });
    expect(screen.queryByRole('form', { name: 'Transfer ownership' })).toBeNull();
    // "me" is asked again: now an admin, the control is gone.
    await within(table).findByRole('button', { name: 'Remove ada@acme.test' });
    expect(within(table).queryByRole('button', { name: /the owner$/ })).toBeNull();
  });

  it('shows no transfer control to an admin', async () => {
    mock.onGet('/auth/me/').reply(200, me({ id: 'u2', email: 'ada@acme.test', role: 'admin' }));
    mock.onGet('/team/members/').reply(200, page(team));
    mock.onGet('/team/invitations/').reply(200, page([]));
    renderApp('/team', { token: 'T' });
    const table = await screen.findByRole('table', { name: 'Members' }, { timeout: 15000 });
    await within(table).findByRole('button', { name: 'Remove new@acme.test' });
    expect(within(table).queryByRole('button', { name: /the owner$/ })).toBeNull();
    expect(mock.history.post).toHaveLength(0);
  });
});
