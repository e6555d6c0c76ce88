/* GET /metrics and the actors' $SRV.STATS counters, against the test stack: the bearer token,
 * the exposition format (every line parsed, every family typed, histograms cumulative), request
 * counts labelled by route pattern, bus errors while an actor is stopped, checks counted by the
 * prober, and JetStream, tenant and endpoint gauges. */
#include "tests/support/it.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/metrics.h"

static int http_port, https_port, targets_pid;

static int setup(void **state)
{
    targets_pid = it_targets_start(&http_port, &https_port);
    return 0;
}

static int teardown(void **state)
{
    it_targets_stop(targets_pid);
    return 0;
}

static it_resp *scrape(void)
{
    char authz[160];
    const char *token = getenv("SW_METRICS_TOKEN");
    if (!token || !*token)
        fail_msg("the test instance sets SW_METRICS_TOKEN (ops/sw settings)");
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", token);
    it_resp *r = it_http("GET", "/metrics", NULL, authz, NULL);
    if (r->status != 200)
        fail_msg("GET /metrics: %ld %s", r->status, r->raw);
    return r;
}

/* The value of the sample whose name and labels are exactly series, or NAN when absent. */
static double value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NAN;
}

static bool name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

/* Checks the text exposition format 0.0.4 line by line: HELP/TYPE comments, sample names,
 * label syntax and escapes, numeric values, one TYPE per family before its samples, and for
 * histograms cumulative buckets ending in +Inf equal to _count. Fails naming the line. */
static void check_format(const char *text)
{
    char typed[4096] = ",", family[128], prev_series[512] = "";
    double prev_bucket = -1;
    int lineno = 0;
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        char line[2048];
        size_t len = (size_t)(end - p);
        lineno++;
        if (len >= sizeof(line))
            fail_msg("line %d too long", lineno);
        memcpy(line, p, len);
        line[len] = '\0';
        p = end + 1;
        if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
            const char *name = line + 7;
            size_t nl = 0;
            while (name_char(name[nl], nl == 0))
                nl++;
            if (nl == 0 || name[nl] != ' ')
                fail_msg("line %d: bad metric name: %s", lineno, line);
            if (line[2] == 'T') {
                const char *type = name + nl + 1;
                if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram") &&
                    strcmp(type, "summary") && strcmp(type, "untyped"))
                    fail_msg("line %d: bad type: %s", lineno, line);
                snprintf(family, sizeof(family), ",%.*s=%c,", (int)nl, name, type[0]);
                if (strstr(typed, family))
                    fail_msg("line %d: second TYPE for a family: %s", lineno, line);
                assert_true(strlen(typed) + strlen(family) < sizeof(typed));
                strcat(typed, family + 1);
            }
            continue;
        }
        if (line[0] == '#')
            fail_msg("line %d: unexpected comment: %s", lineno, line);
        /* name{labels} value */
        size_t nl = 0;
        while (name_char(line[nl], nl == 0))
            nl++;
        if (nl == 0)
            fail_msg("line %d: no metric name: %s", lineno, line);
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)nl, line);
        const char *q = line + nl;
        char le[32] = "";
        if (*q == '{') {
            q++;
            while (*q != '}') {
                size_t ln = 0;
                while (name_char(q[ln], ln == 0))
                    ln++;
                if (ln == 0 || q[ln] != '=' || q[ln + 1] != '"')
                    fail_msg("line %d: bad label: %s", lineno, line);
                bool is_le = ln == 2 && strncmp(q, "le", 2) == 0;
                q += ln + 2;
                size_t vl = 0;
                while (q[0] && q[0] != '"') {
                    if (q[0] == '\\') {
                        if (q[1] != '\\' && q[1] != '"' && q[1] != 'n')
                            fail_msg("line %d: bad escape: %s", lineno, line);
                        q++;
                    }
                    if (is_le && vl + 1 < sizeof(le))
                        le[vl++] = q[0];
                    q++;
                }
                if (is_le)
                    le[vl] = '\0';
                if (*q != '"')
                    fail_msg("line %d: unterminated label value: %s", lineno, line);
                q++;
                if (*q == ',')
                    q++;
                else if (*q != '}')
                    fail_msg("line %d: expected , or }: %s", lineno, line);
            }
            q++;
        }
        if (*q != ' ')
            fail_msg("line %d: expected a space before the value: %s", lineno, line);
        char *vend = NULL;
        double v = strtod(q + 1, &vend);
        if (vend == q + 1 || (*vend != '\0' && *vend != ' '))
            fail_msg("line %d: bad value: %s", lineno, line);
        /* The family: the name itself, or for a histogram the name without its suffix. */
        char base[128];
        snprintf(base, sizeof(base), "%s", name);
        char needle[160];
        snprintf(needle, sizeof(needle), ",%s=", base);
        if (!strstr(typed, needle)) {
            const char *suffixes[] = {"_bucket", "_sum", "_count"};
            for (int i = 0; i < 3; i++) {
                size_t bl = strlen(name), sl = strlen(suffixes[i]);
                if (bl > sl && strcmp(name + bl - sl, suffixes[i]) == 0) {
                    snprintf(base, sizeof(base), "%.*s", (int)(bl - sl), name);
                    snprintf(needle, sizeof(needle), ",%s=h,", base);
                    if (strstr(typed, needle))
                        break;
                }
                base[0] = '\0';
            }
            if (!base[0])
                fail_msg("line %d: sample of a family without TYPE: %s", lineno, line);
        }
        /* Histogram buckets: cumulative within one series, +Inf last, equal to _count. */
        if (strstr(name, "_bucket")) {
            char series[512];
            snprintf(series, sizeof(series), "%.*s", (int)(strstr(line, "le=") - line), line);
            if (strcmp(series, prev_series) != 0)
                prev_bucket = -1;
            if (v < prev_bucket)
                fail_msg("line %d: buckets not cumulative: %s", lineno, line);
            prev_bucket = v;
            snprintf(prev_series, sizeof(prev_series), "%s", series);
            if (strcmp(le, "+Inf") == 0) {
                char count[600];
                const char *labels = strchr(line, '{');
                size_t ll = (size_t)(strstr(line, "le=") - labels);
                /* name_count{<labels before le>} with the trailing comma dropped */
                snprintf(count, sizeof(count), "%s_count%.*s}", base, (int)ll - 1, labels);
                if (ll == 1)
                    snprintf(count, sizeof(count), "%s_count", base);
                double c = value(text, count);
                if (isnan(c) || c != v)
                    fail_msg("line %d: +Inf bucket %g but %s is %g", lineno, v, count, c);
            }
        }
    }
}

static void test_token_required(void **state)
{
    it_resp *r = it_http("GET", "/metrics", NULL, NULL);
    assert_int_equal(r->status, 401);
    assert_non_null(it_header(r, "WWW-Authenticate"));
    assert_null(strstr(r->raw, "sw_http_requests_total"));
    it_resp_free(r);

    r = it_http("GET", "/metrics", NULL, "Authorization: Bearer not-the-token", NULL);
    assert_int_equal(r->status, 401);
    it_resp_free(r);

    r = scrape();
    assert_string_equal(it_header(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(it_header(r, "X-Request-Id"));
    it_resp_free(r);
}

/* The access rule itself (the test instance always has a token): development without a token is
 * open, production without one is refused, and a token is compared exactly. */
static void test_authorize_rule(void **state)
{
    assert_int_equal(edge_metrics_authorize(NULL, false, NULL), 0);
    assert_int_equal(edge_metrics_authorize("", false, "Bearer x"), 0);
    assert_int_equal(edge_metrics_authorize(NULL, true, NULL), 403);
    assert_int_equal(edge_metrics_authorize("", true, "Bearer anything"), 403);
    assert_int_equal(edge_metrics_authorize("s3cret-token", true, NULL), 401);
    assert_int_equal(edge_metrics_authorize("s3cret-token", true, "Bearer s3cret-token"), 0);
    assert_int_equal(edge_metrics_authorize("s3cret-token", false, "bearer s3cret-token"), 0);
    assert_int_equal(edge_metrics_authorize("s3cret-token", true, "Bearer s3cret-token2"), 401);
    assert_int_equal(edge_metrics_authorize("s3cret-token", true, "Bearer s3cret-toke"), 401);
    assert_int_equal(edge_metrics_authorize("s3cret-token", true, "Basic s3cret-token"), 401);

    char out[64];
    edge_metrics_escape(out, sizeof(out), "a\"b\\c\nd");
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
}

static void test_format_and_families(void **state)
{
    /* Some traffic of every kind first, so every family has samples. */
    it_resp_free(it_http("GET", "/health/", NULL, NULL));
    it_resp_free(it_http("GET", "/api/auth/me/", NULL, NULL));
    it_resp *r = scrape();
    check_format(r->raw);
    const char *families[] = {
        "# TYPE sw_http_requests_total counter",
        "# TYPE sw_http_request_duration_seconds histogram",
        "# TYPE sw_bus_request_errors_total counter",
        "# TYPE sw_checks_total counter",
        "# TYPE sw_check_duration_seconds histogram",
        "# TYPE sw_scheduler_lag_seconds gauge",
        "# TYPE sw_jetstream_consumer_pending gauge",
        "# TYPE sw_jetstream_consumer_ack_pending gauge",
        "# TYPE sw_jetstream_consumer_redelivered gauge",
        "# TYPE sw_dlq_messages gauge",
        "# TYPE sw_tenants gauge",
        "# TYPE sw_endpoints gauge",
    };
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (!strstr(r->raw, families[i]))
            fail_msg("missing: %s", families[i]);
    assert_false(isnan(value(r->raw, "sw_scheduler_lag_seconds")));
    assert_false(isnan(value(r->raw, "sw_dlq_messages")));
    const char *consumers[] = {"SW_JOBS\",consumer=\"mailer", "SW_JOBS\",consumer=\"probers-local",
                               "SW_JOBS\",consumer=\"probers-eu-west",
                               "SW_RESULTS\",consumer=\"recorder",
                               "SW_ADVISORIES\",consumer=\"deadletter",
                               /* every durable is reported (sw-deadletter lists them) */
                               "SW_EVENTS\",consumer=\"auth-alerts"};
    for (size_t i = 0; i < sizeof(consumers) / sizeof(consumers[0]); i++) {
        char s[160];
        snprintf(s, sizeof(s), "sw_jetstream_consumer_pending{stream=\"%s\"}", consumers[i]);
        if (isnan(value(r->raw, s)))
            fail_msg("missing %s", s);
        snprintf(s, sizeof(s), "sw_jetstream_consumer_ack_pending{stream=\"%s\"}", consumers[i]);
        if (isnan(value(r->raw, s)))
            fail_msg("missing %s", s);
    }
    it_resp_free(r);
}

static double scrape_value(const char *series)
{
    it_resp *r = scrape();
    double v = value(r->raw, series);
    it_resp_free(r);
    return isnan(v) ? 0 : v;
}

/* Requests are labelled by the route pattern, never by the raw path (ids would make a series
 * per endpoint), and static files share one label. */
static void test_requests_by_route(void **state)
{
    const char *me = "sw_http_requests_total{route=\"/api/auth/me/\",method=\"GET\",status=\"401\"}";
    const char *ep =
        "sw_http_requests_total{route=\"/api/endpoints/{id}/\",method=\"GET\",status=\"401\"}";
    const char *st = "sw_http_requests_total{route=\"static\",method=\"GET\",status=\"200\"}";
    const char *ms = "sw_http_request_duration_seconds_count{route=\"/api/auth/me/\"}";
    double me0 = scrape_value(me), ep0 = scrape_value(ep), st0 = scrape_value(st),
           ms0 = scrape_value(ms);
    for (int i = 0; i < 3; i++)
        it_resp_free(it_http("GET", "/api/auth/me/", NULL, NULL));
    it_resp_free(it_http("GET", "/api/endpoints/0c1d2e3f-aaaa/", NULL, NULL));
    it_resp_free(it_http("GET", "/api/endpoints/another-id/", NULL, NULL));
    it_resp_free(it_http("GET", "/dashboard/settings", NULL, NULL));
    it_resp *r = scrape();
    assert_true(value(r->raw, me) == me0 + 3);
    assert_true(value(r->raw, ep) == ep0 + 2);
    assert_true(value(r->raw, st) == st0 + 1);
    assert_true(value(r->raw, ms) >= ms0 + 3);
    assert_null(strstr(r->raw, "0c1d2e3f-aaaa"));
    assert_null(strstr(r->raw, "/dashboard/settings"));
    it_resp_free(r);
}

static void test_bus_errors(void **state)
{
    const char *nr = "sw_bus_request_errors_total{kind=\"no_responders\"}";
    double before = scrape_value(nr);
    assert_int_equal(it_ops("actor stop auth"), 0);
    it_resp *r = it_post_json("/api/auth/token/",
                              json_pack("{s:s,s:s}", "email", "x@example.test", "password", "x"),
                              NULL);
    assert_int_equal(r->status, 503);
    it_resp_free(r);
    double after = scrape_value(nr);
    assert_int_equal(it_ops("actor start auth"), 0);
    assert_true(it_wait_ready(20000));
    assert_true(after == before + 1);
    assert_false(isnan(scrape_value("sw_bus_request_errors_total{kind=\"timeout\"}")));
}

/* A check of a new endpoint shows up in the prober's counters (through /metrics and in its own
 * $SRV.STATS), and tenants and endpoints are counted by plan. */
static void test_checks_and_gauges(void **state)
{
    char email[160], url[128], sql[256];
    const char *ok = "sw_checks_total{region=\"local\",result=\"ok\"}";
    const char *count = "sw_check_duration_seconds_count{region=\"local\"}";
    double ok0 = scrape_value(ok), count0 = scrape_value(count);
    double tenants0 = scrape_value("sw_tenants{plan=\"free\"}");
    double endpoints0 = scrape_value("sw_endpoints{plan=\"free\"}");

    char *tenant = it_signup_verified(email, sizeof(email), "Metrics Co");
    it_resp *r = it_login(email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    char access[1024];
    snprintf(access, sizeof(access), "%s", json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", http_port);
    r = it_auth("POST", "/api/endpoints/", access,
                json_pack("{s:s,s:i}", "url", url, "interval_seconds", 60));
    if (r->status != 201)
        fail_msg("create: %ld %s", r->status, r->raw);
    char id[64];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM public.check_history WHERE endpoint_id = $1::uuid AND "
             "region = 'local'");
    const char *p[] = {id};
    assert_true(it_wait_count(sql, 1, p, 1, 20000) >= 1);

    r = scrape();
    check_format(r->raw);
    assert_true(value(r->raw, ok) >= ok0 + 1);
    assert_true(value(r->raw, count) >= count0 + 1);
    assert_true(value(r->raw, "sw_tenants{plan=\"free\"}") >= tenants0 + 1);
    assert_true(value(r->raw, "sw_endpoints{plan=\"free\"}") >= endpoints0 + 1);
    assert_false(isnan(value(r->raw, "sw_checks_total{region=\"local\",result=\"blocked\"}")));
    it_resp_free(r);
    free(tenant);
}

/* $SRV.STATS of the workers carries their counters in a "worker" pseudo-endpoint's data, and
 * the replies stay valid micro v1 stats documents. */
static void test_stats_counters(void **state)
{
    natsConnection *nc = it_nats();
    char dir[] = "/tmp/sw-stats-XXXXXX", path[256], cmd[1024];
    assert_non_null(mkdtemp(dir));
    struct {
        const char *name, *counter;
    } want[] = {{"sw-prober", "checks_ok"},
                {"sw-recorder", "results_written"},
                {"sw-scheduler", "jobs_published"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char subject[64];
        natsMsg *m = NULL;
        snprintf(subject, sizeof(subject), "$SRV.STATS.%s", want[i].name);
        assert_int_equal(natsConnection_RequestString(&m, nc, subject, "", 2000), NATS_OK);
        snprintf(path, sizeof(path), "%s/stats-%zu.json", dir, i);
        FILE *f = fopen(path, "w");
        fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), f);
        fclose(f);
        json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
        json_t *eps = json_object_get(o, "endpoints"), *ep, *data = NULL;
        size_t k;
        json_array_foreach(eps, k, ep)
        {
            if (strcmp(json_string_value(json_object_get(ep, "name")), "worker") == 0)
                data = json_object_get(ep, "data");
        }
        if (!json_is_object(data))
            fail_msg("%s: no worker counters in %s", want[i].name, natsMsg_GetData(m));
        if (json_integer_value(json_object_get(data, want[i].counter)) < 1)
            fail_msg("%s: %s < 1 in %s", want[i].name, want[i].counter, natsMsg_GetData(m));
        json_decref(o);
        natsMsg_Destroy(m);
    }
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 %s/tests/conformance/validate.py"
             " %s/tests/conformance/nats-micro-v1/stats.json %s/stats-*.json && rm -rf %s",
             it_source_dir(), it_source_dir(), dir, dir);
    assert_int_equal(system(cmd), 0);
    natsConnection_Destroy(nc);
}

/* A scrape never hangs on a part that is down: with PostgreSQL stopped and with nats-server
 * stopped, GET /metrics is answered within 2 s (the client gives up after that), with the
 * edge's own counters; the gauges of the database actors are left without samples. */
static void scrape_promptly(void)
{
    char authz[160];
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", getenv("SW_METRICS_TOKEN"));
    it_http_timeout(2000);
    it_resp *r = it_http("GET", "/metrics", NULL, authz, NULL);
    it_http_timeout(0);
    if (r->status != 200)
        fail_msg("GET /metrics: %ld %s", r->status, r->raw);
    check_format(r->raw);
    assert_non_null(strstr(r->raw, "# TYPE sw_http_requests_total counter"));
    assert_non_null(strstr(r->raw, "# TYPE sw_tenants gauge"));
    it_resp_free(r);
}

static void test_scrape_while_down(void **state)
{
    assert_int_equal(it_ops("actor stop postgres"), 0);
    scrape_promptly();
    assert_int_equal(it_ops("actor start postgres"), 0);
    assert_true(it_wait_ready(20000));

    assert_int_equal(it_ops("actor stop nats"), 0);
    scrape_promptly();
    assert_int_equal(it_ops("actor start nats"), 0);
    assert_true(it_wait_ready(30000));
    /* Back to normal: the database gauges come back from the actors' $SRV.STATS. */
    it_resp *r = scrape();
    assert_false(isnan(value(r->raw, "sw_tenants{plan=\"free\"}")));
    assert_false(isnan(value(r->raw, "sw_scheduler_lag_seconds")));
    it_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_required),
        cmocka_unit_test(test_authorize_rule),
        cmocka_unit_test(test_format_and_families),
        cmocka_unit_test(test_requests_by_route),
        cmocka_unit_test(test_bus_errors),
        cmocka_unit_test(test_checks_and_gauges),
        cmocka_unit_test(test_stats_counters),
        cmocka_unit_test(test_scrape_while_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
