/* Migrations runner: see migrate.h. */
#include "store/migrate.h"

#include <stdio.h>
#include <string.h>

#include "bus/log.h"

#define MIGRATE_LOCK_KEY "7301001" /* pg_advisory_lock key shared by every runner */

static const char *ledger_sql =
    "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
    " scope text NOT NULL, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (scope, name))";

static int already_applied(store_conn *c, const char *scope, const char *name)
{
    json_t *row = NULL;
    const char *p[] = {scope, name};
    sw_status st = store_query_one(
        c, &row, "SELECT 1 AS x FROM public.schema_migrations WHERE scope = $1 AND name = $2", 2,
        p);
    json_decref(row);
    if (st == SW_OK)
        return 1;
    return st == SW_ENOTFOUND ? 0 : -1;
}

static sw_status record(store_conn *c, const char *scope, const char *name)
{
    const char *p[] = {scope, name};
    return store_query(c, NULL, NULL,
                       "INSERT INTO public.schema_migrations (scope, name) VALUES ($1, $2)", 2, p);
}

static void fail(store_migrate_report *rep, store_conn *c, const char *name)
{
    snprintf(rep->failed, sizeof(rep->failed), "%s", name);
    snprintf(rep->error, sizeof(rep->error), "%s", store_last_error(c));
}

/* Runs one migration in its own transaction with search_path set to scope (or public). */
static sw_status apply_one(store_conn *c, const char *scope, const store_migration *m,
                           store_migrate_report *rep)
{
    char sql[160];
    sw_status st;
    int done = already_applied(c, scope, m->name);
    if (done < 0) {
        fail(rep, c, m->name);
        return SW_EUNAVAILABLE;
    }
    if (done)
        return SW_OK;
    st = store_tx_begin(c);
    if (st == SW_OK && strcmp(scope, "public") != 0) {
        snprintf(sql, sizeof(sql), "SET LOCAL search_path TO \"%s\", public", scope);
        st = store_exec_script(c, sql);
    }
    if (st == SW_OK)
        st = store_exec_script(c, m->sql);
    if (st == SW_OK)
        st = record(c, scope, m->name);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        fail(rep, c, m->name);
        store_tx_rollback(c);
        return st;
    }
    rep->applied++;
    sw_log(SW_LOG_INFO, "migration applied", "scope", scope, "migration", m->name, NULL);
    return SW_OK;
}

sw_status store_migrate_all(store_conn *c, const store_migration *pub, size_t npub,
                            const store_migration *ten, size_t nten, store_migrate_report *rep)
{
    json_t *tenants = NULL;
    sw_status st;
    memset(rep, 0, sizeof(*rep));

    st = store_exec_script(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
    if (st == SW_OK)
        st = store_exec_script(c, ledger_sql);
    if (st != SW_OK) {
        fail(rep, c, "schema_migrations");
        goto out;
    }
    for (size_t i = 0; i < npub; i++) {
        st = apply_one(c, "public", &pub[i], rep);
        if (st != SW_OK)
            goto out;
    }
    st = store_query(c, &tenants, NULL, "SELECT schema_name FROM public.tenants ORDER BY 1", 0,
                     NULL);
    if (st != SW_OK) {
        fail(rep, c, "tenants");
        goto out;
    }
    size_t i;
    json_t *t;
    json_array_foreach(tenants, i, t)
    {
        const char *schema = json_string_value(json_object_get(t, "schema_name"));
        if (!store_schema_name_valid(schema))
            continue;
        rep->tenants++;
        for (size_t k = 0; k < nten; k++) {
            st = apply_one(c, schema, &ten[k], rep);
            if (st != SW_OK)
                goto out;
        }
    }
out:
    json_decref(tenants);
    store_exec_script(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    return st;
}

sw_status store_migrate_tenant_in_tx(store_conn *c, const char *schema,
                                     const store_migration *ten, size_t nten,
                                     store_migrate_report *rep)
{
    for (size_t k = 0; k < nten; k++) {
        sw_status st = store_exec_script(c, ten[k].sql);
        if (st == SW_OK)
            st = record(c, schema, ten[k].name);
        if (st != SW_OK) {
            fail(rep, c, ten[k].name);
            return st;
        }
        rep->applied++;
    }
    return SW_OK;
}

long store_migrations_pending(store_conn *c)
{
    json_t *row = NULL;
    char npub[16], nten[16];
    snprintf(npub, sizeof(npub), "%zu", store_public_migrations_len);
    snprintf(nten, sizeof(nten), "%zu", store_tenant_migrations_len);
    const char *p[] = {npub, nten};
    /* expected = public count + tenant count per tenant; applied = ledger rows. */
    sw_status st = store_query_one(
        c, &row,
        "SELECT ($1::int + $2::int * (SELECT count(*) FROM public.tenants))"
        " - (SELECT count(*) FROM public.schema_migrations) AS pending",
        2, p);
    if (st != SW_OK)
        return -1;
    long n = (long)json_integer_value(json_object_get(row, "pending"));
    json_decref(row);
    return n;
}
