/* sw-prober internals. */
#ifndef SW_PROBER_H
#define SW_PROBER_H

#include "bus/bus.h"

#define PROBER_MAX_DELIVER 3 /* the probers-<region> consumer's MaxDeliver (bus/topology.c) */

void *prober_app_init(bus_actor *a, sw_status *err);
void prober_app_free(void *app);

#endif
