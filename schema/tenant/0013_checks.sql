-- What a check does beyond a GET judged by its status (issue 17). Runs with search_path set to
-- the tenant's schema. kind: http or tcp (a heartbeat is told by its ping_key, 0007_1).
-- Request header values are stored sealed (actors/common/seal.h: one secretbox of the JSON
-- object name -> value, under SW_SEAL_KEY); header_names is what the API shows, each with the
-- value "********". What the probers and the recorder need is copied into public.schedule
-- (schema/public/0016_checks.sql) by sw-endpoints.
ALTER TABLE endpoints
    ADD COLUMN kind text NOT NULL DEFAULT 'http' CHECK (kind IN ('http', 'tcp')),
    ADD COLUMN method text NOT NULL DEFAULT 'GET'
        CHECK (method IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')),
    ADD COLUMN header_names text[] NOT NULL DEFAULT '{}' CHECK (cardinality(header_names) <= 20),
    ADD COLUMN headers_sealed text CHECK (length(headers_sealed) <= 65536),
    ADD COLUMN body text CHECK (octet_length(body) <= 16384),
    ADD COLUMN follow_redirects boolean NOT NULL DEFAULT true,
    ADD COLUMN tls_verify boolean NOT NULL DEFAULT true,
    ADD COLUMN assertions jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(assertions) = 'array' AND jsonb_array_length(assertions) <= 10),
    ADD COLUMN degraded_threshold_ms integer CHECK (degraded_threshold_ms BETWEEN 1 AND 60000),
    ADD COLUMN tls_expiry_alert_days integer[] NOT NULL DEFAULT '{14,7,1}'
        CHECK (cardinality(tls_expiry_alert_days) <= 10);

-- An incident is an outage (down) or a degradation (degraded: passing, but slower than the
-- endpoint's degraded_threshold_ms).
ALTER TABLE incidents
    ADD COLUMN kind text NOT NULL DEFAULT 'down' CHECK (kind IN ('down', 'degraded'));
CREATE INDEX incidents_endpoint_idx ON incidents (endpoint_id, opened_at DESC);
