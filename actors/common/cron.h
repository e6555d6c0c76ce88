/* Five-field cron schedules ("0 3 * * *") in an IANA time zone, for heartbeat monitors: parse,
 * and the next time a schedule fires after a given instant. Time zones come from the system's
 * tzdata (/usr/share/zoneinfo, Debian package tzdata).
 *
 * Fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 (or jan-dec), day of week 0-7
 * (0 and 7 are Sunday, or sun-sat). Each is *, a value, a range a-b, any of those with a step
 * /n, or a comma-separated list of them. As in Vixie cron, when both day of month and day of
 * week are restricted a day matches either; otherwise both.
 *
 * Daylight saving time, decided so that a heartbeat is never declared late early:
 *  - a local time the clock skips (spring forward) fires as far after the jump as it was into
 *    the gap (02:30 on a day that goes 02:00 → 03:00 fires at 03:30);
 *  - a local time that happens twice (fall back) fires once, at its first occurrence.
 *
 * The zone of the computation is the process's TZ, switched under a lock: sw_cron_next is
 * thread-safe but nothing else in a process using it may depend on local time (StatusWatch
 * formats every time in UTC). */
#ifndef SW_CRON_H
#define SW_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_CRON_MAX 128 /* the longest expression accepted, with its NUL */
#define SW_TZ_MAX 64    /* the longest zone name accepted, with its NUL */

typedef struct sw_cron {
    uint64_t minutes;  /* bit m: minute m */
    uint32_t hours;    /* bit h */
    uint32_t days;     /* bit d: day of month d (1-31) */
    uint16_t months;   /* bit m: month m (1-12) */
    uint8_t weekdays;  /* bit w: day of week w (0 = Sunday) */
    bool days_any;     /* the day-of-month field was "*" (or a step over it) */
    bool weekdays_any; /* the day-of-week field was "*" */
} sw_cron;

/* Parses expr into *out. False (with a sentence for the user in err) when it is not a
 * five-field expression as above. */
bool sw_cron_parse(sw_cron *out, const char *expr, char *err, size_t errlen);

/* Whether name is an IANA zone the system knows ("UTC", "Europe/Berlin"): a relative path of
 * [A-Za-z0-9_+-/] naming a TZif file under /usr/share/zoneinfo (or $TZDIR). */
bool sw_tz_valid(const char *name);

/* The first instant (unix seconds, a whole minute) strictly after `after` at which c fires in
 * zone tz. False when tz is not valid or c fires on no day of the next eight years (such as
 * "0 0 30 2 *"). */
bool sw_cron_next(int64_t *out, const sw_cron *c, const char *tz, int64_t after);

#endif
