/* Checks that catch real failures (issue 17), end to end through the edge, the scheduler, the
 * prober and the recorder, against the test's own loopback targets (checks_targets.py: HTTP,
 * HTTPS with a certificate generated here that expires in 5 days, a TCP port): every assertion
 * source and comparison passing and failing with the error a user reads, a POST with sealed
 * headers and a body the target echoes, TCP open and closed, the certificate recorded and
 * tls.expiring raised once, a slow target turning the endpoint degraded (and back), the read
 * routes (checks filters and pages, uptime days, response times, incidents), and header values
 * in no API response, event or database column in the clear. */
#include "tests/support/it.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AUTH_SECRET "Bearer hdr-9f8e7d6c5b4a39281706f5e4d3c2b1a0"

static int http_port, https_port, tcp_port, targets_pid;
static char owner_email[160], access_tok[1024], tenant[64];
static natsConnection *nc;
static natsSubscription *evsub;
static json_t *events; /* every event of the tenant seen so far: {subject, data} */

/* ---- the targets ----------------------------------------------------------------------- */

static int targets_start(const char *dir)
{
    int fds[2];
    char line[128] = "", cert[600], key[600], script[600], cmd[2048];
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    /* A certificate that expires in 5 days, made now. */
    snprintf(cmd, sizeof(cmd),
             "mkdir -p '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s'"
             " -days 5 -subj '/CN=127.0.0.1/O=StatusWatch Test' -addext"
             " 'subjectAltName=IP:127.0.0.1' >/dev/null 2>&1",
             dir, key, cert);
    assert_int_equal(system(cmd), 0);
    snprintf(script, sizeof(script), "%s/tests/integration/checks_targets.py", it_source_dir());
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        setpgid(0, 0);
        execl("/usr/bin/python3", "python3", script, cert, key, AUTH_SECRET, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof(line), f) ||
        sscanf(line, "READY %d %d %d", &http_port, &https_port, &tcp_port) != 3)
        fail_msg("check targets did not start: %s", line);
    fclose(f);
    return (int)pid;
}

static int setup(void **state)
{
    char dir[512], subject[128];
    snprintf(dir, sizeof(dir), "%s/checks-targets", getenv("SW_VAR"));
    targets_pid = targets_start(dir);
    char *tid = it_signup_verified(owner_email, sizeof(owner_email), "Checks Co");
    snprintf(tenant, sizeof(tenant), "%s", tid);
    free(tid);
    it_set_plan(tenant, "pro"); /* more than 3 endpoints */
    it_resp *r = it_login(owner_email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    snprintf(access_tok, sizeof(access_tok), "%s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    nc = it_nats();
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.>", tenant);
    assert_int_equal(natsConnection_SubscribeSync(&evsub, nc, subject), NATS_OK);
    natsConnection_Flush(nc);
    events = json_array();
    return 0;
}

static int teardown(void **state)
{
    if (targets_pid > 0) {
        kill(-targets_pid, SIGTERM);
        kill(targets_pid, SIGTERM);
        waitpid(targets_pid, NULL, 0);
    }
    natsSubscription_Destroy(evsub);
    natsConnection_Destroy(nc);
    json_decref(events);
    return 0;
}

/* Moves what arrived on the event subscription into events. */
static void drain_events(int wait_ms)
{
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, evsub, wait_ms) == NATS_OK) {
        json_array_append_new(events, json_pack("{s:s,s:s%}", "subject", natsMsg_GetSubject(m),
                                                "data", natsMsg_GetData(m),
                                                (size_t)natsMsg_GetDataLength(m)));
        natsMsg_Destroy(m);
        wait_ms = 50;
    }
}

/* Events of kind (e.g. "tls.expiring") about the endpoint id. */
static int count_events(const char *kind, const char *id)
{
    char suffix[64];
    int n = 0;
    size_t i;
    json_t *e;
    snprintf(suffix, sizeof(suffix), ".%s", kind);
    drain_events(100);
    json_array_foreach(events, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "subject"));
        const char *d = json_string_value(json_object_get(e, "data"));
        size_t sl = strlen(s), kl = strlen(suffix);
        if (sl > kl && strcmp(s + sl - kl, suffix) == 0 && strstr(d, id))
            n++;
    }
    return n;
}

/* ---- helpers --------------------------------------------------------------------------- */

/* A URL of the targets; unique per call (the URL is unique per organization). */
static char *url_of(char *out, size_t len, const char *scheme, const char *path)
{
    static int n;
    int port = strcmp(scheme, "https") == 0 ? https_port : http_port;
    snprintf(out, len, "%s://127.0.0.1:%d%s?u=%d", scheme, port, path, ++n);
    return out;
}

/* Creates an endpoint from body (stolen; url, thresholds 1/1 and a short timeout added when
 * absent) and returns its id (owned). */
static char *create(json_t *body)
{
    if (!json_object_get(body, "failure_threshold"))
        json_object_set_new(body, "failure_threshold", json_integer(1));
    if (!json_object_get(body, "recovery_threshold"))
        json_object_set_new(body, "recovery_threshold", json_integer(1));
    if (!json_object_get(body, "timeout_seconds"))
        json_object_set_new(body, "timeout_seconds", json_integer(5));
    it_resp *r = it_auth("POST", "/api/endpoints/", access_tok, body);
    if (r->status != 201)
        fail_msg("create: %ld %s", r->status, r->raw);
    char *id = strdup(json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    return id;
}

static json_t *get_endpoint(const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    json_t *b = json_incref(r->body);
    it_resp_free(r);
    return b;
}

static char *status_of(const char *id)
{
    json_t *e = get_endpoint(id);
    char *s = strdup(json_string_value(json_object_get(e, "last_status")));
    json_decref(e);
    return s;
}

static void wait_status(const char *id, const char *want, int ms)
{
    char *s = NULL;
    for (int w = 0; w <= ms; w += 250) {
        free(s);
        s = status_of(id);
        if (strcmp(s, want) == 0) {
            free(s);
            return;
        }
        usleep(250 * 1000);
    }
    fail_msg("endpoint %s: status %s, expected %s", id, s, want);
}

/* The newest check of the endpoint (owned), waiting up to ms for at least n checks. */
static json_t *newest_check(const char *id, long n, int ms)
{
    const char *p[] = {id};
    long got = it_wait_count("SELECT count(*) FROM public.check_history WHERE endpoint_id = $1::uuid",
                             1, p, n, ms);
    if (got < n)
        fail_msg("endpoint %s: %ld checks, expected %ld", id, got, n);
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?page_size=1", id);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    json_t *c = json_incref(json_array_get(json_object_get(r->body, "results"), 0));
    it_resp_free(r);
    assert_non_null(c);
    return c;
}

/* Due now (a job is named by its due second: let one pass first). */
static void make_due(const char *id)
{
    const char *p[] = {id};
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now() WHERE endpoint_id = $1::uuid",
                       1, p));
}

static json_t *assertion(const char *source, const char *property, const char *cmp,
                         json_t *target /* stolen, may be NULL */)
{
    return json_pack("{s:s,s:s?,s:s,s:o}", "source", source, "property", property, "comparison",
                     cmp, "target", target ? target : json_null());
}

/* ---- validation ------------------------------------------------------------------------ */

static it_resp *post(json_t *body)
{
    return it_auth("POST", "/api/endpoints/", access_tok, body);
}

static void test_fields_are_validated(void **state)
{
    char url[128];
    url_of(url, sizeof(url), "http", "/json");
    /* Errors point at the assertion entry, DRF style. */
    it_resp *r = post(json_pack(
        "{s:s,s:[o,o]}", "url", url, "assertions",
        assertion("status_code", NULL, "equals", json_integer(200)),
        assertion("status_code", NULL, "roughly", json_integer(200))));
    assert_int_equal(r->status, 400);
    json_t *a = json_object_get(r->body, "assertions");
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(json_object_size(json_array_get(a, 0)), 0);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_array_get(a, 1), "comparison"), 0)),
        "\"roughly\" is not a valid choice.");
    it_resp_free(r);

    r = post(json_pack("{s:s,s:[o]}", "url", url, "assertions",
                       assertion("json_body", "status", "equals", json_string("ok"))));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(json_array_get(json_object_get(r->body, "assertions"), 0),
                                    "property"));
    it_resp_free(r);

    /* Headers: names checked one by one; the request's own headers refused. */
    r = post(json_pack("{s:s,s:{s:s,s:s}}", "url", url, "headers", "Host", "evil.example",
                       "X-Ok", "fine"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(json_object_get(r->body, "headers"), "Host"));
    assert_null(json_object_get(json_object_get(r->body, "headers"), "X-Ok"));
    it_resp_free(r);
    json_t *many = json_object();
    for (int i = 0; i < 21; i++) {
        char name[16];
        snprintf(name, sizeof(name), "X-H%d", i);
        json_object_set_new(many, name, json_string("v"));
    }
    r = post(json_pack("{s:s,s:o}", "url", url, "headers", many));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "headers"));
    it_resp_free(r);

    /* method, body, thresholds, alert days, kind. */
    r = post(json_pack("{s:s,s:s,s:i,s:[i],s:s}", "url", url, "method", "BREW",
                       "degraded_threshold_ms", 0, "tls_expiry_alert_days", 0, "kind", "ftp"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "method"));
    assert_non_null(json_object_get(r->body, "degraded_threshold_ms"));
    assert_non_null(json_object_get(r->body, "tls_expiry_alert_days"));
    assert_non_null(json_object_get(r->body, "kind"));
    it_resp_free(r);

    /* A tcp endpoint: tcp://host:port, under the URL policy, no HTTP-only settings. */
    char tcp[128];
    snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%d", tcp_port);
    r = post(json_pack("{s:s,s:s}", "url", url, "kind", "tcp"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "url"));
    it_resp_free(r);
    r = post(json_pack("{s:s}", "url", tcp)); /* kind left http */
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "url"));
    it_resp_free(r);
    r = post(json_pack("{s:s,s:s,s:s}", "url", tcp, "kind", "tcp", "method", "POST"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "method"));
    it_resp_free(r);
    r = post(json_pack("{s:s,s:s}", "url", "tcp://127.0.0.1/", "kind", "tcp"));
    assert_int_equal(r->status, 400);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r->body, "url"), 0)),
                        "Enter a URL like tcp://host:port.");
    it_resp_free(r);
    r = post(json_pack("{s:s,s:s}", "url", "tcp://10.0.0.1:5432", "kind", "tcp"));
    assert_int_equal(r->status, 400); /* the SSRF policy, as for http */
    assert_non_null(json_object_get(r->body, "url"));
    it_resp_free(r);
}

/* ---- every source and comparison -------------------------------------------------------- */

typedef struct failing {
    const char *path;
    json_t *assertions;
    const char *error; /* the whole error, or its start when prefix */
    bool prefix;
} failing;

static void test_every_source_and_comparison(void **state)
{
    char url[128];
    /* Passing: every comparison and every source at least once, ten at most per endpoint. */
    json_t *pass[3];
    pass[0] = json_pack(
        "[o,o,o,o,o,o,o,o,o,o]", assertion("status_code", NULL, "equals", json_integer(200)),
        assertion("status_code", NULL, "less_than", json_integer(300)),
        assertion("status_code", NULL, "greater_than", json_string("199")),
        assertion("response_time_ms", NULL, "less_than", json_integer(5000)),
        assertion("json_body", "$.status", "equals", json_string("degraded")),
        assertion("json_body", "$.items[1].id", "equals", json_integer(8)),
        assertion("json_body", "$.n", "greater_than", json_integer(41)),
        assertion("json_body", "$.empty", "is_empty", NULL),
        assertion("json_body", "$.status", "not_empty", NULL),
        assertion("json_body", "$.nope", "not_exists", NULL));
    pass[1] = json_pack(
        "[o,o,o,o,o,o,o,o,o,o]", assertion("body", NULL, "contains", json_string("degraded")),
        assertion("body", NULL, "not_contains", json_string("log in")),
        assertion("body", NULL, "matches", json_string("\"id\": ?[0-9]+")),
        assertion("body", NULL, "not_matches", json_string("^<html")),
        assertion("header", "X-Trace", "equals", json_string("abc-123")),
        assertion("header", "x-trace", "exists", NULL),
        assertion("header", "Content-Type", "contains", json_string("json")),
        assertion("status_code", NULL, "not_equals", json_integer(500)),
        assertion("json_body", "$.status", "not_equals", json_string("ok")),
        assertion("json_body", "$.items", "exists", NULL));
    pass[2] = json_pack("[o,o,o,o,o]", assertion("body", NULL, "contains", json_string("log in")),
                        assertion("body", NULL, "matches", json_string("^<html")),
                        assertion("header", "Content-Type", "not_contains", json_string("json")),
                        assertion("json_body", "$.status", "not_exists", NULL),
                        assertion("header", "X-Trace", "not_exists", NULL));
    const char *pass_paths[] = {"/json", "/json", "/html"};
    char *pass_ids[3];
    for (int i = 0; i < 3; i++)
        pass_ids[i] = create(json_pack("{s:s,s:o}", "url",
                                       url_of(url, sizeof(url), "http", pass_paths[i]),
                                       "assertions", pass[i]));

    /* Failing: one endpoint per comparison, every source failing at least once. */
    failing f[] = {
        {"/json",
         json_pack("[o,o]", assertion("status_code", NULL, "equals", json_integer(200)),
                   assertion("json_body", "$.status", "equals", json_string("ok"))),
         "assertion 2 failed: json_body $.status equals \"ok\" (got \"degraded\")", false},
        {"/json", json_pack("[o]", assertion("status_code", NULL, "not_equals", json_integer(200))),
         "assertion 1 failed: status_code not_equals 200 (got 200)", false},
        {"/json", json_pack("[o]", assertion("json_body", "$.n", "greater_than", json_integer(100))),
         "assertion 1 failed: json_body $.n greater_than 100 (got 42)", false},
        {"/json", json_pack("[o]", assertion("response_time_ms", NULL, "less_than", json_integer(0))),
         "assertion 1 failed: response_time_ms less_than 0 (got ", true},
        {"/html", json_pack("[o]", assertion("body", NULL, "contains", json_string("Welcome"))),
         "assertion 1 failed: body contains \"Welcome\" (got \"<html><body>Please log in</body></html>\")", false},
        {"/json",
         json_pack("[o]", assertion("header", "X-Trace", "not_contains", json_string("abc"))),
         "assertion 1 failed: header X-Trace not_contains \"abc\" (got \"abc-123\")", false},
        {"/json",
         json_pack("[o]", assertion("header", "Content-Type", "matches", json_string("^text/"))),
         "assertion 1 failed: header Content-Type matches \"^text/\" (got \"application/json\")", false},
        {"/html", json_pack("[o]", assertion("body", NULL, "not_matches", json_string("log in"))),
         "assertion 1 failed: body not_matches \"log in\" (got ", true},
        {"/json", json_pack("[o]", assertion("header", "X-Missing", "exists", NULL)),
         "assertion 1 failed: header X-Missing exists (got nothing)", false},
        {"/json", json_pack("[o]", assertion("json_body", "$.status", "not_exists", NULL)),
         "assertion 1 failed: json_body $.status not_exists (got \"degraded\")", false},
        {"/json", json_pack("[o]", assertion("json_body", "$.status", "is_empty", NULL)),
         "assertion 1 failed: json_body $.status is_empty (got \"degraded\")", false},
        {"/json", json_pack("[o]", assertion("json_body", "$.empty", "not_empty", NULL)),
         "assertion 1 failed: json_body $.empty not_empty (got \"\")", false},
        {"/html", json_pack("[o]", assertion("json_body", "$.status", "exists", NULL)),
         "assertion 1 failed: json_body $.status exists (got a body that is not JSON)", false},
    };
    size_t nf = sizeof(f) / sizeof(f[0]);
    char *ids[sizeof(f) / sizeof(f[0])];
    for (size_t i = 0; i < nf; i++)
        ids[i] = create(json_pack("{s:s,s:o}", "url", url_of(url, sizeof(url), "http", f[i].path),
                                   "assertions", f[i].assertions));

    for (int i = 0; i < 3; i++) {
        wait_status(pass_ids[i], "up", 20000);
        json_t *c = newest_check(pass_ids[i], 1, 1000);
        assert_true(json_is_true(json_object_get(c, "ok")));
        assert_true(json_is_null(json_object_get(c, "error")));
        json_decref(c);
        free(pass_ids[i]);
    }
    for (size_t i = 0; i < nf; i++) {
        wait_status(ids[i], "down", 20000);
        json_t *c = newest_check(ids[i], 1, 1000);
        const char *err = json_string_value(json_object_get(c, "error"));
        assert_false(json_is_true(json_object_get(c, "ok")));
        assert_int_equal(json_integer_value(json_object_get(c, "http_status")), 200);
        if (!err || (f[i].prefix ? strncmp(err, f[i].error, strlen(f[i].error)) != 0
                                 : strcmp(err, f[i].error) != 0))
            fail_msg("endpoint %zu: error %s, expected %s%s", i, err ? err : "(null)", f[i].error,
                     f[i].prefix ? "..." : "");
        /* The endpoint shows it too. */
        json_t *e = get_endpoint(ids[i]);
        assert_string_equal(json_string_value(json_object_get(e, "last_error")), err);
        json_decref(e);
        json_decref(c);
        free(ids[i]);
    }
}

/* ---- methods, headers, body ------------------------------------------------------------- */

static void assert_no_secret(const char *where, const char *text)
{
    if (text && (strstr(text, AUTH_SECRET) || strstr(text, "hdr-9f8e7d6c5b4a")))
        fail_msg("the header value appears in %s", where);
}

static void test_post_with_headers_and_body(void **state)
{
    char url[128], path[160];
    json_t *checks = json_pack(
        "[o,o,o,o,o]", assertion("json_body", "$.method", "equals", json_string("POST")),
        assertion("json_body", "$.body", "equals", json_string("ping-body")),
        assertion("json_body", "$.x_custom", "equals", json_string("custom-1")),
        assertion("json_body", "$.authorized", "equals", json_string("true")),
        assertion("json_body", "$.content_type", "equals", json_string("text/plain")));
    it_resp *r = post(json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:s},s:s,s:o,s:i,s:i}", "url", url_of(url, sizeof(url), "http", "/echo"),
        "method", "POST", "headers", "Authorization", AUTH_SECRET, "X-Custom", "custom-1",
        "Content-Type", "text/plain", "body", "ping-body", "assertions", checks,
        "failure_threshold", 1, "recovery_threshold", 1));
    if (r->status != 201)
        fail_msg("create: %ld %s", r->status, r->raw);
    assert_no_secret("the create response", r->raw);
    char *id = strdup(json_string_value(json_object_get(r->body, "id")));
    json_t *h = json_object_get(r->body, "headers");
    assert_int_equal(json_object_size(h), 3);
    assert_string_equal(json_string_value(json_object_get(h, "Authorization")), "********");
    assert_string_equal(json_string_value(json_object_get(r->body, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(r->body, "body")), "ping-body");
    it_resp_free(r);

    wait_status(id, "up", 20000);
    json_t *c = newest_check(id, 1, 1000);
    assert_true(json_is_true(json_object_get(c, "ok")));
    json_decref(c);

    /* "********" keeps the stored value; a changed one replaces it. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    r = it_auth("PATCH", path, access_tok,
                json_pack("{s:{s:s,s:s,s:s},s:[o,o]}", "headers", "Authorization", "********",
                          "X-Custom", "custom-2", "Content-Type", "********", "assertions",
                          assertion("json_body", "$.x_custom", "equals", json_string("custom-2")),
                          assertion("json_body", "$.authorized", "equals", json_string("true"))));
    assert_int_equal(r->status, 200);
    assert_no_secret("the patch response", r->raw);
    it_resp_free(r);
    make_due(id);
    c = newest_check(id, 2, 15000);
    assert_true(json_is_true(json_object_get(c, "ok")));
    json_decref(c);
    /* "********" for a name that has no stored value is an error, not a header "********". */
    r = it_auth("PATCH", path, access_tok,
                json_pack("{s:{s:s}}", "headers", "X-Never-Set", "********"));
    assert_int_equal(r->status, 400);
    it_resp_free(r);

    /* Reads: masked everywhere. */
    r = it_auth("GET", path, access_tok, NULL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r->body, "headers"), "X-Custom")),
        "********");
    assert_no_secret("GET /api/endpoints/{id}/", r->raw);
    it_resp_free(r);
    r = it_auth("GET", "/api/endpoints/?page_size=100", access_tok, NULL);
    assert_no_secret("GET /api/endpoints/", r->raw);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_no_secret("GET /api/endpoints/{id}/checks/", r->raw);
    it_resp_free(r);

    /* Stored and scheduled sealed only. */
    const char *p[] = {id};
    json_t *rows = it_sql("SELECT probe::text AS probe FROM public.schedule"
                          " WHERE endpoint_id = $1::uuid",
                          1, p);
    const char *probe = json_string_value(json_object_get(json_array_get(rows, 0), "probe"));
    assert_non_null(probe);
    assert_non_null(strstr(probe, "\"headers\": \"v1."));
    assert_no_secret("public.schedule.probe", probe);
    json_decref(rows);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT headers_sealed, header_names::text AS names FROM \"%s\".endpoints"
             " WHERE id = $1::uuid",
             tenant);
    rows = it_sql(sql, 1, p);
    const char *sealed =
        json_string_value(json_object_get(json_array_get(rows, 0), "headers_sealed"));
    assert_non_null(sealed);
    assert_no_secret("the endpoints table", sealed);
    json_decref(rows);

    /* Other methods: PUT with a body, HEAD. */
    char *put = create(json_pack("{s:s,s:s,s:s,s:[o,o]}", "url",
                                 url_of(url, sizeof(url), "http", "/echo"), "method", "PUT", "body",
                                 "put-body", "assertions",
                                 assertion("json_body", "$.method", "equals", json_string("PUT")),
                                 assertion("json_body", "$.body", "equals", json_string("put-body"))));
    char *head = create(json_pack("{s:s,s:s,s:[o,o]}", "url",
                                  url_of(url, sizeof(url), "http", "/json"), "method", "HEAD",
                                  "assertions",
                                  assertion("status_code", NULL, "equals", json_integer(200)),
                                  assertion("body", NULL, "is_empty", NULL)));
    wait_status(put, "up", 20000);
    wait_status(head, "up", 20000);
    free(put);
    free(head);
    free(id);
}

/* ---- TCP ------------------------------------------------------------------------------- */

static void test_tcp_open_and_closed(void **state)
{
    char url[128];
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", tcp_port);
    char *open_id = create(json_pack("{s:s,s:s}", "url", url, "kind", "tcp"));
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", it_free_port());
    char *closed_id = create(json_pack("{s:s,s:s}", "url", url, "kind", "tcp"));
    wait_status(open_id, "up", 20000);
    wait_status(closed_id, "down", 20000);
    json_t *e = get_endpoint(open_id);
    assert_string_equal(json_string_value(json_object_get(e, "kind")), "tcp");
    assert_true(json_is_null(json_object_get(e, "last_http_status")));
    json_decref(e);
    json_t *c = newest_check(closed_id, 1, 1000);
    assert_false(json_is_true(json_object_get(c, "ok")));
    assert_true(json_string_length(json_object_get(c, "error")) > 0);
    json_decref(c);
    free(open_id);
    free(closed_id);
}

static int mails_naming(const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "grep -l '%s' %s/*.eml 2>/dev/null | wc -l", name,
             getenv("SW_MAIL_DIR"));
    FILE *f = popen(cmd, "r");
    int n = 0;
    if (f && fscanf(f, "%d", &n) != 1)
        n = 0;
    if (f)
        pclose(f);
    return n;
}

/* ---- TLS certificate ------------------------------------------------------------------- */

static void test_certificate_recorded_and_expiring_once(void **state)
{
    char url[128];
    char *id = create(json_pack("{s:s,s:b,s:s}", "url", url_of(url, sizeof(url), "https", "/json"),
                                "tls_verify", 0, "name", "Expiring Cert Site"));
    wait_status(id, "up", 20000);
    json_t *e = get_endpoint(id);
    const char *exp = json_string_value(json_object_get(e, "tls_expires_at"));
    const char *subject = json_string_value(json_object_get(e, "tls_subject"));
    const char *issuer = json_string_value(json_object_get(e, "tls_issuer"));
    assert_non_null(exp);
    assert_non_null(subject);
    assert_non_null(issuer);
    assert_non_null(strstr(subject, "127.0.0.1"));
    assert_non_null(strstr(issuer, "StatusWatch Test"));
    struct tm tm = {0};
    assert_non_null(strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm));
    double days = difftime(timegm(&tm), time(NULL)) / 86400.0;
    assert_true(days > 4.9 && days < 5.1);
    json_decref(e);

    /* Two more checks: the 14- and 7-day thresholds were crossed at once, announced once. */
    for (int i = 2; i <= 3; i++) {
        make_due(id);
        json_decref(newest_check(id, i, 15000));
    }
    for (int w = 0; w < 5000 && count_events("tls.expiring", id) < 1; w += 250)
        usleep(250 * 1000);
    usleep(500 * 1000);
    assert_int_equal(count_events("tls.expiring", id), 1);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *s = json_string_value(json_object_get(ev, "subject"));
        const char *d = json_string_value(json_object_get(ev, "data"));
        if (!strstr(s, ".tls.expiring") || !strstr(d, id))
            continue;
        json_t *o = json_loads(d, 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(o, "threshold_days")), 7);
        assert_int_equal(json_integer_value(json_object_get(o, "days_left")), 4);
        json_decref(o);
    }
    /* And one mail to the owner (sw-auth, as for an outage). */
    for (int w = 0; w < 10000 && mails_naming("Expiring Cert Site") < 1; w += 250)
        usleep(250 * 1000);
    usleep(1000 * 1000);
    assert_int_equal(mails_naming("Expiring Cert Site"), 1);
    /* Verified against the system's CAs, the self-signed certificate fails the check. */
    char *strict = create(json_pack("{s:s}", "url", url_of(url, sizeof(url), "https", "/json")));
    wait_status(strict, "down", 20000);
    free(strict);
    free(id);
}

/* ---- degraded -------------------------------------------------------------------------- */

static void test_slow_target_degraded(void **state)
{
    char url[128], path[160];
    char *id = create(json_pack("{s:s,s:s,s:i}", "url", url_of(url, sizeof(url), "http", "/slow"),
                                "name", "Slow Degraded Target", "degraded_threshold_ms", 500));
    wait_status(id, "degraded", 20000);
    json_t *c = newest_check(id, 1, 1000);
    assert_true(json_is_true(json_object_get(c, "ok"))); /* it passed, slowly */
    assert_non_null(strstr(json_string_value(json_object_get(c, "error")), "degraded above 500 ms"));
    json_decref(c);
    assert_true(count_events("endpoint.degraded", id) >= 1);
    snprintf(path, sizeof(path), "/api/endpoints/%s/incidents/", id);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    json_t *inc = json_array_get(json_object_get(r->body, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(inc, "kind")), "degraded");
    assert_true(json_is_null(json_object_get(inc, "closed_at")));
    it_resp_free(r);

    /* Fast again: up, the incident closed; never an outage mail either way. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    r = it_auth("PATCH", path, access_tok,
                json_pack("{s:s}", "url", url_of(url, sizeof(url), "http", "/json")));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    wait_status(id, "up", 20000);
    snprintf(path, sizeof(path), "/api/endpoints/%s/incidents/", id);
    r = it_auth("GET", path, access_tok, NULL);
    inc = json_array_get(json_object_get(r->body, "results"), 0);
    assert_false(json_is_null(json_object_get(inc, "closed_at")));
    it_resp_free(r);
    usleep(1500 * 1000); /* time for a mail that should not come */
    assert_int_equal(mails_naming("Slow Degraded Target"), 0);
    free(id);
}

/* An edit is judged by checks of the new settings only: retries of a job made before it (still
 * running the old assertions) must not take the endpoint down again. */
static void test_an_edit_is_judged_by_new_checks_only(void **state)
{
    char url[128], path[160];
    char *id = create(json_pack("{s:s,s:[o]}", "url", url_of(url, sizeof(url), "http", "/html"),
                                "assertions",
                                assertion("body", NULL, "contains", json_string("Welcome back"))));
    wait_status(id, "down", 20000);
    /* A job is named by its due second: the edit's first check must not share the first's. */
    usleep(1100 * 1000);
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    it_resp *r = it_auth("PATCH", path, access_tok,
                         json_pack("{s:[o]}", "assertions",
                                   assertion("body", NULL, "contains", json_string("log in"))));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    wait_status(id, "up", 20000);
    /* The old job's last retries come within a few seconds (SW_PROBE_RETRY_MS 300 x 3^n). */
    for (int i = 0; i < 12; i++) {
        usleep(250 * 1000);
        char *st = status_of(id);
        if (strcmp(st, "up") != 0)
            fail_msg("back to %s after the edit", st);
        free(st);
    }
    snprintf(path, sizeof(path), "/api/endpoints/%s/incidents/", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    it_resp_free(r);
    free(id);
}

/* ---- the read routes ------------------------------------------------------------------- */

static void test_read_routes(void **state)
{
    char url[128], path[256];
    char *id = create(json_pack("{s:s}", "url", url_of(url, sizeof(url), "http", "/json")));
    wait_status(id, "up", 20000);
    make_due(id);
    json_decref(newest_check(id, 2, 15000));

    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?page_size=1", id);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 2);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 1);
    assert_non_null(strstr(json_string_value(json_object_get(r->body, "next")), "page=2"));
    assert_true(json_is_null(json_object_get(r->body, "previous")));
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?page_size=1&page=2&region=local", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_is_null(json_object_get(r->body, "next")));
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?page=3&page_size=1", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    const char *empty[] = {"ok=false", "until=2001-01-01T00:00:00Z", "region=elsewhere",
                           "since=2999-01-01"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?%s", id, empty[i]);
        r = it_auth("GET", path, access_tok, NULL);
        assert_int_equal(r->status, 200);
        assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 0);
        it_resp_free(r);
    }
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?ok=true&since=2001-01-01T00:00:00%%2B01:00",
             id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 2);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?since=yesterday&ok=maybe", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "since"));
    assert_non_null(json_object_get(r->body, "ok"));
    it_resp_free(r);

    /* Uptime: four windows, or one with its buckets. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/uptime/", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(json_object_size(json_object_get(r->body, "windows")), 4);
    it_resp_free(r);
    const int days[] = {1, 7, 30, 90};
    const char *names[] = {"24h", "7d", "30d", "90d"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "/api/endpoints/%s/uptime/?days=%d", id, days[i]);
        r = it_auth("GET", path, access_tok, NULL);
        assert_int_equal(r->status, 200);
        json_t *w = json_object_get(json_object_get(r->body, "windows"), names[i]);
        assert_int_equal(json_object_size(json_object_get(r->body, "windows")), 1);
        assert_int_equal(json_integer_value(json_object_get(w, "checks")), 2);
        assert_int_equal(json_array_size(json_object_get(r->body, "buckets")),
                         days[i] == 1 ? 24 : days[i]);
        json_t *last = json_array_get(json_object_get(r->body, "buckets"),
                                      json_array_size(json_object_get(r->body, "buckets")) - 1);
        assert_int_equal(json_integer_value(json_object_get(last, "checks")), 2);
        it_resp_free(r);
    }
    snprintf(path, sizeof(path), "/api/endpoints/%s/uptime/?days=3", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 400);
    it_resp_free(r);

    /* Response times per region. */
    const char *periods[] = {"24h", "7d", "30d"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/api/endpoints/%s/response-times/?period=%s", id,
                 periods[i]);
        r = it_auth("GET", path, access_tok, NULL);
        assert_int_equal(r->status, 200);
        json_t *s = json_array_get(json_object_get(r->body, "series"), 0);
        assert_string_equal(json_string_value(json_object_get(s, "region")), "local");
        json_t *pt = json_array_get(json_object_get(s, "points"), 0);
        assert_int_equal(json_integer_value(json_object_get(pt, "checks")), 2);
        double p50 = json_number_value(json_object_get(pt, "p50_ms"));
        double p95 = json_number_value(json_object_get(pt, "p95_ms"));
        double p99 = json_number_value(json_object_get(pt, "p99_ms"));
        assert_true(p50 > 0 && p50 <= p95 && p95 <= p99);
        it_resp_free(r);
    }
    snprintf(path, sizeof(path), "/api/endpoints/%s/response-times/?period=1y", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 400);
    it_resp_free(r);

    /* Incidents: an outage, paginated; another tenant's id is 404. */
    char *down = create(json_pack("{s:s}", "url", url_of(url, sizeof(url), "http", "/missing")));
    wait_status(down, "down", 20000);
    snprintf(path, sizeof(path), "/api/endpoints/%s/incidents/", down);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    json_t *inc = json_array_get(json_object_get(r->body, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(inc, "kind")), "down");
    assert_string_equal(json_string_value(json_object_get(inc, "cause")), "unexpected status 404");
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/incidents/?page=2", down);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/00000000-0000-4000-8000-000000000000/incidents/");
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    free(down);
    free(id);
}

/* Runs last: nothing the tenant's events carried held a header value. */
static void test_no_header_value_in_events(void **state)
{
    drain_events(500);
    assert_true(json_array_size(events) > 10);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        assert_no_secret("an event", json_string_value(json_object_get(e, "data")));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_are_validated),
        cmocka_unit_test(test_every_source_and_comparison),
        cmocka_unit_test(test_post_with_headers_and_body),
        cmocka_unit_test(test_tcp_open_and_closed),
        cmocka_unit_test(test_certificate_recorded_and_expiring_once),
        cmocka_unit_test(test_slow_target_degraded),
        cmocka_unit_test(test_an_edit_is_judged_by_new_checks_only),
        cmocka_unit_test(test_read_routes),
        cmocka_unit_test(test_no_header_value_in_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
