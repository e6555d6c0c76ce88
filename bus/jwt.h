/* Access tokens (DESIGN §5): HS256 JWTs with iss, aud, exp, iat, nbf, jti, tid (tenant),
 * sub (user), role and typ "access", valid 15 minutes. The signing key is derived from
 * SECRET_KEY so the secret itself signs nothing directly.
 *
 * Verification trusts nothing libjwt 1.10 does on its own: the header must say exactly
 * {"alg":"HS256"}, the HMAC is recomputed and compared in constant time with libsodium, and
 * only then is the token decoded (and its alg checked again) and every claim validated. */
#ifndef SW_JWT_H
#define SW_JWT_H

#include <stdint.h>

#include "bus/ids.h"
#include "bus/status.h"

#define SW_JWT_ISSUER "statuswatch"
#define SW_JWT_AUDIENCE "statuswatch-api"
#define SW_JWT_ACCESS_TTL 900 /* seconds */
#define SW_JWT_KEY_BYTES 32
#define SW_JWT_MAX_LEN 4096

typedef struct sw_jwt_claims {
    char tenant[SW_TENANT_ID_MAX];
    char user[48];
    char role[16];
    char jti[40];
    char sid[40]; /* the session (refresh-token family) it belongs to; "" when none */
    int64_t iat;
    int64_t iat_ms; /* claim "ims": iat in milliseconds, so a revocation "before" a moment
                       cuts between tokens issued within the same second */
    int64_t exp;
} sw_jwt_claims;

/* Derives the signing key from the service secret. */
void sw_jwt_derive_key(unsigned char key[SW_JWT_KEY_BYTES], const char *secret);

/* Issues an access token for the claims' tenant, user and role (jti, iat, exp are filled in).
 * *token: owned (free). */
sw_status sw_jwt_issue(char **token, sw_jwt_claims *claims,
                       const unsigned char key[SW_JWT_KEY_BYTES], int64_t now);

/* Verifies an access token at time now (seconds). SW_EUNAUTH for anything that is not a
 * valid, current access token of ours; *out is filled only on SW_OK. */
sw_status sw_jwt_verify(sw_jwt_claims *out, const char *token,
                        const unsigned char key[SW_JWT_KEY_BYTES], int64_t now);

#endif
