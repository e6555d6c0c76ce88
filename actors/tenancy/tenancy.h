/* Handlers of sw-tenancy. */
#ifndef SW_TENANCY_H
#define SW_TENANCY_H

#include "bus/bus.h"

/* {"tenant_id"} -> the tenant with its domains, plan and owners. */
sw_status tenancy_get(const bus_req *req, bus_reply *rep);
/* {"page", "page_size"} -> paginated tenants with domains, plans and owners. */
sw_status tenancy_list(const bus_req *req, bus_reply *rep);

/* sw.v1.tenancy.health (asked by the edge for /health/ and /health/ready/, which holds no
 * database connection): {} -> {"database": "ok" | "unreachable" | "failing",
 * "migrations": "ok" | "<n> pending" | "unknown"}. Always SW_OK: the body says what failed. */
sw_status tenancy_health(const bus_req *req, bus_reply *rep);

/* bus_actor_def.stats: "tenants_by_plan": {"free": n, "pro": n, ...} from public.tenants. */
void tenancy_stats(bus_actor *a, json_t *data);

#endif
