/* Tenant lookups. Owners come from the service-wide directory joined with each tenant's users,
 * read through one query per page. */
#include <stdio.h>

#include "actors/common/app.h"
#include "actors/tenancy/tenancy.h"
#include "store/migrate.h"

#define TENANT_COLUMNS                                                                             \
    "SELECT t.id, t.name, t.slug, coalesce(sub.plan, 'free') AS plan,"                             \
    " to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at,"   \
    " coalesce((SELECT json_agg(d.host ORDER BY d.host) FROM public.domains d"                     \
    "           WHERE d.tenant_id = t.id), '[]'::json) AS domains,"                                \
    " coalesce((SELECT json_agg(u.email ORDER BY u.email) FROM public.user_directory u"            \
    "           WHERE u.tenant_id = t.id), '[]'::json) AS users"                                   \
    " FROM public.tenants t LEFT JOIN public.subscriptions sub ON sub.tenant_id = t.id"

sw_status tenancy_get(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    json_t *row = NULL;
    const char *id = json_string_value(json_object_get(req->body, "tenant_id"));
    if (!id || !store_schema_name_valid(id)) {
        bus_reply_field_error(rep, "tenant_id", "A valid tenant id is required.");
        return SW_EINVAL;
    }
    store_conn *c = store_acquire(app->db);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    const char *p[] = {id};
    sw_status st = store_query_one(c, &row, TENANT_COLUMNS " WHERE t.id = $1", 1, p);
    store_release(app->db, c);
    if (st == SW_ENOTFOUND)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, NULL);
    if (st != SW_OK)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    bus_reply_json(rep, row);
    return SW_OK;
}

sw_status tenancy_list(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    json_t *rows = NULL, *count = NULL;
    char limit[24], offset[24];
    json_int_t page = json_integer_value(json_object_get(req->body, "page"));
    json_int_t size = json_integer_value(json_object_get(req->body, "page_size"));
    if (page < 1)
        page = 1;
    if (size < 1 || size > 100)
        size = 100;
    snprintf(limit, sizeof(limit), "%lld", (long long)size);
    snprintf(offset, sizeof(offset), "%lld", (long long)((page - 1) * size));
    store_conn *c = store_acquire(app->db);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    const char *p[] = {limit, offset};
    sw_status st = store_query(
        c, &rows, NULL, TENANT_COLUMNS " ORDER BY t.created_at, t.id LIMIT $1 OFFSET $2", 2, p);
    if (st == SW_OK)
        st = store_query_one(c, &count, "SELECT count(*) AS n FROM public.tenants", 0, NULL);
    store_release(app->db, c);
    if (st != SW_OK) {
        json_decref(rows);
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    }
    bus_reply_json(rep,
                   json_pack("{s:O,s:o}", "count", json_object_get(count, "n"), "results", rows));
    json_decref(count);
    return SW_OK;
}

/* The checks answer well inside the edge's wait (700 ms), so a slow database reads as
 * "failing" instead of as a silent actor. */
#define DB_CHECK_MS 400

sw_status tenancy_health(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    json_t *row = NULL;
    const char *database = "unreachable", *migrations = "unknown";
    char pending_text[32];
    store_conn *c = store_acquire(app->db);
    if (!c)
        goto out;
    database = "failing";
    if (actor_tx_bounded(c, DB_CHECK_MS) != SW_OK ||
        store_query_one(c, &row, "SELECT 1 AS ok", 0, NULL) != SW_OK)
        goto out;
    database = "ok";
    long pending = store_migrations_pending(c);
    if (pending == 0) {
        migrations = "ok";
    } else if (pending > 0) {
        snprintf(pending_text, sizeof(pending_text), "%ld pending", pending);
        migrations = pending_text;
    }
out:
    store_release(app->db, c); /* rolls the read-only transaction back */
    json_decref(row);
    bus_reply_json(rep, json_pack("{s:s,s:s}", "database", database, "migrations", migrations));
    return SW_OK;
}

void tenancy_stats(bus_actor *a, json_t *data)
{
    actor_app *app = bus_actor_app(a);
    store_conn *c = app ? store_acquire(app->db) : NULL;
    if (c && actor_tx_bounded(c, DB_CHECK_MS) == SW_OK)
        actor_stats_by_plan(c, data, "tenants_by_plan",
                            "SELECT coalesce(sub.plan, 'free') AS plan, count(*)::bigint AS n"
                            " FROM public.tenants t LEFT JOIN public.subscriptions sub"
                            "   ON sub.tenant_id = t.id GROUP BY 1");
    if (c)
        store_release(app->db, c);
}
