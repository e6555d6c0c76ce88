-- Compact check history (issue 15: at most 100 bytes on disk per check, indexes and roll-ups
-- included). A row per check costs ~550 bytes (the row, its job-id primary key, the endpoint
-- index), so check_results now keeps only the exceptions: failures, retries (attempt > 1) and
-- results that arrive after a later one of their endpoint and region. Every first-attempt
-- success is appended instead to a run: one row per endpoint, region and 10-minute window of
-- due times, holding each check as 28 packed bytes (big-endian):
--   due offset s in the window int2 | checked_at - due ms int4 | http status int2 |
--   total, dns, connect, tls, ttfb µs int4 x 5
-- libcurl measures in µs, so no field a user sees is lost (public.check_history expands them).
-- The recorder appends in one upsert per run and batch; last_due (the newest due offset in
-- the run) makes a redelivered result a no-op. Partitioned like check_results: by day of the
-- window, then by retention class, so retention still drops whole tables.
CREATE TABLE public.check_runs (
    window_start  timestamptz NOT NULL,
    endpoint_id   uuid NOT NULL,
    n             smallint NOT NULL,
    last_due      smallint NOT NULL,
    retention     text NOT NULL CHECK (retention IN ('free', 'pro')),
    region        text NOT NULL,
    tenant_id     text NOT NULL,
    data          bytea NOT NULL,
    PRIMARY KEY (endpoint_id, window_start, region, retention)
) PARTITION BY RANGE (window_start);

CREATE TABLE public.check_runs_default PARTITION OF public.check_runs DEFAULT;

-- The packed entries of one run, decoded (SQL, inlined by the planner).
CREATE FUNCTION public.check_run_i4(d bytea, o integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (get_byte(d, o) << 24) | (get_byte(d, o + 1) << 16) | (get_byte(d, o + 2) << 8)
           | get_byte(d, o + 3)
$$;

CREATE FUNCTION public.check_run_entries(d bytea)
RETURNS TABLE (due_off integer, late_ms integer, http_status integer, total_us integer,
               dns_us integer, connect_us integer, tls_us integer, ttfb_us integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (get_byte(d, o) << 8) | get_byte(d, o + 1), public.check_run_i4(d, o + 2),
           (get_byte(d, o + 6) << 8) | get_byte(d, o + 7), public.check_run_i4(d, o + 8),
           public.check_run_i4(d, o + 12), public.check_run_i4(d, o + 16),
           public.check_run_i4(d, o + 20), public.check_run_i4(d, o + 24)
    FROM generate_series(0, length(d) - 28, 28) AS o
$$;

-- Whether the run d holds the check due at offset off (a redelivered result).
CREATE FUNCTION public.check_run_has(d bytea, off integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM generate_series(0, length(d) - 28, 28) AS o
                   WHERE ((get_byte(d, o) << 8) | get_byte(d, o + 1)) = off)
$$;

-- Every check as one row, with the columns of check_results: the exceptions and the expanded
-- runs. For tests, tools and counts; the API's checks list reads both tables with bounded
-- reads (actors/endpoints/history.c).
CREATE VIEW public.check_history WITH (security_invoker = true) AS
    SELECT due_at, retention, job_id, attempt, tenant_id, endpoint_id, region, checked_at, ok,
           http_status, error, dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms
    FROM public.check_results
    UNION ALL
    SELECT r.window_start + make_interval(secs => e.due_off), r.retention,
           r.endpoint_id::text || ':' || (extract(epoch FROM r.window_start)::bigint + e.due_off)
               || ':' || r.region,
           1::smallint, r.tenant_id, r.endpoint_id, r.region,
           r.window_start + make_interval(secs => e.due_off) + e.late_ms * interval '1 ms', true,
           nullif(e.http_status, 0)::smallint, NULL::text, (e.dns_us / 1000.0)::real,
           (e.connect_us / 1000.0)::real, (e.tls_us / 1000.0)::real, (e.ttfb_us / 1000.0)::real,
           (e.total_us / 1000.0)::real
    FROM public.check_runs r CROSS JOIN LATERAL public.check_run_entries(r.data) e;

-- The day partitions of both history tables (each split by retention class), from `back` days
-- ago to `ahead` days ahead. Idempotent; the recorder calls it at start and hourly.
CREATE OR REPLACE FUNCTION public.ensure_check_partitions(back integer, ahead integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    d date;
    t text;
    made integer := 0;
    day_name text;
BEGIN
    FOREACH t IN ARRAY ARRAY['check_results', 'check_runs'] LOOP
        FOR d IN SELECT generate_series(current_date - back, current_date + ahead, interval '1 day')::date LOOP
            day_name := t || '_' || to_char(d, 'YYYYMMDD');
            IF to_regclass('public.' || day_name) IS NULL THEN
                EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I
                                FOR VALUES FROM (%L) TO (%L) PARTITION BY LIST (retention)',
                               day_name, t, d, d + 1);
                EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES IN (''free'')',
                               day_name || '_free', day_name);
                EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES IN (''pro'')',
                               day_name || '_pro', day_name);
                made := made + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN made;
END $$;

-- Drops what is past retention in both tables: Free sub-partitions older than free_days, whole
-- days older than pro_days; rows in the default partitions by row. Returns the tables dropped.
CREATE OR REPLACE FUNCTION public.drop_expired_check_partitions(free_days integer, pro_days integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r record;
    day date;
    dropped integer := 0;
BEGIN
    FOR r IN SELECT c.relname, p.relname AS parent FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname IN ('check_results', 'check_runs')
               AND c.relname ~ ('^' || p.relname || '_[0-9]{8}$') LOOP
        day := to_date(right(r.relname, 8), 'YYYYMMDD');
        IF day < current_date - pro_days THEN
            EXECUTE format('DROP TABLE public.%I', r.relname);
            dropped := dropped + 1;
        ELSIF day < current_date - free_days
              AND to_regclass('public.' || r.relname || '_free') IS NOT NULL THEN
            EXECUTE format('DROP TABLE public.%I', r.relname || '_free');
            dropped := dropped + 1;
        END IF;
    END LOOP;
    DELETE FROM public.check_results_default
        WHERE due_at < current_date - CASE retention WHEN 'free' THEN free_days ELSE pro_days END;
    DELETE FROM public.check_runs_default
        WHERE window_start < current_date - CASE retention WHEN 'free' THEN free_days ELSE pro_days END;
    RETURN dropped;
END $$;

SELECT public.ensure_check_partitions(1, 3);

-- Roll-ups per region too (per-region response times); uptime sums over the regions as before.
-- Reads filter tenant_id and endpoint_id over an hour range: the primary key serves them, so
-- the second index goes (disk).
ALTER TABLE public.check_rollups_hourly ADD COLUMN region text NOT NULL DEFAULT '';
ALTER TABLE public.check_rollups_hourly DROP CONSTRAINT check_rollups_hourly_pkey;
ALTER TABLE public.check_rollups_hourly ADD PRIMARY KEY (endpoint_id, hour, region);
DROP INDEX public.check_rollups_tenant_idx;

-- Grants (0006_actor_roles.sql style; ops/README.md §3; tests/integration/test_secrets.c).
GRANT SELECT, INSERT, UPDATE ON public.check_runs TO sw_recorder;
GRANT SELECT ON public.check_runs, public.check_history TO sw_endpoints;
