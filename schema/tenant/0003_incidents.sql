-- Outages of a tenant's endpoints: one row per outage, opened when the recorder marks an
-- endpoint down and closed when it is up again.
CREATE TABLE incidents (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id  uuid NOT NULL,
    opened_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    cause        text
);
-- At most one open incident per endpoint.
CREATE UNIQUE INDEX incidents_open_idx ON incidents (endpoint_id) WHERE closed_at IS NULL;
