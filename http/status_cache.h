/* The edge's cache of public status-page documents (issue 20): a status page gets a crowd at
 * the worst moment, so the edge answers it from memory. Entries are keyed by "<slug>/<path>"
 * and hold the rendered document sw-endpoints sent (status, type, body, a strong ETag) and the
 * tenant it belongs to. An entry is fresh for the cache's TTL; the edge also marks a tenant's
 * entries stale when an endpoint or status-page event of that tenant arrives, so a change shows
 * within moments, and at the latest after the TTL. A stale entry keeps being served while ONE
 * request (the one that claimed it) asks sw-endpoints for the new version, so a crowd never
 * turns into a crowd of bus requests, and an actor that cannot answer leaves the last good
 * version in place. No database, no I/O: tested in tests/unit/test_status_cache.c. */
#ifndef SW_EDGE_STATUS_CACHE_H
#define SW_EDGE_STATUS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/status.h"

typedef struct edge_status_cache edge_status_cache;

/* One rendered document; immutable once made, shared by reference. */
typedef struct edge_status_doc {
    int status; /* 200, 404 */
    char content_type[64];
    char etag[24];   /* "\"<16 hex>\"" of the body */
    char tenant[48]; /* "" for an unknown slug */
    char *body;      /* owned */
    size_t len;
    int64_t made_ns; /* when it was rendered (monotonic clock) */
    int refs;        /* atomic */
} edge_status_doc;

/* A new document; body is copied. Returns NULL on allocation failure. refs = 1. */
edge_status_doc *edge_status_doc_new(int status, const char *content_type, const char *body,
                                     size_t len, const char *tenant, int64_t now_ns);
void edge_status_doc_release(edge_status_doc *d); /* accepts NULL */

/* max_entries: more keys than this are not cached (served uncached). ttl_ns: freshness.
 * *out: owned (edge_status_cache_free). */
sw_status edge_status_cache_new(edge_status_cache **out, size_t max_entries, int64_t ttl_ns);
void edge_status_cache_free(edge_status_cache *c);

/* The document of key, held for the caller (release it), or NULL. *fresh: within the TTL and
 * not invalidated. *claimed: the document is stale and this caller is the one to refresh it
 * (edge_status_cache_put or edge_status_cache_abandon must follow); for a key with no document
 * every caller fetches and *claimed is false. */
edge_status_doc *edge_status_cache_get(edge_status_cache *c, const char *key, int64_t now_ns,
                                       bool *fresh, bool *claimed);
/* Stores doc under key (takes ownership, even when it is not stored) and ends a claim. */
void edge_status_cache_put(edge_status_cache *c, const char *key, edge_status_doc *doc);
/* Ends a claim without a new document (the actor did not answer): the old one stays. */
void edge_status_cache_abandon(edge_status_cache *c, const char *key);
/* Marks every document of tenant stale, and those of unknown slugs ("": a new page may have
 * taken one). Returns how many were marked. */
size_t edge_status_cache_invalidate(edge_status_cache *c, const char *tenant);
size_t edge_status_cache_count(edge_status_cache *c);

/* Whether path (what follows "/status/", e.g. "acme/api/v2/summary.json") names a public
 * document: a slug of 3-63 [a-z0-9-], then nothing, "/", or one of the documents ("api/v2/…",
 * "badge/<uuid>/<file>"). Writes the slug and the rest ("" for the page) when it does. */
bool edge_status_path(const char *path, char *slug, size_t slug_len, char *rest, size_t rest_len);

#endif
