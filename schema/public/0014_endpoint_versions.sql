-- A version per tenant schema of its endpoints table, so that sw-endpoints can keep a tenant's
-- endpoints in memory (actors/endpoints/cache.c) and still answer exactly what is committed: every
-- read compares the version it cached with this row (one index probe inside the read's own
-- statement) and reloads when they differ.
--
-- The version moves with every statement that writes a tenant's endpoints, whoever runs it
-- (sw-endpoints, an operator's SQL, a test, the bench's seeding): a statement-level trigger
-- (schema/tenant/0012_endpoint_versions.sql) calls the function below in the writer's own
-- transaction, so the new rows and the new version commit together. The function is SECURITY
-- DEFINER (owned by the migrations' owner, with a fixed search_path) so that no actor role needs
-- write rights here; sw-endpoints only reads the table. Keyed by schema name, which is what the
-- trigger knows (TG_TABLE_SCHEMA).
CREATE TABLE public.endpoint_versions (
    schema_name text PRIMARY KEY,
    version     bigint NOT NULL
);

CREATE FUNCTION public.sw_endpoints_bump_version() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO public.endpoint_versions AS v (schema_name, version) VALUES (TG_TABLE_SCHEMA, 1)
        ON CONFLICT (schema_name) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.sw_endpoints_bump_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.sw_endpoints_bump_version() TO sw_tenant_owner;

GRANT SELECT ON public.endpoint_versions TO sw_endpoints;
