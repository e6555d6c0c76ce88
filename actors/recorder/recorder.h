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
    char status[12];   /* "up" | "down" | "degraded" */
    char from[12];     /* the status before ("" when not known) */
    char incident[40]; /* the incident opened or closed, "" if none */
    char url[512];
    char name[256];
    char cause[300];
} recorder_change;

/* A certificate that crossed one of its endpoint's tls_expiry_alert_days (issue 17), to
 * announce as BUS_EVT_TLS_EXPIRING after the commit. */
typedef struct recorder_tls_alert {
    char tenant[48];
    char endpoint[40];
    int threshold_days, days_left;
    long long expires_epoch;
    char expires_at[40];
    char issuer[256], subject[256];
    char name[256], url[512];
} recorder_tls_alert;

/* Records a batch of results (a JSON array of decoded result objects, borrowed: see
 * bus_probe_result_decode) in one transaction: rows, roll-ups, region and endpoint state,
 * incidents; the state machine is actors/recorder/state.h. Results for an endpoint that is
 * not their tenant's or not scheduled in their region are refused: logged and counted in
 * *refused (may be NULL). *changes: owned array (free) of *nchanges state changes. SW_EINVAL:
 * the database refused the batch's data. */
sw_status recorder_write(store_conn *c, const json_t *results, recorder_change **changes,
                         size_t *nchanges, size_t *refused);
/* The same, and *tls: owned array (free) of *ntls certificate thresholds crossed (issue 17). */
sw_status recorder_write_tls(store_conn *c, const json_t *results, recorder_change **changes,
                             size_t *nchanges, size_t *refused, recorder_tls_alert **tls,
                             size_t *ntls);

/* Opens (status "down") or closes the incident of one change inside the caller's transaction
 * (the tenant's incidents table is the recorder's) and fills ch->incident; the name and URL
 * come from the endpoint's schedule row when it has one (else ch keeps its own). A failure for
 * this one change (a tenant deleted meanwhile) is rolled back alone. */
sw_status recorder_incident(store_conn *c, recorder_change *ch);
/* After commit: publishes endpoint.down|up for ch. Whom to tell is not the recorder's to know
 * (the users are sw-auth's): sw-auth consumes the events and queues one mail per incident. */
void recorder_announce(bus_actor *a, const recorder_change *ch);
/* Publishes BUS_EVT_TLS_EXPIRING for one crossed threshold (after the commit). */
void recorder_announce_tls(bus_actor *a, const recorder_tls_alert *t);

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
