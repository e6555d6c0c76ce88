export type Tenant = { id: string; name: string; slug: string; plan: string; domain: string | null };

export type Me = {
  id: string;
  email: string;
  role: string;
  is_verified: boolean;
  date_joined: string;
  tenant: Tenant;
  plan: string;
  endpoint_limit: number | null;
};

export type EndpointStatus = 'pending' | 'up' | 'down' | 'paused';

export type Endpoint = {
  id: string;
  name: string;
  url: string;
  interval_seconds: number;
  timeout_seconds: number;
  expected_status: number | string;
  regions: string[];
  failure_threshold: number;
  recovery_threshold: number;
  paused: boolean;
  created_at: string;
  updated_at: string;
  last_status: EndpointStatus;
  last_checked_at: string | null;
  last_latency_ms: number | null;
  last_http_status: number | null;
};

export type Paginated<T> = { count: number; next: string | null; previous: string | null; results: T[] };

export type Check = {
  checked_at: string;
  latency_ms: number | null;
  http_status: number | null;
  ok: boolean;
  error: string | null;
  region: string;
};

export type Plan = {
  id: string;
  name: string;
  price?: string | number | null;
  endpoint_limit: number | null;
  features: string[];
};
