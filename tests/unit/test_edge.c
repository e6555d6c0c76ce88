/* The edge's pure helpers (http/edge.h): REST path -> route (404 vs 405), the Allow header,
 * the client address behind trusted proxies, and reading one cookie out of a Cookie header. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include "http/edge.h"
#include "http/guard.h"
#include "http/pings.h"

/* DESIGN §5 as the client sees it: method, path, subject, who may call, flags. */
static const struct {
    const char *method;
    const char *path;
    const char *subject;
    edge_auth auth;
    unsigned flags;
} expected_routes[] = {
    {"POST", "/api/auth/register/", "sw.v1.auth.register", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/verify-email/", "sw.v1.auth.verify_email", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/resend-verification/", "sw.v1.auth.resend_verification", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/token/", "sw.v1.auth.token", EDGE_PUBLIC, 0},
    {"POST", "/api/auth/token/refresh/", "sw.v1.auth.refresh", EDGE_PUBLIC, EDGE_REFRESH_COOKIE},
    {"POST", "/api/auth/logout/", "sw.v1.auth.logout", EDGE_ACCESS, EDGE_REFRESH_COOKIE},
    {"GET", "/api/auth/me/", "sw.v1.auth.me", EDGE_ACCESS, 0},
};

static void assert_route(const char *method, const char *path, size_t i)
{
    char param[72] = "junk";
    bool wrong = true;
    const edge_route *r = edge_route_find(method, path, param, sizeof(param), &wrong);
    if (!r)
        fail_msg("%s %s: no route", method, path);
    assert_false(wrong);
    assert_string_equal(r->subject, expected_routes[i].subject);
    assert_string_equal(r->method, expected_routes[i].method);
    assert_int_equal(r->auth, expected_routes[i].auth);
    assert_int_equal(r->flags, expected_routes[i].flags);
    assert_string_equal(param, ""); /* none of these has an {id} */
}

static void every_route_is_found_with_and_without_trailing_slash(void **state)
{
    for (size_t i = 0; i < sizeof(expected_routes) / sizeof(expected_routes[0]); i++) {
        char bare[128];
        assert_route(expected_routes[i].method, expected_routes[i].path, i);
        snprintf(bare, sizeof(bare), "%s", expected_routes[i].path);
        bare[strlen(bare) - 1] = '\0';
        assert_route(expected_routes[i].method, bare, i);
    }
}

static void wrong_method_is_405_not_404(void **state)
{
    static const struct {
        const char *method;
        const char *path;
    } cases[] = {
        {"GET", "/api/auth/register/"},     {"PUT", "/api/auth/token/"},
        {"GET", "/api/auth/token/refresh"}, {"DELETE", "/api/auth/logout/"},
        {"POST", "/api/auth/me/"},          {"post", "/api/auth/register/"},
        {"HEAD", "/api/auth/me"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char param[72];
        bool wrong = false;
        const edge_route *r =
            edge_route_find(cases[i].method, cases[i].path, param, sizeof(param), &wrong);
        if (r || !wrong)
            fail_msg("%s %s: expected 405", cases[i].method, cases[i].path);
    }
}

static void unknown_path_is_404(void **state)
{
    static const char *paths[] = {
        "/api/auth/me/extra",
        "/api/auth/me//",
        "/api/auth/mee/",
        "/api/auth/m",
        "/API/AUTH/ME/",
        "/api/auth/",
        "/api/",
        "/",
        "",
        "/api/nothing/",
        "api/auth/me/",
        "/api/auth/me/?x=1",
        "/api/auth/token/refresh/x",
        "//api/auth/me/",
        "/api/auth/me/%2e%2e/",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char param[72];
        bool wrong = true; /* must be reset by the call */
        const edge_route *r = edge_route_find("GET", paths[i], param, sizeof(param), &wrong);
        if (r || wrong)
            fail_msg("GET \"%s\": expected 404 (route=%p, wrong_method=%d)", paths[i],
                     (const void *)r, wrong);
        r = edge_route_find("POST", paths[i], param, sizeof(param), &wrong);
        if (r || wrong)
            fail_msg("POST \"%s\": expected 404", paths[i]);
    }
}

static void allow_header_lists_methods_of_the_path(void **state)
{
    char allow[64];
    edge_route_allow("/api/auth/me/", allow, sizeof(allow));
    assert_string_equal(allow, "GET");
    edge_route_allow("/api/auth/me", allow, sizeof(allow));
    assert_string_equal(allow, "GET");
    edge_route_allow("/api/auth/register/", allow, sizeof(allow));
    assert_string_equal(allow, "POST");
    edge_route_allow("/api/auth/token/refresh", allow, sizeof(allow));
    assert_string_equal(allow, "POST");
    edge_route_allow("/api/nothing/", allow, sizeof(allow));
    assert_string_equal(allow, "");
    edge_route_allow("/api/auth/me/extra", allow, sizeof(allow));
    assert_string_equal(allow, "");
}

/* edge_client_ip with one X-Forwarded-For line (xff may be NULL: no header). */
static void one_line(char ip[64], const char *peer, const char *xff, const char *trusted)
{
    const char *lines[] = {xff};
    edge_client_ip(ip, 64, peer, lines, xff ? 1 : 0, trusted);
}

static void client_ip_ignores_xff_from_untrusted_peer(void **state)
{
    char ip[64];
    one_line(ip, "203.0.113.5", "1.2.3.4", "10.0.0.1");
    assert_string_equal(ip, "203.0.113.5");
    one_line(ip, "203.0.113.5", "1.2.3.4", NULL);
    assert_string_equal(ip, "203.0.113.5");
    one_line(ip, "203.0.113.5", "1.2.3.4", "");
    assert_string_equal(ip, "203.0.113.5");
    /* Trust is by exact address, not by prefix. */
    one_line(ip, "10.0.0.1", "1.2.3.4", "10.0.0.10");
    assert_string_equal(ip, "10.0.0.1");
    one_line(ip, "10.0.0.10", "1.2.3.4", "10.0.0.1");
    assert_string_equal(ip, "10.0.0.10");
}

static void client_ip_takes_last_xff_hop_from_trusted_peer(void **state)
{
    char ip[64];
    one_line(ip, "10.0.0.1", "198.51.100.7", "10.0.0.1");
    assert_string_equal(ip, "198.51.100.7");
    /* The client spoofs the first entries; the proxy appended the last one. */
    one_line(ip, "10.0.0.1", "1.1.1.1, 2.2.2.2,198.51.100.7", "10.0.0.1");
    assert_string_equal(ip, "198.51.100.7");
    one_line(ip, "10.0.0.2", "1.1.1.1, 198.51.100.8 ", "10.0.0.1, 10.0.0.2");
    assert_string_equal(ip, "198.51.100.8");
    one_line(ip, "10.0.0.1", "", "10.0.0.1");
    assert_string_equal(ip, "10.0.0.1");
    one_line(ip, "10.0.0.1", NULL, "10.0.0.1");
    assert_string_equal(ip, "10.0.0.1");
}

static void client_ip_falls_back_to_peer_on_garbage_xff(void **state)
{
    static const char *garbage[] = {
        "not-an-ip", "1.2.3.4, evil", "evil,", "999.1.1.1", "1.2.3.4:8080",
        "<script>",  "unknown",       ", , ,", "1.2.3",
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        char ip[64];
        one_line(ip, "10.0.0.1", garbage[i], "10.0.0.1");
        if (strcmp(ip, "10.0.0.1") != 0)
            fail_msg("XFF \"%s\" gave \"%s\", expected the peer", garbage[i], ip);
    }
}

static void client_ip_is_rightmost_untrusted_across_lines(void **state)
{
    char ip[64];
    /* Two proxies in a row (10.0.0.2 in front of 10.0.0.1): the client is the entry left of
     * the last trusted hop, not the last entry. */
    one_line(ip, "10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2", "10.0.0.1,10.0.0.2");
    assert_string_equal(ip, "198.51.100.7");
    /* Every entry trusted: the left-most one. */
    one_line(ip, "10.0.0.1", "10.0.0.2", "10.0.0.1,10.0.0.2");
    assert_string_equal(ip, "10.0.0.2");
    /* Garbage left of a trusted hop: that hop. */
    one_line(ip, "10.0.0.1", "junk, 10.0.0.2", "10.0.0.1,10.0.0.2");
    assert_string_equal(ip, "10.0.0.2");
    /* Empty list elements are ignored (RFC 9110 §5.6.1). */
    one_line(ip, "10.0.0.1", "1.2.3.4,", "10.0.0.1");
    assert_string_equal(ip, "1.2.3.4");

    /* The header sent twice: the lines are one list, the second line's entries last. A client
     * that sends its own X-Forwarded-For line gets it in front of the proxy's. */
    const char *two[] = {"6.6.6.6", "198.51.100.9"};
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", two, 2, "10.0.0.1");
    assert_string_equal(ip, "198.51.100.9");
    const char *spread[] = {"6.6.6.6, 198.51.100.10", "10.0.0.2"};
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", spread, 2, "10.0.0.1,10.0.0.2");
    assert_string_equal(ip, "198.51.100.10");
    const char *empty_last[] = {"198.51.100.11", ""};
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", empty_last, 2, "10.0.0.1");
    assert_string_equal(ip, "198.51.100.11");
    const char *bad_last[] = {"198.51.100.12", "evil"};
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", bad_last, 2, "10.0.0.1");
    assert_string_equal(ip, "10.0.0.1");
}

static void client_ip_handles_ipv6(void **state)
{
    char ip[64];
    one_line(ip, "::1", "2001:db8::1", "::1");
    assert_string_equal(ip, "2001:db8::1");
    one_line(ip, "2001:db8::2", "2001:db8::1", "::1");
    assert_string_equal(ip, "2001:db8::2");
    one_line(ip, "10.0.0.1", "203.0.113.9, 2001:db8::abcd", "10.0.0.1");
    assert_string_equal(ip, "2001:db8::abcd");
    one_line(ip, "::1", "2001:db8::zz", "::1");
    assert_string_equal(ip, "::1");
}

static struct sockaddr *v4(struct sockaddr_in *sa, const char *ip)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &sa->sin_addr), 1);
    return (struct sockaddr *)sa;
}

static void guard_caps_connections_per_address(void **state)
{
    edge_guard *g = NULL;
    struct sockaddr_in sa;
    assert_int_equal(edge_guard_new(&g, 3, 16, "10.0.0.1", 8080, false), SW_OK);
    for (int i = 0; i < 3; i++)
        assert_true(edge_guard_admit(g, v4(&sa, "198.51.100.1"), sizeof(sa)));
    assert_false(edge_guard_admit(g, v4(&sa, "198.51.100.1"), sizeof(sa)));
    /* Another address has its own count; a trusted proxy is never counted. */
    assert_true(edge_guard_admit(g, v4(&sa, "198.51.100.2"), sizeof(sa)));
    for (int i = 0; i < 10; i++)
        assert_true(edge_guard_admit(g, v4(&sa, "10.0.0.1"), sizeof(sa)));
    assert_int_equal(edge_guard_refused(g), 1);
    /* A closed connection frees its place. */
    edge_guard_release(g, "198.51.100.1");
    assert_true(edge_guard_admit(g, v4(&sa, "198.51.100.1"), sizeof(sa)));
    assert_false(edge_guard_admit(g, v4(&sa, "198.51.100.1"), sizeof(sa)));
    edge_guard_free(g);
}

static void guard_counts_ipv6_by_prefix(void **state)
{
    edge_guard *g = NULL;
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    assert_int_equal(edge_guard_new(&g, 2, 16, "", 8080, false), SW_OK);
    inet_pton(AF_INET6, "2001:db8:1:2::1", &sa.sin6_addr);
    assert_true(edge_guard_admit(g, (struct sockaddr *)&sa, sizeof(sa)));
    inet_pton(AF_INET6, "2001:db8:1:2:dead:beef:0:7", &sa.sin6_addr);
    assert_true(edge_guard_admit(g, (struct sockaddr *)&sa, sizeof(sa)));
    /* A third address of the same /64 is the same client. */
    inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &sa.sin6_addr);
    assert_false(edge_guard_admit(g, (struct sockaddr *)&sa, sizeof(sa)));
    inet_pton(AF_INET6, "2001:db8:1:3::1", &sa.sin6_addr);
    assert_true(edge_guard_admit(g, (struct sockaddr *)&sa, sizeof(sa)));
    /* Released by any address of the prefix (civetweb reports the one it saw). */
    edge_guard_release(g, "2001:db8:1:2::1");
    inet_pton(AF_INET6, "2001:db8:1:2::42", &sa.sin6_addr);
    assert_true(edge_guard_admit(g, (struct sockaddr *)&sa, sizeof(sa)));
    edge_guard_free(g);
}

static void guard_reuses_slots_of_gone_addresses(void **state)
{
    edge_guard *g = NULL;
    struct sockaddr_in sa;
    char ip[32];
    assert_int_equal(edge_guard_new(&g, 2, 40, "", 8080, false), SW_OK);
    /* Many more addresses over time than slots: each leaves before the next wave. */
    for (int wave = 0; wave < 50; wave++) {
        for (int i = 0; i < 40; i++) {
            snprintf(ip, sizeof(ip), "10.%d.0.%d", wave, i + 1);
            assert_true(edge_guard_admit(g, v4(&sa, ip), sizeof(sa)));
            assert_true(edge_guard_admit(g, v4(&sa, ip), sizeof(sa)));
            assert_false(edge_guard_admit(g, v4(&sa, ip), sizeof(sa)));
        }
        for (int i = 0; i < 40; i++) {
            snprintf(ip, sizeof(ip), "10.%d.0.%d", wave, i + 1);
            edge_guard_release(g, ip);
            edge_guard_release(g, ip);
        }
    }
    /* Every count went back to zero: a released address starts again at its cap. */
    assert_true(edge_guard_admit(g, v4(&sa, "10.3.0.7"), sizeof(sa)));
    assert_true(edge_guard_admit(g, v4(&sa, "10.3.0.7"), sizeof(sa)));
    assert_false(edge_guard_admit(g, v4(&sa, "10.3.0.7"), sizeof(sa)));
    edge_guard_free(g);
}

static void host_is_checked_against_allowed_hosts(void **state)
{
    const char *allowed = "app.example.test, .example.org";
    assert_true(edge_host_allowed("app.example.test", allowed));
    assert_true(edge_host_allowed("APP.example.TEST:8443", allowed));
    assert_true(edge_host_allowed("app.example.test.", allowed));
    assert_true(edge_host_allowed("example.org", allowed));
    assert_true(edge_host_allowed("eu.status.example.org:80", allowed));
    assert_false(edge_host_allowed("evil.test", allowed));
    assert_false(edge_host_allowed("app.example.test.evil.test", allowed));
    assert_false(edge_host_allowed("notexample.org", allowed));
    assert_false(edge_host_allowed("xapp.example.test", allowed));
    assert_false(edge_host_allowed("app.example.test:80x", allowed));
    assert_false(edge_host_allowed("app.example.test:", allowed));
    assert_false(edge_host_allowed("app.example.test/x", allowed));
    assert_false(edge_host_allowed("", allowed));
    assert_false(edge_host_allowed(NULL, allowed));
    assert_true(edge_host_allowed("[::1]:8080", "[::1]"));
    assert_false(edge_host_allowed("[::1", "[::1]"));
    assert_true(edge_host_allowed("anything.test", "*"));
    assert_false(edge_host_allowed("anything.test", ""));
}

static void cookie_is_found_in_any_position(void **state)
{
    char v[64];
    assert_true(edge_cookie(v, sizeof(v), "sw_refresh=first; a=1; b=2", "sw_refresh"));
    assert_string_equal(v, "first");
    assert_true(edge_cookie(v, sizeof(v), "a=1; sw_refresh=middle; b=2", "sw_refresh"));
    assert_string_equal(v, "middle");
    assert_true(edge_cookie(v, sizeof(v), "a=1; b=2; sw_refresh=last", "sw_refresh"));
    assert_string_equal(v, "last");
    assert_true(edge_cookie(v, sizeof(v), "a=1;sw_refresh=tight", "sw_refresh"));
    assert_string_equal(v, "tight");
    assert_true(edge_cookie(v, sizeof(v), "sw_refresh=only", "sw_refresh"));
    assert_string_equal(v, "only");
}

static void absent_or_lookalike_cookie_is_not_found(void **state)
{
    char v[64];
    assert_false(edge_cookie(v, sizeof(v), NULL, "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "", "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "a=1; b=2", "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "xsw_refresh=evil", "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "sw_refresh_old=evil", "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "a=sw_refresh=evil", "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "sw_refresh", "sw_refresh"));
    assert_false(edge_cookie(v, sizeof(v), "sw_refresh=", "sw_refresh"));

    /* The lookalike comes first; the real one must still be the one returned. */
    assert_true(edge_cookie(v, sizeof(v), "xsw_refresh=evil; sw_refresh=good", "sw_refresh"));
    assert_string_equal(v, "good");
}

static void too_long_cookie_is_not_truncated(void **state)
{
    char header[256], v[16];
    snprintf(header, sizeof(header), "sw_refresh=%s", "0123456789abcdef"); /* 16 chars */
    assert_false(edge_cookie(v, sizeof(v), header, "sw_refresh"));
    snprintf(header, sizeof(header), "sw_refresh=%s; a=1", "0123456789abcde"); /* 15 chars */
    assert_true(edge_cookie(v, sizeof(v), header, "sw_refresh"));
    assert_string_equal(v, "0123456789abcde");
}

/* ---- absolute URLs: the scheme and host a client used (DRF build_absolute_uri) ---- */

static const char *base(bool tls, const char *host, const char *proto, const char *fhost,
                        const char *peer, const char *trusted, const char *allowed)
{
    static char out[300];
    memset(out, 'x', sizeof(out));
    edge_request_base(out, sizeof(out), tls, host, proto, fhost, peer, trusted, allowed,
                      "127.0.0.1:8080");
    return out;
}

static void base_is_scheme_and_host_header(void **state)
{
    (void)state;
    assert_string_equal(base(false, "127.0.0.1:28080", NULL, NULL, "10.0.0.9", "", ""),
                        "http://127.0.0.1:28080");
    assert_string_equal(base(true, "Status.Example.com", NULL, NULL, "10.0.0.9", "", ""),
                        "https://Status.Example.com");
    assert_string_equal(base(false, "[::1]:8080", NULL, NULL, "10.0.0.9", "", ""),
                        "http://[::1]:8080");
}

static void forwarded_headers_count_only_from_trusted_proxies(void **state)
{
    (void)state;
    /* From a trusted proxy: its (last) values win. */
    assert_string_equal(
        base(false, "10.0.0.2:8080", "https", "status.example.com", "127.0.0.1", "127.0.0.1", ""),
        "https://status.example.com");
    assert_string_equal(base(false, "10.0.0.2", "http, https", "evil.test, status.example.com",
                             "127.0.0.1", "10.0.0.1, 127.0.0.1", ""),
                        "https://status.example.com");
    /* From anyone else: ignored. */
    assert_string_equal(
        base(false, "status.example.com", "https", "evil.test", "10.9.9.9", "127.0.0.1", ""),
        "http://status.example.com");
    /* A proto that is neither http nor https changes nothing. */
    assert_string_equal(base(true, "a.example", "gopher", NULL, "127.0.0.1", "127.0.0.1", ""),
                        "https://a.example");
}

static void malformed_hosts_are_never_echoed(void **state)
{
    (void)state;
    const char *bad[] = {"evil.test/x", "a b",     "x\"y", "host:port",         "h:123456",
                         "[::1",        "[zz::1]", "",     "user@host.example", "a.example:80:1",
                         "<script>",    NULL};
    for (int i = 0; bad[i]; i++) {
        assert_string_equal(base(false, bad[i], NULL, NULL, "10.0.0.9", "", ""),
                            "http://127.0.0.1:8080");
        assert_false(edge_host_allowed(bad[i], ""));
    }
    assert_string_equal(base(false, NULL, NULL, NULL, NULL, NULL, NULL), "http://127.0.0.1:8080");
}

static void allowed_hosts_follow_django(void **state)
{
    (void)state;
    const char *allowed = "status.example.com, .example.org";
    assert_true(edge_host_allowed("status.example.com", allowed));
    assert_true(edge_host_allowed("STATUS.example.com:8443", allowed));
    assert_true(edge_host_allowed("status.example.com.", allowed));
    assert_true(edge_host_allowed("example.org", allowed));
    assert_true(edge_host_allowed("a.b.example.org", allowed));
    assert_false(edge_host_allowed("badexample.org", allowed));
    assert_false(edge_host_allowed("example.com", allowed));
    assert_false(edge_host_allowed("status.example.com.evil.test", allowed));
    assert_true(edge_host_allowed("anything.test", "*"));
    /* A host outside the list becomes the first concrete entry, also when a trusted proxy
     * sent it. */
    assert_string_equal(base(true, "evil.test", NULL, NULL, "10.0.0.9", "", allowed),
                        "https://status.example.com");
    assert_string_equal(
        base(false, "status.example.com", "https", "evil.test", "127.0.0.1", "127.0.0.1", allowed),
        "https://status.example.com");
    assert_string_equal(base(false, "evil.test", NULL, NULL, "10.0.0.9", "", ".example.org"),
                        "http://127.0.0.1:8080");
}

static void schema_and_docs_are_local_routes(void **state)
{
    (void)state;
    char param[72];
    bool wrong = false;
    const edge_route *r = edge_route_find("GET", "/api/schema/", param, sizeof(param), &wrong);
    assert_non_null(r);
    assert_null(r->subject);
    assert_true(r->flags & EDGE_LOCAL);
    r = edge_route_find("GET", "/api/docs", param, sizeof(param), &wrong);
    assert_non_null(r);
    assert_true(r->flags & EDGE_LOCAL);
    assert_null(edge_route_find("POST", "/api/schema/", param, sizeof(param), &wrong));
    assert_true(wrong);
    /* The embedded document is the 3.1 JSON of http/openapi.yaml. */
    assert_true(edge_openapi_json_len > 1000);
    assert_memory_equal(edge_openapi_json, "{\"openapi\":\"3.1.", 16);
}

/* ---- heartbeat pings ---- */

#define PING_UUID "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"

static void ping_paths(void **state)
{
    (void)state;
    char uuid[BUS_UUID_LEN + 1];
    const char *kind;
    int ex;
    struct {
        const char *path, *kind;
        int exit_status;
    } ok[] = {
        {"/ping/" PING_UUID, "success", -1},        {"/ping/" PING_UUID "/", "success", -1},
        {"/ping/" PING_UUID "/start", "start", -1}, {"/ping/" PING_UUID "/fail/", "fail", -1},
        {"/ping/" PING_UUID "/0", "success", 0},    {"/ping/" PING_UUID "/1", "fail", 1},
        {"/ping/" PING_UUID "/255", "fail", 255},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(edge_ping_path(ok[i].path, uuid, &kind, &ex));
        assert_string_equal(uuid, PING_UUID);
        assert_string_equal(kind, ok[i].kind);
        assert_int_equal(ex, ok[i].exit_status);
    }
    static const char *bad[] = {"/ping/",
                                "/ping/" PING_UUID "x",
                                "/ping/9F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F",
                                "/ping/" PING_UUID "/256",
                                "/ping/" PING_UUID "/-1",
                                "/ping/" PING_UUID "/1000",
                                "/ping/" PING_UUID "/stop",
                                "/ping/" PING_UUID "/start/x",
                                "/ping/" PING_UUID "//",
                                "/ping/not-a-uuid-at-all-not-a-uuid-at-all",
                                "/pings/" PING_UUID,
                                NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_false(edge_ping_path(bad[i], uuid, &kind, &ex));
}

static void ping_bodies_become_utf8(void **state)
{
    (void)state;
    char a[] = "ok caf\xc3\xa9 \xe2\x82\xac";
    assert_int_equal(edge_utf8_clean(a, strlen(a)), strlen(a)); /* valid: untouched */
    char b[] = {'a', '\xff', 'b', '\xc0', '\xaf', 'c', '\0', 'd', 0};
    size_t n = edge_utf8_clean(b, 8);
    assert_int_equal(n, 8);
    assert_memory_equal(b, "a?b??c?d", 8);
    char c[] = "x\xe2\x82"; /* cut in the middle of a sequence: dropped */
    assert_int_equal(edge_utf8_clean(c, 3), 1);
    char d[] = "\xed\xa0\x80"; /* a surrogate */
    edge_utf8_clean(d, 3);
    assert_memory_equal(d, "???", 3);
}

static void ping_keys_and_limit(void **state)
{
    (void)state;
    edge_ping_keys *keys = NULL;
    char tenant[BUS_TENANT_MAX], ep[BUS_UUID_LEN + 1];
    bus_ping_key k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(edge_ping_keys_new(&keys), SW_OK);
    assert_int_equal(edge_ping_keys_take(keys, PING_UUID, 100, tenant, ep), EDGE_PING_UNKNOWN);
    bus_ping_key_hash(k.hash, PING_UUID);
    snprintf(k.tenant_id, sizeof(k.tenant_id), "t_abc");
    snprintf(k.endpoint_id, sizeof(k.endpoint_id), "0b5c3e4a-1f2d-4c6b-9a8e-7d6c5b4a3f21");
    edge_ping_keys_apply(keys, &k);
    for (int i = 0; i < BUS_PING_RATE_PER_S; i++)
        assert_int_equal(edge_ping_keys_take(keys, PING_UUID, 100, tenant, ep), EDGE_PING_OK);
    assert_string_equal(tenant, "t_abc");
    assert_string_equal(ep, k.endpoint_id);
    assert_int_equal(edge_ping_keys_take(keys, PING_UUID, 100, tenant, ep), EDGE_PING_LIMITED);
    assert_int_equal(edge_ping_keys_take(keys, PING_UUID, 101, tenant, ep), EDGE_PING_OK);
    /* Two pings in one millisecond are recorded a millisecond apart, in the order they came;
     * a later clock reading is taken as it is. */
    int64_t at1 = 0, at2 = 0, at3 = 0;
    assert_int_equal(edge_ping_keys_take_at(keys, PING_UUID, 103000, tenant, ep, &at1),
                     EDGE_PING_OK);
    assert_int_equal(edge_ping_keys_take_at(keys, PING_UUID, 103000, tenant, ep, &at2),
                     EDGE_PING_OK);
    assert_int_equal(at1, 103000);
    assert_int_equal(at2, 103001);
    assert_int_equal(edge_ping_keys_take_at(keys, PING_UUID, 103500, tenant, ep, &at3),
                     EDGE_PING_OK);
    assert_int_equal(at3, 103500);
    /* Another uuid is another key; a removed key is unknown again. */
    assert_int_equal(
        edge_ping_keys_take(keys, "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e50", 101, tenant, ep),
        EDGE_PING_UNKNOWN);
    k.removed = true;
    edge_ping_keys_apply(keys, &k);
    assert_int_equal(edge_ping_keys_take(keys, PING_UUID, 104, tenant, ep), EDGE_PING_UNKNOWN);
    edge_ping_keys_free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_found_with_and_without_trailing_slash),
        cmocka_unit_test(ping_paths),
        cmocka_unit_test(ping_bodies_become_utf8),
        cmocka_unit_test(ping_keys_and_limit),
        cmocka_unit_test(wrong_method_is_405_not_404),
        cmocka_unit_test(unknown_path_is_404),
        cmocka_unit_test(allow_header_lists_methods_of_the_path),
        cmocka_unit_test(client_ip_ignores_xff_from_untrusted_peer),
        cmocka_unit_test(client_ip_takes_last_xff_hop_from_trusted_peer),
        cmocka_unit_test(client_ip_falls_back_to_peer_on_garbage_xff),
        cmocka_unit_test(client_ip_is_rightmost_untrusted_across_lines),
        cmocka_unit_test(client_ip_handles_ipv6),
        cmocka_unit_test(host_is_checked_against_allowed_hosts),
        cmocka_unit_test(guard_caps_connections_per_address),
        cmocka_unit_test(guard_counts_ipv6_by_prefix),
        cmocka_unit_test(guard_reuses_slots_of_gone_addresses),
        cmocka_unit_test(cookie_is_found_in_any_position),
        cmocka_unit_test(absent_or_lookalike_cookie_is_not_found),
        cmocka_unit_test(too_long_cookie_is_not_truncated),
        cmocka_unit_test(base_is_scheme_and_host_header),
        cmocka_unit_test(forwarded_headers_count_only_from_trusted_proxies),
        cmocka_unit_test(malformed_hosts_are_never_echoed),
        cmocka_unit_test(allowed_hosts_follow_django),
        cmocka_unit_test(schema_and_docs_are_local_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
