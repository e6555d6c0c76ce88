/* Input rules and token helpers. */
#include "actors/common/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

bool validate_email(char *out, size_t len, const char *email)
{
    char buf[256];
    size_t n;
    if (!email)
        return false;
    while (isspace((unsigned char)*email))
        email++;
    n = strlen(email);
    while (n && isspace((unsigned char)email[n - 1]))
        n--;
    if (n < 3 || n > 254 || n >= len || n >= sizeof(buf))
        return false;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)email[i]);
    buf[n] = '\0';

    char *at = strchr(buf, '@');
    if (!at || strchr(at + 1, '@') || at == buf || at - buf > 64)
        return false;
    for (char *p = buf; p < at; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(isalnum(ch) || strchr("!#$%&'*+-/=?^_`{|}~.", ch)))
            return false;
    }
    if (buf[0] == '.' || at[-1] == '.' || strstr(buf, ".."))
        return false;
    const char *dom = at + 1;
    const char *last_dot = strrchr(dom, '.');
    if (!last_dot)
        return false;
    for (const char *p = dom;;) {
        const char *dot = strchr(p, '.');
        size_t ln = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, ln))
            return false;
        if (!dot)
            break;
        p = dot + 1;
    }
    size_t tld = strlen(last_dot + 1);
    if (tld < 2)
        return false;
    for (const char *p = last_dot + 1; *p; p++)
        if (!isalpha((unsigned char)*p))
            return false;
    memcpy(out, buf, n + 1);
    return true;
}

bool validate_name(char *out, size_t len, const char *name, size_t max_chars)
{
    size_t n, chars = 0;
    if (!name)
        return false;
    while (isspace((unsigned char)*name))
        name++;
    n = strlen(name);
    while (n && isspace((unsigned char)name[n - 1]))
        n--;
    if (n == 0 || n >= len)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
        if ((ch & 0xC0) != 0x80)
            chars++; /* count UTF-8 characters, not bytes */
    }
    if (chars > max_chars)
        return false;
    memcpy(out, name, n);
    out[n] = '\0';
    return true;
}

void slugify(char *out, size_t len, const char *name)
{
    size_t o = 0, cap = len - 1 < 40 ? len - 1 : 40;
    bool dash = false;
    for (const char *p = name; *p && o < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch) && ch < 0x80) {
            if (dash && o > 0 && o + 1 < cap)
                out[o++] = '-';
            dash = false;
            out[o++] = (char)tolower(ch);
        } else {
            dash = true;
        }
    }
    out[o] = '\0';
    if (o == 0)
        snprintf(out, len, "org");
}

void token_new(char *out, size_t len)
{
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2base64(out, len, rnd, sizeof(rnd), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof(rnd));
}

void token_hash_bytea(char *out, size_t len, const char *token)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(out, len, "\\x%s", hex);
}

void random_ident(char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    out[n] = '\0';
}
