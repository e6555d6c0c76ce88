-- Shared tables the service runs on: tenants and how to find them, the service-wide user
-- directory (an email belongs to one account across the whole service), and throttle
-- counters shared by every instance of every actor.

CREATE TABLE public.tenants (
    id                      text PRIMARY KEY CHECK (id ~ '^t_[a-z0-9]{10,40}$'),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug                    text NOT NULL UNIQUE,
    schema_name             text NOT NULL UNIQUE CHECK (schema_name ~ '^t_[a-z0-9]{10,40}$'),
    -- The database this tenant lives on (DESIGN §11); one database today.
    db_name                 text NOT NULL DEFAULT 'default',
    plan                    text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro')),
    stripe_customer_id      text,
    stripe_subscription_id  text,
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.domains (
    host        text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    is_primary  boolean NOT NULL DEFAULT true
);
CREATE INDEX domains_tenant_idx ON public.domains (tenant_id);

CREATE TABLE public.user_directory (
    email       text PRIMARY KEY CHECK (email = lower(email)),
    tenant_id   text NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_directory_tenant_idx ON public.user_directory (tenant_id);

-- Fixed-window counters: one row per (key, window). Old windows are deleted by the actors
-- that count (cheap, indexed on window_start).
CREATE TABLE public.rate_limits (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window_idx ON public.rate_limits (window_start);
