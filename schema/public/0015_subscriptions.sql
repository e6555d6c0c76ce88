-- One owner per table (README "Who owns what"): the plan and the Stripe ids are sw-billing's,
-- so they leave public.tenants (sw-auth's: it creates a tenant at sign-up) for a table that
-- only sw-billing writes. A tenant without a row is on the Free plan: sign-up writes nothing
-- here, and readers take coalesce(sub.plan, 'free').

CREATE TABLE public.subscriptions (
    tenant_id               text PRIMARY KEY REFERENCES public.tenants (id) ON DELETE CASCADE,
    plan                    text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro')),
    stripe_customer_id      text,
    stripe_subscription_id  text,
    -- Stripe's "created" of the last applied change: an older event arriving late is ignored.
    plan_changed_at         timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_stripe_customer_idx ON public.subscriptions (stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX subscriptions_stripe_subscription_idx
    ON public.subscriptions (stripe_subscription_id) WHERE stripe_subscription_id IS NOT NULL;
-- The gauges count tenants by plan.
CREATE INDEX subscriptions_plan_idx ON public.subscriptions (plan);

INSERT INTO public.subscriptions (tenant_id, plan, stripe_customer_id, stripe_subscription_id,
                                  plan_changed_at)
SELECT id, plan, stripe_customer_id, stripe_subscription_id, plan_changed_at
FROM public.tenants
WHERE plan <> 'free' OR stripe_customer_id IS NOT NULL OR stripe_subscription_id IS NOT NULL
   OR plan_changed_at IS NOT NULL;

ALTER TABLE public.tenants
    DROP COLUMN plan, DROP COLUMN stripe_customer_id, DROP COLUMN stripe_subscription_id,
    DROP COLUMN plan_changed_at;

-- Writers: sw-billing only. sw-endpoints serializes its limit check with a transaction-level
-- advisory lock per tenant instead of locking the tenant row, so it no longer needs UPDATE.
REVOKE UPDATE ON public.tenants FROM sw_billing, sw_endpoints;
GRANT SELECT, INSERT, UPDATE ON public.subscriptions TO sw_billing;
GRANT SELECT ON public.subscriptions
    TO sw_auth, sw_tenancy, sw_endpoints, sw_scheduler, sw_recorder;
