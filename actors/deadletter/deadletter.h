/* sw-deadletter internals. */
#ifndef SW_DEADLETTER_H
#define SW_DEADLETTER_H

#include "bus/bus.h"

void *deadletter_app_init(bus_actor *a, sw_status *err);
void deadletter_app_free(void *app);
/* bus_worker.handle: each advisory stored, republished to SW_DLQ and removed from SW_JOBS,
 * then acked; nak'd to come back when a step failed. */
void deadletter_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
/* bus_actor_def.stats: "dlq_messages", the dead-lettered jobs kept in SW_DLQ. */
void deadletter_stats(bus_actor *a, json_t *data);

#endif
