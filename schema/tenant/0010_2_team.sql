-- Teams and automation (issue 21): invitations, API tokens and the audit log, all written by
-- sw-auth. Runs with search_path set to the tenant's schema. Only hashes of tokens are stored:
-- the token itself exists in the invitation mail, or in the one reply that created it.

-- An invitation to join the organization with a role (never owner), single use, 7 days.
CREATE TABLE invitations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    role          text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_hash    bytea NOT NULL UNIQUE,
    invited_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    accepted_at   timestamptz,
    withdrawn_at  timestamptz
);
CREATE INDEX invitations_pending_idx ON invitations (created_at DESC)
    WHERE accepted_at IS NULL AND withdrawn_at IS NULL;

-- API tokens ("swt_..."): requests made with one act as its creator with the token's role.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    prefix        text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    created_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_created_idx ON api_tokens (created_at DESC, id);

-- Who did what, newest first. Rows are only ever added: no role may change or delete them.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user    uuid,
    actor_token   uuid,
    actor_label   text,
    action        text NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    target_type   text,
    target_id     text,
    target_label  text,
    client_ip     text,
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);

GRANT SELECT, INSERT, UPDATE ON invitations, api_tokens TO sw_auth;
-- A removed member's row goes (their email may then join another organization).
GRANT DELETE ON users TO sw_auth;
GRANT SELECT, INSERT ON audit_log TO sw_auth;
