/* Heartbeat monitors in the recorder: pings to rows and state, deadlines to outages; see
 * recorder.h. Who writes what: heartbeat_state, heartbeat_pings, endpoint_state and incidents
 * here; public.heartbeats (what each heartbeat expects) is sw-endpoints', read only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/cron.h"
#include "actors/recorder/recorder.h"
#include "actors/recorder/state.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"

#define TICK_MS 200
#define LAPSE_BATCH 2000
#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"
#define TS(v) "CASE WHEN " v " > 0 THEN to_timestamp(" v " / 1000.0) END"

/* One heartbeat of a batch: what it expects (public.heartbeats) and where it stands. */
typedef struct hb_row {
    char endpoint[BUS_UUID_LEN + 1];
    char tenant[BUS_TENANT_MAX];
    char name[256];
    int period_s, grace_s;
    char cron[SW_CRON_MAX];
    char tz[SW_TZ_MAX];
    hb_state st;
    rec_status old_status;
    int64_t last_ping_ms, next_expected_ms;
    char cause[160];
    bool touched;
} hb_row;

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int64_t jlong(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static void row_from_json(hb_row *r, const json_t *o)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->endpoint, sizeof(r->endpoint), "%s", jstr(o, "endpoint_id"));
    snprintf(r->tenant, sizeof(r->tenant), "%s", jstr(o, "tenant_id"));
    snprintf(r->name, sizeof(r->name), "%s", jstr(o, "name"));
    snprintf(r->cron, sizeof(r->cron), "%s", jstr(o, "cron"));
    snprintf(r->tz, sizeof(r->tz), "%s",
             json_is_string(json_object_get(o, "tz")) ? jstr(o, "tz") : "UTC");
    r->period_s = (int)jlong(o, "period_seconds");
    r->grace_s = (int)jlong(o, "grace_seconds");
    r->old_status = rec_status_parse(jstr(o, "status"));
    r->st.status = r->old_status;
    r->st.last_success_ms = jlong(o, "last_success_ms");
    r->st.last_start_ms = jlong(o, "last_start_ms");
    r->st.deadline_ms = jlong(o, "deadline_ms");
    r->last_ping_ms = jlong(o, "last_ping_ms");
    r->next_expected_ms = jlong(o, "next_expected_ms");
}

/* The next ping r expects after a success at base_ms: a period later, or the schedule's next
 * time. 0 when a cron schedule never fires again (never late, then). */
static int64_t expected_after(const hb_row *r, int64_t base_ms)
{
    if (r->period_s > 0)
        return base_ms + (int64_t)r->period_s * 1000;
    sw_cron c;
    char err[160];
    int64_t t;
    if (!sw_cron_parse(&c, r->cron, err, sizeof(err)) ||
        !sw_cron_next(&t, &c, r->tz, base_ms / 1000))
        return 0;
    return t * 1000;
}

/* The deadline that goes with an expected ping. */
static int64_t deadline_of(const hb_row *r, int64_t expected_ms)
{
    return expected_ms ? expected_ms + (int64_t)r->grace_s * 1000 : 0;
}

/* Writes heartbeat_state and endpoint_state of the touched rows (two statements). */
static sw_status save_rows(store_conn *c, const hb_row *rows, size_t n)
{
    json_t *st = json_array(), *es = json_array();
    char *st_text = NULL, *es_text = NULL;
    sw_status rc = SW_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        const hb_row *r = &rows[i];
        if (!r->touched)
            continue;
        json_array_append_new(st,
                              json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "endpoint_id", r->endpoint,
                                        "tenant_id", r->tenant, "ping", (json_int_t)r->last_ping_ms,
                                        "success", (json_int_t)r->st.last_success_ms, "start",
                                        (json_int_t)r->st.last_start_ms, "expected",
                                        (json_int_t)(r->st.deadline_ms ? r->next_expected_ms : 0),
                                        "deadline", (json_int_t)r->st.deadline_ms));
        json_array_append_new(es, json_pack("{s:s,s:s,s:s,s:I,s:s}", "endpoint_id", r->endpoint,
                                            "tenant_id", r->tenant, "status",
                                            rec_status_name(r->st.status), "at",
                                            (json_int_t)r->last_ping_ms, "error",
                                            r->st.status == REC_DOWN ? r->cause : ""));
    }
    st_text = json_dumps(st, JSON_COMPACT);
    es_text = json_dumps(es, JSON_COMPACT);
    if (!st_text || !es_text)
        goto out;
    const char *p1[] = {st_text};
    rc = store_query(
        c, NULL, NULL,
        "INSERT INTO public.heartbeat_state AS s (endpoint_id, tenant_id, last_ping_at,"
        "  last_success_at, last_start_at, next_expected_at, deadline_at, computed_at)"
        " SELECT endpoint_id, tenant_id, " TS("ping") ", " TS("success") ", " TS("start") ", " TS(
            "expected") ", " TS("deadline") ", now()"
                                            " FROM json_to_recordset($1::json) AS x(endpoint_id "
                                            "uuid, tenant_id text,"
                                            "  ping bigint, success bigint, start bigint, expected "
                                            "bigint, deadline bigint)"
                                            " ON CONFLICT (endpoint_id) DO UPDATE SET last_ping_at "
                                            "= excluded.last_ping_at,"
                                            "  last_success_at = excluded.last_success_at,"
                                            "  last_start_at = excluded.last_start_at,"
                                            "  next_expected_at = excluded.next_expected_at,"
                                            "  deadline_at = excluded.deadline_at, computed_at = "
                                            "excluded.computed_at",
        1, p1);
    if (rc != SW_OK)
        goto out;
    const char *p2[] = {es_text};
    rc = store_query(
        c, NULL, NULL,
        "INSERT INTO public.endpoint_state AS s (endpoint_id, tenant_id, status,"
        "  last_checked_at, last_error, changed_at)"
        " SELECT endpoint_id, tenant_id, status, " TS(
            "at") ", nullif(error, ''), now()"
                  " FROM json_to_recordset($1::json) AS x(endpoint_id uuid, tenant_id text,"
                  "  status text, at bigint, error text)"
                  " ON CONFLICT (endpoint_id) DO UPDATE SET status = excluded.status,"
                  "  last_checked_at = excluded.last_checked_at, last_error = excluded.last_error,"
                  "  changed_at = CASE WHEN s.status <> excluded.status THEN now()"
                  "               ELSE s.changed_at END",
        1, p2);
out:
    free(st_text);
    free(es_text);
    json_decref(st);
    json_decref(es);
    return rc;
}

/* A change between up and down of row r, for incidents and the event. */
static void change_of(recorder_change *ch, const hb_row *r)
{
    memset(ch, 0, sizeof(*ch));
    snprintf(ch->tenant, sizeof(ch->tenant), "%s", r->tenant);
    snprintf(ch->endpoint, sizeof(ch->endpoint), "%s", r->endpoint);
    snprintf(ch->status, sizeof(ch->status), "%s", rec_status_name(r->st.status));
    snprintf(ch->name, sizeof(ch->name), "%s", r->name);
    snprintf(ch->cause, sizeof(ch->cause), "%s", r->st.status == REC_DOWN ? r->cause : "recovered");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_row(const void *a, const void *b)
{
    const hb_row *x = a, *y = b;
    int c = strcmp(x->endpoint, y->endpoint);
    return c ? c : strcmp(x->tenant, y->tenant);
}

/* A ping of the batch: its decoded object and the message it came in (borrowed). */
typedef struct ping_ref {
    const json_t *o;
    const char *raw;
    int raw_len;
    int64_t at;
} ping_ref;

static int cmp_at(const void *a, const void *b)
{
    const ping_ref *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Appends n bytes to a growing buffer; false when out of memory. */
static bool buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 4096) + n;
        char *more = realloc(*buf, c);
        if (!more)
            return false;
        *buf = more;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/* ---- pings ------------------------------------------------------------------------------ */

/* Records a batch of decoded pings (borrowed JSON objects; msgs[i] is the message pings[i] was
 * read from) in one transaction. *changes: owned. *dropped: pings for no (longer a) heartbeat
 * of their tenant, or repeats. The rows are inserted from the messages' own JSON text (no copy
 * or re-encoding per ping) joined on the ping id with what the recorder adds (the subject's
 * tenant, the run's duration). */
static sw_status write_pings(store_conn *c, json_t *pings, natsMsg *const *msgs,
                             recorder_change **changes, size_t *nchanges, size_t *dropped)
{
    json_t *ids = json_array(), *eps = json_array(), *cfg = NULL, *seen = NULL,
           *insert = json_array();
    char *ids_text = NULL, *eps_text = NULL, *ins_text = NULL, *raw_text = NULL;
    size_t raw_len = 0, raw_cap = 0;
    hb_row *rows = NULL;
    size_t nrows = 0, i;
    json_t *p;
    sw_status st = SW_EINTERNAL;

    *changes = NULL;
    *nchanges = 0;
    *dropped = 0;
    json_array_foreach(pings, i, p)
    {
        json_array_append_new(ids, json_string(jstr(p, "ping_id")));
        json_array_append_new(eps, json_string(jstr(p, "endpoint_id")));
    }
    ids_text = json_dumps(ids, JSON_COMPACT);
    eps_text = json_dumps(eps, JSON_COMPACT);
    if (!ids_text || !eps_text || store_tx_begin(c) != SW_OK)
        goto out;
    const char *pe[] = {eps_text}, *pi[] = {ids_text};
    /* One recorder instance at a time per heartbeat (the deadline ticker skips those held). */
    st = store_query(c, NULL, NULL,
                     "SELECT pg_advisory_xact_lock(hashtext(e)) FROM"
                     " (SELECT DISTINCT json_array_elements_text($1::json) AS e ORDER BY 1) x",
                     1, pe);
    if (st == SW_OK)
        st = store_query(
            c, &cfg, NULL,
            "SELECT h.endpoint_id::text AS endpoint_id, h.tenant_id, h.name,"
            "  h.period_seconds, h.cron, h.tz, h.grace_seconds,"
            "  coalesce(es.status, 'pending') AS status,"
            "  " MS(
                "st.last_success_at") " AS last_success_ms,"
                                      "  " MS(
                                          "st.last_start_at") " AS last_start_ms,"
                                                              "  " MS(
                                                                  "st.deadline_at") " AS "
                                                                                    "deadline_ms,"
                                                                                    "  " MS(
                                                                                        "st."
                                                                                        "last_"
                                                                                        "ping_"
                                                                                        "at") " AS "
                                                                                              "last"
                                                                                              "_pin"
                                                                                              "g_"
                                                                                              "ms,"
                                                                                              " "
                                                                                              " " MS(
                                                                                                  "st.next_expected_at") " AS next_expected_ms"
                                                                                                                         " FROM public.heartbeats h"
                                                                                                                         " LEFT JOIN public.heartbeat_state st ON st.endpoint_id = h.endpoint_id"
                                                                                                                         " LEFT JOIN public.endpoint_state es ON es.endpoint_id = h.endpoint_id"
                                                                                                                         " WHERE h.endpoint_id IN"
                                                                                                                         "  (SELECT json_array_elements_text($1::json)::uuid)",
            1, pe);
    if (st == SW_OK)
        st = store_query(c, &seen, NULL,
                         "SELECT ping_id FROM public.heartbeat_pings"
                         " WHERE ping_id IN (SELECT json_array_elements_text($1::json))",
                         1, pi);
    if (st != SW_OK)
        goto out;
    rows = calloc(json_array_size(cfg) + 1, sizeof(*rows));
    if (!rows) {
        st = SW_EINTERNAL;
        goto out;
    }
    json_array_foreach(cfg, i, p) row_from_json(&rows[nrows++], p);
    qsort(rows, nrows, sizeof(*rows), cmp_row);

    /* In the order the edge received them. Repeats (stored before, or twice in this batch)
     * are found by binary search: a batch is up to 500 pings. */
    size_t np = json_array_size(pings), nseen = json_array_size(seen);
    ping_ref *order = calloc(np + 1, sizeof(*order));
    const char **seen_ids = calloc(nseen + np + 1, sizeof(*seen_ids));
    if (!order || !seen_ids) {
        free(order);
        free(seen_ids);
        st = SW_EINTERNAL;
        goto out;
    }
    for (i = 0; i < nseen; i++)
        seen_ids[i] = jstr(json_array_get(seen, i), "ping_id");
    qsort(seen_ids, nseen, sizeof(*seen_ids), cmp_str);
    for (i = 0; i < np; i++) {
        order[i].o = json_array_get(pings, i);
        order[i].raw = natsMsg_GetData(msgs[i]);
        order[i].raw_len = natsMsg_GetDataLength(msgs[i]);
        order[i].at = jlong(order[i].o, "received_at_ms");
    }
    qsort(order, np, sizeof(*order), cmp_at);
    bool oom = !buf_add(&raw_text, &raw_len, &raw_cap, "[", 1);
    for (i = 0; i < np; i++) {
        const json_t *o = order[i].o;
        const char *pid = jstr(o, "ping_id");
        bool repeat = bsearch(&pid, seen_ids, nseen, sizeof(*seen_ids), cmp_str) != NULL;
        hb_row key;
        snprintf(key.endpoint, sizeof(key.endpoint), "%s", jstr(o, "endpoint_id"));
        snprintf(key.tenant, sizeof(key.tenant), "%s", jstr(o, "tenant_id"));
        hb_row *r = bsearch(&key, rows, nrows, sizeof(*rows), cmp_row);
        hb_kind kind;
        if (repeat || !r || !hb_kind_parse(&kind, jstr(o, "kind"))) {
            (*dropped)++;
            continue;
        }
        /* Twice in one batch: the second is a repeat (kept sorted: insertion). */
        size_t at_ix = 0, hi = nseen;
        while (at_ix < hi) {
            size_t mid = at_ix + (hi - at_ix) / 2;
            if (strcmp(seen_ids[mid], pid) < 0)
                at_ix = mid + 1;
            else
                hi = mid;
        }
        memmove(seen_ids + at_ix + 1, seen_ids + at_ix, (nseen - at_ix) * sizeof(*seen_ids));
        seen_ids[at_ix] = pid;
        nseen++;
        int64_t at = jlong(o, "received_at_ms");
        int64_t expected = kind == HB_SUCCESS ? expected_after(r, at) : 0;
        int64_t duration = hb_ping(&r->st, kind, at, deadline_of(r, expected));
        if (kind == HB_SUCCESS && r->st.last_success_ms == at)
            r->next_expected_ms = expected;
        if (kind == HB_FAIL) {
            json_t *ex = json_object_get(o, "exit_status");
            if (ex)
                snprintf(r->cause, sizeof(r->cause), "the job reported exit status %d",
                         (int)json_integer_value(ex));
            else
                snprintf(r->cause, sizeof(r->cause), "the job reported a failure");
        }
        if (at > r->last_ping_ms)
            r->last_ping_ms = at;
        r->touched = true;
        json_array_append_new(insert, json_pack("{s:s,s:s,s:o}", "ping_id", pid, "tenant_id",
                                                jstr(o, "tenant_id"), "duration_ms",
                                                duration >= 0 ? json_integer(duration)
                                                              : json_null()));
        oom |= (raw_len > 1 && !buf_add(&raw_text, &raw_len, &raw_cap, ",", 1)) ||
               !buf_add(&raw_text, &raw_len, &raw_cap, order[i].raw, (size_t)order[i].raw_len);
    }
    free(order);
    free(seen_ids);

    oom |= !buf_add(&raw_text, &raw_len, &raw_cap, "]", 1);
    ins_text = json_dumps(insert, JSON_COMPACT);
    if (!ins_text || oom) {
        st = SW_EINTERNAL;
        goto out;
    }
    const char *pn[] = {raw_text, ins_text};
    if (json_array_size(insert) > 0) {
        st = store_query(
            c, NULL, NULL,
            "INSERT INTO public.heartbeat_pings (ping_id, tenant_id, endpoint_id, kind,"
            "  exit_status, received_at, method, client_ip, user_agent, body, duration_ms)"
            " SELECT x.ping_id, m.tenant_id, x.endpoint_id, x.kind,"
            "  x.exit_status, to_timestamp(x.received_at_ms / 1000.0), x.method, x.client_ip,"
            "  x.user_agent, x.body, m.duration_ms"
            " FROM json_to_recordset($1::json) AS x(ping_id text, endpoint_id uuid, kind text,"
            "  exit_status int, received_at_ms bigint, method text, client_ip text,"
            "  user_agent text, body text)"
            " JOIN json_to_recordset($2::json) AS m(ping_id text, tenant_id text,"
            "  duration_ms bigint) USING (ping_id)"
            " ON CONFLICT DO NOTHING",
            2, pn);
        if (st == SW_OK)
            st = save_rows(c, rows, nrows);
        if (st != SW_OK)
            goto out;
    }

    /* Up ⇄ down (and pending → down on a first failure): incidents, then the events. */
    size_t nt = 0;
    for (i = 0; i < nrows; i++) {
        rec_status from = rows[i].old_status, to = rows[i].st.status;
        nt += rows[i].touched &&
              ((to == REC_DOWN && from != REC_DOWN) || (to == REC_UP && from == REC_DOWN));
    }
    if (nt) {
        *changes = calloc(nt, sizeof(**changes));
        if (!*changes) {
            st = SW_EINTERNAL;
            goto out;
        }
    }
    for (i = 0; i < nrows; i++) {
        rec_status from = rows[i].old_status, to = rows[i].st.status;
        if (!rows[i].touched ||
            !((to == REC_DOWN && from != REC_DOWN) || (to == REC_UP && from == REC_DOWN)))
            continue;
        recorder_change *ch = &(*changes)[(*nchanges)++];
        change_of(ch, &rows[i]);
        st = recorder_incident(c, ch);
        if (st != SW_OK)
            goto out;
    }
    st = store_tx_commit(c);
out:
    if (st != SW_OK) {
        store_tx_rollback(c);
        free(*changes);
        *changes = NULL;
        *nchanges = 0;
    }
    free(rows);
    free(ids_text);
    free(eps_text);
    free(ins_text);
    free(raw_text);
    json_decref(ids);
    json_decref(eps);
    json_decref(cfg);
    json_decref(seen);
    json_decref(insert);
    return st;
}

void recorder_pings_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    json_t *batch = json_array();
    natsMsg **kept = calloc((size_t)(n > 0 ? n : 1), sizeof(*kept));
    int nkept = 0;
    recorder_change *changes = NULL;
    size_t nchanges = 0, dropped = 0;
    if (n <= 0 || !kept) {
        for (int i = 0; i < n; i++) {
            bus_msg_nak(nc, msgs[i], BUS_PING_RETRY_MS);
            natsMsg_Destroy(msgs[i]);
        }
        free(kept);
        json_decref(batch);
        return;
    }
    for (int i = 0; i < n; i++) {
        bus_ping p;
        json_t *o =
            json_loadb(natsMsg_GetData(msgs[i]), (size_t)natsMsg_GetDataLength(msgs[i]), 0, NULL);
        if (bus_ping_decode(&p, o, natsMsg_GetSubject(msgs[i]))) {
            json_object_set_new(o, "tenant_id", json_string(p.tenant_id)); /* the subject's */
            json_array_append_new(batch, o);
            kept[nkept++] = msgs[i];
        } else {
            sw_log(SW_LOG_ERROR, "malformed ping terminated", "subject",
                   natsMsg_GetSubject(msgs[i]), NULL);
            bus_actor_count(a, "pings_malformed", 1);
            bus_msg_term(nc, msgs[i]);
            natsMsg_Destroy(msgs[i]);
            msgs[i] = NULL;
            json_decref(o);
        }
    }
    sw_status st = SW_OK;
    if (json_array_size(batch) > 0) {
        store_pool *db = recorder_db(app);
        store_conn *c = store_acquire(db);
        st = c ? write_pings(c, batch, kept, &changes, &nchanges, &dropped) : SW_EUNAVAILABLE;
        store_release(db, c);
    }
    for (int i = 0; i < n; i++) {
        if (!msgs[i])
            continue;
        if (st == SW_OK)
            bus_msg_ack(nc, msgs[i]);
        else
            bus_msg_nak(nc, msgs[i], BUS_PING_RETRY_MS); /* written again, idempotently */
        natsMsg_Destroy(msgs[i]);
    }
    if (st == SW_OK) {
        bus_actor_count(a, "pings_written", (int64_t)(json_array_size(batch) - dropped));
        bus_actor_count(a, "pings_dropped", (int64_t)dropped);
        bus_actor_count(a, "state_changes", (int64_t)nchanges);
    } else {
        bus_actor_count(a, "ping_batches_failed", 1);
        sw_log(SW_LOG_WARN, "ping batch not recorded", "status", sw_status_name(st), NULL);
    }
    for (size_t k = 0; k < nchanges; k++)
        recorder_announce(a, &changes[k]);
    free(changes);
    free(kept);
    json_decref(batch);
}

/* ---- deadlines -------------------------------------------------------------------------- */

/* Heartbeats whose expectation changed since their deadline was computed (a new period, a
 * new schedule, a resume after a pause): the next ping is expected after the later of the
 * last success and the change. *watermark: the oldest change still to look at. */
static sw_status recompute(store_conn *c, char *watermark, size_t wlen)
{
    json_t *cur = NULL, *up = json_array(), *row;
    char *text = NULL;
    size_t i;
    const char *p[] = {watermark};
    sw_status st = store_query(
        c, &cur, NULL,
        "SELECT h.endpoint_id::text AS endpoint_id, h.tenant_id, h.name,"
        "  h.period_seconds, h.cron, h.tz, h.grace_seconds, es.status,"
        "  greatest(" MS("st.last_success_at") ", " MS(
            "h.updated_at") ") AS base_ms"
                            " FROM public.heartbeats h"
                            " JOIN public.heartbeat_state st ON st.endpoint_id = h.endpoint_id"
                            " JOIN public.endpoint_state es ON es.endpoint_id = h.endpoint_id"
                            " WHERE h.updated_at > $1::timestamptz AND h.updated_at > "
                            "st.computed_at"
                            "  AND es.status = 'up' AND st.last_success_at IS NOT NULL",
        1, p);
    if (st != SW_OK)
        goto out;
    json_array_foreach(cur, i, row)
    {
        hb_row r;
        row_from_json(&r, row);
        int64_t expected = expected_after(&r, jlong(row, "base_ms"));
        json_array_append_new(up, json_pack("{s:s,s:I,s:I}", "endpoint_id", r.endpoint, "expected",
                                            (json_int_t)expected, "deadline",
                                            (json_int_t)deadline_of(&r, expected)));
    }
    if (json_array_size(up) > 0) {
        text = json_dumps(up, JSON_COMPACT);
        const char *p2[] = {text};
        st = text ? store_query(
                        c, NULL, NULL,
                        "UPDATE public.heartbeat_state s SET next_expected_at = " TS(
                            "x.expected") ","
                                          "  deadline_at = " TS(
                                              "x.deadline") ", computed_at = now()"
                                                            " FROM json_to_recordset($1::json) AS "
                                                            "x(endpoint_id uuid, expected bigint,"
                                                            "  deadline bigint) WHERE "
                                                            "s.endpoint_id = x.endpoint_id",
                        1, p2)
                  : SW_EINTERNAL;
    }
    if (st == SW_OK) {
        /* The next look starts a little before now: a change committed meanwhile is not lost. */
        json_t *w = NULL;
        if (store_query_one(c, &w, "SELECT (now() - interval '5 seconds')::text AS w", 0, NULL) ==
            SW_OK)
            snprintf(watermark, wlen, "%s", jstr(w, "w"));
        json_decref(w);
    }
out:
    free(text);
    json_decref(cur);
    json_decref(up);
    return st;
}

/* Opens the incidents of lapsed heartbeats, one statement per tenant. */
static sw_status open_incidents(store_conn *c, recorder_change *ch, size_t n)
{
    sw_status st = SW_OK;
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        if (ch[i].incident[0])
            continue; /* done with an earlier row of its tenant (an id, or "-": none opened) */
        char schema[80], sql[512];
        json_t *ids = json_array(), *rows = NULL, *row;
        for (size_t k = i; k < n; k++)
            if (strcmp(ch[k].tenant, ch[i].tenant) == 0)
                json_array_append_new(ids, json_string(ch[k].endpoint));
        char *text = json_dumps(ids, JSON_COMPACT);
        st = text ? store_tenant_schema(c, ch[i].tenant, schema, sizeof(schema)) : SW_EINTERNAL;
        if (st == SW_OK) {
            snprintf(sql, sizeof(sql),
                     "INSERT INTO %s.incidents (endpoint_id, opened_at, cause)"
                     " SELECT e::uuid, now(), $2 FROM json_array_elements_text($1::json) e"
                     " ON CONFLICT (endpoint_id) WHERE closed_at IS NULL DO NOTHING"
                     " RETURNING endpoint_id::text AS endpoint_id, id::text AS id",
                     schema);
            const char *p[] = {text, ch[i].cause};
            st = store_query(c, &rows, NULL, sql, 2, p);
        }
        if (st == SW_ENOTFOUND)
            st = SW_OK; /* the tenant is gone: its heartbeats go with it */
        size_t j;
        json_array_foreach(rows, j, row)
        {
            for (size_t k = i; k < n; k++)
                if (strcmp(ch[k].endpoint, jstr(row, "endpoint_id")) == 0)
                    snprintf(ch[k].incident, sizeof(ch[k].incident), "%s", jstr(row, "id"));
        }
        for (size_t k = i + 1; k < n; k++)
            if (strcmp(ch[k].tenant, ch[i].tenant) == 0 && !ch[k].incident[0])
                snprintf(ch[k].incident, sizeof(ch[k].incident), "-");
        free(text);
        json_decref(ids);
        json_decref(rows);
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(ch[i].incident, "-") == 0)
            ch[i].incident[0] = '\0';
    return st;
}

/* Marks down, in one transaction, up to LAPSE_BATCH heartbeats whose deadline has passed.
 * *changes owned. Heartbeats a ping batch holds right now are left for the next tick. */
static sw_status lapse(store_conn *c, recorder_change **changes, size_t *nchanges)
{
    json_t *rows = NULL, *row, *ids = json_array();
    char *text = NULL, lim[16];
    size_t i;
    *changes = NULL;
    *nchanges = 0;
    snprintf(lim, sizeof(lim), "%d", LAPSE_BATCH);
    const char *p[] = {lim};
    sw_status st = store_tx_begin(c);
    if (st == SW_OK)
        st = store_query(
            c, &rows, NULL,
            "WITH due AS (SELECT endpoint_id FROM public.heartbeat_state"
            "   WHERE deadline_at <= now() AND "
            "pg_try_advisory_xact_lock(hashtext(endpoint_id::text))"
            "   ORDER BY deadline_at LIMIT $1::int FOR UPDATE SKIP LOCKED),"
            " cleared AS (UPDATE public.heartbeat_state s SET deadline_at = NULL, computed_at = "
            "now()"
            "   FROM due WHERE s.endpoint_id = due.endpoint_id RETURNING s.endpoint_id, "
            "s.tenant_id)"
            " SELECT c.endpoint_id::text AS endpoint_id, c.tenant_id, h.name"
            " FROM cleared c JOIN public.heartbeats h ON h.endpoint_id = c.endpoint_id"
            " JOIN public.endpoint_state es ON es.endpoint_id = c.endpoint_id AND es.status = 'up'"
            " ORDER BY c.tenant_id",
            1, p);
    if (st != SW_OK || json_array_size(rows) == 0)
        goto commit;
    *changes = calloc(json_array_size(rows), sizeof(**changes));
    if (!*changes) {
        st = SW_EINTERNAL;
        goto out;
    }
    json_array_foreach(rows, i, row)
    {
        recorder_change *ch = &(*changes)[(*nchanges)++];
        snprintf(ch->tenant, sizeof(ch->tenant), "%s", jstr(row, "tenant_id"));
        snprintf(ch->endpoint, sizeof(ch->endpoint), "%s", jstr(row, "endpoint_id"));
        snprintf(ch->status, sizeof(ch->status), "down");
        snprintf(ch->name, sizeof(ch->name), "%s", jstr(row, "name"));
        snprintf(ch->cause, sizeof(ch->cause), "no ping before the deadline");
        json_array_append_new(ids, json_string(ch->endpoint));
    }
    text = json_dumps(ids, JSON_COMPACT);
    const char *p2[] = {text, "no ping before the deadline"};
    st =
        text
            ? store_query(c, NULL, NULL,
                          "UPDATE public.endpoint_state SET status = 'down', last_error = $2,"
                          "  changed_at = now()"
                          " WHERE endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)",
                          2, p2)
            : SW_EINTERNAL;
    if (st == SW_OK)
        st = open_incidents(c, *changes, *nchanges);
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
    free(text);
    json_decref(ids);
    json_decref(rows);
    return st;
}

void recorder_deadlines_tick(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    static __thread char watermark[64] = "-infinity";
    store_pool *db = recorder_db(app);
    (void)msgs;
    (void)n;
    int64_t t0 = sw_now_ns();
    store_conn *c = store_acquire(db);
    if (c) {
        if (recompute(c, watermark, sizeof(watermark)) != SW_OK)
            store_tx_rollback(c);
        /* Every lapsed batch is marked down first, the events of all of them after: the
         * state is what must be on time; publishing 2,000 events takes a while. */
        recorder_change *all[50] = {NULL};
        size_t counts[50] = {0};
        int rounds = 0;
        for (; rounds < 50 && !bus_actor_stopping(a); rounds++) {
            sw_status st = lapse(c, &all[rounds], &counts[rounds]);
            if (st != SW_OK)
                sw_log(SW_LOG_WARN, "heartbeat deadlines not checked", "status", sw_status_name(st),
                       NULL);
            bus_actor_count(a, "heartbeats_lapsed", (int64_t)counts[rounds]);
            if (st != SW_OK || counts[rounds] < LAPSE_BATCH) {
                rounds++;
                break;
            }
        }
        store_release(db, c);
        c = NULL;
        for (int r = 0; r < rounds; r++) {
            for (size_t k = 0; k < counts[r]; k++)
                recorder_announce(a, &all[r][k]);
            free(all[r]);
        }
    }
    /* The next tick TICK_MS after this one began (at once when this one took longer). */
    int64_t left_ms = TICK_MS - (sw_now_ns() - t0) / 1000000;
    for (; left_ms > 0 && !bus_actor_stopping(a); left_ms -= 50)
        nats_Sleep(left_ms < 50 ? left_ms : 50);
}
