import { describe, it, expect, afterEach } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me } from '../../test/utils';

const mock = mockApi();
afterEach(() => mock.reset());

const listed = {
  id: '7b0c5c1e-1111-4222-8333-444455556666',
  name: 'deploy bot',
  role: 'member',
  prefix: 'swt_AbCdEfGh',
  created_by: { id: 'u1', email: 'owner@acme.test' },
  created_at: '2026-12-01T10:00:00Z',
  last_used_at: null,
  expires_at: null,
};
const pageOf = (results: unknown[]) => ({ count: results.length, next: null, previous: null, results });

describe('TokensPage', () => {
  it('shows a new token once, with Copy, and lists tokens by prefix only', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me({ role: 'admin' }));
    let tokens: unknown[] = [];
    mock.onGet('/tokens/').reply(() => [200, pageOf(tokens)]);
    mock.onPost('/tokens/').reply((c) => {
      const body = JSON.parse(c.data as string) as { name: string; role: string };
      expect(body).toMatchObject({ name: 'deploy bot', role: 'member' });
      tokens = [listed];
      return [201, { ...listed, token: 'swt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde' }];
    });
    renderApp('/tokens', { token: 'T' });
    await user.type(await screen.findByLabelText('Name', {}, { timeout: 15000 }), 'deploy bot');
    await user.selectOptions(screen.getByLabelText('Role'), 'member');
    await user.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByTestId('new-token', {}, { timeout: 15000 })).toHaveTextContent('swt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde');
    expect(screen.getByRole('button', { name: 'Copy' })).toBeInTheDocument();
    const table = await screen.findByRole('table', { name: 'API tokens' });
    expect(await within(table).findByText('deploy bot')).toBeInTheDocument();
    expect(within(table).queryByText(/swt_AbCdEfGhIjKl/)).toBeNull();
    // Done: the token is gone from the page for good.
    await user.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByTestId('new-token')).toBeNull();
    // An admin may not give a token the owner role.
    expect(within(screen.getByLabelText('Role')).queryByRole('option', { name: 'owner' })).toBeNull();
  });

  it('tells a member that tokens are for admins, and asks the API nothing', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'member' }));
    renderApp('/tokens', { token: 'T' });
    expect(await screen.findByText(/managed by the organization's admins/, {}, { timeout: 15000 })).toBeInTheDocument();
    expect(mock.history.get.filter((r) => r.url === '/tokens/')).toHaveLength(0);
  });
});
