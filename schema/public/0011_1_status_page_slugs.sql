-- Public status pages (issue 20): the slug of a page is unique across the service and is all
-- an anonymous visitor gives, so slug -> (tenant, page) lives here. Written by sw-endpoints in
-- the same transaction as the tenant's status_pages row (schema/tenant/0009_1_status_pages.sql).
CREATE TABLE public.status_page_slugs (
    slug       text PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{3,63}$'),
    tenant_id  text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    page_id    uuid NOT NULL UNIQUE
);
CREATE INDEX status_page_slugs_tenant_idx ON public.status_page_slugs (tenant_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.status_page_slugs TO sw_endpoints;

-- Uptime as status pages read it, through these two functions only, so the telemetry storage
-- beneath (today public.check_rollups_hourly) can change without touching the pages: the
-- daily checks and failures of the last p_days days (UTC days, today included), and the
-- totals since p_since (with the latency sum of the successful checks, for an average).
CREATE FUNCTION public.status_uptime_daily(p_tenant text, p_endpoints uuid[], p_days integer)
RETURNS TABLE (endpoint_id uuid, day date, checks bigint, failures bigint)
LANGUAGE sql STABLE AS $$
    SELECT h.endpoint_id, (h.hour AT TIME ZONE 'UTC')::date, sum(h.checks)::bigint,
           sum(h.failures)::bigint
      FROM public.check_rollups_hourly h
     WHERE h.tenant_id = p_tenant AND h.endpoint_id = ANY (p_endpoints)
       AND h.hour >= (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
                     - make_interval(days => p_days - 1)
     GROUP BY 1, 2
$$;

CREATE FUNCTION public.status_uptime_since(p_tenant text, p_endpoints uuid[], p_since timestamptz)
RETURNS TABLE (endpoint_id uuid, checks bigint, failures bigint, latency_sum double precision)
LANGUAGE sql STABLE AS $$
    SELECT h.endpoint_id, sum(h.checks)::bigint, sum(h.failures)::bigint, sum(h.latency_sum)
      FROM public.check_rollups_hourly h
     WHERE h.tenant_id = p_tenant AND h.endpoint_id = ANY (p_endpoints)
       AND h.hour >= date_trunc('hour', p_since)
     GROUP BY 1
$$;

REVOKE EXECUTE ON FUNCTION public.status_uptime_daily(text, uuid[], integer),
    public.status_uptime_since(text, uuid[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.status_uptime_daily(text, uuid[], integer),
    public.status_uptime_since(text, uuid[], timestamptz) TO sw_endpoints;
