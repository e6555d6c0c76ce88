/* Watching a stream into memory: how an edge keeps what a small JetStream stream holds (revoked
 * sessions, API tokens) as a table of its own, with no database. An ordered consumer delivers
 * every retained message (or the last one per subject), then each new one as it is published,
 * to the caller's apply() on the NATS delivery thread; the start waits, up to a limit, until
 * what the stream held at start has been applied, so the first request already sees it. An
 * ordered consumer recreates itself after a gap or a reconnect, so nothing is missed. */
#ifndef SW_BUS_WATCH_H
#define SW_BUS_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <nats/nats.h>

#include "bus/status.h"

/* What to watch and what to do with each message. The caller owns it (usually inside the table
 * it fills); it must outlive the subscription. */
typedef struct bus_watch {
    const char *stream;    /* "SW_REVOKED" */
    const char *subjects;  /* the filter, "sw.v1.revoked.>" */
    bool last_per_subject; /* DeliverLastPerSubject instead of DeliverAll */
    const char *what;      /* for the log: "revoked sessions" */
    /* One message: false when it is malformed (logged, ignored). Runs on the delivery thread. */
    bool (*apply)(void *arg, const char *subject, const char *data, int len);
    void *arg;
    uint64_t loaded_seq; /* internal (atomic): the last stream sequence applied */
} bus_watch;

/* Subscribes (*sub owned: natsSubscription_Unsubscribe / _Destroy it) and waits up to wait_ms
 * for the startup load. SW_EUNAVAILABLE when the stream cannot be watched (logged). */
sw_status bus_watch_start(natsSubscription **sub, bus_watch *w, jsCtx *js, int wait_ms);

#endif
