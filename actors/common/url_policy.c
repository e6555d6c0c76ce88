/* SSRF policy for monitored URLs (actors/common/url_policy.h). Every address is held as 16
 * bytes, IPv4 as its IPv4-mapped form (::ffff:a.b.c.d), so one prefix matcher serves both
 * families and a mapped IPv6 address is judged exactly like the IPv4 address it reaches.
 * URLs are parsed with libcurl's URL API so that the host checked here is the host the probe's
 * libcurl connects to; the probe re-checks the connected address with
 * url_policy_addr_allowed, which is the rebinding-proof layer. */
#include "actors/common/url_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "actors/common/resolve.h"

#define URL_MAX_LEN 2048
#define HOST_MAX_LEN 253

typedef struct net6 {
    unsigned char addr[16];
    unsigned bits;
} net6;

struct url_policy {
    net6 *allow;
    size_t n_allow;
    char *dns_servers;  /* NULL: /etc/resolv.conf */
    int dns_timeout_ms; /* 0: DNS_TIMEOUT_MS */
};

#define DNS_TIMEOUT_MS 4000 /* a create answers within the edge's 5 s, even on a dead server */

#define V4(a, b, c, d, len)                                                                        \
    {                                                                                              \
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}, 96 + (len)                         \
    }
#define V6(len, ...)                                                                               \
    {                                                                                              \
        {__VA_ARGS__}, len                                                                         \
    }

static const net6 mapped_net = V6(96, [10] = 0xff, [11] = 0xff);
static const net6 compat_net = V6(96, 0);       /* ::/96, deprecated IPv4-compatible */
static const net6 global_unicast = V6(3, 0x20); /* 2000::/3 */
static const unsigned char loopback6[16] = {[15] = 1};

/* DESIGN §5 plus security-facts §2. IPv6 outside 2000::/3 is denied as a whole as well (as
 * Smokescreen denies !IsGlobalUnicast); the entries below it are listed anyway so the table
 * reads as the documented list. */
static const net6 deny[] = {
    V4(0, 0, 0, 0, 8),
    V4(10, 0, 0, 0, 8),
    V4(100, 64, 0, 0, 10),
    V4(127, 0, 0, 0, 8),
    V4(169, 254, 0, 0, 16),
    V4(172, 16, 0, 0, 12),
    V4(192, 0, 0, 0, 24),
    V4(192, 0, 2, 0, 24),
    V4(192, 168, 0, 0, 16),
    V4(198, 18, 0, 0, 15),
    V4(198, 51, 100, 0, 24),
    V4(203, 0, 113, 0, 24),
    V4(224, 0, 0, 0, 4),
    V4(240, 0, 0, 0, 4),
    V6(128, 0),                                 /* :: */
    V6(128, [15] = 1),                          /* ::1 */
    V6(96, 0),                                  /* ::/96 IPv4-compatible */
    V6(7, 0xfc),                                /* fc00::/7 */
    V6(10, 0xfe, 0x80),                         /* fe80::/10 */
    V6(8, 0xff),                                /* ff00::/8 */
    V6(96, 0x00, 0x64, 0xff, 0x9b),             /* 64:ff9b::/96 NAT64 */
    V6(48, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01), /* 64:ff9b:1::/48 local NAT64 */
    V6(64, 0x01, 0x00),                         /* 100::/64 discard */
    V6(32, 0x20, 0x01, 0x00, 0x00),             /* 2001::/32 Teredo */
    V6(32, 0x20, 0x01, 0x0d, 0xb8),             /* 2001:db8::/32 */
    V6(16, 0x20, 0x02),                         /* 2002::/16 6to4 */
};

/* Never opened by the allow list, whatever it says: cloud metadata, "this host", link-local,
 * and every IPv6 form that carries an IPv4 address inside (a NAT64 or 6to4 gateway would
 * carry the connection to it). IPv4-compatible ::/96 other than ::1 is handled in code.
 * url_policy_new already refuses entries overlapping these; checking again here keeps the
 * guarantee if that validation is ever loosened. */
static const net6 never[] = {
    V4(0, 0, 0, 0, 8),
    V4(169, 254, 0, 0, 16),
    V6(128, 0),
    V6(10, 0xfe, 0x80),
    V6(96, 0x00, 0x64, 0xff, 0x9b),
    V6(48, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01),
    V6(32, 0x20, 0x01, 0x00, 0x00),
    V6(16, 0x20, 0x02),
};

static bool in_net(const unsigned char a[16], const unsigned char net[16], unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static bool in_table(const unsigned char a[16], const net6 *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in_net(a, t[i].addr, t[i].bits))
            return true;
    return false;
}

/* Two prefixes overlap when the shorter one contains the other. */
static bool overlaps(const net6 *x, const net6 *y)
{
    unsigned bits = x->bits < y->bits ? x->bits : y->bits;
    return in_net(x->addr, y->addr, bits);
}

static bool never_allowed(const unsigned char a[16])
{
    if (in_table(a, never, ARRAY_LEN(never)))
        return true;
    return in_net(a, compat_net.addr, compat_net.bits) && memcmp(a, loopback6, 16) != 0;
}

static bool allowed16(const url_policy *p, const unsigned char a[16])
{
    if (never_allowed(a))
        return false;
    for (size_t i = 0; p && i < p->n_allow; i++)
        if (in_net(a, p->allow[i].addr, p->allow[i].bits))
            return true;
    if (!in_net(a, mapped_net.addr, mapped_net.bits) &&
        !in_net(a, global_unicast.addr, global_unicast.bits))
        return false;
    return !in_table(a, deny, ARRAY_LEN(deny));
}

bool url_policy_addr_allowed(const url_policy *p, const struct sockaddr *sa)
{
    unsigned char a[16] = {[10] = 0xff, [11] = 0xff};
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(a + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(a, &in6->sin6_addr, 16);
    } else {
        return false;
    }
    return allowed16(p, a);
}

/* ------------------------------------------------------------------ allow list */

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t whylen, const char *fmt,
                                                          ...)
{
    va_list ap;
    if (!why || !whylen)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One trimmed entry, "address[/prefix]" with the prefix defaulting to a single host. */
static sw_status parse_entry(net6 *out, const char *entry, char *why, size_t whylen)
{
    char buf[64];
    struct in_addr v4;
    size_t n = strlen(entry);
    memset(out, 0, sizeof(*out));
    if (n >= sizeof(buf))
        goto malformed;
    memcpy(buf, entry, n + 1);

    char *slash = strchr(buf, '/');
    unsigned bits = 0;
    if (slash) {
        *slash = '\0';
        const char *d = slash + 1;
        size_t nd = strlen(d);
        if (nd == 0 || nd > 3 || (nd > 1 && d[0] == '0'))
            goto malformed;
        for (size_t i = 0; i < nd; i++) {
            if (!is_digit(d[i]))
                goto malformed;
            bits = bits * 10 + (unsigned)(d[i] - '0');
        }
    }
    /* inet_pton, not inet_aton: a configuration entry is written one way only. */
    bool is_v4 = inet_pton(AF_INET, buf, &v4) == 1;
    if (is_v4) {
        out->addr[10] = out->addr[11] = 0xff;
        memcpy(out->addr + 12, &v4, 4);
        if (!slash)
            bits = 32;
        if (bits > 32)
            goto malformed;
        out->bits = 96 + bits;
    } else {
        if (inet_pton(AF_INET6, buf, out->addr) != 1)
            goto malformed;
        if (!slash)
            bits = 128;
        if (bits > 128)
            goto malformed;
        out->bits = bits;
    }

    /* Exact ranges only: "127.0.0.1/24" is refused rather than silently widened. */
    unsigned char masked[16];
    memset(masked, 0, sizeof(masked));
    memcpy(masked, out->addr, out->bits / 8);
    if (out->bits % 8)
        masked[out->bits / 8] =
            (unsigned char)(out->addr[out->bits / 8] & (0xffu << (8 - out->bits % 8)));
    if (memcmp(masked, out->addr, 16) != 0) {
        set_why(why, whylen, "SW_PROBE_ALLOW_CIDRS entry \"%s\" has host bits set", entry);
        return SW_EINVAL;
    }

    for (size_t i = 0; i < ARRAY_LEN(never); i++) {
        if (overlaps(out, &never[i])) {
            set_why(why, whylen,
                    "SW_PROBE_ALLOW_CIDRS entry \"%s\" overlaps a range that can never be "
                    "allowed (0.0.0.0/8, 169.254.0.0/16, fe80::/10, ::, NAT64, 6to4, Teredo)",
                    entry);
            return SW_EINVAL;
        }
    }
    if (!is_v4 && overlaps(out, &mapped_net)) {
        set_why(why, whylen,
                "SW_PROBE_ALLOW_CIDRS entry \"%s\" covers IPv4-mapped addresses; write IPv4 "
                "ranges in IPv4 notation",
                entry);
        return SW_EINVAL;
    }
    if (!is_v4 && overlaps(out, &compat_net) &&
        !(out->bits == 128 && memcmp(out->addr, loopback6, 16) == 0)) {
        set_why(why, whylen,
                "SW_PROBE_ALLOW_CIDRS entry \"%s\" covers IPv4-compatible addresses (::/96); "
                "only ::1/128 is accepted there",
                entry);
        return SW_EINVAL;
    }
    if (is_v4 ? bits < 24 : bits < 64) {
        set_why(why, whylen,
                "SW_PROBE_ALLOW_CIDRS entry \"%s\" is wider than /24 (IPv4) or /64 (IPv6)", entry);
        return SW_EINVAL;
    }
    return SW_OK;

malformed:
    set_why(why, whylen, "SW_PROBE_ALLOW_CIDRS entry \"%.64s\" is not an address/prefix", entry);
    return SW_EINVAL;
}

sw_status url_policy_new(url_policy **out, const char *allow_cidrs, bool production, char *why,
                         size_t whylen)
{
    url_policy *p = NULL;
    char *entry = NULL;
    sw_status st = SW_OK;

    if (why && whylen)
        why[0] = '\0';
    if (!out)
        return SW_EINVAL;
    *out = NULL;

    const char *s = allow_cidrs ? allow_cidrs : "";
    bool empty = true;
    size_t n_max = 1;
    for (const char *c = s; *c; c++) {
        if (!is_blank(*c) && *c != ',')
            empty = false;
        if (*c == ',')
            n_max++;
    }
    if (!empty && production) {
        set_why(why, whylen, "%s", "SW_PROBE_ALLOW_CIDRS must be empty in production");
        return SW_EINVAL;
    }

    p = calloc(1, sizeof(*p));
    if (!p)
        return SW_EINTERNAL;
    if (empty) {
        *out = p;
        return SW_OK;
    }
    p->allow = calloc(n_max, sizeof(*p->allow));
    entry = malloc(strlen(s) + 1);
    if (!p->allow || !entry) {
        st = SW_EINTERNAL;
        goto out;
    }

    for (const char *c = s;;) {
        const char *comma = strchr(c, ',');
        const char *end = comma ? comma : c + strlen(c);
        while (c < end && is_blank(*c))
            c++;
        while (end > c && is_blank(end[-1]))
            end--;
        if (end > c) {
            memcpy(entry, c, (size_t)(end - c));
            entry[end - c] = '\0';
            st = parse_entry(&p->allow[p->n_allow], entry, why, whylen);
            if (st != SW_OK)
                goto out;
            p->n_allow++;
        }
        if (!comma)
            break;
        c = comma + 1;
    }
    *out = p;
    p = NULL;

out:
    free(entry);
    url_policy_free(p);
    return st;
}

void url_policy_free(url_policy *p)
{
    if (!p)
        return;
    free(p->allow);
    free(p->dns_servers);
    free(p);
}

sw_status url_policy_set_resolver(url_policy *p, const char *servers, int timeout_ms, char *why,
                                  size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (timeout_ms < 100 || timeout_ms > 4500) {
        set_why(why, whylen, "%s", "the DNS timeout must be 100-4500 ms");
        return SW_EINVAL;
    }
    if (servers && *servers && !sw_resolve_servers_valid(servers)) {
        set_why(why, whylen, "%s", "expected name servers like 127.0.0.1:53,[::1]:53");
        return SW_EINVAL;
    }
    char *copy = servers && *servers ? strdup(servers) : NULL;
    if (servers && *servers && !copy)
        return SW_EINTERNAL;
    free(p->dns_servers);
    p->dns_servers = copy;
    p->dns_timeout_ms = timeout_ms;
    return SW_OK;
}

bool url_policy_has_allowlist(const url_policy *p)
{
    return p && p->n_allow > 0;
}

/* ------------------------------------------------------------------ URLs */

const char *url_verdict_message(url_verdict v)
{
    switch (v) {
    case URL_OK:
        return "The URL can be monitored.";
    case URL_MALFORMED:
        return "Enter a valid URL.";
    case URL_BAD_SCHEME:
        return "Only http and https URLs can be monitored.";
    case URL_USERINFO:
        return "URLs with a user name or password cannot be monitored.";
    case URL_UNRESOLVABLE:
        return "The host name could not be resolved.";
    case URL_DENIED_ADDRESS:
        return "The URL points to a private or reserved address and cannot be monitored.";
    case URL_RESOLVE_TIMEOUT:
        return "The host name could not be resolved in time: its name server did not answer.";
    }
    return "Enter a valid URL.";
}

static url_verdict verdict(url_verdict v, const char *detail, char *reason, size_t len)
{
    if (reason && len)
        snprintf(reason, len, "%s", detail ? detail : url_verdict_message(v));
    return v;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The scheme by hand, before libcurl, so that "javascript:" and "ftp:" are told apart from
 * broken URLs, and "http:/x" or "http:///x" (which libcurl tolerates) are refused. */
static url_verdict check_scheme(const char *url)
{
    size_t i = 0;
    if (!is_alpha(url[0]))
        return URL_BAD_SCHEME;
    while (is_alpha(url[i]) || is_digit(url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    if (url[i] != ':')
        return URL_BAD_SCHEME;
    if (!(i == 4 && strncasecmp(url, "http", 4) == 0) &&
        !(i == 5 && strncasecmp(url, "https", 5) == 0))
        return URL_BAD_SCHEME;
    if (strncmp(url + i + 1, "//", 2) != 0 || url[i + 3] == '/')
        return URL_MALFORMED;
    return URL_OK;
}

static bool part_present(CURLU *h, CURLUPart what)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(h, what, &v, 0);
    curl_free(v);
    return rc == CURLUE_OK;
}

/* libcurl's host ("[::1]", "Example.COM.") into the name getaddrinfo is given. libcurl strips
 * a trailing dot before it resolves, and so does this. Returns false for a host that is not a
 * plain ASCII name or an IPv6 literal (IDN must be given in its xn-- form). */
static bool host_to_name(char *name, size_t len, bool *numeric, const char *host)
{
    size_t n = strlen(host);
    *numeric = false;
    if (n == 0 || n >= len)
        return false;
    if (host[0] == '[') {
        if (n < 3 || host[n - 1] != ']')
            return false;
        for (size_t i = 1; i < n - 1; i++)
            if (!is_hex(host[i]) && host[i] != ':' && host[i] != '.')
                return false;
        memcpy(name, host + 1, n - 2);
        name[n - 2] = '\0';
        *numeric = true;
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
            return false;
        name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    if (name[n - 1] == '.')
        n--;
    name[n] = '\0';
    return n > 0 && n <= HOST_MAX_LEN && name[0] != '.';
}

url_verdict url_policy_check(const url_policy *p, const char *url, char *reason, size_t len)
{
    CURLU *h = NULL;
    char *host = NULL, *port = NULL;
    struct addrinfo *res = NULL;
    sw_addrs addrs = {0, NULL};
    url_verdict v = URL_MALFORMED;
    const char *detail = NULL;
    char name[HOST_MAX_LEN + 2];
    bool numeric;

    if (!url || !url[0])
        goto out;
    if (strnlen(url, URL_MAX_LEN + 1) > URL_MAX_LEN) {
        detail = "The URL is longer than 2048 characters.";
        goto out;
    }
    for (const unsigned char *c = (const unsigned char *)url; *c; c++) {
        if (*c <= 0x20 || *c == 0x7f) {
            detail = "The URL contains spaces or control characters.";
            goto out;
        }
    }
    v = check_scheme(url);
    if (v != URL_OK)
        goto out;

    v = URL_MALFORMED;
    h = curl_url();
    if (!h)
        goto out;
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (rc == CURLUE_BAD_PORT_NUMBER)
        detail = "The port must be between 1 and 65535.";
    if (rc != CURLUE_OK)
        goto out;
    if (part_present(h, CURLUPART_USER) || part_present(h, CURLUPART_PASSWORD) ||
        part_present(h, CURLUPART_OPTIONS)) {
        v = URL_USERINFO;
        goto out;
    }
    /* A zone id only means something for link-local addresses, which are denied anyway. */
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        part_present(h, CURLUPART_ZONEID) || !host_to_name(name, sizeof(name), &numeric, host)) {
        detail = "The URL has no valid host name.";
        goto out;
    }
    if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        detail = "The port must be between 1 and 65535.";
        goto out;
    }
    char *end = NULL;
    unsigned long portnum = strtoul(port, &end, 10);
    if (!is_digit(port[0]) || *end || portnum < 1 || portnum > 65535) {
        detail = "The port must be between 1 and 65535.";
        goto out;
    }

    /* RFC 6761: .invalid never resolves and *.localhost is loopback; neither is asked of DNS. */
    v = URL_UNRESOLVABLE;
    if (strcmp(name, "invalid") == 0 || has_suffix(name, ".invalid"))
        goto out;
    const char *lookup = has_suffix(name, ".localhost") ? "localhost" : name;

    /* An IP literal in any spelling inet_aton accepts (2130706433, 0177.0.0.1, 127.1): glibc
     * parses it without asking the network; anything else is a name for c-ares. */
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(lookup, NULL, &hints, &res) != 0 || !res) {
        if (res)
            freeaddrinfo(res);
        res = NULL;
        if (numeric)
            goto out;
    } else {
        v = URL_OK;
        for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            if (!url_policy_addr_allowed(p, ai->ai_addr)) {
                v = URL_DENIED_ADDRESS;
                break;
            }
        }
        goto out;
    }
    sw_status rs = sw_resolve(&addrs, lookup, p ? p->dns_servers : NULL,
                              p && p->dns_timeout_ms ? p->dns_timeout_ms : DNS_TIMEOUT_MS);
    if (rs == SW_ETIMEOUT) {
        v = URL_RESOLVE_TIMEOUT;
        detail = "no answer from the name server in time";
    }
    if (rs != SW_OK)
        goto out;
    v = URL_OK;
    for (size_t i = 0; i < addrs.n; i++) {
        if (!url_policy_addr_allowed(p, (const struct sockaddr *)&addrs.addr[i])) {
            v = URL_DENIED_ADDRESS;
            break;
        }
    }

out:
    if (res)
        freeaddrinfo(res);
    sw_addrs_free(&addrs);
    curl_free(port);
    curl_free(host);
    curl_url_cleanup(h);
    return verdict(v, detail, reason, len);
}
