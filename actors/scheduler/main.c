/* sw-scheduler: turns due rows of public.schedule into probe jobs, one per region, on
 * sw.v1.jobs.probe.<region>. Any number of schedulers may run: rows are claimed with
 * FOR UPDATE SKIP LOCKED and every job carries a Nats-Msg-Id, so nothing is scheduled twice. */
#include "actors/scheduler/scheduler.h"

static const bus_worker workers[] = {
    {.stream = NULL, .handle = scheduler_turn, .done = scheduler_done},
};

static const bus_actor_def actor = {
    .name = "sw-scheduler",
    .description = "StatusWatch scheduler: due endpoints to probe jobs",
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = scheduler_app_init,
    .app_free = scheduler_app_free,
    .stats = scheduler_stats,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
