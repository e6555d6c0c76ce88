-- One PostgreSQL role per actor, granted what that actor's code reads and writes today and
-- nothing more (ops/README.md "Database roles" has the table; tests/integration/test_secrets.c
-- checks every grant). The roles are made here without LOGIN; whoever runs the instance gives
-- each LOGIN and a password of its own (ops/sw does, from secrets.env). Roles belong to the
-- cluster, so one that exists already is kept. The migrations themselves keep running as the
-- owner (sw-migrate's DATABASE_URL). Tenant schemas: schema/tenant/0004_grants.sql.
--
-- sw_tenant_owner owns what a sign-up creates (the tenant's schema and tables): sw-auth
-- switches to it (SET LOCAL ROLE) only inside the creation transaction. Every actor role is
-- NOINHERIT, so sw-auth's membership gives it none of the owner's rights on its own.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['sw_auth', 'sw_tenancy', 'sw_endpoints', 'sw_billing', 'sw_scheduler',
                             'sw_recorder', 'sw_deadletter', 'sw_tenant_owner'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;
    EXECUTE format('GRANT CREATE ON DATABASE %I TO sw_tenant_owner', current_database());
END $$;

GRANT sw_tenant_owner TO sw_auth;
GRANT SELECT, INSERT ON public.schema_migrations TO sw_tenant_owner;

-- sw-auth: sign-up (tenant, domain, directory row), login, refresh tokens, throttles.
GRANT SELECT, INSERT ON public.tenants, public.domains, public.user_directory TO sw_auth;
GRANT SELECT, INSERT, UPDATE ON public.refresh_tokens TO sw_auth;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.rate_limits TO sw_auth;

-- sw-tenancy: lookups for operators, the edge's database and migration checks, tenant gauges.
GRANT SELECT ON public.tenants, public.domains, public.user_directory, public.schema_migrations
    TO sw_tenancy;

-- sw-endpoints: its endpoints' schedule rows and state, their history. UPDATE on tenants only
-- because it locks the tenant row (SELECT ... FOR UPDATE) while checking the plan's limit.
GRANT SELECT, UPDATE ON public.tenants TO sw_endpoints;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.schedule TO sw_endpoints;
GRANT SELECT, DELETE ON public.endpoint_state TO sw_endpoints;
GRANT SELECT ON public.check_results, public.check_rollups_hourly TO sw_endpoints;

-- sw-billing: the plan and Stripe ids, webhook idempotency (ON CONFLICT (id) needs SELECT);
-- and, on a downgrade, the schedule and state of the endpoints it pauses (to move to
-- sw-endpoints with plan.changed).
GRANT SELECT, UPDATE ON public.tenants TO sw_billing;
GRANT SELECT, INSERT ON public.stripe_events TO sw_billing;
GRANT SELECT, DELETE ON public.schedule TO sw_billing;
GRANT SELECT, UPDATE ON public.endpoint_state TO sw_billing;

-- sw-scheduler: claims and advances due rows; endpoint gauges join the tenants' plans.
GRANT SELECT, UPDATE ON public.schedule TO sw_scheduler;
GRANT SELECT ON public.tenants TO sw_scheduler;

-- sw-recorder: results, roll-ups and state; partitions through the two functions below.
GRANT SELECT, INSERT ON public.check_results TO sw_recorder;
GRANT SELECT, INSERT, UPDATE ON public.check_rollups_hourly, public.endpoint_region_state,
    public.endpoint_state TO sw_recorder;
GRANT SELECT ON public.schedule, public.tenants TO sw_recorder;

-- sw-deadletter: stores exhausted jobs.
GRANT SELECT, INSERT ON public.dead_letters TO sw_deadletter;

-- Partitions are DDL on tables the owner owns: the recorder calls these, which run as their
-- owner with a fixed search_path, and nobody else may.
ALTER FUNCTION public.ensure_check_partitions(integer, integer)
    SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION public.drop_expired_check_partitions(integer, integer)
    SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION public.ensure_check_partitions(integer, integer),
    public.drop_expired_check_partitions(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.ensure_check_partitions(integer, integer),
    public.drop_expired_check_partitions(integer, integer) TO sw_recorder;
