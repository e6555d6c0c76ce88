/* sw-scheduler internals. */
#ifndef SW_SCHEDULER_H
#define SW_SCHEDULER_H

#include "bus/bus.h"
#include "bus/jetstream.h"
#include "store/store.h"

void *scheduler_app_init(bus_actor *a, sw_status *err);
void scheduler_app_free(void *app);
/* bus_worker.handle / done of the scheduler's ticker (no consumer): one scheduler_tick per
 * turn, SW_SCHED_TICK_MS apart unless a full batch says more is due. */
void scheduler_turn(bus_actor *a, void *app, natsMsg **msgs, int n);
void scheduler_done(void *app);
/* bus_actor_def.stats: "endpoints_by_plan" {"free": n, ...} (rows of public.schedule being
 * checked) and "lag_seconds" (now minus the oldest next_due_at that is due; 0 when none). */
void scheduler_stats(bus_actor *a, json_t *data);

/* Claims up to batch due rows, publishes their jobs and advances next_due_at, all in one
 * transaction: the jobs are published without waiting one by one, and the claim commits only
 * once every PubAck is in (a failed publish rolls the claim back; the msg ids make the retry
 * harmless). jobs: the publisher, used by one thread at a time. *claimed: rows handled.
 * *lateness_ms_max: the most overdue job's lateness. */
sw_status scheduler_tick(store_conn *c, bus_apub *jobs, int batch, int *claimed,
                         int64_t *lateness_ms_max);

#endif
