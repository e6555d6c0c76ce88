/* SSRF URL policy (actors/common/url_policy.h): which monitor URLs are refused and why, every
 * deny range by an address inside it and the public addresses just outside, alternative
 * spellings of internal addresses, and the loopback allow list used by the integration tests.
 * No network: only IP literals, "localhost" and the reserved .invalid name are resolved, and
 * one name is asked of a loopback name server of the test's own that never answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <time.h>
#include <cmocka.h>

#include "actors/common/url_policy.h"

static const char *verdict_name(url_verdict v)
{
    static const char *names[] = {"URL_OK",       "URL_MALFORMED",    "URL_BAD_SCHEME",
                                  "URL_USERINFO", "URL_UNRESOLVABLE", "URL_DENIED_ADDRESS"};
    return (unsigned)v < ARRAY_LEN(names) ? names[v] : "?";
}

static url_policy *policy(const char *allow)
{
    url_policy *p = NULL;
    char why[256];
    if (url_policy_new(&p, allow, false, why, sizeof(why)) != SW_OK)
        fail_msg("allow list \"%s\" refused: %s", allow ? allow : "(null)", why);
    assert_non_null(p);
    return p;
}

/* A reason never echoes an address: no digits at all in the sentences for these verdicts. */
static void assert_reason_clean(const char *url, url_verdict v, const char *reason)
{
    assert_true(reason[0] != '\0');
    if (v == URL_DENIED_ADDRESS || v == URL_OK || v == URL_UNRESOLVABLE)
        for (const char *c = reason; *c; c++)
            if (*c >= '0' && *c <= '9')
                fail_msg("reason for %s carries digits: \"%s\"", url, reason);
}

typedef struct url_case {
    const char *url;
    url_verdict want;
} url_case;

static void run_cases(const url_policy *p, const url_case *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char reason[256];
        url_verdict got = url_policy_check(p, cases[i].url, reason, sizeof(reason));
        if (got != cases[i].want) {
            print_error("%s: want %s, got %s (%s)\n", cases[i].url, verdict_name(cases[i].want),
                        verdict_name(got), reason);
            failures++;
            continue;
        }
        assert_reason_clean(cases[i].url, got, reason);
    }
    if (failures)
        fail_msg("%d of %zu URL cases wrong", failures, n);
}

/* ------------------------------------------------------------------ verdict table */

static const url_case default_cases[] = {
    /* schemes */
    {"http://1.1.1.1/", URL_OK},
    {"https://8.8.8.8:443/status?x=1#top", URL_OK},
    {"HTTP://1.1.1.1/", URL_OK},
    {"HtTpS://1.1.1.1/", URL_OK},
    {"ftp://1.1.1.1/", URL_BAD_SCHEME},
    {"file:///etc/passwd", URL_BAD_SCHEME},
    {"gopher://1.1.1.1:70/_GET", URL_BAD_SCHEME},
    {"javascript:alert(1)", URL_BAD_SCHEME},
    {"data:text/plain,hello", URL_BAD_SCHEME},
    {"dict://1.1.1.1:11211/stats", URL_BAD_SCHEME},
    {"httpx://1.1.1.1/", URL_BAD_SCHEME},
    {"1.1.1.1", URL_BAD_SCHEME},
    {"example.com:80/", URL_BAD_SCHEME},
    {"//1.1.1.1/", URL_BAD_SCHEME},

    /* userinfo */
    {"http://user:pw@1.1.1.1/", URL_USERINFO},
    {"http://user@1.1.1.1/", URL_USERINFO},
    {"http://@1.1.1.1/", URL_USERINFO},
    {"http://:@1.1.1.1/", URL_USERINFO},
    {"https://1.1.1.1:443@127.0.0.1/", URL_USERINFO},
    {"http://1.1.1.1\\@127.0.0.1/", URL_USERINFO},

    /* malformed */
    {"", URL_MALFORMED},
    {"http://", URL_MALFORMED},
    {"http:///path", URL_MALFORMED},
    {"http:/1.1.1.1/", URL_MALFORMED},
    {"http:1.1.1.1", URL_MALFORMED},
    {"http://?x=1", URL_MALFORMED},
    {"http://1.1.1.1:0/", URL_MALFORMED},
    {"http://1.1.1.1:65536/", URL_MALFORMED},
    {"http://1.1.1.1:abc/", URL_MALFORMED},
    {"http://1.1.1.1:-1/", URL_MALFORMED},
    {"http://1.1.1.1:1/", URL_OK},
    {"http://1.1.1.1:65535/", URL_OK},
    {"http://exa mple.com/", URL_MALFORMED},
    {" http://1.1.1.1/", URL_MALFORMED},
    {"http://1.1.1.1/\n", URL_MALFORMED},
    {"http://1.1.1.1/\tx", URL_MALFORMED},
    {"http://1.1.1.1/\x7f", URL_MALFORMED},
    {"http://ex%20ample.com/", URL_MALFORMED},
    {"http://ex%00ample.com/", URL_MALFORMED},
    {"http://./", URL_MALFORMED},
    {"http://[::1/", URL_MALFORMED},
    {"http://[fe80::1%25eth0]/", URL_MALFORMED},
    {"http://b\u00fccher.example/", URL_MALFORMED},
    {"http://evil.com\\.1.1.1.1/", URL_MALFORMED},

    /* IPv4 deny ranges, an address inside each */
    {"http://0.0.0.0/", URL_DENIED_ADDRESS},
    {"http://0.1.2.3/", URL_DENIED_ADDRESS},
    {"http://10.0.0.1/", URL_DENIED_ADDRESS},
    {"http://10.255.255.255/", URL_DENIED_ADDRESS},
    {"http://100.64.0.1/", URL_DENIED_ADDRESS},
    {"http://100.127.255.255/", URL_DENIED_ADDRESS},
    {"http://127.0.0.1/", URL_DENIED_ADDRESS},
    {"http://127.255.255.254:8080/", URL_DENIED_ADDRESS},
    {"http://169.254.169.254/latest/meta-data/", URL_DENIED_ADDRESS},
    {"http://172.16.0.1/", URL_DENIED_ADDRESS},
    {"http://172.31.255.255/", URL_DENIED_ADDRESS},
    {"http://192.0.0.8/", URL_DENIED_ADDRESS},
    {"http://192.0.2.1/", URL_DENIED_ADDRESS},
    {"http://192.168.1.1/", URL_DENIED_ADDRESS},
    {"http://198.18.0.1/", URL_DENIED_ADDRESS},
    {"http://198.19.255.255/", URL_DENIED_ADDRESS},
    {"http://198.51.100.7/", URL_DENIED_ADDRESS},
    {"http://203.0.113.9/", URL_DENIED_ADDRESS},
    {"http://224.0.0.1/", URL_DENIED_ADDRESS},
    {"http://239.255.255.250/", URL_DENIED_ADDRESS},
    {"http://240.0.0.1/", URL_DENIED_ADDRESS},
    {"http://255.255.255.255/", URL_DENIED_ADDRESS},

    /* IPv6 deny ranges */
    {"http://[::]/", URL_DENIED_ADDRESS},
    {"http://[::1]/", URL_DENIED_ADDRESS},
    {"http://[0:0:0:0:0:0:0:1]:8080/", URL_DENIED_ADDRESS},
    {"http://[fc00::1]/", URL_DENIED_ADDRESS},
    {"http://[fd12:3456:789a::1]/", URL_DENIED_ADDRESS},
    {"http://[fe80::1]/", URL_DENIED_ADDRESS},
    {"http://[febf:ffff::1]/", URL_DENIED_ADDRESS},
    {"http://[ff02::1]/", URL_DENIED_ADDRESS},
    {"http://[64:ff9b::808:808]/", URL_DENIED_ADDRESS},
    {"http://[64:ff9b:1::1]/", URL_DENIED_ADDRESS},
    {"http://[100::1]/", URL_DENIED_ADDRESS},
    {"http://[2001::1]/", URL_DENIED_ADDRESS},
    {"http://[2001:db8::1]/", URL_DENIED_ADDRESS},
    {"http://[2002:808:808::1]/", URL_DENIED_ADDRESS},
    {"http://[4000::1]/", URL_DENIED_ADDRESS},

    /* just outside the ranges */
    {"http://9.255.255.255/", URL_OK},
    {"http://11.0.0.0/", URL_OK},
    {"http://100.63.255.255/", URL_OK},
    {"http://100.128.0.0/", URL_OK},
    {"http://126.255.255.255/", URL_OK},
    {"http://128.0.0.0/", URL_OK},
    {"http://169.253.255.255/", URL_OK},
    {"http://169.255.0.0/", URL_OK},
    {"http://172.15.255.255/", URL_OK},
    {"http://172.32.0.0/", URL_OK},
    {"http://192.0.1.1/", URL_OK},
    {"http://192.0.3.0/", URL_OK},
    {"http://192.167.255.255/", URL_OK},
    {"http://192.169.0.0/", URL_OK},
    {"http://198.17.255.255/", URL_OK},
    {"http://198.20.0.0/", URL_OK},
    {"http://198.51.99.255/", URL_OK},
    {"http://203.0.114.0/", URL_OK},
    {"http://223.255.255.255/", URL_OK},
    {"http://[2606:4700:4700::1111]/", URL_OK},
    {"https://[2001:4860:4860::8888]:8443/", URL_OK},
    {"http://[2001:200::1]/", URL_OK},
    {"http://[2003::1]/", URL_OK},

    /* other spellings of 127.0.0.1 and 169.254.169.254 */
    {"http://2130706433/", URL_DENIED_ADDRESS},
    {"http://0x7f000001/", URL_DENIED_ADDRESS},
    {"http://0177.0.0.1/", URL_DENIED_ADDRESS},
    {"http://127.1/", URL_DENIED_ADDRESS},
    {"http://0x7f.1/", URL_DENIED_ADDRESS},
    {"http://127.0.0.1./", URL_DENIED_ADDRESS},
    {"http://127.0.0.%31/", URL_DENIED_ADDRESS},
    {"http://2852039166/", URL_DENIED_ADDRESS},
    {"http://0xa9fea9fe/", URL_DENIED_ADDRESS},
    {"http://0251.0376.0251.0376/", URL_DENIED_ADDRESS},
    {"http://0/", URL_DENIED_ADDRESS},

    /* IPv6 forms embedding an internal IPv4 address */
    {"http://[::ffff:127.0.0.1]/", URL_DENIED_ADDRESS},
    {"http://[::ffff:169.254.169.254]/", URL_DENIED_ADDRESS},
    {"http://[::ffff:7f00:1]/", URL_DENIED_ADDRESS},
    {"http://[::ffff:a9fe:a9fe]/", URL_DENIED_ADDRESS},
    {"http://[::ffff:10.0.0.1]/", URL_DENIED_ADDRESS},
    {"http://[64:ff9b::7f00:1]/", URL_DENIED_ADDRESS},
    {"http://[64:ff9b::a9fe:a9fe]/", URL_DENIED_ADDRESS},
    {"http://[2002:7f00:1::]/", URL_DENIED_ADDRESS},
    {"http://[2002:a9fe:a9fe::1]/", URL_DENIED_ADDRESS},
    {"http://[::127.0.0.1]/", URL_DENIED_ADDRESS},
    {"http://[::ffff:8.8.8.8]/", URL_OK},

    /* names */
    {"http://localhost/", URL_DENIED_ADDRESS},
    {"http://localhost./", URL_DENIED_ADDRESS},
    {"http://LOCALHOST:8080/", URL_DENIED_ADDRESS},
    {"http://api.localhost/", URL_DENIED_ADDRESS},
    {"http://does-not-exist.invalid/", URL_UNRESOLVABLE},
    {"https://does-not-exist.invalid./x", URL_UNRESOLVABLE},
};

static void verdicts_without_allow_list(void **state)
{
    url_policy *p = policy(NULL);
    assert_false(url_policy_has_allowlist(p));
    run_cases(p, default_cases, ARRAY_LEN(default_cases));
    url_policy_free(p);
}

/* A NULL policy is the default policy, never an open one. */
static void null_policy_denies_like_the_default(void **state)
{
    run_cases(NULL, default_cases, ARRAY_LEN(default_cases));
}

static void length_limit_is_2048(void **state)
{
    static const char prefix[] = "http://1.1.1.1/";
    char url[2100];
    url_policy *p = policy("");

    memset(url, 'a', sizeof(url));
    memcpy(url, prefix, strlen(prefix));
    url[2048] = '\0';
    assert_int_equal(url_policy_check(p, url, NULL, 0), URL_OK);
    url[2048] = 'a';
    url[2049] = '\0';
    assert_int_equal(url_policy_check(p, url, NULL, 0), URL_MALFORMED);

    char reason[128];
    assert_int_equal(url_policy_check(p, NULL, reason, sizeof(reason)), URL_MALFORMED);
    assert_string_equal(reason, url_verdict_message(URL_MALFORMED));
    url_policy_free(p);
}

/* .invalid must fail at once, without waiting on a resolver. */
static void invalid_names_fail_fast(void **state)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(url_policy_check(NULL, "http://does-not-exist.invalid/", NULL, 0),
                     URL_UNRESOLVABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 1.0);
}

/* ------------------------------------------------------------------ messages */

static void messages_are_client_safe(void **state)
{
    char reason[256];
    assert_string_equal(url_verdict_message(URL_BAD_SCHEME),
                        "Only http and https URLs can be monitored.");
    for (int v = URL_OK; v <= URL_DENIED_ADDRESS; v++) {
        const char *m = url_verdict_message((url_verdict)v);
        assert_non_null(m);
        assert_true(strlen(m) > 10);
    }
    assert_non_null(url_verdict_message((url_verdict)99));

    static const char *inward[] = {"http://localhost/", "http://2130706433/", "http://0xa9fea9fe/",
                                   "http://[::ffff:7f00:1]/", "http://api.localhost/"};
    for (size_t i = 0; i < ARRAY_LEN(inward); i++) {
        assert_int_equal(url_policy_check(NULL, inward[i], reason, sizeof(reason)),
                         URL_DENIED_ADDRESS);
        assert_string_equal(reason, url_verdict_message(URL_DENIED_ADDRESS));
        assert_null(strstr(reason, "127."));
        assert_null(strstr(reason, "169.254"));
        assert_null(strstr(reason, "::1"));
        assert_null(strstr(reason, "localhost"));
    }

    assert_int_equal(url_policy_check(NULL, "gopher://1.1.1.1/", reason, sizeof(reason)),
                     URL_BAD_SCHEME);
    assert_string_equal(reason, "Only http and https URLs can be monitored.");
    assert_int_equal(url_policy_check(NULL, "http://1.1.1.1:0/", reason, sizeof(reason)),
                     URL_MALFORMED);
    assert_string_equal(reason, "The port must be between 1 and 65535.");
    assert_int_equal(url_policy_check(NULL, "http://1.1.1.1:65536/", reason, sizeof(reason)),
                     URL_MALFORMED);
    assert_string_equal(reason, "The port must be between 1 and 65535.");

    /* A short buffer is truncated, not overrun. */
    char tiny[8];
    assert_int_equal(url_policy_check(NULL, "ftp://x/", tiny, sizeof(tiny)), URL_BAD_SCHEME);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

/* ------------------------------------------------------------------ allow list */

static void loopback_allow_list_opens_exactly_its_entries(void **state)
{
    static const url_case cases[] = {
        {"http://127.0.0.1:8080/", URL_OK},
        {"http://127.0.0.1/health/", URL_OK},
        {"http://2130706433:8080/", URL_OK},
        {"http://[::ffff:127.0.0.1]:8080/", URL_OK},
        {"http://127.0.0.2/", URL_DENIED_ADDRESS},
        {"http://127.0.0.0/", URL_DENIED_ADDRESS},
        {"http://169.254.169.254/", URL_DENIED_ADDRESS},
        {"http://[::ffff:169.254.169.254]/", URL_DENIED_ADDRESS},
        {"http://0.0.0.0/", URL_DENIED_ADDRESS},
        {"http://10.0.0.1/", URL_DENIED_ADDRESS},
        {"http://[::1]/", URL_DENIED_ADDRESS},
        {"http://[64:ff9b::7f00:1]/", URL_DENIED_ADDRESS},
        {"http://[2002:7f00:1::]/", URL_DENIED_ADDRESS},
        {"http://[::127.0.0.1]/", URL_DENIED_ADDRESS},
        {"http://user@127.0.0.1:8080/", URL_USERINFO},
        {"ftp://127.0.0.1/", URL_BAD_SCHEME},
        {"http://1.1.1.1/", URL_OK},
    };
    url_policy *p = policy("127.0.0.1/32");
    assert_true(url_policy_has_allowlist(p));
    run_cases(p, cases, ARRAY_LEN(cases));
    url_policy_free(p);
}

static void both_loopbacks_open_localhost(void **state)
{
    static const url_case cases[] = {
        {"http://localhost:8080/", URL_OK},
        {"http://localhost.:8080/", URL_OK},
        {"http://[::1]:8080/", URL_OK},
        {"http://127.0.0.1:8080/", URL_OK},
        {"http://[::]/", URL_DENIED_ADDRESS},
        {"http://[::2]/", URL_DENIED_ADDRESS},
        {"http://127.0.0.2/", URL_DENIED_ADDRESS},
        {"http://[fe80::1]/", URL_DENIED_ADDRESS},
    };
    url_policy *p = policy("127.0.0.1/32,::1/128");
    run_cases(p, cases, ARRAY_LEN(cases));
    url_policy_free(p);
}

static void allow_list_spelling(void **state)
{
    url_policy *p = policy(" 127.0.0.0/24 , ::1 ,");
    assert_true(url_policy_has_allowlist(p));
    assert_int_equal(url_policy_check(p, "http://127.0.0.200/", NULL, 0), URL_OK);
    assert_int_equal(url_policy_check(p, "http://[::1]/", NULL, 0), URL_OK);
    assert_int_equal(url_policy_check(p, "http://127.0.1.1/", NULL, 0), URL_DENIED_ADDRESS);
    url_policy_free(p);

    p = policy("10.1.2.0/24,fd00:1::/64");
    assert_int_equal(url_policy_check(p, "http://10.1.2.3/", NULL, 0), URL_OK);
    assert_int_equal(url_policy_check(p, "http://10.1.3.3/", NULL, 0), URL_DENIED_ADDRESS);
    assert_int_equal(url_policy_check(p, "http://[fd00:1::5]/", NULL, 0), URL_OK);
    assert_int_equal(url_policy_check(p, "http://[fd00:2::5]/", NULL, 0), URL_DENIED_ADDRESS);
    url_policy_free(p);

    static const char *empty[] = {NULL, "", "  ", ",", " , "};
    for (size_t i = 0; i < ARRAY_LEN(empty); i++) {
        p = policy(empty[i]);
        assert_false(url_policy_has_allowlist(p));
        assert_int_equal(url_policy_check(p, "http://127.0.0.1/", NULL, 0), URL_DENIED_ADDRESS);
        url_policy_free(p);
    }
    url_policy_free(NULL);
    assert_false(url_policy_has_allowlist(NULL));
}

static void refused_allow_lists(void **state)
{
    static const char *refused[] = {
        "169.254.0.0/16",
        "169.254.169.254/32",
        "169.254.169.0/24",
        "0.0.0.0/8",
        "0.0.0.0/32",
        "0.0.0.0",
        "10.0.0.0/8",
        "127.0.0.0/8",
        "127.0.0.0/23",
        "fe80::/64",
        "fe80::1/128",
        "fe80::1",
        "::/128",
        "::/127",
        "::2/128",
        "fd00::/48",
        "garbage",
        "127.0.0.1/33",
        "::1/129",
        "127.0.0.1/",
        "/32",
        "127.0.0.1/abc",
        "127.0.0.1/+32",
        "127.0.0.1/024",
        "127.0.0.1/24",
        "2130706433/32",
        "127.1/32",
        "0x7f000001",
        "::ffff:127.0.0.1/128",
        "::ffff:169.254.169.254/128",
        "64:ff9b::a9fe:a9fe/128",
        "64:ff9b::7f00:1/128",
        "2002:7f00:1::/64",
        "2001::/64",
        "127.0.0.1/32,garbage",
        "127.0.0.1/32,169.254.169.254/32",
        "127.0.0.1 /32",
        "127.0.0.1/32;::1/128",
    };
    for (size_t i = 0; i < ARRAY_LEN(refused); i++) {
        url_policy *p = (url_policy *)0x1;
        char why[256] = "";
        if (url_policy_new(&p, refused[i], false, why, sizeof(why)) != SW_EINVAL)
            fail_msg("\"%s\" accepted", refused[i]);
        assert_null(p);
        if (why[0] == '\0')
            fail_msg("\"%s\" refused without a reason", refused[i]);
    }
}

static void production_refuses_any_allow_list(void **state)
{
    url_policy *p = NULL;
    char why[256] = "";
    assert_int_equal(url_policy_new(&p, "127.0.0.1/32", true, why, sizeof(why)), SW_EINVAL);
    assert_null(p);
    assert_non_null(strstr(why, "production"));
    assert_int_equal(url_policy_new(&p, "127.0.0.1/32,::1/128", true, NULL, 0), SW_EINVAL);
    assert_null(p);

    assert_int_equal(url_policy_new(&p, "", true, why, sizeof(why)), SW_OK);
    assert_string_equal(why, "");
    assert_false(url_policy_has_allowlist(p));
    url_policy_free(p);
    p = NULL;
    assert_int_equal(url_policy_new(&p, NULL, true, NULL, 0), SW_OK);
    assert_non_null(p);
    url_policy_free(p);

    assert_int_equal(url_policy_new(NULL, "", false, NULL, 0), SW_EINVAL);
}

static void accepted_allow_list(void **state)
{
    url_policy *p = NULL;
    char why[256] = "x";
    assert_int_equal(url_policy_new(&p, "127.0.0.1/32,::1/128", false, why, sizeof(why)), SW_OK);
    assert_string_equal(why, "");
    assert_true(url_policy_has_allowlist(p));
    url_policy_free(p);
}

/* ------------------------------------------------------------------ sockaddr */

static bool v4_allowed(const url_policy *p, const char *ip)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(80);
    assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
    return url_policy_addr_allowed(p, (const struct sockaddr *)&sin);
}

static bool v6_allowed(const url_policy *p, const char *ip)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(443);
    assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
    return url_policy_addr_allowed(p, (const struct sockaddr *)&sin6);
}

static void sockaddrs_are_checked_directly(void **state)
{
    url_policy *def = policy(NULL);
    url_policy *lo = policy("127.0.0.1/32,::1/128");

    assert_true(v4_allowed(def, "1.1.1.1"));
    assert_true(v4_allowed(def, "8.8.8.8"));
    assert_false(v4_allowed(def, "127.0.0.1"));
    assert_false(v4_allowed(def, "10.0.0.1"));
    assert_false(v4_allowed(def, "169.254.169.254"));
    assert_false(v4_allowed(def, "0.0.0.0"));
    assert_false(v4_allowed(def, "255.255.255.255"));
    assert_true(v6_allowed(def, "2606:4700:4700::1111"));
    assert_true(v6_allowed(def, "::ffff:1.1.1.1"));
    assert_false(v6_allowed(def, "::1"));
    assert_false(v6_allowed(def, "::"));
    assert_false(v6_allowed(def, "::ffff:127.0.0.1"));
    assert_false(v6_allowed(def, "::ffff:169.254.169.254"));
    assert_false(v6_allowed(def, "64:ff9b::a9fe:a9fe"));
    assert_false(v6_allowed(def, "2002:a9fe:a9fe::"));
    assert_false(v6_allowed(def, "2001:0:4136:e378:8000:63bf:3fff:fdd2"));
    assert_false(v6_allowed(def, "fe80::1"));
    assert_false(v6_allowed(def, "fd00::1"));
    assert_false(v6_allowed(def, "ff02::1"));
    assert_false(v6_allowed(NULL, "::1"));
    assert_false(v4_allowed(NULL, "127.0.0.1"));

    assert_true(v4_allowed(lo, "127.0.0.1"));
    assert_true(v6_allowed(lo, "::1"));
    assert_true(v6_allowed(lo, "::ffff:127.0.0.1"));
    assert_false(v4_allowed(lo, "127.0.0.2"));
    assert_false(v4_allowed(lo, "169.254.169.254"));
    assert_false(v6_allowed(lo, "::"));
    assert_false(v6_allowed(lo, "64:ff9b::7f00:1"));
    assert_true(v4_allowed(lo, "1.1.1.1"));

    struct sockaddr_un un;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "/run/statuswatch.sock");
    assert_false(url_policy_addr_allowed(lo, (const struct sockaddr *)&un));
    assert_false(url_policy_addr_allowed(lo, NULL));

    url_policy_free(lo);
    url_policy_free(def);
}

/* A name server that reads and never answers: the lookup ends at the resolver's deadline with
 * its own verdict; a malformed server list or deadline is refused up front. */
static void unanswered_lookup_times_out(void **state)
{
    (void)state;
    url_policy *p = NULL;
    char why[128], reason[256], servers[64];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", ntohs(a.sin_port));

    assert_int_equal(url_policy_new(&p, "", false, why, sizeof(why)), SW_OK);
    assert_int_equal(url_policy_set_resolver(p, "not a server list", 300, why, sizeof(why)),
                     SW_EINVAL);
    assert_int_equal(url_policy_set_resolver(p, servers, 50, why, sizeof(why)), SW_EINVAL);
    assert_int_equal(url_policy_set_resolver(p, servers, 300, why, sizeof(why)), SW_OK);
    assert_int_equal(url_policy_check(p, "http://a.never-answers.test/", reason, sizeof(reason)),
                     URL_RESOLVE_TIMEOUT);
    assert_non_null(strstr(url_verdict_message(URL_RESOLVE_TIMEOUT), "did not answer"));
    /* The query did reach the name server. */
    char buf[512];
    assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 12);
    /* Literals and /etc/hosts never ask it. */
    assert_int_equal(url_policy_check(p, "http://1.1.1.1/", NULL, 0), URL_OK);
    assert_int_equal(url_policy_check(p, "http://localhost/", NULL, 0), URL_DENIED_ADDRESS);
    url_policy_free(p);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts_without_allow_list),
        cmocka_unit_test(null_policy_denies_like_the_default),
        cmocka_unit_test(length_limit_is_2048),
        cmocka_unit_test(invalid_names_fail_fast),
        cmocka_unit_test(messages_are_client_safe),
        cmocka_unit_test(loopback_allow_list_opens_exactly_its_entries),
        cmocka_unit_test(both_loopbacks_open_localhost),
        cmocka_unit_test(allow_list_spelling),
        cmocka_unit_test(refused_allow_lists),
        cmocka_unit_test(production_refuses_any_allow_list),
        cmocka_unit_test(accepted_allow_list),
        cmocka_unit_test(sockaddrs_are_checked_directly),
        cmocka_unit_test(unanswered_lookup_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
