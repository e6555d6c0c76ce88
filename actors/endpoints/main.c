/* sw-endpoints: the URLs a tenant watches (CRUD, plan limits, URL policy, first check), their
 * pausing and resuming when the tenant's plan changes, and the public status pages that show
 * them (CRUD, and the documents the edge caches). */
#include "actors/endpoints/endpoints.h"

static const bus_route routes[] = {
    {"sw.v1.endpoints.list", endpoints_list, false},
    {"sw.v1.endpoints.create", endpoints_create, false},
    {"sw.v1.endpoints.get", endpoints_get, false},
    {"sw.v1.endpoints.update", endpoints_update, false},
    {"sw.v1.endpoints.patch", endpoints_patch, false},
    {"sw.v1.endpoints.delete", endpoints_delete, false},
    {"sw.v1.endpoints.checks", endpoints_checks, false},
    {"sw.v1.endpoints.uptime", endpoints_uptime, false},
    {"sw.v1.endpoints.response_times", endpoints_response_times, false},
    {"sw.v1.endpoints.incidents", endpoints_incidents, false},
    {"sw.v1.endpoints.pings", endpoints_pings, false},
    {"sw.v1.endpoints.rotate_ping_url", endpoints_rotate_ping_url, false},
    {"sw.v1.endpoints.status_pages.list", status_pages_list, false},
    {"sw.v1.endpoints.status_pages.create", status_pages_create, false},
    {"sw.v1.endpoints.status_pages.get", status_pages_get, false},
    {"sw.v1.endpoints.status_pages.patch", status_pages_patch, false},
    {"sw.v1.endpoints.status_pages.delete", status_pages_delete, false},
    {BUS_SUBJ_STATUS_PUBLIC, status_public, false},
};

/* A new URL's host is looked up (up to SW_DNS_TIMEOUT_MS): off the delivery threads. */
static const char *const slow[] = {"sw.v1.endpoints.create", "sw.v1.endpoints.update",
                                   "sw.v1.endpoints.patch", NULL};
/* Plan changes from sw-billing: the tenant's endpoints follow its plan. */
static const bus_worker workers[] = {
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_ENDPOINTS_PLAN,
     .batch = 16,
     .wait_ms = 1000,
     .handle = endpoints_plan_batch},
};

static const bus_actor_def actor = {
    .name = "sw-endpoints",
    .description = "StatusWatch endpoints: the URLs a tenant watches",
    .routes = routes,
    .nroutes = ARRAY_LEN(routes),
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = endpoints_app_init,
    .app_free = endpoints_app_free,
    .slow_subjects = slow,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
