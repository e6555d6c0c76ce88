/* Cron schedules in IANA time zones; see cron.h. Dates are walked as wall-clock days with
 * civil-calendar arithmetic; only a matching wall time is turned into an instant, with the
 * zone's UTC offsets on either side of it (the system tzdata through localtime_r). */
#include "actors/common/cron.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- parsing ------------------------------------------------------------------------ */

typedef struct field_def {
    const char *what;
    int lo, hi;
    const char *const *names; /* names[i] is value lo + i; NULL: numbers only */
} field_def;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const field_def fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day of week", 0, 7, day_names},
};

/* A number or (for fields with names) a three-letter name at *p; advances *p. */
static bool value(int *out, const char **p, const field_def *f)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        int n = 0;
        while (isdigit((unsigned char)s[n]) && n < 3)
            v = v * 10 + (s[n++] - '0');
        if (isdigit((unsigned char)s[n]))
            return false;
        *out = (int)v;
        *p = s + n;
        return true;
    }
    for (int i = 0; f->names && f->names[i]; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *out = f->lo + i;
            *p = s + 3;
            return true;
        }
    }
    return false;
}

/* One field (text[0..len)) into the bit set *bits. */
static bool parse_field(uint64_t *bits, const char *text, size_t len, const field_def *f, char *err,
                        size_t errlen)
{
    char buf[SW_CRON_MAX];
    *bits = 0;
    snprintf(buf, sizeof(buf), "%.*s", (int)len, text);
    for (char *item = buf; item && *item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        const char *p = item;
        int a = f->lo, b = f->hi, step = 1;
        bool star = *p == '*';
        if (star) {
            p++;
        } else {
            if (!value(&a, &p, f))
                goto bad;
            b = a;
            if (*p == '-') {
                p++;
                if (!value(&b, &p, f))
                    goto bad;
            } else if (*p == '/') {
                b = f->hi; /* "a/n": from a to the end, every n */
            }
        }
        if (*p == '/') {
            p++;
            const char *q = p;
            if (!value(&step, &p, &(field_def){f->what, 0, 0, NULL}) || p == q || step < 1)
                goto bad;
        }
        if (*p != '\0')
            goto bad;
        if (a < f->lo || b > f->hi || a > b) {
            snprintf(err, errlen, "The %s field is out of range (%d-%d).", f->what, f->lo, f->hi);
            return false;
        }
        for (int v = a; v <= b; v += step)
            *bits |= 1ULL << v;
        item = comma ? comma + 1 : NULL;
        if (comma && !*item)
            goto bad;
    }
    if (*bits == 0)
        goto bad;
    return true;
bad:
    snprintf(err, errlen, "The %s field \"%.*s\" is not valid.", f->what,
             (int)(len > 40 ? 40 : len), text);
    return false;
}

bool sw_cron_parse(sw_cron *out, const char *expr, char *err, size_t errlen)
{
    const char *start[5];
    size_t len[5];
    int n = 0;
    memset(out, 0, sizeof(*out));
    if (!expr || strlen(expr) >= SW_CRON_MAX)
        goto shape;
    for (const char *p = expr; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == 5)
            goto shape;
        start[n] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        len[n] = (size_t)(p - start[n]);
        n++;
    }
    if (n != 5)
        goto shape;
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (!parse_field(&bits[i], start[i], len[i], &fields[i], err, errlen))
            return false;
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->days = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->weekdays = (uint8_t)((bits[4] & 0x7f) | ((bits[4] >> 7) & 1)); /* 7 is Sunday too */
    out->days_any = start[2][0] == '*';
    out->weekdays_any = start[4][0] == '*';
    return true;
shape:
    snprintf(err, errlen,
             "Enter a cron expression of five fields (minute hour day month weekday), "
             "such as \"0 3 * * *\".");
    return false;
}

/* ---- time zones --------------------------------------------------------------------- */

static const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

bool sw_tz_valid(const char *name)
{
    char path[512], magic[4];
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= SW_TZ_MAX || name[0] == '/' || name[0] == '.' || strstr(name, "..") ||
        strstr(name, "//") || name[n - 1] == '/')
        return false;
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") != n)
        return false;
    if (strcmp(name, "localtime") == 0 || strcmp(name, "posixrules") == 0 ||
        strcmp(name, "Factory") == 0)
        return false;
    snprintf(path, sizeof(path), "%s/%s", tz_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static char tz_current[SW_TZ_MAX + 1];

/* With tz_lock held: the process zone is tz. */
static void use_zone(const char *tz)
{
    if (strcmp(tz_current, tz) == 0)
        return;
    char val[SW_TZ_MAX + 2];
    snprintf(val, sizeof(val), ":%s", tz);
    setenv("TZ", val, 1);
    tzset();
    snprintf(tz_current, sizeof(tz_current), "%s", tz);
}

/* With tz_lock held: the zone's offset from UTC at instant t, in seconds. */
static long offset_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 0;
    return tm.tm_gmtoff;
}

/* With tz_lock held: the instant of wall time w (seconds since 1970-01-01 00:00 on the
 * zone's clock), by the rules of cron.h; *gap when the clock skips w. */
static int64_t resolve(int64_t w, bool *gap)
{
    long before = offset_at(w - 86400), after = offset_at(w + 86400);
    *gap = false;
    if (before == after)
        return w - before;
    int64_t t1 = w - before, t2 = w - after;
    bool v1 = offset_at(t1) == before, v2 = offset_at(t2) == after;
    if (v1 && v2)
        return t1 < t2 ? t1 : t2; /* twice: the first */
    if (v1)
        return t1;
    if (v2)
        return t2;
    *gap = true;
    return t1; /* skipped: as far past the jump as w was into the gap */
}

/* ---- the calendar ------------------------------------------------------------------- */

/* The civil date of a day count since 1970-01-01 (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
}

static bool day_matches(const sw_cron *c, int64_t day)
{
    int m, d;
    civil_from_days(day, &m, &d);
    if (!(c->months & (1u << m)))
        return false;
    int wd = (int)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    bool dom = (c->days >> d) & 1u, dow = (c->weekdays >> wd) & 1u;
    if (c->days_any || c->weekdays_any)
        return dom && dow;
    return dom || dow;
}

#define SEARCH_DAYS (366 * 8 + 2)
#define WALL_SLACK (3 * 3600) /* more than any zone's jump in its offset */

bool sw_cron_next(int64_t *out, const sw_cron *c, const char *tz, int64_t after)
{
    bool found = false;
    int64_t best = 0, stop_wall = 0;
    *out = 0;
    if (!sw_tz_valid(tz))
        return false;
    pthread_mutex_lock(&tz_lock);
    use_zone(tz);
    /* No wall time more than the slack before after's own can come after it. */
    int64_t from_wall = after + offset_at(after) - WALL_SLACK;
    int64_t first_day = from_wall >= 0 ? from_wall / 86400 : (from_wall - 86399) / 86400;
    for (int64_t day = first_day; day < first_day + SEARCH_DAYS; day++) {
        if (found && day * 86400 > stop_wall)
            break;
        if (!day_matches(c, day))
            continue;
        for (int h = 0; h < 24; h++) {
            if (!((c->hours >> h) & 1u))
                continue;
            for (int mi = 0; mi < 60; mi++) {
                if (!((c->minutes >> mi) & 1ULL))
                    continue;
                int64_t w = day * 86400 + h * 3600 + mi * 60;
                if (w < from_wall)
                    continue;
                if (found && w > stop_wall)
                    goto done;
                bool gap;
                int64_t t = resolve(w, &gap);
                if (t <= after)
                    continue;
                if (!found || t < best)
                    best = t;
                if (!found) {
                    found = true;
                    /* A skipped time maps past the jump: a later wall time may come first. */
                    stop_wall = gap ? w + WALL_SLACK : w;
                }
            }
        }
    }
done:
    pthread_mutex_unlock(&tz_lock);
    *out = best;
    return found;
}
