/* The public side of status pages (sw.v1.endpoints.status_public, asked by the edge when its
 * cache has nothing fresh): one document of a public page by slug and path, rendered whole.
 *
 *   ""                                   the HTML page (no script; readable on a phone)
 *   api/v2/summary.json, status.json, components.json, incidents.json,
 *   api/v2/incidents/unresolved.json, api/v2/scheduled-maintenances.json
 *                                        Atlassian Statuspage v2 shapes
 *   badge/<component>/status.svg, uptime-24h|7d|30d|90d.svg, response-time.svg, shields.json
 *
 * The reply is {"status", "content_type", "body", "tenant"}: the edge serves body with that
 * status and type and keys its invalidation on tenant (never shown). What a visitor sees is
 * only what the owner put on the page: component names and groups, states, uptime from the
 * roll-ups (when show_uptime), incidents of those components with texts of our own. Never a
 * URL, an endpoint id, an error text or a component of another page; an unknown or private
 * slug is 404 like a page that does not exist. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/endpoints/endpoints.h"
#include "bus/log.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define DAYS 90
#define HISTORY_DAYS 14

/* ---- a growing string ---------------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text for HTML element content and attribute values. */
static void sb_html(sbuf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        case '\'':
            sb_puts(b, "&#39;");
            break;
        default:
            sb_add(b, p, 1);
        }
    }
}

/* ---- the page model -------------------------------------------------------------------------- */

typedef struct page_model {
    char tenant[BUS_TENANT_MAX];
    char schema[64];
    json_t *page; /* owned: id, name, slug, description, show_uptime, created_at, updated_at */
    json_t *components; /* owned: id, endpoint_id (internal), name, group_name, position,
                           created_at, status (Statuspage), changed_at, latency (ms or null) */
    json_t *incidents;  /* owned: id, component_id, opened_at, closed_at, recent (14 days) */
    json_t *maint;      /* owned: window_id, endpoint_id, starts_at, ends_at, status (Statuspage) */
    char url[512];      /* the page's public address */
    char updated_at[40];
} page_model;

static void model_free(page_model *m)
{
    json_decref(m->page);
    json_decref(m->components);
    json_decref(m->incidents);
    json_decref(m->maint);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The Statuspage component status of an endpoint's state (public.endpoint_state.status). A
 * paused or not yet checked endpoint is shown as operational: Statuspage has no "unknown". */
static const char *component_status(const char *state)
{
    if (strcmp(state, "down") == 0)
        return "major_outage";
    if (strcmp(state, "degraded") == 0)
        return "degraded_performance";
    if (strcmp(state, "maintenance") == 0)
        return "under_maintenance";
    return "operational";
}

/* The postgres text[] literal of the components' endpoint ids ("{a,b}"); uuids need no quotes. */
static void endpoint_array(char *out, size_t len, const json_t *components, const char *only)
{
    size_t o = 0, i;
    json_t *c;
    o += (size_t)snprintf(out, len, "{");
    json_array_foreach(components, i, c)
    {
        if (only && strcmp(str(c, "id"), only) != 0)
            continue;
        if (o + 40 >= len)
            break;
        o += (size_t)snprintf(out + o, len - o, "%s%s", o > 1 ? "," : "", str(c, "endpoint_id"));
    }
    snprintf(out + o, len - o, "}");
}

/* Whether public.maintenance_periods exists (sw-notify's, issue 19), asked until it does. */
static int maintenance_table = -1;

static bool maintenance_known(store_conn *c)
{
    json_t *row = NULL;
    if (__atomic_load_n(&maintenance_table, __ATOMIC_ACQUIRE) == 1)
        return true;
    bool ok = store_query_one(c, &row,
                              "SELECT to_regclass('public.maintenance_periods') IS NOT NULL AS ok",
                              0, NULL) == SW_OK &&
              json_is_true(json_object_get(row, "ok"));
    json_decref(row);
    if (ok)
        __atomic_store_n(&maintenance_table, 1, __ATOMIC_RELEASE);
    return ok;
}

/* The maintenance periods of the page's endpoints from a week ago to 30 days ahead (sw-notify
 * expands each window into public.maintenance_periods, one row per endpoint); a component in
 * one now is under_maintenance whatever its checks say. */
static sw_status load_maintenance(store_conn *c, page_model *m)
{
    char ids[4200];
    m->maint = NULL;
    if (json_array_size(m->components) == 0 || !maintenance_known(c)) {
        m->maint = json_array();
        return SW_OK;
    }
    endpoint_array(ids, sizeof(ids), m->components, NULL);
    const char *p[] = {m->tenant, ids};
    // clang-format off
    sw_status st = store_query(
        c, &m->maint, NULL,
        "SELECT p.window_id::text AS window_id, p.endpoint_id::text AS endpoint_id,"
        " " TS("p.starts_at") " AS starts_at, " TS("p.ends_at") " AS ends_at,"
        " CASE WHEN p.starts_at > now() THEN 'scheduled' WHEN p.ends_at > now() THEN 'in_progress'"
        "  ELSE 'completed' END AS status"
        " FROM public.maintenance_periods p WHERE p.tenant_id = $1"
        "  AND p.endpoint_id = ANY ($2::uuid[]) AND p.ends_at > now() - interval '7 days'"
        "  AND p.starts_at < now() + interval '30 days'"
        " ORDER BY p.starts_at, p.window_id, p.endpoint_id LIMIT 500",
        2, p);
    // clang-format on
    if (st != SW_OK)
        return st;
    size_t i, j;
    json_t *r, *comp;
    json_array_foreach(m->maint, i, r)
    {
        if (strcmp(str(r, "status"), "in_progress") != 0)
            continue;
        json_array_foreach(m->components, j, comp)
        {
            if (strcmp(str(comp, "endpoint_id"), str(r, "endpoint_id")) == 0)
                json_object_set_new(comp, "status", json_string("under_maintenance"));
        }
    }
    return SW_OK;
}

/* Loads the page of a slug: SW_ENOTFOUND when there is none or it is private. */
static sw_status model_load(store_conn *c, const char *slug, const char *frontend, bool incidents,
                            page_model *m)
{
    json_t *row = NULL;
    char sql[3072];
    memset(m, 0, sizeof(*m));
    const char *p1[] = {slug};
    sw_status st = store_query_one(c, &row,
                                   "SELECT tenant_id, page_id::text AS page_id"
                                   " FROM public.status_page_slugs WHERE slug = $1",
                                   1, p1);
    if (st != SW_OK)
        return st;
    snprintf(m->tenant, sizeof(m->tenant), "%s", str(row, "tenant_id"));
    char page_id[40];
    snprintf(page_id, sizeof(page_id), "%s", str(row, "page_id"));
    json_decref(row);
    row = NULL;
    st = store_tenant_schema(c, m->tenant, m->schema, sizeof(m->schema));
    if (st != SW_OK)
        return st;
    // clang-format off
    snprintf(sql, sizeof(sql),
             "SELECT id::text AS id, name, slug, description, show_uptime,"
             " " TS("created_at") " AS created_at, " TS("updated_at") " AS updated_at"
             " FROM %s.status_pages WHERE id = $1::uuid AND is_public",
             m->schema);
    // clang-format on
    const char *p2[] = {page_id};
    st = store_query_one(c, &m->page, sql, 1, p2);
    if (st != SW_OK)
        return st;
    // clang-format off
    snprintf(sql, sizeof(sql),
             "SELECT c.id::text AS id, c.endpoint_id::text AS endpoint_id, c.name, c.group_name,"
             " c.position, " TS("c.created_at") " AS created_at,"
             " CASE WHEN e.paused THEN 'paused' ELSE coalesce(s.status, 'pending') END AS state,"
             " " TS("greatest(coalesce(s.changed_at, c.created_at), c.created_at)")
             " AS changed_at, s.last_latency_ms AS latency"
             " FROM %s.status_page_components c JOIN %s.endpoints e ON e.id = c.endpoint_id"
             " LEFT JOIN public.endpoint_state s ON s.endpoint_id = c.endpoint_id"
             "  AND s.tenant_id = $2"
             " WHERE c.page_id = $1::uuid ORDER BY c.position, c.id",
             m->schema, m->schema);
    // clang-format on
    const char *p3[] = {page_id, m->tenant};
    st = store_query(c, &m->components, NULL, sql, 2, p3);
    if (st != SW_OK)
        return st;
    snprintf(m->updated_at, sizeof(m->updated_at), "%s", str(m->page, "updated_at"));
    size_t i;
    json_t *comp;
    json_array_foreach(m->components, i, comp)
    {
        json_object_set_new(comp, "status", json_string(component_status(str(comp, "state"))));
        if (strcmp(str(comp, "changed_at"), m->updated_at) > 0)
            snprintf(m->updated_at, sizeof(m->updated_at), "%s", str(comp, "changed_at"));
    }
    st = load_maintenance(c, m);
    if (st != SW_OK)
        return st;
    if (incidents) {
        snprintf(sql, sizeof(sql),
                 "SELECT i.id::text AS id, c.id::text AS component_id,"
                 " " TS("i.opened_at") " AS opened_at, " TS(
                     "i.closed_at") " AS closed_at,"
                                    " (i.closed_at IS NULL OR i.closed_at >= now() - interval '%d "
                                    "days') AS recent"
                                    " FROM %s.incidents i JOIN %s.status_page_components c"
                                    "  ON c.endpoint_id = i.endpoint_id AND c.page_id = $1::uuid"
                                    " WHERE i.closed_at IS NULL OR i.closed_at >= now() - interval "
                                    "'%d days'"
                                    " ORDER BY i.opened_at DESC, i.id LIMIT 50",
                 HISTORY_DAYS, m->schema, m->schema, DAYS);
        st = store_query(c, &m->incidents, NULL, sql, 1, p2);
        if (st != SW_OK)
            return st;
        json_t *inc;
        json_array_foreach(m->incidents, i, inc)
        {
            const char *last =
                *str(inc, "closed_at") ? str(inc, "closed_at") : str(inc, "opened_at");
            if (strcmp(last, m->updated_at) > 0)
                snprintf(m->updated_at, sizeof(m->updated_at), "%s", last);
        }
    } else {
        m->incidents = json_array();
    }
    snprintf(m->url, sizeof(m->url), "%s/status/%s/", frontend, slug);
    return SW_OK;
}

static const json_t *model_component(const page_model *m, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(m->components, i, c)
    {
        if (strcmp(str(c, "id"), id) == 0)
            return c;
    }
    return NULL;
}

/* Uptime since now - span for the components (all, or the one of `only`): sets each one's
 * "u_<name>" (percent or null) and "lat_<name>" (average ms of successful checks or null). */
static sw_status load_windows(store_conn *c, page_model *m, const char *only)
{
    char ids[4200];
    json_t *rows = NULL;
    endpoint_array(ids, sizeof(ids), m->components, only);
    const char *p[] = {m->tenant, ids};
    sw_status st = store_query(
        c, &rows, NULL,
        "SELECT w.name, u.endpoint_id::text AS endpoint_id, u.checks, u.failures, u.latency_sum"
        " FROM (VALUES ('24h', interval '24 hours'), ('7d', interval '7 days'),"
        "  ('30d', interval '30 days'), ('90d', interval '90 days')) AS w(name, span),"
        " LATERAL public.status_uptime_since($1, $2::uuid[], now() - w.span) u",
        2, p);
    if (st != SW_OK)
        return st;
    size_t i, j;
    json_t *r, *comp;
    json_array_foreach(rows, i, r)
    {
        json_array_foreach(m->components, j, comp)
        {
            if (strcmp(str(comp, "endpoint_id"), str(r, "endpoint_id")) != 0)
                continue;
            json_int_t checks = json_integer_value(json_object_get(r, "checks"));
            json_int_t fails = json_integer_value(json_object_get(r, "failures"));
            char key[16];
            snprintf(key, sizeof(key), "u_%s", str(r, "name"));
            if (checks > 0)
                json_object_set_new(comp, key,
                                    json_real(100.0 * (double)(checks - fails) / (double)checks));
            snprintf(key, sizeof(key), "lat_%s", str(r, "name"));
            if (checks - fails > 0)
                json_object_set_new(comp, key,
                                    json_real(json_number_value(json_object_get(r, "latency_sum")) /
                                              (double)(checks - fails)));
        }
    }
    json_decref(rows);
    return SW_OK;
}

/* The last DAYS days of each component: "days" = [[checks, failures] × DAYS], oldest first. */
static sw_status load_days(store_conn *c, page_model *m)
{
    char ids[4200];
    json_t *rows = NULL;
    endpoint_array(ids, sizeof(ids), m->components, NULL);
    char days[8];
    snprintf(days, sizeof(days), "%d", DAYS);
    const char *p[] = {m->tenant, ids, days};
    sw_status st =
        store_query(c, &rows, NULL,
                    "SELECT d.endpoint_id::text AS endpoint_id,"
                    " ((now() AT TIME ZONE 'UTC')::date - d.day) AS ago, d.checks, d.failures"
                    " FROM public.status_uptime_daily($1, $2::uuid[], $3::int) d",
                    3, p);
    if (st != SW_OK)
        return st;
    size_t i, j;
    json_t *r, *comp;
    json_array_foreach(m->components, j, comp)
    {
        json_t *arr = json_array();
        for (int d = 0; d < DAYS; d++)
            json_array_append_new(arr, json_pack("[i,i]", 0, 0));
        json_object_set_new(comp, "days", arr);
    }
    json_array_foreach(rows, i, r)
    {
        json_int_t ago = json_integer_value(json_object_get(r, "ago"));
        if (ago < 0 || ago >= DAYS)
            continue;
        json_array_foreach(m->components, j, comp)
        {
            if (strcmp(str(comp, "endpoint_id"), str(r, "endpoint_id")) != 0)
                continue;
            json_array_set_new(json_object_get(comp, "days"), (size_t)(DAYS - 1 - ago),
                               json_pack("[I,I]", json_integer_value(json_object_get(r, "checks")),
                                         json_integer_value(json_object_get(r, "failures"))));
        }
    }
    json_decref(rows);
    return SW_OK;
}

/* ---- Statuspage v2 JSON ---------------------------------------------------------------------- */

/* The page's overall indicator and its description, from the components' states. */
static void overall(const page_model *m, const char **indicator, const char **description)
{
    size_t i, n = json_array_size(m->components), down = 0, degraded = 0, maint = 0;
    json_t *c;
    json_array_foreach(m->components, i, c)
    {
        const char *s = str(c, "status");
        down += strcmp(s, "major_outage") == 0 || strcmp(s, "partial_outage") == 0;
        degraded += strcmp(s, "degraded_performance") == 0;
        maint += strcmp(s, "under_maintenance") == 0;
    }
    if (down > 0 && down == n) {
        *indicator = "critical";
        *description = "Major System Outage";
    } else if (down > 0) {
        *indicator = "major";
        *description = "Partial System Outage";
    } else if (degraded > 0) {
        *indicator = "minor";
        *description = "Minor Service Outage";
    } else if (maint > 0) {
        *indicator = "none";
        *description = "Service Under Maintenance";
    } else {
        *indicator = "none";
        *description = "All Systems Operational";
    }
}

static json_t *sp_page(const page_model *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", str(m->page, "id"), "name",
                     str(m->page, "name"), "url", m->url, "time_zone", "Etc/UTC", "updated_at",
                     m->updated_at);
}

static json_t *sp_status(const page_model *m)
{
    const char *ind, *desc;
    overall(m, &ind, &desc);
    return json_pack("{s:s,s:s}", "indicator", ind, "description", desc);
}

/* A group's id: stable for the page and the group's name, not an id of anything stored. */
static void group_id(char *out, size_t len, const page_model *m, const char *group)
{
    unsigned long h = 5381;
    for (const char *p = str(m->page, "id"); *p; p++)
        h = h * 33 + (unsigned char)*p;
    for (const char *p = group; *p; p++)
        h = h * 33 + (unsigned char)*p;
    snprintf(out, len, "group-%016lx", h);
}

/* The Statuspage components: each component, then one group component per group (listing its
 * members' ids) when the owner grouped them. */
static json_t *sp_components(const page_model *m)
{
    json_t *out = json_array(), *groups = json_object();
    size_t i;
    json_t *c;
    int pos = 1;
    json_array_foreach(m->components, i, c)
    {
        const char *g = str(c, "group_name");
        char gid[48];
        json_t *gj = json_null();
        if (*g) {
            group_id(gid, sizeof(gid), m, g);
            gj = json_string(gid);
            json_t *grp = json_object_get(groups, g);
            if (!grp) {
                grp = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:n,s:b,s:n,s:n,s:s,s:b,s:b,s:[]}", "id",
                                gid, "name", g, "status", "operational", "created_at",
                                str(m->page, "created_at"), "updated_at", m->updated_at, "position",
                                pos++, "description", "showcase", 0, "start_date", "group_id",
                                "page_id", str(m->page, "id"), "group", 1, "only_show_if_degraded",
                                0, "components");
                json_object_set_new(groups, g, grp);
            }
            json_array_append_new(json_object_get(grp, "components"), json_string(str(c, "id")));
            /* A group shows the worst state of its members. */
            static const char *order[] = {"operational", "under_maintenance",
                                          "degraded_performance", "partial_outage", "major_outage"};
            int have = 0, now = 0;
            for (int k = 0; k < 5; k++) {
                if (strcmp(order[k], str(grp, "status")) == 0)
                    have = k;
                if (strcmp(order[k], str(c, "status")) == 0)
                    now = k;
            }
            if (now > have)
                json_object_set_new(grp, "status", json_string(order[now]));
        }
        json_array_append_new(
            out,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:n,s:b,s:n,s:o,s:s,s:b,s:b}", "id", str(c, "id"),
                      "name", str(c, "name"), "status", str(c, "status"), "created_at",
                      str(c, "created_at"), "updated_at", str(c, "changed_at"), "position", pos++,
                      "description", "showcase", 1, "start_date", "group_id", gj, "page_id",
                      str(m->page, "id"), "group", 0, "only_show_if_degraded", 0));
    }
    const char *k;
    json_t *grp;
    json_object_foreach(groups, k, grp) json_array_append(out, grp);
    json_decref(groups);
    return out;
}

static json_t *sp_incident(const page_model *m, const json_t *inc)
{
    const json_t *c = model_component(m, str(inc, "component_id"));
    const char *name = c ? str(c, "name") : "A component";
    const char *closed = str(inc, "closed_at");
    bool resolved = *closed != '\0';
    char title[900], body[900], uid[80];
    json_t *updates = json_array();
    json_t *affected_down =
        json_pack("[{s:s,s:s,s:s,s:s}]", "code", str(inc, "component_id"), "name", name,
                  "old_status", "operational", "new_status", "major_outage");
    if (resolved) {
        snprintf(body, sizeof(body), "%s is responding again.", name);
        snprintf(uid, sizeof(uid), "%s-resolved", str(inc, "id"));
        json_array_append_new(
            updates, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s}]}", "id", uid,
                               "status", "resolved", "body", body, "incident_id", str(inc, "id"),
                               "created_at", closed, "updated_at", closed, "display_at", closed,
                               "affected_components", "code", str(inc, "component_id"), "name",
                               name, "old_status", "major_outage", "new_status", "operational"));
    }
    snprintf(body, sizeof(body), "%s is not responding. We are looking into it.", name);
    snprintf(uid, sizeof(uid), "%s-investigating", str(inc, "id"));
    json_array_append_new(updates,
                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "id", uid, "status",
                                    "investigating", "body", body, "incident_id", str(inc, "id"),
                                    "created_at", str(inc, "opened_at"), "updated_at",
                                    str(inc, "opened_at"), "display_at", str(inc, "opened_at"),
                                    "affected_components", affected_down));
    snprintf(title, sizeof(title), "%s outage", name);
    json_t *comps = json_array();
    if (c)
        json_array_append_new(
            comps, json_pack("{s:s,s:s,s:s,s:s,s:s,s:n,s:n,s:b,s:s}", "id", str(c, "id"), "name",
                             str(c, "name"), "status", str(c, "status"), "created_at",
                             str(c, "created_at"), "updated_at", str(c, "changed_at"),
                             "description", "group_id", "group", 0, "page_id", str(m->page, "id")));
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:o,s:s,s:s,s:s,s:s,s:o,s:o}", "id", str(inc, "id"), "name",
        title, "status", resolved ? "resolved" : "investigating", "impact", "major", "created_at",
        str(inc, "opened_at"), "updated_at", resolved ? closed : str(inc, "opened_at"),
        "monitoring_at", "resolved_at", resolved ? json_string(closed) : json_null(), "started_at",
        str(inc, "opened_at"), "shortlink", m->url, "page_id", str(m->page, "id"),
        "postmortem_body", "", "incident_updates", updates, "components", comps);
}

static json_t *sp_incidents(const page_model *m, bool unresolved_only)
{
    json_t *out = json_array();
    size_t i;
    json_t *inc;
    json_array_foreach(m->incidents, i, inc)
    {
        if (unresolved_only && *str(inc, "closed_at"))
            continue;
        json_array_append_new(out, sp_incident(m, inc));
    }
    return out;
}

static const json_t *component_of_endpoint(const page_model *m, const char *endpoint_id)
{
    size_t i;
    json_t *c;
    json_array_foreach(m->components, i, c)
    {
        if (strcmp(str(c, "endpoint_id"), endpoint_id) == 0)
            return c;
    }
    return NULL;
}

/* The page's maintenances: one per occurrence of a window (its periods share window and
 * start), with the components it covers. upcoming_only: scheduled and in progress (summary). */
static json_t *sp_maintenances(const page_model *m, bool upcoming_only)
{
    json_t *out = json_array(), *byid = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(m->maint, i, r)
    {
        const char *status = str(r, "status");
        if (upcoming_only && strcmp(status, "completed") == 0)
            continue;
        const json_t *c = component_of_endpoint(m, str(r, "endpoint_id"));
        if (!c)
            continue;
        char id[120], body[160];
        snprintf(id, sizeof(id), "%s-%s", str(r, "window_id"), str(r, "starts_at"));
        for (char *p = id; *p; p++)
            if (*p == ':' || *p == '.')
                *p = '-';
        json_t *mt = json_object_get(byid, id);
        if (!mt) {
            bool done = strcmp(status, "completed") == 0;
            const char *upd_at = done ? str(r, "ends_at") : str(r, "starts_at");
            snprintf(body, sizeof(body), "%s",
                     done                                 ? "The maintenance is over."
                     : strcmp(status, "in_progress") == 0 ? "Maintenance is in progress."
                                                          : "Maintenance is scheduled.");
            char uid[140];
            snprintf(uid, sizeof(uid), "%s-%s", id, status);
            mt = json_pack(
                "{s:s,s:s,s:s,s:s,s:s,s:n,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:s,"
                "s:s,s:s,s:[]}],s:[]}",
                "id", id, "name", "Scheduled maintenance", "status", status, "created_at",
                str(r, "starts_at"), "updated_at", upd_at, "monitoring_at", "resolved_at",
                done ? json_string(str(r, "ends_at")) : json_null(), "impact", "maintenance",
                "shortlink", m->url, "started_at", str(r, "starts_at"), "page_id",
                str(m->page, "id"), "scheduled_for", str(r, "starts_at"), "scheduled_until",
                str(r, "ends_at"), "incident_updates", "id", uid, "status", status, "body", body,
                "incident_id", id, "created_at", upd_at, "updated_at", upd_at, "display_at", upd_at,
                "affected_components", "components");
            json_object_set_new(byid, id, mt);
            json_array_append(out, mt);
        }
        json_array_append_new(json_object_get(mt, "components"),
                              json_pack("{s:s,s:s,s:s}", "id", str(c, "id"), "name", str(c, "name"),
                                        "status", str(c, "status")));
        json_array_append_new(
            json_object_get(json_array_get(json_object_get(mt, "incident_updates"), 0),
                            "affected_components"),
            json_pack("{s:s,s:s,s:s,s:s}", "code", str(c, "id"), "name", str(c, "name"),
                      "old_status", "operational", "new_status",
                      strcmp(status, "in_progress") == 0 ? "under_maintenance" : "operational"));
    }
    json_decref(byid);
    return out;
}

static char *render_json(const page_model *m, const char *doc)
{
    json_t *o = json_pack("{s:o}", "page", sp_page(m));
    if (strcmp(doc, "summary.json") == 0) {
        json_object_set_new(o, "components", sp_components(m));
        json_object_set_new(o, "incidents", sp_incidents(m, true));
        json_object_set_new(o, "scheduled_maintenances", sp_maintenances(m, true));
        json_object_set_new(o, "status", sp_status(m));
    } else if (strcmp(doc, "status.json") == 0) {
        json_object_set_new(o, "status", sp_status(m));
    } else if (strcmp(doc, "components.json") == 0) {
        json_object_set_new(o, "components", sp_components(m));
    } else if (strcmp(doc, "incidents.json") == 0) {
        json_object_set_new(o, "incidents", sp_incidents(m, false));
    } else if (strcmp(doc, "incidents/unresolved.json") == 0) {
        json_object_set_new(o, "incidents", sp_incidents(m, true));
    } else {
        json_object_set_new(o, "scheduled_maintenances", sp_maintenances(m, false));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* ---- badges ---------------------------------------------------------------------------------- */

/* Approximate width in px of text in 11px Verdana (shields.io's flat badges). */
static int text_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        if (strchr("il.,:;|!'", *p))
            w += 4;
        else if (strchr("mwMW%", *p))
            w += 10;
        else if (isupper(*p) || isdigit(*p))
            w += 8;
        else
            w += 7;
    }
    return w;
}

typedef struct badge {
    char label[420];
    char message[64];
    const char *color; /* shields.io colour name */
    const char *hex;   /* its value */
} badge;

static const struct {
    const char *name, *hex;
} colours[] = {{"brightgreen", "#4c1"}, {"green", "#97ca00"}, {"yellow", "#dfb317"},
               {"orange", "#fe7d37"},   {"red", "#e05d44"},   {"blue", "#007ec6"},
               {"lightgrey", "#9f9f9f"}};

static void badge_colour(badge *b, const char *name)
{
    b->color = name;
    b->hex = "#9f9f9f";
    for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
        if (strcmp(colours[i].name, name) == 0)
            b->hex = colours[i].hex;
}

static void badge_status(badge *b, const json_t *c)
{
    const char *s = str(c, "status");
    snprintf(b->label, sizeof(b->label), "%s", str(c, "name"));
    if (strcmp(s, "major_outage") == 0 || strcmp(s, "partial_outage") == 0) {
        snprintf(b->message, sizeof(b->message), "down");
        badge_colour(b, "red");
    } else if (strcmp(s, "degraded_performance") == 0) {
        snprintf(b->message, sizeof(b->message), "degraded");
        badge_colour(b, "yellow");
    } else if (strcmp(s, "under_maintenance") == 0) {
        snprintf(b->message, sizeof(b->message), "maintenance");
        badge_colour(b, "blue");
    } else {
        snprintf(b->message, sizeof(b->message), "up");
        badge_colour(b, "brightgreen");
    }
}

static void badge_uptime(badge *b, const json_t *c, const char *window)
{
    char key[16];
    snprintf(key, sizeof(key), "u_%s", window);
    snprintf(b->label, sizeof(b->label), "uptime %s", window);
    const json_t *v = json_object_get(c, key);
    if (!v) {
        snprintf(b->message, sizeof(b->message), "no data");
        badge_colour(b, "lightgrey");
        return;
    }
    double u = json_number_value(v);
    /* Two decimals, never rounded up to a 100 % that was not. */
    double shown = floor(u * 100.0) / 100.0;
    snprintf(b->message, sizeof(b->message), shown >= 100.0 ? "100%%" : "%.2f%%", shown);
    badge_colour(b, u >= 99.9 ? "brightgreen" : u >= 99.0 ? "green" : u >= 95.0 ? "yellow" : "red");
}

static void badge_latency(badge *b, const json_t *c)
{
    snprintf(b->label, sizeof(b->label), "response time");
    const json_t *v = json_object_get(c, "lat_24h");
    if (!v) {
        snprintf(b->message, sizeof(b->message), "no data");
        badge_colour(b, "lightgrey");
        return;
    }
    double ms = json_number_value(v);
    snprintf(b->message, sizeof(b->message), "%.0f ms", ms);
    badge_colour(b, ms < 200    ? "brightgreen"
                    : ms < 500  ? "green"
                    : ms < 1000 ? "yellow"
                                : "orange");
}

static char *render_svg(const badge *b)
{
    sbuf s = {0};
    int lw = text_width(b->label) + 10, mw = text_width(b->message) + 10, w = lw + mw;
    sb_printf(&s,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\" role=\"img\" "
              "aria-label=\"",
              w);
    sb_html(&s, b->label);
    sb_puts(&s, ": ");
    sb_html(&s, b->message);
    sb_puts(&s, "\"><title>");
    sb_html(&s, b->label);
    sb_puts(&s, ": ");
    sb_html(&s, b->message);
    sb_printf(&s,
              "</title><linearGradient id=\"s\" x2=\"0\" y2=\"100%%\"><stop offset=\"0\" "
              "stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/>"
              "</linearGradient><clipPath id=\"r\"><rect width=\"%d\" height=\"20\" rx=\"3\" "
              "fill=\"#fff\"/></clipPath><g clip-path=\"url(#r)\"><rect width=\"%d\" height=\"20\" "
              "fill=\"#555\"/><rect x=\"%d\" width=\"%d\" height=\"20\" fill=\"%s\"/><rect "
              "width=\"%d\" height=\"20\" fill=\"url(#s)\"/></g><g fill=\"#fff\" "
              "text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" "
              "font-size=\"11\"><text x=\"%d\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">",
              w, lw, lw, mw, b->hex, w, lw / 2);
    sb_html(&s, b->label);
    sb_printf(&s, "</text><text x=\"%d\" y=\"14\">", lw / 2);
    sb_html(&s, b->label);
    sb_printf(&s, "</text><text x=\"%d\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">",
              lw + mw / 2);
    sb_html(&s, b->message);
    sb_printf(&s, "</text><text x=\"%d\" y=\"14\">", lw + mw / 2);
    sb_html(&s, b->message);
    sb_puts(&s, "</text></g></svg>");
    if (s.failed) {
        free(s.s);
        return NULL;
    }
    return s.s;
}

/* ---- the HTML page ----------------------------------------------------------------------------
 */

static const char *status_words(const char *s)
{
    if (strcmp(s, "major_outage") == 0)
        return "Major outage";
    if (strcmp(s, "partial_outage") == 0)
        return "Partial outage";
    if (strcmp(s, "degraded_performance") == 0)
        return "Degraded performance";
    if (strcmp(s, "under_maintenance") == 0)
        return "Under maintenance";
    return "Operational";
}

/* "2026-12-01T10:00:00.000Z" as "1 Dec 2026, 10:00 UTC". */
static void human_time(char *out, size_t len, const char *iso)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d, h, mi;
    if (sscanf(iso, "%d-%d-%dT%d:%d", &y, &mo, &d, &h, &mi) != 5 || mo < 1 || mo > 12) {
        snprintf(out, len, "%s", iso);
        return;
    }
    snprintf(out, len, "%d %s %d, %02d:%02d UTC", d, mon[mo - 1], y, h, mi);
}

static const char page_css[] =
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',"
    "Roboto,sans-serif;color:#1f2933;background:#f5f7fa}main{max-width:860px;margin:0 auto;"
    "padding:24px 16px}h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.15rem;margin:28px 0 "
    "10px}h3{font-size:1rem;margin:16px 0 6px;color:#52606d}.desc{color:#52606d;margin:0 0 16px}"
    ".overall{padding:14px 16px;border-radius:8px;color:#fff;font-weight:600;font-size:1.1rem}"
    ".i-none{background:#2f9e44}.i-minor{background:#e8a317}.i-major{background:#e8590c}"
    ".i-critical{background:#c92a2a}.i-maint{background:#1c7ed6}.card{background:#fff;"
    "border:1px solid #e4e7eb;border-radius:8px;padding:12px 16px;margin:8px 0}"
    ".row{display:flex;justify-content:space-between;gap:12px;flex-wrap:wrap}.name{font-weight:"
    "600}.st{font-weight:600}.s-operational{color:#2f9e44}.s-degraded_performance{color:#e8a317}"
    ".s-partial_outage{color:#e8590c}.s-major_outage{color:#c92a2a}.s-under_maintenance{color:"
    "#1c7ed6}.bars{display:flex;gap:1px;height:32px;margin:8px 0 4px}.bars span{flex:1;"
    "border-radius:1px;background:#cbd2d9}.bars .b-ok{background:#2f9e44}.bars .b-minor{"
    "background:#e8a317}.bars .b-major{background:#c92a2a}.legend{display:flex;"
    "justify-content:space-between;font-size:.8rem;color:#7b8794}.inc{border-left:4px solid "
    "#c92a2a}.inc.resolved{border-left-color:#2f9e44}.muted{color:#7b8794;font-size:.9rem}"
    "footer{margin:32px 0 8px;font-size:.8rem;color:#7b8794;text-align:center}";

static void html_incident(sbuf *s, const page_model *m, const json_t *inc)
{
    const json_t *c = model_component(m, str(inc, "component_id"));
    const char *name = c ? str(c, "name") : "A component";
    char opened[64], closed[64];
    bool resolved = *str(inc, "closed_at") != '\0';
    human_time(opened, sizeof(opened), str(inc, "opened_at"));
    sb_printf(s, "<div class=\"card inc%s\"><div class=\"row\"><span class=\"name\">",
              resolved ? " resolved" : "");
    sb_html(s, name);
    sb_printf(s, " outage</span><span class=\"st %s\">%s</span></div>",
              resolved ? "s-operational" : "s-major_outage",
              resolved ? "Resolved" : "Investigating");
    if (resolved) {
        human_time(closed, sizeof(closed), str(inc, "closed_at"));
        sb_printf(s, "<div class=\"muted\">From %s to %s</div></div>", opened, closed);
    } else {
        sb_printf(s,
                  "<div class=\"muted\">Since %s: not responding. We are looking into "
                  "it.</div></div>",
                  opened);
    }
}

static void html_component(sbuf *s, const page_model *m, const json_t *c)
{
    const char *st = str(c, "status");
    sb_printf(s,
              "<div class=\"card comp\" data-status=\"%s\"><div class=\"row\"><span "
              "class=\"name\">",
              st);
    sb_html(s, str(c, "name"));
    sb_printf(s, "</span><span class=\"st s-%s\">%s</span></div>", st, status_words(st));
    if (json_is_true(json_object_get(m->page, "show_uptime"))) {
        json_int_t checks = 0, fails = 0;
        size_t i;
        json_t *d;
        sb_puts(s, "<div class=\"bars\" aria-hidden=\"true\">");
        json_array_foreach(json_object_get(c, "days"), i, d)
        {
            json_int_t n = json_integer_value(json_array_get(d, 0));
            json_int_t f = json_integer_value(json_array_get(d, 1));
            checks += n;
            fails += f;
            double u = n > 0 ? 100.0 * (double)(n - f) / (double)n : -1;
            const char *cls = u < 0 ? "" : u >= 99.0 ? "b-ok" : u >= 95.0 ? "b-minor" : "b-major";
            time_t day = time(NULL) - (time_t)(DAYS - 1 - i) * 86400;
            struct tm tm;
            char date[16];
            gmtime_r(&day, &tm);
            strftime(date, sizeof(date), "%Y-%m-%d", &tm);
            if (u < 0)
                sb_printf(s, "<span title=\"%s: no data\"></span>", date);
            else
                sb_printf(s, "<span class=\"%s\" title=\"%s: %.2f %%\"></span>", cls, date,
                          floor(u * 100.0) / 100.0);
        }
        sb_puts(s, "</div><div class=\"legend\"><span>90 days ago</span><span>");
        if (checks > 0)
            sb_printf(s, "%.2f %% uptime",
                      floor(10000.0 * (double)(checks - fails) / (double)checks) / 100.0);
        else
            sb_puts(s, "no data yet");
        sb_puts(s, "</span><span>Today</span></div>");
    }
    sb_puts(s, "</div>");
}

static char *render_html(const page_model *m)
{
    sbuf s = {0};
    const char *ind, *desc;
    overall(m, &ind, &desc);
    bool maint = strcmp(desc, "Service Under Maintenance") == 0;
    sb_puts(&s, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
                "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta "
                "http-equiv=\"refresh\" content=\"30\"><title>");
    sb_html(&s, str(m->page, "name"));
    sb_puts(&s, " status</title><style>");
    sb_puts(&s, page_css);
    sb_puts(&s, "</style></head><body><main><h1>");
    sb_html(&s, str(m->page, "name"));
    sb_puts(&s, "</h1>");
    if (*str(m->page, "description")) {
        sb_puts(&s, "<p class=\"desc\">");
        sb_html(&s, str(m->page, "description"));
        sb_puts(&s, "</p>");
    }
    sb_printf(&s, "<div class=\"overall i-%s\" id=\"overall\" data-indicator=\"%s\">%s</div>",
              maint ? "maint" : ind, ind, desc);

    size_t i;
    json_t *inc, *c;
    bool any_open = false;
    json_array_foreach(m->incidents, i, inc) any_open |= *str(inc, "closed_at") == '\0';
    if (any_open) {
        sb_puts(&s, "<h2>Open incidents</h2>");
        json_array_foreach(m->incidents, i, inc)
        {
            if (*str(inc, "closed_at") == '\0')
                html_incident(&s, m, inc);
        }
    }
    json_t *mts = sp_maintenances(m, true), *mt;
    if (json_array_size(mts) > 0) {
        sb_puts(&s, "<h2>Maintenance</h2>");
        json_array_foreach(mts, i, mt)
        {
            bool now = strcmp(str(mt, "status"), "in_progress") == 0;
            char from[64], to[64];
            human_time(from, sizeof(from), str(mt, "scheduled_for"));
            human_time(to, sizeof(to), str(mt, "scheduled_until"));
            sb_printf(&s,
                      "<div class=\"card maint\" data-status=\"%s\"><div class=\"row\"><span "
                      "class=\"name\">%s</span><span class=\"st s-under_maintenance\">%s</span>"
                      "</div><div class=\"muted\">",
                      str(mt, "status"), now ? "Maintenance in progress" : "Scheduled maintenance",
                      now ? "In progress" : "Scheduled");
            size_t k;
            json_t *mc;
            json_array_foreach(json_object_get(mt, "components"), k, mc)
            {
                if (k)
                    sb_puts(&s, ", ");
                sb_html(&s, str(mc, "name"));
            }
            sb_printf(&s, ": %s to %s</div></div>", from, to);
        }
    }
    json_decref(mts);
    sb_puts(&s, "<h2>Current status</h2>");
    if (json_array_size(m->components) == 0)
        sb_puts(&s, "<p class=\"muted\">Nothing is listed on this page yet.</p>");
    /* Ungrouped components first, then each group under its name, in page order. */
    json_array_foreach(m->components, i, c)
    {
        if (*str(c, "group_name") == '\0')
            html_component(&s, m, c);
    }
    json_t *seen = json_object();
    json_array_foreach(m->components, i, c)
    {
        const char *g = str(c, "group_name");
        if (!*g || json_object_get(seen, g))
            continue;
        json_object_set_new(seen, g, json_true());
        sb_puts(&s, "<h3>");
        sb_html(&s, g);
        sb_puts(&s, "</h3>");
        size_t j;
        json_t *c2;
        json_array_foreach(m->components, j, c2)
        {
            if (strcmp(str(c2, "group_name"), g) == 0)
                html_component(&s, m, c2);
        }
    }
    json_decref(seen);

    sb_printf(&s, "<h2>Past incidents (%d days)</h2>", HISTORY_DAYS);
    bool any_past = false;
    json_array_foreach(m->incidents, i, inc)
    {
        if (*str(inc, "closed_at") && json_is_true(json_object_get(inc, "recent"))) {
            html_incident(&s, m, inc);
            any_past = true;
        }
    }
    if (!any_past)
        sb_printf(&s, "<p class=\"muted\">No incidents in the last %d days.</p>", HISTORY_DAYS);
    char updated[64];
    human_time(updated, sizeof(updated), m->updated_at);
    sb_printf(&s, "<footer>Last change %s · Powered by StatusWatch</footer></main></body></html>",
              updated);
    if (s.failed) {
        free(s.s);
        return NULL;
    }
    return s.s;
}

/* ---- the handler ------------------------------------------------------------------------------
 */

static bool uuid_valid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !(isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

typedef enum doc_kind { DOC_NONE, DOC_HTML, DOC_JSON, DOC_BADGE } doc_kind;

/* What a path under /status/<slug>/ names; for a badge, its component and file. */
doc_kind status_doc_parse(const char *path, char *component, size_t clen, const char **file);

doc_kind status_doc_parse(const char *path, char *component, size_t clen, const char **file)
{
    static const char *docs[] = {"summary.json",
                                 "status.json",
                                 "components.json",
                                 "incidents.json",
                                 "incidents/unresolved.json",
                                 "scheduled-maintenances.json"};
    static const char *badges[] = {"status.svg",     "uptime-24h.svg", "uptime-7d.svg",
                                   "uptime-30d.svg", "uptime-90d.svg", "response-time.svg",
                                   "shields.json"};
    *file = NULL;
    if (!path || !*path)
        return DOC_HTML;
    if (strncmp(path, "api/v2/", 7) == 0) {
        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
            if (strcmp(path + 7, docs[i]) == 0) {
                *file = docs[i];
                return DOC_JSON;
            }
        return DOC_NONE;
    }
    if (strncmp(path, "badge/", 6) == 0) {
        const char *id = path + 6, *slash = strchr(id, '/');
        if (!slash || !uuid_valid(id, (size_t)(slash - id)) || clen < 37)
            return DOC_NONE;
        for (size_t i = 0; i < sizeof(badges) / sizeof(badges[0]); i++)
            if (strcmp(slash + 1, badges[i]) == 0) {
                memcpy(component, id, 36);
                component[36] = '\0';
                *file = badges[i];
                return DOC_BADGE;
            }
    }
    return DOC_NONE;
}

static void reply_doc(bus_reply *rep, int status, const char *type, const char *body,
                      const char *tenant)
{
    bus_reply_json(rep, json_pack("{s:i,s:s,s:s,s:s}", "status", status, "content_type", type,
                                  "body", body, "tenant", tenant ? tenant : ""));
}

static void reply_not_found(bus_reply *rep, const char *tenant)
{
    reply_doc(rep, 404, "application/json; charset=utf-8", "{\"detail\":\"Not found.\"}", tenant);
}

sw_status status_public(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    const char *slug = json_string_value(json_object_get(req->body, "slug"));
    const char *path = json_string_value(json_object_get(req->body, "path"));
    char component[40] = "";
    const char *file = NULL;
    page_model m;
    char *text = NULL;
    bool loaded = false;
    sw_status st = SW_OK;

    memset(&m, 0, sizeof(m));
    doc_kind kind = status_doc_parse(path ? path : "", component, sizeof(component), &file);
    if (!status_slug_valid(slug) || kind == DOC_NONE) {
        reply_not_found(rep, NULL);
        return SW_OK;
    }
    store_conn *c = store_acquire(app->common->db);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    st = model_load(c, slug, app->common->frontend_url, kind != DOC_BADGE, &m);
    loaded = st == SW_OK;
    if (st == SW_ENOTFOUND) {
        reply_not_found(rep, m.tenant[0] ? m.tenant : NULL);
        st = SW_OK;
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    bool show_uptime = json_is_true(json_object_get(m.page, "show_uptime"));
    if (kind == DOC_HTML) {
        if (show_uptime && (st = load_days(c, &m)) != SW_OK)
            goto fail;
        text = render_html(&m);
        if (!text)
            goto fail;
        reply_doc(rep, 200, "text/html; charset=utf-8", text, m.tenant);
    } else if (kind == DOC_JSON) {
        text = render_json(&m, file);
        if (!text)
            goto fail;
        reply_doc(rep, 200, "application/json; charset=utf-8", text, m.tenant);
    } else {
        const json_t *comp = model_component(&m, component);
        bool uptime_badge =
            strncmp(file, "uptime-", 7) == 0 || strcmp(file, "response-time.svg") == 0;
        /* Uptime and latency only when the owner shows them. */
        if (!comp || (uptime_badge && !show_uptime)) {
            reply_not_found(rep, m.tenant);
            goto out;
        }
        badge b = {0};
        if (uptime_badge && (st = load_windows(c, &m, component)) != SW_OK)
            goto fail;
        comp = model_component(&m, component);
        if (strcmp(file, "status.svg") == 0 || strcmp(file, "shields.json") == 0)
            badge_status(&b, comp);
        else if (strcmp(file, "response-time.svg") == 0)
            badge_latency(&b, comp);
        else {
            char window[8];
            snprintf(window, sizeof(window), "%.*s", (int)(strlen(file) - 7 - 4), file + 7);
            badge_uptime(&b, comp, window);
        }
        if (strcmp(file, "shields.json") == 0) {
            json_t *o = json_pack("{s:i,s:s,s:s,s:s}", "schemaVersion", 1, "label", b.label,
                                  "message", b.message, "color", b.color);
            text = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            if (!text)
                goto fail;
            reply_doc(rep, 200, "application/json; charset=utf-8", text, m.tenant);
        } else {
            text = render_svg(&b);
            if (!text)
                goto fail;
            reply_doc(rep, 200, "image/svg+xml", text, m.tenant);
        }
    }
    st = SW_OK;
    goto out;
fail:
    sw_log(SW_LOG_WARN, "status page not rendered", "slug", slug, "status",
           sw_status_name(st == SW_OK ? SW_EINTERNAL : st), NULL);
    if (loaded || m.tenant[0])
        store_tenant_schema_forget(m.tenant);
    bus_reply_clear(rep);
    st = bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
out:
    free(text);
    model_free(&m);
    store_release(app->common->db, c);
    return st;
}
