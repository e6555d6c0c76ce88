/* The plans, defined once: what each gives (endpoints, history, regions) and how it reads on
 * the pricing page. sw-billing serves them (GET /api/billing/plans/), sw-endpoints enforces
 * the endpoint limit and pauses what a downgrade puts past it, sw-auth reports the caller's
 * limit (GET /api/auth/me/), the recorder keeps each plan's history. */
#ifndef SW_PLANS_H
#define SW_PLANS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

typedef struct sw_plan {
    const char *id;                /* "free" | "pro": public.tenants.plan */
    const char *name;              /* as shown */
    int endpoint_limit;            /* < 0: unlimited */
    int history_days;              /* the default of retention_setting */
    const char *retention_setting; /* SW_RETENTION_<PLAN>_DAYS overrides history_days */
    bool multi_region;             /* checks from several regions */
    bool priority_support;
} sw_plan;

/* The plans in the order they are offered. */
const sw_plan *sw_plans(size_t *n);
/* The plan called id, or NULL. */
const sw_plan *sw_plan_find(const char *id);
/* Days of check history kept: the plan's retention setting, else its default. */
int sw_plan_history_days(const sw_plan *p);
/* The public description ({id, name, endpoint_limit (null: unlimited), history_days,
 * retention_days, multi_region, features[]}). Returns owned JSON, NULL on allocation failure. */
json_t *sw_plan_json(const sw_plan *p);

#endif
