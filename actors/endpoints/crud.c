/* GET/POST /api/endpoints/ and GET/PUT/PATCH/DELETE /api/endpoints/{id}/ (DRF ModelViewSet
 * shapes). Every query runs in the caller's tenant schema, chosen from the verified Sw-Tenant
 * header; an id that is not in that schema (another tenant's, or not a UUID) is 404, never
 * 403. The endpoint row and its public.schedule row change in one transaction; jobs and events
 * go out after the commit. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/plans.h"
#include "actors/common/role.h"
#include "actors/endpoints/endpoints.h"
#include "bus/log.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* The API shape of an endpoint: the table's fields (ENDPOINT_FIELDS, also the read model's
 * columns, actors/endpoints/cache.c), then the live state (ENDPOINT_STATE_FIELDS, from
 * public.endpoint_state; $1 is the tenant, endpoint_state being shared across tenants). A new
 * field of the table goes into ENDPOINT_FIELDS: the list, the single read and the writes'
 * replies all follow. */
// clang-format off
#define ENDPOINT_FIELDS                                                                         \
    "e.id::text AS id, e.name, e.url, e.interval_seconds, e.timeout_seconds,"                  \
    " e.expected_status, to_jsonb(e.regions) AS regions, e.failure_threshold,"                 \
    " e.recovery_threshold, e.paused, " TS("e.created_at") " AS created_at,"                   \
    " " TS("e.updated_at") " AS updated_at,"                                                    \
    " e.ping_key::text AS ping_key, e.period_seconds, e.cron, e.tz, e.grace_seconds,"           \
    " e.kind, e.method,"                                                                        \
    " (SELECT coalesce(jsonb_object_agg(h, '********'), '{}'::jsonb)"                          \
    "   FROM unnest(e.header_names) h) AS headers,"                                             \
    " e.body, e.follow_redirects, e.tls_verify, e.assertions, e.degraded_threshold_ms,"        \
    " to_jsonb(e.tls_expiry_alert_days) AS tls_expiry_alert_days,"                           \
    " to_jsonb(e.channel_ids) AS channel_ids, e.reminder_minutes"
#define ENDPOINT_STATE_FIELDS                                                                   \
    " CASE WHEN e.paused THEN 'paused' ELSE coalesce(s.status, 'pending') END AS last_status,"  \
    " " TS("s.last_checked_at") " AS last_checked_at, s.last_latency_ms, s.last_http_status,"  \
    " " TS("hs.next_expected_at") " AS next_ping_at, " TS("hs.last_ping_at") " AS last_ping_at," \
    " " TS("s.tls_expires_at") " AS tls_expires_at, s.tls_issuer, s.tls_subject, s.last_error"
/* The recorder's state of the endpoint (and, for a heartbeat, of its pings). */
#define ENDPOINT_STATE_JOIN                                                                     \
    " LEFT JOIN public.endpoint_state s ON s.endpoint_id = e.id AND s.tenant_id = $1"           \
    " LEFT JOIN public.heartbeat_state hs ON hs.endpoint_id = e.id AND hs.tenant_id = $1"
#define SELECT_ENDPOINT                                                                         \
    "SELECT " ENDPOINT_FIELDS "," ENDPOINT_STATE_FIELDS " FROM endpoints e" ENDPOINT_STATE_JOIN

/* The reads' one statement (prepared once per connection, the same for every tenant): the
 * tenant's endpoints version first ($1 the schema name; see cache.c), then the live state of
 * the endpoints on the page ($2 the tenant, $3 their ids). */
#define READ_STATE                                                                              \
    "SELECT NULL::text AS id, NULL::text AS status, NULL::text AS last_checked_at,"            \
    " NULL::int AS last_latency_ms, NULL::int AS last_http_status,"                             \
    " coalesce((SELECT version FROM public.endpoint_versions WHERE schema_name = $1), 0)"      \
    "   AS version, NULL::text AS next_ping_at, NULL::text AS last_ping_at,"                   \
    " NULL::text AS tls_expires_at, NULL::text AS tls_issuer, NULL::text AS tls_subject,"      \
    " NULL::text AS last_error"                                                                 \
    " UNION ALL SELECT s.endpoint_id::text, s.status, " TS("s.last_checked_at") ","             \
    " s.last_latency_ms, s.last_http_status, NULL, " TS("hs.next_expected_at") ","              \
    " " TS("hs.last_ping_at") ", " TS("s.tls_expires_at") ", s.tls_issuer, s.tls_subject,"     \
    " s.last_error FROM public.endpoint_state s"                                                \
    " LEFT JOIN public.heartbeat_state hs ON hs.endpoint_id = s.endpoint_id"                    \
    "  AND hs.tenant_id = s.tenant_id"                                                          \
    " WHERE s.tenant_id = $2 AND s.endpoint_id = ANY($3::uuid[])"
// clang-format on

const char *endpoints_fields(void)
{
    return ENDPOINT_FIELDS;
}

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100

static const char *url_taken = "An endpoint with this URL already exists.";
/* The plan_limit error: "The Free plan watches up to 3 endpoints. Upgrade to Pro to watch
 * more." */
static sw_status plan_limit(bus_reply *rep, const sw_plan *plan)
{
    char msg[160];
    snprintf(msg, sizeof(msg),
             "The %s plan watches up to %d endpoints. Upgrade to Pro to watch more.", plan->name,
             plan->endpoint_limit);
    return bus_reply_error(rep, SW_EFORBIDDEN, "plan_limit", msg);
}

/* The canonical 8-4-4-4-12 hex form; anything else cannot be an id of ours. */
static bool uuid_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* The host of a URL that passed the URL policy, lowercased: the default name. */
static void url_host(char *out, size_t len, const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n;
    if (*p == '[') {
        n = strcspn(p, "]");
        n += p[n] == ']';
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n == 0 || n >= len) {
        snprintf(out, len, "%.*s", (int)(len - 1), url);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[n] = '\0';
}

/* A begun tenant transaction, or an error reply. A token whose tenant is gone is 401. */
static sw_status begin(store_conn *c, const bus_req *req, bus_reply *rep)
{
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        bus_reply_clear(rep);
        return bus_reply_error(rep, SW_EUNAUTH, "tenant_not_found", NULL);
    }
    return st == SW_OK ? SW_OK : bus_reply_failure(rep, st);
}

sw_status endpoints_fetch(store_conn *c, const char *const p[2], json_t **row)
{
    return store_query_one(c, row, SELECT_ENDPOINT " WHERE e.id = $2::uuid", 2, p);
}

static sw_status fetch(store_conn *c, const bus_req *req, const char *id, json_t **row)
{
    const char *p[] = {req->tenant, id};
    sw_status st = endpoints_fetch(c, p, row);
    if (st == SW_OK)
        endpoints_heartbeat_shape(req, *row);
    return st;
}

static long count_where(store_conn *c, const char *sql, int n, const char *const *p, sw_status *st)
{
    json_t *row = NULL;
    *st = store_query_one(c, &row, sql, n, p);
    long v = *st == SW_OK ? (long)json_integer_value(json_object_get(row, "n")) : 0;
    json_decref(row);
    return v;
}

sw_status endpoints_check_limit(store_conn *c, const bus_req *req, bus_reply *rep)
{
    const sw_plan *plan = NULL;
    sw_status st = endpoints_lock_plan(c, req->tenant, &plan);
    if (st == SW_OK && plan && plan->endpoint_limit >= 0) {
        long n = count_where(c, "SELECT count(*) AS n FROM endpoints", 0, NULL, &st);
        if (st == SW_OK && n >= plan->endpoint_limit)
            return plan_limit(rep, plan);
    }
    return st == SW_OK ? SW_OK : bus_reply_failure(rep, st);
}

/* The schedule row follows the endpoint: due now after every create or update, absent while
 * the endpoint is paused. *due_epoch: the due time in seconds (0 when paused). */
static sw_status schedule_write(store_conn *c, const bus_req *req, const char *id, bool paused,
                                long *due_epoch, json_t **probe)
{
    json_t *row = NULL;
    const char *p[] = {id, req->tenant};
    *due_epoch = 0;
    *probe = NULL;
    if (paused)
        return store_query(c, NULL, NULL,
                           "DELETE FROM public.schedule WHERE endpoint_id = $1::uuid"
                           " AND tenant_id = $2",
                           2, p);
    sw_status st = store_query_one(
        c, &row,
        "INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds, regions,"
        "  next_due_at, url, name, timeout_seconds, expected_status, failure_threshold,"
        "  recovery_threshold, probe, degraded_threshold_ms, tls_expiry_alert_days, changed_at)"
        " SELECT e.id, $2, e.interval_seconds, e.regions, now(), e.url, e.name,"
        "  e.timeout_seconds, e.expected_status, e.failure_threshold, e.recovery_threshold,"
        /* What the prober does besides a plain GET (NULL for one: the common job stays small) */
        "  CASE WHEN e.kind = 'http' AND e.method = 'GET' AND e.headers_sealed IS NULL"
        "   AND e.body IS NULL AND e.follow_redirects AND e.tls_verify AND e.assertions = '[]'"
        "   THEN NULL ELSE jsonb_strip_nulls(jsonb_build_object('kind', e.kind, 'method', e.method,"
        "   'headers', e.headers_sealed, 'body', e.body, 'follow_redirects', e.follow_redirects,"
        "   'tls_verify', e.tls_verify, 'assertions', e.assertions)) END,"
        "  e.degraded_threshold_ms, e.tls_expiry_alert_days, now()"
        "  FROM endpoints e WHERE e.id = $1::uuid"
        " ON CONFLICT (endpoint_id) DO UPDATE SET interval_seconds = EXCLUDED.interval_seconds,"
        "  regions = EXCLUDED.regions, next_due_at = EXCLUDED.next_due_at, url = EXCLUDED.url,"
        "  name = EXCLUDED.name,"
        "  timeout_seconds = EXCLUDED.timeout_seconds,"
        "  expected_status = EXCLUDED.expected_status,"
        "  failure_threshold = EXCLUDED.failure_threshold,"
        "  recovery_threshold = EXCLUDED.recovery_threshold, probe = EXCLUDED.probe,"
        "  degraded_threshold_ms = EXCLUDED.degraded_threshold_ms,"
        "  tls_expiry_alert_days = EXCLUDED.tls_expiry_alert_days, changed_at = EXCLUDED.changed_at"
        "  WHERE public.schedule.tenant_id = EXCLUDED.tenant_id"
        " RETURNING floor(extract(epoch FROM next_due_at))::bigint AS due_epoch, probe",
        2, p);
    if (st == SW_OK) {
        *due_epoch = (long)json_integer_value(json_object_get(row, "due_epoch"));
        json_t *pr = json_object_get(row, "probe");
        *probe = json_is_object(pr) ? json_incref(pr) : NULL;
    }
    json_decref(row);
    return st;
}

/* A failed INSERT/UPDATE of an endpoint: the unique URL is the user's mistake, a check the
 * fields code missed is a 400 too, the rest is ours. */
static sw_status write_failed(store_conn *c, bus_reply *rep, sw_status st)
{
    if (st == SW_ECONFLICT && strcmp(store_last_constraint(c), "endpoints_url_key") == 0) {
        bus_reply_clear(rep);
        bus_reply_field_error(rep, "url", url_taken);
        return SW_EINVAL;
    }
    if (st == SW_EINVAL) {
        sw_log(SW_LOG_WARN, "endpoint write refused by a database check", "constraint",
               store_last_constraint(c), NULL);
        bus_reply_clear(rep);
        return bus_reply_error(rep, SW_EINVAL, NULL, "Invalid input.");
    }
    return bus_reply_failure(rep, st);
}

static char *json_text(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* ---- list ---------------------------------------------------------------------------- */

/* The value of key in a raw query string, copied into out; false when absent. */
static bool query_param(char *out, size_t len, const char *query, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = seg - kl - 1;
            if (vl >= len)
                vl = len - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        if (seg == kl && strncmp(p, key, kl) == 0) {
            out[0] = '\0';
            return true;
        }
        p += seg;
        while (*p == '&')
            p++;
    }
    return false;
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

/* An absolute link to another page, as DRF builds it (request.build_absolute_uri): the scheme
 * and host come from the edge's Sw-Base-Url (the client's Host, or a trusted proxy's
 * X-Forwarded-Host/-Proto, checked against ALLOWED_HOSTS); a request without it (swctl, a
 * test on the bus) gets the bare path. */
static json_t *page_link(const bus_req *req, long page, long size, bool size_given)
{
    char link[512];
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    if (size_given)
        snprintf(link, sizeof(link), "%s/api/endpoints/?page=%ld&page_size=%ld", base, page, size);
    else
        snprintf(link, sizeof(link), "%s/api/endpoints/?page=%ld", base, page);
    return json_string(link);
}

/* ---- reads from the read model (cache.c) --------------------------------------------- */

/* A growing text buffer; oom set once an allocation failed. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_cat(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* A JSON string (escaped as jansson does), or null for NULL. */
static void sb_json_str(sbuf *b, const char *s)
{
    if (!s) {
        sb_cat(b, "null");
        return;
    }
    json_t *v = json_string(s);
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    if (t)
        sb_cat(b, t);
    else
        b->oom = true;
    free(t);
    json_decref(v);
}

/* An integer column as JSON: digits and a sign only, else null. */
static void sb_json_int(sbuf *b, const char *s)
{
    if (!s || !*s || strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')))
        sb_cat(b, "null");
    else
        sb_cat(b, s);
}

/* Runs READ_STATE for the n rows of the snapshot: *state owned; *version: the tenant's version
 * now. */
static sw_status read_state(store_conn *c, const bus_req *req, const endpoints_snapshot *snap,
                            const endpoints_row *const *rows, size_t n, store_rows **state,
                            long long *version)
{
    sbuf ids = {0};
    sb_cat(&ids, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_cat(&ids, ",");
        sb_cat(&ids, rows[i]->id);
    }
    sb_cat(&ids, "}");
    if (ids.oom) {
        free(ids.p);
        return SW_EINTERNAL;
    }
    const char *p[] = {snap->schema, req->tenant, ids.p};
    sw_status st = store_query_prepared(c, state, "endpoints_read_state", READ_STATE, 3, p);
    free(ids.p);
    if (st != SW_OK)
        return st;
    const char *v = store_rows_value(*state, 0, 5);
    *version = v ? strtoll(v, NULL, 10) : -1;
    return SW_OK;
}

/* One endpoint's API object: its cached fields, then its live state (the state row with its
 * id, if any). */
static void append_endpoint(sbuf *b, const bus_req *req, const endpoints_row *row,
                            const store_rows *state)
{
    int k = -1;
    for (int i = 1; i < store_rows_count(state) && k < 0; i++) {
        const char *id = store_rows_value(state, i, 0);
        if (id && strcmp(id, row->id) == 0)
            k = i;
    }
    const char *status = k > 0 ? store_rows_value(state, k, 1) : NULL;
    sb_add(b, row->json, row->len);
    sb_cat(b, ",\"last_status\":");
    sb_json_str(b, row->paused ? "paused" : status ? status : "pending");
    sb_cat(b, ",\"last_checked_at\":");
    sb_json_str(b, k > 0 ? store_rows_value(state, k, 2) : NULL);
    sb_cat(b, ",\"last_latency_ms\":");
    sb_json_int(b, k > 0 ? store_rows_value(state, k, 3) : NULL);
    sb_cat(b, ",\"last_http_status\":");
    sb_json_int(b, k > 0 ? store_rows_value(state, k, 4) : NULL);
    if (row->ping_key[0]) {
        /* A heartbeat: its ping URL on the caller's base URL, and its pings' timing. */
        char url[400];
        endpoints_ping_url(url, sizeof(url), req, row->ping_key);
        sb_cat(b, ",\"ping_url\":");
        sb_json_str(b, url);
        sb_cat(b, ",\"next_ping_at\":");
        sb_json_str(b, k > 0 ? store_rows_value(state, k, 6) : NULL);
        sb_cat(b, ",\"last_ping_at\":");
        sb_json_str(b, k > 0 ? store_rows_value(state, k, 7) : NULL);
    } else {
        /* A probed endpoint: the certificate of its last HTTPS check, its last error. */
        static const char *const live[] = {"tls_expires_at", "tls_issuer", "tls_subject",
                                           "last_error"};
        for (int f = 0; f < 4; f++) {
            sb_cat(b, ",\"");
            sb_cat(b, live[f]);
            sb_cat(b, "\":");
            sb_json_str(b, k > 0 ? store_rows_value(state, k, 8 + f) : NULL);
        }
    }
    sb_cat(b, "}");
}

/* The tenant's snapshot, current as of the state statement: rows picked by pick (from the
 * snapshot) and their state. A snapshot older than the version the statement saw is loaded
 * again (twice at most; a table written that often is then answered from the latest load,
 * which is what was committed a moment before). */
typedef struct pick {
    long offset, size; /* list: the page */
    bool last;         /* list: the last page, whatever the count */
    const char *id;    /* get: one id */
    const endpoints_row *rows[PAGE_SIZE_MAX];
    size_t n;
} pick;

static void pick_rows(pick *pk, const endpoints_snapshot *snap)
{
    pk->n = 0;
    if (pk->id) {
        const endpoints_row *r = endpoints_snapshot_find(snap, pk->id);
        if (r)
            pk->rows[pk->n++] = r;
        return;
    }
    if (pk->last) {
        long count = (long)snap->n;
        long pages = count == 0 ? 1 : (count + pk->size - 1) / pk->size;
        pk->offset = (pages - 1) * pk->size;
    }
    for (long i = pk->offset; i >= 0 && i < (long)snap->n && pk->n < (size_t)pk->size; i++)
        pk->rows[pk->n++] = &snap->rows[i];
}

/* A reply for a snapshot that could not be read. */
static sw_status read_failed(bus_reply *rep, sw_status st)
{
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH)
        return bus_reply_error(rep, SW_EUNAUTH, "tenant_not_found", NULL);
    return bus_reply_failure(rep, st);
}

static sw_status read_current(store_conn *c, const bus_req *req, pick *pk,
                              endpoints_snapshot **snap, store_rows **state)
{
    sw_status st = SW_OK;
    *snap = NULL;
    *state = NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        long long version = -1;
        endpoints_snapshot_release(*snap);
        store_rows_free(*state);
        *snap = NULL;
        *state = NULL;
        st = endpoints_snapshot_get(c, req->tenant, attempt > 0, snap);
        if (st != SW_OK)
            return st;
        pick_rows(pk, *snap);
        st = read_state(c, req, *snap, pk->rows, pk->n, state, &version);
        if (st != SW_OK || version == (*snap)->version)
            return st;
    }
    return st;
}

sw_status endpoints_owned(store_conn *c, const bus_req *req, bool *owned)
{
    endpoints_snapshot *snap = NULL;
    store_rows *state = NULL;
    pick pk = {0};
    char id[40];
    *owned = false;
    if (!uuid_valid(req->param_id))
        return SW_OK;
    snprintf(id, sizeof(id), "%s", req->param_id);
    for (char *p = id; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    pk.id = id;
    sw_status st = read_current(c, req, &pk, &snap, &state);
    *owned = st == SW_OK && pk.n == 1;
    store_rows_free(state);
    endpoints_snapshot_release(snap);
    return st;
}

sw_status endpoints_list(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    char val[32];
    long page = 1, size = PAGE_SIZE_DEFAULT;
    bool size_given = false, last = false;
    endpoints_snapshot *snap = NULL;
    store_rows *state = NULL;
    sbuf b = {0};
    pick pk = {0};
    sw_status st;

    /* DRF PageNumberPagination: a bad page_size falls back to the default, a big one is
     * capped; a page that is not a number or past the end is 404 "Invalid page.". */
    if (query_param(val, sizeof(val), req->query, "page_size") && positive(val) > 0) {
        size = positive(val) > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : positive(val);
        size_given = true;
    }
    if (query_param(val, sizeof(val), req->query, "page")) {
        last = strcmp(val, "last") == 0;
        page = last ? 1 : positive(val);
        if (page < 1)
            return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }

    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    pk.size = size;
    pk.offset = (page - 1) * size;
    pk.last = last;
    st = read_current(c, req, &pk, &snap, &state);
    if (st != SW_OK) {
        st = read_failed(rep, st);
        goto out;
    }
    long count = (long)snap->n;
    long pages = count == 0 ? 1 : (count + size - 1) / size;
    if (last)
        page = pages;
    if (page > pages) {
        st = bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
        goto out;
    }
    /* The shape json_pack gave before: count, next, previous, results. */
    char num[32];
    snprintf(num, sizeof(num), "{\"count\":%ld,\"next\":", count);
    sb_cat(&b, num);
    json_t *links[2] = {page < pages ? page_link(req, page + 1, size, size_given) : NULL,
                        page > 1 ? page_link(req, page - 1, size, size_given) : NULL};
    for (int i = 0; i < 2; i++) {
        sb_json_str(&b, links[i] ? json_string_value(links[i]) : NULL);
        json_decref(links[i]);
        sb_cat(&b, i == 0 ? ",\"previous\":" : ",\"results\":[");
    }
    for (size_t i = 0; i < pk.n; i++) {
        if (i)
            sb_cat(&b, ",");
        append_endpoint(&b, req, pk.rows[i], state);
    }
    sb_cat(&b, "]}");
    if (b.oom) {
        st = bus_reply_failure(rep, SW_EINTERNAL);
        goto out;
    }
    bus_reply_text(rep, b.p);
    b.p = NULL;
    st = SW_OK;
out:
    free(b.p);
    store_rows_free(state);
    endpoints_snapshot_release(snap);
    store_release(app->common->db, c);
    return st;
}

/* ---- checks of issue 17 across fields ------------------------------------------------ */

/* kind and url agree (tcp <-> tcp://), and a tcp endpoint carries no HTTP-only settings.
 * cur_kind/cur_url: the stored ones (update), NULL on create. */
static bool kind_consistent(bus_reply *rep, const endpoint_input *in, const char *cur_kind,
                            const char *cur_url)
{
    const char *kind = in->has_kind ? in->kind : cur_kind ? cur_kind : "http";
    const char *url = in->has_url ? in->url : cur_url;
    bool tcp = strcmp(kind, "tcp") == 0, tcp_url = url && strncmp(url, "tcp://", 6) == 0;
    bool ok = true;
    if (tcp != tcp_url) {
        if (in->has_url)
            bus_reply_field_error(rep, "url",
                                  tcp ? "A tcp endpoint's url is tcp://host:port."
                                      : "Only http and https URLs can be monitored (set kind to "
                                        "tcp for tcp://host:port).");
        else
            bus_reply_field_error(rep, "kind", "Changing the kind needs a url of that kind.");
        ok = false;
    }
    if (tcp) {
        const char *bad[4] = {NULL};
        int n = 0;
        if (in->has_method && strcmp(in->method, "GET") != 0)
            bad[n++] = "method";
        if (in->has_headers && json_object_size(in->headers) > 0)
            bad[n++] = "headers";
        if (in->has_body && in->body)
            bad[n++] = "body";
        if (in->has_assertions && json_array_size(in->assertions) > 0)
            bad[n++] = "assertions";
        for (int i = 0; i < n; i++)
            bus_reply_field_error(rep, bad[i], "Only for http endpoints.");
        ok &= n == 0;
    }
    return ok;
}

/* ---- create -------------------------------------------------------------------------- */

sw_status endpoints_create(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    endpoint_input in;
    json_t *created = NULL, *row = NULL;
    store_conn *c = NULL;
    char interval[24], timeout[24], failure[24], recovery[24];
    char *expected = NULL, *regions = NULL;
    long due_epoch = 0;
    const sw_plan *plan = NULL;
    json_t *probe = NULL;
    endpoint_check_params cp = {0};
    sw_status st;

    if (endpoints_heartbeat_requested(req))
        return endpoints_heartbeat_create(req, rep);
    if (!endpoint_input_read(&in, req, rep, true)) {
        st = SW_EINVAL;
        goto out;
    }
    if (!kind_consistent(rep, &in, NULL, NULL) ||
        !endpoint_check_params_make(&cp, req, &in, NULL, rep)) {
        st = SW_EINVAL;
        goto out;
    }
    if (!in.has_name)
        url_host(in.name, sizeof(in.name), in.url);
    if (!in.has_interval)
        in.interval_seconds = 60;
    if (!in.has_timeout)
        in.timeout_seconds = 10;
    if (in.timeout_seconds >= in.interval_seconds) {
        bus_reply_field_error(rep, "timeout_seconds",
                              "Ensure this value is less than interval_seconds.");
        st = SW_EINVAL;
        goto out;
    }
    snprintf(interval, sizeof(interval), "%ld", in.interval_seconds);
    snprintf(timeout, sizeof(timeout), "%ld", in.timeout_seconds);
    snprintf(failure, sizeof(failure), "%ld", in.has_failure ? in.failure_threshold : 3);
    snprintf(recovery, sizeof(recovery), "%ld", in.has_recovery ? in.recovery_threshold : 2);
    expected = in.has_expected ? json_text(in.expected_status) : strdup("\"2xx-3xx\"");
    if (in.has_regions) {
        regions = json_text(in.regions);
    } else {
        json_t *home = json_pack("[s]", app->home_region);
        regions = json_text(home);
        json_decref(home);
    }
    if (!expected || !regions) {
        st = bus_reply_failure(rep, SW_EINTERNAL);
        goto out;
    }

    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c) {
        st = bus_reply_failure(rep, SW_EUNAVAILABLE);
        goto out;
    }
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    /* Race-free limit: concurrent creates of one tenant queue on its row, so each counts
     * what the previous one committed. */
    st = endpoints_lock_plan(c, req->tenant, &plan);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    if (plan && plan->endpoint_limit >= 0) {
        long n = count_where(c, "SELECT count(*) AS n FROM endpoints", 0, NULL, &st);
        if (st != SW_OK) {
            st = bus_reply_failure(rep, st);
            goto out;
        }
        if (n >= plan->endpoint_limit) {
            st = plan_limit(rep, plan);
            goto out;
        }
    }
    const char *p[] = {in.name,   in.url,   interval, timeout,  expected, regions,  failure,
                       recovery,  in.has_paused && in.paused ? "true" : "false",
                       cp.p[0],   cp.p[1],  cp.p[2],  cp.p[3],  cp.p[4],  cp.p[5],  cp.p[6],
                       cp.p[7],   cp.p[8],  cp.p[9]};
    st = store_query_one(
        c, &created,
        "INSERT INTO endpoints (name, url, interval_seconds, timeout_seconds,"
        "  expected_status, regions, failure_threshold, recovery_threshold,"
        "  paused, kind, method, header_names, headers_sealed, body, follow_redirects, tls_verify,"
        "  assertions, degraded_threshold_ms, tls_expiry_alert_days)"
        " VALUES ($1, $2, $3::int, $4::int, $5::jsonb,"
        "  ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7::int, $8::int,"
        "  $9::boolean, coalesce($10, 'http'), coalesce($11, 'GET'),"
        "  CASE WHEN $12::jsonb IS NULL THEN '{}'::text[]"
        "   ELSE ARRAY(SELECT jsonb_array_elements_text($12::jsonb)) END, nullif($13, ''), $14,"
        "  coalesce($15::boolean, true), coalesce($16::boolean, true), coalesce($17::jsonb, '[]'),"
        "  $18::int, CASE WHEN $19::jsonb IS NULL THEN '{14,7,1}'::int[]"
        "   ELSE ARRAY(SELECT jsonb_array_elements_text($19::jsonb)::int) END)"
        " RETURNING id::text AS id",
        19, p);
    if (st != SW_OK) {
        st = write_failed(c, rep, st);
        goto out;
    }
    const char *id = json_string_value(json_object_get(created, "id"));
    st = schedule_write(c, req, id, in.has_paused && in.paused, &due_epoch, &probe);
    if (st == SW_OK)
        st = endpoints_alert_write(c, req, rep, id);
    if (st == SW_EINVAL)
        goto out; /* field errors in rep */
    if (st == SW_OK)
        st = fetch(c, req, id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    sw_log(SW_LOG_INFO, "endpoint created", "endpoint_id", id, NULL);
    endpoints_publish_first_check(req, row, due_epoch, probe);
    endpoints_publish_event(req, id, "created", row);
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_CREATED;
out:
    if (c)
        store_release(app->common->db, c); /* rolls back what was not committed */
    json_decref(row);
    json_decref(created);
    json_decref(probe);
    free(regions);
    free(expected);
    endpoint_check_params_free(&cp);
    endpoint_input_free(&in);
    return st;
}

/* ---- get ----------------------------------------------------------------------------- */

sw_status endpoints_get(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    endpoints_snapshot *snap = NULL;
    store_rows *state = NULL;
    sbuf b = {0};
    pick pk = {0};
    sw_status st;

    if (!uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    char id[40];
    snprintf(id, sizeof(id), "%s", req->param_id);
    for (char *p = id; *p; p++)
        *p = (char)tolower((unsigned char)*p); /* the form ::text gives */
    pk.id = id;
    st = read_current(c, req, &pk, &snap, &state);
    if (st != SW_OK) {
        st = read_failed(rep, st);
        goto out;
    }
    if (pk.n == 0) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    append_endpoint(&b, req, pk.rows[0], state);
    if (b.oom) {
        st = bus_reply_failure(rep, SW_EINTERNAL);
        goto out;
    }
    bus_reply_text(rep, b.p);
    b.p = NULL;
    st = SW_OK;
out:
    free(b.p);
    store_rows_free(state);
    endpoints_snapshot_release(snap);
    store_release(app->common->db, c);
    return st;
}

/* ---- update (PUT: url required; PATCH: any subset) ---------------------------------- */

static sw_status update(const bus_req *req, bus_reply *rep, bool put)
{
    endpoints_app *app = req->app;
    endpoint_input in;
    json_t *cur = NULL, *row = NULL;
    store_conn *c = NULL;
    char interval[24], timeout[24], failure[24], recovery[24];
    char *expected = NULL, *regions = NULL;
    long due_epoch = 0;
    json_t *probe = NULL;
    endpoint_check_params cp = {0};
    sw_status st;

    if (!uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    if (endpoints_heartbeat_update(req, rep, &st))
        return st;
    /* Field errors wait until the row is known to be the caller's: 404 comes first. */
    bool valid = endpoint_input_read(&in, req, rep, put);

    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c) {
        st = bus_reply_failure(rep, SW_EUNAVAILABLE);
        goto out;
    }
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    const char *pid[] = {req->param_id};
    st = store_query_one(c, &cur,
                         "SELECT interval_seconds, timeout_seconds, paused, kind, url,"
                         " headers_sealed FROM endpoints WHERE id = $1::uuid FOR UPDATE",
                         1, pid);
    if (st == SW_ENOTFOUND) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    if (!valid ||
        !kind_consistent(rep, &in, json_string_value(json_object_get(cur, "kind")),
                         json_string_value(json_object_get(cur, "url"))) ||
        !endpoint_check_params_make(&cp, req, &in,
                                    json_string_value(json_object_get(cur, "headers_sealed")),
                                    rep)) {
        st = SW_EINVAL;
        goto out;
    }
    long iv = in.has_interval ? in.interval_seconds
                              : (long)json_integer_value(json_object_get(cur, "interval_seconds"));
    long to = in.has_timeout ? in.timeout_seconds
                             : (long)json_integer_value(json_object_get(cur, "timeout_seconds"));
    if (to >= iv) {
        bus_reply_field_error(rep, "timeout_seconds",
                              "Ensure this value is less than interval_seconds.");
        st = SW_EINVAL;
        goto out;
    }
    bool was_paused = json_is_true(json_object_get(cur, "paused"));
    bool paused = in.has_paused ? in.paused : was_paused;
    if (was_paused && !paused) {
        /* Resuming counts against the plan like a create (a downgrade pauses the extras). */
        const sw_plan *plan = NULL;
        st = endpoints_lock_plan(c, req->tenant, &plan);
        bool limited = plan && plan->endpoint_limit >= 0;
        long n = 0;
        if (st == SW_OK && limited)
            n = count_where(c, "SELECT count(*) AS n FROM endpoints WHERE NOT paused", 0, NULL,
                            &st);
        if (st != SW_OK) {
            st = bus_reply_failure(rep, st);
            goto out;
        }
        if (limited && n >= plan->endpoint_limit) {
            st = plan_limit(rep, plan);
            goto out;
        }
    }
    snprintf(interval, sizeof(interval), "%ld", in.interval_seconds);
    snprintf(timeout, sizeof(timeout), "%ld", in.timeout_seconds);
    snprintf(failure, sizeof(failure), "%ld", in.failure_threshold);
    snprintf(recovery, sizeof(recovery), "%ld", in.recovery_threshold);
    expected = in.has_expected ? json_text(in.expected_status) : NULL;
    regions = in.has_regions ? json_text(in.regions) : NULL;
    const char *p[] = {req->param_id,
                       in.has_name ? in.name : NULL,
                       in.has_url ? in.url : NULL,
                       in.has_interval ? interval : NULL,
                       in.has_timeout ? timeout : NULL,
                       expected,
                       regions,
                       in.has_failure ? failure : NULL,
                       in.has_recovery ? recovery : NULL,
                       paused ? "true" : "false",
                       cp.p[0],
                       cp.p[1],
                       cp.p[2],
                       cp.p[3],
                       cp.set_body ? "true" : "false",
                       cp.p[4],
                       cp.p[5],
                       cp.p[6],
                       cp.p[7],
                       cp.set_degraded ? "true" : "false",
                       cp.p[8],
                       cp.p[9]};
    st = store_query(c, NULL, NULL,
                     "UPDATE endpoints SET name = coalesce($2, name), url = coalesce($3, url),"
                     " interval_seconds = coalesce($4::int, interval_seconds),"
                     " timeout_seconds = coalesce($5::int, timeout_seconds),"
                     " expected_status = coalesce($6::jsonb, expected_status),"
                     " regions = CASE WHEN $7::jsonb IS NULL THEN regions"
                     "   ELSE ARRAY(SELECT jsonb_array_elements_text($7::jsonb)) END,"
                     " failure_threshold = coalesce($8::int, failure_threshold),"
                     " recovery_threshold = coalesce($9::int, recovery_threshold),"
                     " paused = $10::boolean, updated_at = clock_timestamp(),"
                     /* a pause the tenant sets or lifts itself is its own, not the plan's */
                     " paused_by_plan = paused_by_plan AND paused = $10::boolean,"
                     " kind = coalesce($11, kind), method = coalesce($12, method),"
                     " header_names = CASE WHEN $13::jsonb IS NULL THEN header_names"
                     "   ELSE ARRAY(SELECT jsonb_array_elements_text($13::jsonb)) END,"
                     " headers_sealed = CASE WHEN $13::jsonb IS NULL THEN headers_sealed"
                     "   ELSE nullif($14, '') END,"
                     " body = CASE WHEN $15::boolean THEN $16 ELSE body END,"
                     " follow_redirects = coalesce($17::boolean, follow_redirects),"
                     " tls_verify = coalesce($18::boolean, tls_verify),"
                     " assertions = coalesce($19::jsonb, assertions),"
                     " degraded_threshold_ms = CASE WHEN $20::boolean THEN $21::int"
                     "   ELSE degraded_threshold_ms END,"
                     " tls_expiry_alert_days = CASE WHEN $22::jsonb IS NULL"
                     "   THEN tls_expiry_alert_days"
                     "   ELSE ARRAY(SELECT jsonb_array_elements_text($22::jsonb)::int) END"
                     " WHERE id = $1::uuid",
                     22, p);
    if (st != SW_OK) {
        st = write_failed(c, rep, st);
        goto out;
    }
    st = schedule_write(c, req, req->param_id, paused, &due_epoch, &probe);
    if (st == SW_OK)
        st = endpoints_alert_write(c, req, rep, req->param_id);
    if (st == SW_EINVAL)
        goto out; /* field errors in rep */
    if (st == SW_OK)
        st = fetch(c, req, req->param_id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    endpoints_publish_first_check(req, row, due_epoch, probe);
    endpoints_publish_event(req, req->param_id, "updated", row);
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_OK;
out:
    if (c)
        store_release(app->common->db, c); /* rolls back what was not committed */
    json_decref(row);
    json_decref(cur);
    json_decref(probe);
    free(regions);
    free(expected);
    endpoint_check_params_free(&cp);
    endpoint_input_free(&in);
    return st;
}

sw_status endpoints_update(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
        return SW_EFORBIDDEN;
    return update(req, rep, true);
}

sw_status endpoints_patch(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
        return SW_EFORBIDDEN;
    return update(req, rep, false);
}

/* ---- delete -------------------------------------------------------------------------- */

sw_status endpoints_delete(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
        return SW_EFORBIDDEN;
    endpoints_app *app = req->app;
    json_t *row = NULL;
    sw_status st;

    if (!uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    const char *pid[] = {req->param_id};
    st = store_query_one(c, &row,
                         "DELETE FROM endpoints WHERE id = $1::uuid"
                         " RETURNING id, name, url, ping_key::text AS ping_key",
                         1, pid);
    if (st == SW_ENOTFOUND) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    /* Only after the row proved to be this tenant's: the schedule row, filtered by tenant
     * as well. A job already in flight finds no schedule row and is dropped by its
     * consumer; the recorder forgets the endpoint's state on the endpoint.deleted event. */
    const char *p[] = {req->param_id, req->tenant};
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "DELETE FROM public.schedule WHERE endpoint_id = $1::uuid"
                         " AND tenant_id = $2",
                         2, p);
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "DELETE FROM public.heartbeats WHERE endpoint_id = $1::uuid"
                         " AND tenant_id = $2",
                         2, p);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    sw_log(SW_LOG_INFO, "endpoint deleted", "endpoint_id", req->param_id, NULL);
    if (json_is_string(json_object_get(row, "ping_key")))
        endpoints_publish_ping_key(req, req->param_id,
                                   json_string_value(json_object_get(row, "ping_key")), true);
    endpoints_publish_event(req, req->param_id, "deleted", row);
    st = SW_NO_CONTENT;
out:
    json_decref(row);
    store_release(app->common->db, c); /* rolls back what was not committed */
    return st;
}
