/* sw-deadletter: jobs that used up their deliveries. Reads the max-delivery and terminate
 * advisories captured in SW_ADVISORIES (so none is lost while this actor is down), fetches the
 * original job from SW_JOBS by stream sequence, stores it with the reason in
 * public.dead_letters, republishes it to SW_DLQ (sw.v1.dlq.SW_JOBS) and removes it from
 * SW_JOBS. It also reports every durable consumer's backlog for /metrics. */
#include "actors/deadletter/deadletter.h"

static const bus_worker workers[] = {
    {.stream = BUS_STREAM_ADVISORIES,
     .consumer = BUS_CONSUMER_DEADLETTER,
     .batch = 64,
     .wait_ms = 500,
     .handle = deadletter_batch},
    {.stream = NULL, .handle = deadletter_gauges_turn},
};

static const bus_actor_def actor = {
    .name = "sw-deadletter",
    .description = "StatusWatch dead letters: exhausted jobs to SW_DLQ and the database",
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = deadletter_app_init,
    .app_free = deadletter_app_free,
    .stats = deadletter_stats,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
