/* The audit log (issue 21): who did what in an organization, newest first. Entries are only
 * ever added (sw_auth holds SELECT and INSERT on audit_log, nothing more). sw-auth's own changes
 * write theirs inside the transaction of the change, so an entry exists exactly when its change
 * does; other actors' changes (endpoints, status pages, plans, channels) arrive as the "audit"
 * object of their events (bus/contract.h, durable BUS_CONSUMER_AUTH_AUDIT), written here once
 * each (keyed by the event's msg id). GET /api/audit-log/ (owner/admin), and the page helper
 * the team lists share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/role.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100

sw_status auth_audit(store_conn *c, const bus_req *req, const char *actor_user, const char *action,
                     const char *target_type, const char *target_id, const char *target_label,
                     const json_t *detail)
{
    const char *token = bus_req_header(req, BUS_H_API_TOKEN);
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    const char *user = actor_user ? actor_user : req->user;
    const char *p[] = {user,      token,        action,         target_type,
                       target_id, target_label, req->client_ip, text ? text : "{}"};
    /* The actor's label is kept with the entry: it outlives a removed member or a token. */
    sw_status st = store_query(
        c, NULL, NULL,
        "INSERT INTO audit_log (actor_user, actor_token, actor_label, action, target_type,"
        " target_id, target_label, client_ip, detail)"
        " VALUES ($1::uuid, $2::uuid,"
        "  coalesce((SELECT 'token ' || name FROM api_tokens WHERE id = $2::uuid),"
        "           (SELECT email FROM users WHERE id = $1::uuid)),"
        "  $3, $4, $5, left($6, 200), left($7, 64), $8::jsonb)",
        8, p);
    free(text);
    if (st != SW_OK)
        sw_log(SW_LOG_ERROR, "audit entry not written", "action", action, NULL);
    return st;
}

/* A query parameter's value (percent-encoding is not expected in page numbers). */
static bool query_param(char *out, size_t len, const char *query, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = query; p && *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t v = strcspn(p + n + 1, "&");
            if (v >= len)
                return false;
            memcpy(out, p + n + 1, v);
            out[v] = '\0';
            return true;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return false;
}

static long positive(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return end && *end == '\0' && end != s && v > 0 && v < 1000000 ? v : -1;
}

bool auth_page(const bus_req *req, long *page, long *size)
{
    char val[24];
    *page = 1;
    *size = PAGE_SIZE_DEFAULT;
    if (query_param(val, sizeof(val), req->query, "page_size") && positive(val) > 0)
        *size = positive(val) > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : positive(val);
    if (query_param(val, sizeof(val), req->query, "page")) {
        *page = positive(val);
        if (*page < 1)
            return false;
    }
    return true;
}

static json_t *link(const bus_req *req, const char *path, long page, long size)
{
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    char out[512];
    snprintf(out, sizeof(out), "%s%s?page=%ld&page_size=%ld", base ? base : "", path, page, size);
    return json_string(out);
}

sw_status auth_reply_page(bus_reply *rep, const bus_req *req, const char *path, json_t *rows,
                          long total, long page, long size)
{
    if (page > 1 && (page - 1) * size >= total) {
        json_decref(rows);
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    }
    json_t *body = json_object();
    json_object_set_new(body, "count", json_integer(total));
    json_object_set_new(body, "next",
                        page * size < total ? link(req, path, page + 1, size) : json_null());
    json_object_set_new(body, "previous", page > 1 ? link(req, path, page - 1, size) : json_null());
    json_object_set_new(body, "results", rows);
    bus_reply_json(rep, body);
    return SW_OK;
}

/* Rows of a paged query: each row carries total_count (count(*) OVER ()), moved out here. */
sw_status auth_list_page(const bus_req *req, bus_reply *rep, const char *path, const char *sql,
                         int nparams, const char *const *params, long page, long size)
{
    actor_app *app = req->app;
    json_t *rows = NULL;
    char lim[24], off[24];
    const char *p[8];
    if (nparams > 6)
        return bus_reply_error(rep, SW_EINTERNAL, NULL, NULL);
    snprintf(lim, sizeof(lim), "%ld", size);
    snprintf(off, sizeof(off), "%ld", (page - 1) * size);
    for (int i = 0; i < nparams; i++)
        p[i] = params[i];
    p[nparams] = lim;
    p[nparams + 1] = off;
    store_conn *c = store_acquire_tenant(app->db, req->tenant);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_OK)
        st = store_query(c, &rows, NULL, sql, nparams + 2, p);
    store_release(app->db, c);
    if (st != SW_OK) {
        json_decref(rows);
        return bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL,
                               NULL);
    }
    long total = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        total = (long)json_integer_value(json_object_get(row, "total_count"));
        json_object_del(row, "total_count");
    }
    return auth_reply_page(rep, req, path, rows, total, page, size);
}

sw_status auth_audit_list(const bus_req *req, bus_reply *rep)
{
    long page, size;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!auth_page(req, &page, &size))
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    return auth_list_page(
        req, rep, "/api/audit-log/",
        "SELECT count(*) OVER () AS total_count, id, "
        " to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at,"
        " json_build_object('type', CASE WHEN actor_token IS NOT NULL THEN 'token'"
        "   WHEN actor_user IS NOT NULL THEN 'user' ELSE 'system' END,"
        "   'user_id', actor_user, 'token_id', actor_token, 'label', actor_label) AS actor,"
        " action, json_build_object('type', target_type, 'id', target_id, 'label', target_label)"
        "   AS target, client_ip, detail"
        " FROM audit_log ORDER BY at DESC, id DESC LIMIT $1::int OFFSET $2::int",
        0, NULL, page, size);
}

/* ---- entries from other actors' events ------------------------------------------------------ */

/* One event of SW_EVENTS: SW_OK when done with it (written, already written, not audited, or
 * never storable: logged), else the database failed and it comes back later. */
static sw_status audit_event(actor_app *app, natsMsg *m)
{
    char tenant[BUS_TENANT_MAX], at[24], seq_id[64];
    const char *subject = natsMsg_GetSubject(m), *msg_id = NULL;
    bus_audit a;
    char *detail = NULL;
    store_conn *c = NULL;
    json_t *evt = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    sw_status st = bus_audit_decode(&a, evt);
    if (st == SW_ENOTFOUND) {
        st = SW_OK; /* an event nobody audits (endpoint.up, ...) */
        goto out;
    }
    /* The tenant is the subject's, which NATS permissions tie to the publishing actor. */
    if (st != SW_OK || !bus_subject_event_tenant(subject, tenant) || !sw_tenant_id_valid(tenant)) {
        sw_log(SW_LOG_WARN, "audit object out of shape; event not audited", "subject", subject,
               NULL);
        st = SW_OK;
        goto out;
    }
    uint64_t seq = 0;
    if (natsMsgHeader_Get(m, BUS_H_MSG_ID, &msg_id) != NATS_OK || !msg_id || !*msg_id) {
        /* Every event is published with a msg id (DESIGN §3); the sequence is the fallback. */
        bus_msg_meta(m, NULL, &seq);
        snprintf(seq_id, sizeof(seq_id), "seq:%s:%llu", BUS_STREAM_EVENTS, (unsigned long long)seq);
        msg_id = seq_id;
    }
    snprintf(at, sizeof(at), "%lld", (long long)a.at_ms);
    detail = a.detail ? json_dumps(a.detail, JSON_COMPACT) : NULL;
    const char *p[] = {
        at,          a.user_id,      a.token_id,  a.actor_label,          a.action, a.target_type,
        a.target_id, a.target_label, a.client_ip, detail ? detail : "{}", msg_id};
    c = store_acquire_tenant(app->db, tenant);
    st = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
    if (st == SW_ENOTFOUND) {
        sw_log(SW_LOG_WARN, "audited event of an organization that is gone", "tenant_id", tenant,
               NULL);
        st = SW_OK;
        goto out;
    }
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "INSERT INTO audit_log (at, actor_user, actor_token, actor_label, action,"
                         " target_type, target_id, target_label, client_ip, detail, event_id)"
                         " VALUES (to_timestamp($1::bigint / 1000.0), $2::uuid, $3::uuid,"
                         "  coalesce((SELECT 'token ' || name FROM api_tokens WHERE id = $3::uuid),"
                         "           (SELECT email FROM users WHERE id = $2::uuid), $4),"
                         "  $5, $6, $7, left($8, 200), left($9, 64), $10::jsonb, left($11, 200))"
                         " ON CONFLICT (event_id) DO NOTHING",
                         11, p);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st == SW_EINVAL) {
        sw_log(SW_LOG_ERROR, "audit entry refused by the database; event dropped", "action",
               a.action, "tenant_id", tenant, NULL);
        st = SW_OK;
    }
out:
    if (c)
        store_release(app->db, c); /* rolls back what was not committed */
    free(detail);
    json_decref(evt);
    return st;
}

void auth_audit_events_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    for (int i = 0; i < n; i++) {
        sw_status st = audit_event(app, msgs[i]);
        if (st == SW_OK) {
            bus_msg_ack(nc, msgs[i]);
        } else {
            sw_log(SW_LOG_WARN, "audit entry not written yet; will retry", "status",
                   sw_status_name(st), NULL);
            bus_msg_nak(nc, msgs[i], BUS_AUDIT_RETRY_MS);
        }
        natsMsg_Destroy(msgs[i]);
    }
}
