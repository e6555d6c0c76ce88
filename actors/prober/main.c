/* sw-prober: checks the endpoints of one region. Pulls probe jobs from the region's durable
 * consumer (probers-<region> on SW_JOBS), runs many checks at once, publishes every attempt's
 * result on sw.v1.results.<region>.<tenant>, retries failures with back-off (nak with delay)
 * and lets JetStream dead-letter a job after its last delivery.
 *
 *   sw-prober [--region NAME]      (default: SW_REGION, else "local") */
#include <stdlib.h>
#include <string.h>

#include "actors/prober/prober.h"

static const bus_worker workers[] = {
    {.stream = BUS_STREAM_JOBS,
     .consumer_name = prober_consumer,
     .plan = prober_plan,
     .handle = prober_turn,
     .busy = prober_busy,
     .done = prober_done},
};

static const bus_actor_def actor = {
    .name = "sw-prober",
    .description = "StatusWatch prober: HTTP(S) checks for one region",
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = prober_app_init,
    .app_free = prober_app_free,
};

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--region") == 0)
            setenv("SW_REGION", argv[i + 1], 1);
    return bus_actor_main(argc, argv, &actor);
}
