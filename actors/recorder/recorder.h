/* sw-recorder internals. */
#ifndef SW_RECORDER_H
#define SW_RECORDER_H

#include <jansson.h>

#include "bus/bus.h"
#include "store/store.h"

void *recorder_app_init(bus_actor *a, sw_status *err);
void recorder_app_free(void *app);

/* A state change the batch caused, to announce after commit. */
typedef struct recorder_change {
    char tenant[48];
    char endpoint[40];
    char status[12];   /* "up" | "down" */
    char incident[40]; /* the incident opened or closed, "" if none */
    char owner[256];   /* owner's email, "" if none */
    char url[512];
    char name[256];
    char cause[160];
} recorder_change;

/* Records a batch of results (a JSON array of result objects, borrowed) in one transaction.
 * *changes: owned array (free) of *nchanges state changes. */
sw_status recorder_write(store_conn *c, const json_t *results, recorder_change **changes,
                         size_t *nchanges);

#endif
