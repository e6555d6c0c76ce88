// Issue 19 (alerting) as the dashboard shows it: channel kinds and their config fields,
// notification and incident labels, the queries the pages share.
import { queryOptions } from '@tanstack/react-query';
import { apiRequest } from './contract';
import type { ChannelKind, DeliveryStatus, NotificationKind } from './types';

export const MASK = '********';

type ConfigField = { key: string; label: string; secret?: boolean; optional?: boolean; placeholder?: string; list?: boolean };
export const CHANNEL_KINDS: Record<ChannelKind, { label: string; fields: ConfigField[] }> = {
  email: { label: 'Email', fields: [{ key: 'addresses', label: 'Addresses', list: true, placeholder: 'ops@example.com, oncall@example.com' }] },
  webhook: {
    label: 'Webhook',
    fields: [
      { key: 'url', label: 'URL', placeholder: 'https://example.com/hooks/statuswatch' },
      { key: 'secret', label: 'Signing secret', secret: true, optional: true, placeholder: 'generated when left empty (whsec_...)' },
    ],
  },
  slack: { label: 'Slack', fields: [{ key: 'url', label: 'Incoming webhook URL', secret: true, placeholder: 'https://hooks.slack.com/services/...' }] },
  discord: { label: 'Discord', fields: [{ key: 'url', label: 'Webhook URL', secret: true, placeholder: 'https://discord.com/api/webhooks/...' }] },
  teams: { label: 'Microsoft Teams', fields: [{ key: 'url', label: 'Workflow webhook URL', secret: true }] },
  pagerduty: { label: 'PagerDuty', fields: [{ key: 'routing_key', label: 'Routing key', secret: true, placeholder: 'Events API v2 integration key' }] },
  ntfy: {
    label: 'ntfy',
    fields: [
      { key: 'url', label: 'Topic URL', placeholder: 'https://ntfy.sh/mytopic' },
      { key: 'token', label: 'Access token', secret: true, optional: true },
    ],
  },
  telegram: {
    label: 'Telegram',
    fields: [
      { key: 'bot_token', label: 'Bot token', secret: true, placeholder: '123456:ABC...' },
      { key: 'chat_id', label: 'Chat id', placeholder: '-100... or @channel' },
    ],
  },
};
export const KIND_ORDER = Object.keys(CHANNEL_KINDS) as ChannelKind[];

export const NOTIFICATION_LABEL: Record<NotificationKind, string> = {
  'incident.opened': 'Incident opened',
  'incident.resolved': 'Incident resolved',
  'tls.expiring': 'Certificate expiring',
  reminder: 'Reminder',
  test: 'Test',
  rollup: 'Roll-up',
};
export const DELIVERY_TONE: Record<DeliveryStatus, 'neutral' | 'success' | 'danger'> = { pending: 'neutral', delivered: 'success', failed: 'danger' };
export const DELIVERY_LABEL: Record<DeliveryStatus, string> = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed' };

/** A short, secret-free line for a channel's config (secrets are masked by the API anyway). */
export function configSummary(kind: ChannelKind, config: Record<string, unknown>): string {
  if (kind === 'email') return ((config.addresses as string[] | undefined) ?? []).join(', ');
  if (kind === 'webhook' || kind === 'ntfy') return String(config.url ?? '');
  if (kind === 'telegram') return `chat ${String(config.chat_id ?? '')}`;
  return 'configured';
}

export function duration(s: number | null | undefined) {
  if (s == null) return '—';
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} days`;
}

export const channelsQuery = () =>
  queryOptions({
    queryKey: ['channels'],
    queryFn: () => apiRequest('get', '/api/channels/', { query: { page_size: 100 } }),
  });

/** Every endpoint, for pickers (maintenance windows): the list's largest page. */
export const allEndpointsQuery = () =>
  queryOptions({
    queryKey: ['endpoints', 'all'],
    queryFn: () => apiRequest('get', '/api/endpoints/', { query: { page_size: 100 } }),
    staleTime: 30_000,
  });
