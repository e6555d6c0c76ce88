/* Revoked sessions: how an access token stops working before it expires. An access token
 * names its session (the refresh-token family, claim "sid") and its user; sw-auth publishes a
 * revocation on stream SW_REVOKED when a session ends early (logout, refresh-token reuse) or
 * when every session of a user ends (a password change), and each edge keeps the revocations
 * of the last access-token lifetime in memory, watching the stream (a startup load of what is
 * retained, then every new one as it is published). The stream keeps a revocation as long as
 * an access token can live (SW_REVOKED_TTL); the edge forgets it after the same time.
 *
 *   subject  sw.v1.revoked.session.<family uuid>   a session's tokens, whatever their age
 *            sw.v1.revoked.user.<user uuid>        tokens of that user issued before `before`
 *   body     {"before": <unix seconds>, "before_ms": <unix ms>}   (the revocation's time;
 *            a user's access tokens issued before before_ms stop: claim "ims" of bus/jwt.h)
 *
 * The encoder and decoder of that message live here (one each). */
#ifndef SW_REVOCATION_H
#define SW_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <nats/nats.h>

#include "bus/status.h"
#include "bus/jwt.h"

#define SW_REVOKED_STREAM "SW_REVOKED"
#define SW_REVOKED_SUBJECTS "sw.v1.revoked.>"
/* An access token lives SW_JWT_ACCESS_TTL, plus the clock skew verification tolerates. */
#define SW_REVOKED_TTL (SW_JWT_ACCESS_TTL + 60)

typedef enum sw_revocation_kind {
    SW_REVOKE_SESSION,
    SW_REVOKE_USER,
} sw_revocation_kind;

typedef struct sw_revocation {
    sw_revocation_kind kind;
    char id[40];    /* a family or user uuid */
    int64_t before;    /* unix seconds */
    int64_t before_ms; /* the same in milliseconds (0 when the message had none) */
} sw_revocation;

/* The subject and body of a revocation. false when id is not a uuid. *body owned. */
bool sw_revocation_encode(char *subject, size_t len, json_t **body, const sw_revocation *r);
/* Reads a message of stream SW_REVOKED; false when it is not one. */
bool sw_revocation_decode(sw_revocation *out, const char *subject, const char *data, int len);

/* ------------------------------------------------------------------ the edge's cache */

typedef struct sw_revoked_set sw_revoked_set;

/* *out owned (sw_revoked_set_free, which accepts NULL). */
sw_status sw_revoked_set_new(sw_revoked_set **out);
void sw_revoked_set_free(sw_revoked_set *s);

/* Records a revocation seen at now (seconds); it is forgotten SW_REVOKED_TTL after `before`. */
void sw_revoked_set_add(sw_revoked_set *s, const sw_revocation *r, int64_t now);

/* Whether verified claims belong to a revoked session, or to a user whose tokens issued
 * before a cut-off were revoked. The hot path of every authenticated request: one load
 * while nothing is revoked, else a read lock and at most two hash lookups. */
bool sw_revoked_set_check(sw_revoked_set *s, const sw_jwt_claims *c, int64_t now);

/* Watches stream SW_REVOKED (an ordered consumer from its first retained message) into s,
 * and waits up to wait_ms for what the stream held at start to be loaded. The subscription
 * lives until *sub is destroyed (natsSubscription_Destroy); s must outlive it. */
sw_status sw_revoked_set_watch(natsSubscription **sub, sw_revoked_set *s, jsCtx *js, int wait_ms);

#endif
