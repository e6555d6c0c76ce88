/* HTTPS on the edge: a second sw-edge, started here on free loopback ports with a freshly
 * generated self-signed pair (separate certificate and key files) and ENFORCE_HTTPS=1, in front
 * of the test stack's actors. HTTPS answers with HSTS; plain HTTP is redirected (301, same path
 * and query, at the configured host, never the client's Host) except /health/ and /metrics,
 * which load balancers and Prometheus keep using; under ENFORCE_HTTPS every response carries
 * HSTS; a login over HTTPS sets a Secure refresh cookie. */
#include "tests/support/it.h"

#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

static int edge_pid;
static int http_port, https_port;
static char cert[600], key[600];

typedef struct resp {
    long status;
    char *body, *headers;
    size_t blen, hlen;
} resp;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    char **buf = arg;
    size_t add = size * n, have = *buf ? strlen(*buf) : 0;
    char *d = realloc(*buf, have + add + 1);
    if (!d)
        return 0;
    memcpy(d + have, p, add);
    d[have + add] = '\0';
    *buf = d;
    return add;
}

/* One request to the TLS edge; https selects the port and the scheme. CURLcode in *err. */
static resp *call(const char *method, bool https, const char *path, const char *body, CURLcode *err)
{
    char url[512];
    struct curl_slist *hl = NULL;
    resp *r = calloc(1, sizeof(*r));
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", https ? "https" : "http",
             https ? https_port : http_port, path);
    hl = curl_slist_append(hl, "Content-Type: application/json");
    char xff[96];
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", it_fresh_ip()); /* throttles per client */
    hl = curl_slist_append(hl, xff);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert); /* verified: the pair generated in setup */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    if (err)
        *err = rc;
    else if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    if (!r->body)
        r->body = strdup("");
    if (!r->headers)
        r->headers = strdup("");
    return r;
}

/* A plain-HTTP GET with one extra header line (e.g. another Host). */
static resp *call_host(const char *path, const char *line)
{
    char url[512];
    struct curl_slist *hl = curl_slist_append(NULL, line);
    resp *r = calloc(1, sizeof(*r));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", http_port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("GET %s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    if (!r->body)
        r->body = strdup("");
    if (!r->headers)
        r->headers = strdup("");
    return r;
}

static void resp_free(resp *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->headers);
    free(r);
}

/* The value of a response header (static buffer), or NULL. */
static const char *header(const resp *r, const char *name)
{
    static char out[1024];
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, sizeof(out), "%.*s", (int)strcspn(v, "\r\n"), v);
            return out;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

static int setup(void **state)
{
    static char env_https[96], env_cert[620], env_key[620];
    char dir[400], cmd[4096];
    snprintf(dir, sizeof(dir), "%s/tls-test", getenv("SW_VAR"));
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "rm -rf %s && mkdir -m 700 %s && openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout %s -out %s -days 2 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1",
             dir, dir, key, cert);
    if (system(cmd) != 0)
        fail_msg("openssl could not generate a certificate");
    https_port = it_free_port();
    snprintf(env_https, sizeof(env_https), "SW_HTTPS_LISTEN=127.0.0.1:%d", https_port);
    snprintf(env_cert, sizeof(env_cert), "SW_TLS_CERT=%s", cert);
    snprintf(env_key, sizeof(env_key), "SW_TLS_KEY=%s", key);
    /* Development without a metrics token: /metrics is open. */
    const char *const env[] = {env_https, env_cert, env_key, "ENFORCE_HTTPS=1",
                               "SW_ENV=development", "SW_METRICS_TOKEN=", NULL};
    edge_pid = it_edge_start("edge-tls", &http_port, env);
    for (int i = 0; i < 100; i++) {
        CURLcode rc;
        resp *r = call("GET", true, "/health/", NULL, &rc);
        long st = r->status;
        resp_free(r);
        if (rc == CURLE_OK && st == 200)
            return 0;
        usleep(100 * 1000);
    }
    fail_msg("the TLS edge did not answer https://127.0.0.1:%d/health/", https_port);
    return 0;
}

static int teardown(void **state)
{
    it_edge_stop(edge_pid);
    return 0;
}

static void test_https_health_has_hsts(void **state)
{
    resp *r = call("GET", true, "/health/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"status\":\"ok\""));
    const char *hsts = header(r, "Strict-Transport-Security");
    assert_non_null(hsts);
    assert_non_null(strstr(hsts, "max-age="));
    resp_free(r);
    /* The dashboard's static responses too. */
    r = call("GET", true, "/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(header(r, "Strict-Transport-Security"));
    resp_free(r);
}

static void test_http_redirects_to_https(void **state)
{
    char want[256];
    resp *r = call("GET", false, "/api/auth/me/?x=1", NULL, NULL);
    assert_int_equal(r->status, 301);
    snprintf(want, sizeof(want), "https://127.0.0.1:%d/api/auth/me/?x=1", https_port);
    assert_non_null(header(r, "Location"));
    assert_string_equal(header(r, "Location"), want);
    /* ENFORCE_HTTPS: every response carries HSTS (a browser ignores it over plain HTTP). */
    assert_non_null(header(r, "Strict-Transport-Security"));
    resp_free(r);

    /* The redirect goes to the configured host, whatever Host the client sent. */
    r = call_host("/dashboard", "Host: evil.example.test");
    assert_int_equal(r->status, 301);
    snprintf(want, sizeof(want), "https://127.0.0.1:%d/dashboard", https_port);
    assert_string_equal(header(r, "Location"), want);
    resp_free(r);

    /* A POST is redirected before anything reaches an actor. */
    r = call("POST", false, "/api/auth/token/", "{\"email\":\"a@b.test\",\"password\":\"x\"}",
             NULL);
    assert_int_equal(r->status, 301);
    resp_free(r);
    r = call("GET", false, "/dashboard", NULL, NULL);
    assert_int_equal(r->status, 301);
    snprintf(want, sizeof(want), "https://127.0.0.1:%d/dashboard", https_port);
    assert_string_equal(header(r, "Location"), want);
    resp_free(r);
}

static void test_http_health_and_metrics_stay_plain(void **state)
{
    resp *r = call("GET", false, "/health/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(header(r, "Location"));
    assert_non_null(header(r, "Strict-Transport-Security"));
    resp_free(r);
    r = call("GET", false, "/health/ready/", NULL, NULL);
    assert_true(r->status == 200 || r->status == 503);
    assert_null(header(r, "Location"));
    resp_free(r);
    /* No SW_METRICS_TOKEN and SW_ENV=development: open, and not redirected. */
    r = call("GET", false, "/metrics", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "# TYPE sw_http_requests_total counter"));
    assert_non_null(strstr(r->body, "route=\"https_redirect\""));
    resp_free(r);
}

static void test_login_over_https_sets_secure_cookie(void **state)
{
    char email[160], body[512];
    char *tenant = it_signup_verified(email, sizeof(email), "TLS Co");
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", email, IT_PASSWORD);
    resp *r = call("POST", true, "/api/auth/token/", body, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"access\""));
    const char *cookie = header(r, "Set-Cookie");
    assert_non_null(cookie);
    assert_non_null(strstr(cookie, "sw_refresh="));
    assert_non_null(strstr(cookie, "; Secure"));
    assert_non_null(strstr(cookie, "HttpOnly"));
    assert_non_null(header(r, "Strict-Transport-Security"));
    resp_free(r);
    free(tenant);
}

/* /metrics tells when the edge's certificate expires (the expiry alert's input): the pair made
 * in setup is valid for 2 days. */
static void test_metrics_show_certificate_expiry(void **state)
{
    resp *r = call("GET", false, "/metrics", NULL, NULL);
    assert_int_equal(r->status, 200);
    const char *p = strstr(r->body, "\nsw_edge_tls_certificate_expiry_timestamp_seconds ");
    if (!p)
        fail_msg("no certificate expiry in /metrics of the TLS edge");
    double left = strtod(p + 50, NULL) - (double)time(NULL);
    assert_true(left > 86400 && left <= 2 * 86400 + 60);
    resp_free(r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_health_has_hsts),
        cmocka_unit_test(test_http_redirects_to_https),
        cmocka_unit_test(test_http_health_and_metrics_stay_plain),
        cmocka_unit_test(test_login_over_https_sets_secure_cookie),
        cmocka_unit_test(test_metrics_show_certificate_expiry),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
