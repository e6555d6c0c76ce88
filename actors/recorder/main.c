/* sw-recorder: stores probe results and decides endpoint state. Pulls batches from SW_RESULTS
 * (durable "recorder"), writes each batch in one transaction with a constant number of
 * statements whatever the tenants in it, idempotent on job id + attempt, then applies failure /
 * recovery thresholds per region and a majority vote across regions (actors/recorder/state.h);
 * results are trusted from their subject, sw.v1.results.<region>.<tenant>. A state change opens or
 * closes an incident and emits endpoint.down / endpoint.up (sw-auth mails the owner once).
 * Heartbeat monitors (heartbeat.c): pings from SW_PINGS, and deadlines that pass without one. */
#include "actors/recorder/recorder.h"

static const bus_worker workers[] = {
    {.stream = BUS_STREAM_RESULTS,
     .consumer = BUS_CONSUMER_RECORDER,
     .wait_ms = 500,
     .plan = recorder_plan,
     .handle = recorder_batch},
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_RECORDER_DELETES,
     .batch = 64,
     .wait_ms = 1000,
     .handle = recorder_forget_batch},
    /* Heartbeat pings from the edge, and the deadline ticker (no stream: every 200 ms). One
     * worker: the pings of one check are recorded in the order the edge received them (a
     * /start before its end), which batches in parallel would not keep. */
    {.stream = BUS_STREAM_PINGS,
     .consumer = BUS_CONSUMER_RECORDER_PINGS,
     .batch = 1000, /* its advisory locks share the lock table with the ticker's 2,000 */
     .wait_ms = 500,
     .handle = recorder_pings_batch},
    {.handle = recorder_deadlines_tick},
};

static const bus_actor_def actor = {
    .name = "sw-recorder",
    .description = "StatusWatch recorder: probe results, endpoint state, incidents",
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = recorder_app_init,
    .app_free = recorder_app_free,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
