/* swctl against the running test stack, the way an operator uses it: run the binary, read what
 * it prints and its exit status. Messages it should show are published from here on the admin
 * connection; dead letters come from a malformed job the prober rejects, or are written to
 * SW_DLQ directly with a row in public.dead_letters, as sw-deadletter would. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static char err_path[512];
static char token[32]; /* unique per run: subjects and ids of this test */

typedef struct run_out {
    int rc;
    char *out; /* stdout, owned */
    char *err; /* stderr, owned */
} run_out;

static char *slurp_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int ch;
    while (f && (ch = fgetc(f)) != EOF)
        fputc(ch, m);
    fclose(m);
    if (f)
        fclose(f);
    return buf;
}

static char *slurp(FILE *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    return buf;
}

/* Runs `swctl ARGS` (a shell fragment) with the admin login from the environment. */
static run_out swctl(const char *args)
{
    char cmd[2048];
    run_out r = {0};
    snprintf(cmd, sizeof(cmd), "timeout 30 '%s/swctl' %s 2>'%s'", SW_BIN_DIR, args, err_path);
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("popen %s failed", cmd);
    r.out = slurp(p);
    int st = pclose(p);
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.err = slurp_file(err_path);
    print_message("$ swctl %s -> %d\n%s%s", args, r.rc, r.out, r.err);
    return r;
}

static void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
}

static void assert_has(const char *text, const char *want)
{
    if (!text || !strstr(text, want))
        fail_msg("expected to find [%s] in:\n%s", want, text ? text : "(nothing)");
}

static int setup(void **state)
{
    /* swctl reads SW_NATS_USER/SW_NATS_PASSWORD like every client; the tests get the admin's. */
    setenv("SW_NATS_USER", getenv("SW_ADMIN_NATS_USER"), 1);
    setenv("SW_NATS_PASSWORD", getenv("SW_ADMIN_NATS_PASSWORD"), 1);
    snprintf(err_path, sizeof(err_path), "%s/swctl-test.err", getenv("SW_VAR"));
    char email[128];
    snprintf(email, sizeof(email), "%s", it_fresh_email("swctl"));
    /* "swctl-<random>@example.test" → a token of lowercase letters and digits */
    size_t j = 0;
    for (size_t i = 6; email[i] && email[i] != '@' && j < sizeof(token) - 1; i++)
        if ((email[i] >= 'a' && email[i] <= 'z') || (email[i] >= '0' && email[i] <= '9'))
            token[j++] = email[i];
    token[j] = '\0';
    if (j < 4)
        fail_msg("no random token from %s", email);
    return 0;
}

static void test_usage_and_help(void **state)
{
    run_out r = swctl("--help");
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "dlq");
    run_free(&r);
    r = swctl("frobnicate");
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "unknown command 'frobnicate'");
    run_free(&r);
    r = swctl("sub");
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "usage: swctl sub SUBJECT");
    run_free(&r);
    r = swctl("--password wrong-password streams");
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "wrong or missing user/password");
    run_free(&r);
}

static void test_micro(void **state)
{
    run_out r = swctl("micro ls");
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "NAME");
    assert_has(r.out, "ENDPOINTS");
    assert_has(r.out, "\nsw-auth ");
    assert_has(r.out, "\nsw-endpoints ");
    assert_has(r.out, "\nsw-prober ");
    assert_has(r.out, "\nsw-tenancy ");
    run_free(&r);

    r = swctl("micro info sw-tenancy");
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "sw.v1.tenancy.list");
    run_free(&r);

    r = swctl("micro stats sw-auth");
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "REQUESTS");
    assert_has(r.out, "register");
    run_free(&r);

    r = swctl("micro info sw-nonexistent");
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "no instance of 'sw-nonexistent'");
    run_free(&r);
}

static void test_streams_and_consumers(void **state)
{
    run_out r = swctl("streams");
    assert_int_equal(r.rc, 0);
    const char *names[] = {"SW_JOBS", "SW_RESULTS", "SW_EVENTS", "SW_DLQ", "SW_ADVISORIES"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "\n%s ", names[i]);
        assert_has(r.out, line);
    }
    assert_has(r.out, "workqueue");
    run_free(&r);

    r = swctl("consumers SW_JOBS");
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "ACK PENDING");
    assert_has(r.out, "REDELIVERED");
    assert_has(r.out, " probers-local ");
    assert_has(r.out, " mailer ");
    assert_has(r.out, "sw.v1.jobs.probe.local");
    run_free(&r);

    r = swctl("consumers SW_NOSUCH");
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "stream not found");
    run_free(&r);
}

static void test_sub_prints_like_nats_sub(void **state)
{
    char args[256], subject[128], want[1024], rid[64];
    snprintf(subject, sizeof(subject), "sw.v1.evt.t_%s.endpoint.created", token);
    snprintf(rid, sizeof(rid), "rid-%s", token);
    snprintf(args, sizeof(args), "'%s/swctl' sub 'sw.v1.evt.t_%s.>' --count 1", SW_BIN_DIR, token);
    char cmd[1024];
    unlink(err_path);
    snprintf(cmd, sizeof(cmd), "timeout 20 %s 2>'%s'", args, err_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    /* swctl says on stderr when its subscription is in place. */
    char *err = NULL;
    for (int i = 0; i < 100; i++) {
        free(err);
        err = slurp_file(err_path);
        if (err && strstr(err, "Listening on"))
            break;
        usleep(100 * 1000);
    }
    assert_has(err, "Listening on \"sw.v1.evt.t_");
    free(err);

    natsConnection *nc = it_nats();
    natsMsg *m = NULL;
    char body[128];
    snprintf(body, sizeof(body), "{\"endpoint_id\":\"e-%s\",\"name\":\"Shop\"}", token);
    assert_int_equal(natsMsg_Create(&m, subject, NULL, body, (int)strlen(body)), NATS_OK);
    natsMsgHeader_Set(m, "Content-Type", "application/json");
    natsMsgHeader_Set(m, "Sw-Request-Id", rid);
    assert_int_equal(natsConnection_PublishMsg(nc, m), NATS_OK);
    natsConnection_Flush(nc);
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);

    char *out = slurp(p);
    int st = pclose(p);
    print_message("swctl sub printed:\n%s", out);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    snprintf(want, sizeof(want),
             "[#1] Received on \"%s\"\n"
             "Content-Type: application/json\n"
             "Sw-Request-Id: %s\n"
             "\n"
             "%s\n"
             "\n",
             subject, rid, body);
    assert_string_equal(out, want);
    free(out);
}

static void test_req(void **state)
{
    run_out r = swctl("req sw.v1.nobody.listens.here '{}'");
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "no responders on \"sw.v1.nobody.listens.here\"");
    run_free(&r);

    r = swctl("req sw.v1.tenancy.list 'not json'");
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "not JSON");
    run_free(&r);

    r = swctl("req sw.v1.tenancy.list '{\"page\":1}' --header Sw-Request-Id:swctl-it");
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "Sw-Status: 200\n");
    assert_has(r.out, "\n\n{");
    assert_has(r.out, "\"results\"");
    run_free(&r);
}

/* The SW_DLQ sequence of the dead letter whose line in `dlq ls` contains needle, or 0. */
static unsigned long dlq_find(const char *needle, const char *need2)
{
    run_out r = swctl("dlq ls --limit 200");
    unsigned long seq = 0;
    if (r.rc == 0) {
        for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"))
            if (strstr(line, needle) && (!need2 || strstr(line, need2)))
                seq = strtoul(line, NULL, 10);
    }
    run_free(&r);
    return seq;
}

/* How many messages with a Nats-Msg-Id starting with prefix arrive on sub within ms. */
static int count_replays(natsSubscription *sub, const char *prefix, int ms)
{
    int n = 0;
    int64_t end = nats_Now() + ms;
    for (int64_t left = ms; left > 0; left = end - nats_Now()) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, left) != NATS_OK)
            break;
        const char *id = NULL;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK &&
            strncmp(id, prefix, strlen(prefix)) == 0)
            n++;
        natsMsg_Destroy(m);
    }
    return n;
}

static void test_dlq_from_a_malformed_job(void **state)
{
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    jsPubAck *pa = NULL;
    jsPubOptions po;
    jsErrCode jerr = 0;
    char id[64], needle[64], args[128], prefix[64];
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);

    /* A job the prober cannot read: it dead-letters it itself. */
    jsPubOptions_Init(&po);
    snprintf(id, sizeof(id), "swctl-malformed-%s", token);
    po.MsgId = id;
    const char *job = "{\"job_id\": 42}";
    assert_int_equal(
        js_Publish(&pa, js, "sw.v1.jobs.probe.local", job, (int)strlen(job), &po, &jerr), NATS_OK);
    snprintf(needle, sizeof(needle), "SW_JOBS #%llu ", (unsigned long long)pa->Sequence);
    jsPubAck_Destroy(pa);

    unsigned long seq = 0;
    for (int i = 0; i < 50 && !seq; i++) {
        seq = dlq_find(needle, "sw.v1.jobs.probe.local");
        if (!seq)
            usleep(200 * 1000);
    }
    if (!seq)
        fail_msg("the malformed job never showed in `swctl dlq ls` (looked for %s)", needle);

    snprintf(args, sizeof(args), "dlq show %lu", seq);
    run_out r = swctl(args);
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "Received on \"sw.v1.dlq.SW_JOBS\"");
    assert_has(r.out, "Sw-Dlq-Subject: sw.v1.jobs.probe.local\n");
    assert_has(r.out, "Sw-Dlq-Reason: ");
    assert_has(r.out, "\"job_id\": 42");
    assert_has(r.out, "Replayed: no");
    run_free(&r);

    /* Replay: exactly one copy reaches the job subject, with the new msg id. */
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, "sw.v1.jobs.probe.local"), NATS_OK);
    natsConnection_Flush(nc);
    snprintf(prefix, sizeof(prefix), "replay:%lu:", seq);
    snprintf(args, sizeof(args), "dlq replay %lu", seq);
    r = swctl(args);
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "Replayed SW_DLQ #");
    assert_has(r.out, prefix);
    run_free(&r);
    assert_int_equal(count_replays(sub, prefix, 1500), 1);

    /* A second replay is refused and publishes nothing. */
    r = swctl(args);
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "already replayed");
    assert_has(r.err, "--force");
    run_free(&r);
    assert_int_equal(count_replays(sub, prefix, 1000), 0);

    snprintf(args, sizeof(args), "dlq show %lu", seq);
    r = swctl(args);
    assert_has(r.out, "Replayed: yes");
    run_free(&r);

    r = swctl("dlq show 999999999");
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "no message #999999999 in SW_DLQ");
    run_free(&r);

    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/* A dead letter as sw-deadletter writes it: the row in public.dead_letters and the copy in
 * SW_DLQ with the three Sw-Dlq-* headers. */
static unsigned long long dead_letter_to(natsConnection *nc, unsigned long long job_seq,
                                         bool replayed, const char *subject, const char *body_in);

static unsigned long long dead_letter(natsConnection *nc, unsigned long long job_seq, bool replayed)
{
    return dead_letter_to(nc, job_seq, replayed, "sw.v1.jobs.probe.local", NULL);
}

/* The same with any Sw-Dlq-Subject and body (NULL: a job id of this run). */
static unsigned long long dead_letter_to(natsConnection *nc, unsigned long long job_seq,
                                         bool replayed, const char *subject, const char *body_in)
{
    jsCtx *js = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsMsg *m = NULL;
    char seq_s[24], id[64], body[128];
    snprintf(seq_s, sizeof(seq_s), "%llu", job_seq);
    snprintf(id, sizeof(id), "dlq:SW_JOBS:%llu", job_seq);
    snprintf(body, sizeof(body), "{\"job_id\":\"swctl-%s-%llu\"}", token, job_seq);
    if (body_in)
        snprintf(body, sizeof(body), "%s", body_in);
    const char *p[] = {seq_s, body, replayed ? "t" : "f", subject};
    json_decref(it_sql("INSERT INTO public.dead_letters (stream, stream_seq, subject, job, reason,"
                       " deliveries, replayed_at) VALUES ('SW_JOBS', $1::bigint,"
                       " $4, $2::jsonb, 'max deliveries reached (3)', 3,"
                       " CASE WHEN $3::bool THEN now() END)",
                       4, p));
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(natsMsg_Create(&m, "sw.v1.dlq.SW_JOBS", NULL, body, (int)strlen(body)),
                     NATS_OK);
    natsMsgHeader_Set(m, "Content-Type", "application/json");
    natsMsgHeader_Set(m, "Nats-Msg-Id", id);
    natsMsgHeader_Set(m, "Sw-Dlq-Reason", "max deliveries reached (3)");
    natsMsgHeader_Set(m, "Sw-Dlq-Subject", subject);
    natsMsgHeader_Set(m, "Sw-Dlq-Seq", seq_s);
    assert_int_equal(js_PublishMsg(&pa, js, m, NULL, &jerr), NATS_OK);
    unsigned long long dlq_seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    jsCtx_Destroy(js);
    return dlq_seq;
}

static void test_dlq_replay_records_replayed_at(void **state)
{
    natsConnection *nc = it_nats();
    char args[128], seq_s[24];
    /* Job sequences far above anything the suite's SW_JOBS reaches. */
    unsigned long long job_seq = 4000000000ULL + (unsigned long long)(nats_Now() % 1000000000);
    unsigned long long seq = dead_letter(nc, job_seq, false);
    snprintf(seq_s, sizeof(seq_s), "%llu", job_seq);

    snprintf(args, sizeof(args), "dlq ls --limit 5");
    run_out r = swctl(args);
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "max deliveries reached (3)");
    run_free(&r);

    snprintf(args, sizeof(args), "dlq replay %llu", seq);
    r = swctl(args);
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "replayed_at set for SW_JOBS #");
    run_free(&r);
    const char *p[] = {seq_s};
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.dead_letters WHERE stream = 'SW_JOBS'"
                                 " AND stream_seq = $1::bigint AND replayed_at IS NOT NULL",
                                 1, p),
                     1);
    r = swctl(args);
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "already replayed");
    run_free(&r);

    /* The database alone also stops a second replay (a replay recorded by an older tool). */
    seq = dead_letter(nc, job_seq + 1, true);
    snprintf(args, sizeof(args), "dlq replay %llu", seq);
    r = swctl(args);
    assert_int_equal(r.rc, 1);
    assert_has(r.err, "public.dead_letters.replayed_at");
    run_free(&r);
    natsConnection_Destroy(nc);
}

/* Sw-Dlq-Subject is only a header of the stored message: a replay goes only to a job subject
 * that a consumer of SW_JOBS takes, and a probe job only to its own region. Everything else
 * is refused before anything is published (no job, no replay record). */
static void test_dlq_replay_refuses_other_subjects(void **state)
{
    static const struct {
        const char *subject, *body, *why;
    } cases[] = {
        {"sw.v1.auth.register", "{\"email\":\"x@example.test\"}", "not a job subject"},
        {"sw.v1.billing.webhook", "{}", "not a job subject"},
        {"sw.v1.jobs.probe.nowhere", "{\"region\":\"nowhere\"}", "no consumer of SW_JOBS"},
        {"sw.v1.jobs.probe.local.extra", "{}", "not a job subject"},
        {"sw.v1.jobs.probe.>", "{}", "not a job subject"},
        {"sw.v1.jobs.probe.local", "{\"region\":\"eu-west\"}", "another region"},
    };
    natsConnection *nc = it_nats();
    char args[128], prefix[64];
    unsigned long long job_seq = 5000000000ULL + (unsigned long long)(nats_Now() % 1000000000);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        natsSubscription *sub = NULL;
        unsigned long long seq =
            dead_letter_to(nc, job_seq + i, false, cases[i].subject, cases[i].body);
        /* Whatever the replay would publish there carries Nats-Msg-Id replay:<seq>:… */
        assert_int_equal(natsConnection_SubscribeSync(&sub, nc, cases[i].subject), NATS_OK);
        natsConnection_Flush(nc);
        snprintf(args, sizeof(args), "dlq replay %llu", seq);
        run_out r = swctl(args);
        if (r.rc != 1 || !strstr(r.err, "refusing to replay") || !strstr(r.err, cases[i].why))
            fail_msg("replay to %s: exit %d, stderr: %s", cases[i].subject, r.rc, r.err);
        run_free(&r);
        snprintf(prefix, sizeof(prefix), "replay:%llu:", seq);
        assert_int_equal(count_replays(sub, prefix, 500), 0);
        natsSubscription_Destroy(sub);
        /* No replay was claimed either. */
        snprintf(args, sizeof(args), "dlq show %llu", seq);
        r = swctl(args);
        assert_has(r.out, "Replayed: no");
        run_free(&r);
    }
    natsConnection_Destroy(nc);
}

static void test_tenants(void **state)
{
    char email[128], org[64], args[96];
    snprintf(org, sizeof(org), "Swctl Org %s", token);
    char *tenant = it_signup_verified(email, sizeof(email), org);
    const char *p[] = {tenant};
    /* Oldest first, 100 a page: the page this tenant is on. */
    long pos = it_sql_long("SELECT count(*) FROM public.tenants WHERE (created_at, id) <="
                           " (SELECT created_at, id FROM public.tenants WHERE id = $1)",
                           1, p);
    snprintf(args, sizeof(args), "tenants --page %ld", (pos - 1) / 100 + 1);
    run_out r = swctl(args);
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "ID");
    assert_has(r.out, "DOMAINS");
    char *line = strstr(r.out, tenant);
    assert_non_null(line);
    line[strcspn(line, "\n")] = '\0';
    assert_has(line, org);
    assert_has(line, " free ");
    assert_has(line, email);
    run_free(&r);
    free(tenant);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_and_help),
        cmocka_unit_test(test_micro),
        cmocka_unit_test(test_streams_and_consumers),
        cmocka_unit_test(test_sub_prints_like_nats_sub),
        cmocka_unit_test(test_req),
        cmocka_unit_test(test_dlq_from_a_malformed_job),
        cmocka_unit_test(test_dlq_replay_records_replayed_at),
        cmocka_unit_test(test_dlq_replay_refuses_other_subjects),
        cmocka_unit_test(test_tenants),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
