import { describe, it, expect, afterEach } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, endpoint, page } from '../../test/utils';
import type { Channel, IncidentDetail, MaintenanceWindow, Notification } from '../../lib/types';

const mock = mockApi();
afterEach(() => mock.reset());

const T = '2026-12-02T05:00:00Z';
const channel = (over: Partial<Channel> = {}): Channel => ({
  id: 'c1',
  name: 'Owner mail',
  kind: 'email',
  config: { addresses: ['owner@acme.test'] },
  is_default: true,
  created_at: T,
  updated_at: T,
  ...over,
});
const delivery = (over: Partial<Notification> = {}): Notification => ({
  id: 'n1',
  channel_id: 'c2',
  channel_name: 'Hook',
  channel_kind: 'webhook',
  kind: 'test',
  incident_id: null,
  endpoint_id: null,
  status: 'pending',
  attempts: 0,
  last_error: null,
  created_at: T,
  updated_at: T,
  delivered_at: null,
  ...over,
});

describe('ChannelsPage', () => {
  it('adds a webhook channel (field errors under their fields, the secret shown once), tests it and shows it delivered', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me({ role: 'admin' }));
    let list = [channel()];
    mock.onGet('/channels/').reply(() => [200, page(list)]);
    let posts = 0;
    mock.onPost('/channels/').reply((c) => {
      posts += 1;
      const body = JSON.parse(c.data);
      if (posts === 1) return [400, { config: { url: ['This address is not allowed.'] } }];
      expect(body).toEqual({ name: 'Hook', kind: 'webhook', config: { url: 'https://hooks.acme.test/sw' }, is_default: false });
      const created = channel({ id: 'c2', name: 'Hook', kind: 'webhook', is_default: false, config: { url: body.config.url, secret: 'whsec_AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH' } });
      list = [...list, { ...created, config: { url: body.config.url, secret: '********' } }];
      return [201, created];
    });
    mock.onPost('/channels/c2/test/').reply(200, delivery());
    let polls = 0;
    mock.onGet('/notifications/').reply((c) => {
      expect(c.params.channel).toBe('c2');
      polls += 1;
      return [200, page([delivery(polls > 1 ? { status: 'delivered', attempts: 1, delivered_at: T } : {})])];
    });
    renderApp('/channels', { token: 'T' });
    expect(await screen.findByText('Owner mail')).toBeInTheDocument();
    expect(screen.getByText('owner@acme.test')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: '+ Add channel' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add channel' });
    await user.click(within(dialog).getByRole('button', { name: 'Add channel' }));
    expect(await within(dialog).findByText('Name the channel.')).toBeInTheDocument();
    expect(within(dialog).getByText('Enter the url.')).toBeInTheDocument();
    expect(posts).toBe(0);
    await user.type(within(dialog).getByLabelText('Name'), 'Hook');
    await user.type(within(dialog).getByLabelText('URL'), 'https://hooks.acme.test/sw');
    await user.click(within(dialog).getByRole('button', { name: 'Add channel' }));
    expect(await within(dialog).findByText('This address is not allowed.')).toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Add channel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByTestId('created-secret')).toHaveTextContent('whsec_AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH');
    const row = (await within(screen.getByRole('table', { name: 'Channels' })).findByText('Hook')).closest('tr')!;
    await user.click(within(row).getByRole('button', { name: 'Test Hook' }));
    expect(await within(row).findByText('Test: Pending')).toBeInTheDocument();
    expect(await within(row).findByText('Test: Delivered', {}, { timeout: 5000 })).toBeInTheDocument();
  });

  it('edits a channel: an empty secret keeps the stored one; deletes after confirmation', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    let list = [channel({ id: 'c3', name: 'Pager', kind: 'pagerduty', config: { routing_key: '********' }, is_default: false })];
    mock.onGet('/channels/').reply(() => [200, page(list)]);
    mock.onPatch('/channels/c3/').reply((c) => {
      const body = JSON.parse(c.data);
      list = [{ ...list[0], name: body.name, is_default: body.is_default }];
      return [200, list[0]];
    });
    mock.onDelete('/channels/c3/').reply(() => {
      list = [];
      return [204];
    });
    renderApp('/channels', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'Edit Pager' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit channel' });
    expect(within(dialog).getByLabelText('Routing key')).toHaveValue('');
    expect(within(dialog).getByLabelText('Routing key')).toHaveAttribute('placeholder', 'unchanged');
    expect(within(dialog).getByLabelText('Kind')).toBeDisabled();
    await user.clear(within(dialog).getByLabelText('Name'));
    await user.type(within(dialog).getByLabelText('Name'), 'On-call');
    await user.click(within(dialog).getByLabelText('Default for new endpoints'));
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(mock.history.patch[0].data)).toEqual({ name: 'On-call', is_default: true, config: {} });
    expect(await screen.findByText('On-call')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Delete On-call' }));
    const confirm = await screen.findByRole('dialog', { name: 'Delete channel?' });
    expect(within(confirm).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(confirm).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByRole('heading', { name: 'No channels' })).toBeInTheDocument();
  });

  it('hides add, test, edit and delete from a member (channels are admin+)', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'member' }));
    mock.onGet('/channels/').reply(200, page([channel()]));
    renderApp('/channels', { token: 'T' });
    expect(await screen.findByText('Owner mail')).toBeInTheDocument();
    expect(await screen.findByText('Acme')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '+ Add channel' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^(Test|Edit|Delete) / })).toBeNull();
  });
});

// IncidentEvent.detail is a free-form object in the contract (typed Record<string, never>): the fixtures cast theirs.
const incident = (over: Partial<IncidentDetail> = {}): IncidentDetail => ({
  id: 'i1',
  endpoint_id: 'e1',
  endpoint_name: 'Shop',
  status: 'open',
  cause: 'status 503',
  opened_at: T,
  resolved_at: null,
  duration_seconds: 600,
  acknowledged_at: null,
  acknowledged_by: null,
  timeline: [
    { at: T, type: 'opened', detail: {} },
    { at: T, type: 'region_failing', detail: { region: 'eu' } as never },
    { at: T, type: 'notification_sent', detail: { notification_id: 'n', channel_id: 'c', channel_kind: 'slack', kind: 'incident.opened' } as never },
  ],
  ...over,
});

describe('Incidents', () => {
  it('lists incidents (open only on request) and links to the timeline', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    const { timeline: _t, ...open } = incident();
    void _t;
    const resolved = { ...open, id: 'i0', endpoint_name: 'Docs', status: 'resolved' as const, resolved_at: T, duration_seconds: 300, cause: 'timeout' };
    mock.onGet('/incidents/').reply((c) => [200, page(c.params.open ? [open] : [open, resolved])]);
    const { router } = renderApp('/incidents', { token: 'T' });
    const table = await screen.findByRole('table', { name: 'Incidents' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(within(table).getByText('Resolved')).toBeInTheDocument();
    expect(within(table).getByText('Open')).toBeInTheDocument();
    await user.click(screen.getByLabelText('Open only'));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Incidents' })).getAllByRole('row')).toHaveLength(2));
    expect(mock.history.get.filter((r) => r.url === '/incidents/').at(-1)?.params).toEqual({ page: 1, page_size: 20, open: true });
    mock.onGet('/incidents/i1/').reply(200, incident());
    await user.click(screen.getByRole('link', { name: 'Shop' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/incidents/i1'));
  });

  it("shows an incident's timeline and acknowledges it", async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me({ role: 'member' }));
    let i = incident();
    mock.onGet('/incidents/i1/').reply(() => [200, i]);
    mock.onPost('/incidents/i1/acknowledge/').reply(() => {
      i = { ...i, acknowledged_at: T, acknowledged_by: 'u1', timeline: [...i.timeline, { at: T, type: 'acknowledged', detail: { user_id: 'u1' } as never }] };
      return [200, i];
    });
    renderApp('/incidents/i1', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Shop' })).toBeInTheDocument();
    const tl = screen.getByRole('list', { name: 'Incident timeline' });
    expect(within(tl).getAllByRole('listitem').map((li) => li.textContent?.split(' · ')[1])).toEqual([
      'Incident opened',
      'Failing in region eu',
      'Incident opened sent via slack',
    ]);
    expect(screen.getByText('status 503')).toBeInTheDocument();
    await user.click(await screen.findByRole('button', { name: 'Acknowledge' }));
    expect(await screen.findByText('Acknowledged', { selector: '.badge' })).toBeInTheDocument();
    expect(within(tl).getAllByRole('listitem')).toHaveLength(4);
    expect(screen.queryByRole('button', { name: 'Acknowledge' })).toBeNull();
  });

  it('hides Acknowledge from a viewer', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'viewer' }));
    mock.onGet('/incidents/i1/').reply(200, incident());
    renderApp('/incidents/i1', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Shop' })).toBeInTheDocument();
    expect(await screen.findByText('Acme')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Acknowledge' })).toBeNull();
  });
});

describe('MaintenancePage', () => {
  it('plans a repeating window for picked endpoints (checked before sending) and lists it', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me({ role: 'member' }));
    mock.onGet('/endpoints/').reply(200, page([endpoint({ id: 'e1', name: 'Shop' }), endpoint({ id: 'e2', name: 'API' })]));
    let list: MaintenanceWindow[] = [];
    mock.onGet('/maintenance-windows/').reply(() => [200, page(list)]);
    mock.onPost('/maintenance-windows/').reply((c) => {
      const b = JSON.parse(c.data);
      const w: MaintenanceWindow = { id: 'w1', ...b, active: false, next_starts_at: b.starts_at, created_at: T, updated_at: T };
      list = [w];
      return [201, w];
    });
    renderApp('/maintenance', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: '+ Plan maintenance' }));
    const dialog = await screen.findByRole('dialog', { name: 'Plan maintenance' });
    await user.type(within(dialog).getByLabelText('Name'), 'DB upgrade');
    await user.click(within(dialog).getByRole('button', { name: 'Plan it' }));
    expect(await within(dialog).findByText('Pick at least one endpoint.')).toBeInTheDocument();
    expect(within(dialog).getByText('When does it start?')).toBeInTheDocument();
    await user.click(within(dialog).getByLabelText('Shop'));
    await user.type(within(dialog).getByLabelText('Starts'), '2026-12-06T02:00');
    await user.type(within(dialog).getByLabelText('Ends'), '2026-12-06T01:00');
    await user.click(within(dialog).getByRole('button', { name: 'Plan it' }));
    expect(await within(dialog).findByText('It must end after it starts.')).toBeInTheDocument();
    await user.clear(within(dialog).getByLabelText('Ends'));
    await user.type(within(dialog).getByLabelText('Ends'), '2026-12-06T04:00');
    await user.type(within(dialog).getByLabelText('Repeat (RRULE)'), 'FREQ=WEEKLY;BYDAY=SU');
    await user.clear(within(dialog).getByLabelText('Time zone'));
    await user.type(within(dialog).getByLabelText('Time zone'), 'Europe/Berlin');
    await user.click(within(dialog).getByRole('button', { name: 'Plan it' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const body = JSON.parse(mock.history.post[0].data);
    expect(body).toEqual({
      name: 'DB upgrade',
      endpoint_ids: ['e1'],
      starts_at: new Date('2026-12-06T02:00').toISOString(),
      ends_at: new Date('2026-12-06T04:00').toISOString(),
      rrule: 'FREQ=WEEKLY;BYDAY=SU',
      tz: 'Europe/Berlin',
    });
    const table = await screen.findByRole('table', { name: 'Maintenance windows' });
    expect(within(table).getByText('DB upgrade')).toBeInTheDocument();
    expect(within(table).getByText(/repeats FREQ=WEEKLY;BYDAY=SU \(Europe\/Berlin\)/)).toBeInTheDocument();
    expect(within(table).getByText('Planned')).toBeInTheDocument();
  });

  it('hides the controls from a viewer', async () => {
    mock.onGet('/auth/me/').reply(200, me({ role: 'viewer' }));
    mock.onGet('/endpoints/').reply(200, page([endpoint({ id: 'e1', name: 'Shop' })]));
    mock.onGet('/maintenance-windows/').reply(200, page([{ id: 'w1', name: 'Nightly', endpoint_ids: ['e1'], starts_at: T, ends_at: T, rrule: null, tz: 'UTC', active: true, next_starts_at: null, created_at: T, updated_at: T }]));
    renderApp('/maintenance', { token: 'T' });
    expect(await screen.findByText('Nightly')).toBeInTheDocument();
    expect(screen.getByText('In progress')).toBeInTheDocument();
    expect(await screen.findByText('Acme')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '+ Plan maintenance' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit Nightly' })).toBeNull();
  });
});

describe('MaintenancePage on a server without the routes', () => {
  it('says so instead of offering the form', async () => {
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/').reply(200, page([]));
    mock.onGet('/maintenance-windows/').reply(404, { detail: 'Not found.' });
    renderApp('/maintenance', { token: 'T' });
    expect(await screen.findByText('Maintenance windows are not available on this server yet.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '+ Plan maintenance' })).toBeNull();
  });
});

describe('NotificationsPage', () => {
  it('shows each delivery with status, attempts and the last error, filtered by status', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me({ role: 'viewer' }));
    const failed = delivery({ id: 'n2', kind: 'incident.opened', incident_id: 'i1', status: 'failed', attempts: 9, last_error: 'HTTP 500' });
    mock.onGet('/notifications/').reply((c) => [200, page(c.params.status === 'failed' ? [failed] : [delivery({ status: 'delivered', attempts: 1, delivered_at: T }), failed])]);
    renderApp('/notifications', { token: 'T' });
    const table = await screen.findByRole('table', { name: 'Deliveries' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1]).getByText('Delivered')).toBeInTheDocument();
    expect(within(rows[2]).getByRole('link', { name: 'Incident opened' })).toHaveAttribute('href', '/incidents/i1');
    expect(within(rows[2]).getByText('HTTP 500')).toBeInTheDocument();
    expect(within(rows[2]).getByText('9')).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Status'), 'failed');
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Deliveries' })).getAllByRole('row')).toHaveLength(2));
  });
});
