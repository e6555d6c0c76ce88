/* Endpoints through the real edge: CRUD with defaults, field-level 400s, the unique URL,
 * pagination, isolation between two tenants, SQL-looking input, the Free plan limit (also
 * under 10 concurrent creates), the schedule row, the event on the bus and the first probe
 * job on SW_JOBS. Nothing is fetched: the URLs are public IP literals. */
#include "tests/support/it.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

typedef struct tenant {
    char email[160];
    char *id;
    char auth[1200]; /* "Authorization: Bearer …" */
} tenant;

static void tenant_new(tenant *t, const char *org)
{
    t->id = it_signup_verified(t->email, sizeof(t->email), org);
    it_resp *r = it_login(t->email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    snprintf(t->auth, sizeof(t->auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
}

static void tenant_set_plan(const tenant *t, const char *plan)
{
    it_set_plan(t->id, plan);
}

/* method path as tenant t; body: stolen, may be NULL. */
static it_resp *api(const tenant *t, const char *method, const char *path, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    it_resp *r = it_http(method, path, text, t->auth, "Content-Type: application/json", NULL);
    free(text);
    return r;
}

static it_resp *create(const tenant *t, json_t *body)
{
    return api(t, "POST", "/api/endpoints/", body);
}

static char *create_ok(const tenant *t, const char *url)
{
    it_resp *r = create(t, json_pack("{s:s}", "url", url));
    if (r->status != 201)
        fail_msg("create %s: %ld %s", url, r->status, r->raw);
    char *id = strdup(json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    return id;
}

static it_resp *on_id(const tenant *t, const char *method, const char *id, json_t *body)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    return api(t, method, path, body);
}

static long count_rows(const tenant *t)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\".endpoints", t->id);
    return it_sql_long(sql, 0, NULL);
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long num(const json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(o, k));
}

static const char *home_region(void)
{
    const char *r = getenv("SW_REGION");
    return r && *r ? r : "local";
}

static void test_crud_with_defaults(void **state)
{
    tenant t;
    tenant_new(&t, "Crud Co");
    it_resp *r = create(&t, json_pack("{s:s}", "url", "http://1.1.1.1/"));
    assert_int_equal(r->status, 201);
    json_t *e = r->body;
    char id[64];
    snprintf(id, sizeof(id), "%s", str(e, "id"));
    assert_int_equal(strlen(id), 36);
    assert_string_equal(str(e, "url"), "http://1.1.1.1/");
    assert_string_equal(str(e, "name"), "1.1.1.1");
    assert_int_equal(num(e, "interval_seconds"), 60);
    assert_int_equal(num(e, "timeout_seconds"), 10);
    assert_string_equal(str(e, "expected_status"), "2xx-3xx");
    assert_int_equal(json_array_size(json_object_get(e, "regions")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "regions"), 0)),
                        home_region());
    assert_int_equal(num(e, "failure_threshold"), 3);
    assert_int_equal(num(e, "recovery_threshold"), 2);
    assert_true(json_is_false(json_object_get(e, "paused")));
    assert_string_equal(str(e, "last_status"), "pending");
    assert_true(json_is_null(json_object_get(e, "last_checked_at")));
    assert_true(json_is_null(json_object_get(e, "last_latency_ms")));
    assert_true(json_is_null(json_object_get(e, "last_http_status")));
    assert_non_null(str(e, "created_at"));
    it_resp_free(r);

    /* The schedule row committed with it, due at its creation, for this tenant (or one
     * interval later: the scheduler claims a due-now row within its 200 ms tick). created_at
     * is the insert's clock time, a moment after the transaction's now(). */
    const char *p[] = {id, t.id};
    char sql[600];
    snprintf(
        sql, sizeof(sql),
        "SELECT count(*) FROM public.schedule s JOIN \"%s\".endpoints e ON e.id = s.endpoint_id"
        " WHERE s.endpoint_id = $1 AND s.tenant_id = $2 AND s.interval_seconds = 60"
        " AND (s.next_due_at BETWEEN e.created_at - interval '5 seconds' AND e.created_at"
        "  OR s.next_due_at BETWEEN e.created_at + interval '55 seconds'"
        "   AND e.created_at + interval '60 seconds')",
        t.id);
    assert_int_equal(it_sql_long(sql, 2, p), 1);

    r = on_id(&t, "GET", id, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "id"), id);
    it_resp_free(r);

    r = on_id(&t, "PATCH", id, json_pack("{s:s}", "name", "Cloudflare DNS"));
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "name"), "Cloudflare DNS");
    assert_string_equal(str(r->body, "url"), "http://1.1.1.1/");
    assert_int_equal(num(r->body, "interval_seconds"), 60);
    it_resp_free(r);

    /* PUT needs the URL. */
    r = on_id(&t, "PUT", id, json_pack("{s:s}", "name", "No URL"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "url"));
    it_resp_free(r);

    r = on_id(&t, "PUT", id,
              json_pack("{s:s,s:i,s:[i,i]}", "url", "http://8.8.8.8/path", "interval_seconds", 120,
                        "expected_status", 200, 204));
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "url"), "http://8.8.8.8/path");
    assert_int_equal(num(r->body, "interval_seconds"), 120);
    assert_int_equal(json_array_size(json_object_get(r->body, "expected_status")), 2);
    assert_string_equal(str(r->body, "name"), "Cloudflare DNS");
    it_resp_free(r);
    /* Update re-schedules with the new interval. */
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.schedule WHERE endpoint_id = $1"
                                 " AND tenant_id = $2 AND interval_seconds = 120",
                                 2, p),
                     1);

    /* Pausing takes it off the schedule; resuming puts it back. */
    r = on_id(&t, "PATCH", id, json_pack("{s:b}", "paused", 1));
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "last_status"), "paused");
    it_resp_free(r);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.schedule WHERE endpoint_id = $1", 1, p), 0);
    r = on_id(&t, "PATCH", id, json_pack("{s:b}", "paused", 0));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.schedule WHERE endpoint_id = $1", 1, p), 1);

    r = on_id(&t, "DELETE", id, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.schedule WHERE endpoint_id = $1", 1, p), 0);
    r = on_id(&t, "GET", id, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = on_id(&t, "DELETE", id, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    assert_int_equal(count_rows(&t), 0);
    free(t.id);
}

static void test_validation_per_field(void **state)
{
    static const struct {
        const char *body;
        const char *field;
    } cases[] = {
        {"{}", "url"},
        {"{\"url\": 5}", "url"},
        {"{\"url\": \"\"}", "url"},
        {"{\"url\": \"not a url\"}", "url"},
        {"{\"url\": \"ftp://1.1.1.1/\"}", "url"},
        {"{\"url\": \"http://user:pw@1.1.1.1/\"}", "url"},
        /* the test stack allows exactly 127.0.0.1/32 (probe targets); its neighbours stay
         * denied, in every spelling */
        {"{\"url\": \"http://127.0.0.2/\"}", "url"},
        {"{\"url\": \"http://169.254.169.254/latest/meta-data/\"}", "url"},
        {"{\"url\": \"http://2130706434/\"}", "url"},
        {"{\"url\": \"http://0177.0.0.2:8080/\"}", "url"},
        {"{\"url\": \"http://[::1]/\"}", "url"},
        {"{\"url\": \"http://1.1.1.1/\", \"name\": \"   \"}", "name"},
        {"{\"url\": \"http://1.1.1.1/\", \"name\": 7}", "name"},
        {"{\"url\": \"http://1.1.1.1/\", \"interval_seconds\": 29}", "interval_seconds"},
        {"{\"url\": \"http://1.1.1.1/\", \"interval_seconds\": 86401}", "interval_seconds"},
        {"{\"url\": \"http://1.1.1.1/\", \"interval_seconds\": \"often\"}", "interval_seconds"},
        {"{\"url\": \"http://1.1.1.1/\", \"timeout_seconds\": 0}", "timeout_seconds"},
        {"{\"url\": \"http://1.1.1.1/\", \"timeout_seconds\": 61}", "timeout_seconds"},
        {"{\"url\": \"http://1.1.1.1/\", \"interval_seconds\": 30, \"timeout_seconds\": 30}",
         "timeout_seconds"},
        {"{\"url\": \"http://1.1.1.1/\", \"expected_status\": \"6xx\"}", "expected_status"},
        {"{\"url\": \"http://1.1.1.1/\", \"expected_status\": \"3xx-2xx\"}", "expected_status"},
        {"{\"url\": \"http://1.1.1.1/\", \"expected_status\": [99]}", "expected_status"},
        {"{\"url\": \"http://1.1.1.1/\", \"expected_status\": []}", "expected_status"},
        {"{\"url\": \"http://1.1.1.1/\", \"regions\": []}", "regions"},
        {"{\"url\": \"http://1.1.1.1/\", \"regions\": [\"mars\"]}", "regions"},
        {"{\"url\": \"http://1.1.1.1/\", \"regions\": \"local\"}", "regions"},
        {"{\"url\": \"http://1.1.1.1/\", \"failure_threshold\": 0}", "failure_threshold"},
        {"{\"url\": \"http://1.1.1.1/\", \"failure_threshold\": 11}", "failure_threshold"},
        {"{\"url\": \"http://1.1.1.1/\", \"recovery_threshold\": 0}", "recovery_threshold"},
        {"{\"url\": \"http://1.1.1.1/\", \"recovery_threshold\": 11}", "recovery_threshold"},
        {"{\"url\": \"http://1.1.1.1/\", \"paused\": \"yes\"}", "paused"},
    };
    tenant t;
    tenant_new(&t, "Strict Co");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        it_resp *r = it_http("POST", "/api/endpoints/", cases[i].body, t.auth,
                             "Content-Type: application/json", NULL);
        if (r->status != 400 || !json_is_array(json_object_get(r->body, cases[i].field)))
            fail_msg("%s: expected 400 on %s, got %ld %s", cases[i].body, cases[i].field, r->status,
                     r->raw);
        it_resp_free(r);
    }
    /* A too-long name, and the URL policy's answer says why without internals. */
    char name[260];
    memset(name, 'n', 201);
    name[201] = '\0';
    it_resp *r = create(&t, json_pack("{s:s,s:s}", "url", "http://1.1.1.1/", "name", name));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "name"));
    it_resp_free(r);
    r = create(&t, json_pack("{s:s}", "url", "http://169.254.169.254/"));
    assert_int_equal(r->status, 400);
    const char *why = json_string_value(json_array_get(json_object_get(r->body, "url"), 0));
    assert_non_null(why);
    assert_null(strstr(r->raw, "169.254"));
    it_resp_free(r);
    assert_int_equal(count_rows(&t), 0);

    /* A PATCH with a bad field changes nothing. */
    char *id = create_ok(&t, "http://1.1.1.1/");
    r = on_id(&t, "PATCH", id, json_pack("{s:i}", "timeout_seconds", 60)); /* >= interval 60 */
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "timeout_seconds"));
    it_resp_free(r);
    r = on_id(&t, "PATCH", id, json_pack("{s:s}", "url", "http://10.0.0.1/"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "url"));
    it_resp_free(r);
    r = on_id(&t, "GET", id, NULL);
    assert_string_equal(str(r->body, "url"), "http://1.1.1.1/");
    assert_int_equal(num(r->body, "timeout_seconds"), 10);
    it_resp_free(r);
    free(id);
    free(t.id);
}

static void test_duplicate_url(void **state)
{
    tenant t;
    tenant_new(&t, "Twice Co");
    char *a = create_ok(&t, "http://1.1.1.1/");
    it_resp *r = create(&t, json_pack("{s:s}", "url", "http://1.1.1.1/"));
    assert_int_equal(r->status, 400);
    assert_true(json_is_array(json_object_get(r->body, "url")));
    it_resp_free(r);
    char *b = create_ok(&t, "http://8.8.8.8/path");
    r = on_id(&t, "PATCH", b, json_pack("{s:s}", "url", "http://1.1.1.1/"));
    assert_int_equal(r->status, 400);
    assert_true(json_is_array(json_object_get(r->body, "url")));
    it_resp_free(r);
    assert_int_equal(count_rows(&t), 2);

    /* Another tenant may watch the same URL. */
    tenant u;
    tenant_new(&u, "Other Co");
    free(create_ok(&u, "http://1.1.1.1/"));
    free(a);
    free(b);
    free(t.id);
    free(u.id);
}

/* DRF's absolute pagination links: scheme and host of the request (here the test edge). */
static const char *abs_link(const char *path)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "http://%s%s", getenv("SW_HTTP_LISTEN"), path);
    return buf;
}

static void test_pagination(void **state)
{
    tenant t;
    char sql[512], first[64];
    tenant_new(&t, "Many Co");
    tenant_set_plan(&t, "pro");
    char *id0 = create_ok(&t, "http://1.1.1.1/0");
    snprintf(first, sizeof(first), "%s", id0);
    free(id0);
    for (int i = 1; i < 25; i++) {
        char url[64];
        snprintf(url, sizeof(url), "http://1.1.1.1/%d", i);
        free(create_ok(&t, url));
    }
    it_resp *r = api(&t, "GET", "/api/endpoints/", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(num(r->body, "count"), 25);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 20);
    assert_string_equal(str(r->body, "next"), abs_link("/api/endpoints/?page=2"));
    assert_true(json_is_null(json_object_get(r->body, "previous")));
    /* Oldest first. */
    assert_string_equal(str(json_array_get(json_object_get(r->body, "results"), 0), "id"), first);
    assert_string_equal(str(json_array_get(json_object_get(r->body, "results"), 0), "last_status"),
                        "pending");
    it_resp_free(r);

    r = api(&t, "GET", "/api/endpoints/?page=2", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 5);
    assert_true(json_is_null(json_object_get(r->body, "next")));
    assert_string_equal(str(r->body, "previous"), abs_link("/api/endpoints/?page=1"));
    it_resp_free(r);

    r = api(&t, "GET", "/api/endpoints/?page=3", NULL);
    assert_int_equal(r->status, 404);
    assert_string_equal(str(r->body, "detail"), "Invalid page.");
    it_resp_free(r);
    r = api(&t, "GET", "/api/endpoints/?page=abc", NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);

    r = api(&t, "GET", "/api/endpoints/?page_size=7&page=2", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 7);
    assert_string_equal(str(r->body, "next"), abs_link("/api/endpoints/?page=3&page_size=7"));
    it_resp_free(r);

    /* "last" names the last page, whatever its number (DRF's last_page_strings). */
    r = api(&t, "GET", "/api/endpoints/?page=last", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(num(r->body, "count"), 25);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 5);
    assert_true(json_is_null(json_object_get(r->body, "next")));
    assert_string_equal(str(r->body, "previous"), abs_link("/api/endpoints/?page=1"));
    it_resp_free(r);
    r = api(&t, "GET", "/api/endpoints/?page_size=7&page=last", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 4);
    assert_string_equal(str(r->body, "previous"), abs_link("/api/endpoints/?page=3&page_size=7"));
    it_resp_free(r);

    /* page_size is capped at 100. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO \"%s\".endpoints (name, url, regions)"
             " SELECT 'bulk ' || g, 'http://8.8.8.8/' || g, ARRAY[$1]"
             " FROM generate_series(1, 100) g",
             t.id);
    const char *region[] = {home_region()};
    json_decref(it_sql(sql, 1, region));
    r = api(&t, "GET", "/api/endpoints/?page_size=1000", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(num(r->body, "count"), 125);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 100);
    assert_string_equal(str(r->body, "next"), abs_link("/api/endpoints/?page=2&page_size=100"));
    it_resp_free(r);

    /* The host the client named, and a trusted proxy's X-Forwarded-Proto/-Host (the test
     * edge trusts 127.0.0.1, where every request of this suite comes from). */
    r = it_http("GET", "/api/endpoints/?page_size=7", NULL, t.auth, "Host: status.example.test",
                NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "next"),
                        "http://status.example.test/api/endpoints/?page=2&page_size=7");
    it_resp_free(r);
    r = it_http("GET", "/api/endpoints/?page=2&page_size=7", NULL, t.auth,
                "X-Forwarded-Proto: https", "X-Forwarded-Host: public.example.test:8443", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "next"),
                        "https://public.example.test:8443/api/endpoints/?page=3&page_size=7");
    assert_string_equal(str(r->body, "previous"),
                        "https://public.example.test:8443/api/endpoints/?page=1&page_size=7");
    it_resp_free(r);
    free(t.id);
}

static void test_two_tenants_isolated(void **state)
{
    tenant a, b;
    tenant_new(&a, "Alpha Co");
    tenant_new(&b, "Beta Co");
    char *id = create_ok(&a, "http://1.1.1.1/");
    it_resp *before = on_id(&a, "GET", id, NULL);
    assert_int_equal(before->status, 200);

    it_resp *r = api(&b, "GET", "/api/endpoints/", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(num(r->body, "count"), 0);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 0);
    it_resp_free(r);

    struct {
        const char *method;
        json_t *body;
    } tries[] = {
        {"GET", NULL},
        {"PUT", json_pack("{s:s,s:s}", "url", "http://8.8.8.8/", "name", "owned")},
        {"PATCH", json_pack("{s:s}", "name", "owned")},
        {"DELETE", NULL},
    };
    for (size_t i = 0; i < 4; i++) {
        r = on_id(&b, tries[i].method, id, tries[i].body);
        assert_int_equal(r->status, 404);
        assert_string_equal(str(r->body, "detail"), "Not found.");
        it_resp_free(r);
    }
    /* Malformed ids are simply not found. */
    const char *bad[] = {"not-a-uuid", "1", "00000000-0000-0000-0000-000000000000"};
    for (size_t i = 0; i < 3; i++) {
        r = on_id(&a, "GET", bad[i], NULL);
        assert_int_equal(r->status, 404);
        it_resp_free(r);
    }
    /* Unauthenticated: nothing. */
    r = it_http("GET", "/api/endpoints/", NULL, NULL);
    assert_int_equal(r->status, 401);
    it_resp_free(r);

    /* A's endpoint is exactly as A left it. (The live fields, last_*, may have moved on: the
     * prober checks it meanwhile.) */
    it_resp *after = on_id(&a, "GET", id, NULL);
    assert_int_equal(after->status, 200);
    const char *live[] = {"last_status",      "last_checked_at", "last_latency_ms",
                          "last_http_status", "last_error",      "tls_expires_at",
                          "tls_issuer",       "tls_subject"};
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        json_object_del(after->body, live[i]);
        json_object_del(before->body, live[i]);
    }
    assert_true(json_equal(after->body, before->body));
    it_resp_free(after);
    it_resp_free(before);
    r = api(&a, "GET", "/api/endpoints/", NULL);
    assert_int_equal(num(r->body, "count"), 1);
    it_resp_free(r);
    free(id);
    free(a.id);
    free(b.id);
}

/* sw-endpoints answers reads from memory (actors/endpoints/cache.c), yet what it answers is what
 * is committed: a change made behind its back (SQL here, as an operator or another instance
 * would) shows on the very next read, the same tenant's other reads included, and another
 * tenant's change never shows in this one's. */
static void test_reads_follow_commits_made_elsewhere(void **state)
{
    tenant a, b;
    char sql[512];
    tenant_new(&a, "Fresh Co");
    tenant_new(&b, "Other Fresh Co");
    char *id = create_ok(&a, "http://1.0.0.1/");
    char *other = create_ok(&b, "http://1.0.0.2/");
    it_resp *r = api(&a, "GET", "/api/endpoints/", NULL); /* the tenant is in memory now */
    assert_int_equal(num(r->body, "count"), 1);
    it_resp_free(r);
    r = on_id(&a, "GET", id, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);

    snprintf(sql, sizeof(sql), "UPDATE \"%s\".endpoints SET name = 'renamed by SQL'", a.id);
    json_decref(it_sql(sql, 0, NULL));
    r = on_id(&a, "GET", id, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "name"), "renamed by SQL");
    it_resp_free(r);
    r = api(&a, "GET", "/api/endpoints/", NULL);
    assert_string_equal(str(json_array_get(json_object_get(r->body, "results"), 0), "name"),
                        "renamed by SQL");
    it_resp_free(r);

    /* B's rows change: A's answers stay A's. */
    snprintf(sql, sizeof(sql), "UPDATE \"%s\".endpoints SET name = 'B only'", b.id);
    json_decref(it_sql(sql, 0, NULL));
    r = api(&a, "GET", "/api/endpoints/", NULL);
    assert_int_equal(num(r->body, "count"), 1);
    assert_string_equal(str(json_array_get(json_object_get(r->body, "results"), 0), "id"), id);
    it_resp_free(r);
    r = on_id(&a, "GET", other, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);

    snprintf(sql, sizeof(sql), "DELETE FROM \"%s\".endpoints", a.id);
    json_decref(it_sql(sql, 0, NULL));
    r = on_id(&a, "GET", id, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/", id);
    r = api(&a, "GET", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = api(&a, "GET", "/api/endpoints/", NULL);
    assert_int_equal(num(r->body, "count"), 0);
    it_resp_free(r);
    r = api(&b, "GET", "/api/endpoints/", NULL);
    assert_int_equal(num(r->body, "count"), 1);
    assert_string_equal(str(json_array_get(json_object_get(r->body, "results"), 0), "name"),
                        "B only");
    it_resp_free(r);
    free(id);
    free(other);
    free(a.id);
    free(b.id);
}

static void test_sql_looking_input_is_text(void **state)
{
    tenant t;
    tenant_new(&t, "Bobby Tables");
    const char *evil = "x'); DROP TABLE endpoints; --\"; SELECT pg_sleep(5);";
    it_resp *r = create(&t, json_pack("{s:s,s:s}", "url", "http://1.1.1.1/?q=1';--", "name", evil));
    assert_int_equal(r->status, 201);
    assert_string_equal(str(r->body, "name"), evil);
    char id[64];
    snprintf(id, sizeof(id), "%s", str(r->body, "id"));
    it_resp_free(r);
    r = on_id(&t, "GET", id, NULL);
    assert_string_equal(str(r->body, "name"), evil);
    assert_string_equal(str(r->body, "url"), "http://1.1.1.1/?q=1';--");
    it_resp_free(r);
    r = api(&t, "GET", "/api/endpoints/?page=1;DROP%20TABLE%20endpoints", NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    assert_int_equal(count_rows(&t), 1);
    free(t.id);
}

static void test_free_plan_limit(void **state)
{
    tenant t;
    tenant_new(&t, "Thrifty Co");
    for (int i = 0; i < 3; i++) {
        char url[64];
        snprintf(url, sizeof(url), "http://1.1.1.1/%d", i);
        free(create_ok(&t, url));
    }
    it_resp *r = create(&t, json_pack("{s:s}", "url", "http://1.1.1.1/3"));
    assert_int_equal(r->status, 403);
    assert_string_equal(str(r->body, "code"), "plan_limit");
    assert_non_null(strstr(str(r->body, "detail"), "Upgrade to Pro"));
    it_resp_free(r);
    assert_int_equal(count_rows(&t), 3);

    tenant_set_plan(&t, "pro");
    free(create_ok(&t, "http://1.1.1.1/3"));
    assert_int_equal(count_rows(&t), 4);
    free(t.id);
}

typedef struct racer {
    const tenant *t;
    int n;
    long status;
} racer;

static void *race(void *arg)
{
    racer *rc = arg;
    char body[96];
    snprintf(body, sizeof(body), "{\"url\": \"http://8.8.8.8/race/%d\"}", rc->n);
    it_resp *r = it_http("POST", "/api/endpoints/", body, rc->t->auth,
                         "Content-Type: application/json", NULL);
    rc->status = r->status;
    it_resp_free(r);
    return NULL;
}

static void test_concurrent_creates_respect_limit(void **state)
{
    tenant t;
    pthread_t th[10];
    racer rc[10];
    int created = 0, refused = 0;
    tenant_new(&t, "Racy Co");
    free(create_ok(&t, "http://1.1.1.1/a"));
    free(create_ok(&t, "http://1.1.1.1/b"));
    for (int i = 0; i < 10; i++) {
        rc[i] = (racer){&t, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, race, &rc[i]), 0);
    }
    for (int i = 0; i < 10; i++) {
        pthread_join(th[i], NULL);
        created += rc[i].status == 201;
        refused += rc[i].status == 403;
    }
    assert_int_equal(created, 1);
    assert_int_equal(refused, 9);
    assert_int_equal(count_rows(&t), 3);
    free(t.id);
}

static void test_event_and_first_job(void **state)
{
    tenant t;
    char subject[160];
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    jsCtx *js = NULL;
    jsErrCode jerr = 0;
    tenant_new(&t, "Evented Co");
    natsConnection *nc = it_nats();
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.endpoint.>", t.id);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, subject), NATS_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);

    char *id = create_ok(&t, "http://8.8.8.8/path");

    assert_int_equal(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.endpoint.created", t.id);
    assert_string_equal(natsMsg_GetSubject(m), subject);
    json_t *evt = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    assert_non_null(evt);
    assert_string_equal(str(evt, "endpoint_id"), id);
    assert_string_equal(str(evt, "tenant_id"), t.id);
    assert_non_null(str(evt, "at"));
    assert_null(json_object_get(evt, "url")); /* ids only */
    json_decref(evt);
    natsMsg_Destroy(m);
    m = NULL;

    /* The first check went out at once for the home region, with its dedupe id: the prober
     * consumed it and its result is stored under that job id (the test sandbox never contacts
     * 8.8.8.8, so the check itself reports "blocked"). */
    /* Its due time is the create's (the endpoint's created_at, within a second); the schedule
     * row's next_due_at may have moved on already (the scheduler claims a row that is due now
     * within its 200 ms tick), so the job id is built from the stored result's own due time. */
    char sql[600];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM public.check_history r JOIN \"%s\".endpoints e"
             " ON e.id = r.endpoint_id WHERE r.endpoint_id = $1::uuid"
             " AND r.job_id = r.endpoint_id || ':' || floor(extract(epoch FROM r.due_at))::bigint"
             "   || ':' || $2"
             " AND r.due_at BETWEEN e.created_at - interval '5 seconds' AND e.created_at",
             t.id);
    const char *pj[] = {id, home_region()};
    assert_true(it_wait_count(sql, 2, pj, 1, 15000) >= 1);
    (void)js;
    (void)m;
    (void)jerr;

    /* Updates and deletes are announced too. */
    it_resp *r = on_id(&t, "PATCH", id, json_pack("{s:s}", "name", "renamed"));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    assert_int_equal(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
    assert_non_null(strstr(natsMsg_GetSubject(m), ".endpoint.updated"));
    natsMsg_Destroy(m);
    r = on_id(&t, "DELETE", id, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    assert_int_equal(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
    assert_non_null(strstr(natsMsg_GetSubject(m), ".endpoint.deleted"));
    natsMsg_Destroy(m);

    jsCtx_Destroy(js);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    free(id);
    free(t.id);
}

/* ---------------------------------------------------------------- a name server that never
 * answers: it reads every query and says nothing. */
typedef struct blackhole {
    int fd;
    int port;
    int queries; /* read with __atomic */
    pthread_t thread;
} blackhole;

static void *blackhole_main(void *arg)
{
    blackhole *b = arg;
    char buf[1500];
    while (recv(b->fd, buf, sizeof(buf), 0) > 0)
        __atomic_add_fetch(&b->queries, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void blackhole_start(blackhole *b)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    b->queries = 0;
    b->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(b->fd >= 0);
    assert_int_equal(bind(b->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(b->fd, (struct sockaddr *)&a, &len), 0);
    b->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&b->thread, NULL, blackhole_main, b), 0);
}

static void blackhole_stop(blackhole *b)
{
    shutdown(b->fd, SHUT_RDWR);
    close(b->fd);
    pthread_join(b->thread, NULL);
}

typedef struct hang_call {
    const tenant *t;
    char url[128];
    it_resp *r;
    int *done; /* counts finished calls, __atomic */
} hang_call;

static void *hang_main(void *arg)
{
    hang_call *c = arg;
    c->r = create(c->t, json_pack("{s:s}", "url", c->url));
    __atomic_add_fetch(c->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void restart_endpoints(void)
{
    assert_int_equal(it_ops("actor restart endpoints"), 0);
    assert_true(it_wait_ready(20000));
}

/* Hosts whose name server never answers get a field error (well within the edge's 5 s: a 400,
 * not a 504), and while their lookups hang, another tenant's creates are answered. */
static void test_unanswered_dns_is_bounded(void **state)
{
    enum { NHANG = 6 }; /* more than the actor's delivery threads per route (SW_CONCURRENCY 4) */
    blackhole b;
    tenant a1, a2, other;
    hang_call calls[NHANG];
    pthread_t th[NHANG];
    int done = 0;
    char servers[64];

    tenant_new(&a1, "Hang One");
    tenant_new(&a2, "Hang Two");
    tenant_new(&other, "Bystander");
    tenant_set_plan(&a1, "pro");
    tenant_set_plan(&a2, "pro");
    blackhole_start(&b);
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", b.port);
    setenv("SW_DNS_SERVERS", servers, 1);
    restart_endpoints();

    for (int i = 0; i < NHANG; i++) {
        calls[i].t = i % 2 ? &a2 : &a1;
        snprintf(calls[i].url, sizeof(calls[i].url), "http://h%d-%u.never-answers.test/", i,
                 (unsigned)randombytes_random());
        calls[i].done = &done;
        calls[i].r = NULL;
        assert_int_equal(pthread_create(&th[i], NULL, hang_main, &calls[i]), 0);
    }
    /* Every hanging create has asked the name server (A and AAAA each) before we go on. */
    for (int i = 0; i < 200 && __atomic_load_n(&b.queries, __ATOMIC_RELAXED) < 2 * NHANG; i++)
        usleep(20 * 1000);
    assert_true(__atomic_load_n(&b.queries, __ATOMIC_RELAXED) >= 2 * NHANG);

    /* Meanwhile the bystander's creates (IP literals: no lookup) are all answered, before any
     * of the hanging ones has its answer. */
    char *ids[3];
    ids[0] = create_ok(&other, "http://1.1.1.1/dns-bystander-1");
    ids[1] = create_ok(&other, "http://1.1.1.1/dns-bystander-2");
    ids[2] = create_ok(&other, "http://8.8.8.8/dns-bystander-3");
    assert_int_equal(__atomic_load_n(&done, __ATOMIC_ACQUIRE), 0);

    for (int i = 0; i < NHANG; i++) {
        pthread_join(th[i], NULL);
        it_resp *r = calls[i].r;
        if (r->status != 400)
            fail_msg("%s: %ld %s", calls[i].url, r->status, r->raw);
        const char *msg = json_string_value(json_array_get(json_object_get(r->body, "url"), 0));
        assert_non_null(msg);
        assert_non_null(strstr(msg, "name server did not answer"));
        it_resp_free(r);
    }
    /* Nothing was stored for them. */
    assert_int_equal(count_rows(&a1), 0);
    assert_int_equal(count_rows(&a2), 0);

    /* One tenant holds at most SW_DNS_TENANT_LOOKUPS (4) lookups at once: a fifth create while
     * four hang is answered at once with a field error of its own. */
    enum { NCAP = 5 };
    hang_call capped[NCAP];
    pthread_t tc[NCAP];
    int cap_done = 0, busy = 0, timed_out = 0;
    for (int i = 0; i < NCAP; i++) {
        capped[i].t = &a1;
        snprintf(capped[i].url, sizeof(capped[i].url), "http://c%d-%u.never-answers.test/", i,
                 (unsigned)randombytes_random());
        capped[i].done = &cap_done;
        capped[i].r = NULL;
        assert_int_equal(pthread_create(&tc[i], NULL, hang_main, &capped[i]), 0);
    }
    for (int i = 0; i < NCAP; i++) {
        pthread_join(tc[i], NULL);
        it_resp *r = capped[i].r;
        assert_int_equal(r->status, 400);
        const char *msg = json_string_value(json_array_get(json_object_get(r->body, "url"), 0));
        assert_non_null(msg);
        busy += strstr(msg, "being looked up") != NULL;
        timed_out += strstr(msg, "name server did not answer") != NULL;
        it_resp_free(r);
    }
    assert_true(busy >= 1);
    assert_int_equal(busy + timed_out, NCAP);

    blackhole_stop(&b);
    unsetenv("SW_DNS_SERVERS");
    restart_endpoints();
    for (int i = 0; i < 3; i++)
        free(ids[i]);
    free(a1.id);
    free(a2.id);
    free(other.id);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crud_with_defaults),
        cmocka_unit_test(test_validation_per_field),
        cmocka_unit_test(test_duplicate_url),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_two_tenants_isolated),
        cmocka_unit_test(test_reads_follow_commits_made_elsewhere),
        cmocka_unit_test(test_sql_looking_input_is_text),
        cmocka_unit_test(test_free_plan_limit),
        cmocka_unit_test(test_concurrent_creates_respect_limit),
        cmocka_unit_test(test_event_and_first_job),
        cmocka_unit_test(test_unanswered_dns_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
