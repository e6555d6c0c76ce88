/* The REST contract of DESIGN §5 as a table: path -> subject, and who may call it. */
#include "http/edge.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const edge_route routes[] = {
    {"POST", "/api/auth/register/", "sw.v1.auth.register", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/verify-email/", "sw.v1.auth.verify_email", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/resend-verification/", "sw.v1.auth.resend_verification", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/token/", "sw.v1.auth.token", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/token/refresh/", "sw.v1.auth.refresh", EDGE_PUBLIC, EDGE_REFRESH_COOKIE},
    {"POST", "/api/auth/logout/", "sw.v1.auth.logout", EDGE_ACCESS, EDGE_REFRESH_COOKIE},
    {"GET", "/api/auth/me/", "sw.v1.auth.me", EDGE_ACCESS, 0},
    {"GET", "/api/billing/plans/", "sw.v1.billing.plans", EDGE_PUBLIC, 0},
    {"POST", "/api/billing/create-checkout-session/", "sw.v1.billing.create_checkout_session",
     EDGE_ACCESS, 0},
    {"POST", "/api/billing/webhook/", "sw.v1.billing.webhook", EDGE_PUBLIC, EDGE_RAW},
    {"GET", "/api/endpoints/", "sw.v1.endpoints.list", EDGE_ACCESS, 0},
    {"POST", "/api/endpoints/", "sw.v1.endpoints.create", EDGE_ACCESS, 0},
    {"GET", "/api/endpoints/{id}/", "sw.v1.endpoints.get", EDGE_ACCESS, 0},
    {"PUT", "/api/endpoints/{id}/", "sw.v1.endpoints.update", EDGE_ACCESS, 0},
    {"PATCH", "/api/endpoints/{id}/", "sw.v1.endpoints.patch", EDGE_ACCESS, 0},
    {"DELETE", "/api/endpoints/{id}/", "sw.v1.endpoints.delete", EDGE_ACCESS, 0},
    {"GET", "/api/endpoints/{id}/checks/", "sw.v1.endpoints.checks", EDGE_ACCESS, 0},
    {"GET", "/api/endpoints/{id}/uptime/", "sw.v1.endpoints.uptime", EDGE_ACCESS, 0},
    {"GET", "/api/schema/", NULL, EDGE_PUBLIC, EDGE_LOCAL},
    {"GET", "/api/docs/", NULL, EDGE_PUBLIC, EDGE_LOCAL},
};

/* Matches one pattern; a {id} segment accepts 1-64 characters of [A-Za-z0-9_-]. */
static bool match(const char *pattern, const char *path, char *param, size_t param_len)
{
    const char *p = pattern, *s = path;
    if (param_len)
        param[0] = '\0';
    while (*p) {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = 0;
            while (s[n] && s[n] != '/') {
                char ch = s[n];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
                    return false;
                n++;
            }
            if (n == 0 || n > 64 || n >= param_len)
                return false;
            memcpy(param, s, n);
            param[n] = '\0';
            s += n;
            p += 4;
            continue;
        }
        if (*p != *s) {
            /* The trailing slash is optional: "/api/auth/me" is "/api/auth/me/". */
            return *p == '/' && p[1] == '\0' && *s == '\0';
        }
        p++;
        s++;
    }
    return *s == '\0';
}

const edge_route *edge_route_find(const char *method, const char *path, char *param,
                                  size_t param_len, bool *wrong_method)
{
    char scratch[72];
    *wrong_method = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, path, scratch, sizeof(scratch)))
            continue;
        if (strcmp(routes[i].method, method) != 0) {
            *wrong_method = true;
            continue;
        }
        snprintf(param, param_len, "%s", scratch);
        return &routes[i];
    }
    return NULL;
}

void edge_route_allow(const char *path, char *out, size_t len)
{
    char scratch[72];
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, path, scratch, sizeof(scratch)))
            continue;
        int n = snprintf(out + used, len - used, "%s%s", used ? ", " : "", routes[i].method);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool in_list(const char *ip, const char *list)
{
    size_t n = strlen(ip);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ", ");
        if ((size_t)(end - p) == n && strncmp(p, ip, n) == 0)
            return true;
        p = end;
    }
    return false;
}

void edge_client_ip(char *out, size_t len, const char *peer, const char *xff,
                    const char *trusted)
{
    snprintf(out, len, "%s", peer ? peer : "");
    /* No peer address (a NULL peer is taken above as "") cannot be a trusted proxy. */
    if (!peer || !xff || !*xff || !trusted || !*trusted || !in_list(peer, trusted))
        return;
    /* The last hop is the one our trusted proxy appended; anything before it is the
     * client's own claim. */
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    char cand[64];
    snprintf(cand, sizeof(cand), "%.*s", (int)strcspn(last, " "), last);
    if (is_ip(cand))
        snprintf(out, len, "%s", cand);
}

bool edge_cookie(char *out, size_t len, const char *header, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            size_t vl = strcspn(v, ";");
            if (vl >= len)
                return false;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return vl > 0;
        }
        p += strcspn(p, ";");
    }
    return false;
}

/* The last comma-separated value of a header, trimmed, into out; false when empty. */
static bool last_value(char *out, size_t len, const char *h)
{
    if (!h)
        return false;
    const char *p = strrchr(h, ',');
    p = p ? p + 1 : h;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= len)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* A Host header value we are willing to echo into a URL: a name or IPv4 address of
 * [A-Za-z0-9.-], or a bracketed IPv6 address, with an optional :port. */
static bool host_valid(const char *h)
{
    size_t n = strlen(h), i = 0;
    if (n == 0 || n > 260)
        return false;
    if (h[0] == '[') {
        i = 1;
        while (i < n && h[i] != ']') {
            char ch = h[i];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                  (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.'))
                return false;
            i++;
        }
        if (i == n || i == 1)
            return false;
        i++; /* the ']' */
    } else {
        while (i < n && h[i] != ':') {
            char ch = h[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
                return false;
            i++;
        }
        if (i == 0)
            return false;
    }
    if (i == n)
        return true;
    if (h[i] != ':' || i + 1 == n || n - i - 1 > 5)
        return false;
    return strspn(h + i + 1, "0123456789") == n - i - 1;
}

/* The host part without the port and without a trailing dot, lowercased, into out. */
static void host_domain(char *out, size_t len, const char *h)
{
    size_t n = h[0] == '[' ? strcspn(h, "]") + (strchr(h, ']') != NULL) : strcspn(h, ":");
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i]);
    out[n] = '\0';
    if (n > 1 && out[n - 1] == '.')
        out[n - 1] = '\0';
}

bool edge_host_allowed(const char *host, const char *allowed_hosts)
{
    char dom[272], entry[272];
    if (!host || !host_valid(host))
        return false;
    if (!allowed_hosts || !*allowed_hosts)
        return true;
    host_domain(dom, sizeof(dom), host);
    size_t dl = strlen(dom);
    for (const char *p = allowed_hosts; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0 || n >= sizeof(entry)) {
            p += n;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            entry[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
        entry[n] = '\0';
        p += n;
        if (strcmp(entry, "*") == 0 || strcmp(entry, dom) == 0)
            return true;
        /* ".example.com": example.com itself and any subdomain of it (Django's rule). */
        if (entry[0] == '.' &&
            (strcmp(entry + 1, dom) == 0 || (dl > n && strcmp(dom + dl - n, entry) == 0)))
            return true;
    }
    return false;
}

/* The first entry of allowed_hosts that names one host (not "*", not ".domain"). */
static bool first_concrete_host(char *out, size_t len, const char *allowed_hosts)
{
    for (const char *p = allowed_hosts; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n && n < len && p[0] != '.' && p[0] != '*') {
            memcpy(out, p, n);
            out[n] = '\0';
            if (host_valid(out))
                return true;
        }
        p += n;
    }
    return false;
}

void edge_request_base(char *out, size_t len, bool tls, const char *host, const char *xf_proto,
                       const char *xf_host, const char *peer, const char *trusted,
                       const char *allowed_hosts, const char *fallback_host)
{
    char proto[8] = "", fwd[272] = "", chosen[272] = "";
    const char *scheme = tls ? "https" : "http";
    const char *h = host;
    bool via_proxy = peer && *peer && trusted && *trusted && in_list(peer, trusted);

    if (via_proxy && last_value(proto, sizeof(proto), xf_proto)) {
        if (strcasecmp(proto, "https") == 0)
            scheme = "https";
        else if (strcasecmp(proto, "http") == 0)
            scheme = "http";
    }
    if (via_proxy && last_value(fwd, sizeof(fwd), xf_host))
        h = fwd;
    if (h && edge_host_allowed(h, allowed_hosts))
        snprintf(chosen, sizeof(chosen), "%s", h);
    else if (!first_concrete_host(chosen, sizeof(chosen), allowed_hosts))
        snprintf(chosen, sizeof(chosen), "%s",
                 fallback_host && host_valid(fallback_host) ? fallback_host : "localhost");
    snprintf(out, len, "%s://%s", scheme, chosen);
}
