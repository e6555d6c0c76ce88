/* sw-billing: the plans, Stripe Checkout for the Pro upgrade, and Stripe's signed webhooks. */
#include "actors/billing/billing.h"

static const bus_route routes[] = {
    {"sw.v1.billing.plans", billing_plans, false},
    {"sw.v1.billing.create_checkout_session", billing_checkout, false},
    {"sw.v1.billing.webhook", billing_webhook, true},
};

static const bus_actor_def actor = {
    .name = "sw-billing",
    .description = "StatusWatch billing: plans, Stripe Checkout, Stripe webhooks",
    .routes = routes,
    .nroutes = ARRAY_LEN(routes),
    .app_init = billing_app_init,
    .app_free = billing_app_free,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
