/* The platform through the real edge: headers on every response, body limits, routing, the
 * dashboard's static files, health and readiness, the NATS micro protocol (validated against
 * the published schemas), no-responders and timeouts, migrations, production start-up checks. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "store/migrate.h"
#include "store/store.h"

static void assert_api_headers(const it_resp *r)
{
    const char *rid = it_header(r, "X-Request-Id");
    assert_non_null(rid);
    assert_int_equal(strlen(rid), 32);
    assert_string_equal(it_header(r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(it_header(r, "X-Frame-Options"), "DENY");
    assert_non_null(strstr(it_header(r, "Content-Security-Policy"), "default-src 'none'"));
    assert_string_equal(it_header(r, "Referrer-Policy"), "no-referrer");
    assert_non_null(it_header(r, "Permissions-Policy"));
    assert_non_null(strstr(it_header(r, "Content-Type"), "application/json"));
}

static void test_health_and_headers(void **state)
{
    it_resp *r = it_http("GET", "/health/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_api_headers(r);
    json_t *checks = json_object_get(r->body, "checks");
    assert_string_equal(json_string_value(json_object_get(checks, "database")), "ok");
    assert_string_equal(json_string_value(json_object_get(checks, "nats")), "ok");
    it_resp_free(r);

    r = it_http("GET", "/health/ready/", NULL, NULL);
    assert_int_equal(r->status, 200);
    checks = json_object_get(r->body, "checks");
    const char *names[] = {"database", "nats", "streams", "actors", "migrations"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(json_string_value(json_object_get(checks, names[i])), "ok");
    it_resp_free(r);
}

static void test_request_ids_differ(void **state)
{
    it_resp *a = it_http("GET", "/health/", NULL, NULL);
    char first[64];
    snprintf(first, sizeof(first), "%s", it_header(a, "X-Request-Id"));
    it_resp *b = it_http("GET", "/health/", NULL, NULL);
    assert_string_not_equal(first, it_header(b, "X-Request-Id"));
    it_resp_free(a);
    it_resp_free(b);
}

static void test_routing(void **state)
{
    it_resp *r = it_http("GET", "/api/nothing-here/", NULL, NULL);
    assert_int_equal(r->status, 404);
    assert_api_headers(r);
    assert_non_null(json_object_get(r->body, "detail"));
    it_resp_free(r);

    r = it_http("GET", "/api/auth/register/", NULL, NULL);
    assert_int_equal(r->status, 405);
    assert_string_equal(it_header(r, "Allow"), "POST");
    it_resp_free(r);

    /* Protected routes refuse before reading anything. */
    r = it_http("GET", "/api/auth/me/", NULL, NULL);
    assert_int_equal(r->status, 401);
    assert_non_null(strstr(it_header(r, "WWW-Authenticate"), "Bearer"));
    it_resp_free(r);
}

static void test_body_limits(void **state)
{
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"organization_name\":\"", 22);
    big[n - 2] = '"';
    big[n - 1] = '}';
    big[n] = '\0';
    it_resp *r =
        it_http("POST", "/api/auth/register/", big, "Content-Type: application/json", NULL);
    assert_int_equal(r->status, 413);
    assert_api_headers(r);
    assert_non_null(json_object_get(r->body, "detail"));
    it_resp_free(r);
    free(big);

    const char *bad[] = {"{not json", "[1,2,3]", "\"text\"", "{\"a\":1}{", "\xff\xfe{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = it_http("POST", "/api/auth/register/", bad[i], "Content-Type: application/json",
                    NULL);
        assert_int_equal(r->status, 400);
        assert_non_null(json_object_get(r->body, "detail"));
        assert_null(strstr(r->raw, "json_error")); /* nothing internal leaks */
        it_resp_free(r);
    }
}

static void test_static_and_spa(void **state)
{
    it_resp *r = it_http("GET", "/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(it_header(r, "Content-Type"), "text/html"));
    assert_non_null(strstr(it_header(r, "Content-Security-Policy"), "script-src 'self'"));
    assert_string_equal(it_header(r, "X-Frame-Options"), "DENY");
    assert_non_null(it_header(r, "X-Request-Id"));
    assert_non_null(strstr(r->raw, "StatusWatch"));
    it_resp_free(r);

    /* Client-side routes get the app; missing assets are real 404s. */
    r = it_http("GET", "/dashboard", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->raw, "<html"));
    it_resp_free(r);
    r = it_http("GET", "/assets/missing-0000.js", NULL, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_http("GET", "/..%2f..%2f..%2fetc/passwd", NULL, NULL);
    assert_null(strstr(r->raw, "root:"));
    it_resp_free(r);
}

/* Sends one $SRV request and writes every reply to dir/<verb>-<n>.json; returns the count. */
static int gather(natsConnection *nc, const char *subject, const char *dir, const char *verb,
                  char *names, size_t len)
{
    natsSubscription *sub = NULL;
    char inbox[64], path[512];
    int n = 0;
    snprintf(inbox, sizeof(inbox), "_INBOX.it.%s", verb);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, inbox), NATS_OK);
    assert_int_equal(natsConnection_PublishRequestString(nc, subject, inbox, ""), NATS_OK);
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, sub, 700) == NATS_OK) {
        snprintf(path, sizeof(path), "%s/%s-%d.json", dir, verb, n++);
        FILE *f = fopen(path, "w");
        fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), f);
        fclose(f);
        json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
        const char *name = json_string_value(json_object_get(o, "name"));
        if (name && strlen(names) + strlen(name) + 2 < len) {
            strcat(names, name);
            strcat(names, ",");
        }
        json_decref(o);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    return n;
}

static void test_micro_protocol_conformance(void **state)
{
    natsConnection *nc = it_nats();
    char dir[] = "/tmp/sw-micro-XXXXXX", cmd[2048], names[512];
    assert_non_null(mkdtemp(dir));
    const char *verbs[] = {"PING", "INFO", "STATS"};
    const char *schemas[] = {"ping", "info", "stats"};
    for (int v = 0; v < 3; v++) {
        char subject[64];
        names[0] = '\0';
        snprintf(subject, sizeof(subject), "$SRV.%s", verbs[v]);
        int n = gather(nc, subject, dir, schemas[v], names, sizeof(names));
        assert_true(n >= 3);
        assert_non_null(strstr(names, "sw-auth,"));
        assert_non_null(strstr(names, "sw-tenancy,"));
        assert_non_null(strstr(names, "sw-notify,"));
        snprintf(cmd, sizeof(cmd),
                 "/usr/bin/python3 %s/tests/conformance/validate.py"
                 " %s/tests/conformance/nats-micro-v1/%s.json %s/%s-*.json",
                 it_source_dir(), it_source_dir(), schemas[v], dir, schemas[v]);
        assert_int_equal(system(cmd), 0);
    }
    /* Addressed by name: only that service answers. */
    names[0] = '\0';
    int n = gather(nc, "$SRV.INFO.sw-auth", dir, "named", names, sizeof(names));
    assert_true(n >= 1);
    assert_null(strstr(names, "sw-tenancy"));
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    natsConnection_Destroy(nc);
}

static void test_no_responders_and_timeout(void **state)
{
    assert_int_equal(it_ops("actor stop auth"), 0);

    it_resp *r = it_post_json("/api/auth/register/", json_pack("{s:s}", "email", "x@y.test"), NULL);
    assert_int_equal(r->status, 503);
    assert_api_headers(r);
    assert_non_null(json_object_get(r->body, "detail"));
    assert_non_null(it_header(r, "Retry-After"));
    assert_true(r->seconds < 5.0); /* answered at once, not after the bus timeout */
    it_resp_free(r);

    r = it_http("GET", "/health/ready/", NULL, NULL);
    assert_int_equal(r->status, 503);
    const char *actors =
        json_string_value(json_object_get(json_object_get(r->body, "checks"), "actors"));
    assert_non_null(actors);
    assert_non_null(strstr(actors, "sw-auth"));
    it_resp_free(r);

    /* A responder that never answers: the edge gives up with 504 instead of hanging. */
    natsConnection *nc = it_nats();
    natsSubscription *sub = NULL;
    assert_int_equal(
        natsConnection_QueueSubscribeSync(&sub, nc, "sw.v1.auth.register", "q"), NATS_OK);
    natsConnection_Flush(nc);
    r = it_post_json("/api/auth/register/", json_pack("{s:s}", "email", "x@y.test"), NULL);
    assert_int_equal(r->status, 504);
    assert_non_null(json_object_get(r->body, "detail"));
    it_resp_free(r);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);

    assert_int_equal(it_ops("actor start auth"), 0);
    assert_true(it_wait_ready(20000));
    r = it_post_json("/api/auth/register/", json_pack("{s:s}", "email", "x"), NULL);
    assert_int_equal(r->status, 400); /* served again */
    it_resp_free(r);
}

static void test_migrations_twice_and_failure(void **state)
{
    store_pool *pool = NULL;
    store_migrate_report rep;
    assert_int_equal(store_pool_new(&pool, getenv("DATABASE_URL"), 1), SW_OK);
    store_conn *c = store_acquire(pool);
    assert_non_null(c);
    /* Running again changes nothing. */
    assert_int_equal(store_migrate_all(c, store_public_migrations, store_public_migrations_len,
                                       store_tenant_migrations, store_tenant_migrations_len, &rep),
                     SW_OK);
    assert_int_equal(rep.applied, 0);
    assert_int_equal(store_migrations_pending(c), 0);

    /* A failing migration, in a database of its own: rolled back and named. */
    store_exec_script(c, "DROP DATABASE IF EXISTS sw_it_migrate");
    assert_int_equal(store_exec_script(c, "CREATE DATABASE sw_it_migrate"), SW_OK);
    store_release(pool, c);
    store_pool_free(pool);

    char url[1024];
    snprintf(url, sizeof(url), "%s", getenv("DATABASE_URL"));
    char *slash = strrchr(url, '/');
    snprintf(slash, sizeof(url) - (size_t)(slash - url), "/sw_it_migrate");
    assert_int_equal(store_pool_new(&pool, url, 1), SW_OK);
    c = store_acquire(pool);
    assert_non_null(c);
    const store_migration pub[] = {
        {"public/0001_ok.sql", "CREATE TABLE public.first (id int)"},
        {"public/0002_bad.sql", "CREATE TABLE public.second (id int); SELECT no_such_column"},
    };
    assert_int_not_equal(store_migrate_all(c, pub, 2, NULL, 0, &rep), SW_OK);
    assert_string_equal(rep.failed, "public/0002_bad.sql");
    assert_non_null(strstr(rep.error, "no_such_column"));
    json_t *rows = NULL;
    assert_int_equal(store_query(c, &rows, NULL,
                                 "SELECT name FROM public.schema_migrations ORDER BY name", 0,
                                 NULL),
                     SW_OK);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")),
                        "public/0001_ok.sql");
    json_decref(rows);
    assert_int_equal(store_query(c, &rows, NULL, "SELECT to_regclass('public.second') IS NULL AS gone",
                                 0, NULL),
                     SW_OK);
    assert_true(json_is_true(json_object_get(json_array_get(rows, 0), "gone")));
    json_decref(rows);
    store_release(pool, c);
    store_pool_free(pool);

    assert_int_equal(store_pool_new(&pool, getenv("DATABASE_URL"), 1), SW_OK);
    c = store_acquire(pool);
    store_exec_script(c, "DROP DATABASE IF EXISTS sw_it_migrate");
    store_release(pool, c);
    store_pool_free(pool);
}

/* The edge and sw-auth (which verify and issue tokens) refuse to start in production without a
 * strong SECRET_KEY; the other actors are not given the key at all (ops/sw), and refuse a weak
 * one if they are. */
static void test_production_refuses_weak_secret(void **state)
{
    const char *bins[] = {"sw-edge", "sw-auth", "sw-tenancy", "sw-notify"};
    const char *envs[] = {"SW_ENV=production SECRET_KEY=short",
                          "SW_ENV=production SECRET_KEY=changeme-changeme-changeme-changeme-1",
                          "SW_ENV=production SECRET_KEY="};
    for (size_t b = 0; b < 4; b++) {
        for (size_t e = 0; e < (b < 2 ? 3 : 2); e++) {
            char *err = NULL;
            int rc = it_run_bin(bins[b], envs[e], &err);
            if (rc != 2 || !strstr(err, "SECRET_KEY"))
                fail_msg("%s with %s: exit %d, stderr: %s", bins[b], envs[e], rc, err);
            free(err);
        }
    }
}

/* The named check of /health/ or /health/ready/ once it reports 503 (owned), or NULL. */
static char *wait_check_failing(const char *path, const char *check, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        it_resp *r = it_http("GET", path, NULL, NULL);
        const char *v =
            json_string_value(json_object_get(json_object_get(r->body, "checks"), check));
        char *out = (r->status == 503 && v && strcmp(v, "ok") != 0) ? strdup(v) : NULL;
        it_resp_free(r);
        if (out)
            return out;
        usleep(200 * 1000);
    }
    return NULL;
}

/* GET path must be answered within 2 s (the client gives up after that and the test fails):
 * 503, with the named check reporting something other than "ok". */
static void expect_prompt_503(const char *path, const char *check)
{
    it_http_timeout(2000);
    it_resp *r = it_http("GET", path, NULL, NULL);
    it_http_timeout(0);
    const char *v = json_string_value(json_object_get(json_object_get(r->body, "checks"), check));
    if (r->status != 503 || !v || strcmp(v, "ok") == 0)
        fail_msg("GET %s: %ld %s (wanted 503 naming %s)", path, r->status, r->raw, check);
    it_resp_free(r);
}

static void test_health_names_what_is_missing(void **state)
{
    /* A stream removed behind our back: ready names it; sw-migrate puts it back. */
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(js_DeleteStream(js, "SW_EVENTS", NULL, &jerr), NATS_OK);
    char *v = wait_check_failing("/health/ready/", "streams", 5000);
    assert_non_null(v);
    assert_non_null(strstr(v, "SW_EVENTS"));
    free(v);
    assert_int_equal(it_ops("migrate"), 0);
    assert_true(it_wait_ready(10000));
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);

    /* The actor that owns the database checks is gone: /health/ says database, promptly. */
    assert_int_equal(it_ops("actor stop tenancy"), 0);
    expect_prompt_503("/health/", "database");
    assert_int_equal(it_ops("actor start tenancy"), 0);
    assert_true(it_wait_ready(20000));

    /* PostgreSQL down: /health/ says database; back up, everything recovers by itself. */
    assert_int_equal(it_ops("actor stop postgres"), 0);
    v = wait_check_failing("/health/", "database", 5000);
    assert_non_null(v);
    free(v);
    /* Answered at once, not after a hang: the database check comes from sw-tenancy over the
     * bus, and the edge (which holds no database connection) bounds every wait. */
    expect_prompt_503("/health/", "database");
    expect_prompt_503("/health/ready/", "database");
    expect_prompt_503("/health/ready/", "migrations");
    it_resp *r = it_post_json("/api/auth/token/",
                              json_pack("{s:s,s:s}", "email", "nobody@example.test", "password",
                                        "Whatever-123-x"),
                              NULL);
    assert_int_equal(r->status, 503); /* a clean answer, not a hang */
    it_resp_free(r);
    assert_int_equal(it_ops("actor start postgres"), 0);
    assert_true(it_wait_ready(20000));

    /* nats-server restarted: the edge and every actor reconnect on their own. */
    assert_int_equal(it_ops("actor stop nats"), 0);
    v = wait_check_failing("/health/", "nats", 5000);
    assert_non_null(v);
    free(v);
    expect_prompt_503("/health/", "nats");
    expect_prompt_503("/health/ready/", "nats");
    expect_prompt_503("/health/ready/", "actors");
    assert_int_equal(it_ops("actor start nats"), 0);
    assert_true(it_wait_ready(30000));
    r = it_post_json("/api/auth/register/", json_object(), NULL);
    assert_int_equal(r->status, 400); /* served by sw-auth again */
    it_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_headers),
        cmocka_unit_test(test_request_ids_differ),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_static_and_spa),
        cmocka_unit_test(test_micro_protocol_conformance),
        cmocka_unit_test(test_no_responders_and_timeout),
        cmocka_unit_test(test_migrations_twice_and_failure),
        cmocka_unit_test(test_production_refuses_weak_secret),
        cmocka_unit_test(test_health_names_what_is_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
