/* libFuzzer harness for the SSRF policy (actors/common/url_policy.h). The first byte picks a
 * mode: 0 checks a URL with the default (NULL) policy, 1 judges raw sockaddr bytes with the
 * default policy, 2 builds a policy from a fuzzed SW_PROBE_ALLOW_CIDRS and judges an address
 * with it. URLs whose host would be asked of DNS are skipped, so the harness stays offline and
 * fast: only IP literals, "localhost" (from /etc/hosts) and hosts the check refuses before
 * resolving reach url_policy_check. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <curl/curl.h>

#include "actors/common/url_policy.h"
#include "tests/fuzz/fuzz.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whether url_policy_check(url) could start a DNS query: it parses the URL the same way
 * (libcurl, no flags), so when libcurl finds a plain host name that is not an IPv4 number in
 * some spelling, not localhost and not .invalid, the answer is yes. */
static bool may_use_dns(const char *url)
{
    CURLU *h = curl_url();
    char *host = NULL;
    bool dns = false;
    if (!h)
        abort();
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '[')
        goto out;
    char name[300];
    size_t n = strlen(host);
    if (n == 0 || n >= sizeof(name))
        goto out;
    for (size_t i = 0; i <= n; i++)
        name[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
    if (name[n - 1] == '.')
        name[n - 1] = '\0';
    struct in_addr a;
    unsigned char a6[16];
    dns = !(inet_aton(name, &a) || inet_pton(AF_INET6, name, a6) == 1 ||
            strcmp(name, "localhost") == 0 || ends_with(name, ".localhost") ||
            strcmp(name, "invalid") == 0 || ends_with(name, ".invalid"));
out:
    curl_free(host);
    curl_url_cleanup(h);
    return dns;
}

/* Up to sizeof(sockaddr_in6) bytes of address, family from the harness. */
static const struct sockaddr *sockaddr_from(struct sockaddr_storage *ss, fuzz_in *in)
{
    static const sa_family_t families[] = {AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC};
    memset(ss, 0, sizeof(*ss));
    size_t n = in->left < sizeof(struct sockaddr_in6) ? in->left : sizeof(struct sockaddr_in6);
    memcpy(ss, in->p, n);
    in->p += n;
    in->left -= n;
    ss->ss_family = families[((const unsigned char *)ss)[0] % 4];
    return (const struct sockaddr *)ss;
}

/* The same verdict for a.b.c.d and ::ffff:a.b.c.d, and the ranges that are never allowed. */
static void check_addr(const url_policy *p, const struct sockaddr *sa)
{
    bool ok = url_policy_addr_allowed(p, sa);
    if (sa->sa_family == AF_INET) {
        const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        struct sockaddr_in6 m;
        memset(&m, 0, sizeof(m));
        m.sin6_family = AF_INET6;
        m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&m.sin6_addr.s6_addr[12], b, 4);
        FUZZ_CHECK(url_policy_addr_allowed(p, (const struct sockaddr *)&m) == ok);
        if (b[0] == 0 || (b[0] == 169 && b[1] == 254))
            FUZZ_CHECK(!ok);
        if (!url_policy_has_allowlist(p) &&
            (b[0] == 10 || b[0] == 127 || (b[0] == 192 && b[1] == 168) ||
             (b[0] == 172 && (b[1] & 0xf0) == 16) || b[0] >= 224))
            FUZZ_CHECK(!ok);
    } else if (sa->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || (b[0] == 0x20 && b[1] == 0x02) /* 6to4 */ ||
            (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) /* NAT64 */)
            FUZZ_CHECK(!ok);
        if (!url_policy_has_allowlist(p) && (b[0] & 0xe0) != 0x20 &&
            !(b[10] == 0xff && b[11] == 0xff))
            FUZZ_CHECK(!ok);
    } else {
        FUZZ_CHECK(!ok);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    struct sockaddr_storage ss;
    char why[160], reason[160];
    uint8_t mode = fuzz_byte(&in) % 3;

    if (mode == 0) {
        char *url = fuzz_field(&in, NULL);
        if (!may_use_dns(url)) {
            url_verdict v = url_policy_check(NULL, url, reason, sizeof(reason));
            FUZZ_CHECK(v >= URL_OK && v <= URL_DENIED_ADDRESS);
            FUZZ_CHECK(reason[0] != '\0');
        }
        free(url);
    } else if (mode == 1) {
        check_addr(NULL, sockaddr_from(&ss, &in));
    } else {
        url_policy *p = NULL;
        bool production = fuzz_byte(&in) & 1;
        char *cidrs = fuzz_field(&in, NULL);
        sw_status st = url_policy_new(&p, cidrs, production, why, sizeof(why));
        FUZZ_CHECK(st == SW_OK ? p != NULL && why[0] == '\0' : p == NULL && why[0] != '\0');
        if (st == SW_OK) {
            FUZZ_CHECK(!(production && url_policy_has_allowlist(p)));
            check_addr(p, sockaddr_from(&ss, &in));
        }
        url_policy_free(p);
        free(cidrs);
    }
    return 0;
}
