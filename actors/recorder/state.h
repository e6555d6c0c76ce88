/* The recorder's state machine, apart from any SQL: from the standing of each endpoint (per
 * region and overall) and a batch of new results in time order, to the new standing and the
 * transitions between up and down. Pure: no I/O, no clock, no globals.
 *
 * Per region: a failure streak of failure_threshold marks the region down, a success streak of
 * recovery_threshold brings a down region back up; the first result of a pending region that
 * succeeds makes it up at once. Across regions: the endpoint is down when more than half of
 * its regions_total regions are down, else up once any region is up, else it keeps its
 * status. A paused endpoint stays paused whatever arrives late. */
#ifndef SW_RECORDER_STATE_H
#define SW_RECORDER_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "bus/contract.h"
#include "bus/status.h"

typedef enum rec_status { REC_PENDING, REC_UP, REC_DOWN, REC_PAUSED } rec_status;

/* "pending" | "up" | "down" | "paused"; rec_status_parse gives REC_PENDING for anything else. */
const char *rec_status_name(rec_status s);
rec_status rec_status_parse(const char *s);

/* One endpoint in one region. */
typedef struct rec_region {
    char endpoint[BUS_UUID_LEN + 1];
    char region[BUS_REGION_MAX];
    rec_status status;
    int fail_streak, ok_streak;
    bool touched; /* changed by this batch: to be written back */
} rec_region;

/* One endpoint across its regions. The thresholds and regions_total are the recorder's own
 * data (the endpoint's schedule), never a result's. */
typedef struct rec_endpoint {
    char endpoint[BUS_UUID_LEN + 1];
    char tenant[BUS_TENANT_MAX];
    int failure_threshold;  /* < 1: 3 */
    int recovery_threshold; /* < 1: 2 */
    int regions_total;      /* < 1: 1 */
    rec_status old_status;  /* before the batch */
    rec_status new_status;  /* after rec_apply */
    size_t last;            /* index in the batch of the newest result for it */
    char cause[160];        /* the newest failure's error in this batch */
} rec_endpoint;

typedef struct rec_state {
    rec_region *regions; /* owned */
    size_t nregions, cap_regions;
    rec_endpoint *endpoints; /* owned */
    size_t nendpoints, cap_endpoints;
} rec_state;

/* One new result, borrowed strings. */
typedef struct rec_result {
    const char *endpoint;
    const char *region;
    bool ok;
    const char *error;
} rec_result;

/* A change between up and down that opens or closes an incident. */
typedef struct rec_transition {
    size_t endpoint; /* index into state->endpoints */
    rec_status from, to;
} rec_transition;

void rec_state_init(rec_state *s);
void rec_state_free(rec_state *s);

/* Adds an endpoint of the batch (first call per endpoint wins) with its status before the
 * batch; returns it or NULL on allocation failure. Strings are copied. */
rec_endpoint *rec_state_endpoint(rec_state *s, const char *endpoint, const char *tenant,
                                 rec_status status, int failure_threshold, int recovery_threshold,
                                 int regions_total);
/* Adds a region's standing as stored (untouched). NULL on allocation failure. */
rec_region *rec_state_region(rec_state *s, const char *endpoint, const char *region,
                             rec_status status, int fail_streak, int ok_streak);
rec_endpoint *rec_state_find_endpoint(rec_state *s, const char *endpoint);

/* Applies results (in time order) to s. Results for endpoints not added first are ignored.
 * *out: owned (free) array of *nout transitions, one per endpoint at most. */
sw_status rec_apply(rec_state *s, const rec_result *results, size_t n, rec_transition **out,
                    size_t *nout);

#endif
