/* The recorder's state machine (actors/recorder/state.h) without a database: thresholds per
 * region, flapping that never reaches a threshold, recovery, and the majority across 1, 2 and
 * 3 regions, with the transitions that open and close incidents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "actors/recorder/state.h"

#define EP "0b5c3e4a-1f2d-4c6b-9a8e-7d6c5b4a3f21"
#define TENANT "t_abcdefghijklmnopqrstuvwx"

/* The endpoint's standing between batches, as the database keeps it. */
typedef struct stored {
    rec_status status;
    int nregions;
    rec_region regions[4];
} stored;

/* One batch: results "region:ok|fail" in order. Returns the transitions' target statuses
 * as a string ("down", "up", "" for none) and updates *db as recorder_write would. */
static const char *batch(stored *db, int fail_t, int rec_t, int regions_total, const char *spec[],
                         size_t n)
{
    static char out[16];
    rec_state s;
    rec_result res[32];
    char regions[32][BUS_REGION_MAX];
    rec_transition *t = NULL;
    size_t nt = 0;

    rec_state_init(&s);
    assert_non_null(rec_state_endpoint(&s, EP, TENANT, db->status, fail_t, rec_t, regions_total));
    for (int i = 0; i < db->nregions; i++)
        assert_non_null(rec_state_region_slow(
            &s, EP, db->regions[i].region, db->regions[i].status, db->regions[i].fail_streak,
            db->regions[i].ok_streak, db->regions[i].slow_streak));
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(spec[i], ':');
        snprintf(regions[i], sizeof(regions[i]), "%.*s", (int)(colon - spec[i]), spec[i]);
        bool slow = strcmp(colon + 1, "slow") == 0;
        res[i] = (rec_result){EP, regions[i], strcmp(colon + 1, "ok") == 0 || slow, "timeout",
                              slow};
    }
    assert_int_equal(rec_apply(&s, res, n, &t, &nt), SW_OK);
    assert_true(nt <= 1);
    snprintf(out, sizeof(out), "%s", nt ? rec_status_name(t[0].to) : "");
    if (nt)
        assert_int_equal(t[0].from, db->status);
    db->status = s.endpoints[0].new_status;
    db->nregions = 0;
    for (size_t i = 0; i < s.nregions; i++)
        db->regions[db->nregions++] = s.regions[i];
    free(t);
    rec_state_free(&s);
    return out;
}

#define BATCH(db, f, r, total, ...)                                                                \
    batch(db, f, r, total, (const char *[]){__VA_ARGS__},                                          \
          sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

static void first_success_makes_a_pending_endpoint_up(void **state)
{
    (void)state;
    stored db = {.status = REC_PENDING};
    /* Up is not an incident: no transition from pending. */
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:ok"), "");
    assert_int_equal(db.status, REC_UP);
}

static void failures_reach_the_threshold_then_recover(void **state)
{
    (void)state;
    stored db = {.status = REC_PENDING};
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:ok"), "");
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:fail", "local:fail"), "");
    assert_int_equal(db.status, REC_UP);
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:fail"), "down"); /* the third in a row */
    assert_int_equal(db.status, REC_DOWN);
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:fail"), ""); /* already down: no new incident */
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:ok"), "");   /* one success is not enough */
    assert_int_equal(db.status, REC_DOWN);
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:ok"), "up");
    assert_int_equal(db.status, REC_UP);
    assert_int_equal(db.regions[0].ok_streak, 2);
    assert_int_equal(db.regions[0].fail_streak, 0);
}

static void a_flapping_endpoint_never_goes_down(void **state)
{
    (void)state;
    stored db = {.status = REC_PENDING};
    for (int i = 0; i < 10; i++) {
        assert_string_equal(BATCH(&db, 3, 2, 1, "local:fail", "local:fail", "local:ok"), "");
        assert_int_equal(db.status, REC_UP);
    }
    /* And a down one that flaps never comes back up with a recovery threshold of 2. */
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:fail", "local:fail", "local:fail"), "down");
    for (int i = 0; i < 10; i++)
        assert_string_equal(BATCH(&db, 3, 2, 1, "local:ok", "local:fail"), "");
    assert_int_equal(db.status, REC_DOWN);
}

/* issue 17: slow passes make an endpoint degraded with the failure threshold, fast ones bring
 * it back with the recovery threshold; down wins over degraded. */
static void slow_passes_make_it_degraded(void **state)
{
    (void)state;
    stored db = {.status = REC_PENDING};
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:slow", "local:slow"), "");
    assert_int_equal(db.status, REC_UP);
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:slow"), "degraded");
    assert_int_equal(db.status, REC_DEGRADED);
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:slow", "local:ok"), ""); /* one fast one */
    assert_int_equal(db.status, REC_DEGRADED);
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:ok"), "up");
    assert_int_equal(db.status, REC_UP);
    /* Degraded, then failing: down. */
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:slow", "local:slow", "local:slow"),
                        "degraded");
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:fail", "local:fail", "local:fail"), "down");
    /* Back from down but slow: degraded. */
    assert_string_equal(BATCH(&db, 3, 2, 1, "local:slow", "local:slow"), "degraded");
    /* A flapping mix of slow and fast never degrades. */
    stored d2 = {.status = REC_UP};
    for (int i = 0; i < 5; i++)
        assert_string_equal(BATCH(&d2, 3, 2, 1, "local:slow", "local:slow", "local:ok"), "");
    assert_int_equal(d2.status, REC_UP);
}

static void thresholds_are_the_endpoints(void **state)
{
    (void)state;
    stored db = {.status = REC_UP};
    assert_string_equal(BATCH(&db, 1, 1, 1, "local:fail"), "down");
    assert_string_equal(BATCH(&db, 1, 1, 1, "local:ok"), "up");
    /* Out-of-range thresholds are the defaults (3 and 2). */
    stored d2 = {.status = REC_UP};
    assert_string_equal(BATCH(&d2, 0, 0, 1, "local:fail", "local:fail"), "");
    assert_string_equal(BATCH(&d2, 0, 0, 1, "local:fail"), "down");
}

static void quorum_of_two_regions_needs_both(void **state)
{
    (void)state;
    stored db = {.status = REC_PENDING};
    assert_string_equal(BATCH(&db, 3, 2, 2, "a:ok", "b:ok"), "");
    /* One of two down is not more than half. */
    assert_string_equal(BATCH(&db, 3, 2, 2, "a:fail", "a:fail", "a:fail", "b:ok"), "");
    assert_int_equal(db.status, REC_UP);
    assert_string_equal(BATCH(&db, 3, 2, 2, "b:fail", "b:fail"), "");
    assert_string_equal(BATCH(&db, 3, 2, 2, "b:fail"), "down");
    /* One region recovering is enough for "up" once the other is no longer a majority. */
    assert_string_equal(BATCH(&db, 3, 2, 2, "a:ok", "a:ok"), "up");
}

static void quorum_of_three_regions_is_a_majority(void **state)
{
    (void)state;
    stored db = {.status = REC_PENDING};
    assert_string_equal(BATCH(&db, 3, 2, 3, "a:ok", "b:ok", "c:ok"), "");
    assert_string_equal(BATCH(&db, 3, 2, 3, "a:fail", "a:fail", "a:fail"), "");
    assert_int_equal(db.status, REC_UP); /* one of three */
    assert_string_equal(BATCH(&db, 3, 2, 3, "b:fail", "b:fail", "b:fail"), "down"); /* two */
    assert_string_equal(BATCH(&db, 3, 2, 3, "c:fail", "c:fail", "c:fail"), "");     /* still */
    assert_string_equal(BATCH(&db, 3, 2, 3, "a:ok", "a:ok"), ""); /* two of three still down */
    assert_string_equal(BATCH(&db, 3, 2, 3, "b:ok", "b:ok"), "up");
}

static void quorum_counts_regions_not_yet_heard_from(void **state)
{
    (void)state;
    /* Three scheduled regions, only one reporting: one down of three is a minority. */
    stored db = {.status = REC_UP};
    assert_string_equal(BATCH(&db, 3, 2, 3, "a:fail", "a:fail", "a:fail"), "");
    assert_int_equal(db.status, REC_UP);
}

static void a_paused_endpoint_stays_paused(void **state)
{
    (void)state;
    stored db = {.status = REC_PAUSED};
    assert_string_equal(BATCH(&db, 1, 1, 1, "local:fail", "local:fail"), "");
    assert_int_equal(db.status, REC_PAUSED);
    assert_string_equal(BATCH(&db, 1, 1, 1, "local:ok"), "");
    assert_int_equal(db.status, REC_PAUSED);
}

static void results_for_unknown_endpoints_are_ignored(void **state)
{
    (void)state;
    rec_state s;
    rec_transition *t = NULL;
    size_t nt = 5;
    rec_state_init(&s);
    rec_result r = {"11111111-1111-1111-1111-111111111111", "local", false, "x", false};
    assert_int_equal(rec_apply(&s, &r, 1, &t, &nt), SW_OK);
    assert_int_equal(nt, 0);
    assert_null(t);
    assert_int_equal(s.nregions, 0);
    rec_state_free(&s);
    assert_int_equal(rec_status_parse("down"), REC_DOWN);
    assert_int_equal(rec_status_parse("bogus"), REC_PENDING);
    assert_string_equal(rec_status_name((rec_status)42), "pending");
}

/* Heartbeats: pending until the first success, down on a failure ping or a passed deadline,
 * up again on the next success; a start followed by an end gives the run's duration. */
static void heartbeat_lifecycle(void **state)
{
    (void)state;
    hb_state s = {REC_PENDING, 0, 0, 0};
    assert_false(hb_lapsed(&s, 1000000)); /* pending: no deadline */
    assert_int_equal(hb_ping(&s, HB_START, 1000, 0), -1);
    assert_int_equal(s.status, REC_PENDING);                      /* a start changes no status */
    assert_int_equal(hb_ping(&s, HB_SUCCESS, 4500, 64500), 3500); /* the run took 3.5 s */
    assert_int_equal(s.status, REC_UP);
    assert_int_equal(s.deadline_ms, 64500);
    assert_false(hb_lapsed(&s, 64499));
    assert_true(hb_lapsed(&s, 64500));
    hb_lapse(&s);
    assert_int_equal(s.status, REC_DOWN);
    assert_false(hb_lapsed(&s, 99999999));                        /* down stays down, once */
    assert_int_equal(hb_ping(&s, HB_SUCCESS, 70000, 130000), -1); /* no start: no duration */
    assert_int_equal(s.status, REC_UP);
    assert_int_equal(s.deadline_ms, 130000);
    /* A late success (older than the last) moves nothing. */
    assert_int_equal(hb_ping(&s, HB_SUCCESS, 69000, 129000), -1);
    assert_int_equal(s.deadline_ms, 130000);
    assert_int_equal(s.last_success_ms, 70000);
    /* A failure ping is down at once, with the duration of its run. */
    assert_int_equal(hb_ping(&s, HB_START, 80000, 0), -1);
    assert_int_equal(hb_ping(&s, HB_FAIL, 81000, 0), 1000);
    assert_int_equal(s.status, REC_DOWN);
    assert_int_equal(s.deadline_ms, 0);
    /* Paused: nothing moves. */
    hb_state p = {REC_PAUSED, 0, 0, 0};
    assert_int_equal(hb_ping(&p, HB_SUCCESS, 1, 2), -1);
    assert_int_equal(p.status, REC_PAUSED);
    hb_kind k;
    assert_true(hb_kind_parse(&k, "fail"));
    assert_int_equal(k, HB_FAIL);
    assert_false(hb_kind_parse(&k, "exit"));
    assert_string_equal(hb_kind_name(HB_START), "start");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heartbeat_lifecycle),
        cmocka_unit_test(first_success_makes_a_pending_endpoint_up),
        cmocka_unit_test(failures_reach_the_threshold_then_recover),
        cmocka_unit_test(a_flapping_endpoint_never_goes_down),
        cmocka_unit_test(thresholds_are_the_endpoints),
        cmocka_unit_test(slow_passes_make_it_degraded),
        cmocka_unit_test(quorum_of_two_regions_needs_both),
        cmocka_unit_test(quorum_of_three_regions_is_a_majority),
        cmocka_unit_test(quorum_counts_regions_not_yet_heard_from),
        cmocka_unit_test(a_paused_endpoint_stays_paused),
        cmocka_unit_test(results_for_unknown_endpoints_are_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
