/* sw-deadletter internals. */
#ifndef SW_DEADLETTER_H
#define SW_DEADLETTER_H

#include "bus/bus.h"

void *deadletter_app_init(bus_actor *a, sw_status *err);
void deadletter_app_free(void *app);

#endif
