/* Thresholds, quorum and incidents as a pure function; see state.h. */
#include "actors/recorder/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"pending", "up", "down", "paused", "degraded"};

const char *rec_status_name(rec_status s)
{
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "pending";
}

rec_status rec_status_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return (rec_status)i;
    return REC_PENDING;
}

void rec_state_init(rec_state *s)
{
    memset(s, 0, sizeof(*s));
}

void rec_state_free(rec_state *s)
{
    if (!s)
        return;
    free(s->regions);
    free(s->endpoints);
    rec_state_init(s);
}

/* Makes room for one more element of size sz in *arr (n used, *cap allocated). */
static bool grow(void **arr, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * sz);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

rec_endpoint *rec_state_find_endpoint(rec_state *s, const char *endpoint)
{
    for (size_t i = 0; i < s->nendpoints; i++)
        if (strcmp(s->endpoints[i].endpoint, endpoint) == 0)
            return &s->endpoints[i];
    return NULL;
}

static rec_region *find_region(rec_state *s, const char *endpoint, const char *region)
{
    for (size_t i = 0; i < s->nregions; i++)
        if (strcmp(s->regions[i].endpoint, endpoint) == 0 &&
            strcmp(s->regions[i].region, region) == 0)
            return &s->regions[i];
    return NULL;
}

rec_endpoint *rec_state_endpoint(rec_state *s, const char *endpoint, const char *tenant,
                                 rec_status status, int failure_threshold, int recovery_threshold,
                                 int regions_total)
{
    rec_endpoint *e = rec_state_find_endpoint(s, endpoint);
    if (e)
        return e;
    if (!grow((void **)&s->endpoints, s->nendpoints, &s->cap_endpoints, sizeof(*e)))
        return NULL;
    e = &s->endpoints[s->nendpoints++];
    memset(e, 0, sizeof(*e));
    snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
    snprintf(e->tenant, sizeof(e->tenant), "%s", tenant ? tenant : "");
    e->failure_threshold = failure_threshold >= 1 ? failure_threshold : 3;
    e->recovery_threshold = recovery_threshold >= 1 ? recovery_threshold : 2;
    e->regions_total = regions_total >= 1 ? regions_total : 1;
    e->old_status = e->new_status = status;
    return e;
}

rec_region *rec_state_region(rec_state *s, const char *endpoint, const char *region,
                             rec_status status, int fail_streak, int ok_streak)
{
    if (!grow((void **)&s->regions, s->nregions, &s->cap_regions, sizeof(rec_region)))
        return NULL;
    rec_region *r = &s->regions[s->nregions++];
    memset(r, 0, sizeof(*r));
    snprintf(r->endpoint, sizeof(r->endpoint), "%s", endpoint);
    snprintf(r->region, sizeof(r->region), "%s", region);
    r->status = status;
    r->fail_streak = fail_streak;
    r->ok_streak = ok_streak;
    return r;
}

rec_region *rec_state_region_slow(rec_state *s, const char *endpoint, const char *region,
                                  rec_status status, int fail_streak, int ok_streak,
                                  int slow_streak)
{
    rec_region *r = rec_state_region(s, endpoint, region, status, fail_streak, ok_streak);
    if (r)
        r->slow_streak = slow_streak;
    return r;
}

/* One result moves one region's streaks and status. A slow pass (issue 17) is a pass that
 * counts toward degraded as a failure counts toward down. */
static void step(rec_region *r, const rec_endpoint *e, bool ok, bool slow)
{
    r->touched = true;
    if (ok && slow) {
        r->slow_streak++;
        r->ok_streak = 0;
        r->fail_streak = 0;
        if (r->status == REC_PENDING)
            r->status = REC_UP;
        if (r->status == REC_UP && r->slow_streak >= e->failure_threshold)
            r->status = REC_DEGRADED;
        else if (r->status == REC_DOWN && r->slow_streak >= e->recovery_threshold)
            r->status = REC_DEGRADED; /* back, but slow */
    } else if (ok) {
        r->ok_streak++;
        r->fail_streak = 0;
        r->slow_streak = 0;
        if (r->status == REC_PENDING ||
            ((r->status == REC_DOWN || r->status == REC_DEGRADED) &&
             r->ok_streak >= e->recovery_threshold))
            r->status = REC_UP;
    } else {
        r->fail_streak++;
        r->ok_streak = 0;
        r->slow_streak = 0;
        if (r->status != REC_DOWN && r->fail_streak >= e->failure_threshold)
            r->status = REC_DOWN;
    }
}

/* Majority across regions. */
static rec_status quorum(const rec_state *s, const rec_endpoint *e)
{
    int down = 0, up = 0, degraded = 0;
    if (e->old_status == REC_PAUSED)
        return REC_PAUSED; /* a late result never un-pauses an endpoint */
    for (size_t m = 0; m < s->nregions; m++) {
        if (strcmp(s->regions[m].endpoint, e->endpoint) != 0)
            continue;
        down += s->regions[m].status == REC_DOWN;
        up += s->regions[m].status == REC_UP;
        degraded += s->regions[m].status == REC_DEGRADED;
    }
    if (2 * down > e->regions_total)
        return REC_DOWN;
    if (2 * (down + degraded) > e->regions_total)
        return REC_DEGRADED;
    return up + degraded > 0 ? REC_UP : e->old_status;
}

sw_status rec_apply(rec_state *s, const rec_result *results, size_t n, rec_transition **out,
                    size_t *nout)
{
    *out = NULL;
    *nout = 0;
    for (size_t i = 0; i < n; i++) {
        const rec_result *res = &results[i];
        rec_endpoint *e = rec_state_find_endpoint(s, res->endpoint);
        if (!e)
            continue;
        rec_region *r = find_region(s, res->endpoint, res->region);
        if (!r) {
            r = rec_state_region(s, res->endpoint, res->region, REC_PENDING, 0, 0);
            if (!r)
                return SW_EINTERNAL;
            e = rec_state_find_endpoint(s, res->endpoint); /* not moved: other array */
        }
        step(r, e, res->ok, res->slow);
        e->last = i;
        if (!res->ok)
            snprintf(e->cause, sizeof(e->cause), "%s", res->error ? res->error : "");
    }
    rec_transition *t = s->nendpoints ? calloc(s->nendpoints, sizeof(*t)) : NULL;
    if (s->nendpoints && !t)
        return SW_EINTERNAL;
    for (size_t k = 0; k < s->nendpoints; k++) {
        rec_endpoint *e = &s->endpoints[k];
        e->new_status = quorum(s, e);
        bool went_down = e->new_status == REC_DOWN && e->old_status != REC_DOWN;
        bool went_degraded = e->new_status == REC_DEGRADED && e->old_status != REC_DEGRADED;
        bool came_up = e->new_status == REC_UP &&
                       (e->old_status == REC_DOWN || e->old_status == REC_DEGRADED);
        if (went_down || went_degraded || came_up)
            t[(*nout)++] = (rec_transition){k, e->old_status, e->new_status};
    }
    if (*nout == 0) {
        free(t);
        t = NULL;
    }
    *out = t;
    return SW_OK;
}

/* ---- heartbeats ---------------------------------------------------------------------- */

static const char *const hb_names[] = {"success", "start", "fail"};

const char *hb_kind_name(hb_kind k)
{
    return (unsigned)k < sizeof(hb_names) / sizeof(hb_names[0]) ? hb_names[k] : "success";
}

bool hb_kind_parse(hb_kind *out, const char *s)
{
    for (size_t i = 0; s && i < sizeof(hb_names) / sizeof(hb_names[0]); i++) {
        if (strcmp(s, hb_names[i]) == 0) {
            *out = (hb_kind)i;
            return true;
        }
    }
    return false;
}

int64_t hb_ping(hb_state *s, hb_kind k, int64_t at_ms, int64_t deadline_ms)
{
    int64_t duration = -1;
    if (s->status == REC_PAUSED)
        return -1;
    if (k == HB_START) {
        s->last_start_ms = at_ms;
        return -1;
    }
    if (s->last_start_ms && at_ms >= s->last_start_ms) {
        duration = at_ms - s->last_start_ms;
        s->last_start_ms = 0;
    }
    if (k == HB_FAIL) {
        s->status = REC_DOWN;
        s->deadline_ms = 0;
        return duration;
    }
    if (s->last_success_ms && at_ms < s->last_success_ms)
        return duration; /* late: a newer success already set the deadline */
    s->last_success_ms = at_ms;
    s->deadline_ms = deadline_ms;
    s->status = REC_UP;
    return duration;
}

bool hb_lapsed(const hb_state *s, int64_t now_ms)
{
    return s->status == REC_UP && s->deadline_ms > 0 && s->deadline_ms <= now_ms;
}

void hb_lapse(hb_state *s)
{
    s->status = REC_DOWN;
    s->deadline_ms = 0;
}
