/* The plan table; see plans.h. */
#include "actors/common/plans.h"

#include <stdio.h>
#include <string.h>

#include "bus/config.h"

static const sw_plan plans[] = {
    {.id = "free",
     .name = "Free",
     .endpoint_limit = 3,
     .history_days = 7,
     .retention_setting = "SW_RETENTION_FREE_DAYS",
     .multi_region = false,
     .priority_support = false},
    {.id = "pro",
     .name = "Pro",
     .endpoint_limit = -1,
     .history_days = 90,
     .retention_setting = "SW_RETENTION_PRO_DAYS",
     .multi_region = true,
     .priority_support = true},
};

const sw_plan *sw_plans(size_t *n)
{
    *n = sizeof(plans) / sizeof(plans[0]);
    return plans;
}

const sw_plan *sw_plan_find(const char *id)
{
    for (size_t i = 0; id && i < sizeof(plans) / sizeof(plans[0]); i++)
        if (strcmp(plans[i].id, id) == 0)
            return &plans[i];
    return NULL;
}

int sw_plan_history_days(const sw_plan *p)
{
    return (int)sw_config_long(p->retention_setting, p->history_days, 1, 3650, NULL);
}

json_t *sw_plan_json(const sw_plan *p)
{
    char endpoints[64], history[64];
    int days = sw_plan_history_days(p);
    if (p->endpoint_limit < 0)
        snprintf(endpoints, sizeof(endpoints), "Unlimited monitored endpoints");
    else
        snprintf(endpoints, sizeof(endpoints), "Up to %d monitored endpoints", p->endpoint_limit);
    snprintf(history, sizeof(history), "%d days of check history", days);
    json_t *features =
        json_pack("[s,s,s,s]", endpoints, history,
                  p->multi_region ? "Checks from multiple regions" : "Checks from one region",
                  "Email alerts");
    if (features && p->priority_support)
        json_array_append_new(features, json_string("Priority support"));
    json_t *limit = p->endpoint_limit < 0 ? json_null() : json_integer(p->endpoint_limit);
    return json_pack("{s:s,s:s,s:o,s:i,s:i,s:b,s:o*}", "id", p->id, "name", p->name,
                     "endpoint_limit", limit, "history_days", days, "retention_days", days,
                     "multi_region", p->multi_region, "features", features);
}
