-- Probing (DESIGN §4, §6). The schedule row carries everything a probe job needs, so the
-- scheduler never reads a tenant schema. Results are append-only telemetry for all tenants:
-- one shared table, range-partitioned by day on the job's due time and, inside each day, by
-- retention class, so retention drops whole partitions (Free: 7 days, Pro: 90 days) instead of
-- deleting rows.

ALTER TABLE public.schedule
    ADD COLUMN url                text,
    ADD COLUMN timeout_seconds    integer NOT NULL DEFAULT 10,
    ADD COLUMN expected_status    jsonb NOT NULL DEFAULT '"2xx-3xx"',
    ADD COLUMN failure_threshold  integer NOT NULL DEFAULT 3,
    ADD COLUMN recovery_threshold integer NOT NULL DEFAULT 2;

CREATE TABLE public.check_results (
    due_at        timestamptz NOT NULL,
    retention     text NOT NULL CHECK (retention IN ('free', 'pro')),
    job_id        text NOT NULL,
    attempt       smallint NOT NULL,
    tenant_id     text NOT NULL,
    endpoint_id   uuid NOT NULL,
    region        text NOT NULL,
    checked_at    timestamptz NOT NULL,
    ok            boolean NOT NULL,
    http_status   smallint,
    error         text,
    dns_ms        real,
    connect_ms    real,
    tls_ms        real,
    ttfb_ms       real,
    total_ms      real,
    -- Unique per job and attempt (a job id names its due time, so due_at adds nothing).
    PRIMARY KEY (job_id, attempt, due_at, retention)
) PARTITION BY RANGE (due_at);
CREATE INDEX check_results_endpoint_idx ON public.check_results (tenant_id, endpoint_id, checked_at DESC);

-- Creates the day partitions (each split by retention class) from `back` days ago to `ahead`
-- days ahead. Idempotent; the recorder calls it at start and daily.
CREATE FUNCTION public.ensure_check_partitions(back integer, ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d date;
    made integer := 0;
    day_name text;
BEGIN
    FOR d IN SELECT generate_series(current_date - back, current_date + ahead, interval '1 day')::date LOOP
        day_name := 'check_results_' || to_char(d, 'YYYYMMDD');
        IF to_regclass('public.' || day_name) IS NULL THEN
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.check_results
                            FOR VALUES FROM (%L) TO (%L) PARTITION BY LIST (retention)',
                           day_name, d, d + 1);
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES IN (''free'')',
                           day_name || '_free', day_name);
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES IN (''pro'')',
                           day_name || '_pro', day_name);
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END $$;

-- Drops what is past retention: Free sub-partitions older than free_days, whole days older
-- than pro_days. Returns the number of tables dropped.
CREATE FUNCTION public.drop_expired_check_partitions(free_days integer, pro_days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    r record;
    dropped integer := 0;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname = 'check_results' AND c.relname ~ '^check_results_[0-9]{8}$' LOOP
        IF to_date(substr(r.relname, 15, 8), 'YYYYMMDD') < current_date - pro_days THEN
            EXECUTE format('DROP TABLE public.%I', r.relname);
            dropped := dropped + 1;
        ELSIF to_date(substr(r.relname, 15, 8), 'YYYYMMDD') < current_date - free_days
              AND to_regclass('public.' || r.relname || '_free') IS NOT NULL THEN
            EXECUTE format('DROP TABLE public.%I', r.relname || '_free');
            dropped := dropped + 1;
        END IF;
    END LOOP;
    DELETE FROM public.check_results_default
        WHERE due_at < current_date - CASE retention WHEN 'free' THEN free_days ELSE pro_days END;
    RETURN dropped;
END $$;

SELECT public.ensure_check_partitions(1, 3);

-- Rows whose day has no partition (a result replayed long after its job was due, a clock far
-- off) land here rather than failing their whole batch; retention deletes them by row.
CREATE TABLE public.check_results_default PARTITION OF public.check_results DEFAULT;

-- Hourly roll-ups: checks, failures, latency sum and a fixed histogram (bucket upper bounds in
-- ms: 1 2 5 10 20 50 100 200 500 1000 2000 5000 10000 inf), mergeable across hours for
-- uptime % and p50/p95 over 24 h, 7 d and 30 d.
CREATE TABLE public.check_rollups_hourly (
    tenant_id    text NOT NULL,
    endpoint_id  uuid NOT NULL,
    hour         timestamptz NOT NULL,
    checks       integer NOT NULL,
    failures     integer NOT NULL,
    latency_sum  double precision NOT NULL,
    buckets      integer[] NOT NULL,
    PRIMARY KEY (endpoint_id, hour)
);
CREATE INDEX check_rollups_tenant_idx ON public.check_rollups_hourly (tenant_id, endpoint_id, hour);

-- Per-region streaks behind the quorum decision.
CREATE TABLE public.endpoint_region_state (
    endpoint_id  uuid NOT NULL,
    region       text NOT NULL,
    tenant_id    text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'up', 'down')),
    fail_streak  integer NOT NULL DEFAULT 0,
    ok_streak    integer NOT NULL DEFAULT 0,
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (endpoint_id, region)
);

ALTER TABLE public.endpoint_state
    ADD COLUMN changed_at timestamptz,
    ADD COLUMN last_error text;

-- Jobs that exhausted their deliveries, as the dead-letter actor found them.
CREATE TABLE public.dead_letters (
    stream       text NOT NULL,
    stream_seq   bigint NOT NULL,
    subject      text NOT NULL,
    tenant_id    text,
    endpoint_id  uuid,
    job          jsonb,
    reason       text NOT NULL,
    deliveries   integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    replayed_at  timestamptz,
    PRIMARY KEY (stream, stream_seq)
);
