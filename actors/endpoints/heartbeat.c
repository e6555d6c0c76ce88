/* Heartbeat monitors in sw-endpoints (README "Heartbeat monitors"): an endpoint of kind
 * "heartbeat" has no URL and is never probed; the job it watches pings its ping URL. Here:
 * create and update of heartbeats (period_seconds, or cron in time zone tz, and
 * grace_seconds), their row in public.heartbeats (what the recorder's deadline ticker reads),
 * the ping key (a fresh uuid, the ping URL's secret) published for the edge, rotation, and
 * the list of pings. A heartbeat is told apart by its ping_key. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/cron.h"
#include "actors/common/role.h"
#include "actors/endpoints/endpoints.h"
#include "bus/log.h"
#include "bus/messages.h"

#define PERIOD_MIN 60
#define PERIOD_MAX (31 * 86400)
#define GRACE_MAX 86400
#define GRACE_DEFAULT 300
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* What a request may set on a heartbeat; has_* tells which fields it carried. */
typedef struct hb_input {
    bool has_name, has_period, has_cron, has_tz, has_grace, has_paused;
    char name[808];
    long period_seconds, grace_seconds;
    char cron[SW_CRON_MAX];
    char tz[SW_TZ_MAX];
    bool paused;
} hb_input;

bool endpoints_heartbeat_requested(const bus_req *req)
{
    const char *kind = json_string_value(json_object_get(req->body, "kind"));
    return kind && strcmp(kind, "heartbeat") == 0;
}

static bool int_field(const json_t *body, bus_reply *rep, const char *name, long min, long max,
                      bool *has, long *out)
{
    char msg[96];
    json_t *v = json_object_get(body, name);
    *has = false;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v)) {
        bus_reply_field_error(rep, name, "A valid integer is required.");
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (n < min || n > max) {
        snprintf(msg, sizeof(msg), "Ensure this value is %s %ld.",
                 n < min ? "greater than or equal to" : "less than or equal to",
                 n < min ? min : max);
        bus_reply_field_error(rep, name, msg);
        return false;
    }
    *has = true;
    *out = (long)n;
    return true;
}

/* Reads and checks the heartbeat fields of req->body; false when there were field errors. A
 * null period_seconds or cron is the same as leaving it out. */
static bool input_read(hb_input *in, const bus_req *req, bus_reply *rep)
{
    const json_t *b = req->body;
    bool ok = true;
    memset(in, 0, sizeof(*in));
    json_t *v = json_object_get(b, "url");
    if (v && !json_is_null(v)) {
        bus_reply_field_error(rep, "url", "A heartbeat has no URL: the job pings its ping_url.");
        ok = false;
    }
    v = json_object_get(b, "name");
    if (v) {
        const char *s = json_string_value(v);
        size_t chars = 0, n = s ? strlen(s) : 0;
        while (s && n && isspace((unsigned char)s[n - 1]))
            n--;
        while (s && n && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
        bool ctl = false;
        for (size_t i = 0; s && i < n; i++) {
            ctl |= (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        }
        if (!s) {
            bus_reply_field_error(rep, "name", "Not a valid string.");
            ok = false;
        } else if (n == 0) {
            bus_reply_field_error(rep, "name", "This field may not be blank.");
            ok = false;
        } else if (ctl) {
            bus_reply_field_error(rep, "name", "Control characters are not allowed.");
            ok = false;
        } else if (chars > 200 || n >= sizeof(in->name)) {
            bus_reply_field_error(rep, "name",
                                  "Ensure this field has no more than 200 characters.");
            ok = false;
        } else {
            memcpy(in->name, s, n);
            in->name[n] = '\0';
            in->has_name = true;
        }
    }
    ok &= int_field(b, rep, "period_seconds", PERIOD_MIN, PERIOD_MAX, &in->has_period,
                    &in->period_seconds);
    ok &= int_field(b, rep, "grace_seconds", 0, GRACE_MAX, &in->has_grace, &in->grace_seconds);
    v = json_object_get(b, "cron");
    if (v && !json_is_null(v)) {
        char err[160];
        sw_cron c;
        const char *s = json_string_value(v);
        if (!s || !sw_cron_parse(&c, s, err, sizeof(err))) {
            bus_reply_field_error(rep, "cron", s ? err : "Not a valid string.");
            ok = false;
        } else {
            /* Stored as given, but with single spaces. */
            size_t o = 0;
            for (const char *p = s; *p && o + 1 < sizeof(in->cron); p++) {
                bool sp = *p == ' ' || *p == '\t';
                if (sp && (o == 0 || in->cron[o - 1] == ' '))
                    continue;
                in->cron[o++] = sp ? ' ' : *p;
            }
            while (o && in->cron[o - 1] == ' ')
                o--;
            in->cron[o] = '\0';
            in->has_cron = true;
        }
    }
    v = json_object_get(b, "tz");
    if (v && !json_is_null(v)) {
        const char *s = json_string_value(v);
        if (!s || !sw_tz_valid(s)) {
            bus_reply_field_error(rep, "tz",
                                  "Enter a time zone of the IANA database, such as "
                                  "\"Europe/Berlin\" or \"UTC\".");
            ok = false;
        } else {
            snprintf(in->tz, sizeof(in->tz), "%s", s);
            in->has_tz = true;
        }
    }
    v = json_object_get(b, "paused");
    if (v) {
        if (!json_is_boolean(v)) {
            bus_reply_field_error(rep, "paused", "Must be a valid boolean.");
            ok = false;
        } else {
            in->has_paused = true;
            in->paused = json_is_true(v);
        }
    }
    if (in->has_period && in->has_cron) {
        bus_reply_field_error(rep, "non_field_errors", "Set period_seconds or cron, not both.");
        ok = false;
    }
    return ok;
}

/* A cron schedule that never fires (such as 30 February) is refused. */
static bool cron_fires(bus_reply *rep, const char *cron, const char *tz)
{
    sw_cron c;
    char err[160];
    int64_t t;
    if (sw_cron_parse(&c, cron, err, sizeof(err)) && sw_cron_next(&t, &c, tz, sw_epoch_ms() / 1000))
        return true;
    bus_reply_field_error(rep, "cron", "This schedule never fires.");
    return false;
}

/* public.heartbeats follows the endpoint, as public.schedule does for probed ones: absent
 * while paused; every write moves updated_at, which tells the recorder to compute the
 * deadline again. */
static sw_status heartbeats_write(store_conn *c, const bus_req *req, const char *id, bool paused)
{
    const char *p[] = {id, req->tenant};
    if (paused)
        return store_query(c, NULL, NULL,
                           "DELETE FROM public.heartbeats WHERE endpoint_id = $1::uuid"
                           " AND tenant_id = $2",
                           2, p);
    return store_query(c, NULL, NULL,
                       "INSERT INTO public.heartbeats AS h (endpoint_id, tenant_id, name,"
                       "  period_seconds, cron, tz, grace_seconds, updated_at)"
                       " SELECT e.id, $2, e.name, e.period_seconds, e.cron, coalesce(e.tz, 'UTC'),"
                       "  coalesce(e.grace_seconds, 300), clock_timestamp()"
                       " FROM endpoints e WHERE e.id = $1::uuid"
                       " ON CONFLICT (endpoint_id) DO UPDATE SET name = excluded.name,"
                       "  period_seconds = excluded.period_seconds, cron = excluded.cron,"
                       "  tz = excluded.tz, grace_seconds = excluded.grace_seconds,"
                       "  updated_at = excluded.updated_at"
                       "  WHERE h.tenant_id = excluded.tenant_id",
                       2, p);
}

static sw_status begin(store_conn *c, const bus_req *req, bus_reply *rep)
{
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        bus_reply_clear(rep);
        return bus_reply_error(rep, SW_EUNAUTH, "tenant_not_found", NULL);
    }
    return st == SW_OK ? SW_OK : bus_reply_failure(rep, st);
}

static const char *const hb_only[] = {"period_seconds", "cron",         "tz",
                                      "grace_seconds",  "next_ping_at", "last_ping_at"};

/* What only a probed endpoint has (issue 17), and its live state. */
static const char *const probe_only[] = {
    "method",     "headers",        "body",           "follow_redirects",      "tls_verify",
    "assertions", "degraded_threshold_ms", "tls_expiry_alert_days", "tls_expires_at",
    "tls_issuer", "tls_subject",    "last_error"};

void endpoints_ping_url(char *out, size_t len, const bus_req *req, const char *key)
{
    /* The ping URL is on the host the caller reached us on (the edge checked it against
     * ALLOWED_HOSTS); a request without one (swctl, a bus test) gets the bare path. */
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    snprintf(out, len, "%s/ping/%s", base, key);
}

void endpoints_heartbeat_shape_cached(json_t *row, char *key, size_t keylen)
{
    const char *k = json_string_value(json_object_get(row, "ping_key"));
    snprintf(key, keylen, "%s", k ? k : "");
    if (k || !json_object_get(row, "kind"))
        json_object_set_new(row, "kind", json_string(k ? "heartbeat" : "http"));
    if (!k)
        for (size_t i = 0; i < sizeof(hb_only) / sizeof(hb_only[0]); i++)
            json_object_del(row, hb_only[i]);
    else
        for (size_t i = 0; i < sizeof(probe_only) / sizeof(probe_only[0]); i++)
            json_object_del(row, probe_only[i]);
    json_object_del(row, "ping_key");
}

void endpoints_heartbeat_shape(const bus_req *req, json_t *row)
{
    char key[40], url[400];
    endpoints_heartbeat_shape_cached(row, key, sizeof(key));
    if (key[0]) {
        endpoints_ping_url(url, sizeof(url), req, key);
        json_object_set_new(row, "ping_url", json_string(url));
    }
}

static sw_status fetch(store_conn *c, const bus_req *req, const char *id, json_t **row)
{
    const char *p[] = {req->tenant, id};
    sw_status st = endpoints_fetch(c, p, row);
    if (st == SW_OK)
        endpoints_heartbeat_shape(req, *row);
    return st;
}

sw_status endpoints_heartbeat_create(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    hb_input in;
    json_t *created = NULL, *row = NULL;
    store_conn *c = NULL;
    char period[24], grace[24], regions[96];
    sw_status st;

    if (!input_read(&in, req, rep))
        return SW_EINVAL;
    if (!in.has_period && !in.has_cron) {
        bus_reply_field_error(rep, "period_seconds", "Set period_seconds or cron.");
        return SW_EINVAL;
    }
    if (!in.has_tz)
        snprintf(in.tz, sizeof(in.tz), "UTC");
    if (in.has_cron && !cron_fires(rep, in.cron, in.tz))
        return SW_EINVAL;
    if (!in.has_name)
        snprintf(in.name, sizeof(in.name), "Heartbeat");
    snprintf(period, sizeof(period), "%ld", in.period_seconds);
    snprintf(grace, sizeof(grace), "%ld", in.has_grace ? in.grace_seconds : (long)GRACE_DEFAULT);
    snprintf(regions, sizeof(regions), "[\"%s\"]", app->home_region);

    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    st = endpoints_check_limit(c, req, rep);
    if (st != SW_OK)
        goto out;
    const char *p[] = {in.name,
                       in.has_period ? period : NULL,
                       in.has_cron ? in.cron : NULL,
                       in.tz,
                       grace,
                       regions,
                       in.has_paused && in.paused ? "true" : "false"};
    st =
        store_query_one(c, &created,
                        "INSERT INTO endpoints (name, url, regions, ping_key, period_seconds, cron,"
                        "  tz, grace_seconds, paused)"
                        " VALUES ($1, NULL, ARRAY(SELECT jsonb_array_elements_text($6::jsonb)),"
                        "  gen_random_uuid(), $2::int, $3, $4, $5::int, $7::boolean)"
                        " RETURNING id::text AS id, ping_key::text AS ping_key",
                        7, p);
    if (st != SW_OK) {
        sw_log(SW_LOG_WARN, "heartbeat write refused", "constraint", store_last_constraint(c),
               NULL);
        st = bus_reply_failure(rep, st);
        goto out;
    }
    const char *id = json_string_value(json_object_get(created, "id"));
    st = heartbeats_write(c, req, id, in.has_paused && in.paused);
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
    sw_log(SW_LOG_INFO, "heartbeat created", "endpoint_id", id, NULL);
    endpoints_publish_ping_key(req, id, json_string_value(json_object_get(created, "ping_key")),
                               false);
    endpoints_publish_event(req, id, "created", row);
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_CREATED;
out:
    store_release(app->common->db, c); /* rolls back what was not committed */
    json_decref(row);
    json_decref(created);
    return st;
}

bool endpoints_heartbeat_update(const bus_req *req, bus_reply *rep, sw_status *result)
{
    endpoints_app *app = req->app;
    hb_input in;
    json_t *cur = NULL, *row = NULL;
    char period[24], grace[24];
    bool mine = false;
    sw_status st;

    if (!bus_uuid_valid(req->param_id))
        return false;
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c) {
        *result = bus_reply_failure(rep, SW_EUNAVAILABLE);
        return true;
    }
    st = begin(c, req, rep);
    if (st != SW_OK) {
        *result = st;
        mine = true;
        goto out;
    }
    const char *pid[] = {req->param_id};
    st = store_query_one(c, &cur,
                         "SELECT period_seconds, cron, tz, paused FROM endpoints"
                         " WHERE id = $1::uuid AND ping_key IS NOT NULL FOR UPDATE",
                         1, pid);
    if (st == SW_ENOTFOUND)
        goto out; /* not a heartbeat (or not the tenant's): crud.c answers */
    mine = true;
    if (st != SW_OK) {
        *result = bus_reply_failure(rep, st);
        goto out;
    }
    const char *kind = json_string_value(json_object_get(req->body, "kind"));
    bool valid = input_read(&in, req, rep);
    if (kind && strcmp(kind, "heartbeat") != 0) {
        bus_reply_field_error(rep, "kind", "The kind of an endpoint cannot change.");
        valid = false;
    }
    if (!valid) {
        *result = SW_EINVAL;
        goto out;
    }
    /* A new period replaces a schedule and the other way round. */
    const char *cron = in.has_cron     ? in.cron
                       : in.has_period ? NULL
                                       : json_string_value(json_object_get(cur, "cron"));
    const char *tz = in.has_tz ? in.tz : json_string_value(json_object_get(cur, "tz"));
    if (cron && !cron_fires(rep, cron, tz ? tz : "UTC")) {
        *result = SW_EINVAL;
        goto out;
    }
    long pv = in.has_period ? in.period_seconds
                            : (long)json_integer_value(json_object_get(cur, "period_seconds"));
    snprintf(period, sizeof(period), "%ld", pv);
    snprintf(grace, sizeof(grace), "%ld", in.grace_seconds);
    bool paused = in.has_paused ? in.paused : json_is_true(json_object_get(cur, "paused"));
    const char *p[] = {req->param_id,
                       in.has_name ? in.name : NULL,
                       cron ? NULL : period,
                       cron,
                       in.has_tz ? in.tz : NULL,
                       in.has_grace ? grace : NULL,
                       paused ? "true" : "false"};
    st = store_query(c, NULL, NULL,
                     "UPDATE endpoints SET name = coalesce($2, name), period_seconds = $3::int,"
                     " cron = $4, tz = coalesce($5, tz), grace_seconds = coalesce($6::int,"
                     " grace_seconds), paused = $7::boolean, updated_at = clock_timestamp()"
                     " WHERE id = $1::uuid",
                     7, p);
    if (st == SW_OK)
        st = heartbeats_write(c, req, req->param_id, paused);
    if (st == SW_OK)
        st = endpoints_alert_write(c, req, rep, req->param_id);
    if (st == SW_EINVAL) {
        *result = SW_EINVAL; /* field errors in rep */
        goto out;
    }
    if (st == SW_OK)
        st = fetch(c, req, req->param_id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        *result = bus_reply_failure(rep, st);
        goto out;
    }
    endpoints_publish_event(req, req->param_id, "updated", row);
    bus_reply_json(rep, row);
    row = NULL;
    *result = SW_OK;
out:
    store_release(app->common->db, c);
    json_decref(row);
    json_decref(cur);
    return mine;
}

sw_status endpoints_rotate_ping_url(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    json_t *keys = NULL, *row = NULL;
    sw_status st;

    if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
        return SW_EFORBIDDEN;
    if (!bus_uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    const char *pid[] = {req->param_id};
    st = store_query_one(c, &keys,
                         "UPDATE endpoints e SET ping_key = gen_random_uuid(),"
                         "  updated_at = clock_timestamp()"
                         " FROM (SELECT id, ping_key AS old FROM endpoints WHERE id = $1::uuid"
                         "  AND ping_key IS NOT NULL FOR UPDATE) o WHERE e.id = o.id"
                         " RETURNING o.old::text AS old, e.ping_key::text AS new",
                         1, pid);
    if (st == SW_ENOTFOUND) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    if (st == SW_OK)
        st = fetch(c, req, req->param_id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    sw_log(SW_LOG_INFO, "ping URL rotated", "endpoint_id", req->param_id, NULL);
    endpoints_publish_ping_key(req, req->param_id, json_string_value(json_object_get(keys, "new")),
                               false);
    endpoints_publish_ping_key(req, req->param_id, json_string_value(json_object_get(keys, "old")),
                               true);
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_OK;
out:
    store_release(app->common->db, c);
    json_decref(row);
    json_decref(keys);
    return st;
}

/* The value of key in a raw query string, copied into out; false when absent. */
static bool query_param(char *out, size_t len, const char *query, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = seg - kl - 1 < len - 1 ? seg - kl - 1 : len - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        p += seg;
        while (*p == '&')
            p++;
    }
    return false;
}

static long positive(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return -1;
    long v = strtol(s, NULL, 10);
    return v > 0 ? v : -1;
}

static json_t *page_link(const bus_req *req, long page, long size, bool size_given)
{
    char link[512];
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    if (size_given)
        snprintf(link, sizeof(link), "%s/api/endpoints/%s/pings/?page=%ld&page_size=%ld", base,
                 req->param_id, page, size);
    else
        snprintf(link, sizeof(link), "%s/api/endpoints/%s/pings/?page=%ld", base, req->param_id,
                 page);
    return json_string(link);
}

sw_status endpoints_pings(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    json_t *rows = NULL, *total = NULL;
    char val[32], lim[24], off[24];
    long page = 1, size = PAGE_SIZE_DEFAULT;
    bool size_given = false;
    sw_status st;

    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    if (!bus_uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    if (query_param(val, sizeof(val), req->query, "page_size") && positive(val) > 0) {
        size = positive(val) > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : positive(val);
        size_given = true;
    }
    if (query_param(val, sizeof(val), req->query, "page")) {
        page = positive(val);
        if (page < 1)
            return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    /* The endpoint must be the caller's heartbeat (another tenant's id is 404, never 403). */
    const char *p[] = {req->param_id, req->tenant};
    st = store_query_one(c, &total,
                         "SELECT count(p.*) AS n FROM endpoints e"
                         " LEFT JOIN public.heartbeat_pings p ON p.endpoint_id = e.id"
                         "  AND p.tenant_id = $2"
                         " WHERE e.id = $1::uuid AND e.ping_key IS NOT NULL GROUP BY e.id",
                         2, p);
    if (st == SW_ENOTFOUND) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    long count = (long)json_integer_value(json_object_get(total, "n"));
    long pages = count == 0 ? 1 : (count + size - 1) / size;
    if (page > pages) {
        st = bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
        goto out;
    }
    snprintf(lim, sizeof(lim), "%ld", size);
    snprintf(off, sizeof(off), "%ld", (page - 1) * size);
    const char *p2[] = {req->param_id, req->tenant, lim, off};
    st = store_query(
        c, &rows, NULL,
        "SELECT ping_id AS id, kind, exit_status, " TS(
            "received_at") " AS received_at,"
                           "  method, client_ip, user_agent, left(body, 1024) AS body,"
                           "  octet_length(body) AS body_bytes, duration_ms"
                           " FROM public.heartbeat_pings WHERE endpoint_id = $1::uuid AND "
                           "tenant_id = $2"
                           " ORDER BY received_at DESC, ping_id DESC LIMIT $3::int OFFSET $4::int",
        4, p2);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    bus_reply_json(
        rep,
        json_pack("{s:I,s:o,s:o,s:O}", "count", (json_int_t)count, "next",
                  page < pages ? page_link(req, page + 1, size, size_given) : json_null(),
                  "previous", page > 1 ? page_link(req, page - 1, size, size_given) : json_null(),
                  "results", rows));
    st = SW_OK;
out:
    store_release(app->common->db, c);
    json_decref(rows);
    json_decref(total);
    return st;
}
