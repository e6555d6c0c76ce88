/* sw-tenancy: read access to organizations for the operators' tools and other actors, and the
 * database checks of the edge's /health/ (internal subjects sw.v1.tenancy.*; no REST route
 * reaches them). */
#include "actors/common/app.h"
#include "actors/tenancy/tenancy.h"

static const bus_route routes[] = {
    {"sw.v1.tenancy.get", tenancy_get, false},
    {"sw.v1.tenancy.list", tenancy_list, false},
    {"sw.v1.tenancy.health", tenancy_health, false},
};

static const bus_actor_def actor = {
    .name = "sw-tenancy",
    .description = "StatusWatch organizations: lookup and listing for operators",
    .routes = routes,
    .nroutes = ARRAY_LEN(routes),
    .app_init = actor_app_init,
    .app_free = actor_app_free,
    .stats = tenancy_stats,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
