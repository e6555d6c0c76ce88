/* The edge's cache of public status documents: see status_cache.h. A fixed array of buckets
 * under one read-write lock; the hot path (a fresh hit) takes the read lock and one atomic
 * increment. */
#include "http/status_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define BUCKETS 4096

typedef struct entry {
    struct entry *next;
    char *key;
    edge_status_doc *doc;
    int stale;      /* atomic: invalidated by an event */
    int refreshing; /* atomic: a caller has claimed the refresh */
} entry;

struct edge_status_cache {
    pthread_rwlock_t lock;
    entry *buckets[BUCKETS];
    size_t count, max;
    int64_t ttl_ns;
};

static unsigned long hash(const char *s)
{
    unsigned long h = 1469598103934665603ul;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ul;
    return h;
}

edge_status_doc *edge_status_doc_new(int status, const char *content_type, const char *body,
                                     size_t len, const char *tenant, int64_t now_ns)
{
    unsigned char h[8];
    edge_status_doc *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->body = malloc(len + 1);
    if (!d->body) {
        free(d);
        return NULL;
    }
    memcpy(d->body, body, len);
    d->body[len] = '\0';
    d->len = len;
    d->status = status;
    snprintf(d->content_type, sizeof(d->content_type), "%s", content_type);
    snprintf(d->tenant, sizeof(d->tenant), "%s", tenant ? tenant : "");
    crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
    char hex[17];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(d->etag, sizeof(d->etag), "\"%s\"", hex);
    d->made_ns = now_ns;
    d->refs = 1;
    return d;
}

void edge_status_doc_release(edge_status_doc *d)
{
    if (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(d->body);
        free(d);
    }
}

sw_status edge_status_cache_new(edge_status_cache **out, size_t max_entries, int64_t ttl_ns)
{
    *out = NULL;
    edge_status_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return SW_EINTERNAL;
    if (pthread_rwlock_init(&c->lock, NULL) != 0) {
        free(c);
        return SW_EINTERNAL;
    }
    c->max = max_entries;
    c->ttl_ns = ttl_ns;
    *out = c;
    return SW_OK;
}

void edge_status_cache_free(edge_status_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (entry *e = c->buckets[i], *next; e; e = next) {
            next = e->next;
            edge_status_doc_release(e->doc);
            free(e->key);
            free(e);
        }
    }
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

static entry *find(edge_status_cache *c, const char *key, unsigned long h)
{
    for (entry *e = c->buckets[h % BUCKETS]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

edge_status_doc *edge_status_cache_get(edge_status_cache *c, const char *key, int64_t now_ns,
                                       bool *fresh, bool *claimed)
{
    edge_status_doc *d = NULL;
    *fresh = false;
    *claimed = false;
    unsigned long h = hash(key);
    pthread_rwlock_rdlock(&c->lock);
    entry *e = find(c, key, h);
    if (e && e->doc) {
        d = e->doc;
        __atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
        *fresh = now_ns - d->made_ns < c->ttl_ns && !__atomic_load_n(&e->stale, __ATOMIC_ACQUIRE);
        if (!*fresh) {
            int zero = 0;
            *claimed = __atomic_compare_exchange_n(&e->refreshing, &zero, 1, false,
                                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return d;
}

void edge_status_cache_put(edge_status_cache *c, const char *key, edge_status_doc *doc)
{
    unsigned long h = hash(key);
    pthread_rwlock_wrlock(&c->lock);
    entry *e = find(c, key, h);
    if (!e && c->count < c->max) {
        e = calloc(1, sizeof(*e));
        if (e && !(e->key = strdup(key))) {
            free(e);
            e = NULL;
        }
        if (e) {
            e->next = c->buckets[h % BUCKETS];
            c->buckets[h % BUCKETS] = e;
            c->count++;
        }
    }
    if (e) {
        edge_status_doc *old = e->doc;
        e->doc = doc;
        doc = old;
        __atomic_store_n(&e->stale, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e->refreshing, 0, __ATOMIC_RELEASE);
    }
    pthread_rwlock_unlock(&c->lock);
    edge_status_doc_release(doc);
}

void edge_status_cache_abandon(edge_status_cache *c, const char *key)
{
    pthread_rwlock_rdlock(&c->lock);
    entry *e = find(c, key, hash(key));
    if (e)
        __atomic_store_n(&e->refreshing, 0, __ATOMIC_RELEASE);
    pthread_rwlock_unlock(&c->lock);
}

size_t edge_status_cache_invalidate(edge_status_cache *c, const char *tenant)
{
    size_t n = 0;
    pthread_rwlock_rdlock(&c->lock);
    for (size_t i = 0; i < BUCKETS; i++) {
        for (entry *e = c->buckets[i]; e; e = e->next) {
            if (e->doc && (e->doc->tenant[0] == '\0' || strcmp(e->doc->tenant, tenant) == 0)) {
                __atomic_store_n(&e->stale, 1, __ATOMIC_RELEASE);
                n++;
            }
        }
    }
    pthread_rwlock_unlock(&c->lock);
    return n;
}

size_t edge_status_cache_count(edge_status_cache *c)
{
    pthread_rwlock_rdlock(&c->lock);
    size_t n = c->count;
    pthread_rwlock_unlock(&c->lock);
    return n;
}

static bool uuid_lower(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

bool edge_status_path(const char *path, char *slug, size_t slug_len, char *rest, size_t rest_len)
{
    static const char *docs[] = {"api/v2/summary.json",
                                 "api/v2/status.json",
                                 "api/v2/components.json",
                                 "api/v2/incidents.json",
                                 "api/v2/incidents/unresolved.json",
                                 "api/v2/scheduled-maintenances.json"};
    static const char *badges[] = {"status.svg",     "uptime-24h.svg", "uptime-7d.svg",
                                   "uptime-30d.svg", "uptime-90d.svg", "response-time.svg",
                                   "shields.json"};
    size_t n = strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (n < 3 || n > 63 || n >= slug_len || (path[n] != '/' && path[n] != '\0'))
        return false;
    const char *r = path[n] == '/' ? path + n + 1 : path + n;
    bool ok = *r == '\0';
    for (size_t i = 0; !ok && i < sizeof(docs) / sizeof(docs[0]); i++)
        ok = strcmp(r, docs[i]) == 0;
    if (!ok && strncmp(r, "badge/", 6) == 0 && strlen(r) > 43 && uuid_lower(r + 6, 36) &&
        r[42] == '/') {
        for (size_t i = 0; !ok && i < sizeof(badges) / sizeof(badges[0]); i++)
            ok = strcmp(r + 43, badges[i]) == 0;
    }
    if (!ok || strlen(r) >= rest_len)
        return false;
    memcpy(slug, path, n);
    slug[n] = '\0';
    snprintf(rest, rest_len, "%s", r);
    return true;
}
