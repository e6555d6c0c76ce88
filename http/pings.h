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
/* The same at now_ms, and *received_at_ms: the time to record for an accepted ping, now_ms or,
 * when this key's previous ping got that or a later one, a millisecond after it (so the pings of
 * one check are strictly ordered). */
edge_ping_verdict edge_ping_keys_take_at(edge_ping_keys *keys, const char *uuid, int64_t now_ms,
                                         char tenant[BUS_TENANT_MAX],
                                         char endpoint[BUS_UUID_LEN + 1], int64_t *received_at_ms);

/* Watches stream SW_PING_KEYS (an ordered consumer, the last message of every key first) into
 * keys, waiting up to wait_ms for what the stream held at start. The subscription lives until
 * *sub is destroyed; keys must outlive it. */
sw_status edge_ping_keys_watch(natsSubscription **sub, edge_ping_keys *keys, jsCtx *js,
                               int wait_ms);

/* ------------------------------------------------------------------ the publisher */

/* Pings go to JetStream asynchronously (stream SW_PINGS): a ping is answered 200 once it is in
 * the publisher's window, which nats.c holds until JetStream acknowledges it; a publish that
 * fails or is not acknowledged within ack_wait_ms is published again, with the same
 * Nats-Msg-Id (a repeat is dropped by the stream, and by the recorder on the ping id), until it
 * is stored. The window is bounded: when max_pending pings wait for JetStream, a new one waits up
 * to stall_ms for room and is otherwise refused (503), so no ping is ever answered 200 that the
 * edge does not hold. edge_ping_pub_drain at shutdown waits for every held ping to be stored. */
typedef struct edge_ping_pub edge_ping_pub;

/* *out owned (edge_ping_pub_free). nc: borrowed, must outlive it. */
sw_status edge_ping_pub_new(edge_ping_pub **out, natsConnection *nc, int max_pending,
                            int ack_wait_ms, int stall_ms);
/* Hands one ping (data: its JSON) to JetStream. SW_OK: held until stored; SW_EUNAVAILABLE: not
 * connected, or the window is full (nothing is held). */
sw_status edge_ping_pub_send(edge_ping_pub *p, const char *subject, const char *data, int len,
                             const char *msg_id, const char *request_id);
/* Pings held and not yet stored (in flight and waiting to be published again). */
int edge_ping_pub_pending(edge_ping_pub *p);
/* Waits up to wait_ms until every held ping is stored; returns how many are still held. */
int edge_ping_pub_drain(edge_ping_pub *p, int wait_ms);
void edge_ping_pub_free(edge_ping_pub *p); /* accepts NULL; drops what is still held */

#endif
