-- What the service runs on for each endpoint, shared across tenants and keyed by tenant.
-- schedule: the scheduler's only table, one row per endpoint that is to be probed (a paused
-- endpoint has none), claimed by next_due_at. endpoint_state: current status per endpoint,
-- written by the recorder; an endpoint with no row yet is "pending".

CREATE TABLE public.schedule (
    endpoint_id       uuid PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    interval_seconds  integer NOT NULL CHECK (interval_seconds BETWEEN 30 AND 86400),
    regions           text[] NOT NULL CHECK (cardinality(regions) >= 1),
    next_due_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_due_idx ON public.schedule (next_due_at);
CREATE INDEX schedule_tenant_idx ON public.schedule (tenant_id);

CREATE TABLE public.endpoint_state (
    endpoint_id       uuid PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'up', 'down', 'paused')),
    last_checked_at   timestamptz,
    last_latency_ms   integer,
    last_http_status  integer
);
CREATE INDEX endpoint_state_tenant_idx ON public.endpoint_state (tenant_id);
