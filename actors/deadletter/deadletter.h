/* sw-deadletter internals. */
#ifndef SW_DEADLETTER_H
#define SW_DEADLETTER_H

#include "bus/bus.h"

void *deadletter_app_init(bus_actor *a, sw_status *err);
void deadletter_app_free(void *app);
/* bus_worker.handle: each advisory stored, republished to SW_DLQ and removed from SW_JOBS,
 * then acked; nak'd to come back when a step failed. */
void deadletter_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
/* bus_worker.handle of a ticker: every 2 s, a snapshot of every durable consumer's backlog
 * (pending, ack pending, redelivered) from JetStream, kept for deadletter_stats. */
void deadletter_gauges_turn(bus_actor *a, void *app, natsMsg **msgs, int n);
/* bus_actor_def.stats: "dlq_messages", the dead-lettered jobs kept in SW_DLQ, and "consumers",
 * the last backlog snapshot ([{"stream", "consumer", "pending", "ack_pending", "redelivered"}],
 * left out while JetStream does not answer). /metrics turns them into the
 * sw_jetstream_consumer_* gauges, so the edge itself asks JetStream nothing for a scrape. */
void deadletter_stats(bus_actor *a, json_t *data);

#endif
