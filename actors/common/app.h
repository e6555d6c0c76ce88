/* What every actor's handlers share: the database pool and the settings read once at start.
 * Handed to handlers as req->app. */
#ifndef SW_ACTOR_APP_H
#define SW_ACTOR_APP_H

#include "bus/bus.h"
#include <stdbool.h>

#include "store/store.h"

typedef struct sw_rate {
    int count;
    int window_s;
} sw_rate;

typedef struct actor_app {
    store_pool *db;
    unsigned char jwt_key[32]; /* derived from SECRET_KEY when it is set */
    bool have_jwt_key;
    bool secure_cookies; /* Secure on cookies: ENFORCE_HTTPS or SW_COOKIE_SECURE */
    const char *frontend_url;
    const char *tenant_domain; /* tenants get <slug>.<tenant_domain> */
    sw_rate rate_register;
    sw_rate rate_login;
    sw_rate rate_sensitive;
} actor_app;

/* bus_actor_def.app_init / app_free for actors that need the database. Reads DATABASE_URL,
 * FRONTEND_URL, SW_TENANT_DOMAIN, SW_THROTTLE_*, SW_DB_POOL; fails (with the setting named in
 * the log) on a malformed value. */
void *actor_app_init(bus_actor *a, sw_status *err);
void actor_app_free(void *app);

/* For health checks and bus_actor_def.stats callbacks, which must answer promptly: begins a
 * transaction on c whose statements time out after ms (store_release rolls it back). */
sw_status actor_tx_bounded(store_conn *c, int ms);
/* Inside such a transaction: runs sql, whose rows have a "plan" and a count "n", and sets
 * data[name] = {"<plan>": n, ...}. data: borrowed. */
sw_status actor_stats_by_plan(store_conn *c, json_t *data, const char *name, const char *sql);

#endif
