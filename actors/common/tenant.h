/* Creating an organization: tenant row, domain, schema with its tables, owner user, directory
 * row and email-verification token, all in ONE transaction: it all exists or none of it does. */
#ifndef SW_TENANT_H
#define SW_TENANT_H

#include "store/migrate.h"
#include "store/store.h"

typedef struct tenant_new {
    const char *name;          /* validated display name */
    const char *email;         /* normalised */
    const char *password_hash; /* Argon2id string */
    const char *domain_base;   /* "statuswatch.local" */
    const char *token_hash;    /* bytea literal of the verification token's SHA-256 */
} tenant_new;

typedef struct tenant_created {
    char tenant_id[48]; /* also the schema name */
    char user_id[40];
    char slug[64];
    char domain[160];
} tenant_created;

/* Creates the tenant with the given tenant migrations (the embedded ones in production; tests
 * pass their own to prove a failure leaves nothing behind). SW_ECONFLICT when the email is
 * already registered. */
sw_status tenant_create(store_conn *c, const tenant_new *in, const store_migration *migrations,
                        size_t nmigrations, tenant_created *out);

#endif
