/* libFuzzer harness for the edge's request handling (http/edge.h): route lookup, the Allow
 * header of a 405, the client address behind trusted proxies, and the Cookie header parser.
 * Input: a flags byte, a sizes byte, then NUL-separated method, path, peer, X-Forwarded-For
 * (a '\n' in it separates header lines), trusted proxies, Cookie header and cookie name. Each
 * result is held to its header comment. */
#include <arpa/inet.h>
#include <stdbool.h>

#include "http/edge.h"
#include "tests/fuzz/fuzz.h"

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static void check_route(const char *method, const char *path, size_t param_len)
{
    char param[80], allow[72];
    bool wrong_method = true;

    memset(param, 0x5a, sizeof(param));
    const edge_route *r = edge_route_find(method, path, param, param_len, &wrong_method);
    if (r) {
        FUZZ_CHECK(strcmp(r->method, method) == 0);
        FUZZ_CHECK(strncmp(path, "/api/", 5) == 0);
        FUZZ_CHECK(strlen(param) < param_len);
        bool has_id = strstr(r->pattern, "{id}") != NULL;
        /* A full-size buffer holds the whole id: 1-64 characters of [A-Za-z0-9_-]. */
        if (param_len >= 65) {
            size_t n = strlen(param);
            FUZZ_CHECK(has_id ? n >= 1 && n <= 64 : n == 0);
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(id_char(param[i]));
        }
    }
    /* The 405 reply: the path exists, so the Allow header names at least one method. */
    for (size_t len = 1; len <= sizeof(allow); len += sizeof(allow) - 1) {
        memset(allow, 0x5a, sizeof(allow));
        edge_route_allow(path, allow, len);
        FUZZ_CHECK(memchr(allow, '\0', len) != NULL);
        if (!r && wrong_method && len >= 64)
            FUZZ_CHECK(allow[0] != '\0');
    }
}

static void check_client_ip(const char *peer, char *xff, const char *trusted, size_t len)
{
    char out[72];
    const char *lines[8];
    size_t nlines = 0;
    for (char *save = NULL, *l = xff ? strtok_r(xff, "\n", &save) : NULL; l && nlines < 8;
         l = strtok_r(NULL, "\n", &save))
        lines[nlines++] = l;
    memset(out, 0x5a, sizeof(out));
    edge_client_ip(out, len, peer, xff ? lines : NULL, nlines, trusted);
    FUZZ_CHECK(memchr(out, '\0', len) != NULL);
    /* Either the peer (as far as it fits) or an address taken from X-Forwarded-For, and
     * never one from it when the peer is not trusted. */
    if (strncmp(out, peer ? peer : "", len - 1) != 0) {
        FUZZ_CHECK(is_ip(out) || len < 46);
        FUZZ_CHECK(peer && trusted && edge_ip_listed(peer, trusted));
    }
}

static void check_cookie(const char *header, const char *name, size_t len)
{
    char out[136];
    memset(out, 0x5a, sizeof(out));
    if (edge_cookie(out, len, header, name)) {
        size_t n = strlen(out);
        FUZZ_CHECK(n > 0 && n < len);
        FUZZ_CHECK(strchr(out, ';') == NULL);
        FUZZ_CHECK(header && strstr(header, out) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t flags = fuzz_byte(&in), sizes = fuzz_byte(&in);
    char *method = fuzz_field(&in, NULL), *path = fuzz_field(&in, NULL);
    char *peer = fuzz_field(&in, NULL), *xff = fuzz_field(&in, NULL);
    char *trusted = fuzz_field(&in, NULL), *cookie = fuzz_field(&in, NULL);
    char *name = fuzz_field(&in, NULL);

    /* The server's sizes (72, 64, 128) most of the time, small ones to test truncation. */
    size_t param_len = (sizes & 0x80) ? 1 + sizes % 72u : 72;
    size_t ip_len = (sizes & 0x40) ? 1 + sizes % 64u : 64;
    size_t cookie_len = (sizes & 0x20) ? sizes % 128u : 128;

    check_route(method, path, param_len);
    check_client_ip((flags & 1) ? NULL : peer, (flags & 2) ? NULL : xff,
                    (flags & 4) ? NULL : trusted, ip_len);
    check_cookie((flags & 8) ? NULL : cookie, name, cookie_len);

    free(name);
    free(cookie);
    free(trusted);
    free(xff);
    free(peer);
    free(path);
    free(method);
    return 0;
}
