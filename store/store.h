/* PostgreSQL access for actors: a small connection pool that reconnects, parameterised
 * queries whose rows come back as JSON (so handlers can hand them straight to a reply), and
 * transactions scoped to one tenant's schema. libpq's errors are translated here into
 * sw_status; nothing above this module sees a PGresult.
 *
 * Scaling seam (DESIGN §11): public.tenants names the database a tenant lives on, and work for
 * a tenant acquires its connection with store_acquire_tenant(); today every tenant lives on the
 * one database of the pool. */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stdbool.h>
#include <jansson.h>

#include "bus/status.h"

typedef struct store_pool store_pool;
typedef struct store_conn store_conn;

/* conninfo: a libpq URL or key=value string (copied). size: connections at most.
 * *out: owned (store_pool_free). Connections are opened lazily. */
sw_status store_pool_new(store_pool **out, const char *conninfo, int size);
void store_pool_free(store_pool *pool);

/* Borrows a connection, waiting while all are in use; reconnects a broken one. Returns NULL
 * when the database cannot be reached. Give it back with store_release(). */
store_conn *store_acquire(store_pool *pool);
store_conn *store_acquire_tenant(store_pool *pool, const char *tenant_id);
/* Returns the connection; a connection left inside a transaction is rolled back first. */
void store_release(store_pool *pool, store_conn *c);

/* Runs sql with text parameters (NULL = SQL NULL). *rows: owned JSON array of row objects,
 * column values typed (integers, booleans, numbers, JSON columns parsed, the rest strings).
 * rows may be NULL when the caller wants no rows. *affected (may be NULL): rows changed. */
sw_status store_query(store_conn *c, json_t **rows, long *affected, const char *sql, int nparams,
                      const char *const *params);
/* Like store_query, for a query that returns at most one row: *row owned, SW_ENOTFOUND when
 * there is none. */
sw_status store_query_one(store_conn *c, json_t **row, const char *sql, int nparams,
                          const char *const *params);
/* Rows of a prepared statement, as PostgreSQL's text: for hot paths that format their own
 * output. Owned by the caller (store_rows_free). */
typedef struct store_rows store_rows;

/* Runs the statement called name, preparing sql under that name first on a session that has
 * not prepared it yet: PostgreSQL parses and plans it once per connection (sessions use
 * plan_cache_mode force_generic_plan, so the plan is kept). sql must not depend on the tenant
 * (no schema in its text: name the public tables, filter on the tenant), so one statement
 * serves every tenant and nothing is planned per tenant. name and sql: static strings, the same
 * sql for a name. *out: owned. At most 32 names per process. */
sw_status store_query_prepared(store_conn *c, store_rows **out, const char *name, const char *sql,
                               int nparams, const char *const *params);
/* The same, with the rows as store_query gives them (*rows: owned JSON array). */
sw_status store_query_prepared_json(store_conn *c, json_t **rows, const char *name, const char *sql,
                                    int nparams, const char *const *params);
int store_rows_count(const store_rows *r);
/* The text of a column (NULL for SQL NULL or out of range); valid until store_rows_free. */
const char *store_rows_value(const store_rows *r, int row, int col);
int store_rows_length(const store_rows *r, int row, int col);
void store_rows_free(store_rows *r);

/* Runs one or more statements without parameters (migrations, DDL). */
sw_status store_exec_script(store_conn *c, const char *sql);

/* The name of the constraint the last failed statement violated ("" when none). */
const char *store_last_constraint(const store_conn *c);
/* The message of the last failed statement, for logs and operator tools (never for clients). */
const char *store_last_error(const store_conn *c);

sw_status store_tx_begin(store_conn *c);
sw_status store_tx_commit(store_conn *c);
void store_tx_rollback(store_conn *c);

/* Begins a transaction scoped to the tenant: looks up its schema in public.tenants (tenant_id
 * comes from the verified Sw-Tenant header, never from a request body) and runs
 * SET LOCAL search_path TO "<schema>", public. SW_ENOTFOUND for an unknown tenant. */
sw_status store_tx_begin_tenant(store_conn *c, const char *tenant_id);

/* Inside an open transaction: switches search_path to the tenant's schema (SET LOCAL). */
sw_status store_tx_set_tenant(store_conn *c, const char *tenant_id);

/* The tenant's schema as a quoted identifier ("t_…"), for a single statement that names its
 * tables outright instead of relying on search_path: no transaction needed. tenant_id comes
 * from the verified Sw-Tenant header. Cached per process (a tenant's schema never changes);
 * store_tenant_schema_forget() drops the entry after a statement on it failed. SW_ENOTFOUND for
 * an unknown tenant. */
sw_status store_tenant_schema(store_conn *c, const char *tenant_id, char *out, size_t len);
void store_tenant_schema_forget(const char *tenant_id);

/* True for a schema name StatusWatch creates. A tenant's schema is named by its id, so this is
 * the tenant-id rule of bus/ids.h (sw_tenant_id_valid). */
bool store_schema_name_valid(const char *name);

#endif
