import { describe, it, expect, afterEach, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, endpoint, page } from '../../test/utils';
import type { StatusPage } from '../../lib/types';

const mock = mockApi();
afterEach(() => mock.reset());

const statusPage = (over: Partial<StatusPage> = {}): StatusPage => ({
  id: 'p1',
  name: 'Acme status',
  slug: 'acme-status',
  description: '',
  components: [{ id: 'c1', endpoint_id: 'a', name: 'Public API', group: 'Backend' }],
  show_uptime: true,
  is_public: true,
  url: 'http://localhost/status/acme-status/',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  ...over,
});

function common(pages: StatusPage[]) {
  mock.onGet('/auth/me/').reply(200, me());
  mock.onGet('/endpoints/').reply(200, page([endpoint({ id: 'a', name: 'api' }), endpoint({ id: 'b', name: 'web', last_status: 'down' })]));
  mock.onGet('/status-pages/').reply(200, page(pages as never[]));
}

describe('StatusPagesPage', () => {
  it('publishes a page with the picked endpoints, named and grouped, after a preview', async () => {
    const user = userEvent.setup();
    common([]);
    let sent: Record<string, unknown> | null = null;
    mock.onPost('/status-pages/').reply((c) => {
      sent = JSON.parse(c.data);
      return [201, statusPage({ name: 'Acme Cloud', slug: 'acme-cloud' })];
    });
    renderApp('/status-pages', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'New status page' }, { timeout: 10000 }));
    await user.type(screen.getByLabelText('Page name'), 'Acme Cloud');
    // The address follows the name until it is edited.
    expect(screen.getByLabelText('Address')).toHaveValue('acme-cloud');
    await user.click(screen.getByLabelText('Show web'));
    const rows = screen.getAllByLabelText('Display name');
    await user.clear(rows[1]);
    await user.type(rows[1], 'Website');
    await user.type(screen.getAllByLabelText('Group')[1], 'Frontend');
    const preview = screen.getByRole('region', { name: 'Preview' });
    expect(within(preview).getByText('Website')).toBeInTheDocument();
    expect(within(preview).getByText('Frontend')).toBeInTheDocument();
    expect(within(preview).getByText('Major System Outage')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Publish page' }));
    await waitFor(() => expect(sent).not.toBeNull());
    expect(sent).toMatchObject({
      name: 'Acme Cloud',
      slug: 'acme-cloud',
      show_uptime: true,
      is_public: true,
      components: [{ endpoint_id: 'b', name: 'Website', group: 'Frontend' }],
    });
  }, 60000);

  it('refuses a bad address before sending and shows the server field errors', async () => {
    const user = userEvent.setup();
    common([]);
    mock.onPost('/status-pages/').reply(400, { slug: ['A status page with this slug already exists.'] });
    renderApp('/status-pages', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'New status page' }, { timeout: 10000 }));
    await user.type(screen.getByLabelText('Page name'), 'Acme');
    await user.clear(screen.getByLabelText('Address'));
    await user.type(screen.getByLabelText('Address'), 'a_b');
    expect(screen.getByText(/3 to 63 characters/)).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Address'));
    await user.type(screen.getByLabelText('Address'), 'taken');
    await user.click(screen.getByRole('button', { name: 'Publish page' }));
    expect(await screen.findByText('A status page with this slug already exists.')).toBeInTheDocument();
  }, 60000);

  it('edits a page and copies badge snippets in Markdown and HTML', async () => {
    const user = userEvent.setup();
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    common([statusPage()]);
    let patched: Record<string, unknown> | null = null;
    mock.onPatch('/status-pages/p1/').reply((c) => {
      patched = JSON.parse(c.data);
      return [200, statusPage({ name: 'Renamed' })];
    });
    renderApp('/status-pages', { token: 'T' });
    const link = await screen.findByRole('link', { name: /\/status\/acme-status\/$/ }, { timeout: 10000 });
    expect(link).toHaveAttribute('href', '/status/acme-status/');
    await user.click(screen.getByRole('button', { name: 'Badges' }));
    await user.click(screen.getByRole('button', { name: 'Copy Markdown for Public API status' }));
    const origin = window.location.origin;
    expect(writeText).toHaveBeenLastCalledWith(
      `[![Public API status](${origin}/status/acme-status/badge/c1/status.svg)](${origin}/status/acme-status/)`,
    );
    await user.click(screen.getByRole('button', { name: 'Copy HTML for Public API uptime 30 days' }));
    expect(writeText).toHaveBeenLastCalledWith(
      `<a href="${origin}/status/acme-status/"><img src="${origin}/status/acme-status/badge/c1/uptime-30d.svg" alt="Public API uptime 30 days"></a>`,
    );
    await user.click(screen.getByRole('button', { name: 'Edit' }));
    const name = screen.getByLabelText('Page name');
    await user.clear(name);
    await user.type(name, 'Renamed');
    expect(screen.getByLabelText('Address')).toHaveValue('acme-status');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(patched).not.toBeNull());
    expect(patched).toMatchObject({ name: 'Renamed', slug: 'acme-status', components: [{ endpoint_id: 'a', name: 'Public API', group: 'Backend' }] });
  }, 60000);

  it('tells a member that only owners and admins manage status pages', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'member' }));
    mock.onGet('/endpoints/').reply(200, page([]));
    mock.onGet('/status-pages/').reply(403, { detail: 'This action needs the admin role or higher.', code: 'role_required' });
    renderApp('/status-pages', { token: 'T' });
    expect(await screen.findByText('Only the owner and admins manage status pages.', {}, { timeout: 10000 })).toBeInTheDocument();
  }, 60000);
});
