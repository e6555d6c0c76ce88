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
#include <stdint.h>

#include "bus/contract.h"
#include "bus/status.h"

typedef enum rec_status { REC_PENDING, REC_UP, REC_DOWN, REC_PAUSED, REC_DEGRADED } rec_status;

/* "pending" | "up" | "down" | "paused" | "degraded"; rec_status_parse gives REC_PENDING for
 * anything else. Degraded (issue 17): checks pass but slower than the endpoint's
 * degraded_threshold_ms; a slow streak of failure_threshold makes a region degraded, a fast one
 * of recovery_threshold brings it back up (as for down). Across regions: down first (more than
 * half down), then degraded (more than half down or degraded), then up. */
const char *rec_status_name(rec_status s);
rec_status rec_status_parse(const char *s);

/* One endpoint in one region. */
typedef struct rec_region {
    char endpoint[BUS_UUID_LEN + 1];
    char region[BUS_REGION_MAX];
    rec_status status;
    int fail_streak, ok_streak;
    int slow_streak; /* consecutive slow passes (ok_streak counts the fast ones) */
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
    bool slow; /* ok, but slower than degraded_threshold_ms */
} rec_result;

/* A change between up, degraded and down that opens or closes an incident. */
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
/* The same with the slow streak too (issue 17). */
rec_region *rec_state_region_slow(rec_state *s, const char *endpoint, const char *region,
                                  rec_status status, int fail_streak, int ok_streak,
                                  int slow_streak);
rec_endpoint *rec_state_find_endpoint(rec_state *s, const char *endpoint);

/* Applies results (in time order) to s. Results for endpoints not added first are ignored.
 * *out: owned (free) array of *nout transitions, one per endpoint at most. */
sw_status rec_apply(rec_state *s, const rec_result *results, size_t n, rec_transition **out,
                    size_t *nout);

/* ---- heartbeats ------------------------------------------------------------------------
 * A heartbeat monitor is pinged by the job it watches instead of being probed. Its standing:
 * pending until the first success; up after a success, until its deadline (the next expected
 * ping after that success, plus grace: the caller computes it from the period or the cron
 * schedule) passes or a failure ping arrives; down then, until the next success. A start ping
 * changes no status: the next success or failure after it records the run's duration. */

typedef enum hb_kind { HB_SUCCESS, HB_START, HB_FAIL } hb_kind;

/* "success" | "start" | "fail"; hb_kind_parse: false for anything else. */
const char *hb_kind_name(hb_kind k);
bool hb_kind_parse(hb_kind *out, const char *s);

typedef struct hb_state {
    rec_status status;       /* REC_PAUSED: pings change nothing */
    int64_t last_success_ms; /* 0: never */
    int64_t last_start_ms;   /* 0: no run under way */
    int64_t deadline_ms;     /* 0: none (pending, down, paused) */
} hb_state;

/* Applies one ping received at at_ms. deadline_ms: the deadline a success at at_ms sets.
 * Returns the run's duration in ms when the ping ends a started run, else -1. A success older
 * than the last one counts as a ping but moves nothing. */
int64_t hb_ping(hb_state *s, hb_kind k, int64_t at_ms, int64_t deadline_ms);

/* Whether an up heartbeat's deadline has passed at now_ms. */
bool hb_lapsed(const hb_state *s, int64_t now_ms);
/* Marks a lapsed heartbeat down (no deadline until the next success). */
void hb_lapse(hb_state *s);

#endif
