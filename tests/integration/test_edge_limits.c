/* The edge against hostile clients, through a real sw-edge in front of the stack's actors.
 * Slow clients: a second edge is started here with 16 worker threads, at most 4 connections
 * per client address and 8 s header and body deadlines, and trusting no proxy; 500
 * connections from 127.0.0.1 trickle headers or bodies while another client (127.0.0.2, a
 * second loopback address) must get GET /health/ and an authenticated GET /api/endpoints/
 * answered within a 1 s client timeout. The 4 admitted slow connections are cut with 408,
 * every other one is refused at once (429, or closed). X-Forwarded-For: the client address is
 * the right-most untrusted entry across all header lines (seen through the sign-up throttle,
 * which counts per client address). Content types: JSON routes answer 415 to anything but
 * application/json, so a cross-site form post never reaches an actor; the Stripe webhook
 * keeps its raw body. */
#include "tests/support/it.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#define SLOW 500
#define PER_CLIENT 4

static int slow_pid, slow_port;
static char access_token[1200];

static int setup(void **state)
{
    static const char *const env[] = {"SW_HTTP_THREADS=16",
                                      "SW_HTTP_MAX_CONN_PER_CLIENT=4",
                                      "SW_HTTP_HEADER_TIMEOUT_MS=8000",
                                      "SW_HTTP_BODY_TIMEOUT_MS=8000",
                                      "SW_TRUSTED_PROXIES=",
                                      NULL};
    struct rlimit rl;
    char email[160];
    /* 500 sockets and a few more. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048) {
        rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    slow_pid = it_edge_start("edge-limits", &slow_port, env);
    char *tenant = it_signup_verified(email, sizeof(email), "Slow Client Co");
    it_resp *r = it_login(email, IT_PASSWORD);
    if (r->status != 200)
        fail_msg("login: %ld %s", r->status, r->raw);
    snprintf(access_token, sizeof(access_token), "%s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    free(tenant);
    return 0;
}

/* The edge a test starts for itself; stopped here too, should the test fail half-way. */
static int extra_pid;
static char saved_listen[128];

static int teardown(void **state)
{
    it_edge_stop(slow_pid);
    it_edge_stop(extra_pid);
    if (saved_listen[0])
        setenv("SW_HTTP_LISTEN", saved_listen, 1);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A blocking TCP connection from 127.0.0.1 to the slow-client edge; -1 when refused. */
static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)slow_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        fail_msg("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    return size * n;
}

/* GET path on the slow-client edge from 127.0.0.2, given 1 s in all (connect included). */
static long other_client(const char *path, const char *bearer)
{
    char url[128], auth[1300];
    long status = 0;
    struct curl_slist *hl = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", slow_port, path);
    if (bearer) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        hl = curl_slist_append(hl, auth);
    }
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_INTERFACE, "127.0.0.2");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("GET %s from 127.0.0.2 while slow clients hold 127.0.0.1's connections: %s", path,
                 curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    return status;
}

typedef struct slow {
    int fd;
    bool body;     /* trickles a body (else its headers) */
    bool done;     /* the edge closed it */
    char got[600]; /* the start of what the edge sent */
    size_t len;
} slow;

static void test_slow_clients_do_not_starve_others(void **state)
{
    static slow s[SLOW];
    static const char head[] = "GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    static const char post[] = "POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
    /* Sequential connects: the edge accepts them in this order, so the first PER_CLIENT are
     * the admitted ones. Even ones trickle headers, odd ones a body. */
    for (int i = 0; i < SLOW; i++) {
        memset(&s[i], 0, sizeof(s[i]));
        s[i].body = i % 2 == 1;
        s[i].fd = dial();
        if (s[i].fd < 0) {
            s[i].done = true; /* refused before any byte: counted as refused */
            continue;
        }
        const char *first = s[i].body ? post : head;
        ssize_t n = send(s[i].fd, first, strlen(first), MSG_NOSIGNAL);
        (void)n;
        fcntl(s[i].fd, F_SETFL, O_NONBLOCK);
    }

    /* One more connection from the same address, silent: refused with a reason. */
    int extra = dial();
    char buf[512] = "";
    size_t got = 0;
    if (extra >= 0) {
        struct pollfd p = {.fd = extra, .events = POLLIN};
        while (got < sizeof(buf) - 1 && poll(&p, 1, 5000) > 0) {
            ssize_t n = recv(extra, buf + got, sizeof(buf) - 1 - got, 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        buf[got] = '\0';
        close(extra);
    }
    if (strncmp(buf, "HTTP/1.1 429", 12) != 0 || !strstr(buf, "\"detail\""))
        fail_msg("a connection over the per-address cap got: \"%s\"", buf);

    int probes = 0, open = SLOW;
    int64_t give_up = now_ms() + 45000;
    bool held_cut = false;
    for (int i = 0; i < SLOW; i++)
        open -= s[i].done;
    while (open > 0 && now_ms() < give_up) {
        /* While the slow ones are held, the other client is served within 1 s. */
        if (!held_cut) {
            assert_int_equal(other_client("/health/", NULL), 200);
            assert_int_equal(other_client("/api/endpoints/", access_token), 200);
            probes++;
        }
        for (int i = 0; i < SLOW; i++) {
            if (!s[i].done) {
                ssize_t n = send(s[i].fd, s[i].body ? "1" : "a", 1, MSG_NOSIGNAL);
                (void)n;
            }
        }
        int64_t round_end = now_ms() + 500;
        while (now_ms() < round_end) {
            static struct pollfd p[SLOW];
            static int idx[SLOW];
            int np = 0;
            for (int i = 0; i < SLOW; i++) {
                if (!s[i].done) {
                    p[np] = (struct pollfd){.fd = s[i].fd, .events = POLLIN};
                    idx[np++] = i;
                }
            }
            int ready =
                poll(p, (nfds_t)np, (int)(round_end - now_ms() > 0 ? round_end - now_ms() : 0));
            if (ready <= 0)
                break;
            for (int k = 0; k < np; k++) {
                if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                slow *c = &s[idx[k]];
                char tmp[1024];
                ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
                if (n > 0) {
                    size_t take = (size_t)n;
                    if (take > sizeof(c->got) - 1 - c->len)
                        take = sizeof(c->got) - 1 - c->len;
                    memcpy(c->got + c->len, tmp, take);
                    c->len += take;
                    c->got[c->len] = '\0';
                    continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                c->done = true; /* EOF or reset */
                close(c->fd);
                open--;
                if (strncmp(c->got, "HTTP/1.1 408", 12) == 0)
                    held_cut = true;
            }
        }
    }
    if (open > 0)
        fail_msg("%d slow connections were neither cut nor refused within 45 s", open);
    assert_true(probes >= 1);

    int cut = 0, refused = 0;
    for (int i = 0; i < SLOW; i++) {
        bool is408 = strncmp(s[i].got, "HTTP/1.1 408", 12) == 0;
        if (i < PER_CLIENT) {
            /* Admitted, then cut by the deadline of what it trickled. */
            if (!is408 || !strstr(s[i].got, "\"detail\""))
                fail_msg("slow connection %d (%s) got \"%s\", not a 408", i,
                         s[i].body ? "body" : "headers", s[i].got);
            assert_non_null(strstr(s[i].got, s[i].body ? "body did not arrive in time"
                                                       : "headers did not arrive in time"));
            cut++;
        } else if (is408) {
            fail_msg("connection %d beyond the cap of %d was served (408)", i, PER_CLIENT);
        } else {
            if (s[i].len && strncmp(s[i].got, "HTTP/1.1 429", 12) != 0)
                fail_msg("refused connection %d got \"%s\"", i, s[i].got);
            refused++;
        }
    }
    assert_int_equal(cut, PER_CLIENT);
    assert_int_equal(refused, SLOW - PER_CLIENT);
    /* After the storm the same address is served again. */
    int fd = dial();
    assert_true(fd >= 0);
    const char get[] = "GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(get) - 1));
    got = 0;
    for (ssize_t n;
         got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0;)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
}

/* A connection from src (a loopback address) to the slow-client edge; fails the test. */
static int dial_from(const char *src)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)slow_port)};
    struct sockaddr_in b = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    inet_pton(AF_INET, src, &b.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&b, sizeof(b)) != 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        fail_msg("connect from %s: %s", src, strerror(errno));
    return fd;
}

/* Sends req, then one byte of trickle every 500 ms (when trickle is set) until the edge
 * answers or 30 s pass; returns what it answered (static buffer). */
static const char *exchange(int fd, const char *req, const char *trickle)
{
    static char buf[2048];
    size_t got = 0;
    int64_t give_up = now_ms() + 30000;
    ssize_t n = send(fd, req, strlen(req), MSG_NOSIGNAL);
    (void)n;
    buf[0] = '\0';
    while (now_ms() < give_up && got < sizeof(buf) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) > 0) {
            ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") && strstr(buf, "}"))
                break;
        } else if (trickle) {
            n = send(fd, trickle, 1, MSG_NOSIGNAL);
        }
    }
    return buf;
}

static void test_chunked_body_deadline(void **state)
{
    /* A complete chunked JSON body goes through (401: wrong credentials). */
    int fd = dial_from("127.0.0.3");
    const char *got =
        exchange(fd,
                 "POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n"
                 "32\r\n{\"email\":\"a@example.test\",\"password\":\"Wrong-1234\"}\r\n0\r\n\r\n",
                 NULL);
    if (strncmp(got, "HTTP/1.1 401", 12) != 0)
        fail_msg("a chunked login got: %s", got);
    close(fd);
    /* One trickled chunk: cut by the body deadline, not read forever. */
    fd = dial_from("127.0.0.3");
    got = exchange(fd,
                   "POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "400\r\n{",
                   "a");
    if (strncmp(got, "HTTP/1.1 408", 12) != 0 || !strstr(got, "body did not arrive in time"))
        fail_msg("a trickled chunked body got: \"%s\"", got);
    close(fd);
}

/* Sign-up attempts (valid or not) count per client address, 5 an hour in the test stack. */
static long register_from(const char *line1, const char *line2)
{
    char h1[128], h2[128];
    snprintf(h1, sizeof(h1), "X-Forwarded-For: %s", line1);
    snprintf(h2, sizeof(h2), "X-Forwarded-For: %s", line2);
    it_resp *r = it_http("POST", "/api/auth/register/", "{}", "Content-Type: application/json", h1,
                         h2, NULL);
    long st = r->status;
    it_resp_free(r);
    return st;
}

static void test_forwarded_for_all_lines(void **state)
{
    char client[64], chain[128];
    snprintf(client, sizeof(client), "%s", it_fresh_ip());
    /* The test edge trusts 127.0.0.1; the proxy nearest the edge is 127.0.0.1 itself. A
     * client that makes up a first line with a new address each time still counts as one. */
    snprintf(chain, sizeof(chain), "%s, 127.0.0.1", client);
    for (int i = 0; i < 5; i++) {
        long st = register_from(it_fresh_ip(), chain);
        if (st != 400)
            fail_msg("attempt %d: %ld, expected 400 (invalid body)", i + 1, st);
    }
    assert_int_equal(register_from(it_fresh_ip(), chain), 429);
    /* Another client behind the same proxies is not throttled. */
    snprintf(chain, sizeof(chain), "%s, 127.0.0.1", it_fresh_ip());
    assert_int_equal(register_from(client, chain), 400);
}

/* POST path with body and exactly the given Content-Type header line (NULL: none at all). */
static it_resp *post_typed(const char *path, const char *body, const char *ctype, const char *auth)
{
    char h[160];
    /* "Content-Type:" with no value makes curl send none (it would add a form type). */
    snprintf(h, sizeof(h), "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    return auth ? it_http("POST", path, body, h, auth, NULL) : it_http("POST", path, body, h, NULL);
}

static void test_json_routes_refuse_other_types(void **state)
{
    static const char *bad[] = {"text/plain",
                                "text/plain;charset=UTF-8",
                                "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x",
                                "application/jsonp",
                                "application/xml",
                                NULL};
    char auth[1300];
    const char *body = "{\"email\":\"nobody@example.test\",\"password\":\"Wrong-Pass-123\"}";
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", access_token);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* What a cross-site form can send: it never reaches the auth actor. */
        it_resp *r = post_typed("/api/auth/token/", body, bad[i], NULL);
        if (r->status != 415)
            fail_msg("Content-Type %s: %ld %s", bad[i] ? bad[i] : "(none)", r->status, r->raw);
        const char *d = json_string_value(json_object_get(r->body, "detail"));
        assert_non_null(d);
        assert_non_null(strstr(d, "Unsupported media type"));
        assert_non_null(it_header(r, "X-Request-Id"));
        it_resp_free(r);
        /* Nor the endpoints actor, even with a valid token. */
        r = post_typed("/api/endpoints/", "{\"name\":\"x\",\"url\":\"http://93.184.1.1/\"}", bad[i],
                       auth);
        assert_int_equal(r->status, 415);
        it_resp_free(r);
    }
    it_resp *r = post_typed("/api/auth/token/", body, "text/plain", NULL);
    assert_string_equal(json_string_value(json_object_get(r->body, "detail")),
                        "Unsupported media type \"text/plain\" in request.");
    it_resp_free(r);

    /* JSON, in any case and with parameters, goes through (401: wrong credentials). */
    static const char *good[] = {"application/json", "application/json; charset=utf-8",
                                 "Application/JSON"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        r = post_typed("/api/auth/token/", body, good[i], NULL);
        if (r->status != 401)
            fail_msg("Content-Type %s: %ld %s", good[i], r->status, r->raw);
        it_resp_free(r);
    }
    /* No body, no type needed: the endpoint list is still a GET without one. */
    r = it_auth("GET", "/api/endpoints/", access_token, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);

    /* The Stripe webhook keeps its raw body whatever the type: the billing actor answers
     * (the signature is missing), not the edge's 415. */
    r = post_typed("/api/billing/webhook/", "{\"id\":\"evt_1\"}", "text/plain", NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->raw, "Stripe signature"));
    it_resp_free(r);
}

/* Production behind a TLS-terminating proxy: ENFORCE_HTTPS without a certificate at the edge
 * and ALLOWED_HOSTS. Every response carries HSTS, whatever route or status, and a Host that
 * is not allowed gets 400 before anything else (the health checks answer any Host). */
static void test_enforce_https_behind_proxy_and_allowed_hosts(void **state)
{
    static const char *const env[] = {"ENFORCE_HTTPS=1",
                                      "ALLOWED_HOSTS=app.example.test,.example.org", NULL};
    char listen[64];
    int port = 0;
    extra_pid = it_edge_start("edge-hosts", &port, env);
    snprintf(saved_listen, sizeof(saved_listen), "%s", getenv("SW_HTTP_LISTEN"));
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    setenv("SW_HTTP_LISTEN", listen, 1); /* it_http talks to this edge now */

    static const struct {
        const char *method, *path, *host, *ctype;
        long status;
    } cases[] = {
        {"GET", "/health/", "app.example.test", NULL, 200},
        {"GET", "/api/auth/me/", "app.example.test:443", NULL, 401},
        {"GET", "/api/nothing/", "eu.example.org", NULL, 404},
        {"GET", "/", "example.org", NULL, 200},
        {"GET", "/missing.js", "app.example.test", NULL, 404},
        {"POST", "/api/auth/token/", "app.example.test", "text/plain", 415},
        {"GET", "/api/endpoints/", "evil.test", NULL, 400},
        {"GET", "/", "app.example.test.evil.test", NULL, 400},
        {"GET", "/health/", "10.1.2.3", NULL, 200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[128], ct[96];
        snprintf(host, sizeof(host), "Host: %s", cases[i].host);
        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 cases[i].ctype ? cases[i].ctype : "application/json");
        it_resp *r =
            it_http(cases[i].method, cases[i].path, cases[i].ctype ? "{}" : NULL, host, ct, NULL);
        if (r->status != cases[i].status)
            fail_msg("%s %s (Host %s): %ld, expected %ld: %s", cases[i].method, cases[i].path,
                     cases[i].host, r->status, cases[i].status, r->raw);
        const char *hsts = it_header(r, "Strict-Transport-Security");
        if (!hsts || !strstr(hsts, "max-age="))
            fail_msg("%s %s: no HSTS on a %ld", cases[i].method, cases[i].path, r->status);
        if (cases[i].status == 400)
            assert_string_equal(json_string_value(json_object_get(r->body, "detail")),
                                "Invalid Host header.");
        it_resp_free(r);
    }
    /* Errors civetweb answers itself (headers over 16 KiB: 431, not a 408) have the same shape
     * and HSTS. */
    char *big = malloc(20001);
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', 19993);
    big[20000] = '\0';
    it_resp *r = it_http("GET", "/api/endpoints/", NULL, "Host: app.example.test", big, NULL);
    free(big);
    assert_int_equal(r->status, 431);
    assert_non_null(it_header(r, "Strict-Transport-Security"));
    assert_non_null(json_string_value(json_object_get(r->body, "detail")));
    it_resp_free(r);
    setenv("SW_HTTP_LISTEN", saved_listen, 1);
    saved_listen[0] = '\0';
    it_edge_stop(extra_pid);
    extra_pid = 0;
}

/* Fails closed: an SW_ENV that is not development, test or production stops every process
 * (naming SW_ENV); a live Stripe key means production whatever SW_ENV says; Stripe's API is
 * reached over https only in production. */
static void test_production_fails_closed(void **state)
{
    static const char *bins[] = {"sw-edge",      "sw-auth",       "sw-tenancy",   "sw-notify",
                                 "sw-endpoints", "sw-billing",    "sw-scheduler", "sw-prober",
                                 "sw-recorder",  "sw-deadletter", "sw-migrate"};
    static const char *envs[] = {"SW_ENV=staging", "SW_ENV=prod", "SW_ENV=Production",
                                 "SW_ENV=production,"};
    char *err = NULL, env[600], pw[128];
    for (size_t b = 0; b < sizeof(bins) / sizeof(bins[0]); b++) {
        for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
            int rc = it_run_bin(bins[b], envs[i], &err);
            if (rc != 2 || !strstr(err, "\"setting\":\"SW_ENV\""))
                fail_msg("%s with %s: exit %d, stderr: %s", bins[b], envs[i], rc, err);
            free(err);
        }
    }
    /* A live key: production refusals apply in development too (the edge wants ALLOWED_HOSTS,
     * sw-auth a strong SECRET_KEY). */
    int rc = it_run_bin("sw-edge",
                        "SW_ENV=development STRIPE_SECRET_KEY=sk_live_x1 ALLOWED_HOSTS=", &err);
    if (rc != 2 || !strstr(err, "ALLOWED_HOSTS"))
        fail_msg("sw-edge with a live key: exit %d, stderr: %s", rc, err);
    free(err);
    rc = it_run_bin("sw-auth", "SW_ENV=test STRIPE_SECRET_KEY=rk_live_x1 SECRET_KEY=short", &err);
    if (rc != 2 || !strstr(err, "SECRET_KEY"))
        fail_msg("sw-auth with a live key: exit %d, stderr: %s", rc, err);
    free(err);

    /* STRIPE_API_BASE over plain http: refused in production and with a live key. */
    it_secret(pw, sizeof(pw), "NATS_PW_BILLING");
    static const char *modes[] = {"SW_ENV=production", "SW_ENV=development"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(env, sizeof(env),
                 "%s SW_NATS_USER=billing SW_NATS_PASSWORD=%s STRIPE_SECRET_KEY=sk_live_x1"
                 " STRIPE_WEBHOOK_SECRET=whsec_x1 STRIPE_PRICE_PRO=price_x1"
                 " STRIPE_API_BASE=http://127.0.0.1:9",
                 modes[i], pw);
        rc = it_run_bin("sw-billing", env, &err);
        if (rc == 0 || !strstr(err, "STRIPE_API_BASE must be https"))
            fail_msg("sw-billing (%s) with STRIPE_API_BASE over http: exit %d, stderr: %s",
                     modes[i], rc, err);
        assert_null(strstr(err, "sk_live_x1")); /* the key itself is never logged */
        free(err);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_clients_do_not_starve_others),
        cmocka_unit_test(test_chunked_body_deadline),
        cmocka_unit_test(test_forwarded_for_all_lines),
        cmocka_unit_test(test_json_routes_refuse_other_types),
        cmocka_unit_test(test_enforce_https_behind_proxy_and_allowed_hosts),
        cmocka_unit_test(test_production_fails_closed),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
