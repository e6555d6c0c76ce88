/* sw-prober internals. */
#ifndef SW_PROBER_H
#define SW_PROBER_H

#include "bus/bus.h"

void *prober_app_init(bus_actor *a, sw_status *err);
void prober_app_free(void *app);
/* The prober's bus_worker: the region's durable (probers-<region>), jobs taken up to the free
 * capacity (SW_PROBE_CONCURRENCY), checks run and results published between takes, busy
 * while checks or PubAcks are outstanding. */
void prober_consumer(void *app, char *out, size_t len);
void prober_plan(void *app, bool stopping, bus_take *t);
void prober_turn(bus_actor *a, void *app, natsMsg **msgs, int n);
bool prober_busy(void *app);
void prober_done(void *app);

#endif
