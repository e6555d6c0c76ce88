/* sw-migrate: brings a deployment's schema and bus up to date. Applies the SQL migrations
 * (public, then every tenant schema) and creates or updates the JetStream streams and
 * consumers. Safe to run any number of times; run it before starting new actor versions.
 *
 *   sw-migrate [all|db|bus]
 *
 * Exit status: 0 done, 1 a migration or the bus set-up failed (named on stderr), 2 usage. */
#include <stdio.h>
#include <string.h>

#include "bus/bus.h"
#include "bus/config.h"
#include "bus/log.h"
#include "bus/topology.h"
#include "store/migrate.h"
#include "store/store.h"

static int migrate_db(void)
{
    store_pool *pool = NULL;
    store_conn *c = NULL;
    store_migrate_report rep;
    int rc = 1;

    if (store_pool_new(&pool, sw_config_str("DATABASE_URL", ""), 1) != SW_OK)
        return 1;
    c = store_acquire(pool);
    if (!c) {
        fprintf(stderr, "sw-migrate: cannot reach the database (DATABASE_URL)\n");
        goto out;
    }
    sw_status st = store_migrate_all(c, store_public_migrations, store_public_migrations_len,
                                     store_tenant_migrations, store_tenant_migrations_len, &rep);
    if (st != SW_OK) {
        fprintf(stderr, "sw-migrate: migration %s failed and was rolled back: %s\n",
                rep.failed[0] ? rep.failed : "(set-up)", rep.error);
        goto out;
    }
    printf("sw-migrate: database up to date (%d migrations applied, %d tenant schemas)\n",
           rep.applied, rep.tenants);
    rc = 0;
out:
    store_release(pool, c);
    store_pool_free(pool);
    return rc;
}

static int migrate_bus(void)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    int rc = 1;
    if (bus_connect(&nc, "sw-migrate", 10000) != SW_OK) {
        fprintf(stderr, "sw-migrate: cannot reach NATS (NATS_URL)\n");
        return 1;
    }
    if (natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
        goto out;
    const char *regions = sw_config_str("SW_REGIONS", sw_config_str("SW_REGION", "local"));
    int replicas = (int)sw_config_long("SW_JS_REPLICAS", 1, 1, 5, NULL);
    if (bus_topology_apply(js, regions, replicas, 30000) != SW_OK) {
        fprintf(stderr, "sw-migrate: JetStream set-up failed (see the log line above)\n");
        goto out;
    }
    printf("sw-migrate: streams and consumers up to date (regions: %s, replicas: %d)\n", regions,
           replicas);
    rc = 0;
out:
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    sw_log_init("sw-migrate", sw_config_str("SW_LOG_LEVEL", "info"));
    if (strcmp(what, "all") != 0 && strcmp(what, "db") != 0 && strcmp(what, "bus") != 0) {
        fprintf(stderr, "usage: sw-migrate [all|db|bus]\n");
        return 2;
    }
    char why[160];
    if (!sw_config_check_env(why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_ENV", "reason", why, NULL);
        return 2;
    }
    int rc = 0;
    if (strcmp(what, "bus") != 0)
        rc = migrate_db();
    if (rc == 0 && strcmp(what, "db") != 0)
        rc = migrate_bus();
    nats_Close();
    return rc;
}
