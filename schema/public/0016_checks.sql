-- Checks beyond a status code (issue 17), on the shared tables.
-- schedule.probe: what the prober does besides a GET of url judged by expected_status (kind,
-- method, the sealed headers, body, follow_redirects, tls_verify, assertions); NULL for a
-- plain GET, so the common job stays as small as it was. The scheduler copies it into each
-- job. degraded_threshold_ms and tls_expiry_alert_days are the recorder's.
ALTER TABLE public.schedule
    ADD COLUMN probe jsonb,
    ADD COLUMN degraded_threshold_ms integer,
    ADD COLUMN tls_expiry_alert_days integer[] NOT NULL DEFAULT '{14,7,1}',
    -- When sw-endpoints last wrote the row (a create or an edit): a result of a job due before
    -- then was checked with the old settings (a retry of it, one in flight) and is dropped by
    -- the recorder, so an edit is judged by checks of the new settings only.
    ADD COLUMN changed_at timestamptz;

-- degraded: a fourth status (passing, but slower than degraded_threshold_ms), with the same
-- thresholds as down. The certificate the last HTTPS check saw, and the alert thresholds
-- (days) already announced for it: a new certificate (another tls_expires_at) starts afresh.
ALTER TABLE public.endpoint_state DROP CONSTRAINT endpoint_state_status_check;
ALTER TABLE public.endpoint_state
    ADD CONSTRAINT endpoint_state_status_check
        CHECK (status IN ('pending', 'up', 'degraded', 'down', 'paused')),
    ADD COLUMN tls_expires_at timestamptz,
    ADD COLUMN tls_issuer text,
    ADD COLUMN tls_subject text,
    ADD COLUMN tls_alerted integer[] NOT NULL DEFAULT '{}';
ALTER TABLE public.endpoint_region_state DROP CONSTRAINT endpoint_region_state_status_check;
ALTER TABLE public.endpoint_region_state
    ADD CONSTRAINT endpoint_region_state_status_check
        CHECK (status IN ('pending', 'up', 'degraded', 'down'));
-- Consecutive slow passes of a region (counted toward degraded as failures toward down).
ALTER TABLE public.endpoint_region_state ADD COLUMN slow_streak integer NOT NULL DEFAULT 0;
