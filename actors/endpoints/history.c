/* GET /api/endpoints/{id}/checks/ (attempts, newest first, filtered by since, until, region
 * and ok, paginated), GET /api/endpoints/{id}/uptime/ (uptime % and latency p50/p95 over 24 h,
 * 7 d, 30 d and 90 d from the hourly roll-ups, or one of them with its hourly/daily buckets),
 * GET /api/endpoints/{id}/response-times/ (p50/p95/p99 per region and bucket, from the roll-ups'
 * histograms) and GET /api/endpoints/{id}/incidents/ (the endpoint's incidents, paginated). Both read the shared telemetry tables filtered on the verified tenant,
 * after checking the endpoint is the tenant's own (404 otherwise, never 403). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/endpoints/endpoints.h"
#include "actors/common/role.h"

/* How deep the checks list pages (page x page_size); the newest 10,000 attempts. */
#define CHECKS_DEPTH_MAX 10000
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100

/* Upper bounds (ms) of the roll-up histogram buckets (schema/public/0005_probing.sql). */
static const double bucket_upper[] = {1,   2,   5,    10,   20,   50,    100,
                                      200, 500, 1000, 2000, 5000, 10000, 30000};

static bool id_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

/* Checks the endpoint is the tenant's (the read model: one prepared statement, no
 * transaction; the telemetry reads below filter on the tenant anyway). */
static sw_status own_endpoint(store_conn *c, const bus_req *req)
{
    bool owned = false;
    sw_status st = endpoints_owned(c, req, &owned);
    return st == SW_OK && !owned ? SW_ENOTFOUND : st;
}

static long query_int(const char *query, const char *name, long def, long min, long max)
{
    char key[40];
    snprintf(key, sizeof(key), "%s=", name);
    for (const char *p = query; p && *p;) {
        if (strncmp(p, key, strlen(key)) == 0) {
            char *end = NULL;
            long v = strtol(p + strlen(key), &end, 10);
            if (end != p + strlen(key) && (*end == '&' || *end == '\0'))
                return v < min ? min : v > max ? max : v;
            return def;
        }
        const char *amp = strchr(p, '&');
        p = amp ? amp + 1 : NULL;
    }
    return def;
}

static sw_status start(const bus_req *req, bus_reply *rep, store_conn **out)
{
    endpoints_app *app = req->app;
    *out = NULL;
    if (!id_valid(req->param_id))
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Not found.");
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    sw_status st = own_endpoint(c, req);
    if (st == SW_OK) {
        *out = c;
        return SW_OK;
    }
    store_release(app->common->db, c);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Not found.");
    return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
}

/* The checks list over both history tables (schema/public/0013_1_check_runs.sql): the
 * exceptions in check_results, newest first, and the runs of first-attempt successes, only as
 * many of the newest runs as can hold the rows asked for (cumulative count; a run cut by
 * `before` counts as none, so it never starves the list), expanded, merged, newest first.
 * $1 tenant $2 endpoint $3 region|NULL $4 ok|NULL $5 before (epoch s)|NULL $6 limit
 * $7 how far back (an interval) $8 since (epoch s)|NULL. */
// clang-format off
static const char *checks_sql =
    "WITH raw AS ("
    "  SELECT checked_at, region, attempt, ok, http_status, error, total_ms, dns_ms, connect_ms,"
    "    tls_ms, ttfb_ms FROM public.check_results"
    "  WHERE tenant_id = $1 AND endpoint_id = $2::uuid AND ($3::text IS NULL OR region = $3)"
    "    AND ($4::boolean IS NULL OR ok = $4)"
    "    AND ($5::float8 IS NULL OR checked_at < to_timestamp($5::float8))"
    "    AND due_at >= now() - $7::interval"
    "    AND ($8::float8 IS NULL OR checked_at >= to_timestamp($8::float8))"
    "  ORDER BY checked_at DESC LIMIT $6::int),"
    " runs AS ("
    "  SELECT window_start, region, data FROM ("
    "    SELECT *, sum(CASE WHEN $5::float8 IS NULL OR window_start + interval '10 minutes'"
    "                       <= to_timestamp($5::float8) THEN n ELSE 0 END)"
    "             OVER (ORDER BY window_start DESC, region) AS cum FROM ("
    "      SELECT window_start, region, n, data FROM public.check_runs"
    "      WHERE tenant_id = $1 AND endpoint_id = $2::uuid AND ($3::text IS NULL OR region = $3)"
    "        AND coalesce($4::boolean, true)"
    "        AND ($5::float8 IS NULL OR window_start < to_timestamp($5::float8))"
    "        AND window_start >= now() - $7::interval - interval '10 minutes'"
    "        AND ($8::float8 IS NULL"
    "             OR window_start >= to_timestamp($8::float8) - interval '10 minutes')"
    "      ORDER BY window_start DESC LIMIT $6::int) x) y"
    "  WHERE cum - n < $6::int),"
    " all_rows AS ("
    "  SELECT * FROM raw"
    "  UNION ALL"
    "  SELECT r.window_start + make_interval(secs => e.due_off) + e.late_ms * interval '1 ms',"
    "    r.region, 1::smallint, true, nullif(e.http_status, 0)::smallint, NULL::text,"
    "    (e.total_us / 1000.0)::real, (e.dns_us / 1000.0)::real, (e.connect_us / 1000.0)::real,"
    "    (e.tls_us / 1000.0)::real, (e.ttfb_us / 1000.0)::real"
    "  FROM runs r CROSS JOIN LATERAL public.check_run_entries(r.data) e)"
    " SELECT to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    "   AS checked_at, region, attempt, ok, http_status, error,"
    "   round(total_ms)::int AS latency_ms, dns_ms, connect_ms, tls_ms, ttfb_ms"
    " FROM all_rows WHERE ($5::float8 IS NULL OR checked_at < to_timestamp($5::float8))"
    "   AND ($8::float8 IS NULL OR checked_at >= to_timestamp($8::float8))"
    " ORDER BY all_rows.checked_at DESC LIMIT $6::int";
// clang-format on

sw_status endpoints_history_checks(store_conn *c, const char *tenant, const char *endpoint,
                                   const endpoints_checks_filter *f, json_t **rows)
{
    char limit[16], before[32], since[32];
    const char *ok = f->ok < 0 ? NULL : f->ok ? "true" : "false";
    *rows = NULL;
    snprintf(limit, sizeof(limit), "%d",
             f->limit < 1 ? 1 : f->limit > CHECKS_DEPTH_MAX ? CHECKS_DEPTH_MAX : f->limit);
    snprintf(before, sizeof(before), "%.3f", (double)f->before_ms / 1000.0);
    snprintf(since, sizeof(since), "%.3f", (double)f->since_ms / 1000.0);
    /* The last day first (it prunes the older day partitions); all of the history when that
     * day holds fewer rows than asked for. */
    const char *p[] = {tenant,
                       endpoint,
                       f->region,
                       ok,
                       f->before_ms > 0 ? before : NULL,
                       limit,
                       "1 day",
                       f->since_ms > 0 ? since : NULL};
    sw_status st = store_query_prepared_json(c, rows, "endpoints_history_checks", checks_sql, 8, p);
    if (st == SW_OK && json_array_size(*rows) < (size_t)atoi(limit)) {
        json_decref(*rows);
        *rows = NULL;
        p[6] = "100 years";
        st = store_query_prepared_json(c, rows, "endpoints_history_checks", checks_sql, 8, p);
    }
    return st;
}

/* The raw value of key in the query string (percent-decoded, at most len-1 bytes); false when
 * absent. */
static bool query_value(const char *query, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t seg = strcspn(p, "&");
        if (seg >= kl && strncmp(p, key, kl) == 0 && (p[kl] == '=' || seg == kl)) {
            size_t o = 0;
            for (size_t i = kl + 1; i < seg && o + 1 < len; i++) {
                char ch = p[i];
                if (ch == '%' && i + 2 < seg && isxdigit((unsigned char)p[i + 1]) &&
                    isxdigit((unsigned char)p[i + 2])) {
                    char hex[3] = {p[i + 1], p[i + 2], 0};
                    ch = (char)strtol(hex, NULL, 16);
                    i += 2;
                } else if (ch == '+') {
                    ch = ' ';
                }
                out[o++] = ch;
            }
            out[o] = '\0';
            return true;
        }
        p += seg;
        while (*p == '&')
            p++;
    }
    return false;
}

/* ISO 8601 / RFC 3339 (2026-12-01, 2026-12-01T10:00:00Z, ...T10:00:00.250+01:00) as epoch ms;
 * -1 when it is not one. */
static int64_t iso_ms(const char *s)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    double frac = 0;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    const char *p = s + n;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8)
            return -1;
        p += 1 + m;
        if (*p == '.') {
            char *end = NULL;
            frac = strtod(p, &end);
            p = end;
        }
        int off = 0;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh = 0, om = 0, k = 0;
            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
                return -1;
            off = (oh * 60 + om) * (*p == '+' ? 1 : -1);
            p += 1 + k;
        } else {
            return -1; /* a time needs its offset */
        }
        sec -= off * 60;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    return (int64_t)t * 1000 + (int64_t)(frac * 1000);
}

/* A positive integer of at most 9 digits, or -1. */
static long positive(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return -1;
    long v = strtol(s, NULL, 10);
    return v > 0 ? v : -1;
}

/* The link to another page of this route: the caller's query with page replaced. */
static json_t *page_link(const bus_req *req, const char *route, long page, long size)
{
    char link[1024], q[600] = "";
    size_t o = 0;
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    for (const char *p = req->query; p && *p;) {
        size_t seg = strcspn(p, "&");
        bool drop = (seg >= 4 && strncmp(p, "page", 4) == 0) ||
                    (seg >= 5 && strncmp(p, "limit", 5) == 0) || seg == 0 || seg > 200;
        for (size_t i = 0; i < seg && !drop; i++)
            drop = strchr("\"\\ \r\n<>", p[i]) != NULL;
        if (!drop && o + seg + 2 < sizeof(q)) {
            memcpy(q + o, p, seg);
            o += seg;
            q[o++] = '&';
            q[o] = '\0';
        }
        p += seg;
        while (*p == '&')
            p++;
    }
    snprintf(link, sizeof(link), "%s/api/endpoints/%s/%s/?%spage=%ld&page_size=%ld", base,
             req->param_id, route, q, page, size);
    return json_string(link);
}

/* Attempts matching the filters: exceptions counted, runs summed (expanded where a window
 * straddles since or until). $1 tenant $2 endpoint $3 region $4 ok $5 until $6 since (epoch s). */
// clang-format off
static const char *count_sql =
    "SELECT ((SELECT count(*) FROM public.check_results"
    "  WHERE tenant_id = $1 AND endpoint_id = $2::uuid AND ($3::text IS NULL OR region = $3)"
    "    AND ($4::boolean IS NULL OR ok = $4)"
    "    AND ($5::float8 IS NULL OR checked_at < to_timestamp($5::float8))"
    "    AND ($6::float8 IS NULL OR checked_at >= to_timestamp($6::float8)))"
    " + (SELECT coalesce(sum(CASE"
    "    WHEN ($6::float8 IS NULL OR window_start - interval '1 hour' >= to_timestamp($6::float8))"
    "     AND ($5::float8 IS NULL"
    "          OR window_start + interval '70 minutes' < to_timestamp($5::float8)) THEN n"
    "    ELSE (SELECT count(*) FROM public.check_run_entries(r.data) e"
    "      WHERE ($6::float8 IS NULL OR r.window_start + make_interval(secs => e.due_off)"
    "              + e.late_ms * interval '1 ms' >= to_timestamp($6::float8))"
    "        AND ($5::float8 IS NULL OR r.window_start + make_interval(secs => e.due_off)"
    "              + e.late_ms * interval '1 ms' < to_timestamp($5::float8))) END), 0)"
    "  FROM public.check_runs r"
    "  WHERE tenant_id = $1 AND endpoint_id = $2::uuid AND ($3::text IS NULL OR region = $3)"
    "    AND coalesce($4::boolean, true)"
    "    AND ($5::float8 IS NULL OR window_start < to_timestamp($5::float8))"
    "    AND ($6::float8 IS NULL"
    "         OR window_start >= to_timestamp($6::float8) - interval '2 hours')))::bigint AS n";
// clang-format on

sw_status endpoints_checks(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    store_conn *c = NULL;
    json_t *rows = NULL, *cnt = NULL;
    char val[80], region[40] = "";
    endpoints_checks_filter f = {.region = NULL, .ok = -1};
    bool bad = false, paged = false;
    long page = 1, size = PAGE_SIZE_DEFAULT;

    if (query_value(req->query, "since", val, sizeof(val))) {
        f.since_ms = iso_ms(val);
        if (f.since_ms < 0) {
            bus_reply_field_error(rep, "since", "Enter a date and time in ISO 8601 format.");
            bad = true;
        }
    }
    if (query_value(req->query, "until", val, sizeof(val))) {
        f.before_ms = iso_ms(val);
        if (f.before_ms <= 0) {
            bus_reply_field_error(rep, "until", "Enter a date and time in ISO 8601 format.");
            bad = true;
        }
    }
    if (query_value(req->query, "region", val, sizeof(val))) {
        size_t n = strlen(val);
        if (n == 0 || n > 32 || strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
            bus_reply_field_error(rep, "region", "Not a valid region name.");
            bad = true;
        } else {
            snprintf(region, sizeof(region), "%s", val);
            f.region = region;
        }
    }
    if (query_value(req->query, "ok", val, sizeof(val))) {
        if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
            f.ok = 1;
        else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
            f.ok = 0;
        else {
            bus_reply_field_error(rep, "ok", "Must be a valid boolean.");
            bad = true;
        }
    }
    if (bad)
        return SW_EINVAL;
    /* DRF PageNumberPagination, as the endpoints list; the legacy limit without it. */
    if (query_value(req->query, "page_size", val, sizeof(val)) && positive(val) > 0) {
        size = positive(val) > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : positive(val);
        paged = true;
    }
    if (query_value(req->query, "page", val, sizeof(val))) {
        page = positive(val);
        paged = true;
        if (page < 1)
            return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }
    if (!paged)
        size = query_int(req->query, "limit", 50, 1, 500); /* the list before pagination */
    if (page * size > CHECKS_DEPTH_MAX)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");

    sw_status st = start(req, rep, &c);
    if (st != SW_OK)
        return st;
    f.limit = (int)(page * size);
    st = endpoints_history_checks(c, req->tenant, req->param_id, &f, &rows);
    char before[32], since[32];
    snprintf(before, sizeof(before), "%.3f", (double)f.before_ms / 1000.0);
    snprintf(since, sizeof(since), "%.3f", (double)f.since_ms / 1000.0);
    const char *pc[] = {req->tenant,
                        req->param_id,
                        f.region,
                        f.ok < 0 ? NULL : f.ok ? "true" : "false",
                        f.before_ms > 0 ? before : NULL,
                        f.since_ms > 0 ? since : NULL};
    if (st == SW_OK)
        st = store_query_prepared_json(c, &cnt, "endpoints_history_count", count_sql, 6, pc);
    store_release(app->common->db, c);
    if (st != SW_OK) {
        json_decref(rows);
        json_decref(cnt);
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    }
    json_int_t count = json_integer_value(json_object_get(json_array_get(cnt, 0), "n"));
    json_decref(cnt);
    /* The list may see a check the count did not (or the other way round) while results
     * arrive: the count is at least what the page shows. */
    long offset = (page - 1) * size;
    if (count < (json_int_t)json_array_size(rows))
        count = (json_int_t)json_array_size(rows);
    if (page > 1 && (size_t)offset >= json_array_size(rows)) {
        json_decref(rows);
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }
    json_t *results = json_array();
    for (size_t i = (size_t)offset; i < json_array_size(rows) && i < (size_t)(offset + size); i++)
        json_array_append(results, json_array_get(rows, i));
    json_decref(rows);
    bool more = (json_int_t)(offset + size) < count && page * size < CHECKS_DEPTH_MAX;
    bus_reply_json(rep, json_pack("{s:I,s:o,s:o,s:o}", "count", count, "next",
                                  more ? page_link(req, "checks", page + 1, size) : json_null(),
                                  "previous",
                                  page > 1 ? page_link(req, "checks", page - 1, size) : json_null(),
                                  "results", results));
    return SW_OK;
}

/* The latency under which a fraction q of the successful checks fell (bucket upper bound). */
static json_t *percentile(const json_t *buckets, double q)
{
    json_int_t total = 0, seen = 0;
    size_t i;
    json_t *v;
    json_array_foreach(buckets, i, v) total += json_integer_value(v);
    if (total == 0)
        return json_null();
    json_array_foreach(buckets, i, v)
    {
        seen += json_integer_value(v);
        if ((double)seen >= q * (double)total)
            return json_real(bucket_upper[i < 14 ? i : 13]);
    }
    return json_real(bucket_upper[13]);
}

static json_t *window_json(const json_t *r)
{
    json_int_t checks = json_integer_value(json_object_get(r, "checks"));
    json_int_t failures = json_integer_value(json_object_get(r, "failures"));
    double sum = json_number_value(json_object_get(r, "latency_sum"));
    json_int_t ok = checks - failures;
    json_t *lat =
        json_pack("{s:o,s:o,s:o}", "avg", ok > 0 ? json_real(sum / (double)ok) : json_null(),
                  "p50", percentile(json_object_get(r, "buckets"), 0.50), "p95",
                  percentile(json_object_get(r, "buckets"), 0.95));
    return json_pack("{s:I,s:I,s:o,s:o}", "checks", checks, "failures", failures, "uptime_percent",
                     checks > 0 ? json_real(100.0 * (double)ok / (double)checks) : json_null(),
                     "latency_ms", lat);
}

sw_status endpoints_uptime(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    store_conn *c = NULL;
    json_t *rows = NULL, *buckets = NULL;
    char val[16];
    const char *only = NULL;
    long days = 0;
    if (query_value(req->query, "days", val, sizeof(val))) {
        days = positive(val);
        only = days == 1 ? "24h" : days == 7 ? "7d" : days == 30 ? "30d" : days == 90 ? "90d" : NULL;
        if (!only) {
            bus_reply_field_error(rep, "days", "Select one of 1, 7, 30 or 90.");
            return SW_EINVAL;
        }
    }
    sw_status st = start(req, rep, &c);
    if (st != SW_OK)
        return st;
    const char *p[] = {req->tenant, req->param_id, only};
    st = store_query_prepared_json(
        c, &rows, "endpoints_uptime4",
        "SELECT w.name, coalesce(sum(h.checks), 0)::bigint AS checks,"
        " coalesce(sum(h.failures), 0)::bigint AS failures,"
        " coalesce(sum(h.latency_sum), 0) AS latency_sum,"
        " to_json(ARRAY(SELECT coalesce(sum(b.v), 0)::bigint FROM public.check_rollups_hourly h2,"
        "   unnest(h2.buckets) WITH ORDINALITY AS b(v, i)"
        "   WHERE h2.tenant_id = $1 AND h2.endpoint_id = $2::uuid AND h2.hour >= now() - w.span"
        "   GROUP BY b.i ORDER BY b.i)) AS buckets"
        " FROM (VALUES ('24h', interval '24 hours', 1), ('7d', interval '7 days', 2),"
        "              ('30d', interval '30 days', 3), ('90d', interval '90 days', 4))"
        "   AS w(name, span, ord)"
        " LEFT JOIN public.check_rollups_hourly h ON h.tenant_id = $1"
        "  AND h.endpoint_id = $2::uuid AND h.hour >= now() - w.span"
        " WHERE $3::text IS NULL OR w.name = $3"
        " GROUP BY w.name, w.span, w.ord ORDER BY w.ord",
        3, p);
    /* The window's buckets, every one present: hours of the last day, or UTC days. */
    char n[16];
    snprintf(n, sizeof(n), "%ld", days == 1 ? 24 : days);
    const char *pb[] = {req->tenant, req->param_id, days == 1 ? "hour" : "day", n};
    if (st == SW_OK && days > 0)
        st = store_query_prepared_json(
            c, &buckets, "endpoints_uptime_buckets",
            "SELECT to_char(b.start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS start,"
            " coalesce(sum(h.checks), 0)::bigint AS checks,"
            " coalesce(sum(h.failures), 0)::bigint AS failures"
            " FROM (SELECT date_trunc($3, now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
            "   - k * ('1 ' || $3)::interval AS start"
            "   FROM generate_series(0, $4::int - 1) k) b"
            " LEFT JOIN public.check_rollups_hourly h ON h.tenant_id = $1"
            "  AND h.endpoint_id = $2::uuid AND h.hour >= b.start"
            "  AND h.hour < b.start + ('1 ' || $3)::interval"
            " GROUP BY b.start ORDER BY b.start",
            4, pb);
    store_release(app->common->db, c);
    if (st != SW_OK) {
        json_decref(rows);
        json_decref(buckets);
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    }
    json_t *windows = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_object_set_new(windows, json_string_value(json_object_get(r, "name")),
                            window_json(r));
    }
    json_decref(rows);
    json_t *body = json_pack("{s:s,s:o}", "endpoint_id", req->param_id, "windows", windows);
    if (days > 0) {
        json_t *list = json_array();
        json_array_foreach(buckets, i, r)
        {
            json_int_t checks = json_integer_value(json_object_get(r, "checks"));
            json_int_t failures = json_integer_value(json_object_get(r, "failures"));
            json_array_append_new(
                list, json_pack("{s:O,s:I,s:I,s:o}", "start", json_object_get(r, "start"),
                                "checks", checks, "failures", failures, "uptime_percent",
                                checks > 0 ? json_real(100.0 * (double)(checks - failures) /
                                                       (double)checks)
                                           : json_null()));
        }
        json_object_set_new(body, "days", json_integer(days));
        json_object_set_new(body, "buckets", list);
    }
    json_decref(buckets);
    bus_reply_json(rep, body);
    return SW_OK;
}

/* The latency under which a fraction q of the histogram's checks fell, interpolated linearly
 * inside its bucket (0 .. the first bound for the first one); -1 without checks. */
static double interpolated(const json_int_t *h, double q)
{
    json_int_t total = 0, seen = 0;
    for (int i = 0; i < 14; i++)
        total += h[i];
    if (total == 0)
        return -1;
    double want = q * (double)total;
    for (int i = 0; i < 14; i++) {
        if (h[i] > 0 && (double)(seen + h[i]) >= want) {
            double lo = i == 0 ? 0 : bucket_upper[i - 1], hi = bucket_upper[i];
            double f = (want - (double)seen) / (double)h[i];
            return lo + (f < 0 ? 0 : f > 1 ? 1 : f) * (hi - lo);
        }
        seen += h[i];
    }
    return bucket_upper[13];
}

static void add_point(json_t *points, long long start, const json_int_t *h)
{
    json_int_t n = 0;
    for (int i = 0; i < 14; i++)
        n += h[i];
    if (n == 0)
        return;
    char at[32];
    time_t t = (time_t)start;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_array_append_new(
        points, json_pack("{s:s,s:I,s:f,s:f,s:f}", "start", at, "checks", n, "p50_ms",
                          interpolated(h, 0.50), "p95_ms", interpolated(h, 0.95), "p99_ms",
                          interpolated(h, 0.99)));
}

sw_status endpoints_response_times(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    store_conn *c = NULL;
    json_t *rows = NULL;
    char period[16] = "24h";
    const char *span = "24 hours", *bucket = "3600";
    if (query_value(req->query, "period", period, sizeof(period))) {
        if (strcmp(period, "7d") == 0) {
            span = "7 days";
            bucket = "21600";
        } else if (strcmp(period, "30d") == 0) {
            span = "30 days";
            bucket = "86400";
        } else if (strcmp(period, "24h") != 0) {
            bus_reply_field_error(rep, "period", "Select one of 24h, 7d or 30d.");
            return SW_EINVAL;
        }
    }
    sw_status st = start(req, rep, &c);
    if (st != SW_OK)
        return st;
    const char *p[] = {req->tenant, req->param_id, bucket, span};
    st = store_query_prepared_json(
        c, &rows, "endpoints_response_times",
        "SELECT region, (floor(extract(epoch FROM hour) / $3::int) * $3::int)::bigint AS start,"
        " to_json(buckets) AS h FROM public.check_rollups_hourly"
        " WHERE tenant_id = $1 AND endpoint_id = $2::uuid AND hour >= now() - $4::interval"
        " ORDER BY region, hour",
        4, p);
    store_release(app->common->db, c);
    if (st != SW_OK)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    /* Rows come by region and hour: merge each bucket's hours as they pass. */
    json_t *series = json_array(), *points = NULL;
    const char *cur_region = NULL;
    long long cur_start = -1;
    json_int_t h[14] = {0};
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *region = json_string_value(json_object_get(r, "region"));
        long long st_epoch = (long long)json_integer_value(json_object_get(r, "start"));
        if (!region)
            region = "";
        if (!cur_region || strcmp(region, cur_region) != 0) {
            if (points)
                add_point(points, cur_start, h);
            points = json_array();
            json_array_append_new(series,
                                  json_pack("{s:s,s:o}", "region", region, "points", points));
            cur_region = region;
            cur_start = st_epoch;
            memset(h, 0, sizeof(h));
        } else if (st_epoch != cur_start) {
            add_point(points, cur_start, h);
            cur_start = st_epoch;
            memset(h, 0, sizeof(h));
        }
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(r, "h"), k, v) if (k < 14) h[k] += json_integer_value(v);
    }
    if (points)
        add_point(points, cur_start, h);
    json_decref(rows);
    bus_reply_json(rep, json_pack("{s:s,s:s,s:i,s:o}", "endpoint_id", req->param_id, "period",
                                  period, "bucket_seconds", atoi(bucket), "series", series));
    return SW_OK;
}

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

sw_status endpoints_incidents(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    store_conn *c = NULL;
    json_t *rows = NULL, *cnt = NULL;
    char val[16], limit[16], offset[16];
    long page = 1, size = PAGE_SIZE_DEFAULT;
    if (query_value(req->query, "page_size", val, sizeof(val)) && positive(val) > 0)
        size = positive(val) > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : positive(val);
    if (query_value(req->query, "page", val, sizeof(val))) {
        page = positive(val);
        if (page < 1)
            return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }
    sw_status st = start(req, rep, &c);
    if (st != SW_OK)
        return st;
    snprintf(limit, sizeof(limit), "%ld", size);
    snprintf(offset, sizeof(offset), "%ld", (page - 1) * size);
    const char *p[] = {req->param_id, limit, offset};
    /* incidents is the tenant's table (the recorder writes it): the tenant's schema. */
    st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_OK)
        st = store_query(c, &cnt, NULL,
                         "SELECT count(*) AS n FROM incidents WHERE endpoint_id = $1::uuid", 1, p);
    if (st == SW_OK)
        st = store_query(c, &rows, NULL,
                         "SELECT id::text AS id, endpoint_id::text AS endpoint_id, kind,"
                         " " TS("opened_at") " AS opened_at, " TS("closed_at") " AS closed_at,"
                         " greatest(extract(epoch FROM coalesce(closed_at, now()) - opened_at),"
                         "   0)::bigint AS duration_seconds, cause"
                         " FROM incidents WHERE endpoint_id = $1::uuid"
                         " ORDER BY opened_at DESC, id LIMIT $2::int OFFSET $3::int",
                         3, p);
    store_tx_rollback(c);
    store_release(app->common->db, c);
    if (st != SW_OK) {
        json_decref(rows);
        json_decref(cnt);
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    }
    json_int_t count = json_integer_value(json_object_get(json_array_get(cnt, 0), "n"));
    json_decref(cnt);
    if (page > 1 && json_array_size(rows) == 0) {
        json_decref(rows);
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }
    bool more = (json_int_t)(page * size) < count;
    bus_reply_json(rep, json_pack("{s:I,s:o,s:o,s:o}", "count", count, "next",
                                  more ? page_link(req, "incidents", page + 1, size) : json_null(),
                                  "previous",
                                  page > 1 ? page_link(req, "incidents", page - 1, size)
                                           : json_null(),
                                  "results", rows));
    return SW_OK;
}
