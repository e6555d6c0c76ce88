/* libFuzzer harness for the access-token verifier (bus/jwt.h, sw_jwt_verify). The first byte
 * picks a mode: 0 verifies the rest as a token as it came off the wire; 1 takes a header and a
 * claims JSON (NUL-separated), encodes and signs them with the key, so the fuzzer reaches
 * libjwt and the claim checks; 2 does the same and then breaks the signature, which must be
 * refused. Whatever is accepted must be a current access token of ours. */
#include <stdbool.h>
#include <sodium.h>

#include "bus/jwt.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1700000000LL
#define SECRET "fuzz-secret-key-for-statuswatch"

static unsigned char key[SW_JWT_KEY_BYTES];

static void check_accepted(const sw_jwt_claims *c)
{
    FUZZ_CHECK(strncmp(c->tenant, "t_", 2) == 0 && strlen(c->tenant) >= 12);
    FUZZ_CHECK(strcmp(c->role, "owner") == 0 || strcmp(c->role, "admin") == 0 ||
               strcmp(c->role, "member") == 0);
    FUZZ_CHECK(c->user[0] && c->jti[0]);
    FUZZ_CHECK(c->exp > NOW && c->iat <= NOW + 30 && c->exp - c->iat <= SW_JWT_ACCESS_TTL);
}

/* "b64(header).b64(claims).b64(HMAC)"; returns owned (free), NULL when too long. */
static char *sign(const char *header, size_t hlen, const char *claims, size_t clen, bool bad_mac)
{
    size_t hcap = sodium_base64_ENCODED_LEN(hlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t ccap = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t mcap = sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                            sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t cap = hcap + ccap + mcap + 2;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char *tok = malloc(cap);
    if (!tok)
        abort();
    sodium_bin2base64(tok, hcap, (const unsigned char *)header, hlen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t n = strlen(tok);
    tok[n++] = '.';
    sodium_bin2base64(tok + n, ccap, (const unsigned char *)claims, clen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n += strlen(tok + n);
    crypto_auth_hmacsha256(mac, (const unsigned char *)tok, n, key);
    if (bad_mac)
        mac[n % sizeof(mac)] ^= 1;
    tok[n++] = '.';
    sodium_bin2base64(tok + n, mcap, mac, sizeof(mac), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    fuzz_in in = {data, size};
    sw_jwt_claims c;
    char *token = NULL, *header = NULL, *claims = NULL;
    size_t hlen = 0, clen = 0;

    if (!ready) {
        if (sodium_init() < 0)
            abort();
        sw_jwt_derive_key(key, SECRET);
        ready = true;
    }
    uint8_t mode = fuzz_byte(&in) % 3;
    if (mode == 0) {
        token = fuzz_field(&in, NULL);
    } else {
        header = fuzz_field(&in, &hlen);
        claims = fuzz_field(&in, &clen);
        token = sign(header, hlen, claims, clen, mode == 2);
    }
    memset(&c, 0, sizeof(c));
    sw_status st = sw_jwt_verify(&c, token, key, NOW);
    FUZZ_CHECK(st == SW_OK || st == SW_EUNAUTH);
    if (st == SW_OK) {
        FUZZ_CHECK(mode != 2);
        check_accepted(&c);
    }
    free(token);
    free(claims);
    free(header);
    return 0;
}
