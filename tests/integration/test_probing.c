/* The probing pipeline end to end, against real HTTP(S) servers on loopback: the first check
 * right after create, rescheduling on the interval, failure and recovery thresholds with one
 * email per outage, retries then the dead-letter queue, the SSRF re-check on redirects, slow /
 * hanging / resetting / self-signed targets, quorum across regions, idempotent recording, and
 * a prober killed with SIGKILL mid-batch losing nothing. */
#include "tests/support/it.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "actors/recorder/recorder.h"
#include "actors/scheduler/scheduler.h"
#include "store/store.h"

static int http_port, https_port, targets_pid;
static char owner_email[160], access_tok[1024], tenant[64];

static int setup(void **state)
{
    targets_pid = it_targets_start(&http_port, &https_port);
    char *tid = it_signup_verified(owner_email, sizeof(owner_email), "Probe Co");
    snprintf(tenant, sizeof(tenant), "%s", tid);
    free(tid);
    /* Pro: more than 3 endpoints in this suite. */
    it_set_plan(tenant, "pro");
    it_resp *r = it_login(owner_email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    snprintf(access_tok, sizeof(access_tok), "%s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    return 0;
}

static int teardown(void **state)
{
    it_targets_stop(targets_pid);
    return 0;
}

/* Creates an endpoint on a target path; returns its id (static buffer). */
static const char *create(const char *path, int fail_t, int rec_t, bool tls)
{
    static char id[64];
    char url[256];
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", tls ? "https" : "http",
             tls ? https_port : http_port, path);
    it_resp *r = it_auth("POST", "/api/endpoints/", access_tok,
                         json_pack("{s:s,s:i,s:i,s:i,s:i}", "url", url, "failure_threshold", fail_t,
                                   "recovery_threshold", rec_t, "timeout_seconds", 3,
                                   "interval_seconds", 60));
    if (r->status != 201)
        fail_msg("create %s: %ld %s", url, r->status, r->raw);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    return id;
}

static long wait_results(const char *id, const char *extra, long want, int ms)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM public.check_history WHERE endpoint_id = "
             "$1::uuid %s",
             extra ? extra : "");
    const char *p[] = {id};
    return it_wait_count(sql, 1, p, want, ms);
}

static char *state_of(const char *id)
{
    const char *p[] = {id};
    json_t *rows =
        it_sql("SELECT status FROM public.endpoint_state WHERE endpoint_id = $1::uuid", 1, p);
    const char *s = json_string_value(json_object_get(json_array_get(rows, 0), "status"));
    char *out = strdup(s ? s : "none");
    json_decref(rows);
    return out;
}

static bool wait_state(const char *id, const char *want, int ms)
{
    for (int w = 0; w <= ms; w += 200) {
        char *s = state_of(id);
        bool ok = strcmp(s, want) == 0;
        free(s);
        if (ok)
            return true;
        usleep(200 * 1000);
    }
    return false;
}

/* Makes the endpoint due now. A job is named by its due second, so first let a second pass:
 * a due time in the same second as the previous job would be the same job (and JetStream
 * would rightly drop it as a duplicate). */
static void make_due(const char *id)
{
    const char *p[] = {id};
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now()"
                       " WHERE endpoint_id = $1::uuid",
                       1, p));
}

static void set_switch(const char *name, int code)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null http://127.0.0.1:%d/set/%s/%d", http_port,
             name, code);
    assert_int_equal(system(cmd), 0);
}

static int count_mail(const char *subject_part)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "grep -l 'To: <%s>' %s/*.eml 2>/dev/null | xargs -r grep -l '%s' | wc -l", owner_email,
             getenv("SW_MAIL_DIR"), subject_part);
    FILE *f = popen(cmd, "r");
    int n = 0;
    if (f && fscanf(f, "%d", &n) != 1)
        n = 0;
    if (f)
        pclose(f);
    return n;
}

static void test_first_check_and_reschedule(void **state)
{
    char id[64];
    snprintf(id, sizeof(id), "%s", create("/ok", 3, 2, false));
    /* Checked right away, not a minute later. */
    assert_true(wait_results(id, "AND ok", 1, 10000) >= 1);
    assert_true(wait_state(id, "up", 5000));
    const char *p[] = {id};
    /* The scheduler claims the due row (its job is the one already sent: same id) and sets
     * the next check one interval later. */
    long secs = 0;
    for (int i = 0; i < 25 && secs <= 0; i++, usleep(200 * 1000))
        secs = it_sql_long("SELECT extract(epoch FROM next_due_at - now())::int FROM "
                           "public.schedule WHERE endpoint_id = $1::uuid",
                           1, p);
    assert_true(secs >= 50 && secs <= 61);
    /* The list and the detail show the live state. */
    char path[128];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->body, "last_status")), "up");
    assert_int_equal(json_integer_value(json_object_get(r->body, "last_http_status")), 200);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/", id);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    json_t *results = json_object_get(r->body, "results");
    assert_true(json_array_size(results) >= 1);
    assert_true(json_is_true(json_object_get(json_array_get(results, 0), "ok")));
    it_resp_free(r);
    /* Due again: a second job, a second row. */
    make_due(id);
    assert_true(wait_results(id, NULL, 2, 10000) >= 2);
    assert_int_equal(it_sql_long("SELECT count(DISTINCT job_id) FROM public.check_history WHERE "
                                 "endpoint_id = $1::uuid",
                                 1, p),
                     2);
}

static void test_thresholds_retries_dlq_and_one_mail_per_outage(void **state)
{
    char id[64];
    set_switch("flap", 500);
    snprintf(id, sizeof(id), "%s", create("/switch/flap", 3, 2, false));
    /* Three attempts of the first job (retried with back-off), then down. */
    assert_true(wait_results(id, "AND NOT ok", 3, 15000) >= 3);
    assert_true(wait_state(id, "down", 5000));
    const char *p[] = {id};
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM \"%s\".incidents WHERE endpoint_id = $1::uuid AND closed_at IS "
             "NULL",
             tenant);
    assert_int_equal(it_sql_long(sql, 1, p), 1);
    /* After its last delivery the job is dead-lettered: stored, and out of SW_JOBS. */
    assert_true(it_wait_count("SELECT count(*) FROM public.dead_letters WHERE endpoint_id = "
                              "$1::uuid",
                              1, p, 1, 15000) >= 1);
    /* The owner hears about it once, however many more checks fail. */
    for (int i = 0; i < 40 && count_mail("is DOWN") < 1; i++)
        usleep(250 * 1000);
    assert_int_equal(count_mail("is DOWN"), 1);
    make_due(id);
    assert_true(wait_results(id, "AND NOT ok", 6, 15000) >= 6);
    sleep(1);
    assert_int_equal(count_mail("is DOWN"), 1);

    /* Recovery needs two good checks in a row. */
    set_switch("flap", 200);
    make_due(id);
    assert_true(wait_results(id, "AND ok", 1, 10000) >= 1);
    char *s = state_of(id);
    assert_string_equal(s, "down");
    free(s);
    make_due(id);
    assert_true(wait_results(id, "AND ok", 2, 10000) >= 2);
    assert_true(wait_state(id, "up", 5000));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM \"%s\".incidents WHERE endpoint_id = $1::uuid AND closed_at IS "
             "NOT NULL",
             tenant);
    assert_int_equal(it_sql_long(sql, 1, p), 1);
    for (int i = 0; i < 40 && count_mail("back UP") < 1; i++)
        usleep(250 * 1000);
    assert_int_equal(count_mail("back UP"), 1);
}

static void test_dlq_stream_holds_the_job(void **state)
{
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    jsErrCode jerr = 0;
    natsMsg *m = NULL;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(js_GetLastMsg(&m, js, "SW_DLQ", "sw.v1.dlq.SW_JOBS", NULL, &jerr), NATS_OK);
    const char *reason = NULL;
    assert_int_equal(natsMsgHeader_Get(m, "Sw-Dlq-Reason", &reason), NATS_OK);
    assert_non_null(strstr(reason, "max deliveries"));
    natsMsg_Destroy(m);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

static void expect_error(const char *path, bool tls, const char *needle)
{
    char id[64];
    snprintf(id, sizeof(id), "%s", create(path, 1, 1, tls));
    assert_true(wait_results(id, "AND NOT ok", 1, 20000) >= 1);
    const char *p[] = {id};
    json_t *rows = it_sql("SELECT error FROM public.check_history WHERE endpoint_id = $1::uuid "
                          "ORDER BY checked_at LIMIT 1",
                          1, p);
    const char *err = json_string_value(json_object_get(json_array_get(rows, 0), "error"));
    if (!err || !strcasestr(err, needle))
        fail_msg("%s: error \"%s\", expected \"%s\"", path, err ? err : "(none)", needle);
    json_decref(rows);
}

static void test_failure_kinds(void **state)
{
    char path[256];
    expect_error("/status/503", false, "unexpected status 503");
    expect_error("/hang", false, "timed out");
    expect_error("/reset", false, "");
    expect_error("/redirect/7", false, "too many redirects");
    expect_error("/ok", true, "certificate");
    /* Redirects into denied addresses are refused on the connected address. */
    snprintf(path, sizeof(path), "/redirect-to?url=http://169.254.169.254/latest/meta-data/");
    expect_error(path, false, "blocked");
    snprintf(path, sizeof(path), "/redirect-to?url=http://127.0.0.2:%d/ok", http_port);
    expect_error(path, false, "blocked");
    /* A short chain is followed. */
    char id[64];
    snprintf(id, sizeof(id), "%s", create("/redirect/3", 1, 1, false));
    assert_true(wait_results(id, "AND ok", 1, 10000) >= 1);
}

static void test_quorum_and_idempotent_recording(void **state)
{
    /* Three regions vote; the recorder is called directly with the batches they would send. */
    store_pool *pool = NULL;
    assert_int_equal(store_pool_new(&pool, getenv("DATABASE_URL"), 1), SW_OK);
    store_conn *c = store_acquire(pool);
    json_t *fresh = it_sql("SELECT gen_random_uuid()::text AS id", 0, NULL);
    char ep[40];
    snprintf(ep, sizeof(ep), "%s",
             json_string_value(json_object_get(json_array_get(fresh, 0), "id")));
    json_decref(fresh);
    const char *ps[] = {ep, tenant};
    /* Results count only for scheduled endpoints: give this one a (far future) schedule row. */
    json_decref(it_sql("INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds,"
                       " regions, next_due_at, url) VALUES ($1::uuid, $2, 60,"
                       " '{r1,r2,r3}', now() + interval '1 day', 'http://192.0.2.1/')",
                       2, ps));
    recorder_change *ch = NULL;
    size_t n = 0;
    const char *regions[] = {"r1", "r2", "r3"};
    json_int_t now = (json_int_t)time(NULL);
    /* One region fails three times: a minority, so the endpoint stays up. */
    for (int round = 0; round < 3; round++) {
        json_t *batch = json_array();
        for (int r = 0; r < 3; r++) {
            char job[128];
            snprintf(job, sizeof(job), "%s:%d:%s", ep, 1000 + round, regions[r]);
            json_array_append_new(
                batch,
                json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:b,s:i,s:s,s:f,s:i,s:i,s:i}", "job_id",
                          job, "attempt", 1, "tenant_id", tenant, "endpoint_id", ep, "region",
                          regions[r], "due_epoch", now - 600 + round, "checked_at_ms",
                          (now - 600 + round) * 1000 + r, "ok", r != 0, "http_status",
                          r != 0 ? 200 : 500, "error", r != 0 ? "" : "unexpected status 500",
                          "total_ms", 12.0, "failure_threshold", 3, "recovery_threshold", 2,
                          "regions_total", 3));
        }
        assert_int_equal(recorder_write(c, batch, &ch, &n, NULL), SW_OK);
        free(ch);
        /* The same batch again (a redelivery) adds nothing. */
        assert_int_equal(recorder_write(c, batch, &ch, &n, NULL), SW_OK);
        assert_int_equal(n, 0);
        free(ch);
        json_decref(batch);
    }
    const char *p[] = {ep};
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_history WHERE endpoint_id = $1::uuid", 1, p),
        9);
    char *s = state_of(ep);
    assert_string_equal(s, "up");
    free(s);
    /* A second region fails three times too: now a majority, and the endpoint is down. */
    for (int round = 3; round < 6; round++) {
        json_t *batch = json_array();
        for (int r = 0; r < 2; r++) {
            char job[128];
            snprintf(job, sizeof(job), "%s:%d:%s", ep, 1000 + round, regions[r]);
            json_array_append_new(
                batch,
                json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:b,s:i,s:s,s:f,s:i,s:i,s:i}", "job_id",
                          job, "attempt", 1, "tenant_id", tenant, "endpoint_id", ep, "region",
                          regions[r], "due_epoch", now - 600 + round, "checked_at_ms",
                          (now - 600 + round) * 1000 + r, "ok", 0, "http_status", 500, "error",
                          "unexpected status 500", "total_ms", 12.0, "failure_threshold", 3,
                          "recovery_threshold", 2, "regions_total", 3));
        }
        assert_int_equal(recorder_write(c, batch, &ch, &n, NULL), SW_OK);
        if (round < 5)
            assert_int_equal(n, 0);
        else
            assert_int_equal(n, 1); /* exactly one change, down */
        free(ch);
        json_decref(batch);
    }
    s = state_of(ep);
    assert_string_equal(s, "down");
    free(s);
    store_release(pool, c);
    store_pool_free(pool);
}

/* One result of the history test: job <ep>:<due>:<region>, µs-precise timings. */
static json_t *history_result(const char *ep, const char *region, json_int_t due, int attempt,
                              bool ok, int late_ms, double total_ms)
{
    char job[128];
    snprintf(job, sizeof(job), "%s:%lld:%s", ep, (long long)due, region);
    return json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:b,s:i,s:s,s:f,s:f,s:f,s:f,s:f}", "job_id", job,
                     "attempt", attempt, "tenant_id", tenant, "endpoint_id", ep, "region", region,
                     "due_epoch", due, "checked_at_ms", due * 1000 + late_ms, "ok", ok,
                     "http_status", ok ? 204 : 503, "error", ok ? "" : "unexpected status 503",
                     "dns_ms", 0.012, "connect_ms", 0.345, "tls_ms", 0.0, "ttfb_ms", total_ms - 0.5,
                     "total_ms", total_ms);
}

/* The history storage (schema/public/0013_1_check_runs.sql): first-attempt successes are
 * packed into runs, failures, retries and late arrivals are rows of their own, a redelivery is
 * dropped, and the checks list still shows every check as it was recorded, newest first,
 * across regions and windows; the uptime counts them all. */
static void test_history_keeps_every_check(void **state)
{
    store_pool *pool = NULL;
    assert_int_equal(store_pool_new(&pool, getenv("DATABASE_URL"), 1), SW_OK);
    store_conn *c = store_acquire(pool);
    json_t *fresh = it_sql("SELECT gen_random_uuid()::text AS id", 0, NULL);
    char ep[40], sql[512];
    snprintf(ep, sizeof(ep), "%s",
             json_string_value(json_object_get(json_array_get(fresh, 0), "id")));
    json_decref(fresh);
    const char *ps[] = {ep, tenant};
    snprintf(sql, sizeof(sql),
             "INSERT INTO \"%s\".endpoints (id, name, url, interval_seconds, timeout_seconds,"
             " regions) VALUES ($1::uuid, 'history', 'http://192.0.2.1/history', 30, 5,"
             " '{r1,r2}')",
             tenant);
    json_decref(it_sql(sql, 1, ps));
    json_decref(it_sql("INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds,"
                       " regions, next_due_at, url) VALUES ($1::uuid, $2, 30, '{r1,r2}',"
                       " now() + interval '1 day', 'http://192.0.2.1/history')",
                       2, ps));
    /* Due times across three 10-minute windows, in two regions. */
    json_int_t base = (json_int_t)time(NULL) / 600 * 600 - 1200;
    json_t *b1 = json_array(), *b2 = json_array(), *want = json_array();
    for (int i = 0; i < 40; i++) {
        json_int_t due = base + 30 * i;
        const char *region = i % 2 ? "r2" : "r1";
        double total = 10.0 + i + 0.001 * (i * 37 % 1000);
        json_t *r = history_result(ep, region, due, 1, i != 11, 100 + i, total);
        json_array_append(i < 30 ? b1 : b2, r);
        json_array_append_new(want, r);
        if (i == 11) { /* the failure's retry succeeds */
            r = history_result(ep, region, due, 2, true, 2100, 7.25);
            json_array_append(b1, r);
            json_array_append_new(want, r);
        }
    }
    /* A late arrival (older than its run's newest check) and a redelivery. */
    json_t *late = history_result(ep, "r2", base + 30 * 41, 1, true, 900, 3.25);
    json_array_append_new(b2, history_result(ep, "r2", base + 30 * 43, 1, true, 90, 4.25));
    json_array_append_new(want, json_deep_copy(json_array_get(b2, json_array_size(b2) - 1)));
    json_array_append(b2, json_array_get(b1, 3));
    recorder_change *ch = NULL;
    size_t n = 0;
    assert_int_equal(recorder_write(c, b1, &ch, &n, NULL), SW_OK);
    free(ch);
    assert_int_equal(recorder_write(c, b2, &ch, &n, NULL), SW_OK);
    free(ch);
    json_t *b3 = json_array();
    json_array_append(b3, late);
    json_array_append_new(want, late);
    assert_int_equal(recorder_write(c, b3, &ch, &n, NULL), SW_OK);
    free(ch);
    assert_int_equal(recorder_write(c, b1, &ch, &n, NULL), SW_OK); /* all of it again */
    free(ch);
    const char *p[] = {ep};
    /* The exceptions are rows: the failure, its retry, the late one; the rest are packed. */
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_results WHERE endpoint_id = $1::uuid", 1, p),
        3);
    assert_int_equal(it_sql_long("SELECT coalesce(sum(n), 0) FROM public.check_runs"
                                 " WHERE endpoint_id = $1::uuid",
                                 1, p),
                     json_array_size(want) - 3);

    /* The list: every check once, newest first, each field as the prober reported it. */
    size_t nwant = json_array_size(want);
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?limit=500", ep);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    json_t *got = json_object_get(r->body, "results");
    assert_int_equal(json_array_size(got), nwant);
    json_int_t prev = INT64_MAX;
    for (size_t k = 0; k < json_array_size(got); k++) {
        json_t *g = json_array_get(got, k), *w = NULL;
        char at[40];
        size_t j;
        json_t *cand;
        json_array_foreach(want, j, cand)
        {
            json_int_t ms = json_integer_value(json_object_get(cand, "checked_at_ms"));
            time_t secs = (time_t)(ms / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            char day[32];
            strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(at, sizeof(at), "%s.%03dZ", day, (int)(ms % 1000));
            if (strcmp(at, json_string_value(json_object_get(g, "checked_at"))) == 0 &&
                strcmp(json_string_value(json_object_get(cand, "region")),
                       json_string_value(json_object_get(g, "region"))) == 0) {
                w = cand;
                assert_true(ms <= prev); /* newest first */
                prev = ms;
                break;
            }
        }
        if (!w)
            fail_msg("unexpected check %s", json_dumps(g, JSON_COMPACT));
        assert_int_equal(json_integer_value(json_object_get(g, "attempt")),
                         json_integer_value(json_object_get(w, "attempt")));
        assert_int_equal(json_is_true(json_object_get(g, "ok")),
                         json_is_true(json_object_get(w, "ok")));
        assert_int_equal(json_integer_value(json_object_get(g, "http_status")),
                         json_integer_value(json_object_get(w, "http_status")));
        double total = json_real_value(json_object_get(w, "total_ms"));
        assert_int_equal(json_integer_value(json_object_get(g, "latency_ms")),
                         (json_int_t)(total + 0.5));
        assert_true(fabs(json_number_value(json_object_get(g, "ttfb_ms")) - (total - 0.5)) <
                    0.0005);
        assert_true(fabs(json_number_value(json_object_get(g, "dns_ms")) - 0.012) < 0.0005);
        assert_true(fabs(json_number_value(json_object_get(g, "connect_ms")) - 0.345) < 0.0005);
        if (json_is_true(json_object_get(w, "ok")))
            assert_true(json_is_null(json_object_get(g, "error")));
        else
            assert_string_equal(json_string_value(json_object_get(g, "error")),
                                "unexpected status 503");
        json_array_remove(want, j); /* each once */
    }
    char newest[40];
    snprintf(newest, sizeof(newest), "%s",
             json_string_value(json_object_get(json_array_get(got, 0), "checked_at")));
    it_resp_free(r);
    /* A shorter page is the newest ones. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/checks/?limit=3", ep);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r->body, "results"), 0), "checked_at")),
                        newest);
    it_resp_free(r);
    /* The uptime counts every check: 43 attempts, one failed. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/uptime/", ep);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    json_t *day = json_object_get(json_object_get(r->body, "windows"), "24h");
    assert_int_equal(json_integer_value(json_object_get(day, "checks")), (json_int_t)nwant);
    assert_int_equal(json_integer_value(json_object_get(day, "failures")), 1);
    it_resp_free(r);
    json_decref(want);
    json_decref(b1);
    json_decref(b2);
    json_decref(b3);
    store_release(pool, c);
    store_pool_free(pool);
}

/* A result as a prober publishes it (tests/unit/test_messages.c checks the encoder's shape). */
static char *result_json(const char *job, const char *ep, const char *region, json_int_t due,
                         int http)
{
    json_t *o =
        json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:b,s:b,s:b,s:i,s:s,s:f}", "job_id", job, "attempt",
                  1, "tenant_id", tenant, "endpoint_id", ep, "region", region, "due_epoch", due,
                  "checked_at_ms", (json_int_t)time(NULL) * 1000, "ok", 1, "blocked", 0, "final", 1,
                  "http_status", http, "error", "", "total_ms", 4.0);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Poison in the middle of a batch: with the recorder stopped, good results and results the
 * decoder refuses (not JSON, a bad UUID, a bad attempt, an HTTP status the table cannot hold)
 * queue up; the restarted recorder takes them in one batch, records the good ones, terminates
 * each bad one on its own, and nothing is left to redeliver. */
static void test_poison_results_do_not_sink_their_batch(void **state)
{
    char ep[64], subject[160], job[3][160];
    snprintf(ep, sizeof(ep), "%s", create("/ok?poison", 3, 2, false));
    wait_results(ep, NULL, 1, 20000); /* its first real check */
    snprintf(subject, sizeof(subject), "sw.v1.results.local.%s", tenant);
    json_int_t now = (json_int_t)time(NULL);
    for (int i = 0; i < 3; i++)
        snprintf(job[i], sizeof(job[i]), "%s:%lld:local:poison%d", ep, (long long)now, i);

    assert_int_equal(it_ops("actor stop recorder"), 0);
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    char *good0 = result_json(job[0], ep, "local", now, 200);
    char *good1 = result_json(job[1], ep, "local", now, 200);
    char *bad_http = result_json(job[2], ep, "local", now, 70000);
    char *bad_uuid = result_json("poison:uuid", "not-a-uuid", "local", now, 200);
    const char *msgs[] = {
        good0, "{not json", bad_uuid, bad_http, "{\"job_id\":\"poison:attempt\",\"attempt\":\"x\"}",
        good1};
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
        assert_int_equal(js_Publish(NULL, js, subject, msgs[i], (int)strlen(msgs[i]), NULL, NULL),
                         NATS_OK);
    free(good0);
    free(good1);
    free(bad_http);
    free(bad_uuid);
    assert_int_equal(it_ops("actor start recorder"), 0);

    const char *p0[] = {job[0]}, *p1[] = {job[1]}, *p2[] = {job[2]};
    assert_int_equal(it_wait_count("SELECT count(*) FROM public.check_history WHERE job_id = $1", 1,
                                   p0, 1, 20000),
                     1);
    assert_int_equal(it_wait_count("SELECT count(*) FROM public.check_history WHERE job_id = $1", 1,
                                   p1, 1, 20000),
                     1);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_history WHERE job_id = $1", 1, p2), 0);
    /* Each bad one was terminated (counted), none waits for a redelivery. */
    long malformed = 0;
    for (int i = 0; i < 100 && malformed < 4; i++) {
        malformed = it_worker_counter("sw-recorder", "results_malformed");
        if (malformed < 4)
            usleep(100 * 1000);
    }
    assert_int_equal(malformed, 4);
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    uint64_t pending = 1;
    for (int i = 0; i < 100 && pending > 0; i++) {
        assert_int_equal(js_GetConsumerInfo(&ci, js, "SW_RESULTS", "recorder", NULL, &jerr),
                         NATS_OK);
        pending = ci->NumPending + (uint64_t)ci->NumAckPending;
        jsConsumerInfo_Destroy(ci);
        if (pending > 0)
            usleep(100 * 1000);
    }
    assert_int_equal(pending, 0);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    char path[128];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", ep);
    it_resp *r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
}

static void test_prober_killed_mid_batch_loses_nothing(void **state)
{
    char ids[8][64], path[64];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "/slow?ms=2500&n=%d", i);
        snprintf(ids[i], sizeof(ids[i]), "%s", create(path, 3, 2, false));
    }
    usleep(800 * 1000); /* the checks are in flight */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "kill -9 $(cat %s/run/prober.pid)", getenv("SW_VAR"));
    assert_int_equal(system(cmd), 0);
    usleep(300 * 1000);
    assert_int_equal(it_ops("actor start prober"), 0);
    /* Unacked jobs come back after the ack wait (30 s) and are checked once more. */
    for (int i = 0; i < 8; i++)
        assert_true(wait_results(ids[i], "AND ok", 1, 60000) >= 1);
    for (int i = 0; i < 8; i++) {
        const char *p[] = {ids[i]};
        /* exactly one successful check of the first job; no (job, attempt) twice */
        assert_int_equal(it_sql_long("SELECT count(*) FROM public.check_history WHERE "
                                     "endpoint_id = $1::uuid AND ok",
                                     1, p),
                         1);
        assert_int_equal(it_sql_long("SELECT count(*) - count(DISTINCT (job_id, attempt)) FROM "
                                     "public.check_history WHERE endpoint_id = $1::uuid",
                                     1, p),
                         0);
    }
}

static void test_advisories_wait_for_the_deadletter_actor(void **state)
{
    /* The dead-letter actor is down while a job exhausts its deliveries; the advisory waits
     * in SW_ADVISORIES and is handled when it is back. */
    assert_int_equal(it_ops("actor stop deadletter"), 0);
    char id[64];
    snprintf(id, sizeof(id), "%s", create("/status/502", 3, 2, false));
    assert_true(wait_results(id, "AND NOT ok", 3, 15000) >= 3);
    sleep(1);
    const char *p[] = {id};
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.dead_letters WHERE endpoint_id = $1::uuid", 1, p),
        0);
    assert_int_equal(it_ops("actor start deadletter"), 0);
    assert_true(it_wait_count("SELECT count(*) FROM public.dead_letters WHERE endpoint_id = "
                              "$1::uuid",
                              1, p, 1, 15000) >= 1);
}

static void test_deleted_while_in_flight_is_dropped(void **state)
{
    char id[64], path[128];
    snprintf(id, sizeof(id), "%s", create("/slow?ms=1500&gone=1", 3, 2, false));
    usleep(300 * 1000); /* the first check is running */
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    it_resp *r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    sleep(3); /* the check finishes and its result reaches the recorder */
    const char *p[] = {id};
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_history WHERE endpoint_id = $1::uuid", 1, p),
        0);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.endpoint_state WHERE endpoint_id = $1::uuid", 1,
                    p),
        0);
}

/* The recorder owns the state rows; deleting an endpoint (sw-endpoints) reaches it as the
 * endpoint.deleted event, and the endpoint's overall and per-region state go. */
static void test_deleted_endpoint_state_is_forgotten(void **state)
{
    char id[64], path[128];
    snprintf(id, sizeof(id), "%s", create("/ok?forget=1", 3, 2, false));
    const char *p[] = {id};
    assert_int_equal(it_wait_count("SELECT count(*) FROM public.endpoint_state WHERE"
                                   " endpoint_id = $1::uuid",
                                   1, p, 1, 20000),
                     1);
    assert_true(it_sql_long("SELECT count(*) FROM public.endpoint_region_state WHERE"
                            " endpoint_id = $1::uuid",
                            1, p) >= 1);
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    it_resp *r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    long left = 1;
    for (int i = 0; i < 100 && left > 0; i++) {
        left = it_sql_long("SELECT (SELECT count(*) FROM public.endpoint_state WHERE endpoint_id ="
                           " $1::uuid) + (SELECT count(*) FROM public.endpoint_region_state"
                           " WHERE endpoint_id = $1::uuid)",
                           1, p);
        if (left > 0)
            usleep(100 * 1000);
    }
    assert_int_equal(left, 0);
}

typedef struct ticker {
    natsConnection *nc;
    long claimed;
} ticker;

static void *tick_thread(void *arg)
{
    ticker *t = arg;
    bus_apub *jobs = NULL;
    if (bus_apub_new(&jobs, t->nc, "_INBOX", 5000) != SW_OK)
        return NULL;
    store_pool *pool = NULL;
    store_pool_new(&pool, getenv("DATABASE_URL"), 1);
    store_conn *c = store_acquire(pool);
    for (int idle = 0; idle < 3;) {
        int n = 0;
        int64_t late = 0;
        if (scheduler_tick(c, jobs, 100, &n, &late) != SW_OK)
            break;
        t->claimed += n;
        idle = n == 0 ? idle + 1 : 0;
    }
    bus_apub_free(jobs);
    store_release(pool, c);
    store_pool_free(pool);
    return NULL;
}

static void test_two_schedulers_never_double_schedule(void **state)
{
    /* 2,000 rows due now for a region no prober serves, claimed by two schedulers at once:
     * every row is claimed exactly once. */
    /* Only our two: the stack's scheduler steps aside for the count to be exact. */
    assert_int_equal(it_ops("actor stop scheduler"), 0);
    /* Nor may an endpoint of an earlier test come due meanwhile: the ticks claim every due row. */
    json_decref(
        it_sql("UPDATE public.schedule SET next_due_at = now() + interval '1 hour'", 0, NULL));
    const char *p[] = {tenant};
    json_decref(it_sql("INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds,"
                       " regions, next_due_at, url)"
                       " SELECT gen_random_uuid(), $1, 3600, '{zz-sched}', now() - interval '5 s',"
                       " 'http://192.0.2.1/' FROM generate_series(1, 2000)",
                       1, p));
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    ticker a = {nc, 0}, b = {nc, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, tick_thread, &a);
    pthread_create(&tb, NULL, tick_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(it_ops("actor start scheduler"), 0);
    /* All advanced to an hour from now, none left due. */
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.schedule WHERE regions = "
                                 "'{zz-sched}' AND next_due_at > now() + interval '50 minutes'",
                                 0, NULL),
                     2000);
    /* The jobs on the stream: exactly one per row. */
    jsStreamInfo *si = NULL;
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = "sw.v1.jobs.probe.zz-sched";
    assert_int_equal(js_GetStreamInfo(&si, js, "SW_JOBS", &o, &jerr), NATS_OK);
    uint64_t msgs = 0;
    for (int i = 0; si->State.Subjects && i < si->State.Subjects->Count; i++)
        msgs += si->State.Subjects->List[i].Msgs;
    jsStreamInfo_Destroy(si);
    assert_int_equal(msgs, 2000);
    assert_int_equal(a.claimed + b.claimed, 2000); /* no row claimed twice */
    assert_true(a.claimed > 0 && b.claimed > 0);   /* and both did work */
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = "sw.v1.jobs.probe.zz-sched";
    js_PurgeStream(js, "SW_JOBS", &o, &jerr);
    json_decref(it_sql("DELETE FROM public.schedule WHERE regions = '{zz-sched}'", 0, NULL));
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

static void test_malformed_job_goes_to_dlq(void **state)
{
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    jsErrCode jerr = 0;
    jsPubAck *pa = NULL;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    const char *bad = "{\"job_id\": 42, \"url\": \"http://127.0.0.1/\"}";
    assert_int_equal(
        js_Publish(&pa, js, "sw.v1.jobs.probe.local", bad, (int)strlen(bad), NULL, &jerr), NATS_OK);
    uint64_t seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    /* It lands in SW_DLQ with its reason, and is gone from SW_JOBS: no retry loop. */
    natsMsg *m = NULL;
    bool found = false;
    for (int i = 0; i < 50 && !found; i++) {
        if (js_GetLastMsg(&m, js, "SW_DLQ", "sw.v1.dlq.SW_JOBS", NULL, &jerr) == NATS_OK) {
            const char *reason = NULL;
            found = strcmp(natsMsg_GetData(m), bad) == 0 &&
                    natsMsgHeader_Get(m, "Sw-Dlq-Reason", &reason) == NATS_OK &&
                    strstr(reason, "malformed");
            natsMsg_Destroy(m);
            m = NULL;
        }
        if (!found)
            usleep(200 * 1000);
    }
    assert_true(found);
    /* The prober terminates the job right after storing the copy (an ack has no reply). */
    bool gone = false;
    for (int i = 0; i < 20 && !gone; i++) {
        gone = js_GetMsg(&m, js, "SW_JOBS", seq, NULL, &jerr) != NATS_OK;
        natsMsg_Destroy(m);
        m = NULL;
        if (!gone)
            usleep(100 * 1000);
    }
    assert_true(gone);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

static void test_uptime_and_retention(void **state)
{
    char id[64], path[160];
    snprintf(id, sizeof(id), "%s", create("/ok?uptime=1", 3, 2, false));
    assert_true(wait_results(id, "AND ok", 1, 10000) >= 1);
    make_due(id);
    assert_true(wait_results(id, "AND ok", 2, 10000) >= 2);
    snprintf(path, sizeof(path), "/api/endpoints/%s/uptime/", id);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    json_t *day = json_object_get(json_object_get(r->body, "windows"), "24h");
    assert_int_equal(json_integer_value(json_object_get(day, "checks")), 2);
    assert_int_equal(json_integer_value(json_object_get(day, "failures")), 0);
    assert_true(json_real_value(json_object_get(day, "uptime_percent")) == 100.0);
    assert_true(json_is_number(json_object_get(json_object_get(day, "latency_ms"), "p95")));
    assert_non_null(json_object_get(json_object_get(r->body, "windows"), "30d"));
    it_resp_free(r);
    /* Another tenant cannot read it. */
    char other[160];
    char *tid2 = it_signup_verified(other, sizeof(other), "Other Co");
    it_resp *l = it_login(other, IT_PASSWORD);
    r = it_auth("GET", path, json_string_value(json_object_get(l->body, "access")), NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    it_resp_free(l);
    free(tid2);

    /* Retention drops tables: a day 8 days old loses its Free rows, keeps its Pro rows; a day
     * 91 days old goes entirely. */
    json_decref(it_sql("SELECT public.ensure_check_partitions(91, 0)", 0, NULL));
    const char *p[] = {tenant};
    json_decref(it_sql("INSERT INTO public.check_results (due_at, retention, job_id, attempt,"
                       " tenant_id, endpoint_id, region, checked_at, ok) VALUES"
                       " (now() - interval '8 days', 'free', 'old-free', 1, $1, gen_random_uuid(),"
                       "  'local', now() - interval '8 days', true),"
                       " (now() - interval '8 days', 'pro', 'old-pro', 1, $1, gen_random_uuid(),"
                       "  'local', now() - interval '8 days', true),"
                       " (now() - interval '91 days', 'pro', 'ancient', 1, $1, gen_random_uuid(),"
                       "  'local', now() - interval '91 days', true)",
                       1, p));
    /* The runs of successes too (tagged by their region). */
    json_decref(it_sql("INSERT INTO public.check_runs (window_start, endpoint_id, n, last_due,"
                       " retention, region, tenant_id, data) VALUES"
                       " (date_trunc('hour', now() - interval '8 days'), gen_random_uuid(), 0, 0,"
                       "  'free', 'old-free', $1, ''),"
                       " (date_trunc('hour', now() - interval '8 days'), gen_random_uuid(), 0, 0,"
                       "  'pro', 'old-pro', $1, ''),"
                       " (date_trunc('hour', now() - interval '91 days'), gen_random_uuid(), 0, 0,"
                       "  'pro', 'ancient', $1, '')",
                       1, p));
    long dropped = it_sql_long("SELECT public.drop_expired_check_partitions(7, 90)", 0, NULL);
    assert_true(dropped >= 4);
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.check_runs WHERE region IN "
                                 "('old-free', 'ancient')",
                                 0, NULL),
                     0);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_runs WHERE region = 'old-pro'", 0, NULL), 1);
    json_decref(it_sql("DELETE FROM public.check_runs WHERE region = 'old-pro'", 0, NULL));
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.check_results WHERE job_id IN "
                                 "('old-free', 'ancient')",
                                 0, NULL),
                     0);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_results WHERE job_id = 'old-pro'", 0, NULL),
        1);
    json_decref(it_sql("DELETE FROM public.check_results WHERE job_id = 'old-pro'", 0, NULL));
}

/* SW_PROBE_CA_FILE (the test CA of `ops/sw bench pipeline --tls`) is refused in production:
 * sw-prober exits naming the setting instead of trusting another CA. */
static void test_probe_ca_file_refused_in_production(void **state)
{
    char pw[128], env[512], *err = NULL;
    it_secret(pw, sizeof(pw), "NATS_PW_PROBER");
    snprintf(env, sizeof(env),
             "SW_ENV=production SW_NATS_USER=prober SW_NATS_PASSWORD=%s SW_PROBE_SANDBOX=0"
             " SW_PROBE_ALLOW_CIDRS= SW_PROBE_CA_FILE=/etc/ssl/certs/ca-certificates.crt",
             pw);
    int rc = it_run_bin("sw-prober", env, &err);
    if (rc == 0 || !strstr(err, "\"setting\":\"SW_PROBE_CA_FILE\""))
        fail_msg("sw-prober with SW_PROBE_CA_FILE in production: exit %d, stderr: %s", rc, err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_check_and_reschedule),
        cmocka_unit_test(test_thresholds_retries_dlq_and_one_mail_per_outage),
        cmocka_unit_test(test_dlq_stream_holds_the_job),
        cmocka_unit_test(test_failure_kinds),
        cmocka_unit_test(test_quorum_and_idempotent_recording),
        cmocka_unit_test(test_history_keeps_every_check),
        cmocka_unit_test(test_two_schedulers_never_double_schedule),
        cmocka_unit_test(test_advisories_wait_for_the_deadletter_actor),
        cmocka_unit_test(test_deleted_while_in_flight_is_dropped),
        cmocka_unit_test(test_deleted_endpoint_state_is_forgotten),
        cmocka_unit_test(test_malformed_job_goes_to_dlq),
        cmocka_unit_test(test_uptime_and_retention),
        cmocka_unit_test(test_prober_killed_mid_batch_loses_nothing),
        cmocka_unit_test(test_poison_results_do_not_sink_their_batch),
        cmocka_unit_test(test_probe_ca_file_refused_in_production),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
