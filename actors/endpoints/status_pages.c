/* GET/POST /api/status-pages/ and GET/PATCH/DELETE /api/status-pages/{id}/: the public status
 * pages of a tenant (owner and admins only). A page lists some of the tenant's own endpoints as
 * components, each with a display name and an optional group. The page row and its components
 * live in the tenant's schema; the slug, unique across the service, also goes into
 * public.status_page_slugs in the same transaction. After a commit a status_page.changed event
 * tells the edges to drop what they cached of the tenant's pages. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors/common/role.h"
#include "actors/common/validate.h"
#include "actors/endpoints/endpoints.h"
#include "bus/log.h"
#include "bus/messages.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define MAX_COMPONENTS 100
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100

static const char *required = "This field is required.";
static const char *slug_taken = "A status page with this slug already exists.";

/* The API shape of a page, with its components in order; %s: the quoted tenant schema. */
// clang-format off
#define PAGE_SELECT                                                                             \
    "SELECT p.id::text AS id, p.name, p.slug, p.description, p.show_uptime, p.is_public,"      \
    " " TS("p.created_at") " AS created_at, " TS("p.updated_at") " AS updated_at,"              \
    " coalesce((SELECT json_agg(json_build_object('id', c.id::text, 'endpoint_id',"            \
    "   c.endpoint_id::text, 'name', c.name, 'group', nullif(c.group_name, ''))"                \
    "   ORDER BY c.position) FROM %s.status_page_components c WHERE c.page_id = p.id),"         \
    "   '[]'::json) AS components"                                                              \
    " FROM %s.status_pages p"
// clang-format on

typedef struct page_input {
    bool has_name, has_slug, has_description, has_components, has_show_uptime, has_is_public;
    char name[808];
    char slug[64];
    char description[8008];
    json_t *components; /* owned: [{endpoint_id, name|null, group}] checked */
    bool show_uptime, is_public;
} page_input;

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

bool status_slug_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

static void page_input_free(page_input *in)
{
    json_decref(in->components);
    in->components = NULL;
}

/* A string field of at most max characters (trimmed when trim), or a field error. */
static bool text_field(char *out, size_t len, const json_t *v, const char *field, size_t max,
                       bool allow_empty, bus_reply *rep)
{
    char msg[96];
    if (!json_is_string(v)) {
        bus_reply_field_error(rep, field, "Not a valid string.");
        return false;
    }
    const char *s = json_string_value(v);
    if (allow_empty && s[strspn(s, " \t")] == '\0') {
        out[0] = '\0';
        return true;
    }
    if (!validate_name(out, len, s, max)) {
        if (s[strspn(s, " \t")] == '\0')
            bus_reply_field_error(rep, field, "This field may not be blank.");
        else {
            snprintf(msg, sizeof(msg),
                     "Ensure this field has no more than %zu characters and no control "
                     "characters.",
                     max);
            bus_reply_field_error(rep, field, msg);
        }
        return false;
    }
    return true;
}

/* The description may hold line breaks (shown as paragraphs); other control characters no. */
static bool description_field(char *out, size_t len, const json_t *v, bus_reply *rep)
{
    if (!json_is_string(v)) {
        bus_reply_field_error(rep, "description", "Not a valid string.");
        return false;
    }
    const char *s = json_string_value(v);
    size_t chars = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f) {
            bus_reply_field_error(rep, "description", "Control characters are not allowed.");
            return false;
        }
        chars += (ch & 0xc0) != 0x80;
    }
    if (chars > 2000 || n >= len) {
        bus_reply_field_error(rep, "description",
                              "Ensure this field has no more than 2000 characters.");
        return false;
    }
    memcpy(out, s, n + 1);
    return true;
}

/* components: [{"endpoint_id", "name"?, "group"?}], at most MAX_COMPONENTS, each endpoint
 * once. Whether the endpoints are the tenant's is checked in the transaction. */
static bool components_field(page_input *in, const json_t *v, bus_reply *rep)
{
    char msg[160], name[808], group[808];
    size_t i;
    json_t *item;
    if (!json_is_array(v)) {
        bus_reply_field_error(rep, "components", "Expected a list of items.");
        return false;
    }
    if (json_array_size(v) > MAX_COMPONENTS) {
        snprintf(msg, sizeof(msg), "Ensure this field has no more than %d elements.",
                 MAX_COMPONENTS);
        bus_reply_field_error(rep, "components", msg);
        return false;
    }
    in->components = json_array();
    bool ok = true;
    json_array_foreach(v, i, item)
    {
        const char *eid = json_string_value(json_object_get(item, "endpoint_id"));
        json_t *nv = json_object_get(item, "name"), *gv = json_object_get(item, "group");
        if (!json_is_object(item)) {
            snprintf(msg, sizeof(msg), "Item %zu: expected an object.", i + 1);
            bus_reply_field_error(rep, "components", msg);
            ok = false;
            continue;
        }
        if (!uuid_valid(eid)) {
            snprintf(msg, sizeof(msg),
                     "Item %zu: endpoint_id must be the id of one of your "
                     "endpoints.",
                     i + 1);
            bus_reply_field_error(rep, "components", msg);
            ok = false;
            continue;
        }
        char lower[37];
        for (int k = 0; k < 37; k++)
            lower[k] = (char)tolower((unsigned char)eid[k]);
        name[0] = group[0] = '\0';
        bool item_ok = true;
        if (nv && !json_is_null(nv)) {
            bus_reply scratch = {0};
            if (!text_field(name, sizeof(name), nv, "name", 200, true, &scratch)) {
                snprintf(msg, sizeof(msg), "Item %zu: name must be text of at most 200 characters.",
                         i + 1);
                bus_reply_field_error(rep, "components", msg);
                item_ok = false;
            }
            bus_reply_clear(&scratch);
        }
        if (gv && !json_is_null(gv)) {
            bus_reply scratch = {0};
            if (!text_field(group, sizeof(group), gv, "group", 200, true, &scratch)) {
                snprintf(msg, sizeof(msg),
                         "Item %zu: group must be text of at most 200 characters.", i + 1);
                bus_reply_field_error(rep, "components", msg);
                item_ok = false;
            }
            bus_reply_clear(&scratch);
        }
        size_t j;
        json_t *prev;
        json_array_foreach(in->components, j, prev)
        {
            if (strcmp(json_string_value(json_object_get(prev, "endpoint_id")), lower) == 0) {
                snprintf(msg, sizeof(msg), "Item %zu: this endpoint is already on the page.",
                         i + 1);
                bus_reply_field_error(rep, "components", msg);
                item_ok = false;
                break;
            }
        }
        if (!item_ok) {
            ok = false;
            continue;
        }
        json_array_append_new(in->components,
                              json_pack("{s:s,s:s,s:s,s:I}", "endpoint_id", lower, "name", name,
                                        "group", group, "position", (json_int_t)i));
    }
    return ok;
}

/* Reads and checks the body. create: name and slug are required. True without field errors. */
static bool page_input_read(page_input *in, const bus_req *req, bus_reply *rep, bool create)
{
    json_t *b = req->body, *v;
    bool ok = true;
    memset(in, 0, sizeof(*in));
    if (!json_is_object(b)) {
        bus_reply_error(rep, SW_EINVAL, NULL, "The body must be a JSON object.");
        return false;
    }
    if ((v = json_object_get(b, "name"))) {
        in->has_name = true;
        ok &= text_field(in->name, sizeof(in->name), v, "name", 200, false, rep);
    } else if (create) {
        bus_reply_field_error(rep, "name", required);
        ok = false;
    }
    if ((v = json_object_get(b, "slug"))) {
        in->has_slug = true;
        const char *s = json_string_value(v);
        if (!json_is_string(v)) {
            bus_reply_field_error(rep, "slug", "Not a valid string.");
            ok = false;
        } else if (!status_slug_valid(s)) {
            bus_reply_field_error(rep, "slug",
                                  "Enter 3 to 63 characters: lowercase letters, digits and "
                                  "hyphens.");
            ok = false;
        } else {
            snprintf(in->slug, sizeof(in->slug), "%s", s);
        }
    } else if (create) {
        bus_reply_field_error(rep, "slug", required);
        ok = false;
    }
    if ((v = json_object_get(b, "description")) && !json_is_null(v)) {
        in->has_description = true;
        ok &= description_field(in->description, sizeof(in->description), v, rep);
    } else if (v) {
        in->has_description = true;
        in->description[0] = '\0';
    }
    if ((v = json_object_get(b, "components"))) {
        in->has_components = true;
        ok &= components_field(in, v, rep);
    }
    if ((v = json_object_get(b, "show_uptime"))) {
        in->has_show_uptime = true;
        if (!json_is_boolean(v)) {
            bus_reply_field_error(rep, "show_uptime", "Must be a valid boolean.");
            ok = false;
        }
        in->show_uptime = json_is_true(v);
    }
    if ((v = json_object_get(b, "is_public"))) {
        in->has_is_public = true;
        if (!json_is_boolean(v)) {
            bus_reply_field_error(rep, "is_public", "Must be a valid boolean.");
            ok = false;
        }
        in->is_public = json_is_true(v);
    }
    return ok;
}

/* A begun tenant transaction and the tenant's quoted schema, or an error reply. */
static sw_status begin(store_conn *c, const bus_req *req, bus_reply *rep, char *schema, size_t len)
{
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_OK)
        st = store_tenant_schema(c, req->tenant, schema, len);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        bus_reply_clear(rep);
        return bus_reply_error(rep, SW_EUNAUTH, "tenant_not_found", NULL);
    }
    return st == SW_OK ? SW_OK : bus_reply_failure(rep, st);
}

static json_t *page_url(const bus_req *req, const char *slug)
{
    char link[512];
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    snprintf(link, sizeof(link), "%s/status/%s/", base, slug);
    return json_string(link);
}

static sw_status fetch(store_conn *c, const bus_req *req, const char *schema, const char *id,
                       json_t **row)
{
    char sql[2048];
    snprintf(sql, sizeof(sql), PAGE_SELECT " WHERE p.id = $1::uuid", schema, schema);
    const char *p[] = {id};
    sw_status st = store_query_one(c, row, sql, 1, p);
    if (st == SW_OK)
        json_object_set_new(*row, "url",
                            page_url(req, json_string_value(json_object_get(*row, "slug"))));
    return st;
}

/* Writes the components (replacing the page's list): each endpoint must be the tenant's. */
static sw_status write_components(store_conn *c, const char *page_id, const json_t *components,
                                  bus_reply *rep)
{
    const char *p[] = {page_id};
    sw_status st = store_query(c, NULL, NULL,
                               "DELETE FROM status_page_components WHERE page_id = $1::uuid", 1, p);
    size_t i;
    json_t *comp;
    json_array_foreach(components, i, comp)
    {
        if (st != SW_OK)
            break;
        char pos[16];
        long inserted = 0;
        snprintf(pos, sizeof(pos), "%lld",
                 (long long)json_integer_value(json_object_get(comp, "position")));
        const char *q[] = {page_id, json_string_value(json_object_get(comp, "endpoint_id")),
                           json_string_value(json_object_get(comp, "name")),
                           json_string_value(json_object_get(comp, "group")), pos};
        /* Only the tenant's own endpoints: the search_path is the tenant's schema. */
        st = store_query(c, NULL, &inserted,
                         "INSERT INTO status_page_components (page_id, endpoint_id, name,"
                         "  group_name, position)"
                         " SELECT $1::uuid, e.id, coalesce(nullif($3, ''), e.name), $4, $5::int"
                         "  FROM endpoints e WHERE e.id = $2::uuid",
                         5, q);
        if (st == SW_OK && inserted == 0) {
            char msg[160];
            bus_reply_clear(rep);
            snprintf(msg, sizeof(msg),
                     "Item %zu: endpoint_id must be the id of one of your endpoints.", i + 1);
            bus_reply_field_error(rep, "components", msg);
            return SW_EINVAL;
        }
    }
    return st == SW_OK ? SW_OK : bus_reply_failure(rep, st);
}

/* A failed write of the page row or its slug: a taken slug is the user's mistake. */
static sw_status write_failed(store_conn *c, bus_reply *rep, sw_status st)
{
    const char *k = store_last_constraint(c);
    if (st == SW_ECONFLICT &&
        (strcmp(k, "status_page_slugs_pkey") == 0 || strcmp(k, "status_pages_slug_key") == 0)) {
        bus_reply_clear(rep);
        bus_reply_field_error(rep, "slug", slug_taken);
        return SW_EINVAL;
    }
    if (st == SW_EINVAL) {
        sw_log(SW_LOG_WARN, "status page write refused by a database check", "constraint", k, NULL);
        bus_reply_clear(rep);
        return bus_reply_error(rep, SW_EINVAL, NULL, "Invalid input.");
    }
    return bus_reply_failure(rep, st);
}

/* status_page.changed: the edges drop what they cached of this tenant's pages. Best effort
 * (logged): the edge's cache also expires within SW_STATUS_CACHE_TTL_MS. It carries the audit
 * object (bus/contract.h) of the change: status_page.<change>, labelled with the page's name
 * (borrowed, may be NULL). */
static void publish_changed(const bus_req *req, const char *page_id, const char *change,
                            const char *name)
{
    jsCtx *js = bus_actor_js(req->actor);
    char subject[BUS_SUBJECT_MAX], msg_id[200], now_ms[24], action[48];
    bus_audit a;
    snprintf(now_ms, sizeof(now_ms), "%lld", (long long)sw_epoch_ms());
    if (!bus_subject_event(subject, sizeof(subject), req->tenant, BUS_EVT_STATUS_PAGE_CHANGED))
        return;
    snprintf(msg_id, sizeof(msg_id), BUS_ID_STATUS_PAGE_EVT_FMT, page_id,
             req->request_id && *req->request_id ? req->request_id : now_ms);
    json_t *evt = json_pack("{s:s,s:s,s:s,s:I}", "page_id", page_id, "tenant_id", req->tenant,
                            "change", change, "at_ms", (json_int_t)sw_epoch_ms());
    snprintf(action, sizeof(action), "status_page.%s", change);
    bus_audit_from_req(&a, req);
    a.action = action;
    a.target_type = "status_page";
    a.target_id = page_id;
    a.target_label = name && *name ? name : NULL;
    if (evt && !bus_audit_put(evt, &a))
        sw_log(SW_LOG_WARN, "status page event without its audit entry (out of shape)", "page_id",
               page_id, NULL);
    sw_status st = SW_EUNAVAILABLE;
    for (int attempt = 0; js && evt && attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(js, subject, evt, msg_id, req->request_id);
    if (st != SW_OK)
        sw_log(SW_LOG_ERROR, "status page event not published: no audit entry for this change",
               "page_id", page_id, "status", sw_status_name(st), NULL);
    json_decref(evt);
}

/* ---- list -------------------------------------------------------------------------------- */

static long query_long(const char *query, const char *key, long def)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = seg - kl - 1;
            if (vl == 0 || vl > 9 || strspn(p + kl + 1, "0123456789") < vl)
                return -1;
            return strtol(p + kl + 1, NULL, 10);
        }
        p += seg;
        while (*p == '&')
            p++;
    }
    return def;
}

static json_t *list_link(const bus_req *req, long page, long size)
{
    char link[512];
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    snprintf(link, sizeof(link), "%s/api/status-pages/?page=%ld&page_size=%ld", base, page, size);
    return json_string(link);
}

sw_status status_pages_list(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    char schema[64], sql[2400], lim[16], off[24];
    json_t *rows = NULL;
    store_conn *c = NULL;
    sw_status st;
    /* Status pages are the organization's public face: admins and the owner edit them. */
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    long size = query_long(req->query, "page_size", PAGE_SIZE_DEFAULT);
    long page = query_long(req->query, "page", 1);
    if (size < 1)
        size = PAGE_SIZE_DEFAULT;
    if (size > PAGE_SIZE_MAX)
        size = PAGE_SIZE_MAX;
    if (page < 1)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep, schema, sizeof(schema));
    if (st != SW_OK)
        goto out;
    long count = 0;
    {
        json_t *row = NULL;
        st = store_query_one(c, &row, "SELECT count(*) AS n FROM status_pages", 0, NULL);
        count = st == SW_OK ? (long)json_integer_value(json_object_get(row, "n")) : 0;
        json_decref(row);
        if (st != SW_OK) {
            st = bus_reply_failure(rep, st);
            goto out;
        }
    }
    long pages = count == 0 ? 1 : (count + size - 1) / size;
    if (page > pages) {
        st = bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
        goto out;
    }
    snprintf(sql, sizeof(sql),
             PAGE_SELECT " ORDER BY p.created_at, p.id LIMIT $1::int OFFSET $2::int", schema,
             schema);
    snprintf(lim, sizeof(lim), "%ld", size);
    snprintf(off, sizeof(off), "%ld", (page - 1) * size);
    const char *p[] = {lim, off};
    st = store_query(c, &rows, NULL, sql, 2, p);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_object_set_new(r, "url", page_url(req, json_string_value(json_object_get(r, "slug"))));
    }
    bus_reply_json(
        rep, json_pack("{s:I,s:o,s:o,s:O}", "count", (json_int_t)count, "next",
                       page < pages ? list_link(req, page + 1, size) : json_null(), "previous",
                       page > 1 ? list_link(req, page - 1, size) : json_null(), "results", rows));
    st = SW_OK;
out:
    json_decref(rows);
    store_release(app->common->db, c);
    return st;
}

/* ---- create ------------------------------------------------------------------------------ */

sw_status status_pages_create(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    page_input in;
    char schema[64];
    json_t *row = NULL;
    store_conn *c = NULL;
    sw_status st;
    char page_id[40] = "";

    /* Status pages are the organization's public face: admins and the owner edit them. */
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!page_input_read(&in, req, rep, true)) {
        st = SW_EINVAL;
        goto out;
    }
    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c) {
        st = bus_reply_failure(rep, SW_EUNAVAILABLE);
        goto out;
    }
    st = begin(c, req, rep, schema, sizeof(schema));
    if (st != SW_OK)
        goto out;
    {
        const char *p[] = {in.name, in.slug, in.description,
                           in.has_show_uptime && !in.show_uptime ? "false" : "true",
                           in.has_is_public && !in.is_public ? "false" : "true"};
        st = store_query_one(c, &row,
                             "INSERT INTO status_pages (name, slug, description, show_uptime,"
                             "  is_public) VALUES ($1, $2, $3, $4::boolean, $5::boolean)"
                             " RETURNING id::text AS id",
                             5, p);
    }
    if (st != SW_OK) {
        st = write_failed(c, rep, st);
        goto out;
    }
    snprintf(page_id, sizeof(page_id), "%s", json_string_value(json_object_get(row, "id")));
    json_decref(row);
    row = NULL;
    {
        const char *p[] = {in.slug, req->tenant, page_id};
        st = store_query(c, NULL, NULL,
                         "INSERT INTO public.status_page_slugs (slug, tenant_id, page_id)"
                         " VALUES ($1, $2, $3::uuid)",
                         3, p);
    }
    if (st != SW_OK) {
        st = write_failed(c, rep, st);
        goto out;
    }
    if (in.has_components) {
        st = write_components(c, page_id, in.components, rep);
        if (st != SW_OK)
            goto out;
    }
    st = fetch(c, req, schema, page_id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    publish_changed(req, page_id, "created", json_string_value(json_object_get(row, "name")));
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_CREATED;
out:
    json_decref(row);
    page_input_free(&in);
    store_release(app->common->db, c);
    return st;
}

/* ---- get, patch, delete ------------------------------------------------------------------- */

sw_status status_pages_get(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    char schema[64];
    json_t *row = NULL;
    sw_status st;
    /* Status pages are the organization's public face: admins and the owner edit them. */
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep, schema, sizeof(schema));
    if (st != SW_OK)
        goto out;
    st = fetch(c, req, schema, req->param_id, &row);
    if (st == SW_ENOTFOUND) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    bus_reply_json(rep, row);
    row = NULL;
out:
    json_decref(row);
    store_release(app->common->db, c);
    return st;
}

sw_status status_pages_patch(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    page_input in;
    char schema[64];
    json_t *row = NULL;
    store_conn *c = NULL;
    sw_status st;

    /* Status pages are the organization's public face: admins and the owner edit them. */
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    if (!page_input_read(&in, req, rep, false)) {
        st = SW_EINVAL;
        goto out;
    }
    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c) {
        st = bus_reply_failure(rep, SW_EUNAVAILABLE);
        goto out;
    }
    st = begin(c, req, rep, schema, sizeof(schema));
    if (st != SW_OK)
        goto out;
    {
        long changed = 0;
        const char *p[] = {req->param_id,
                           in.has_name ? in.name : NULL,
                           in.has_slug ? in.slug : NULL,
                           in.has_description ? in.description : NULL,
                           in.has_show_uptime ? (in.show_uptime ? "true" : "false") : NULL,
                           in.has_is_public ? (in.is_public ? "true" : "false") : NULL};
        st = store_query(c, NULL, &changed,
                         "UPDATE status_pages SET name = coalesce($2, name),"
                         " slug = coalesce($3, slug), description = coalesce($4, description),"
                         " show_uptime = coalesce($5::boolean, show_uptime),"
                         " is_public = coalesce($6::boolean, is_public), updated_at = now()"
                         " WHERE id = $1::uuid",
                         6, p);
        if (st == SW_OK && changed == 0) {
            st = bus_reply_not_found(rep);
            goto out;
        }
    }
    if (st != SW_OK) {
        st = write_failed(c, rep, st);
        goto out;
    }
    if (in.has_slug) {
        const char *p[] = {in.slug, req->param_id, req->tenant};
        st = store_query(c, NULL, NULL,
                         "UPDATE public.status_page_slugs SET slug = $1"
                         " WHERE page_id = $2::uuid AND tenant_id = $3",
                         3, p);
        if (st != SW_OK) {
            st = write_failed(c, rep, st);
            goto out;
        }
    }
    if (in.has_components) {
        st = write_components(c, req->param_id, in.components, rep);
        if (st != SW_OK)
            goto out;
    }
    st = fetch(c, req, schema, req->param_id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    publish_changed(req, req->param_id, "updated", json_string_value(json_object_get(row, "name")));
    bus_reply_json(rep, row);
    row = NULL;
out:
    json_decref(row);
    page_input_free(&in);
    store_release(app->common->db, c);
    return st;
}

sw_status status_pages_delete(const bus_req *req, bus_reply *rep)
{
    endpoints_app *app = req->app;
    char schema[64];
    long n = 0;
    json_t *gone = NULL;
    sw_status st;
    /* Status pages are the organization's public face: admins and the owner edit them. */
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep, schema, sizeof(schema));
    if (st != SW_OK)
        goto out;
    const char *p[] = {req->param_id, req->tenant};
    st = store_query(c, &gone, &n, "DELETE FROM status_pages WHERE id = $1::uuid RETURNING name", 1,
                     p);
    if (st == SW_OK && n == 0) {
        st = bus_reply_not_found(rep);
        goto out;
    }
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "DELETE FROM public.status_page_slugs WHERE page_id = $1::uuid"
                         " AND tenant_id = $2",
                         2, p);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    publish_changed(req, req->param_id, "deleted",
                    json_string_value(json_object_get(json_array_get(gone, 0), "name")));
    st = SW_NO_CONTENT;
out:
    json_decref(gone);
    store_release(app->common->db, c);
    return st;
}
