-- Heartbeat monitors (README "Heartbeat monitors"): endpoints that are pinged by the job they
-- watch instead of being probed. One writer per table:
--   heartbeats       sw-endpoints. What a heartbeat expects (period, or cron + time zone, and
--                    grace), one row per heartbeat that is not paused: the heartbeat's
--                    counterpart of public.schedule, which the scheduler alone claims and
--                    which heartbeats have no row in. updated_at tells the recorder that the
--                    expectation changed.
--   heartbeat_state  sw-recorder. The last success and start, the next expected ping and the
--                    deadline (expected + grace) while the heartbeat is up. The recorder's
--                    deadline ticker claims the rows whose deadline has passed (indexed) and
--                    marks them down; its status is endpoint_state's, as for every endpoint.
--   heartbeat_pings  sw-recorder. Every ping the edge accepted, as it came.

CREATE TABLE public.heartbeats (
    endpoint_id     uuid PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    name            text NOT NULL,
    period_seconds  integer CHECK (period_seconds BETWEEN 60 AND 2678400),
    cron            text CHECK (length(cron) BETWEEN 9 AND 127),
    tz              text NOT NULL DEFAULT 'UTC' CHECK (length(tz) BETWEEN 1 AND 63),
    grace_seconds   integer NOT NULL DEFAULT 300 CHECK (grace_seconds BETWEEN 0 AND 86400),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT heartbeats_period_or_cron CHECK ((period_seconds IS NULL) <> (cron IS NULL))
);
CREATE INDEX heartbeats_tenant_idx ON public.heartbeats (tenant_id);
CREATE INDEX heartbeats_updated_idx ON public.heartbeats (updated_at);

CREATE TABLE public.heartbeat_state (
    endpoint_id       uuid PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    last_ping_at      timestamptz,
    last_success_at   timestamptz,
    last_start_at     timestamptz,
    next_expected_at  timestamptz,
    deadline_at       timestamptz,
    -- When the deadline was computed: a heartbeats row updated later is computed again.
    computed_at       timestamptz NOT NULL
);
CREATE INDEX heartbeat_state_deadline_idx ON public.heartbeat_state (deadline_at)
    WHERE deadline_at IS NOT NULL;
CREATE INDEX heartbeat_state_tenant_idx ON public.heartbeat_state (tenant_id);

CREATE TABLE public.heartbeat_pings (
    ping_id      text PRIMARY KEY,
    tenant_id    text NOT NULL,
    endpoint_id  uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('success', 'start', 'fail')),
    exit_status  smallint CHECK (exit_status BETWEEN 0 AND 255),
    received_at  timestamptz NOT NULL,
    method       text NOT NULL,
    client_ip    text NOT NULL,
    user_agent   text NOT NULL,
    body         text NOT NULL CHECK (octet_length(body) <= 10240),
    duration_ms  bigint
);
CREATE INDEX heartbeat_pings_endpoint_idx
    ON public.heartbeat_pings (tenant_id, endpoint_id, received_at DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.heartbeats TO sw_endpoints;
GRANT SELECT ON public.heartbeat_state, public.heartbeat_pings TO sw_endpoints;
GRANT SELECT ON public.heartbeats TO sw_recorder;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.heartbeat_state, public.heartbeat_pings
    TO sw_recorder;
