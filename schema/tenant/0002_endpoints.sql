-- The URLs a tenant watches. Runs with search_path set to the tenant's schema. What the
-- probers and the recorder need lives in public (schedule, endpoint_state, 0003_schedule);
-- this table is what the tenant owns and edits.

CREATE TABLE endpoints (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    url                 text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    interval_seconds    integer NOT NULL DEFAULT 60 CHECK (interval_seconds BETWEEN 30 AND 86400),
    timeout_seconds     integer NOT NULL DEFAULT 10 CHECK (timeout_seconds BETWEEN 1 AND 60),
    -- "2xx-3xx" style class range (a JSON string) or a JSON array of exact codes.
    expected_status     jsonb NOT NULL DEFAULT '"2xx-3xx"'
                        CHECK (jsonb_typeof(expected_status) IN ('string', 'array')),
    -- The actor always writes this (its default is the SW_REGION setting, unknown to SQL).
    regions             text[] NOT NULL CHECK (cardinality(regions) BETWEEN 1 AND 16),
    failure_threshold   integer NOT NULL DEFAULT 3 CHECK (failure_threshold BETWEEN 1 AND 10),
    recovery_threshold  integer NOT NULL DEFAULT 2 CHECK (recovery_threshold BETWEEN 1 AND 10),
    paused              boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT endpoints_url_key UNIQUE (url),
    CONSTRAINT endpoints_timeout_below_interval CHECK (timeout_seconds < interval_seconds)
);
-- The list's stable order.
CREATE INDEX endpoints_created_idx ON endpoints (created_at, id);
