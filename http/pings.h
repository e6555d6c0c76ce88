/* The edge's half of heartbeat monitors: the public ping routes (/ping/<uuid>[/start|/fail|
 * /<exit status>]), the in-memory map from a ping key to its tenant and endpoint (the edge holds
 * no database: it watches stream SW_PING_KEYS, which sw-endpoints fills), and the per-check
 * rate limit. The map is keyed by the hash of the uuid (bus_ping_key_hash), so the secret is
 * never kept or compared in clear. */
#ifndef SW_EDGE_PINGS_H
#define SW_EDGE_PINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>

#include "bus/contract.h"
#include "bus/messages.h"
#include "bus/status.h"

#define EDGE_PING_PREFIX "/ping/"

/* Reads a ping path: "/ping/<uuid>" (kind "success"), ".../start", ".../fail" or ".../<n>"
 * with n 0-255 (0: "success", else "fail", *exit_status n); a trailing slash is allowed. uuid:
 * the canonical lowercase form. False for anything else (404). *kind: a static string. */
bool edge_ping_path(const char *path, char uuid[BUS_UUID_LEN + 1], const char **kind,
                    int *exit_status);

/* Makes buf[0..len) valid UTF-8 without NUL bytes in place (each offending byte becomes '?');
 * a sequence cut at the end is dropped. Returns the new length. */
size_t edge_utf8_clean(char *buf, size_t len);

typedef struct edge_ping_keys edge_ping_keys;

/* *out owned (edge_ping_keys_free, which accepts NULL). */
sw_status edge_ping_keys_new(edge_ping_keys **out);
void edge_ping_keys_free(edge_ping_keys *k);
/* Records (or, when k->removed, forgets) one key. */
void edge_ping_keys_apply(edge_ping_keys *keys, const bus_ping_key *k);

typedef enum edge_ping_verdict {
    EDGE_PING_OK,
    EDGE_PING_UNKNOWN, /* no endpoint has this key */
    EDGE_PING_LIMITED, /* more than BUS_PING_RATE_PER_S pings in this second */
} edge_ping_verdict;

/* Looks up the key of uuid and counts one ping at now_s against its limit; on EDGE_PING_OK
 * (and EDGE_PING_LIMITED) copies the tenant and endpoint. Read lock and one atomic add. */
edge_ping_verdict edge_ping_keys_take(edge_ping_keys *keys, const char *uuid, int64_t now_s,
                                      char tenant[BUS_TENANT_MAX], char endpoint[BUS_UUID_LEN + 1]);

/* Watches stream SW_PING_KEYS (an ordered consumer, the last message of every key first) into
 * keys, waiting up to wait_ms for what the stream held at start. The subscription lives until
 * *sub is destroyed; keys must outlive it. */
sw_status edge_ping_keys_watch(natsSubscription **sub, edge_ping_keys *keys, jsCtx *js,
                               int wait_ms);

#endif
