/* Shared actor start-up: settings and the database pool. */
#include "actors/common/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/config.h"
#include "bus/log.h"
#include "bus/jwt.h"

static bool read_rate(sw_rate *out, const char *name, const char *def)
{
    const char *v = sw_config_str(name, def);
    if (sw_config_parse_rate(v, &out->count, &out->window_s))
        return true;
    sw_log(SW_LOG_ERROR, "invalid setting: expected a rate like 5/hour", "setting", name,
           "value", v, NULL);
    return false;
}

void *actor_app_init(bus_actor *a, sw_status *err)
{
    actor_app *app = calloc(1, sizeof(*app));
    bool ok = true;
    (void)a;
    if (!app) {
        *err = SW_EINTERNAL;
        return NULL;
    }
    const char *secret = sw_config_str("SECRET_KEY", NULL);
    if (secret && strlen(secret) >= 32) {
        sw_jwt_derive_key(app->jwt_key, secret);
        app->have_jwt_key = true;
    }
    app->secure_cookies = sw_config_bool("ENFORCE_HTTPS", false) ||
                          sw_config_bool("SW_COOKIE_SECURE", false);
    app->frontend_url = sw_config_str("FRONTEND_URL", "http://127.0.0.1:8080");
    app->tenant_domain = sw_config_str("SW_TENANT_DOMAIN", "statuswatch.local");
    ok &= read_rate(&app->rate_register, "SW_THROTTLE_REGISTER", "5/hour");
    ok &= read_rate(&app->rate_login, "SW_THROTTLE_LOGIN", "10/hour");
    ok &= read_rate(&app->rate_sensitive, "SW_THROTTLE_SENSITIVE", "3/hour");
    bool pool_ok = true;
    long pool = sw_config_long("SW_DB_POOL", 8, 1, 256, &pool_ok);
    if (!pool_ok) {
        sw_log(SW_LOG_ERROR, "invalid setting: expected 1-256", "setting", "SW_DB_POOL", NULL);
        ok = false;
    }
    if (!ok || store_pool_new(&app->db, sw_config_str("DATABASE_URL", ""), (int)pool) != SW_OK) {
        free(app);
        *err = SW_EINVAL;
        return NULL;
    }
    return app;
}

void actor_app_free(void *p)
{
    actor_app *app = p;
    if (!app)
        return;
    store_pool_free(app->db);
    free(app);
}

sw_status actor_tx_bounded(store_conn *c, int ms)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "SET LOCAL statement_timeout = %d", ms);
    sw_status st = store_tx_begin(c);
    if (st == SW_OK)
        st = store_query(c, NULL, NULL, sql, 0, NULL);
    return st;
}

sw_status actor_stats_by_plan(store_conn *c, json_t *data, const char *name, const char *sql)
{
    json_t *rows = NULL, *by_plan = NULL, *r;
    size_t i;
    sw_status st = store_query(c, &rows, NULL, sql, 0, NULL);
    if (st != SW_OK)
        goto out;
    by_plan = json_object();
    json_array_foreach(rows, i, r)
    {
        const char *plan = json_string_value(json_object_get(r, "plan"));
        if (plan)
            json_object_set(by_plan, plan, json_object_get(r, "n"));
    }
    json_object_set(data, name, by_plan);
out:
    json_decref(by_plan);
    json_decref(rows);
    return st;
}
