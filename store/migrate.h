/* The migrations runner. Public migrations apply once to the shared schema; tenant migrations
 * apply to every tenant schema (and to a new tenant inside its creation transaction). What ran
 * is recorded in public.schema_migrations (scope = "public" or the tenant schema, name), so
 * running twice is safe. Each migration runs in its own transaction: a failing one is rolled
 * back and reported with its file name and the database's message. */
#ifndef SW_MIGRATE_H
#define SW_MIGRATE_H

#include <stddef.h>

#include "store/store.h"

typedef struct store_migration {
    const char *name; /* "public/0001_init.sql" */
    const char *sql;
} store_migration;

/* The migrations in schema/, embedded at build time, in file-name order. */
extern const store_migration store_public_migrations[];
extern const size_t store_public_migrations_len;
extern const store_migration store_tenant_migrations[];
extern const size_t store_tenant_migrations_len;

typedef struct store_migrate_report {
    int applied;        /* migrations run by this call */
    int tenants;        /* tenant schemas visited */
    char failed[128];   /* the migration that failed, "" when none */
    char error[256];    /* the database's message for it */
} store_migrate_report;

/* Applies the public migrations, then the tenant migrations to every tenant schema. Holds an
 * advisory lock so two runners never interleave. */
sw_status store_migrate_all(store_conn *c, const store_migration *pub, size_t npub,
                            const store_migration *ten, size_t nten, store_migrate_report *rep);

/* Applies the tenant migrations inside the caller's open transaction, whose search_path is
 * already the tenant's schema; records them under scope = schema. */
sw_status store_migrate_tenant_in_tx(store_conn *c, const char *schema,
                                     const store_migration *ten, size_t nten,
                                     store_migrate_report *rep);

/* How many embedded migrations have not run yet (public + every tenant); -1 on error. */
long store_migrations_pending(store_conn *c);

#endif
