/* sw-recorder internals. */
#ifndef SW_RECORDER_H
#define SW_RECORDER_H

#include <jansson.h>

#include "bus/bus.h"
#include "store/store.h"

void *recorder_app_init(bus_actor *a, sw_status *err);
void recorder_app_free(void *app);
/* bus_worker.plan / handle: batches of SW_RECORDER_BATCH (500) results, each written in one
 * transaction (recorder_write) and then acked; the partition upkeep runs between batches. */
void recorder_plan(void *app, bool stopping, bus_take *t);
void recorder_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
/* bus_worker.handle of the endpoint.deleted consumer: the endpoint's state rows go. */
void recorder_forget_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

/* A state change the batch caused, to announce after commit. */
typedef struct recorder_change {
    char tenant[48];
    char endpoint[40];
    char status[12];   /* "up" | "down" */
    char incident[40]; /* the incident opened or closed, "" if none */
    char url[512];
    char name[256];
    char cause[160];
} recorder_change;

/* Records a batch of results (a JSON array of decoded result objects, borrowed: see
 * bus_probe_result_decode) in one transaction: rows, roll-ups, region and endpoint state,
 * incidents; the state machine is actors/recorder/state.h. Results for an endpoint that is
 * not their tenant's or not scheduled in their region are refused: logged and counted in
 * *refused (may be NULL). *changes: owned array (free) of *nchanges state changes. SW_EINVAL:
 * the database refused the batch's data. */
sw_status recorder_write(store_conn *c, const json_t *results, recorder_change **changes,
                         size_t *nchanges, size_t *refused);

#endif
