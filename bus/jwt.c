/* HS256 access tokens with constant-time verification; see jwt.h. */
#include "bus/jwt.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#include "bus/clock.h"
#include "bus/ids.h"

#define SKEW 30 /* seconds of clock difference tolerated for iat / nbf */

void sw_jwt_derive_key(unsigned char key[SW_JWT_KEY_BYTES], const char *secret)
{
    static const char label[] = "statuswatch/jwt/access/v1";
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, secret ? strlen(secret) : 0);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
    crypto_auth_hmacsha256_final(&st, key);
    sodium_memzero(&st, sizeof(st));
}

sw_status sw_jwt_issue(char **token, sw_jwt_claims *c, const unsigned char key[SW_JWT_KEY_BYTES],
                       int64_t now)
{
    jwt_t *jwt = NULL;
    unsigned char rnd[16];
    sw_status st = SW_EINTERNAL;

    *token = NULL;
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(c->jti, sizeof(c->jti), rnd, sizeof(rnd));
    c->iat = now;
    c->iat_ms = sw_epoch_ms();
    if (c->iat_ms / 1000 != now)
        c->iat_ms = now * 1000;
    c->exp = now + SW_JWT_ACCESS_TTL;
    if (jwt_new(&jwt) != 0)
        return SW_EINTERNAL;
    if (jwt_add_grant(jwt, "iss", SW_JWT_ISSUER) || jwt_add_grant(jwt, "aud", SW_JWT_AUDIENCE) ||
        jwt_add_grant(jwt, "typ", "access") || jwt_add_grant(jwt, "tid", c->tenant) ||
        jwt_add_grant(jwt, "sub", c->user) || jwt_add_grant(jwt, "role", c->role) ||
        jwt_add_grant(jwt, "jti", c->jti) || (c->sid[0] && jwt_add_grant(jwt, "sid", c->sid)) ||
        jwt_add_grant_int(jwt, "iat", (long)now) || jwt_add_grant_int(jwt, "nbf", (long)now) ||
        jwt_add_grant_int(jwt, "ims", (long)c->iat_ms) ||
        jwt_add_grant_int(jwt, "exp", (long)c->exp) ||
        jwt_set_alg(jwt, JWT_ALG_HS256, key, SW_JWT_KEY_BYTES))
        goto out;
    *token = jwt_encode_str(jwt);
    if (*token)
        st = SW_OK;
out:
    jwt_free(jwt);
    return st;
}

/* Decodes one base64url segment (no padding) into out; returns the length or -1. */
static long b64url_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
    size_t n = 0;
    if (sodium_base642bin(out, cap, in, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    return (long)n;
}

static int claim_str(json_t *claims, const char *name, char *out, size_t len)
{
    const char *v = json_string_value(json_object_get(claims, name));
    if (!v || !*v || strlen(v) >= len)
        return -1;
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int claim_int(json_t *claims, const char *name, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

/* Tokens already decoded and checked (steps 3 and 4 below), by their MAC: a client sends the
 * same access token for 15 minutes, and libjwt's decode plus the claims' JSON are most of the
 * cost of a verification. Consulted only after the token's HMAC has been verified (step 2), and
 * an entry is used only for the very same token text, so it never stands in for a check: what
 * it skips is deterministic for a given token, and the time checks run again on every call. A
 * slot is overwritten on collision (it is only a cache). */
#define VERIFIED_SLOTS 1024
#define VERIFIED_TOKEN_MAX 1024 /* longer tokens are not cached */
static struct {
    size_t len;
    char token[VERIFIED_TOKEN_MAX];
    sw_jwt_claims claims;
    int64_t nbf;
} verified[VERIFIED_SLOTS];
static pthread_mutex_t verified_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned verified_slot(const unsigned char *mac)
{
    return ((unsigned)mac[0] | (unsigned)mac[1] << 8) % VERIFIED_SLOTS;
}

static bool verified_get(const unsigned char *mac, const char *token, size_t len, sw_jwt_claims *c,
                         int64_t *nbf)
{
    bool hit = false;
    if (len >= VERIFIED_TOKEN_MAX)
        return false;
    unsigned k = verified_slot(mac);
    pthread_mutex_lock(&verified_lock);
    if (verified[k].len == len && memcmp(verified[k].token, token, len) == 0) {
        *c = verified[k].claims;
        *nbf = verified[k].nbf;
        hit = true;
    }
    pthread_mutex_unlock(&verified_lock);
    return hit;
}

static void verified_put(const unsigned char *mac, const char *token, size_t len,
                         const sw_jwt_claims *c, int64_t nbf)
{
    if (len >= VERIFIED_TOKEN_MAX)
        return;
    unsigned k = verified_slot(mac);
    pthread_mutex_lock(&verified_lock);
    memcpy(verified[k].token, token, len);
    verified[k].len = len;
    verified[k].claims = *c;
    verified[k].nbf = nbf;
    pthread_mutex_unlock(&verified_lock);
}

/* The checks that depend on the time: run on every verification, cached or not. */
static bool times_valid(const sw_jwt_claims *c, int64_t nbf, int64_t now)
{
    return !(c->exp <= now || c->iat > now + SKEW || nbf > now + SKEW ||
             c->exp - c->iat > SW_JWT_ACCESS_TTL);
}

sw_status sw_jwt_verify(sw_jwt_claims *out, const char *token,
                        const unsigned char key[SW_JWT_KEY_BYTES], int64_t now)
{
    unsigned char buf[SW_JWT_MAX_LEN];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state hs;
    json_t *header = NULL, *claims = NULL;
    jwt_t *jwt = NULL;
    char *grants = NULL;
    sw_jwt_claims c;
    sw_status st = SW_EUNAUTH;
    int64_t nbf = 0;

    memset(&c, 0, sizeof(c));
    if (!token)
        return SW_EUNAUTH;
    size_t len = strlen(token);
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (len > SW_JWT_MAX_LEN || !dot1 || !dot2 || memchr(dot2 + 1, '.', strlen(dot2 + 1)))
        goto out;

    /* 1. Recompute the HMAC over "header.payload" and compare in constant time. */
    long sn = b64url_decode(buf, sizeof(buf), dot2 + 1, strlen(dot2 + 1));
    if (sn != crypto_auth_hmacsha256_BYTES)
        goto out;
    crypto_auth_hmacsha256_init(&hs, key, SW_JWT_KEY_BYTES);
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)token, (size_t)(dot2 - token));
    crypto_auth_hmacsha256_final(&hs, mac);
    if (sodium_memcmp(mac, buf, sizeof(mac)) != 0)
        goto out;
    if (verified_get(mac, token, len, &c, &nbf)) {
        if (times_valid(&c, nbf, now)) {
            *out = c;
            st = SW_OK;
        }
        goto out;
    }

    /* 2. The header must pin HS256 (no "none", no other alg, no key hints). (Checked after
     * the HMAC, which is ours whatever the header says, so that a known token skips it.) */
    long hn = b64url_decode(buf, sizeof(buf) - 1, token, (size_t)(dot1 - token));
    if (hn <= 0)
        goto out;
    header = json_loadb((const char *)buf, (size_t)hn, 0, NULL);
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *typ = json_string_value(json_object_get(header, "typ"));
    if (!json_is_object(header) || !alg || strcmp(alg, "HS256") != 0 ||
        (typ && strcmp(typ, "JWT") != 0) || json_object_get(header, "kid") ||
        json_object_get(header, "jku") || json_object_get(header, "crit"))
        goto out;

    /* 3. Only now let libjwt decode it, and check the alg it saw. */
    if (jwt_decode(&jwt, token, key, SW_JWT_KEY_BYTES) != 0 || jwt_get_alg(jwt) != JWT_ALG_HS256)
        goto out;
    grants = jwt_get_grants_json(jwt, NULL);
    claims = grants ? json_loads(grants, 0, NULL) : NULL;
    if (!json_is_object(claims))
        goto out;

    /* 4. Every claim. */
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *aud = json_string_value(json_object_get(claims, "aud"));
    const char *kind = json_string_value(json_object_get(claims, "typ"));
    if (!iss || strcmp(iss, SW_JWT_ISSUER) != 0 || !aud || strcmp(aud, SW_JWT_AUDIENCE) != 0 ||
        !kind || strcmp(kind, "access") != 0)
        goto out;
    if (claim_int(claims, "exp", &c.exp) || claim_int(claims, "iat", &c.iat) ||
        claim_str(claims, "tid", c.tenant, sizeof(c.tenant)) ||
        claim_str(claims, "sub", c.user, sizeof(c.user)) ||
        claim_str(claims, "role", c.role, sizeof(c.role)) ||
        claim_str(claims, "jti", c.jti, sizeof(c.jti)))
        goto out;
    if (json_object_get(claims, "nbf") && claim_int(claims, "nbf", &nbf))
        goto out;
    if (json_object_get(claims, "sid") && claim_str(claims, "sid", c.sid, sizeof(c.sid)))
        goto out;
    c.iat_ms = c.iat * 1000;
    if (json_object_get(claims, "ims") &&
        (claim_int(claims, "ims", &c.iat_ms) || c.iat_ms / 1000 != c.iat))
        goto out;
    if (!sw_tenant_id_valid(c.tenant))
        goto out;
    if (strcmp(c.role, "owner") != 0 && strcmp(c.role, "admin") != 0 &&
        strcmp(c.role, "member") != 0 && strcmp(c.role, "viewer") != 0)
        goto out;
    /* Everything but the time is now known good for this token text. */
    verified_put(mac, token, len, &c, nbf);
    if (!times_valid(&c, nbf, now))
        goto out;
    *out = c;
    st = SW_OK;
out:
    free(grants);
    jwt_free(jwt);
    json_decref(claims);
    json_decref(header);
    return st;
}
