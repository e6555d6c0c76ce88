/* Batches of results to rows, roll-ups, state and incidents; see recorder.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/mail.h"
#include "actors/recorder/recorder.h"
#include "bus/config.h"
#include "bus/jetstream.h"
#include "bus/log.h"

typedef struct recorder {
    store_pool *db;
    int batch;
    int64_t last_maintenance_ns;
} recorder;

/* The count of successful checks in latency bucket b (upper bounds in 0005_probing.sql). */
#define WB(b)                                                                                  \
    "count(*) FILTER (WHERE ok AND width_bucket(total_ms,"                                      \
    " '{1,2,5,10,20,50,100,200,500,1000,2000,5000,10000}'::real[]) = " #b ")::int"

/* 1. Insert the results (duplicates dropped), 2. fold the new rows into the hourly roll-ups,
 * 3. return the new rows in time order for the state machine. One statement. */
static const char *insert_sql =
    "WITH r AS ("
    "  SELECT * FROM json_to_recordset($1::json) AS x(job_id text, attempt int, tenant_id text,"
    "    endpoint_id uuid, region text, due_epoch bigint, checked_at_ms bigint, ok boolean,"
    "    http_status int, error text, dns_ms real, connect_ms real, tls_ms real, ttfb_ms real,"
    "    total_ms real)),"
    " ins AS ("
    "  INSERT INTO public.check_results (due_at, retention, job_id, attempt, tenant_id,"
    "    endpoint_id, region, checked_at, ok, http_status, error, dns_ms, connect_ms, tls_ms,"
    "    ttfb_ms, total_ms)"
    "  SELECT to_timestamp(r.due_epoch), t.plan, r.job_id, r.attempt, r.tenant_id, r.endpoint_id,"
    "    r.region, to_timestamp(r.checked_at_ms / 1000.0), r.ok, nullif(r.http_status, 0),"
    "    nullif(r.error, ''), r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.total_ms"
    "  FROM r JOIN public.tenants t ON t.id = r.tenant_id"
    /* a result for an endpoint deleted (or paused) while its job was in flight is dropped */
    "    JOIN public.schedule s ON s.endpoint_id = r.endpoint_id AND s.tenant_id = r.tenant_id"
    "  ON CONFLICT DO NOTHING"
    "  RETURNING tenant_id, endpoint_id, region, checked_at, ok, http_status, error, total_ms,"
    "    job_id, attempt),"
    " roll AS ("
    "  INSERT INTO public.check_rollups_hourly AS h (tenant_id, endpoint_id, hour, checks,"
    "    failures, latency_sum, buckets)"
    "  SELECT tenant_id, endpoint_id, date_trunc('hour', checked_at), count(*),"
    "    count(*) FILTER (WHERE NOT ok), coalesce(sum(total_ms) FILTER (WHERE ok), 0),"
    "    ARRAY[" WB(0) "," WB(1) "," WB(2) "," WB(3) "," WB(4) "," WB(5) "," WB(6) ","
    WB(7) "," WB(8) "," WB(9) "," WB(10) "," WB(11) "," WB(12) "," WB(13) "]"
    "  FROM ins i GROUP BY tenant_id, endpoint_id, date_trunc('hour', checked_at)"
    "  ON CONFLICT (endpoint_id, hour) DO UPDATE SET checks = h.checks + excluded.checks,"
    "    failures = h.failures + excluded.failures,"
    "    latency_sum = h.latency_sum + excluded.latency_sum,"
    "    buckets = ARRAY(SELECT a + b FROM unnest(h.buckets, excluded.buckets) AS u(a, b)))"
    " SELECT ins.tenant_id, ins.endpoint_id::text AS endpoint_id, ins.region, ins.ok,"
    "   ins.http_status, ins.error, ins.total_ms,"
    "   to_char(ins.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at,"
    "   r.failure_threshold, r.recovery_threshold, r.regions_total"
    " FROM ins JOIN json_to_recordset($1::json) AS r(job_id text, attempt int,"
    "   failure_threshold int, recovery_threshold int, regions_total int)"
    "   ON r.job_id = ins.job_id AND r.attempt = ins.attempt"
    " ORDER BY ins.checked_at";

typedef struct rstate {
    char endpoint[40];
    char region[64];
    char tenant[48];
    char status[12];
    int fail_streak, ok_streak;
    bool touched;
} rstate;

typedef struct estate {
    char endpoint[40];
    char tenant[48];
    char old_status[12];
    char new_status[12];
    int regions_total;
    json_t *last; /* the newest row for this endpoint (borrowed from new_rows) */
    char cause[160];
} estate;

static rstate *find_r(rstate *rs, size_t n, const char *ep, const char *region)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rs[i].endpoint, ep) == 0 && strcmp(rs[i].region, region) == 0)
            return &rs[i];
    return NULL;
}

static estate *find_e(estate *es, size_t n, const char *ep)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].endpoint, ep) == 0)
            return &es[i];
    return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Opens or closes the incident of one change inside the batch transaction, and reads what the
 * notification needs from the tenant's schema. */
static sw_status apply_change(store_conn *c, recorder_change *ch)
{
    json_t *row = NULL;
    sw_status st = store_exec_script(c, "SAVEPOINT incident");
    if (st == SW_OK)
        st = store_tx_set_tenant(c, ch->tenant);
    if (st != SW_OK)
        goto out;
    const char *p[] = {ch->endpoint, ch->cause};
    if (strcmp(ch->status, "down") == 0)
        st = store_query_one(c, &row,
                             "INSERT INTO incidents (endpoint_id, opened_at, cause)"
                             " VALUES ($1::uuid, now(), nullif($2, ''))"
                             " ON CONFLICT (endpoint_id) WHERE closed_at IS NULL DO NOTHING"
                             " RETURNING id::text AS id",
                             2, p);
    else
        st = store_query_one(c, &row,
                             "UPDATE incidents SET closed_at = now() WHERE endpoint_id = $1::uuid"
                             " AND closed_at IS NULL AND $2::text IS NOT NULL RETURNING id::text AS id",
                             2, p);
    if (st == SW_OK)
        snprintf(ch->incident, sizeof(ch->incident), "%s", jstr(row, "id"));
    else if (st != SW_ENOTFOUND)
        goto out;
    json_decref(row);
    row = NULL;
    st = store_query_one(c, &row,
                         "SELECT e.name, e.url, (SELECT email FROM users WHERE role = 'owner'"
                         " ORDER BY created_at LIMIT 1) AS owner FROM endpoints e"
                         " WHERE e.id = $1::uuid",
                         1, p);
    if (st == SW_OK) {
        snprintf(ch->name, sizeof(ch->name), "%s", jstr(row, "name"));
        snprintf(ch->url, sizeof(ch->url), "%s", jstr(row, "url"));
        snprintf(ch->owner, sizeof(ch->owner), "%s", jstr(row, "owner"));
    }
    st = store_exec_script(c, "RESET search_path; RELEASE SAVEPOINT incident");
out:
    if (st != SW_OK) /* a deleted tenant or endpoint must not sink the whole batch */
        st = store_exec_script(c, "ROLLBACK TO SAVEPOINT incident; RESET search_path");
    json_decref(row);
    return st;
}

sw_status recorder_write(store_conn *c, const json_t *results, recorder_change **changes,
                         size_t *nchanges)
{
    json_t *new_rows = NULL, *cur = NULL, *eps = json_array(), *up_r = json_array(),
           *up_e = json_array();
    rstate *rs = NULL;
    estate *es = NULL;
    size_t nr = 0, ne = 0;
    char *text = NULL, *eplist = NULL, *rtext = NULL, *etext = NULL;
    sw_status st;

    *changes = NULL;
    *nchanges = 0;
    text = json_dumps(results, JSON_COMPACT);
    st = store_tx_begin(c);
    if (st != SW_OK)
        goto out;
    const char *p1[] = {text};
    st = store_query(c, &new_rows, NULL, insert_sql, 1, p1);
    if (st != SW_OK || json_array_size(new_rows) == 0)
        goto commit;

    /* Current state of every endpoint in the batch, all regions (one statement). */
    size_t i;
    json_t *row;
    json_array_foreach(new_rows, i, row)
    {
        const char *ep = jstr(row, "endpoint_id");
        if (!find_e(es, ne, ep)) {
            es = realloc(es, (ne + 1) * sizeof(*es));
            memset(&es[ne], 0, sizeof(*es));
            snprintf(es[ne].endpoint, sizeof(es[ne].endpoint), "%s", ep);
            snprintf(es[ne].tenant, sizeof(es[ne].tenant), "%s", jstr(row, "tenant_id"));
            snprintf(es[ne].old_status, sizeof(es[ne].old_status), "pending");
            ne++;
            json_array_append_new(eps, json_string(ep));
        }
    }
    eplist = json_dumps(eps, JSON_COMPACT);
    const char *p2[] = {eplist};
    /* Serialise per endpoint across recorder instances (new endpoints have no row to lock
     * yet); in a fixed order, so two batches never deadlock. */
    st = store_query(c, NULL, NULL,
                     "SELECT pg_advisory_xact_lock(hashtext(e)) FROM"
                     " (SELECT json_array_elements_text($1::json) AS e ORDER BY 1) x",
                     1, p2);
    if (st != SW_OK)
        goto out;
    st = store_query(c, &cur, NULL,
                     "SELECT 'r' AS kind, endpoint_id::text AS endpoint_id, region, tenant_id,"
                     "  status, fail_streak, ok_streak"
                     " FROM public.endpoint_region_state"
                     " WHERE endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)"
                     " UNION ALL"
                     " SELECT 'e', endpoint_id::text, '', tenant_id, status, 0, 0"
                     " FROM public.endpoint_state"
                     " WHERE endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)",
                     1, p2);
    if (st != SW_OK)
        goto out;
    json_array_foreach(cur, i, row)
    {
        if (strcmp(jstr(row, "kind"), "e") == 0) {
            estate *e = find_e(es, ne, jstr(row, "endpoint_id"));
            if (e)
                snprintf(e->old_status, sizeof(e->old_status), "%s", jstr(row, "status"));
            continue;
        }
        rs = realloc(rs, (nr + 1) * sizeof(*rs));
        memset(&rs[nr], 0, sizeof(*rs));
        snprintf(rs[nr].endpoint, sizeof(rs[nr].endpoint), "%s", jstr(row, "endpoint_id"));
        snprintf(rs[nr].region, sizeof(rs[nr].region), "%s", jstr(row, "region"));
        snprintf(rs[nr].tenant, sizeof(rs[nr].tenant), "%s", jstr(row, "tenant_id"));
        snprintf(rs[nr].status, sizeof(rs[nr].status), "%s", jstr(row, "status"));
        rs[nr].fail_streak = (int)json_integer_value(json_object_get(row, "fail_streak"));
        rs[nr].ok_streak = (int)json_integer_value(json_object_get(row, "ok_streak"));
        nr++;
    }

    /* The state machine, per region, in time order. */
    json_array_foreach(new_rows, i, row)
    {
        const char *ep = jstr(row, "endpoint_id"), *region = jstr(row, "region");
        rstate *r = find_r(rs, nr, ep, region);
        if (!r) {
            rs = realloc(rs, (nr + 1) * sizeof(*rs));
            r = &rs[nr++];
            memset(r, 0, sizeof(*r));
            snprintf(r->endpoint, sizeof(r->endpoint), "%s", ep);
            snprintf(r->region, sizeof(r->region), "%s", region);
            snprintf(r->tenant, sizeof(r->tenant), "%s", jstr(row, "tenant_id"));
            snprintf(r->status, sizeof(r->status), "pending");
        }
        int fail_t = (int)json_integer_value(json_object_get(row, "failure_threshold"));
        int rec_t = (int)json_integer_value(json_object_get(row, "recovery_threshold"));
        if (fail_t < 1)
            fail_t = 3;
        if (rec_t < 1)
            rec_t = 2;
        r->touched = true;
        estate *e = find_e(es, ne, ep);
        e->regions_total = (int)json_integer_value(json_object_get(row, "regions_total"));
        e->last = row;
        if (json_is_true(json_object_get(row, "ok"))) {
            r->ok_streak++;
            r->fail_streak = 0;
            if (strcmp(r->status, "pending") == 0 ||
                (strcmp(r->status, "down") == 0 && r->ok_streak >= rec_t))
                snprintf(r->status, sizeof(r->status), "up");
        } else {
            r->fail_streak++;
            r->ok_streak = 0;
            snprintf(e->cause, sizeof(e->cause), "%s", jstr(row, "error"));
            if (strcmp(r->status, "down") != 0 && r->fail_streak >= fail_t)
                snprintf(r->status, sizeof(r->status), "down");
        }
    }

    /* Majority across regions: down only when more than half of the regions say so. */
    for (size_t k = 0; k < ne; k++) {
        estate *e = &es[k];
        int down = 0, up = 0;
        for (size_t m = 0; m < nr; m++) {
            if (strcmp(rs[m].endpoint, e->endpoint) != 0)
                continue;
            down += strcmp(rs[m].status, "down") == 0;
            up += strcmp(rs[m].status, "up") == 0;
        }
        int total = e->regions_total > 0 ? e->regions_total : 1;
        const char *s = 2 * down > total ? "down" : up > 0 ? "up" : e->old_status;
        if (strcmp(e->old_status, "paused") == 0)
            s = "paused"; /* a late result never un-pauses an endpoint */
        snprintf(e->new_status, sizeof(e->new_status), "%s", s);
        json_array_append_new(
            up_e, json_pack("{s:s,s:s,s:s,s:s,s:O,s:O,s:O}", "endpoint_id", e->endpoint,
                            "tenant_id", e->tenant, "status", e->new_status, "at",
                            jstr(e->last, "at"), "latency",
                            json_object_get(e->last, "total_ms"), "http",
                            json_object_get(e->last, "http_status"), "error",
                            json_object_get(e->last, "error")));
    }
    for (size_t m = 0; m < nr; m++)
        if (rs[m].touched)
            json_array_append_new(up_r, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "endpoint_id",
                                                  rs[m].endpoint, "region", rs[m].region,
                                                  "tenant_id", rs[m].tenant, "status",
                                                  rs[m].status, "fail", rs[m].fail_streak, "ok",
                                                  rs[m].ok_streak));
    rtext = json_dumps(up_r, JSON_COMPACT);
    etext = json_dumps(up_e, JSON_COMPACT);
    const char *p3[] = {rtext};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO public.endpoint_region_state AS s (endpoint_id, region,"
                     "  tenant_id, status, fail_streak, ok_streak, last_at)"
                     " SELECT endpoint_id, region, tenant_id, status, fail, ok, now()"
                     " FROM json_to_recordset($1::json) AS x(endpoint_id uuid, region text,"
                     "  tenant_id text, status text, fail int, ok int)"
                     " ON CONFLICT (endpoint_id, region) DO UPDATE SET status = excluded.status,"
                     "  fail_streak = excluded.fail_streak, ok_streak = excluded.ok_streak,"
                     "  last_at = excluded.last_at",
                     1, p3);
    if (st != SW_OK)
        goto out;
    const char *p4[] = {etext};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO public.endpoint_state AS s (endpoint_id, tenant_id, status,"
                     "  last_checked_at, last_latency_ms, last_http_status, last_error, changed_at)"
                     " SELECT endpoint_id, tenant_id, status, at::timestamptz, round(latency),"
                     "  nullif(http, 0), error, now()"
                     " FROM json_to_recordset($1::json) AS x(endpoint_id uuid, tenant_id text,"
                     "  status text, at text, latency real, http int, error text)"
                     " ON CONFLICT (endpoint_id) DO UPDATE SET status = excluded.status,"
                     "  last_checked_at = excluded.last_checked_at,"
                     "  last_latency_ms = excluded.last_latency_ms,"
                     "  last_http_status = excluded.last_http_status,"
                     "  last_error = excluded.last_error,"
                     "  changed_at = CASE WHEN s.status <> excluded.status THEN now()"
                     "               ELSE s.changed_at END",
                     1, p4);
    if (st != SW_OK)
        goto out;

    /* Changes between up and down: incidents and what to announce after commit. */
    for (size_t k = 0; k < ne; k++) {
        estate *e = &es[k];
        bool went_down = strcmp(e->new_status, "down") == 0 && strcmp(e->old_status, "down") != 0;
        bool came_up = strcmp(e->new_status, "up") == 0 && strcmp(e->old_status, "down") == 0;
        if (!went_down && !came_up)
            continue;
        *changes = realloc(*changes, (*nchanges + 1) * sizeof(**changes));
        recorder_change *ch = &(*changes)[(*nchanges)++];
        memset(ch, 0, sizeof(*ch));
        snprintf(ch->tenant, sizeof(ch->tenant), "%s", e->tenant);
        snprintf(ch->endpoint, sizeof(ch->endpoint), "%s", e->endpoint);
        snprintf(ch->status, sizeof(ch->status), "%s", e->new_status);
        snprintf(ch->cause, sizeof(ch->cause), "%s", went_down ? e->cause : "recovered");
        st = apply_change(c, ch);
        if (st != SW_OK)
            goto out;
    }
commit:
    if (st == SW_OK)
        st = store_tx_commit(c);
out:
    if (st != SW_OK) {
        store_tx_rollback(c);
        free(*changes);
        *changes = NULL;
        *nchanges = 0;
    }
    free(rs);
    free(es);
    free(text);
    free(eplist);
    free(rtext);
    free(etext);
    json_decref(eps);
    json_decref(up_r);
    json_decref(up_e);
    json_decref(cur);
    json_decref(new_rows);
    return st;
}

/* After commit: the event for operators and other actors, and one mail per change (the
 * incident id in the msg id makes a re-announcement a no-op). */
static void announce(bus_actor *a, const recorder_change *ch)
{
    char subject[160], msg_id[96];
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.endpoint.%s", ch->tenant, ch->status);
    json_t *evt = json_pack("{s:s,s:s,s:s,s:s,s:I}", "endpoint_id", ch->endpoint, "tenant_id",
                            ch->tenant, "status", ch->status, "incident_id", ch->incident, "at_ms",
                            (json_int_t)sw_epoch_ms());
    snprintf(msg_id, sizeof(msg_id), "evt:%s:%s:%s", ch->endpoint, ch->status,
             ch->incident[0] ? ch->incident : "none");
    bus_js_publish(bus_actor_js(a), subject, evt, msg_id, NULL);
    json_decref(evt);
    if (!ch->owner[0] || !ch->incident[0])
        return;
    json_t *vars = json_pack("{s:s,s:s,s:s}", "endpoint_name", ch->name, "url", ch->url, "cause",
                             ch->cause);
    snprintf(msg_id, sizeof(msg_id), "incident:%s:%s", ch->incident, ch->status);
    mail_enqueue(bus_actor_js(a), strcmp(ch->status, "down") == 0 ? "endpoint_down" : "endpoint_up",
                 ch->owner, vars, msg_id, NULL);
    json_decref(vars);
    sw_log(SW_LOG_INFO, strcmp(ch->status, "down") == 0 ? "endpoint down" : "endpoint up",
           "endpoint_id", ch->endpoint, "tenant_id", ch->tenant, "incident_id", ch->incident,
           NULL);
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
    snprintf(freed, sizeof(freed), "%ld", sw_config_long("SW_RETENTION_FREE_DAYS", 7, 1, 3650, NULL));
    snprintf(prod, sizeof(prod), "%ld", sw_config_long("SW_RETENTION_PRO_DAYS", 90, 1, 3650, NULL));
    const char *p[] = {freed, prod};
    if (store_query(c, NULL, NULL, "SELECT public.ensure_check_partitions(1, 3)", 0, NULL) ==
            SW_OK &&
        store_query(c, NULL, NULL, "SELECT public.drop_expired_check_partitions($1::int, $2::int)",
                    2, p) == SW_OK)
        r->last_maintenance_ns = sw_now_ns();
    store_release(r->db, c);
}

static void recorder_loop(bus_actor *a, void *arg)
{
    recorder *r = arg;
    natsConnection *nc = bus_actor_conn(a);
    bus_pull *pull = NULL;
    natsMsg **msgs = calloc((size_t)r->batch, sizeof(*msgs));

    while (msgs && !bus_actor_stopping(a)) {
        maintenance(r);
        if (!bus_actor_pull_ready(a, &pull, "SW_RESULTS", "recorder")) {
            nats_Sleep(500);
            continue;
        }
        int n = bus_pull_take(pull, r->batch, msgs, r->batch, 500);
        if (n == 0)
            continue;
        json_t *batch = json_array();
        for (int i = 0; i < n; i++) {
            json_t *o = json_loadb(natsMsg_GetData(msgs[i]), (size_t)natsMsg_GetDataLength(msgs[i]),
                                   0, NULL);
            if (!json_is_object(o) || !json_is_string(json_object_get(o, "job_id")) ||
                !json_is_string(json_object_get(o, "tenant_id"))) {
                sw_log(SW_LOG_ERROR, "malformed result dropped", "subject",
                       natsMsg_GetSubject(msgs[i]), NULL);
                bus_msg_term(nc, msgs[i]);
                natsMsg_Destroy(msgs[i]);
                msgs[i] = NULL;
                json_decref(o);
                continue;
            }
            json_array_append_new(batch, o);
        }
        recorder_change *changes = NULL;
        size_t nchanges = 0;
        store_conn *c = store_acquire(r->db);
        sw_status st = c ? recorder_write(c, batch, &changes, &nchanges) : SW_EUNAVAILABLE;
        store_release(r->db, c);
        for (int i = 0; i < n; i++) {
            if (!msgs[i])
                continue;
            if (st == SW_OK)
                bus_msg_ack(nc, msgs[i]);
            else
                bus_msg_nak(nc, msgs[i], 1000); /* written again, idempotently */
            natsMsg_Destroy(msgs[i]);
        }
        if (st == SW_OK) {
            bus_actor_count(a, "batches", 1);
            bus_actor_count(a, "results_written", (int64_t)json_array_size(batch));
            bus_actor_count(a, "state_changes", (int64_t)nchanges);
        } else {
            bus_actor_count(a, "batches_failed", 1);
        }
        if (st != SW_OK)
            sw_log(SW_LOG_WARN, "batch not recorded; will retry", "status", sw_status_name(st),
                   NULL);
        for (size_t k = 0; k < nchanges; k++)
            announce(a, &changes[k]);
        free(changes);
        json_decref(batch);
    }
    bus_pull_free(pull);
    free(msgs);
}

void *recorder_app_init(bus_actor *a, sw_status *err)
{
    recorder *r = calloc(1, sizeof(*r));
    if (!r) {
        *err = SW_EINTERNAL;
        return NULL;
    }
    r->batch = (int)sw_config_long("SW_RECORDER_BATCH", 500, 1, 5000, NULL);
    if (store_pool_new(&r->db, sw_config_str("DATABASE_URL", ""), 1) != SW_OK ||
        bus_actor_spawn(a, recorder_loop, r) != SW_OK) {
        store_pool_free(r->db);
        free(r);
        *err = SW_EINTERNAL;
        return NULL;
    }
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
