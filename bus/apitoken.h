/* API tokens (issue 21): how the edge accepts "Authorization: Bearer swt_..." without asking
 * the database. sw-auth creates a token (32 random bytes, "swt_" + base64url), stores only its
 * SHA-256 in the tenant's api_tokens table, and publishes the token's record on stream
 * SW_API_TOKENS, which keeps the last message of each subject; a revocation publishes the same
 * subject again with "revoked": true. Every edge watches the stream (a startup load of what is
 * retained, then each new message as it is published) into an in-memory table keyed by the
 * hash, so a request costs one SHA-256 and one lookup, and a revoked token stops working as
 * soon as its message arrives (milliseconds); an expired one at its expires_at.
 *
 *   subject  sw.v1.apitokens.<tenant>.<token uuid>
 *   body     {"hash": "<sha-256 hex>", "user": "<creator uuid>", "role": "member",
 *             "expires_at": <unix seconds, 0: never>, "revoked": false}
 *
 * The encoder and decoder of that message live here (one each). The hash is of a 256-bit
 * random value, so it cannot be turned back into the token. */
#ifndef SW_APITOKEN_H
#define SW_APITOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <nats/nats.h>

#include "bus/contract.h"
#include "bus/status.h"

#define SW_APITOKENS_STREAM BUS_STREAM_API_TOKENS
#define SW_APITOKENS_SUBJECTS BUS_SUBJ_API_TOKENS
#define SW_APITOKEN_PREFIX "swt_"
/* "swt_" + 43 base64url characters (32 bytes, no padding). */
#define SW_APITOKEN_LEN 47
#define SW_APITOKEN_HASH_BYTES 32

typedef struct sw_apitoken {
    char id[40];     /* the token's uuid (api_tokens.id) */
    char tenant[48]; /* the tenant id */
    char user[40];   /* who created it: requests made with it act as this user */
    char role[16];   /* owner|admin|member|viewer, at most the creator's */
    unsigned char hash[SW_APITOKEN_HASH_BYTES];
    int64_t expires_at; /* unix seconds; 0: never */
    bool revoked;
} sw_apitoken;

/* A new token into out (SW_APITOKEN_LEN + 1 bytes) and its hash. */
void sw_apitoken_generate(char out[SW_APITOKEN_LEN + 1],
                          unsigned char hash[SW_APITOKEN_HASH_BYTES]);
/* True when token has the shape of an API token ("swt_" + 43 base64url characters). */
bool sw_apitoken_shaped(const char *token);
void sw_apitoken_hash(unsigned char out[SW_APITOKEN_HASH_BYTES], const char *token);

/* The subject and body of a token's record. false when an id is malformed. *body owned. */
bool sw_apitoken_encode(char *subject, size_t len, json_t **body, const sw_apitoken *t);
/* Reads a message of stream SW_API_TOKENS; false when it is not one. */
bool sw_apitoken_decode(sw_apitoken *out, const char *subject, const char *data, int len);

/* ------------------------------------------------------------------ the edge's table */

typedef struct sw_apitoken_set sw_apitoken_set;

/* *out owned (sw_apitoken_set_free, which accepts NULL). */
sw_status sw_apitoken_set_new(sw_apitoken_set **out);
void sw_apitoken_set_free(sw_apitoken_set *s);
/* Records a token's latest record: a revoked one is dropped from the table. */
void sw_apitoken_set_put(sw_apitoken_set *s, const sw_apitoken *t);
/* The hot path: true with *out filled when token is a known, unrevoked token that has not
 * expired at now (seconds). *report_use is set true at most once a minute per token (the edge
 * then tells sw-auth it was used, for the list's "last used"). */
bool sw_apitoken_set_check(sw_apitoken_set *s, const char *token, int64_t now, sw_apitoken *out,
                           bool *report_use);
/* How many tokens the table holds. */
size_t sw_apitoken_set_count(sw_apitoken_set *s);

/* Watches stream SW_API_TOKENS (an ordered consumer from its first retained message) into s,
 * waiting up to wait_ms for what the stream held at start to be loaded. The subscription
 * lives until *sub is destroyed; s must outlive it. */
sw_status sw_apitoken_set_watch(natsSubscription **sub, sw_apitoken_set *s, jsCtx *js,
                                int wait_ms);

#endif
