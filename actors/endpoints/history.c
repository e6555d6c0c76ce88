/* GET /api/endpoints/{id}/checks/ (recent attempts, newest first) and
 * GET /api/endpoints/{id}/uptime/ (uptime % and latency p50/p95 over 24 h, 7 d and 30 d from
 * the hourly roll-ups). Both read the shared telemetry tables filtered on the verified tenant,
 * after checking the endpoint is the tenant's own (404 otherwise, never 403). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/endpoints/endpoints.h"
#include "actors/common/role.h"

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
 * $7 how far back (an interval). */
// clang-format off
static const char *checks_sql =
    "WITH raw AS ("
    "  SELECT checked_at, region, attempt, ok, http_status, error, total_ms, dns_ms, connect_ms,"
    "    tls_ms, ttfb_ms FROM public.check_results"
    "  WHERE tenant_id = $1 AND endpoint_id = $2::uuid AND ($3::text IS NULL OR region = $3)"
    "    AND ($4::boolean IS NULL OR ok = $4)"
    "    AND ($5::float8 IS NULL OR checked_at < to_timestamp($5::float8))"
    "    AND due_at >= now() - $7::interval"
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
    " FROM all_rows WHERE $5::float8 IS NULL OR checked_at < to_timestamp($5::float8)"
    " ORDER BY all_rows.checked_at DESC LIMIT $6::int";
// clang-format on

sw_status endpoints_history_checks(store_conn *c, const char *tenant, const char *endpoint,
                                   const endpoints_checks_filter *f, json_t **rows)
{
    char limit[16], before[32];
    const char *ok = f->ok < 0 ? NULL : f->ok ? "true" : "false";
    *rows = NULL;
    snprintf(limit, sizeof(limit), "%d", f->limit < 1 ? 1 : f->limit > 500 ? 500 : f->limit);
    snprintf(before, sizeof(before), "%.3f", (double)f->before_ms / 1000.0);
    /* The last day first (it prunes the older day partitions); all of the history when that
     * day holds fewer rows than asked for. */
    const char *p[] = {tenant, endpoint, f->region, ok, f->before_ms > 0 ? before : NULL,
                       limit,  "1 day"};
    sw_status st = store_query_prepared_json(c, rows, "endpoints_history_checks", checks_sql, 7, p);
    if (st == SW_OK && json_array_size(*rows) < (size_t)atoi(limit)) {
        json_decref(*rows);
        *rows = NULL;
        p[6] = "100 years";
        st = store_query_prepared_json(c, rows, "endpoints_history_checks", checks_sql, 7, p);
    }
    return st;
}

sw_status endpoints_checks(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    store_conn *c = NULL;
    json_t *rows = NULL;
    sw_status st = start(req, rep, &c);
    if (st != SW_OK)
        return st;
    endpoints_checks_filter f = {NULL, -1, 0, (int)query_int(req->query, "limit", 50, 1, 500)};
    st = endpoints_history_checks(c, req->tenant, req->param_id, &f, &rows);
    store_release(app->common->db, c);
    if (st != SW_OK)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    bus_reply_json(
        rep, json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(rows), "results", rows));
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

sw_status endpoints_uptime(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    store_conn *c = NULL;
    json_t *rows = NULL;
    sw_status st = start(req, rep, &c);
    if (st != SW_OK)
        return st;
    const char *p[] = {req->tenant, req->param_id};
    st = store_query_prepared_json(
        c, &rows, "endpoints_uptime",
        "SELECT w.name, coalesce(sum(h.checks), 0)::bigint AS checks,"
        " coalesce(sum(h.failures), 0)::bigint AS failures,"
        " coalesce(sum(h.latency_sum), 0) AS latency_sum,"
        " to_json(ARRAY(SELECT coalesce(sum(b.v), 0)::bigint FROM public.check_rollups_hourly h2,"
        "   unnest(h2.buckets) WITH ORDINALITY AS b(v, i)"
        "   WHERE h2.tenant_id = $1 AND h2.endpoint_id = $2::uuid AND h2.hour >= now() - w.span"
        "   GROUP BY b.i ORDER BY b.i)) AS buckets"
        " FROM (VALUES ('24h', interval '24 hours', 1), ('7d', interval '7 days', 2),"
        "              ('30d', interval '30 days', 3)) AS w(name, span, ord)"
        " LEFT JOIN public.check_rollups_hourly h ON h.tenant_id = $1"
        "  AND h.endpoint_id = $2::uuid AND h.hour >= now() - w.span"
        " GROUP BY w.name, w.span, w.ord ORDER BY w.ord",
        2, p);
    store_release(app->common->db, c);
    if (st != SW_OK)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    json_t *windows = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_int_t checks = json_integer_value(json_object_get(r, "checks"));
        json_int_t failures = json_integer_value(json_object_get(r, "failures"));
        double sum = json_number_value(json_object_get(r, "latency_sum"));
        json_int_t ok = checks - failures;
        json_t *lat =
            json_pack("{s:o,s:o,s:o}", "avg", ok > 0 ? json_real(sum / (double)ok) : json_null(),
                      "p50", percentile(json_object_get(r, "buckets"), 0.50), "p95",
                      percentile(json_object_get(r, "buckets"), 0.95));
        json_object_set_new(
            windows, json_string_value(json_object_get(r, "name")),
            json_pack("{s:I,s:I,s:o,s:o}", "checks", checks, "failures", failures, "uptime_percent",
                      checks > 0 ? json_real(100.0 * (double)ok / (double)checks) : json_null(),
                      "latency_ms", lat));
    }
    json_decref(rows);
    bus_reply_json(rep, json_pack("{s:s,s:o}", "endpoint_id", req->param_id, "windows", windows));
    return SW_OK;
}
