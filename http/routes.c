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
    {"POST", "/api/auth/accept-invitation/", "sw.v1.auth.accept_invitation", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/password-reset/", "sw.v1.auth.password_reset", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/password-reset/confirm/", "sw.v1.auth.password_reset_confirm",
     EDGE_PUBLIC, 0},
    {"POST", "/api/auth/password-change/", "sw.v1.auth.password_change", EDGE_ACCESS, 0},
    {"GET", "/api/team/members/", "sw.v1.auth.members_list", EDGE_ACCESS, 0},
    {"PATCH", "/api/team/members/{id}/", "sw.v1.auth.members_patch", EDGE_ACCESS, 0},
    {"DELETE", "/api/team/members/{id}/", "sw.v1.auth.members_delete", EDGE_ACCESS, 0},
    {"POST", "/api/team/transfer-ownership/", "sw.v1.auth.transfer_ownership", EDGE_ACCESS, 0},
    {"GET", "/api/team/invitations/", "sw.v1.auth.invitations_list", EDGE_ACCESS, 0},
    {"POST", "/api/team/invitations/", "sw.v1.auth.invitations_create", EDGE_ACCESS, 0},
    {"DELETE", "/api/team/invitations/{id}/", "sw.v1.auth.invitations_delete", EDGE_ACCESS, 0},
    {"GET", "/api/tokens/", "sw.v1.auth.tokens_list", EDGE_ACCESS, 0},
    {"POST", "/api/tokens/", "sw.v1.auth.tokens_create", EDGE_ACCESS, 0},
    {"DELETE", "/api/tokens/{id}/", "sw.v1.auth.tokens_revoke", EDGE_ACCESS, 0},
    {"GET", "/api/audit-log/", "sw.v1.auth.audit_list", EDGE_ACCESS, 0},
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
    {"GET", "/api/endpoints/{id}/response-times/", "sw.v1.endpoints.response_times", EDGE_ACCESS,
     0},
    {"GET", "/api/endpoints/{id}/incidents/", "sw.v1.endpoints.incidents", EDGE_ACCESS, 0},
    {"GET", "/api/endpoints/{id}/pings/", "sw.v1.endpoints.pings", EDGE_ACCESS, 0},
    {"POST", "/api/endpoints/{id}/rotate-ping-url/", "sw.v1.endpoints.rotate_ping_url", EDGE_ACCESS,
     0},
    {"GET", "/api/status-pages/", "sw.v1.endpoints.status_pages.list", EDGE_ACCESS, 0},
    {"POST", "/api/status-pages/", "sw.v1.endpoints.status_pages.create", EDGE_ACCESS, 0},
    {"GET", "/api/status-pages/{id}/", "sw.v1.endpoints.status_pages.get", EDGE_ACCESS, 0},
    {"PATCH", "/api/status-pages/{id}/", "sw.v1.endpoints.status_pages.patch", EDGE_ACCESS, 0},
    {"DELETE", "/api/status-pages/{id}/", "sw.v1.endpoints.status_pages.delete", EDGE_ACCESS, 0},
    {"GET", "/api/channels/", "sw.v1.notify.channels_list", EDGE_ACCESS, 0},
    {"POST", "/api/channels/", "sw.v1.notify.channels_create", EDGE_ACCESS, 0},
    {"GET", "/api/channels/{id}/", "sw.v1.notify.channels_get", EDGE_ACCESS, 0},
    {"PATCH", "/api/channels/{id}/", "sw.v1.notify.channels_patch", EDGE_ACCESS, 0},
    {"DELETE", "/api/channels/{id}/", "sw.v1.notify.channels_delete", EDGE_ACCESS, 0},
    {"POST", "/api/channels/{id}/test/", "sw.v1.notify.channels_test", EDGE_ACCESS, 0},
    {"GET", "/api/notifications/", "sw.v1.notify.notifications_list", EDGE_ACCESS, 0},
    {"GET", "/api/incidents/", "sw.v1.notify.incidents_list", EDGE_ACCESS, 0},
    {"GET", "/api/incidents/{id}/", "sw.v1.notify.incidents_get", EDGE_ACCESS, 0},
    {"POST", "/api/incidents/{id}/acknowledge/", "sw.v1.notify.incidents_acknowledge", EDGE_ACCESS,
     0},
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

bool edge_ip_listed(const char *ip, const char *list)
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

/* The last entry of line[0..*end) as a token (spaces and tabs trimmed); moves *end to the
 * comma before it, or to -1 when it was the first. */
static size_t prev_entry(const char *line, long *end, const char **tok)
{
    long e = *end, b;
    while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '\t'))
        e--;
    b = e;
    while (b > 0 && line[b - 1] != ',')
        b--;
    *end = b - 1; /* the comma, or -1 */
    while (line[b] == ' ' || line[b] == '\t')
        b++;
    *tok = line + b;
    return e > b ? (size_t)(e - b) : 0;
}

void edge_client_ip(char *out, size_t len, const char *peer, const char *const *xff, size_t nxff,
                    const char *trusted)
{
    char hop[64] = "";
    snprintf(out, len, "%s", peer ? peer : "");
    /* No peer address (a NULL peer is taken above as "") cannot be a trusted proxy. */
    if (!peer || !xff || !trusted || !*trusted || !edge_ip_listed(peer, trusted))
        return;
    /* Each proxy appends the address it saw, so we walk from the right: the first entry that
     * is not one of our proxies is the client; what lies left of it is the client's own
     * claim. Repeated header lines are one list in order (RFC 9110 §5.3). */
    for (size_t l = nxff; l-- > 0;) {
        const char *line = xff[l];
        if (!line)
            continue;
        for (long end = (long)strlen(line); end >= 0;) {
            const char *tok = NULL;
            size_t n = prev_entry(line, &end, &tok);
            if (n == 0)
                continue; /* an empty element ("a,,b") carries nothing */
            char cand[64];
            if (n >= sizeof(cand))
                goto done;
            memcpy(cand, tok, n);
            cand[n] = '\0';
            if (!is_ip(cand))
                goto done;
            snprintf(hop, sizeof(hop), "%s", cand);
            if (!edge_ip_listed(cand, trusted))
                goto done;
        }
    }
done:
    if (hop[0])
        snprintf(out, len, "%s", hop);
}

bool edge_host_allowed(const char *h, const char *allowed)
{
    char host[256];
    if (!h || !*h || !allowed)
        return false;
    /* The name without its port; an IPv6 literal keeps its brackets. */
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
    if (n == 0 || n >= sizeof(host) || (h[0] == '[' && h[n - 1] != ']'))
        return false;
    if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:") !=
        strlen(h))
        return false;
    if (h[n] == ':' && (h[n + 1] == '\0' || strspn(h + n + 1, "0123456789") != strlen(h + n + 1)))
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    if (n > 1 && host[n - 1] == '.') /* "example.com." is example.com */
        host[--n] = '\0';
    for (const char *p = allowed; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == 0)
            break;
        if (len == 1 && p[0] == '*')
            return true;
        if (p[0] == '.') {
            /* ".example.com": example.com itself and anything ending in .example.com */
            if ((n == len - 1 && strncasecmp(host, p + 1, len - 1) == 0) ||
                (n > len && strncasecmp(host + n - len, p, len) == 0))
                return true;
        } else if (n == len && strncasecmp(host, p, len) == 0) {
            return true;
        }
        p += len;
    }
    return false;
}

void edge_media_type(char *out, size_t len, const char *ct)
{
    size_t o = 0;
    if (!len)
        return;
    const char *p = ct ? ct : "";
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, ";");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n && o + 1 < len; i++)
        out[o++] = (p[i] > 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') ? p[i] : '?';
    out[o] = '\0';
}

bool edge_is_json_type(const char *ct)
{
    char type[32];
    if (!ct)
        return false;
    edge_media_type(type, sizeof(type), ct);
    return strcasecmp(type, "application/json") == 0;
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
    bool via_proxy = peer && *peer && trusted && *trusted && edge_ip_listed(peer, trusted);

    if (via_proxy && last_value(proto, sizeof(proto), xf_proto)) {
        if (strcasecmp(proto, "https") == 0)
            scheme = "https";
        else if (strcasecmp(proto, "http") == 0)
            scheme = "http";
    }
    if (via_proxy && last_value(fwd, sizeof(fwd), xf_host))
        h = fwd;
    /* The edge has already refused a Host outside ALLOWED_HOSTS (400); a forwarded host still
     * has to pass here. */
    if (h && host_valid(h) &&
        (!allowed_hosts || !*allowed_hosts || edge_host_allowed(h, allowed_hosts)))
        snprintf(chosen, sizeof(chosen), "%s", h);
    else if (!first_concrete_host(chosen, sizeof(chosen), allowed_hosts))
        snprintf(chosen, sizeof(chosen), "%s",
                 fallback_host && host_valid(fallback_host) ? fallback_host : "localhost");
    snprintf(out, len, "%s://%s", scheme, chosen);
}
