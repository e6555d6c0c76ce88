/* GET /api/billing/plans/: what each plan gives (public, so no "current" here: the caller's
 * plan is in GET /api/auth/me/). */
#include "actors/billing/billing.h"

sw_status billing_plans(const bus_req *req, bus_reply *rep)
{
    (void)req;
    json_t *plans = json_pack(
        "[{s:s,s:s,s:i,s:i,s:b,s:[s,s,s,s]},"
        " {s:s,s:s,s:n,s:i,s:b,s:[s,s,s,s,s]}]",
        /* Free */
        "id", "free", "name", "Free", "endpoint_limit",
        BILLING_FREE_ENDPOINTS, "history_days", 7, "multi_region", 0, "features",
        "Up to 3 monitored endpoints", "7 days of check history", "Checks from one region",
        "Email alerts",
        /* Pro (unlimited: endpoint_limit null). The price lives in Stripe (STRIPE_PRICE_PRO),
         * so it is not quoted here. */
        "id", "pro", "name", "Pro", "endpoint_limit",
        "history_days", 90, "multi_region", 1, "features", "Unlimited monitored endpoints",
        "90 days of check history", "Checks from multiple regions", "Email alerts",
        "Priority support");
    if (!plans)
        return bus_reply_error(rep, SW_EINTERNAL, NULL, NULL);
    bus_reply_json(rep, json_pack("{s:o}", "plans", plans));
    return SW_OK;
}
