-- Heartbeat monitors (schema/public/0009_1_heartbeats.sql): the secret of a heartbeat's ping
-- URL (a fresh uuid, not the id; rotated on request) and what it expects: period_seconds, or
-- cron in time zone tz, plus grace_seconds. NULL for probed endpoints. Runs with search_path
-- set to the tenant's schema.
ALTER TABLE endpoints
    ADD COLUMN ping_key       uuid,
    ADD COLUMN period_seconds integer CHECK (period_seconds BETWEEN 60 AND 2678400),
    ADD COLUMN cron           text CHECK (length(cron) BETWEEN 9 AND 127),
    ADD COLUMN tz             text CHECK (length(tz) BETWEEN 1 AND 63),
    ADD COLUMN grace_seconds  integer CHECK (grace_seconds BETWEEN 0 AND 86400),
    ADD CONSTRAINT endpoints_ping_key_key UNIQUE (ping_key);
-- A heartbeat has no URL (the checks work makes url nullable too; doing it twice is harmless).
ALTER TABLE endpoints ALTER COLUMN url DROP NOT NULL;
