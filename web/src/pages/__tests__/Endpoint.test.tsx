import { describe, it, expect, afterEach, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockApi, renderApp, me, endpoint } from '../../test/utils';

// uPlot draws on a canvas, which jsdom has not: the chart is tested on its own
// (its data: lib/__tests__/responseTimes.test.ts); here it is a stand-in.
vi.mock('../../components/ResponseTimeChart', () => ({
  default: ({ endpointId }: { endpointId: string }) => <div data-testid="chart">chart of {endpointId}</div>,
}));

const mock = mockApi();
afterEach(() => mock.reset());

const win = (uptime: number | null, checks: number, failures: number) => ({
  checks,
  failures,
  uptime_percent: uptime,
  latency_ms: { avg: 100, p50: 90, p95: 180 },
});

function stubReads(e: ReturnType<typeof endpoint>, role: 'owner' | 'viewer' | 'member' = 'owner') {
  mock.onGet('/auth/me/').reply(200, me({ role }));
  mock.onGet(`/endpoints/${e.id}/`).reply(200, e);
  mock.onGet(`/endpoints/${e.id}/uptime/`).reply((c) => {
    const days = c.params?.days;
    if (!days) return [200, { endpoint_id: e.id, windows: { '24h': win(99.5, 1440, 7), '7d': win(100, 10080, 0), '30d': win(null, 0, 0), '90d': win(99.9, 9000, 9) } }];
    const key = days === 1 ? '24h' : `${days}d`;
    const n = days === 1 ? 24 : days;
    const step = days === 1 ? 3_600_000 : 86_400_000;
    return [
      200,
      {
        endpoint_id: e.id,
        days,
        windows: { [key]: win(99, 100, 1) },
        buckets: Array.from({ length: n }, (_, i) => ({ start: new Date(Date.UTC(2026, 0, 1) + i * step).toISOString(), checks: 60, failures: i === 0 ? 6 : 0, uptime_percent: i === 0 ? 90 : 100 })),
      },
    ];
  });
  mock.onGet(`/endpoints/${e.id}/incidents/`).reply(200, {
    count: 2,
    next: null,
    previous: null,
    results: [
      { id: 'i2', endpoint_id: e.id, kind: 'degraded', opened_at: '2026-12-01T10:00:00Z', closed_at: null, duration_seconds: 7200, cause: 'slower than 250 ms (412 ms)' },
      { id: 'i1', endpoint_id: e.id, kind: 'down', opened_at: '2026-11-30T10:00:00Z', closed_at: '2026-11-30T10:05:00Z', duration_seconds: 300, cause: 'status 503' },
    ],
  });
  mock.onGet(`/endpoints/${e.id}/checks/`).reply((c) => [200, {
    count: c.params?.ok === 'false' ? 1 : 2,
    next: null,
    previous: null,
    results: [
      { checked_at: new Date(Date.now() - 60_000).toISOString(), region: 'eu', attempt: 1, ok: false, http_status: 200, error: 'assertion 1 failed: body contains "Welcome" (got "Sign in")', latency_ms: 120, dns_ms: 1, connect_ms: 1, tls_ms: null, ttfb_ms: 100 },
      ...(c.params?.ok === 'false' ? [] : [{ checked_at: new Date(Date.now() - 120_000).toISOString(), region: 'us', attempt: 1, ok: true, http_status: 200, error: null, latency_ms: 80, dns_ms: 1, connect_ms: 1, tls_ms: null, ttfb_ms: 70 }]),
    ],
  }]);
}

describe('EndpointPage', () => {
  it('tells the endpoint story: status, uptime, certificate, chart and the checks with their errors', async () => {
    const e = endpoint({
      id: 'ep1',
      name: 'Shop',
      url: 'https://shop.acme.test/',
      last_status: 'degraded',
      ...{
        method: 'POST',
        assertions: [{ source: 'json_body', property: '$.status', comparison: 'equals', target: 'ok' }],
        tls_expires_at: new Date(Date.now() + 10 * 86_400_000 + 3_600_000).toISOString(),
        tls_issuer: 'CN=Test CA',
        tls_subject: 'CN=shop.acme.test',
        last_error: 'assertion 1 failed: json_body $.status equals "ok" (got "degraded")',
      },
    });
    stubReads(e);
    renderApp('/endpoints/ep1', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Shop' })).toBeInTheDocument();
    expect(screen.getByText('Degraded')).toBeInTheDocument();
    expect(screen.getByText('POST')).toBeInTheDocument();
    expect(screen.getByText('JSON body $.status equals "ok"')).toBeInTheDocument();
    expect(await screen.findByText('99.50%')).toBeInTheDocument();
    expect(within(screen.getByTestId('uptime-7d')).getByText('100%')).toBeInTheDocument();
    expect(within(screen.getByTestId('uptime-30d')).getByText('—')).toBeInTheDocument();
    expect(screen.getByTestId('cert-days')).toHaveTextContent('(10 days left)');
    expect(screen.getByText('CN=Test CA')).toBeInTheDocument();
    expect(await screen.findByTestId('chart')).toHaveTextContent('chart of ep1');
    const checks = await screen.findByRole('table', { name: 'Recent checks' });
    const rows = within(checks).getAllByRole('row');
    expect(within(rows[1]).getByText('Failed')).toBeInTheDocument();
    expect(within(rows[1]).getByText('assertion 1 failed: body contains "Welcome" (got "Sign in")')).toBeInTheDocument();
    expect(within(rows[2]).getByText('OK')).toBeInTheDocument();
    expect(screen.getByTestId('last-error')).toHaveTextContent('Last check failed: assertion 1 failed: json_body $.status equals "ok" (got "degraded")');
    const timeline = screen.getByRole('list', { name: 'Incident timeline' });
    const items = within(timeline).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent(/Degraded.*ongoing for 2\.0 h/);
    expect(items[0]).toHaveTextContent('slower than 250 ms (412 ms)');
    expect(items[1]).toHaveTextContent(/Down.*resolved.*after 5 min/);
    expect(items[1]).toHaveTextContent('status 503');
  });

  it('shows an uptime bar for the window picked (?days=) and filters the failed checks', async () => {
    const user = userEvent.setup();
    const e = endpoint({ id: 'ep5', name: 'Bar', regions: ['eu', 'us'] });
    stubReads(e);
    renderApp('/endpoints/ep5', { token: 'T' });
    const bar = await screen.findByRole('img', { name: 'Uptime per hour over 24 hours' });
    expect(bar.children).toHaveLength(24);
    expect(within(screen.getByTestId('uptime-90d')).getByText('99.90%')).toBeInTheDocument();
    await user.click(screen.getByTestId('uptime-30d'));
    const bar30 = await screen.findByRole('img', { name: 'Uptime per day over 30 days' });
    expect(bar30.children).toHaveLength(30);
    expect(bar30.children[0]).toHaveClass('u-down');
    expect(bar30.children[1]).toHaveClass('u-up');
    expect(mock.history.get.filter((r) => r.url === '/endpoints/ep5/uptime/').map((r) => r.params?.days)).toEqual(expect.arrayContaining([undefined, 1, 30]));
    const table = await screen.findByRole('table', { name: 'Recent checks' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    await user.click(screen.getByLabelText('Failed only'));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Recent checks' })).getAllByRole('row')).toHaveLength(2));
    expect(mock.history.get.filter((r) => r.url === '/endpoints/ep5/checks/').at(-1)?.params).toEqual({ page: 1, page_size: 20, ok: 'false' });
    await user.selectOptions(screen.getByLabelText('Region'), 'eu');
    await waitFor(() => expect(mock.history.get.filter((r) => r.url === '/endpoints/ep5/checks/').at(-1)?.params).toEqual({ page: 1, page_size: 20, ok: 'false', region: 'eu' }));
  });

  it('pauses and resumes', async () => {
    const user = userEvent.setup();
    let e = endpoint({ id: 'ep2', name: 'API' });
    stubReads(e);
    mock.onGet('/endpoints/ep2/').reply(() => [200, e]);
    mock.onPatch('/endpoints/ep2/').reply((c) => {
      e = { ...e, ...JSON.parse(c.data) };
      return [200, e];
    });
    renderApp('/endpoints/ep2', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(await screen.findByText('Paused')).toBeInTheDocument();
    expect(JSON.parse(mock.history.patch[0].data)).toEqual({ paused: true });
    await user.click(screen.getByRole('button', { name: 'Resume' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Pause' })).toBeInTheDocument());
    expect(JSON.parse(mock.history.patch[1].data)).toEqual({ paused: false });
  });

  it('hides edit, pause and resume from a viewer', async () => {
    const e = endpoint({ id: 'ep3', name: 'Docs' });
    stubReads(e, 'viewer');
    renderApp('/endpoints/ep3', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Docs' })).toBeInTheDocument();
    expect(await screen.findByText('Acme')).toBeInTheDocument(); // me has loaded
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Pause' })).toBeNull();
  });

  it('edits: sends only what changed, keeps header values unless retyped, shows assertion errors per entry', async () => {
    const user = userEvent.setup();
    const e = endpoint({
      id: 'ep4',
      name: 'Login',
      url: 'https://login.acme.test/',
      method: 'GET',
      headers: { Authorization: '********' },
      assertions: [{ source: 'status_code', comparison: 'equals', target: 200 }],
    });
    stubReads(e);
    let patches = 0;
    mock.onPatch('/endpoints/ep4/').reply((c) => {
      patches += 1;
      if (patches === 1) return [400, { assertions: [{}, { comparison: ['"less_than" needs a number target.'] }] }];
      return [200, { ...e, ...JSON.parse(c.data), headers: { Authorization: '********' } }];
    });
    renderApp('/endpoints/ep4', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit endpoint' });
    // The header's value is write-only: only its name comes back.
    expect(within(dialog).getByLabelText('Header 1 name')).toHaveValue('Authorization');
    expect(within(dialog).getByLabelText('Header 1 value')).toHaveValue('');
    await user.click(within(dialog).getByRole('button', { name: '+ Add assertion' }));
    const second = within(dialog).getByRole('group', { name: 'Assertion 2' });
    await user.selectOptions(within(second).getByLabelText('Comparison'), 'less_than');
    await user.type(within(second).getByLabelText('Target'), 'abc');
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    expect(await within(second).findByText('"less_than" needs a number target.')).toBeInTheDocument();
    expect(within(within(dialog).getByRole('group', { name: 'Assertion 1' })).queryByRole('alert')).toBeNull();
    expect(JSON.parse(mock.history.patch[0].data)).toEqual({
      assertions: [
        { source: 'status_code', comparison: 'equals', target: 200 },
        { source: 'body', comparison: 'less_than', target: 'abc' },
      ],
    });
    await user.clear(within(second).getByLabelText('Target'));
    await user.type(within(second).getByLabelText('Target'), 'Welcome');
    await user.selectOptions(within(second).getByLabelText('Comparison'), 'contains');
    await user.click(within(dialog).getByRole('button', { name: '+ Add header' }));
    await user.type(within(dialog).getByLabelText('Header 2 name'), 'X-Env');
    await user.type(within(dialog).getByLabelText('Header 2 value'), 'prod');
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(mock.history.patch[1].data)).toEqual({
      headers: { Authorization: '********', 'X-Env': 'prod' },
      assertions: [
        { source: 'status_code', comparison: 'equals', target: 200 },
        { source: 'body', comparison: 'contains', target: 'Welcome' },
      ],
    });
  });

  it('creates a TCP endpoint from the dashboard (no HTTP options sent)', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/').reply(200, { count: 0, next: null, previous: null, results: [] });
    mock.onPost('/endpoints/').reply((c) => [201, endpoint({ ...JSON.parse(c.data), name: 'db' })]);
    renderApp('/dashboard', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: '+ Add endpoint' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add endpoint' });
    await user.click(within(dialog).getByLabelText('TCP port'));
    expect(within(dialog).getByLabelText('URL')).toHaveValue('tcp://');
    expect(within(dialog).queryByRole('group', { name: 'Assertions' })).toBeNull();
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    expect(await within(dialog).findByText('Enter tcp://host:port.')).toBeInTheDocument();
    await user.type(within(dialog).getByLabelText('URL'), 'db.acme.test:5432');
    await user.type(within(dialog).getByLabelText('Degraded above (ms)'), '250');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(mock.history.post[0].data)).toEqual({ kind: 'tcp', url: 'tcp://db.acme.test:5432', interval_seconds: 60, degraded_threshold_ms: 250 });
  });

  it('creates a keyword check with method, header, body and options', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/').reply(200, { count: 0, next: null, previous: null, results: [] });
    mock.onPost('/endpoints/').reply((c) => [201, endpoint(JSON.parse(c.data))]);
    renderApp('/dashboard', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: '+ Add endpoint' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add endpoint' });
    await user.type(within(dialog).getByLabelText('Name'), 'Login page');
    await user.clear(within(dialog).getByLabelText('URL'));
    await user.type(within(dialog).getByLabelText('URL'), 'https://acme.test/login');
    await user.selectOptions(within(dialog).getByLabelText('Method'), 'POST');
    await user.click(within(dialog).getByRole('button', { name: '+ Add header' }));
    await user.type(within(dialog).getByLabelText('Header 1 name'), 'X-Key');
    await user.type(within(dialog).getByLabelText('Header 1 value'), 's3cret');
    await user.type(within(dialog).getByLabelText('Body'), 'ping');
    await user.click(within(dialog).getByLabelText('Follow redirects'));
    await user.clear(within(dialog).getByLabelText('Certificate alerts (days before expiry)'));
    await user.type(within(dialog).getByLabelText('Certificate alerts (days before expiry)'), '30, x');
    await user.click(within(dialog).getByRole('button', { name: '+ Add assertion' }));
    const a = within(dialog).getByRole('group', { name: 'Assertion 1' });
    await user.selectOptions(within(a).getByLabelText('Source'), 'json_body');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    expect(await within(dialog).findByText('Whole days between 1 and 365, separated by commas.')).toBeInTheDocument();
    expect(within(a).getByText('Enter a JSONPath such as $.status.')).toBeInTheDocument();
    expect(within(a).getByText('Enter the value to compare with.')).toBeInTheDocument();
    expect(mock.history.post).toHaveLength(0);
    await user.clear(within(dialog).getByLabelText('Certificate alerts (days before expiry)'));
    await user.type(within(dialog).getByLabelText('Certificate alerts (days before expiry)'), '30, 7');
    await user.type(within(a).getByLabelText('JSONPath'), '$.status');
    await user.type(within(a).getByLabelText('Target'), 'ok');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(mock.history.post[0].data)).toEqual({
      name: 'Login page',
      url: 'https://acme.test/login',
      interval_seconds: 60,
      method: 'POST',
      headers: { 'X-Key': 's3cret' },
      body: 'ping',
      follow_redirects: false,
      tls_expiry_alert_days: [30, 7],
      assertions: [{ source: 'json_body', property: '$.status', comparison: 'contains', target: 'ok' }],
    });
  });

  it('picks the channels to notify (the defaults ticked at first) and a reminder', async () => {
    const user = userEvent.setup();
    mock.onGet('/auth/me/').reply(200, me());
    mock.onGet('/endpoints/').reply(200, { count: 0, next: null, previous: null, results: [] });
    const ch = (id: string, name: string, is_default: boolean) => ({ id, name, kind: 'slack', config: { url: '********' }, is_default, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' });
    mock.onGet('/channels/').reply(200, { count: 2, next: null, previous: null, results: [ch('c1', 'Owner mail', true), ch('c2', 'Ops Slack', false)] });
    mock.onPost('/endpoints/').reply((c) => [201, endpoint(JSON.parse(c.data))]);
    renderApp('/dashboard', { token: 'T' });
    await user.click(await screen.findByRole('button', { name: '+ Add endpoint' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add endpoint' });
    const mail = await within(dialog).findByRole('checkbox', { name: /Owner mail/ });
    expect(mail).toBeChecked();
    expect(within(dialog).getByRole('checkbox', { name: /Ops Slack/ })).not.toBeChecked();
    await user.clear(within(dialog).getByLabelText('URL'));
    await user.type(within(dialog).getByLabelText('URL'), 'https://acme.test/');
    await user.click(mail);
    await user.click(within(dialog).getByRole('checkbox', { name: /Ops Slack/ }));
    await user.clear(within(dialog).getByLabelText('Remind every (minutes)'));
    await user.type(within(dialog).getByLabelText('Remind every (minutes)'), '30');
    await user.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(JSON.parse(mock.history.post[0].data)).toEqual({ url: 'https://acme.test/', interval_seconds: 60, channel_ids: ['c2'], reminder_minutes: 30 });
  });

  it('shows maintenance on the endpoint page', async () => {
    const e = endpoint({ id: 'ep6', name: 'Under work', last_status: 'maintenance' });
    stubReads(e);
    renderApp('/endpoints/ep6', { token: 'T' });
    expect(await screen.findByRole('heading', { name: 'Under work' })).toBeInTheDocument();
    expect(screen.getByText('Maintenance', { selector: '.page-subtitle .badge' })).toBeInTheDocument();
  });

  it('sends a heartbeat to its own page', async () => {
    const e = endpoint({ id: 'hb1', name: 'Nightly', kind: 'heartbeat', url: null });
    stubReads(e);
    mock.onGet('/endpoints/hb1/pings/').reply(200, { count: 0, next: null, previous: null, results: [] });
    const { router } = renderApp('/endpoints/hb1', { token: 'T' });
    await waitFor(() => expect(router.state.location.pathname).toBe('/heartbeats/hb1'));
    // the heartbeat page has rendered: no route transition outlives the test
    expect(await screen.findByTestId('ping-url')).toBeInTheDocument();
  });
});
