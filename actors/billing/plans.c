/* GET /api/billing/plans/: what each plan gives (public, so no "current" here: the caller's
 * plan is in GET /api/auth/me/). The plans are actors/common/plans.h; the price lives in
 * Stripe (STRIPE_PRICE_PRO), so it is not quoted here. */
#include "actors/billing/billing.h"
#include "actors/common/plans.h"

sw_status billing_plans(const bus_req *req, bus_reply *rep)
{
    (void)req;
    size_t n = 0;
    const sw_plan *p = sw_plans(&n);
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *o = sw_plan_json(&p[i]);
        if (!o || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list)
        return bus_reply_error(rep, SW_EINTERNAL, NULL, NULL);
    bus_reply_json(rep, json_pack("{s:o}", "plans", list));
    return SW_OK;
}
