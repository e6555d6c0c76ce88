-- sw-notify gets a database (issue 19): notification channels, the delivery log and the
-- incident timeline live in the tenant schemas (schema/tenant/0014_channels.sql); this makes its
-- role (NOLOGIN NOINHERIT like the others, schema/public/0006_actor_roles.sql) and grants what it
-- reads of public: the tenants (store_tenant_schema resolves a tenant's schema from there).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sw_notify') THEN
        CREATE ROLE sw_notify NOLOGIN NOINHERIT;
    END IF;
END $$;

GRANT SELECT ON public.tenants TO sw_notify;

-- Outage notifications waiting to be sent (issue 19's roll-up): an endpoint.down is held here
-- until its tenant has been quiet for SW_NOTIFY_ROLLUP_HOLD_S (at most 60 s after the first);
-- then 5 or more of one tenant go out as one roll-up per channel, fewer one by one.
CREATE TABLE public.notify_pending (
    incident_id  uuid PRIMARY KEY,
    tenant_id    text NOT NULL,
    endpoint_id  uuid NOT NULL,
    data         jsonb NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_pending_tenant_idx ON public.notify_pending (tenant_id, at);

-- Reminders of open, unacknowledged incidents whose endpoint has reminder_minutes > 0: the
-- ticker sends one when due_at passes and moves it on; resolving or acknowledging deletes it.
CREATE TABLE public.notify_reminders (
    incident_id    uuid PRIMARY KEY,
    tenant_id      text NOT NULL,
    endpoint_id    uuid NOT NULL,
    data           jsonb NOT NULL,
    every_minutes  integer NOT NULL CHECK (every_minutes > 0),
    sent           integer NOT NULL DEFAULT 0,
    due_at         timestamptz NOT NULL
);
CREATE INDEX notify_reminders_due_idx ON public.notify_reminders (due_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.notify_pending, public.notify_reminders TO sw_notify;
