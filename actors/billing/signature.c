/* Stripe webhook signatures (Stripe's "verify manually" procedure, as stripe-go and
 * stripe-node do it): a pure function of the header, the raw bytes, the secret and the clock,
 * so the unit tests can hold it to every vector. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "actors/billing/billing.h"

#define MAX_V1 8 /* a secret roll shows two; more than a handful is not a real header */

void billing_signature_compute(char out[65], int64_t t, const char *payload, size_t len,
                               const char *secret)
{
    char ts[24];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    int n = snprintf(ts, sizeof(ts), "%lld.", (long long)t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)payload, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

/* A strictly decimal, positive timestamp. */
static bool parse_t(const char *s, size_t n, int64_t *out)
{
    char buf[24];
    char *end = NULL;
    if (n == 0 || n >= sizeof(buf))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

sw_status billing_signature_verify(const char *header, const char *payload, size_t len,
                                   const char *secret, int64_t now, int64_t tolerance,
                                   const char **why)
{
    unsigned char want[MAX_V1][crypto_auth_hmacsha256_BYTES];
    int nv1 = 0;
    int64_t t = 0;
    bool have_t = false;

    if (!header || !*header) {
        *why = "missing Stripe-Signature header";
        return SW_EINVAL;
    }
    if (!secret || !*secret) {
        *why = "no webhook secret configured";
        return SW_EINVAL;
    }
    for (const char *p = header; *p;) {
        size_t item = strcspn(p, ",");
        const char *eq = memchr(p, '=', item);
        if (eq) {
            const char *k = p;
            size_t klen = (size_t)(eq - p);
            const char *v = eq + 1;
            size_t vlen = item - klen - 1;
            while (klen && *k == ' ') {
                k++;
                klen--;
            }
            if (klen == 1 && *k == 't') {
                if (have_t || !parse_t(v, vlen, &t)) {
                    *why = "malformed Stripe-Signature timestamp";
                    return SW_EINVAL;
                }
                have_t = true;
            } else if (klen == 2 && strncmp(k, "v1", 2) == 0 && nv1 < MAX_V1) {
                size_t bin_len = 0;
                /* Anything but 64 hex characters can never match; skip it. */
                if (vlen == 2 * crypto_auth_hmacsha256_BYTES &&
                    sodium_hex2bin(want[nv1], sizeof(want[nv1]), v, vlen, NULL, &bin_len,
                                   NULL) == 0 &&
                    bin_len == crypto_auth_hmacsha256_BYTES)
                    nv1++;
            }
            /* v0 and any other scheme are ignored: accepting them would be a downgrade. */
        }
        p += item;
        if (*p == ',')
            p++;
    }
    if (!have_t) {
        *why = "no timestamp in Stripe-Signature";
        return SW_EINVAL;
    }
    if (nv1 == 0) {
        *why = "no v1 signature in Stripe-Signature";
        return SW_EINVAL;
    }

    char ts[24];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    int n = snprintf(ts, sizeof(ts), "%lld.", (long long)t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)(payload ? payload : ""), len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof(st));

    bool match = false;
    for (int i = 0; i < nv1; i++) /* no early exit: every candidate costs the same */
        match |= sodium_memcmp(mac, want[i], sizeof(mac)) == 0;
    sodium_memzero(mac, sizeof(mac));
    if (!match) {
        *why = "no v1 signature matches";
        return SW_EINVAL;
    }
    int64_t skew = now > t ? now - t : t - now;
    if (skew > tolerance) {
        *why = "timestamp outside the tolerance";
        return SW_EINVAL;
    }
    *why = NULL;
    return SW_OK;
}
