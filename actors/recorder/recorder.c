/* Batches of results to rows, roll-ups, state and incidents; see recorder.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/plans.h"
#include "actors/recorder/recorder.h"
#include "actors/recorder/state.h"
#include "bus/config.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"

typedef struct recorder {
    store_pool *db;
    int batch;
    int64_t last_maintenance_ns;
} recorder;

/* The count of successful checks in latency bucket b (bounds: bus/contract.h). */
#define WB(b)                                                                                      \
    "count(*) FILTER (WHERE ok AND width_bucket(total_ms::real, " BUS_ROLLUP_MS_BOUNDS_SQL         \
    ") = " #b ")::int"

/* A first-attempt success, packed for its run (schema/public/0013_1_check_runs.sql): 28
 * bytes, big-endian. */
#define PACKED_ENTRY                                                                               \
    "int2send(off::int2) || int4send((checked_at_ms - due_epoch * 1000)::int)"                     \
    " || int2send(http_status::int2) || int4send(round(total_ms * 1000)::int)"                     \
    " || int4send(round(dns_ms * 1000)::int) || int4send(round(connect_ms * 1000)::int)"           \
    " || int4send(round(tls_ms * 1000)::int) || int4send(round(ttfb_ms * 1000)::int)"

/* One statement (after the batch's endpoints are locked, so what it reads of check_runs is
 * exact): 1. the results joined with the recorder's own data: the endpoint's schedule
 * (thresholds, regions) and its tenant's plan. A result is allowed only when the endpoint is
 * its subject's tenant's and scheduled in its subject's region (the decoder has checked that
 * the payload names the subject's tenant and region); one for an endpoint no longer scheduled
 * (deleted or paused in flight) is dropped. 2. each allowed one, once per job and attempt,
 * goes to one place: a first-attempt success newer than its run's newest check is appended to
 * the run (check_runs); one already in its run is a redelivery and dropped; anything else
 * (failures, retries, late arrivals) is a row of check_results (duplicates dropped). 3. what
 * was stored is folded into the hourly roll-ups per region, 4. and returned in time order for
 * the state machine, after the refused ones (stored = false). */
// clang-format off
static const char *insert_sql =
    "WITH r AS ("
    "  SELECT * FROM json_to_recordset($1::json) AS x(job_id text, attempt int, tenant_id text,"
    "    endpoint_id uuid, region text, due_epoch bigint, checked_at_ms bigint, ok boolean,"
    "    http_status int, error text, dns_ms float8, connect_ms float8, tls_ms float8,"
    "    ttfb_ms float8, total_ms float8, tls_expires_at bigint, tls_issuer text,"
    "    tls_subject text)),"
    " v AS ("
    "  SELECT r.*, coalesce(sub.plan, 'free') AS plan, s.failure_threshold, s.recovery_threshold,"
    "    cardinality(s.regions) AS regions_total,"
    "    (s.tenant_id = r.tenant_id AND r.region = ANY (s.regions)) AS allowed,"
    /* issue 17: a pass slower than the endpoint's degraded threshold counts toward degraded,
     * and is kept as an exception (check_results, with why) rather than packed */
    "    (r.ok AND s.degraded_threshold_ms IS NOT NULL"
    "     AND r.total_ms > s.degraded_threshold_ms) AS slow, s.degraded_threshold_ms AS slow_ms,"
    /* a job due before the endpoint's last edit ran the old settings: dropped, unrecorded */
    "    (s.changed_at IS NOT NULL"
    "     AND r.due_epoch < floor(extract(epoch FROM s.changed_at))) AS stale"
    "  FROM r JOIN public.schedule s ON s.endpoint_id = r.endpoint_id"
    "    LEFT JOIN public.subscriptions sub ON sub.tenant_id = s.tenant_id),"
    " a AS ("
    "  SELECT DISTINCT ON (job_id, attempt) v.*,"
    "    to_timestamp(due_epoch - due_epoch % 600) AS win, (due_epoch % 600)::int AS off,"
    "    (ok AND NOT slow AND attempt = 1"
    "     AND job_id = endpoint_id::text || ':' || due_epoch || ':' || region"
    "     AND num_nulls(http_status, dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms) = 0"
    "     AND http_status BETWEEN 0 AND 32767"
    "     AND least(dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms) >= 0"
    "     AND greatest(dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms) < 2000000"
    "     AND abs(checked_at_ms - due_epoch * 1000) < 2000000000) AS packable"
    "  FROM v WHERE allowed AND NOT stale ORDER BY job_id, attempt),"
    " k AS ("
    "  SELECT a.*, CASE WHEN NOT a.packable THEN 'raw'"
    "    WHEN c.last_due IS NULL OR a.off > c.last_due THEN 'run'"
    "    WHEN public.check_run_has(c.data, a.off) THEN 'seen' ELSE 'raw' END AS dest"
    "  FROM a LEFT JOIN LATERAL (SELECT last_due, data FROM public.check_runs c"
    "    WHERE a.packable AND c.endpoint_id = a.endpoint_id AND c.window_start = a.win"
    "      AND c.region = a.region AND c.retention = a.plan LIMIT 1) c ON true),"
    " run AS ("
    "  INSERT INTO public.check_runs AS c (window_start, endpoint_id, n, last_due, retention,"
    "    region, tenant_id, data)"
    "  SELECT win, endpoint_id, count(*), max(off), plan, region, tenant_id,"
    "    string_agg(" PACKED_ENTRY ", ''::bytea ORDER BY off)"
    "  FROM k WHERE dest = 'run' GROUP BY win, endpoint_id, plan, region, tenant_id"
    "  ON CONFLICT (endpoint_id, window_start, region, retention) DO UPDATE"
    "  SET n = c.n + excluded.n, last_due = excluded.last_due, data = c.data || excluded.data),"
    " raw AS ("
    "  INSERT INTO public.check_results (due_at, retention, job_id, attempt, tenant_id,"
    "    endpoint_id, region, checked_at, ok, http_status, error, dns_ms, connect_ms, tls_ms,"
    "    ttfb_ms, total_ms)"
    "  SELECT to_timestamp(due_epoch), plan, job_id, attempt, tenant_id, endpoint_id, region,"
    "    to_timestamp(checked_at_ms / 1000.0), ok, nullif(http_status, 0),"
    "    CASE WHEN slow THEN format('slow: %s ms (degraded above %s ms)', round(total_ms),"
    "      slow_ms) ELSE nullif(error, '') END,"
    "    dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms"
    "  FROM k WHERE dest = 'raw'"
    "  ON CONFLICT DO NOTHING"
    "  RETURNING job_id, attempt),"
    " st AS ("
    "  SELECT k.*, to_timestamp(checked_at_ms / 1000.0) AS checked_at FROM k"
    "  WHERE dest = 'run' OR (dest = 'raw'"
    "    AND (job_id, attempt) IN (SELECT job_id, attempt FROM raw))),"
    " roll AS ("
    "  INSERT INTO public.check_rollups_hourly AS h (tenant_id, endpoint_id, region, hour, checks,"
    "    failures, latency_sum, buckets)"
    "  SELECT tenant_id, endpoint_id, region, date_trunc('hour', checked_at), count(*),"
    "    count(*) FILTER (WHERE NOT ok), coalesce(sum(total_ms) FILTER (WHERE ok), 0),"
    "    ARRAY[" WB(0) "," WB(1) "," WB(2) "," WB(3) "," WB(4) "," WB(5) "," WB(6) "," WB(7) ","
                 WB(8) "," WB(9) "," WB(10) "," WB(11) "," WB(12) "," WB(13) "]"
    "  FROM st GROUP BY tenant_id, endpoint_id, region, date_trunc('hour', checked_at)"
    "  ON CONFLICT (endpoint_id, hour, region) DO UPDATE SET checks = h.checks + excluded.checks,"
    "    failures = h.failures + excluded.failures,"
    "    latency_sum = h.latency_sum + excluded.latency_sum,"
    "    buckets = ARRAY(SELECT a + b FROM unnest(h.buckets, excluded.buckets) AS u(a, b)))"
    " SELECT true AS stored, tenant_id, endpoint_id::text AS endpoint_id, region, ok,"
    "   nullif(http_status, 0) AS http_status, nullif(error, '') AS error,"
    "   total_ms::real AS total_ms,"
    "   to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at,"
    "   failure_threshold, recovery_threshold, regions_total, job_id, slow,"
    "   nullif(tls_expires_at, 0) AS tls_expires_at, tls_issuer, tls_subject"
    " FROM st"
    " UNION ALL"
    " SELECT false, tenant_id, endpoint_id::text, region, ok, http_status, error, total_ms::real,"
    "   NULL, NULL, NULL, NULL, job_id, false, NULL, NULL, NULL FROM v WHERE NOT allowed"
    " ORDER BY stored, at";
// clang-format on

/* Serialises the batch's endpoints across recorder instances (before insert_sql reads their
 * runs; new endpoints have no row to lock yet), in a fixed order so two batches never
 * deadlock. */
static const char *lock_sql =
    "SELECT pg_advisory_xact_lock(hashtext(e)) FROM"
    " (SELECT DISTINCT json_array_elements($1::json) ->> 'endpoint_id' AS e ORDER BY 1) x";

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int jint(const json_t *o, const char *k)
{
    return (int)json_integer_value(json_object_get(o, k));
}

sw_status recorder_incident(store_conn *c, recorder_change *ch)
{
    json_t *row = NULL;
    sw_status st = store_exec_script(c, "SAVEPOINT incident");
    if (st == SW_OK)
        st = store_tx_set_tenant(c, ch->tenant);
    if (st != SW_OK)
        goto out;
    const char *p[] = {ch->endpoint, ch->cause};
    const char *pk[] = {ch->endpoint, ch->cause, ch->status};
    bool opens = strcmp(ch->status, "down") == 0 || strcmp(ch->status, "degraded") == 0;
    /* From degraded to down (or back): the one incident closes and the other kind opens. */
    if (opens)
        st = store_query(c, NULL, NULL,
                         "UPDATE incidents SET closed_at = now() WHERE endpoint_id = $1::uuid"
                         " AND closed_at IS NULL AND kind <> $3 AND $2::text IS NOT NULL",
                         3, pk);
    if (opens && st == SW_OK)
        st = store_query_one(c, &row,
                             "INSERT INTO incidents (endpoint_id, opened_at, cause, kind)"
                             " VALUES ($1::uuid, now(), nullif($2, ''), $3)"
                             " ON CONFLICT (endpoint_id) WHERE closed_at IS NULL DO NOTHING"
                             " RETURNING id::text AS id",
                             3, pk);
    else if (!opens)
        st = store_query_one(
            c, &row,
            "UPDATE incidents SET closed_at = now() WHERE endpoint_id = $1::uuid"
            " AND closed_at IS NULL AND $2::text IS NOT NULL RETURNING id::text AS id",
            2, p);
    if (st == SW_OK)
        snprintf(ch->incident, sizeof(ch->incident), "%s", jstr(row, "id"));
    else if (st != SW_ENOTFOUND)
        goto out;
    json_decref(row);
    row = NULL;
    /* What the event names: from the schedule row (sw-endpoints keeps name and URL there). */
    st = store_query_one(c, &row,
                         "SELECT coalesce(name, url) AS name, url FROM public.schedule"
                         " WHERE endpoint_id = $1::uuid",
                         1, p);
    if (st == SW_OK) {
        snprintf(ch->name, sizeof(ch->name), "%s", jstr(row, "name"));
        snprintf(ch->url, sizeof(ch->url), "%s", jstr(row, "url"));
    }
    st = store_exec_script(c, "RESET search_path; RELEASE SAVEPOINT incident");
out:
    if (st != SW_OK) /* a deleted tenant or endpoint must not sink the whole batch */
        st = store_exec_script(c, "ROLLBACK TO SAVEPOINT incident; RESET search_path");
    json_decref(row);
    return st;
}

/* Loads the stored standing of every endpoint in ids (a JSON array text), all regions, into s
 * (one statement; recorder_write has locked them). */
static sw_status load_state(store_conn *c, const char *ids, rec_state *s)
{
    json_t *cur = NULL, *row;
    size_t i;
    const char *p[] = {ids};
    sw_status st =
        store_query(c, &cur, NULL,
                    "SELECT 'r' AS kind, endpoint_id::text AS endpoint_id, region, status,"
                    "  fail_streak, ok_streak, slow_streak"
                    " FROM public.endpoint_region_state"
                    " WHERE endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)"
                    " UNION ALL"
                    " SELECT 'e', endpoint_id::text, '', status, 0, 0, 0"
                    " FROM public.endpoint_state"
                    " WHERE endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)",
                    1, p);
    json_array_foreach(cur, i, row)
    {
        const char *ep = jstr(row, "endpoint_id");
        rec_status status = rec_status_parse(jstr(row, "status"));
        if (strcmp(jstr(row, "kind"), "e") == 0) {
            rec_endpoint *e = rec_state_find_endpoint(s, ep);
            if (e)
                e->old_status = e->new_status = status;
        } else if (!rec_state_region_slow(s, ep, jstr(row, "region"), status,
                                          jint(row, "fail_streak"), jint(row, "ok_streak"),
                                          jint(row, "slow_streak"))) {
            st = SW_EINTERNAL;
            break;
        }
    }
    json_decref(cur);
    return st;
}

/* Writes back the touched regions and every endpoint of the batch (two statements). rows: the
 * stored results, for each endpoint's newest check. */
static sw_status save_state(store_conn *c, const rec_state *s, const json_t *rows)
{
    json_t *up_r = json_array(), *up_e = json_array();
    char *rtext = NULL, *etext = NULL;
    sw_status st = SW_EINTERNAL;
    for (size_t m = 0; m < s->nregions; m++) {
        const rec_region *r = &s->regions[m];
        const rec_endpoint *e = rec_state_find_endpoint((rec_state *)s, r->endpoint);
        if (r->touched && e)
            json_array_append_new(
                up_r, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:i}", "endpoint_id", r->endpoint,
                                "region", r->region, "tenant_id", e->tenant, "status",
                                rec_status_name(r->status), "fail", r->fail_streak, "ok",
                                r->ok_streak, "slow", r->slow_streak));
    }
    for (size_t k = 0; k < s->nendpoints; k++) {
        const rec_endpoint *e = &s->endpoints[k];
        const json_t *last = json_array_get(rows, e->last);
        json_t *o = json_pack(
            "{s:s,s:s,s:s,s:s,s:O,s:O,s:O}", "endpoint_id", e->endpoint, "tenant_id", e->tenant,
            "status", rec_status_name(e->new_status), "at", jstr(last, "at"), "latency",
            json_object_get(last, "total_ms"), "http", json_object_get(last, "http_status"),
            "error", json_object_get(last, "error"));
        /* The certificate of the newest HTTPS check (kept when this batch saw none). */
        if (o && json_is_integer(json_object_get(last, "tls_expires_at"))) {
            json_object_set(o, "tls_exp", json_object_get(last, "tls_expires_at"));
            json_object_set(o, "tls_issuer", json_object_get(last, "tls_issuer"));
            json_object_set(o, "tls_subject", json_object_get(last, "tls_subject"));
        }
        json_array_append_new(up_e, o);
    }
    rtext = json_dumps(up_r, JSON_COMPACT);
    etext = json_dumps(up_e, JSON_COMPACT);
    if (!rtext || !etext)
        goto out;
    const char *p3[] = {rtext};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO public.endpoint_region_state AS s (endpoint_id, region,"
                     "  tenant_id, status, fail_streak, ok_streak, slow_streak, last_at)"
                     " SELECT endpoint_id, region, tenant_id, status, fail, ok, slow, now()"
                     " FROM json_to_recordset($1::json) AS x(endpoint_id uuid, region text,"
                     "  tenant_id text, status text, fail int, ok int, slow int)"
                     " ON CONFLICT (endpoint_id, region) DO UPDATE SET status = excluded.status,"
                     "  fail_streak = excluded.fail_streak, ok_streak = excluded.ok_streak,"
                     "  slow_streak = excluded.slow_streak, last_at = excluded.last_at",
                     1, p3);
    if (st != SW_OK)
        goto out;
    const char *p4[] = {etext};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO public.endpoint_state AS s (endpoint_id, tenant_id, status,"
                     "  last_checked_at, last_latency_ms, last_http_status, last_error, changed_at,"
                     "  tls_expires_at, tls_issuer, tls_subject)"
                     " SELECT endpoint_id, tenant_id, status, at::timestamptz, round(latency),"
                     "  nullif(http, 0), error, now(), to_timestamp(tls_exp),"
                     "  nullif(tls_issuer, ''), nullif(tls_subject, '')"
                     " FROM json_to_recordset($1::json) AS x(endpoint_id uuid, tenant_id text,"
                     "  status text, at text, latency real, http int, error text, tls_exp bigint,"
                     "  tls_issuer text, tls_subject text)"
                     " ON CONFLICT (endpoint_id) DO UPDATE SET status = excluded.status,"
                     "  last_checked_at = excluded.last_checked_at,"
                     "  last_latency_ms = excluded.last_latency_ms,"
                     "  last_http_status = excluded.last_http_status,"
                     "  last_error = excluded.last_error,"
                     /* another certificate: its thresholds start afresh */
                     "  tls_alerted = CASE WHEN excluded.tls_expires_at IS NOT NULL"
                     "   AND excluded.tls_expires_at IS DISTINCT FROM s.tls_expires_at"
                     "   THEN '{}' ELSE s.tls_alerted END,"
                     "  tls_expires_at = coalesce(excluded.tls_expires_at, s.tls_expires_at),"
                     "  tls_issuer = CASE WHEN excluded.tls_expires_at IS NULL THEN s.tls_issuer"
                     "   ELSE excluded.tls_issuer END,"
                     "  tls_subject = CASE WHEN excluded.tls_expires_at IS NULL THEN s.tls_subject"
                     "   ELSE excluded.tls_subject END,"
                     "  changed_at = CASE WHEN s.status <> excluded.status THEN now()"
                     "               ELSE s.changed_at END",
                     1, p4);
out:
    free(rtext);
    free(etext);
    json_decref(up_r);
    json_decref(up_e);
    return st;
}

/* Logs the results the statement refused (another tenant's endpoint, or a region it is not
 * scheduled in): a forged or misrouted publish, never a prober's honest mistake. */
static void log_refused(const json_t *row)
{
    sw_log(SW_LOG_WARN, "result refused: endpoint not scheduled for this tenant and region",
           "tenant_id", jstr(row, "tenant_id"), "region", jstr(row, "region"), "endpoint_id",
           jstr(row, "endpoint_id"), "job_id", jstr(row, "job_id"), NULL);
}

/* Certificates of the batch's endpoints that crossed one of their tls_expiry_alert_days and
 * were not announced for it: each is marked (every threshold crossed) and returned once, with
 * the tightest threshold crossed, so a certificate found 5 days from expiry with thresholds
 * 14, 7 and 1 is announced once (7), then once more at 1 day. eps: JSON array text. */
static const char *tls_sql =
    "WITH due AS ("
    "  SELECT s.endpoint_id, array_agg(d ORDER BY d) AS crossed, min(d) AS threshold"
    "  FROM public.endpoint_state s JOIN public.schedule sc ON sc.endpoint_id = s.endpoint_id"
    "    CROSS JOIN LATERAL unnest(sc.tls_expiry_alert_days) AS d"
    "  WHERE s.endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)"
    "    AND s.tls_expires_at IS NOT NULL AND s.tls_expires_at <= now() + d * interval '1 day'"
    "    AND NOT d = ANY (s.tls_alerted)"
    "  GROUP BY s.endpoint_id)"
    " UPDATE public.endpoint_state s SET tls_alerted = s.tls_alerted || due.crossed"
    " FROM due, public.schedule sc WHERE s.endpoint_id = due.endpoint_id"
    "  AND sc.endpoint_id = s.endpoint_id"
    " RETURNING s.tenant_id, s.endpoint_id::text AS endpoint_id, due.threshold,"
    "  greatest(floor(extract(epoch FROM s.tls_expires_at - now()) / 86400), 0)::int AS days_left,"
    "  extract(epoch FROM s.tls_expires_at)::bigint AS expires_epoch,"
    "  to_char(s.tls_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS expires_at,"
    "  coalesce(s.tls_issuer, '') AS issuer, coalesce(s.tls_subject, '') AS subject,"
    "  coalesce(sc.name, sc.url, '') AS name, coalesce(sc.url, '') AS url";

static sw_status tls_alerts(store_conn *c, const char *eps, recorder_tls_alert **out, size_t *n)
{
    json_t *rows = NULL, *r;
    size_t i;
    const char *p[] = {eps};
    sw_status st = store_query(c, &rows, NULL, tls_sql, 1, p);
    if (st != SW_OK || json_array_size(rows) == 0)
        goto done;
    *out = calloc(json_array_size(rows), sizeof(**out));
    if (!*out) {
        st = SW_EINTERNAL;
        goto done;
    }
    json_array_foreach(rows, i, r)
    {
        recorder_tls_alert *t = &(*out)[(*n)++];
        snprintf(t->tenant, sizeof(t->tenant), "%s", jstr(r, "tenant_id"));
        snprintf(t->endpoint, sizeof(t->endpoint), "%s", jstr(r, "endpoint_id"));
        t->threshold_days = jint(r, "threshold");
        t->days_left = jint(r, "days_left");
        t->expires_epoch = (long long)json_integer_value(json_object_get(r, "expires_epoch"));
        snprintf(t->expires_at, sizeof(t->expires_at), "%s", jstr(r, "expires_at"));
        snprintf(t->issuer, sizeof(t->issuer), "%s", jstr(r, "issuer"));
        snprintf(t->subject, sizeof(t->subject), "%s", jstr(r, "subject"));
        snprintf(t->name, sizeof(t->name), "%s", jstr(r, "name"));
        snprintf(t->url, sizeof(t->url), "%s", jstr(r, "url"));
    }
done:
    json_decref(rows);
    return st;
}

sw_status recorder_write(store_conn *c, const json_t *results, recorder_change **changes,
                         size_t *nchanges, size_t *refused)
{
    recorder_tls_alert *tls = NULL;
    size_t ntls = 0;
    sw_status st = recorder_write_tls(c, results, changes, nchanges, refused, &tls, &ntls);
    free(tls);
    return st;
}

sw_status recorder_write_tls(store_conn *c, const json_t *results, recorder_change **changes,
                             size_t *nchanges, size_t *refused, recorder_tls_alert **tls,
                             size_t *ntls)
{
    bool certs = false;
    json_t *out_rows = NULL, *rows = json_array(), *eps = json_array();
    rec_state state;
    rec_result *in = NULL;
    rec_transition *tr = NULL;
    size_t ntr = 0, nrows = 0;
    char *text = NULL, *eplist = NULL;
    sw_status st;

    rec_state_init(&state);
    *changes = NULL;
    *nchanges = 0;
    *tls = NULL;
    *ntls = 0;
    if (refused)
        *refused = 0;
    text = json_dumps(results, JSON_COMPACT);
    st = text && rows && eps ? store_tx_begin(c) : SW_EINTERNAL;
    if (st != SW_OK)
        goto out;
    const char *p1[] = {text};
    st = store_query(c, NULL, NULL, lock_sql, 1, p1);
    if (st == SW_OK)
        st = store_query(c, &out_rows, NULL, insert_sql, 1, p1);
    if (st != SW_OK)
        goto out;

    /* The stored rows, with the endpoints they touch and their thresholds. */
    size_t i;
    json_t *row;
    json_array_foreach(out_rows, i, row)
    {
        if (!json_is_true(json_object_get(row, "stored"))) {
            log_refused(row);
            if (refused)
                (*refused)++;
            continue;
        }
        const char *ep = jstr(row, "endpoint_id");
        if (!rec_state_find_endpoint(&state, ep)) {
            if (!rec_state_endpoint(&state, ep, jstr(row, "tenant_id"), REC_PENDING,
                                    jint(row, "failure_threshold"), jint(row, "recovery_threshold"),
                                    jint(row, "regions_total"))) {
                st = SW_EINTERNAL;
                goto out;
            }
            json_array_append_new(eps, json_string(ep));
        }
        certs |= json_is_integer(json_object_get(row, "tls_expires_at"));
        json_array_append(rows, row);
    }
    nrows = json_array_size(rows);
    if (nrows == 0)
        goto commit;
    eplist = json_dumps(eps, JSON_COMPACT);
    st = eplist ? load_state(c, eplist, &state) : SW_EINTERNAL;
    if (st != SW_OK)
        goto out;

    /* The state machine, in time order. */
    in = calloc(nrows, sizeof(*in));
    if (!in) {
        st = SW_EINTERNAL;
        goto out;
    }
    json_array_foreach(rows, i, row)
    {
        in[i] = (rec_result){jstr(row, "endpoint_id"), jstr(row, "region"),
                             json_is_true(json_object_get(row, "ok")), jstr(row, "error"),
                             json_is_true(json_object_get(row, "slow"))};
    }
    st = rec_apply(&state, in, nrows, &tr, &ntr);
    if (st == SW_OK)
        st = save_state(c, &state, rows);
    if (st != SW_OK)
        goto out;

    /* Changes between up and down: incidents and what to announce after commit. */
    if (ntr > 0) {
        *changes = calloc(ntr, sizeof(**changes));
        if (!*changes) {
            st = SW_EINTERNAL;
            goto out;
        }
    }
    for (size_t k = 0; k < ntr; k++) {
        const rec_endpoint *e = &state.endpoints[tr[k].endpoint];
        recorder_change *ch = &(*changes)[(*nchanges)++];
        snprintf(ch->tenant, sizeof(ch->tenant), "%s", e->tenant);
        snprintf(ch->endpoint, sizeof(ch->endpoint), "%s", e->endpoint);
        snprintf(ch->status, sizeof(ch->status), "%s", rec_status_name(tr[k].to));
        snprintf(ch->from, sizeof(ch->from), "%s", rec_status_name(tr[k].from));
        snprintf(ch->cause, sizeof(ch->cause), "%s",
                 tr[k].to == REC_DOWN       ? e->cause
                 : tr[k].to == REC_DEGRADED ? "slower than the degraded threshold"
                                            : "recovered");
        st = recorder_incident(c, ch);
        if (st != SW_OK)
            goto out;
    }
    /* Certificates nearing expiry (only batches with HTTPS checks pay for the statement). */
    if (certs) {
        st = tls_alerts(c, eplist, tls, ntls);
        if (st != SW_OK)
            goto out;
    }
commit:
    st = store_tx_commit(c);
out:
    if (st != SW_OK) {
        store_tx_rollback(c);
        free(*changes);
        *changes = NULL;
        *nchanges = 0;
        free(*tls);
        *tls = NULL;
        *ntls = 0;
    }
    rec_state_free(&state);
    free(in);
    free(tr);
    free(text);
    free(eplist);
    json_decref(eps);
    json_decref(rows);
    json_decref(out_rows);
    return st;
}

void recorder_announce(bus_actor *a, const recorder_change *ch)
{
    char subject[BUS_SUBJECT_MAX], kind[32], msg_id[96];
    snprintf(kind, sizeof(kind), "%s%s", BUS_EVT_ENDPOINT_PREFIX, ch->status);
    bus_subject_event(subject, sizeof(subject), ch->tenant, kind);
    json_t *evt = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "endpoint_id", ch->endpoint,
                            "tenant_id", ch->tenant, "status", ch->status, "incident_id",
                            ch->incident, "at_ms", (json_int_t)sw_epoch_ms(), "endpoint_name",
                            ch->name, "url", ch->url, "cause", ch->cause);
    /* Back up from a degradation: no outage ended, so no recovery mail (actors/auth/alerts.c). */
    if (evt && ch->from[0] && strcmp(ch->status, "up") == 0)
        json_object_set_new(evt, "recovered_from", json_string(ch->from));
    snprintf(msg_id, sizeof(msg_id), BUS_ID_ENDPOINT_EVT_FMT, ch->endpoint, ch->status,
             ch->incident[0] ? ch->incident : "none");
    /* One retry covers a publish lost in a reconnect; the msg id makes it harmless. */
    sw_status st = SW_EINTERNAL;
    for (int attempt = 0; evt && attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(bus_actor_js(a), subject, evt, msg_id, NULL);
    json_decref(evt);
    sw_log(st == SW_OK ? SW_LOG_INFO : SW_LOG_ERROR,
           st != SW_OK                           ? "state change not announced"
           : strcmp(ch->status, "down") == 0     ? "endpoint down"
           : strcmp(ch->status, "degraded") == 0 ? "endpoint degraded"
                                                 : "endpoint up",
           "endpoint_id", ch->endpoint, "tenant_id", ch->tenant, "incident_id", ch->incident, NULL);
}

void recorder_announce_tls(bus_actor *a, const recorder_tls_alert *t)
{
    char subject[BUS_SUBJECT_MAX], msg_id[160];
    bus_subject_event(subject, sizeof(subject), t->tenant, BUS_EVT_TLS_EXPIRING);
    snprintf(msg_id, sizeof(msg_id), BUS_ID_TLS_EXPIRING_FMT, t->endpoint, t->expires_epoch,
             t->threshold_days);
    json_t *evt = json_pack("{s:s,s:s,s:i,s:i,s:s,s:I,s:s,s:s,s:s,s:s,s:I}", "endpoint_id",
                            t->endpoint, "tenant_id", t->tenant, "threshold_days",
                            t->threshold_days, "days_left", t->days_left, "expires_at",
                            t->expires_at, "expires_epoch", (json_int_t)t->expires_epoch,
                            "issuer", t->issuer, "subject", t->subject, "endpoint_name", t->name,
                            "url", t->url, "at_ms", (json_int_t)sw_epoch_ms());
    sw_status st = SW_EINTERNAL;
    for (int attempt = 0; evt && attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(bus_actor_js(a), subject, evt, msg_id, NULL);
    json_decref(evt);
    char days[16];
    snprintf(days, sizeof(days), "%d", t->days_left);
    sw_log(st == SW_OK ? SW_LOG_INFO : SW_LOG_ERROR,
           st == SW_OK ? "certificate expiring" : "certificate expiry not announced",
           "endpoint_id", t->endpoint, "tenant_id", t->tenant, "days_left", days, NULL);
}

static void maintenance(recorder *r)
{
    /* Day partitions ahead, expired ones dropped; cheap and idempotent, hourly. */
    if (r->last_maintenance_ns && sw_now_ns() - r->last_maintenance_ns < 3600LL * 1000000000LL)
        return;
    store_conn *c = store_acquire(r->db);
    if (!c)
        return;
    char freed[16], prod[16];
    snprintf(freed, sizeof(freed), "%d", sw_plan_history_days(sw_plan_find("free")));
    snprintf(prod, sizeof(prod), "%d", sw_plan_history_days(sw_plan_find("pro")));
    const char *p[] = {freed, prod};
    if (store_query(c, NULL, NULL, "SELECT public.ensure_check_partitions(1, 3)", 0, NULL) ==
            SW_OK &&
        store_query(c, NULL, NULL, "SELECT public.drop_expired_check_partitions($1::int, $2::int)",
                    2, p) == SW_OK)
        r->last_maintenance_ns = sw_now_ns();
    store_release(r->db, c);
}

/* Judges one message: a result to record (appended to batch, owned there), or one that is
 * terminated on its own, logged and counted. */
static bool take_result(bus_actor *a, natsMsg *m, json_t *batch)
{
    bus_probe_result r;
    json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    bus_result_verdict v = bus_probe_result_decode(&r, o, natsMsg_GetSubject(m));
    if (v == BUS_RESULT_OK) {
        json_array_append_new(batch, o);
        return true;
    }
    if (v == BUS_RESULT_FORGED) {
        sw_log(SW_LOG_WARN,
               "result refused: its payload names another tenant or region than its subject",
               "subject", natsMsg_GetSubject(m), "endpoint_id", r.endpoint_id, NULL);
        bus_actor_count(a, "results_refused", 1);
    } else {
        sw_log(SW_LOG_ERROR, "malformed result terminated", "subject", natsMsg_GetSubject(m), NULL);
        bus_actor_count(a, "results_malformed", 1);
    }
    bus_msg_term(bus_actor_conn(a), m);
    json_decref(o);
    return false;
}

/* Writes batch and announces its changes after the commit. */
static sw_status write_batch(bus_actor *a, recorder *r, const json_t *batch)
{
    recorder_change *changes = NULL;
    recorder_tls_alert *tls = NULL;
    size_t nchanges = 0, refused = 0, ntls = 0;
    store_conn *c = store_acquire(r->db);
    sw_status st = c ? recorder_write_tls(c, batch, &changes, &nchanges, &refused, &tls, &ntls)
                     : SW_EUNAVAILABLE;
    store_release(r->db, c);
    if (st == SW_OK) {
        bus_actor_count(a, "batches", 1);
        bus_actor_count(a, "results_written", (int64_t)(json_array_size(batch) - refused));
        bus_actor_count(a, "results_refused", (int64_t)refused);
        bus_actor_count(a, "state_changes", (int64_t)nchanges);
    }
    for (size_t k = 0; k < nchanges; k++)
        recorder_announce(a, &changes[k]);
    for (size_t k = 0; k < ntls; k++)
        recorder_announce_tls(a, &tls[k]);
    free(changes);
    free(tls);
    return st;
}

/* One batch of result messages (owned; destroyed here): every message is acked, nak'd or
 * terminated. A batch the database refuses as invalid data (SW_EINVAL) is written again one
 * message at a time, so the one it cannot store is terminated and the rest recorded. */
static void record_messages(bus_actor *a, recorder *r, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    json_t *batch = json_array();
    for (int i = 0; i < n; i++) {
        if (!take_result(a, msgs[i], batch)) {
            natsMsg_Destroy(msgs[i]);
            msgs[i] = NULL;
        }
    }
    sw_status st = json_array_size(batch) > 0 ? write_batch(a, r, batch) : SW_OK;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (!msgs[i])
            continue;
        sw_status mst = st;
        if (st == SW_EINVAL && json_array_size(batch) > 1) {
            json_t *one = json_array();
            json_array_append(one, json_array_get(batch, k));
            mst = write_batch(a, r, one);
            json_decref(one);
        }
        k++;
        if (mst == SW_OK) {
            bus_msg_ack(nc, msgs[i]);
        } else if (mst == SW_EINVAL) {
            sw_log(SW_LOG_ERROR, "result the database cannot store terminated", "subject",
                   natsMsg_GetSubject(msgs[i]), NULL);
            bus_actor_count(a, "results_malformed", 1);
            bus_msg_term(nc, msgs[i]);
        } else {
            bus_msg_nak(nc, msgs[i], BUS_RESULT_RETRY_MS); /* written again, idempotently */
        }
        natsMsg_Destroy(msgs[i]);
    }
    if (st != SW_OK) {
        bus_actor_count(a, "batches_failed", 1);
        sw_log(SW_LOG_WARN, "batch not recorded as a whole", "status", sw_status_name(st), NULL);
    }
    json_decref(batch);
}

void recorder_forget_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    recorder *r = app;
    natsConnection *nc = bus_actor_conn(a);
    for (int i = 0; i < n; i++) {
        char tenant[BUS_TENANT_MAX];
        json_t *evt =
            json_loadb(natsMsg_GetData(msgs[i]), (size_t)natsMsg_GetDataLength(msgs[i]), 0, NULL);
        const char *ep = json_string_value(json_object_get(evt, "endpoint_id"));
        sw_status st = SW_EINVAL;
        /* The tenant is the subject's; only sw-endpoints may publish endpoint.deleted. */
        if (bus_subject_event_tenant(natsMsg_GetSubject(msgs[i]), tenant) && bus_uuid_valid(ep)) {
            store_conn *c = store_acquire(r->db);
            const char *p[] = {ep, tenant};
            st = c ? store_query(c, NULL, NULL,
                                 "WITH g AS (DELETE FROM public.endpoint_region_state"
                                 "  WHERE endpoint_id = $1::uuid AND tenant_id = $2),"
                                 " h AS (DELETE FROM public.heartbeat_state"
                                 "  WHERE endpoint_id = $1::uuid AND tenant_id = $2),"
                                 " p AS (DELETE FROM public.heartbeat_pings"
                                 "  WHERE endpoint_id = $1::uuid AND tenant_id = $2)"
                                 " DELETE FROM public.endpoint_state"
                                 " WHERE endpoint_id = $1::uuid AND tenant_id = $2",
                                 2, p)
                   : SW_EUNAVAILABLE;
            store_release(r->db, c);
        }
        if (st == SW_OK)
            bus_msg_ack(nc, msgs[i]);
        else if (st == SW_EINVAL)
            bus_msg_term(nc, msgs[i]); /* not an endpoint.deleted event: never will be */
        else
            bus_msg_nak(nc, msgs[i], BUS_RESULT_RETRY_MS);
        json_decref(evt);
        natsMsg_Destroy(msgs[i]);
    }
}

void recorder_plan(void *app, bool stopping, bus_take *t)
{
    recorder *r = app;
    t->room = t->ask = stopping ? 0 : r->batch;
}

void recorder_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    recorder *r = app;
    maintenance(r);
    if (n > 0)
        record_messages(a, r, msgs, n);
}

store_pool *recorder_db(void *app)
{
    return ((recorder *)app)->db;
}

void *recorder_app_init(bus_actor *a, sw_status *err)
{
    (void)a;
    recorder *r = calloc(1, sizeof(*r));
    if (!r || store_pool_new(&r->db, sw_config_str("DATABASE_URL", ""), 4) != SW_OK) {
        recorder_app_free(r);
        *err = SW_EINTERNAL;
        return NULL;
    }
    r->batch = (int)sw_config_long("SW_RECORDER_BATCH", 500, 1, 5000, NULL);
    return r;
}

void recorder_app_free(void *arg)
{
    recorder *r = arg;
    if (!r)
        return;
    store_pool_free(r->db);
    free(r);
}
