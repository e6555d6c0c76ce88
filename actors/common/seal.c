/* libsodium secretbox for secrets at rest; see seal.h. */
#include "actors/common/seal.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define PREFIX "v1."

struct seal_key {
    unsigned char k[crypto_secretbox_KEYBYTES];
};

sw_status seal_key_new(seal_key **out, const char *hex)
{
    size_t n = 0;
    *out = NULL;
    if (!hex || strlen(hex) != 2 * crypto_secretbox_KEYBYTES || sodium_init() < 0)
        return SW_EINVAL;
    seal_key *k = calloc(1, sizeof(*k));
    if (!k)
        return SW_EINTERNAL;
    if (sodium_hex2bin(k->k, sizeof(k->k), hex, strlen(hex), NULL, &n, NULL) != 0 ||
        n != sizeof(k->k)) {
        seal_key_free(k);
        return SW_EINVAL;
    }
    *out = k;
    return SW_OK;
}

void seal_key_free(seal_key *k)
{
    if (!k)
        return;
    sodium_memzero(k, sizeof(*k));
    free(k);
}

char *seal_text(const seal_key *k, const char *plain, size_t len)
{
    if (!k)
        return NULL;
    size_t raw_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *raw = malloc(raw_len);
    size_t b64_len = sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = malloc(strlen(PREFIX) + b64_len);
    if (!raw || !out) {
        free(raw);
        free(out);
        return NULL;
    }
    randombytes_buf(raw, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(raw + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len,
                          raw, k->k);
    memcpy(out, PREFIX, strlen(PREFIX));
    sodium_bin2base64(out + strlen(PREFIX), b64_len, raw, raw_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(raw);
    return out;
}

char *seal_open(const seal_key *k, const char *sealed)
{
    size_t raw_len = 0;
    if (!k || !sealed || strncmp(sealed, PREFIX, strlen(PREFIX)) != 0)
        return NULL;
    const char *b64 = sealed + strlen(PREFIX);
    size_t cap = strlen(b64);
    unsigned char *raw = malloc(cap + 1);
    if (!raw)
        return NULL;
    if (sodium_base642bin(raw, cap + 1, b64, strlen(b64), NULL, &raw_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        raw_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(raw);
        return NULL;
    }
    size_t plain_len = raw_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *plain = malloc(plain_len + 1);
    if (!plain || crypto_secretbox_open_easy((unsigned char *)plain,
                                             raw + crypto_secretbox_NONCEBYTES,
                                             raw_len - crypto_secretbox_NONCEBYTES, raw,
                                             k->k) != 0) {
        free(raw);
        free(plain);
        return NULL;
    }
    plain[plain_len] = '\0';
    free(raw);
    return plain;
}

void seal_wipe(char *s)
{
    if (!s)
        return;
    sodium_memzero(s, strlen(s));
    free(s);
}
