/* Cron schedules in IANA time zones (actors/common/cron.h): what is refused, what fires when,
 * and the two daylight-saving changes of 2026 in Europe/Berlin and America/New_York,
 * computed from the system tzdata (never waited for). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "actors/common/cron.h"

/* "2026-03-29T01:00:00Z" as unix seconds. */
static int64_t at(const char *iso)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm));
    return (int64_t)timegm(&tm);
}

/* The next firing of expr in tz after iso, as ISO 8601 UTC ("" when none). */
static const char *next(const char *expr, const char *tz, const char *iso)
{
    static char out[32];
    sw_cron c;
    char err[160];
    int64_t t;
    assert_true(sw_cron_parse(&c, expr, err, sizeof(err)));
    if (!sw_cron_next(&t, &c, tz, at(iso)))
        return "";
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

static void refuses_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {"",           "* * * *",     "* * * * * *",   "60 * * * *",
                                "* 24 * * *", "* * 0 * *",   "* * * 13 *",    "* * * * 8",
                                "a * * * *",  "5-1 * * * *", "*/0 * * * *",   "1,,2 * * * *",
                                "1, * * * *", "*/x * * * *", "1-2-3 * * * *", "foo bar baz qux x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sw_cron c;
        char err[160] = "";
        assert_false(sw_cron_parse(&c, bad[i], err, sizeof(err)));
        assert_true(strlen(err) > 10); /* a sentence for the user */
    }
    sw_cron c;
    char err[160];
    assert_true(sw_cron_parse(&c, "*/15 0-6,22 1-31/2 jan-MAR mon-fri", err, sizeof(err)));
    assert_true(sw_cron_parse(&c, "  0   3 * * 7 ", err, sizeof(err)));
    assert_int_equal(c.weekdays, 1); /* 7 is Sunday */
}

static void plain_times_in_utc(void **state)
{
    (void)state;
    assert_string_equal(next("0 3 * * *", "UTC", "2026-03-01T00:00:00Z"), "2026-03-01T03:00:00Z");
    assert_string_equal(next("0 3 * * *", "UTC", "2026-03-01T03:00:00Z"), "2026-03-02T03:00:00Z");
    assert_string_equal(next("* * * * *", "UTC", "2026-03-01T10:00:30Z"), "2026-03-01T10:01:00Z");
    assert_string_equal(next("*/15 * * * *", "UTC", "2026-03-01T10:16:00Z"),
                        "2026-03-01T10:30:00Z");
    /* 2026-03-02 is a Monday; weekdays only skips the weekend. */
    assert_string_equal(next("0 9 * * 1-5", "UTC", "2026-02-27T10:00:00Z"), "2026-03-02T09:00:00Z");
    /* Day of month and day of week both restricted: either matches (the 1st, or a Monday). */
    assert_string_equal(next("0 0 1 * 1", "UTC", "2026-03-10T00:00:00Z"), "2026-03-16T00:00:00Z");
    assert_string_equal(next("0 0 1 * 1", "UTC", "2026-03-30T12:00:00Z"), "2026-04-01T00:00:00Z");
    /* Leap day: the next 29 February is in 2028. */
    assert_string_equal(next("0 12 29 2 *", "UTC", "2026-03-01T00:00:00Z"), "2028-02-29T12:00:00Z");
    /* Never: no 30 February. */
    assert_string_equal(next("0 0 30 2 *", "UTC", "2026-03-01T00:00:00Z"), "");
}

static void zones_with_offsets(void **state)
{
    (void)state;
    assert_string_equal(next("0 9 * * *", "Asia/Kolkata", "2026-06-01T00:00:00Z"),
                        "2026-06-01T03:30:00Z");
    assert_string_equal(next("0 3 * * *", "Europe/Berlin", "2026-01-10T12:00:00Z"),
                        "2026-01-11T02:00:00Z"); /* CET, +1 */
    assert_string_equal(next("0 3 * * *", "Europe/Berlin", "2026-07-10T12:00:00Z"),
                        "2026-07-11T01:00:00Z"); /* CEST, +2 */
}

/* 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST (01:00Z). */
static void spring_forward_berlin(void **state)
{
    (void)state;
    /* A daily 03:00 job comes 23 hours after the previous one. */
    assert_string_equal(next("0 3 * * *", "Europe/Berlin", "2026-03-28T02:00:00Z"),
                        "2026-03-29T01:00:00Z");
    /* 02:30 does not exist that day: it fires at 03:30 CEST, then 02:30 CEST the next day. */
    assert_string_equal(next("30 2 * * *", "Europe/Berlin", "2026-03-28T01:30:00Z"),
                        "2026-03-29T01:30:00Z");
    assert_string_equal(next("30 2 * * *", "Europe/Berlin", "2026-03-29T01:30:00Z"),
                        "2026-03-30T00:30:00Z");
    /* Every quarter hour: 01:45 CET is followed by 03:00 CEST. */
    assert_string_equal(next("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:45:00Z"),
                        "2026-03-29T01:00:00Z");
}

/* 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET (01:00Z); 02:00-03:00 happens twice. */
static void fall_back_berlin(void **state)
{
    (void)state;
    /* 02:30 fires once, at its first occurrence (CEST), then 02:30 CET the next day. */
    assert_string_equal(next("30 2 * * *", "Europe/Berlin", "2026-10-24T00:30:00Z"),
                        "2026-10-25T00:30:00Z");
    assert_string_equal(next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z"),
                        "2026-10-26T01:30:00Z");
    /* A daily 03:00 job comes 25 hours after the previous one. */
    assert_string_equal(next("0 3 * * *", "Europe/Berlin", "2026-10-24T01:00:00Z"),
                        "2026-10-25T02:00:00Z");
}

/* 2026-03-08 and 2026-11-01 in New York (02:00 local both times). */
static void new_york(void **state)
{
    (void)state;
    assert_string_equal(next("0 8 * * *", "America/New_York", "2026-03-07T13:00:00Z"),
                        "2026-03-08T12:00:00Z"); /* EDT, -4 */
    assert_string_equal(next("0 8 * * *", "America/New_York", "2026-10-31T12:00:00Z"),
                        "2026-11-01T13:00:00Z"); /* EST, -5 */
}

static void zone_names(void **state)
{
    (void)state;
    assert_true(sw_tz_valid("UTC"));
    assert_true(sw_tz_valid("Europe/Berlin"));
    assert_true(sw_tz_valid("America/Argentina/Buenos_Aires"));
    static const char *bad[] = {"",
                                "Mars/Olympus",
                                "../../etc/passwd",
                                "/etc/localtime",
                                "Europe/",
                                "Europe//Berlin",
                                "localtime",
                                "Europe/Berlin x",
                                "Europe",
                                NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_false(sw_tz_valid(bad[i]));
    assert_false(sw_tz_valid(NULL));
    sw_cron c;
    char err[160];
    int64_t t;
    assert_true(sw_cron_parse(&c, "0 3 * * *", err, sizeof(err)));
    assert_false(sw_cron_next(&t, &c, "Mars/Olympus", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_malformed),  cmocka_unit_test(plain_times_in_utc),
        cmocka_unit_test(zones_with_offsets), cmocka_unit_test(spring_forward_berlin),
        cmocka_unit_test(fall_back_berlin),   cmocka_unit_test(new_york),
        cmocka_unit_test(zone_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
