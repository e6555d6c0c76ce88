/* Access tokens (bus/jwt.h): an issued token verifies, and every forged, altered, stale or
 * malformed token from the attack list is refused with SW_EUNAUTH. Forged tokens are built by
 * hand (base64url JSON + libsodium HMAC) so nothing here trusts libjwt. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "bus/jwt.h"

#define NOW INT64_C(1700000000)
#define TENANT "t_abc123def456ghi789jkl0"

static unsigned char key[SW_JWT_KEY_BYTES];
static unsigned char other_key[SW_JWT_KEY_BYTES];

/* ------------------------------------------------------------------ crafting */

typedef enum mac_alg { MAC_HS256, MAC_HS384, MAC_HS512, MAC_NONE, MAC_JUNK } mac_alg;

static char *b64url(const void *data, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = malloc(cap);
    assert_non_null(out);
    sodium_bin2base64(out, cap, data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

/* header_json "." payload "." signature, where the signature is computed with alg over the
 * first two parts using k. Returns owned (free). */
static char *craft_raw(const char *header_json, const char *payload_json, mac_alg alg,
                       const unsigned char *k)
{
    char *h = b64url(header_json, strlen(header_json));
    char *p = b64url(payload_json, strlen(payload_json));
    size_t signing_len = strlen(h) + 1 + strlen(p);
    char *signing = malloc(signing_len + 1);
    assert_non_null(signing);
    snprintf(signing, signing_len + 1, "%s.%s", h, p);

    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    size_t mac_len = 0;
    if (alg == MAC_HS256) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, k, SW_JWT_KEY_BYTES);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)signing, signing_len);
        crypto_auth_hmacsha256_final(&st, mac);
        mac_len = crypto_auth_hmacsha256_BYTES;
    } else if (alg == MAC_HS512) {
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, k, SW_JWT_KEY_BYTES);
        crypto_auth_hmacsha512_update(&st, (const unsigned char *)signing, signing_len);
        crypto_auth_hmacsha512_final(&st, mac);
        mac_len = crypto_auth_hmacsha512_BYTES;
    } else if (alg == MAC_HS384) {
        /* libsodium has no HMAC-SHA384; a 48-byte truncated HMAC-SHA512 has the length an
         * HS384 signature would have, which is all a length check could look at. */
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, k, SW_JWT_KEY_BYTES);
        crypto_auth_hmacsha512_update(&st, (const unsigned char *)signing, signing_len);
        crypto_auth_hmacsha512_final(&st, mac);
        mac_len = 48;
    } else if (alg == MAC_JUNK) {
        randombytes_buf(mac, 256 / 8);
        mac_len = 256 / 8;
    }

    char *sig = mac_len ? b64url(mac, mac_len) : strdup("");
    size_t total = signing_len + 1 + strlen(sig) + 1;
    char *token = malloc(total);
    assert_non_null(token);
    snprintf(token, total, "%s.%s", signing, sig);
    free(sig);
    free(signing);
    free(p);
    free(h);
    return token;
}

/* A claims object that sw_jwt_verify must accept at NOW (owned). */
static json_t *good_claims(void)
{
    json_t *c =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "iss", SW_JWT_ISSUER, "aud",
                  SW_JWT_AUDIENCE, "typ", "access", "tid", TENANT, "sub", "u_0123456789", "role",
                  "admin", "jti", "0123456789abcdef0123456789abcdef", "iat", (json_int_t)NOW, "nbf",
                  (json_int_t)NOW, "exp", (json_int_t)(NOW + SW_JWT_ACCESS_TTL));
    assert_non_null(c);
    return c;
}

/* Signs claims (takes ownership) under header with alg and k. Returns owned (free). */
static char *craft(const char *header_json, json_t *claims, mac_alg alg, const unsigned char *k)
{
    char *payload = json_dumps(claims, JSON_COMPACT);
    assert_non_null(payload);
    char *token = craft_raw(header_json, payload, alg, k);
    free(payload);
    json_decref(claims);
    return token;
}

#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Verifies token at now with key; asserts SW_EUNAUTH and that out was not touched. */
static void assert_refused_at(const char *token, int64_t now, const unsigned char *k)
{
    sw_jwt_claims out;
    memset(&out, 0x5a, sizeof(out));
    sw_jwt_claims untouched = out;
    assert_int_equal(sw_jwt_verify(&out, token, k, now), SW_EUNAUTH);
    assert_memory_equal(&out, &untouched, sizeof(out));
}

static void assert_refused(const char *token)
{
    assert_refused_at(token, NOW, key);
}

/* Signs claims with the real key and HS256 and asserts the result is refused. */
static void assert_claims_refused(json_t *claims)
{
    char *t = craft(HS256_HEADER, claims, MAC_HS256, key);
    assert_refused(t);
    free(t);
}

/* ------------------------------------------------------------------ tests */

static void issued_token_round_trips(void **state)
{
    sw_jwt_claims in = {.tenant = TENANT, .user = "u_42", .role = "owner"}, out;
    char *token = NULL;

    assert_int_equal(sw_jwt_issue(&token, &in, key, NOW), SW_OK);
    assert_non_null(token);
    assert_int_equal(in.iat, NOW);
    assert_int_equal(in.exp, NOW + 900);
    assert_int_equal(strlen(in.jti), 32);

    assert_int_equal(sw_jwt_verify(&out, token, key, NOW), SW_OK);
    assert_string_equal(out.tenant, TENANT);
    assert_string_equal(out.user, "u_42");
    assert_string_equal(out.role, "owner");
    assert_string_equal(out.jti, in.jti);
    assert_int_equal(out.iat, NOW);
    assert_int_equal(out.exp, NOW + 900);

    /* Still good one second before expiry; refused at and after it. */
    assert_int_equal(sw_jwt_verify(&out, token, key, NOW + 899), SW_OK);
    assert_refused_at(token, NOW + 900, key);
    assert_refused_at(token, NOW + 901, key);
    free(token);
}

static void two_issued_tokens_have_distinct_jti(void **state)
{
    sw_jwt_claims a = {.tenant = TENANT, .user = "u_1", .role = "member"};
    sw_jwt_claims b = a;
    char *ta = NULL, *tb = NULL;
    assert_int_equal(sw_jwt_issue(&ta, &a, key, NOW), SW_OK);
    assert_int_equal(sw_jwt_issue(&tb, &b, key, NOW), SW_OK);
    assert_string_not_equal(a.jti, b.jti);
    assert_string_not_equal(ta, tb);
    free(ta);
    free(tb);
}

/* The crafting helpers must produce tokens the verifier accepts, or every refusal below
 * would pass for the wrong reason. */
static void crafted_good_token_is_accepted(void **state)
{
    sw_jwt_claims out;
    char *t = craft(HS256_HEADER, good_claims(), MAC_HS256, key);
    assert_int_equal(sw_jwt_verify(&out, t, key, NOW), SW_OK);
    assert_string_equal(out.tenant, TENANT);
    assert_string_equal(out.role, "admin");
    free(t);

    /* A header without typ, and a token without nbf, are still ours. */
    json_t *c = good_claims();
    json_object_del(c, "nbf");
    t = craft("{\"alg\":\"HS256\"}", c, MAC_HS256, key);
    assert_int_equal(sw_jwt_verify(&out, t, key, NOW), SW_OK);
    free(t);

    /* iat up to 30 s in the future is clock skew, not an attack. */
    c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW + 30));
    json_object_set_new(c, "nbf", json_integer(NOW + 30));
    json_object_set_new(c, "exp", json_integer(NOW + 30 + 900));
    t = craft(HS256_HEADER, c, MAC_HS256, key);
    assert_int_equal(sw_jwt_verify(&out, t, key, NOW), SW_OK);
    free(t);
}

static void alg_none_is_refused(void **state)
{
    char *t = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", good_claims(), MAC_NONE, key);
    assert_refused(t); /* "h.p." */
    free(t);
    t = craft("{\"alg\":\"none\"}", good_claims(), MAC_HS256, key);
    assert_refused(t); /* with a valid HS256 MAC of its own parts */
    free(t);
    t = craft("{\"alg\":\"None\"}", good_claims(), MAC_HS256, key);
    assert_refused(t);
    free(t);
    t = craft("{\"typ\":\"JWT\"}", good_claims(), MAC_HS256, key); /* no alg at all */
    assert_refused(t);
    free(t);

    /* "h.p" without the trailing dot. */
    char *full = craft("{\"alg\":\"none\"}", good_claims(), MAC_NONE, key);
    full[strlen(full) - 1] = '\0';
    assert_refused(full);
    free(full);
}

static void other_algs_are_refused(void **state)
{
    char *t = craft("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", good_claims(), MAC_HS512, key);
    assert_refused(t);
    free(t);
    t = craft("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", good_claims(), MAC_HS384, key);
    assert_refused(t);
    free(t);
    t = craft("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", good_claims(), MAC_JUNK, key);
    assert_refused(t);
    free(t);
    /* RS256 header with an HMAC made from the shared key (the classic key-confusion forgery). */
    t = craft("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", good_claims(), MAC_HS256, key);
    assert_refused(t);
    free(t);
    t = craft("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", good_claims(), MAC_HS256, key);
    assert_refused(t);
    free(t);
    /* HS256 in the header but an HS512 signature. */
    t = craft(HS256_HEADER, good_claims(), MAC_HS512, key);
    assert_refused(t);
    free(t);
}

static void header_key_hints_are_refused(void **state)
{
    static const char *headers[] = {
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"../../dev/null\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"jku\":\"https://evil.example/jwks\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"JWE\"}",
        "[\"HS256\"]",
        "not json",
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *t = craft(headers[i], good_claims(), MAC_HS256, key);
        assert_refused(t);
        free(t);
    }
}

static void wrong_key_is_refused(void **state)
{
    sw_jwt_claims in = {.tenant = TENANT, .user = "u_1", .role = "owner"};
    char *token = NULL;
    assert_int_equal(sw_jwt_issue(&token, &in, other_key, NOW), SW_OK);
    assert_refused(token);
    free(token);

    char *t = craft(HS256_HEADER, good_claims(), MAC_HS256, other_key);
    assert_refused(t);
    free(t);
}

static void payload_changed_after_signing_is_refused(void **state)
{
    sw_jwt_claims in = {.tenant = TENANT, .user = "u_1", .role = "member"};
    char *token = NULL;
    assert_int_equal(sw_jwt_issue(&token, &in, key, NOW), SW_OK);

    /* Swap in another tenant and promote the role, keeping header and signature. */
    json_t *c = good_claims();
    json_object_set_new(c, "tid", json_string("t_zzzzzzzzzzzzzzzzzzzzzzzz"));
    json_object_set_new(c, "role", json_string("owner"));
    char *payload = json_dumps(c, JSON_COMPACT);
    char *p64 = b64url(payload, strlen(payload));
    const char *dot1 = strchr(token, '.');
    const char *dot2 = strchr(dot1 + 1, '.');
    size_t n = (size_t)(dot1 - token) + 1 + strlen(p64) + strlen(dot2) + 1;
    char *forged = malloc(n);
    snprintf(forged, n, "%.*s.%s%s", (int)(dot1 - token), token, p64, dot2);
    assert_refused(forged);

    free(forged);
    free(p64);
    free(payload);
    json_decref(c);
    free(token);
}

static void signature_changed_is_refused(void **state)
{
    sw_jwt_claims in = {.tenant = TENANT, .user = "u_1", .role = "member"};
    char *token = NULL;
    assert_int_equal(sw_jwt_issue(&token, &in, key, NOW), SW_OK);
    char *sig = strrchr(token, '.') + 1;

    char saved = sig[0];
    sig[0] = saved == 'A' ? 'B' : 'A';
    assert_refused(token);
    sig[0] = saved;

    /* Truncated, extended and emptied signatures. */
    size_t n = strlen(sig);
    char last = sig[n - 1];
    sig[n - 1] = '\0';
    assert_refused(token);
    sig[n - 1] = last;

    char *longer = malloc(strlen(token) + 3);
    sprintf(longer, "%sAA", token);
    assert_refused(longer);
    free(longer);

    sig[0] = '\0';
    assert_refused(token);
    free(token);

    /* The right HMAC followed by extra bytes (an HS384/HS512-sized signature). */
    char *t = craft(HS256_HEADER, good_claims(), MAC_HS256, key);
    char *dot2 = strrchr(t, '.');
    unsigned char mac[crypto_auth_hmacsha256_BYTES + 16] = {0};
    size_t n_mac = 0;
    assert_int_equal(sodium_base642bin(mac, sizeof(mac), dot2 + 1, strlen(dot2 + 1), NULL, &n_mac,
                                       NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(n_mac, crypto_auth_hmacsha256_BYTES);
    char *padded_sig = b64url(mac, sizeof(mac));
    *dot2 = '\0';
    char *padded = malloc(strlen(t) + 1 + strlen(padded_sig) + 1);
    sprintf(padded, "%s.%s", t, padded_sig);
    assert_refused(padded);
    free(padded);
    free(padded_sig);
    free(t);
}

static void expired_and_future_tokens_are_refused(void **state)
{
    /* Expired: issued 20 minutes ago. */
    json_t *c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW - 1200));
    json_object_set_new(c, "nbf", json_integer(NOW - 1200));
    json_object_set_new(c, "exp", json_integer(NOW - 300));
    assert_claims_refused(c);

    /* iat more than 30 s in the future. */
    c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW + 31));
    json_object_set_new(c, "nbf", json_integer(NOW));
    json_object_set_new(c, "exp", json_integer(NOW + 31 + 800));
    assert_claims_refused(c);

    /* nbf more than 30 s in the future. */
    c = good_claims();
    json_object_set_new(c, "nbf", json_integer(NOW + 60));
    assert_claims_refused(c);

    /* Lifetime longer than 15 minutes, even if otherwise current. */
    c = good_claims();
    json_object_set_new(c, "iat", json_integer(NOW - 100));
    json_object_set_new(c, "exp", json_integer(NOW - 100 + 901));
    assert_claims_refused(c);
    c = good_claims();
    json_object_set_new(c, "exp", json_integer(INT64_MAX));
    assert_claims_refused(c);
}

static void wrong_registered_claims_are_refused(void **state)
{
    static const struct {
        const char *claim;
        const char *value;
    } cases[] = {
        {"aud", "other-api"}, {"aud", ""},       {"iss", "evil"},       {"iss", ""},
        {"typ", "refresh"},   {"typ", "Access"}, {"role", "superuser"}, {"role", "Owner"},
        {"role", ""},         {"sub", ""},       {"jti", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = good_claims();
        json_object_set_new(c, cases[i].claim, json_string(cases[i].value));
        assert_claims_refused(c);
    }

    json_t *c = good_claims();
    json_object_set_new(c, "aud", json_pack("[s]", SW_JWT_AUDIENCE));
    assert_claims_refused(c);

    c = good_claims();
    json_object_set_new(c, "exp", json_string("9999999999"));
    assert_claims_refused(c);

    c = good_claims();
    json_object_set_new(c, "nbf", json_string("now"));
    assert_claims_refused(c);

    c = good_claims();
    json_object_set_new(c, "tid", json_integer(12345678901234));
    assert_claims_refused(c);
}

static void missing_claims_are_refused(void **state)
{
    static const char *required[] = {"tid", "sub", "jti", "exp", "iat",
                                     "iss", "aud", "typ", "role"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        json_t *c = good_claims();
        assert_int_equal(json_object_del(c, required[i]), 0);
        assert_claims_refused(c);
    }
}

static void invalid_tenant_ids_are_refused(void **state)
{
    static const char *bad[] = {
        "tenant123456789",                              /* no t_ prefix */
        "t_ABCDEFGHIJKL",                               /* upper case */
        "t_short",                                      /* under 12 characters */
        "t_abc-def-ghij",                               /* punctuation */
        "t_abcdef\"; DROP SCHEMA x",                    /* injection-shaped */
        "t_abcdefghijklmnopqrstuvwxyz0123456789abcdef", /* 44 characters */
        "../t_abcdefghijk",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *c = good_claims();
        json_object_set_new(c, "tid", json_string(bad[i]));
        assert_claims_refused(c);
    }
}

static void garbage_is_refused(void **state)
{
    assert_refused(NULL);
    assert_refused("");
    assert_refused(".");
    assert_refused("..");
    assert_refused("a.b");
    assert_refused("a.b.c");
    assert_refused("a.b.c.d");
    assert_refused("eyJhbGciOiJIUzI1NiJ9..");
    assert_refused("!!!.@@@.###");

    char *long_token = malloc(5001);
    memset(long_token, 'A', 5000);
    long_token[5000] = '\0';
    long_token[100] = '.';
    long_token[200] = '.';
    assert_refused(long_token);
    free(long_token);

    /* Correctly signed but over SW_JWT_MAX_LEN: refused before any decoding. */
    json_t *c = good_claims();
    char *pad = malloc(4001);
    memset(pad, 'x', 4000);
    pad[4000] = '\0';
    json_object_set_new(c, "pad", json_string(pad));
    free(pad);
    char *big = craft(HS256_HEADER, c, MAC_HS256, key);
    assert_true(strlen(big) > SW_JWT_MAX_LEN);
    assert_refused(big);
    free(big);

    /* A valid token with a fourth segment appended. */
    char *t = craft(HS256_HEADER, good_claims(), MAC_HS256, key);
    char *four = malloc(strlen(t) + 3);
    sprintf(four, "%s.x", t);
    assert_refused(four);
    free(four);
    free(t);

    /* A valid signature over a payload that is not JSON. */
    t = craft_raw(HS256_HEADER, "not json", MAC_HS256, key);
    assert_refused(t);
    free(t);
    t = craft_raw(HS256_HEADER, "[1,2,3]", MAC_HS256, key);
    assert_refused(t);
    free(t);
}

static int setup(void **state)
{
    if (sodium_init() < 0)
        return -1;
    sw_jwt_derive_key(key, "unit-test-secret-key-that-is-long-enough-0001");
    sw_jwt_derive_key(other_key, "unit-test-secret-key-that-is-long-enough-0002");
    return memcmp(key, other_key, sizeof(key)) == 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issued_token_round_trips),
        cmocka_unit_test(two_issued_tokens_have_distinct_jti),
        cmocka_unit_test(crafted_good_token_is_accepted),
        cmocka_unit_test(alg_none_is_refused),
        cmocka_unit_test(other_algs_are_refused),
        cmocka_unit_test(header_key_hints_are_refused),
        cmocka_unit_test(wrong_key_is_refused),
        cmocka_unit_test(payload_changed_after_signing_is_refused),
        cmocka_unit_test(signature_changed_is_refused),
        cmocka_unit_test(expired_and_future_tokens_are_refused),
        cmocka_unit_test(wrong_registered_claims_are_refused),
        cmocka_unit_test(missing_claims_are_refused),
        cmocka_unit_test(invalid_tenant_ids_are_refused),
        cmocka_unit_test(garbage_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
