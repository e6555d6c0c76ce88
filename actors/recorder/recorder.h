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

/* Opens (status "down") or closes the incident of one change inside the caller's transaction
 * (the tenant's incidents table is the recorder's) and fills ch->incident; the name and URL
 * come from the endpoint's schedule row when it has one (else ch keeps its own). A failure for
 * this one change (a tenant deleted meanwhile) is rolled back alone. */
sw_status recorder_incident(store_conn *c, recorder_change *ch);
/* After commit: publishes endpoint.down|up for ch. Whom to tell is not the recorder's to know
 * (the users are sw-auth's): sw-auth consumes the events and queues one mail per incident. */
void recorder_announce(bus_actor *a, const recorder_change *ch);

/* heartbeat.c: heartbeat monitors. Pings (stream SW_PINGS, durable recorder-pings) are stored
 * in public.heartbeat_pings and move the heartbeat's state (actors/recorder/state.h) in one
 * transaction per batch; the deadline ticker (a worker without a stream, every 200 ms) marks the
 * heartbeats whose deadline passed down, in batches of up to 2,000 per transaction, and re-computes
 * the deadlines of heartbeats whose expectation sw-endpoints changed
 * (public.heartbeats.updated_at). The recorder alone writes heartbeat_state and heartbeat_pings;
 * sw-endpoints alone writes heartbeats. */
void recorder_pings_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
void recorder_deadlines_tick(bus_actor *a, void *app, natsMsg **msgs, int n);
/* The pool heartbeat.c shares with recorder.c (borrowed from the app). */
store_pool *recorder_db(void *app);

#endif
