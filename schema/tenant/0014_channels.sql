-- Alerting (issue 19), owned by sw-notify: where an organization is notified (channels), each
-- delivery to a channel (notifications, the delivery log) and what happened to an incident
-- besides its opening and closing (incident_events: notifications sent, acknowledgement).
-- incidents itself stays the recorder's. Runs with search_path set to the tenant's schema.
CREATE TABLE channels (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('email', 'webhook', 'slack', 'discord', 'teams',
                                              'pagerduty', 'ntfy', 'telegram')),
    -- The config's fields that are not secret (addresses, chat_id, the webhook or ntfy url).
    config      jsonb NOT NULL DEFAULT '{}',
    -- The secret fields as a JSON object sealed with libsodium secretbox under SW_NOTIFY_KEY:
    -- base64(nonce || box). NULL for a kind without secrets.
    sealed      text,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row once sw-notify made the organization's first channel (email to the owner): it is
-- made once, so deleting it is respected.
CREATE TABLE channel_seed (
    done boolean PRIMARY KEY DEFAULT true CHECK (done)
);

CREATE TABLE notifications (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_id    uuid REFERENCES channels (id) ON DELETE SET NULL,
    channel_name  text NOT NULL,
    channel_kind  text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('incident.opened', 'incident.resolved',
                                                'tls.expiring', 'reminder', 'test', 'rollup')),
    incident_id   uuid,
    endpoint_id   uuid,
    -- What makes a delivery unique (<event id>:<channel>), so a redelivered event adds nothing.
    dedup         text NOT NULL UNIQUE,
    -- What is sent: {"type", "id", "created_at", "data"} (the webhook body; others render it).
    payload       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX notifications_created_idx ON notifications (created_at DESC, id);
CREATE INDEX notifications_incident_idx ON notifications (incident_id) WHERE incident_id IS NOT NULL;

CREATE TABLE incident_events (
    id           bigserial PRIMARY KEY,
    incident_id  uuid NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    type         text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, at);

CREATE TABLE incident_acks (
    incident_id  uuid PRIMARY KEY,
    user_id      uuid,
    at           timestamptz NOT NULL DEFAULT now()
);

-- An endpoint's alerting fields, sw-endpoints' to write like the rest of the row: the channels
-- told about its incidents (NULL = the organization's default channels; ids of deleted channels
-- are skipped when sending) and how often to remind while it is down and unacknowledged.
ALTER TABLE endpoints
    ADD COLUMN channel_ids uuid[],
    ADD COLUMN reminder_minutes integer NOT NULL DEFAULT 0
        CHECK (reminder_minutes BETWEEN 0 AND 10080);

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO sw_notify', current_schema());
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON channels, notifications TO sw_notify;
GRANT SELECT, INSERT ON channel_seed TO sw_notify;
GRANT SELECT, INSERT ON incident_events, incident_acks TO sw_notify;
GRANT USAGE ON SEQUENCE incident_events_id_seq TO sw_notify;
-- Read only: the owner to seed the first channel, the endpoint named in a message, the incident.
GRANT SELECT ON users, endpoints, incidents TO sw_notify;
-- sw-endpoints checks that an endpoint's channel_ids are the organization's channels.
GRANT SELECT ON channels TO sw_endpoints;
