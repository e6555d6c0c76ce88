/* Tenant provisioning in one transaction. */
#include "actors/common/tenant.h"

#include <stdio.h>
#include <string.h>

#include "actors/common/validate.h"
#include "bus/log.h"

#define ID_CHARS 24 /* t_ + 24 of [a-z0-9]: ~124 bits, never guessable */

/* Inserts the tenant row under the plain slug, or under slug-xxxxxx when the plain one is
 * taken (ON CONFLICT DO NOTHING keeps the transaction usable). */
static sw_status insert_tenant(store_conn *c, const tenant_new *in, tenant_created *out)
{
    char base[48], sfx[8];
    slugify(base, sizeof(base), in->name);
    for (int attempt = 0; attempt < 4; attempt++) {
        long n = 0;
        if (attempt == 0) {
            snprintf(out->slug, sizeof(out->slug), "%s", base);
        } else {
            random_ident(sfx, 6);
            snprintf(out->slug, sizeof(out->slug), "%s-%s", base, sfx);
        }
        const char *p[] = {out->tenant_id, in->name, out->slug};
        sw_status st = store_query(c, NULL, &n,
                                   "INSERT INTO public.tenants (id, name, slug, schema_name)"
                                   " VALUES ($1, $2, $3, $1) ON CONFLICT (slug) DO NOTHING",
                                   3, p);
        if (st != SW_OK)
            return st;
        if (n == 1)
            return SW_OK;
    }
    return SW_ECONFLICT;
}

sw_status tenant_create(store_conn *c, const tenant_new *in, const store_migration *migrations,
                        size_t nmigrations, tenant_created *out)
{
    json_t *row = NULL;
    char ident[ID_CHARS + 1], sql[160];
    store_migrate_report rep = {0};
    sw_status st;

    memset(out, 0, sizeof(*out));
    random_ident(ident, ID_CHARS);
    snprintf(out->tenant_id, sizeof(out->tenant_id), "t_%s", ident);

    st = store_tx_begin(c);
    if (st != SW_OK)
        return st;
    st = insert_tenant(c, in, out);
    if (st != SW_OK)
        goto out;

    snprintf(out->domain, sizeof(out->domain), "%s.%s", out->slug, in->domain_base);
    const char *pd[] = {out->domain, out->tenant_id};
    st = store_query(c, NULL, NULL, "INSERT INTO public.domains (host, tenant_id) VALUES ($1, $2)",
                     2, pd);
    if (st != SW_OK)
        goto out;

    /* The directory row makes the email unique across the service. A concurrent sign-up with
     * the same email waits here for the first to commit, then fails: exactly one wins. */
    const char *pu[] = {in->email, out->tenant_id};
    st = store_query_one(c, &row,
                         "INSERT INTO public.user_directory (email, tenant_id, user_id)"
                         " VALUES ($1, $2, gen_random_uuid()) RETURNING user_id::text",
                         2, pu);
    if (st != SW_OK)
        goto out;
    snprintf(out->user_id, sizeof(out->user_id), "%s",
             json_string_value(json_object_get(row, "user_id")));

    /* The schema and its tables belong to sw_tenant_owner, not to whoever signs the tenant up
     * (schema/public/0006_actor_roles.sql): the rest of this transaction runs as that role.
     * The schema name is our own generated identifier (checked by the tenants CHECK); it is
     * quoted anyway. */
    st = store_exec_script(c, "SET LOCAL ROLE sw_tenant_owner");
    if (st == SW_OK) {
        snprintf(sql, sizeof(sql), "CREATE SCHEMA \"%s\"", out->tenant_id);
        st = store_exec_script(c, sql);
    }
    if (st == SW_OK) {
        snprintf(sql, sizeof(sql), "SET LOCAL search_path TO \"%s\", public", out->tenant_id);
        st = store_exec_script(c, sql);
    }
    if (st == SW_OK)
        st = store_migrate_tenant_in_tx(c, out->tenant_id, migrations, nmigrations, &rep);
    if (st != SW_OK) {
        sw_log(SW_LOG_ERROR, "tenant schema set-up failed", "migration", rep.failed, "error",
               rep.error, NULL);
        goto out;
    }

    const char *pw[] = {out->user_id, in->email, in->password_hash};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO users (id, email, password_hash, role)"
                     " VALUES ($1::uuid, $2, $3, 'owner')",
                     3, pw);
    if (st != SW_OK)
        goto out;
    const char *pt[] = {in->token_hash, out->user_id};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at)"
                     " VALUES ($1::bytea, $2::uuid, 'verify_email', now() + interval '48 hours')",
                     2, pt);
    if (st != SW_OK)
        goto out;
    st = store_tx_commit(c);
out:
    json_decref(row);
    if (st != SW_OK)
        store_tx_rollback(c);
    return st;
}
