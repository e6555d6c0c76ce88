/* The read model of sw-endpoints: each tenant's endpoints in memory, as the API fields of the
 * table (endpoints_fields()), so that a list or a single read costs one prepared statement
 * (the live state of the rows on the page, and the tenant's version) instead of parsing and
 * planning a statement on the tenant's schema.
 *
 * Exactness: public.endpoint_versions holds a version per tenant schema that every statement
 * writing the schema's endpoints moves, in the writer's transaction (a trigger; see
 * schema/public/0014_endpoint_versions.sql). A snapshot is loaded with its version in one
 * statement (one MVCC snapshot), and every read compares it with the version its own statement
 * saw: a different one means the table changed, and the reader loads it again. So a read never
 * answers from rows older than what was committed when its statement ran, whichever instance
 * or tool wrote them, and nothing has to be told to invalidate anything.
 *
 * Memory: at most CACHE_SLOTS tenants (a slot is overwritten on a hash collision) and about
 * CACHE_ROWS rows in all; a tenant with more than CACHE_ROWS / 4 endpoints is read from its
 * snapshot but not kept. Snapshots are immutable and reference-counted, so readers never wait
 * for a load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/endpoints/endpoints.h"
#include "bus/log.h"

#define CACHE_SLOTS 4096
#define CACHE_ROWS 200000

static struct {
    pthread_mutex_t lock;
    endpoints_snapshot *slot[CACHE_SLOTS];
    size_t rows;   /* in the slots */
    unsigned hand; /* the next slot eviction looks at */
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static unsigned slot_of(const char *tenant)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const char *c = tenant; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return h % CACHE_SLOTS;
}

static void snapshot_free(endpoints_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i].json);
    free(s->rows);
    free(s->by_id);
    free(s);
}

/* Called with cache.lock held. */
static void unref_locked(endpoints_snapshot *s)
{
    if (s && --s->refs == 0)
        snapshot_free(s);
}

void endpoints_snapshot_release(endpoints_snapshot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&cache.lock);
    unref_locked(s);
    pthread_mutex_unlock(&cache.lock);
}

static const endpoints_snapshot *sort_ctx; /* qsort has no context argument */
static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp(sort_ctx->rows[*(const size_t *)a].id, sort_ctx->rows[*(const size_t *)b].id);
}

const endpoints_row *endpoints_snapshot_find(const endpoints_snapshot *s, const char *id)
{
    size_t lo = 0, hi = s ? s->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->rows[s->by_id[mid]].id, id);
        if (c == 0)
            return &s->rows[s->by_id[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Loads the tenant's endpoints and their version in one statement. *out: one reference. */
static sw_status load(store_conn *c, const char *tenant, endpoints_snapshot **out)
{
    char quoted[64], sql[2048];
    json_t *rows = NULL;
    endpoints_snapshot *s = NULL;
    *out = NULL;
    sw_status st = store_tenant_schema(c, tenant, quoted, sizeof(quoted));
    if (st != SW_OK)
        return st;
    s = calloc(1, sizeof(*s));
    if (!s)
        return SW_EINTERNAL;
    s->refs = 1;
    snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
    /* The quoted name is "t_…" of [a-z0-9_] (store_tenant_schema): strip the quotes. */
    snprintf(s->schema, sizeof(s->schema), "%.*s", (int)strlen(quoted) - 2, quoted + 1);
    /* The version and the rows in one statement: one snapshot of both. An empty table still
     * gives one row (the version, a NULL id). */
    snprintf(sql, sizeof(sql),
             "SELECT v.version AS sw_version, e.* FROM (SELECT coalesce((SELECT version FROM"
             " public.endpoint_versions WHERE schema_name = $1), 0) AS version) v"
             " LEFT JOIN LATERAL (SELECT %s, e.created_at AS sw_sort FROM %s.endpoints e) e"
             " ON true ORDER BY e.sw_sort, e.id",
             endpoints_fields(), quoted);
    const char *p[] = {s->schema};
    st = store_query(c, &rows, NULL, sql, 1, p);
    if (st != SW_OK || json_array_size(rows) == 0) {
        store_tenant_schema_forget(tenant); /* in case the schema is gone */
        st = st != SW_OK ? st : SW_EINTERNAL;
        goto out;
    }
    size_t n = json_array_size(rows);
    s->rows = calloc(n, sizeof(*s->rows));
    s->by_id = calloc(n, sizeof(*s->by_id));
    if (!s->rows || !s->by_id) {
        st = SW_EINTERNAL;
        goto out;
    }
    s->version =
        (long long)json_integer_value(json_object_get(json_array_get(rows, 0), "sw_version"));
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (!id)
            continue; /* the row of an empty table */
        json_object_del(r, "sw_version");
        json_object_del(r, "sw_sort");
        endpoints_row *row = &s->rows[s->n];
        snprintf(row->id, sizeof(row->id), "%s", id);
        row->paused = json_is_true(json_object_get(r, "paused"));
        endpoints_heartbeat_shape_cached(r, row->ping_key, sizeof(row->ping_key));
        row->json = json_dumps(r, JSON_COMPACT);
        if (!row->json) {
            st = SW_EINTERNAL;
            goto out;
        }
        row->len = strlen(row->json) - 1; /* without the closing brace */
        s->by_id[s->n] = s->n;
        s->n++;
    }
    pthread_mutex_lock(&sort_lock);
    sort_ctx = s;
    qsort(s->by_id, s->n, sizeof(*s->by_id), by_id_cmp);
    sort_ctx = NULL;
    pthread_mutex_unlock(&sort_lock);
    *out = s;
    s = NULL;
    st = SW_OK;
out:
    json_decref(rows);
    snapshot_free(s);
    return st;
}

/* Keeps s in its tenant's slot (a newer version, or the slot is another tenant's or empty),
 * then evicts other slots while the rows are over budget. */
static void install(endpoints_snapshot *s)
{
    if (s->n > CACHE_ROWS / 4)
        return; /* too big to keep: served from this snapshot, loaded again next time */
    unsigned k = slot_of(s->tenant);
    pthread_mutex_lock(&cache.lock);
    endpoints_snapshot *old = cache.slot[k];
    if (old && strcmp(old->tenant, s->tenant) == 0 && old->version >= s->version) {
        pthread_mutex_unlock(&cache.lock);
        return;
    }
    if (old) {
        cache.rows -= old->n;
        unref_locked(old);
    }
    s->refs++;
    cache.slot[k] = s;
    cache.rows += s->n;
    for (unsigned tries = 0; cache.rows > CACHE_ROWS && tries < CACHE_SLOTS; tries++) {
        unsigned j = cache.hand++ % CACHE_SLOTS;
        if (j == k || !cache.slot[j])
            continue;
        cache.rows -= cache.slot[j]->n;
        unref_locked(cache.slot[j]);
        cache.slot[j] = NULL;
    }
    pthread_mutex_unlock(&cache.lock);
}

sw_status endpoints_snapshot_get(store_conn *c, const char *tenant, bool reload,
                                 endpoints_snapshot **out)
{
    *out = NULL;
    if (!tenant || !*tenant || strlen(tenant) >= sizeof((*out)->tenant))
        return SW_EUNAUTH;
    if (!reload) {
        unsigned k = slot_of(tenant);
        pthread_mutex_lock(&cache.lock);
        endpoints_snapshot *s = cache.slot[k];
        if (s && strcmp(s->tenant, tenant) == 0) {
            s->refs++;
            *out = s;
        }
        pthread_mutex_unlock(&cache.lock);
        if (*out)
            return SW_OK;
    }
    sw_status st = load(c, tenant, out);
    if (st == SW_OK)
        install(*out);
    return st;
}
