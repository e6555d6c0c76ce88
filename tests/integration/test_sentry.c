/* Error tracking against the test stack: ops/sw test points every process at the Sentry ingest
 * double (tests/fakes/sentry_fake.py, SENTRY_DSN), which checks the envelope format and the
 * X-Sentry-Auth header and keeps what it accepts in SW_SENTRY_DIR. Shown here: the double
 * refuses what Sentry would refuse; a request that fails with 500 reaches it as an error event
 * tagged with the response's X-Request-Id, the tenant, the actor, the environment and the build's
 * release; the edge's error at start-up is flushed before it exits, scrubbed like its log line;
 * a crash (SIGSEGV) is spooled by the signal handler and sent by the next start; without a DSN
 * nothing is sent and no crash is spooled; /metrics counts the events per actor. */
#include "tests/support/it.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <strings.h>
#include <sodium.h>

#include "bus/sentry.h"

static const char *sentry_dir(void)
{
    const char *d = getenv("SW_SENTRY_DIR");
    if (!d || !*d)
        fail_msg("SW_SENTRY_DIR is not set: the test instance runs the Sentry double (ops/sw)");
    return d;
}

/* Every envelope the double accepted, as a JSON array of its files' objects (owned). */
static json_t *received(void)
{
    json_t *all = json_array();
    DIR *d = opendir(sentry_dir());
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char path[1024];
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", sentry_dir(), de->d_name);
        json_t *o = json_load_file(path, 0, NULL);
        if (o) {
            json_object_set_new(o, "file", json_string(path));
            json_array_append_new(all, o);
        }
    }
    closedir(d);
    return all;
}

static json_t *event_of(json_t *doc)
{
    return json_object_get(json_array_get(json_object_get(doc, "items"), 0), "payload");
}

static const char *str_at(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* Waits up to timeout_ms for an accepted event whose field (tags.<tag> when tag is given, else
 * message.formatted) equals want; returns its file's document (owned) or NULL. */
static json_t *wait_event(const char *tag, const char *want, const char *actor, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        json_t *all = received(), *doc, *found = NULL;
        size_t i;
        json_array_foreach(all, i, doc)
        {
            json_t *ev = event_of(doc);
            const char *got = tag ? str_at(ev, "tags", tag) : str_at(ev, "message", "formatted");
            if (strcmp(got, want) == 0 &&
                (!actor || strcmp(str_at(ev, "tags", "actor"), actor) == 0))
                found = json_incref(doc);
        }
        json_decref(all);
        if (found)
            return found;
        usleep(200 * 1000);
    }
    return NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0;
    if (!f)
        return NULL;
    ssize_t n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* POSTs body to the double's envelope endpoint with auth (NULL: no header). Returns the status. */
static long post_envelope(const char *auth, const char *project, const char *body)
{
    sw_sentry_dsn dsn;
    char why[160], url[512], header[512];
    assert_true(sw_sentry_dsn_parse(&dsn, getenv("SENTRY_DSN"), why, sizeof(why)));
    snprintf(url, sizeof(url), "http://%s/api/%s/envelope/?selfcheck=1", dsn.host,
             project ? project : dsn.project);
    CURL *h = curl_easy_init();
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/x-sentry-envelope");
    if (auth) {
        snprintf(header, sizeof(header), "X-Sentry-Auth: %s", auth);
        hs = curl_slist_append(hs, header);
    }
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    fclose(devnull);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    return code;
}

/* The double refuses what Sentry refuses, so an event it accepted was well-formed. */
static void test_double_checks_envelope_and_auth(void **state)
{
    sw_sentry_dsn dsn;
    char why[160], auth[300], wrong[300];
    assert_true(sw_sentry_dsn_parse(&dsn, getenv("SENTRY_DSN"), why, sizeof(why)));
    sw_sentry_auth_header(auth, sizeof(auth), dsn.key);
    sw_sentry_auth_header(wrong, sizeof(wrong), "00000000000000000000000000000000");
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:{s:s}}", "event_id",
                           "0123456789abcdef0123456789abcdef", "timestamp",
                           "2026-01-01T00:00:00.000Z", "platform", "c", "level", "error", "message",
                           "formatted", "self-check", "tags", "actor", "test_sentry");
    char *good = sw_sentry_envelope(ev);
    json_decref(ev);

    assert_int_equal(post_envelope(NULL, NULL, good), 401);
    assert_int_equal(post_envelope("Sentry sentry_version=6, sentry_key=x", NULL, good), 401);
    assert_int_equal(post_envelope(wrong, NULL, good), 403);
    assert_int_equal(post_envelope(auth, "999999", good), 403);
    assert_int_equal(post_envelope(auth, NULL, "{\"event_id\":\"x\"}\nnot json\n"), 400);
    /* A stated length that does not match the payload. */
    assert_int_equal(
        post_envelope(auth, NULL, "{}\n{\"type\":\"event\",\"length\":999}\n{\"event_id\":1}\n"),
        400);
    /* An event without a level or timestamp. */
    assert_int_equal(
        post_envelope(
            auth, NULL,
            "{}\n{\"type\":\"event\"}\n{\"event_id\":\"0123456789abcdef0123456789abcdef\","
            "\"platform\":\"c\",\"message\":{\"formatted\":\"x\"}}\n"),
        400);
    assert_int_equal(post_envelope(auth, NULL, good), 200);
    free(good);
}

/* A request that fails with 500 (its tenant's endpoints table is away) becomes an error event
 * tagged with the request id the client saw, the tenant, the actor, environment and release. */
static void test_request_error_reaches_sentry(void **state)
{
    char email[160], sql[256];
    char *tenant = it_signup_verified(email, sizeof(email), "Sentry Org");
    it_resp *login = it_login(email, IT_PASSWORD);
    const char *access = json_string_value(json_object_get(login->body, "access"));
    assert_non_null(access);
    /* The table is renamed away for one request and back (its grants go with it: test_secrets
     * later checks every tenant schema's grants). */
    snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\".endpoints RENAME TO endpoints_away", tenant);
    json_decref(it_sql(sql, 0, NULL));
    it_resp *r = it_auth("GET", "/api/endpoints/", access, NULL);
    snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\".endpoints_away RENAME TO endpoints", tenant);
    json_decref(it_sql(sql, 0, NULL));
    assert_int_equal(r->status, 500);
    char rid[64];
    snprintf(rid, sizeof(rid), "%s", it_header(r, "X-Request-Id"));
    assert_true(strlen(rid) >= 16);
    /* The client sees a clean message, never the SQL error. */
    assert_null(strstr(r->raw, "relation"));

    json_t *doc = wait_event("request_id", rid, NULL, 15000);
    if (!doc)
        fail_msg("no Sentry event tagged request_id=%s in %s", rid, sentry_dir());
    json_t *ev = event_of(doc);
    assert_string_equal(str_at(ev, "level", NULL), "error");
    assert_string_equal(str_at(ev, "message", "formatted"), "request failed");
    assert_string_equal(str_at(ev, "tags", "actor"), "sw-endpoints");
    assert_string_equal(str_at(ev, "tags", "tenant"), tenant);
    assert_string_equal(str_at(ev, "release", NULL), sw_release);
    assert_string_equal(str_at(ev, "environment", NULL), getenv("SENTRY_ENVIRONMENT"));
    assert_string_equal(str_at(ev, "extra", "status"), "SW_EINTERNAL");
    /* The double saw the DSN's public key in X-Sentry-Auth. */
    sw_sentry_dsn dsn;
    char why[160];
    assert_true(sw_sentry_dsn_parse(&dsn, getenv("SENTRY_DSN"), why, sizeof(why)));
    assert_string_equal(str_at(doc, "auth", "sentry_key"), dsn.key);
    assert_string_equal(str_at(doc, "auth", "sentry_version"), "7");
    json_decref(doc);
    it_resp_free(r);
    it_resp_free(login);
    free(tenant);
}

/* Runs build/bin/sw-edge with the instance's settings plus extra (shell assignments), which
 * make it refuse to start: a certificate and key that cannot be read. Returns its exit status;
 * its stderr goes to errfile. */
static int edge_refusing(const char *extra, const char *marker, const char *errfile)
{
    char cmd[2048];
    snprintf(
        cmd, sizeof(cmd),
        "env -u DATABASE_URL SW_NATS_USER=\"$SW_ADMIN_NATS_USER\" "
        "SW_NATS_PASSWORD=\"$SW_ADMIN_NATS_PASSWORD\" "
        "SW_HTTP_LISTEN=127.0.0.1:1 SW_TLS_CERT=/nonexistent/%s SW_TLS_KEY=/nonexistent/key.pem "
        "%s %s/sw-edge 2>%s",
        marker, extra, SW_BIN_DIR, errfile);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The edge's start-up error goes out before the process ends (flushed at exit), and the event
 * holds what the log line holds: the secret-looking path is "[redacted]" in both. */
static void test_edge_error_flushed_and_scrubbed(void **state)
{
    char marker[64], hex[25], errfile[] = "/tmp/sw-sentry-edge-XXXXXX";
    unsigned char b[12];
    randombytes_buf(b, sizeof(b));
    sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
    snprintf(marker, sizeof(marker), "sk_test_%s", hex);
    int fd = mkstemp(errfile);
    assert_true(fd >= 0);
    close(fd);

    assert_int_equal(edge_refusing("", marker, errfile), 2);
    json_t *doc = wait_event(NULL, "cannot read", "sw-edge", 5000);
    if (!doc)
        fail_msg("no \"cannot read\" event from sw-edge in %s", sentry_dir());
    json_t *ev = event_of(doc);
    assert_string_equal(str_at(ev, "extra", "setting"), "SW_TLS_CERT");
    assert_string_equal(str_at(ev, "extra", "path"), "[redacted]");
    char *raw = read_file(json_string_value(json_object_get(doc, "file")));
    assert_non_null(raw);
    assert_null(strstr(raw, marker));
    free(raw);
    char *log = read_file(errfile);
    assert_non_null(log);
    assert_non_null(strstr(log, "\"path\":\"[redacted]\""));
    assert_null(strstr(log, marker));
    free(log);
    unlink(errfile);
    json_decref(doc);
}

/* Without SENTRY_DSN: no event, no crash handler, no spool. */
static void test_no_dsn_sends_nothing(void **state)
{
    char spool[] = "/tmp/sw-sentry-spool-XXXXXX", errfile[] = "/tmp/sw-sentry-nodsn-XXXXXX";
    char extra[512], env[64], hex[17];
    unsigned char b[8];
    assert_non_null(mkdtemp(spool));
    int fd = mkstemp(errfile);
    assert_true(fd >= 0);
    close(fd);
    randombytes_buf(b, sizeof(b));
    sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
    snprintf(env, sizeof(env), "nodsn-%s", hex);
    snprintf(extra, sizeof(extra),
             "SENTRY_DSN= SW_WEB_SENTRY_DSN= SENTRY_ENVIRONMENT=%s "
             "SW_SENTRY_SPOOL_DIR=%s",
             env, spool);
    assert_int_equal(edge_refusing(extra, "cert.pem", errfile), 2);
    char *log = read_file(errfile);
    assert_non_null(log);
    assert_non_null(strstr(log, "\"msg\":\"cannot read\"")); /* the error happened... */
    assert_null(strstr(log, "error tracking"));              /* ...with no Sentry set up */
    free(log);
    /* An edge with a DSN flushes before exiting; this one had none, so nothing can come later:
     * no event carries its environment. */
    json_t *all = received(), *doc;
    size_t i;
    json_array_foreach(all, i, doc)
    {
        if (strcmp(str_at(event_of(doc), "environment", NULL), env) == 0)
            fail_msg("an event was sent without a DSN: %s", str_at(doc, "file", NULL));
    }
    json_decref(all);
    DIR *d = opendir(spool);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)))
        files += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 0);
    rmdir(spool);
    unlink(errfile);
}

static long pid_of(const char *proc)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/run/%s.pid", getenv("SW_VAR"), proc);
    char *text = read_file(path);
    long pid = text ? strtol(text, NULL, 10) : 0;
    free(text);
    return pid;
}

static bool proc_gone(long pid)
{
    char path[64], *stat = NULL;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    stat = read_file(path);
    bool gone = !stat || strstr(stat, ") Z ") != NULL;
    free(stat);
    return gone;
}

static int spooled(const char *actor)
{
    char prefix[96];
    int n = 0;
    snprintf(prefix, sizeof(prefix), "crash-%s-", actor);
    DIR *d = opendir(getenv("SW_SENTRY_SPOOL_DIR"));
    struct dirent *de;
    if (!d)
        return 0;
    while ((de = readdir(d)))
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* A second sw-deadletter crashes (SIGSEGV): the handler writes the crash into the spool and the
 * process still dies of the signal; the next start sends it as a fatal event and empties the
 * spool. */
static void test_crash_spooled_then_sent(void **state)
{
    char logpath[512];
    assert_int_equal(spooled("sw-deadletter"), 0);
    assert_int_equal(it_ops("actor start deadletter 2"), 0);
    long pid = pid_of("deadletter.2");
    assert_true(pid > 1);
    /* The handler is installed first thing at start-up: wait for the line that says so. */
    snprintf(logpath, sizeof(logpath), "%s/log/deadletter.2.log", getenv("SW_VAR"));
    bool ready = false;
    for (int i = 0; i < 100 && !ready; i++) {
        char *log = read_file(logpath);
        ready = log && strstr(log, "error tracking: errors and crashes go to Sentry");
        free(log);
        if (!ready)
            usleep(100 * 1000);
    }
    assert_true(ready);
    assert_int_equal(kill((pid_t)pid, SIGSEGV), 0);
    for (int i = 0; i < 100 && !proc_gone(pid); i++)
        usleep(100 * 1000);
    assert_true(proc_gone(pid));
    assert_int_equal(spooled("sw-deadletter"), 1);

    assert_int_equal(it_ops("actor start deadletter 2"), 0);
    json_t *doc = wait_event("signal", "SIGSEGV", "sw-deadletter", 15000);
    if (!doc)
        fail_msg("the spooled crash of sw-deadletter was not sent (%s)", sentry_dir());
    json_t *ev = event_of(doc);
    assert_string_equal(str_at(ev, "level", NULL), "fatal");
    assert_string_equal(str_at(ev, "release", NULL), sw_release);
    json_t *exc = json_array_get(json_object_get(json_object_get(ev, "exception"), "values"), 0);
    assert_string_equal(str_at(exc, "type", NULL), "SIGSEGV");
    assert_string_equal(str_at(json_object_get(exc, "mechanism"), "type", NULL), "signalhandler");
    assert_true(json_is_false(json_object_get(json_object_get(exc, "mechanism"), "handled")));
    assert_true(json_array_size(json_object_get(json_object_get(exc, "stacktrace"), "frames")) > 0);
    for (int i = 0; i < 50 && spooled("sw-deadletter") > 0; i++)
        usleep(100 * 1000);
    assert_int_equal(spooled("sw-deadletter"), 0);
    json_decref(doc);
    assert_int_equal(it_ops("actor stop deadletter 2"), 0);
}

/* /metrics counts Sentry events per actor and outcome (from each actor's $SRV.STATS). */
static void test_metrics_count_events(void **state)
{
    char auth[160];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", getenv("SW_METRICS_TOKEN"));
    it_resp *r = it_http("GET", "/metrics", NULL, auth, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->raw, "# TYPE sw_sentry_events_total counter"));
    const char *p =
        strstr(r->raw, "sw_sentry_events_total{actor=\"sw-endpoints\",outcome=\"sent\"} ");
    if (!p)
        fail_msg("no sent count for sw-endpoints in /metrics");
    assert_true(strtol(strchr(p, '}') + 2, NULL, 10) >= 1);
    assert_non_null(
        strstr(r->raw, "sw_sentry_events_total{actor=\"sw-edge\",outcome=\"dropped\"} "));
    assert_non_null(
        strstr(r->raw, "sw_sentry_events_total{actor=\"sw-auth\",outcome=\"failed\"} "));
    it_resp_free(r);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* GET url; returns the body (owned, NULL when the request failed), the status and the
 * Content-Security-Policy header (into csp). */
static char *get(const char *url, char *csp, size_t csplen, long *status)
{
    char *body = NULL, *headers = NULL;
    size_t body_len = 0, headers_len = 0;
    CURL *h = curl_easy_init();
    FILE *fb = open_memstream(&body, &body_len), *fh = open_memstream(&headers, &headers_len);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, fb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, fh);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    fclose(fb);
    fclose(fh);
    csp[0] = '\0';
    const char *p = headers ? strcasestr(headers, "\nContent-Security-Policy: ") : NULL;
    if (p)
        snprintf(csp, csplen, "%.*s", (int)strcspn(p + 27, "\r\n"), p + 27);
    free(headers);
    if (rc != CURLE_OK) {
        free(body);
        return NULL;
    }
    return body;
}

/* The dashboard learns the DSN from GET /api/config/ and its CSP lets it reach that host only;
 * an edge without a DSN says so ({"sentry": null}) and its CSP connects to 'self' only. */
static void test_dashboard_config_and_csp(void **state)
{
    char url[256], csp[1024], want[600], log[512], bin[512];
    long status = 0;
    sw_sentry_dsn dsn;
    char why[160];
    assert_true(sw_sentry_dsn_parse(&dsn, getenv("SENTRY_DSN"), why, sizeof(why)));

    snprintf(url, sizeof(url), "http://%s/api/config/", getenv("SW_HTTP_LISTEN"));
    char *body = get(url, csp, sizeof(csp), &status);
    assert_int_equal(status, 200);
    json_t *cfg = json_loads(body, 0, NULL);
    assert_string_equal(str_at(cfg, "sentry", "dsn"), getenv("SENTRY_DSN"));
    assert_string_equal(str_at(cfg, "sentry", "environment"), getenv("SENTRY_ENVIRONMENT"));
    assert_string_equal(str_at(cfg, "sentry", "release"), sw_release);
    json_decref(cfg);
    free(body);
    snprintf(url, sizeof(url), "http://%s/login", getenv("SW_HTTP_LISTEN"));
    free(get(url, csp, sizeof(csp), &status));
    assert_int_equal(status, 200);
    snprintf(want, sizeof(want), "connect-src 'self' %s://%s;", dsn.scheme, dsn.host);
    if (!strstr(csp, want))
        fail_msg("dashboard CSP without \"%s\": %s", want, csp);

    /* A second edge without any DSN. */
    int port = free_port();
    snprintf(log, sizeof(log), "%s/log/edge-nodsn.log", getenv("SW_VAR"));
    snprintf(bin, sizeof(bin), "%s/sw-edge", SW_BIN_DIR);
    pid_t pid = fork();
    if (pid == 0) {
        char listen[64];
        FILE *f = fopen(log, "a");
        if (f) {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        setenv("SW_HTTP_LISTEN", listen, 1);
        setenv("SW_NATS_USER", getenv("SW_ADMIN_NATS_USER"), 1);
        setenv("SW_NATS_PASSWORD", getenv("SW_ADMIN_NATS_PASSWORD"), 1);
        unsetenv("SW_ADMIN_NATS_PASSWORD");
        unsetenv("SENTRY_DSN");
        unsetenv("SW_WEB_SENTRY_DSN");
        unsetenv("DATABASE_URL"); /* the edge holds no database connection */
        setpgid(0, 0);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/config/", port);
    body = NULL;
    for (int i = 0; i < 100 && !body; i++) {
        body = get(url, csp, sizeof(csp), &status);
        if (!body)
            usleep(100 * 1000);
    }
    assert_non_null(body);
    assert_int_equal(status, 200);
    cfg = json_loads(body, 0, NULL);
    assert_true(json_is_null(json_object_get(cfg, "sentry")));
    json_decref(cfg);
    free(body);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/login", port);
    free(get(url, csp, sizeof(csp), &status));
    assert_non_null(strstr(csp, "connect-src 'self';"));
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Nothing the services sent was refused: the only refusals are the self-check's. */
static void test_services_sent_nothing_malformed(void **state)
{
    char path[1024], line[2048];
    snprintf(path, sizeof(path), "%s/rejected.log", sentry_dir());
    FILE *f = fopen(path, "r");
    int selfcheck = 0;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *o = json_loads(line, 0, NULL);
        if (strcmp(str_at(o, "query", NULL), "selfcheck=1") != 0)
            fail_msg("the double refused an envelope from the services: %s", line);
        selfcheck++;
        json_decref(o);
    }
    if (f)
        fclose(f);
    assert_true(selfcheck >= 7); /* test_double_checks_envelope_and_auth ran first */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_checks_envelope_and_auth),
        cmocka_unit_test(test_request_error_reaches_sentry),
        cmocka_unit_test(test_edge_error_flushed_and_scrubbed),
        cmocka_unit_test(test_no_dsn_sends_nothing),
        cmocka_unit_test(test_crash_spooled_then_sent),
        cmocka_unit_test(test_metrics_count_events),
        cmocka_unit_test(test_dashboard_config_and_csp),
        cmocka_unit_test(test_services_sent_nothing_malformed),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
