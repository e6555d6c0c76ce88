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
