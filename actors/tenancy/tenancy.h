/* Handlers of sw-tenancy. */
#ifndef SW_TENANCY_H
#define SW_TENANCY_H

#include "bus/bus.h"

/* {"tenant_id"} -> the tenant with its domains, plan and owners. */
sw_status tenancy_get(const bus_req *req, bus_reply *rep);
/* {"page", "page_size"} -> paginated tenants with domains, plans and owners. */
sw_status tenancy_list(const bus_req *req, bus_reply *rep);

#endif
