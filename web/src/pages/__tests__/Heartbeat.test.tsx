import { describe, it, expect, afterEach } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, endpoint, page } from '../../test/utils';

const mock = mockApi();
afterEach(() => mock.reset());

const PING = 'http://127.0.0.1:8080/ping/9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
const hb = (over = {}) =>
  endpoint({
    id: 'hb1',
    name: 'Nightly backup',
    url: null,
    kind: 'heartbeat',
    ping_url: PING,
    cron: '0 3 * * *',
    tz: 'Europe/Berlin',
    period_seconds: null,
    grace_seconds: 600,
    next_ping_at: '2026-03-29T01:00:00.000000Z',
    last_ping_at: '2026-03-28T02:00:00.000000Z',
    last_status: 'up',
    ...over,
  });

describe('Heartbeats', () => {
  it('creates one on a cron schedule from the dashboard and opens its page', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/').reply(200, page([]));
    let sent: Record<string, unknown> = {};
    mock.onPost('/endpoints/').reply((c) => {
      sent = JSON.parse(c.data);
      return [201, hb({ last_status: 'pending', next_ping_at: null, last_ping_at: null })];
    });
    mock.onGet('/endpoints/hb1/').reply(200, hb({ last_status: 'pending', next_ping_at: null, last_ping_at: null }));
    mock.onGet('/endpoints/hb1/pings/').reply(200, page([]));
    const { router } = renderApp('/dashboard', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: '+ Add heartbeat' }, { timeout: 10000 }));
    const dialog = await screen.findByRole('dialog', { name: 'Add heartbeat' });
    await user.type(within(dialog).getByLabelText('Name'), 'Nightly backup');
    await user.click(within(dialog).getByLabelText('On a cron schedule'));
    const cron = within(dialog).getByLabelText('Cron expression');
    await user.clear(cron);
    await user.type(cron, '0 3 * *');
    await user.click(within(dialog).getByRole('button', { name: 'Add heartbeat' }));
    expect(await within(dialog).findByText('Five fields: minute hour day month weekday.')).toBeInTheDocument();
    await user.type(cron, ' *');
    const tz = within(dialog).getByLabelText('Time zone');
    await user.clear(tz);
    await user.type(tz, 'Europe/Berlin');
    await user.click(within(dialog).getByRole('button', { name: 'Add heartbeat' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/heartbeats/hb1'), { timeout: 10000 });
    expect(sent).toEqual({ kind: 'heartbeat', name: 'Nightly backup', grace_seconds: 300, cron: '0 3 * * *', tz: 'Europe/Berlin' });
    expect(await screen.findByText('After the first ping', {}, { timeout: 10000 })).toBeInTheDocument();
    expect(screen.getByText(/No pings yet/)).toBeInTheDocument();
  });

  it('shows the ping URL with copy, curl and crontab lines, the next ping and the log', async () => {
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/hb1/').reply(200, hb());
    mock.onGet('/endpoints/hb1/pings/').reply(
      200,
      page([
        { id: 'p2', kind: 'fail', exit_status: 3, received_at: '2026-03-28T02:00:00Z', method: 'POST', client_ip: '203.0.113.9', user_agent: 'curl/7.88', body: 'disk full', body_bytes: 9, duration_ms: 4200 },
        { id: 'p1', kind: 'start', exit_status: null, received_at: '2026-03-28T01:59:56Z', method: 'GET', client_ip: '203.0.113.9', user_agent: 'curl/7.88', body: '', body_bytes: 0, duration_ms: null },
      ]),
    );
    renderApp('/heartbeats/hb1', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Nightly backup' }, { timeout: 10000 })).toBeInTheDocument();
    expect(screen.getByTestId('ping-url')).toHaveTextContent(PING);
    expect(screen.getByTestId('curl-line')).toHaveTextContent(`curl -fsS -m 10 --retry 5 -o /dev/null ${PING}`);
    expect(screen.getByTestId('crontab-line')).toHaveTextContent(`0 3 * * * /path/to/job.sh && curl`);
    expect(screen.getByRole('button', { name: 'Copy ping URL' })).toBeInTheDocument();
    expect(screen.getByText(/cron "0 3 \* \* \*" \(Europe\/Berlin\) \+ 10 min grace/)).toBeInTheDocument();
    expect(screen.getByTestId('next-ping').querySelector('time')).toHaveAttribute('dateTime', '2026-03-29T01:00:00.000000Z');
    const log = await screen.findByRole('table', { name: 'Pings' });
    const rows = within(log).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent('fail (exit 3)');
    expect(rows[1]).toHaveTextContent('4.2 s');
    expect(rows[1]).toHaveTextContent('disk full');
  });

  it('rotates the ping URL', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/hb1/').reply(200, hb());
    mock.onGet('/endpoints/hb1/pings/').reply(200, page([]));
    const fresh = 'http://127.0.0.1:8080/ping/00000000-1111-4222-8333-444444444444';
    mock.onPost('/endpoints/hb1/rotate-ping-url/').reply(200, hb({ ping_url: fresh }));
    renderApp('/heartbeats/hb1', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'New ping URL' }, { timeout: 10000 }));
    await waitFor(() => expect(screen.getByTestId('ping-url')).toHaveTextContent(fresh));
  });
});
