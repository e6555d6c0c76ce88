-- Billing (DESIGN §7): the Stripe events already applied, so a redelivered webhook changes
-- nothing, and the time of the last applied plan change on each tenant, so an event Stripe
-- delivers late (they arrive unordered) cannot undo a newer state.

CREATE TABLE public.stripe_events (
    id           text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    type         text NOT NULL,
    -- The event's own "created" (Stripe's clock), not when it reached us.
    created      timestamptz NOT NULL,
    tenant_id    text,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_received_idx ON public.stripe_events (received_at);

ALTER TABLE public.tenants ADD COLUMN plan_changed_at timestamptz;
CREATE INDEX tenants_stripe_customer_idx ON public.tenants (stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX tenants_stripe_subscription_idx ON public.tenants (stripe_subscription_id)
    WHERE stripe_subscription_id IS NOT NULL;
