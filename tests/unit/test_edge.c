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

#include "http/edge.h"

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

static void client_ip_ignores_xff_from_untrusted_peer(void **state)
{
    char ip[64];
    edge_client_ip(ip, sizeof(ip), "203.0.113.5", "1.2.3.4", "10.0.0.1");
    assert_string_equal(ip, "203.0.113.5");
    edge_client_ip(ip, sizeof(ip), "203.0.113.5", "1.2.3.4", NULL);
    assert_string_equal(ip, "203.0.113.5");
    edge_client_ip(ip, sizeof(ip), "203.0.113.5", "1.2.3.4", "");
    assert_string_equal(ip, "203.0.113.5");
    /* Trust is by exact address, not by prefix. */
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", "1.2.3.4", "10.0.0.10");
    assert_string_equal(ip, "10.0.0.1");
    edge_client_ip(ip, sizeof(ip), "10.0.0.10", "1.2.3.4", "10.0.0.1");
    assert_string_equal(ip, "10.0.0.10");
}

static void client_ip_takes_last_xff_hop_from_trusted_peer(void **state)
{
    char ip[64];
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", "198.51.100.7", "10.0.0.1");
    assert_string_equal(ip, "198.51.100.7");
    /* The client spoofs the first entries; the proxy appended the last one. */
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", "1.1.1.1, 2.2.2.2,198.51.100.7", "10.0.0.1");
    assert_string_equal(ip, "198.51.100.7");
    edge_client_ip(ip, sizeof(ip), "10.0.0.2", "1.1.1.1, 198.51.100.8 ", "10.0.0.1, 10.0.0.2");
    assert_string_equal(ip, "198.51.100.8");
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", "", "10.0.0.1");
    assert_string_equal(ip, "10.0.0.1");
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", NULL, "10.0.0.1");
    assert_string_equal(ip, "10.0.0.1");
}

static void client_ip_falls_back_to_peer_on_garbage_xff(void **state)
{
    static const char *garbage[] = {
        "not-an-ip", "1.2.3.4, evil", "1.2.3.4,", "999.1.1.1", "1.2.3.4:8080",
        "<script>",  "unknown",       ", , ,",    "1.2.3",
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        char ip[64];
        edge_client_ip(ip, sizeof(ip), "10.0.0.1", garbage[i], "10.0.0.1");
        if (strcmp(ip, "10.0.0.1") != 0)
            fail_msg("XFF \"%s\" gave \"%s\", expected the peer", garbage[i], ip);
    }
}

static void client_ip_handles_ipv6(void **state)
{
    char ip[64];
    edge_client_ip(ip, sizeof(ip), "::1", "2001:db8::1", "::1");
    assert_string_equal(ip, "2001:db8::1");
    edge_client_ip(ip, sizeof(ip), "2001:db8::2", "2001:db8::1", "::1");
    assert_string_equal(ip, "2001:db8::2");
    edge_client_ip(ip, sizeof(ip), "10.0.0.1", "203.0.113.9, 2001:db8::abcd", "10.0.0.1");
    assert_string_equal(ip, "2001:db8::abcd");
    edge_client_ip(ip, sizeof(ip), "::1", "2001:db8::zz", "::1");
    assert_string_equal(ip, "::1");
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
    assert_true(edge_host_allowed("anything.test", ""));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_found_with_and_without_trailing_slash),
        cmocka_unit_test(wrong_method_is_405_not_404),
        cmocka_unit_test(unknown_path_is_404),
        cmocka_unit_test(allow_header_lists_methods_of_the_path),
        cmocka_unit_test(client_ip_ignores_xff_from_untrusted_peer),
        cmocka_unit_test(client_ip_takes_last_xff_hop_from_trusted_peer),
        cmocka_unit_test(client_ip_falls_back_to_peer_on_garbage_xff),
        cmocka_unit_test(client_ip_handles_ipv6),
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
