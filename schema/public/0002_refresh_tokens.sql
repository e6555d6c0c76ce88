-- Refresh tokens: opaque 256-bit values stored as SHA-256, rotated on every use. Tokens from
-- one login share a family; presenting a token that was already used revokes the family.
CREATE TABLE public.refresh_tokens (
    token_hash   bytea PRIMARY KEY,
    family_id    uuid NOT NULL,
    parent_hash  bytea,
    tenant_id    text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON public.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON public.refresh_tokens (tenant_id, user_id);
CREATE INDEX refresh_tokens_expiry_idx ON public.refresh_tokens (expires_at);
