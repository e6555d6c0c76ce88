/* Pool, queries, transactions. */
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "bus/ids.h"
#include "bus/log.h"

/* Type OIDs from pg_type.h (server headers are not needed for these stable values). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700
#define OID_JSONB 3802

#define STORE_MAX_PREPARED 32

struct store_conn {
    PGconn *pg;
    bool in_use;
    bool in_tx;
    /* The names of the statements prepared on this session (static strings of the callers);
     * forgotten whenever the session is new (connect, reset). */
    const char *prepared[STORE_MAX_PREPARED];
    int nprepared;
    char constraint[96];
    char error[256];
};

struct store_pool {
    char *conninfo;
    int size;
    store_conn *conns;
    pthread_mutex_t lock;
    pthread_cond_t freed;
};

sw_status store_pool_new(store_pool **out, const char *conninfo, int size)
{
    store_pool *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        return SW_EINTERNAL;
    p->conninfo = strdup(conninfo ? conninfo : "");
    p->size = size > 0 ? size : 1;
    p->conns = calloc((size_t)p->size, sizeof(*p->conns));
    if (!p->conninfo || !p->conns) {
        free(p->conninfo);
        free(p->conns);
        free(p);
        return SW_EINTERNAL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    *out = p;
    return SW_OK;
}

void store_pool_free(store_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->conns[i].pg)
            PQfinish(p->conns[i].pg);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p->conns);
    free(p->conninfo);
    free(p);
}

/* A new session: nothing is prepared on it yet. */
static void session_new(store_conn *c)
{
    c->nprepared = 0;
}

static bool conn_ready(store_pool *p, store_conn *c)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
        return true;
    session_new(c);
    if (c->pg) {
        PQreset(c->pg); /* the server restarted or the link broke: try once more */
        if (PQstatus(c->pg) == CONNECTION_OK)
            return true;
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->pg = PQconnectdb(p->conninfo);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* PQerrorMessage can echo the host but never the password. */
        sw_log(SW_LOG_WARN, "database unreachable", "error", PQerrorMessage(c->pg), NULL);
        PQfinish(c->pg);
        c->pg = NULL;
        return false;
    }
    PQsetClientEncoding(c->pg, "UTF8");
    return true;
}

store_conn *store_acquire(store_pool *p)
{
    store_conn *c = NULL;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        for (int i = 0; i < p->size && !c; i++)
            if (!p->conns[i].in_use)
                c = &p->conns[i];
        if (c)
            break;
        pthread_cond_wait(&p->freed, &p->lock);
    }
    c->in_use = true;
    pthread_mutex_unlock(&p->lock);
    if (!conn_ready(p, c)) {
        store_release(p, c);
        return NULL;
    }
    c->constraint[0] = c->error[0] = '\0';
    return c;
}

store_conn *store_acquire_tenant(store_pool *p, const char *tenant_id)
{
    (void)tenant_id; /* one database today; see the seam note in store.h */
    return store_acquire(p);
}

void store_release(store_pool *p, store_conn *c)
{
    if (!c)
        return;
    if (c->in_tx)
        store_tx_rollback(c);
    pthread_mutex_lock(&p->lock);
    c->in_use = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

static sw_status translate(store_conn *c, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    snprintf(c->constraint, sizeof(c->constraint), "%s", constraint ? constraint : "");
    snprintf(c->error, sizeof(c->error), "%s", primary ? primary : PQerrorMessage(c->pg));
    if (!state || PQstatus(c->pg) != CONNECTION_OK)
        return SW_EUNAVAILABLE;
    if (strcmp(state, "23505") == 0)
        return SW_ECONFLICT; /* unique violation: callers map the constraint to a field */
    if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
        return SW_EINVAL;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0)
        return SW_EUNAVAILABLE;
    return SW_EINTERNAL;
}

static json_t *cell(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    const char *v = PQgetvalue(res, row, col);
    switch (PQftype(res, col)) {
    case OID_BOOL:
        return json_boolean(v[0] == 't');
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return json_integer(strtoll(v, NULL, 10));
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return json_real(strtod(v, NULL));
    case OID_JSON:
    case OID_JSONB: {
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        return j ? j : json_null();
    }
    default:
        return json_string(v);
    }
}

static json_t *rows_json(PGresult *res)
{
    json_t *arr = json_array();
    int nr = PQntuples(res), nf = PQnfields(res);
    for (int r = 0; r < nr; r++) {
        json_t *o = json_object();
        for (int f = 0; f < nf; f++)
            json_object_set_new(o, PQfname(res, f), cell(res, r, f));
        json_array_append_new(arr, o);
    }
    return arr;
}

sw_status store_query(store_conn *c, json_t **rows, long *affected, const char *sql, int nparams,
                      const char *const *params)
{
    PGresult *res = NULL;
    sw_status st = SW_OK;

    if (rows)
        *rows = NULL;
    if (affected)
        *affected = 0;
    res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQstatus(c->pg) == CONNECTION_BAD && !c->in_tx) {
        /* The server restarted since this pooled connection was last used: reconnect and
         * run the statement once more (outside a transaction nothing else was lost). */
        PQclear(res);
        PQreset(c->pg);
        session_new(c);
        res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    ExecStatusType es = PQresultStatus(res);
    if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
        st = translate(c, res);
        sw_log(st == SW_ECONFLICT ? SW_LOG_DEBUG : SW_LOG_WARN, "query failed", "error", c->error,
               "constraint", c->constraint, NULL);
        goto out;
    }
    if (affected) {
        const char *n = PQcmdTuples(res);
        *affected = (n && *n) ? strtol(n, NULL, 10) : 0;
    }
    if (rows)
        *rows = rows_json(res);
out:
    PQclear(res);
    return st;
}

sw_status store_query_one(store_conn *c, json_t **row, const char *sql, int nparams,
                          const char *const *params)
{
    json_t *rows = NULL;
    *row = NULL;
    sw_status st = store_query(c, &rows, NULL, sql, nparams, params);
    if (st != SW_OK)
        return st;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return SW_ENOTFOUND;
    }
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return SW_OK;
}

sw_status store_exec_script(store_conn *c, const char *sql)
{
    PGresult *res = PQexec(c->pg, sql);
    if (PQstatus(c->pg) == CONNECTION_BAD && !c->in_tx) { /* as in store_query */
        PQclear(res);
        PQreset(c->pg);
        session_new(c);
        res = PQexec(c->pg, sql);
    }
    ExecStatusType es = PQresultStatus(res);
    sw_status st = SW_OK;
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK && es != PGRES_EMPTY_QUERY)
        st = translate(c, res);
    PQclear(res);
    return st;
}

static bool is_prepared(const store_conn *c, const char *name)
{
    for (int i = 0; i < c->nprepared; i++)
        if (c->prepared[i] == name || strcmp(c->prepared[i], name) == 0)
            return true;
    return false;
}

/* Prepares name on this session unless it already is. */
static sw_status prepare(store_conn *c, const char *name, const char *sql, int nparams)
{
    if (is_prepared(c, name))
        return SW_OK;
    if (c->nprepared >= STORE_MAX_PREPARED)
        return SW_EINTERNAL; /* a programming error: raise STORE_MAX_PREPARED */
    if (c->nprepared == 0 && !c->in_tx) {
        /* Keep one plan per statement: with the default, a statement over the partitioned
         * telemetry tables may be planned again on every call. Session-wide, but only named
         * statements (this function's) are affected. */
        sw_status st = store_exec_script(c, "SET plan_cache_mode = force_generic_plan");
        if (st != SW_OK)
            return st;
    }
    PGresult *res = PQprepare(c->pg, name, sql, nparams, NULL);
    sw_status st = PQresultStatus(res) == PGRES_COMMAND_OK ? SW_OK : translate(c, res);
    PQclear(res);
    if (st == SW_OK)
        c->prepared[c->nprepared++] = name;
    else
        sw_log(SW_LOG_WARN, "prepare failed", "statement", name, "error", c->error, NULL);
    return st;
}

struct store_rows {
    PGresult *res;
};

sw_status store_query_prepared(store_conn *c, store_rows **out, const char *name, const char *sql,
                               int nparams, const char *const *params)
{
    PGresult *res = NULL;
    sw_status st;
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        st = prepare(c, name, sql, nparams);
        if (st == SW_OK) {
            res = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
            if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
                break;
        }
        if (PQstatus(c->pg) != CONNECTION_BAD || c->in_tx)
            break;
        /* The server restarted since this pooled connection was last used: a new session
         * (nothing prepared on it), and the statement once more. */
        PQclear(res);
        res = NULL;
        PQreset(c->pg);
        session_new(c);
    }
    if (st == SW_OK && PQresultStatus(res) != PGRES_TUPLES_OK &&
        PQresultStatus(res) != PGRES_COMMAND_OK) {
        st = translate(c, res);
        sw_log(SW_LOG_WARN, "query failed", "statement", name, "error", c->error, NULL);
    }
    if (st != SW_OK) {
        PQclear(res);
        return st;
    }
    store_rows *r = malloc(sizeof(*r));
    if (!r) {
        PQclear(res);
        return SW_EINTERNAL;
    }
    r->res = res;
    *out = r;
    return SW_OK;
}

sw_status store_query_prepared_json(store_conn *c, json_t **rows, const char *name, const char *sql,
                                    int nparams, const char *const *params)
{
    store_rows *r = NULL;
    *rows = NULL;
    sw_status st = store_query_prepared(c, &r, name, sql, nparams, params);
    if (st == SW_OK)
        *rows = rows_json(r->res);
    store_rows_free(r);
    return st;
}

int store_rows_count(const store_rows *r)
{
    return r ? PQntuples(r->res) : 0;
}

const char *store_rows_value(const store_rows *r, int row, int col)
{
    if (!r || row >= PQntuples(r->res) || col >= PQnfields(r->res) || PQgetisnull(r->res, row, col))
        return NULL;
    return PQgetvalue(r->res, row, col);
}

int store_rows_length(const store_rows *r, int row, int col)
{
    return store_rows_value(r, row, col) ? PQgetlength(r->res, row, col) : 0;
}

void store_rows_free(store_rows *r)
{
    if (!r)
        return;
    PQclear(r->res);
    free(r);
}

const char *store_last_constraint(const store_conn *c)
{
    return c->constraint;
}

const char *store_last_error(const store_conn *c)
{
    return c->error;
}

sw_status store_tx_begin(store_conn *c)
{
    sw_status st = store_exec_script(c, "BEGIN");
    c->in_tx = st == SW_OK;
    return st;
}

sw_status store_tx_commit(store_conn *c)
{
    sw_status st = store_exec_script(c, "COMMIT");
    c->in_tx = false;
    return st;
}

void store_tx_rollback(store_conn *c)
{
    store_exec_script(c, "ROLLBACK");
    c->in_tx = false;
}

bool store_schema_name_valid(const char *name)
{
    return sw_tenant_id_valid(name);
}

sw_status store_tx_set_tenant(store_conn *c, const char *tenant_id)
{
    char quoted[64], sql[160];
    sw_status st = store_tenant_schema(c, tenant_id, quoted, sizeof(quoted));
    if (st != SW_OK)
        return st;
    snprintf(sql, sizeof(sql), "SET LOCAL search_path TO %s, public", quoted);
    return store_exec_script(c, sql);
}

/* tenant id -> schema name; a slot is overwritten on a hash collision (it is only a cache). */
#define SCHEMA_CACHE_SLOTS 4096
static struct {
    char tenant[48];
    char schema[48];
} schema_cache[SCHEMA_CACHE_SLOTS];
static pthread_mutex_t schema_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned schema_slot(const char *tenant_id)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const char *c = tenant_id; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return h % SCHEMA_CACHE_SLOTS;
}

sw_status store_tenant_schema(store_conn *c, const char *tenant_id, char *out, size_t len)
{
    json_t *row = NULL;
    char schema[48] = "";
    const char *params[] = {tenant_id};
    sw_status st = SW_OK;

    if (!tenant_id || !*tenant_id || strlen(tenant_id) >= sizeof(schema_cache[0].tenant))
        return SW_EUNAUTH;
    unsigned slot = schema_slot(tenant_id);
    pthread_mutex_lock(&schema_cache_lock);
    if (strcmp(schema_cache[slot].tenant, tenant_id) == 0)
        snprintf(schema, sizeof(schema), "%s", schema_cache[slot].schema);
    pthread_mutex_unlock(&schema_cache_lock);
    if (!schema[0]) {
        st = store_query_one(c, &row, "SELECT schema_name FROM public.tenants WHERE id = $1", 1,
                             params);
        if (st != SW_OK)
            goto out;
        const char *name = json_string_value(json_object_get(row, "schema_name"));
        if (!store_schema_name_valid(name)) {
            st = SW_EINTERNAL;
            goto out;
        }
        snprintf(schema, sizeof(schema), "%s", name);
        pthread_mutex_lock(&schema_cache_lock);
        snprintf(schema_cache[slot].tenant, sizeof(schema_cache[slot].tenant), "%s", tenant_id);
        snprintf(schema_cache[slot].schema, sizeof(schema_cache[slot].schema), "%s", schema);
        pthread_mutex_unlock(&schema_cache_lock);
    }
    /* A valid name is [a-z0-9_] only, so quoting cannot be escaped. */
    if ((size_t)snprintf(out, len, "\"%s\"", schema) >= len)
        st = SW_EINTERNAL;
out:
    json_decref(row);
    return st;
}

void store_tenant_schema_forget(const char *tenant_id)
{
    if (!tenant_id)
        return;
    unsigned slot = schema_slot(tenant_id);
    pthread_mutex_lock(&schema_cache_lock);
    if (strcmp(schema_cache[slot].tenant, tenant_id) == 0)
        schema_cache[slot].tenant[0] = '\0';
    pthread_mutex_unlock(&schema_cache_lock);
}

sw_status store_tx_begin_tenant(store_conn *c, const char *tenant_id)
{
    if (!tenant_id || !*tenant_id)
        return SW_EUNAUTH;
    sw_status st = store_tx_begin(c);
    if (st != SW_OK)
        return st;
    st = store_tx_set_tenant(c, tenant_id);
    if (st != SW_OK)
        store_tx_rollback(c);
    return st;
}
