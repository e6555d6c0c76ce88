/* A remote probe region behind a leaf node: a second nats-server (no JetStream) on loopback
 * dials into the test stack as user prober_euw with ops/nats/leaf.conf.tmpl, a sw-prober for
 * region eu-west connects to it, and the hub's permissions decide what crosses the link. It
 * checks only eu-west jobs, its results are recorded, and it cannot pull another region's jobs
 * or call the API. */
#include "tests/support/it.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static int http_port, https_port, targets_pid;
static pid_t leaf_pid, prober_pid;
static int leaf_port;
static char leaf_pw[40] = "leaf-local-7c3e91";

static pid_t spawn(const char *log, char *const argv[], char *const env_extra[])
{
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(log, "a");
        if (f) {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        for (int i = 0; env_extra && env_extra[i]; i++)
            putenv(env_extra[i]);
        setpgid(0, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int setup(void **state)
{
    char hub_pw[128], conf[512], cmd[2048], log[512];
    targets_pid = it_targets_start(&http_port, &https_port);
    it_secret(hub_pw, sizeof(hub_pw), "NATS_PW_PROBER_EUW");
    leaf_port = atoi(getenv("SW_NATS_PORT")) + 3300;
    snprintf(conf, sizeof(conf), "%s/nats/leaf-euw.conf", getenv("SW_VAR"));
    /* Rendered exactly as an operator would, from the committed template. */
    snprintf(
        cmd, sizeof(cmd),
        "LEAF_PORT=%d LEAF_PROBER_PASSWORD=%s HUB_LEAF_URL=nats-leaf://prober_euw:%s@127.0.0.1:%s"
        " LEAF_TLS_CA=%s/ca.pem"
        " envsubst '${LEAF_PORT} ${LEAF_PROBER_PASSWORD} ${HUB_LEAF_URL} ${LEAF_TLS_CA}'"
        " < %s/ops/nats/leaf.conf.tmpl > %s && nats-server -t -c %s >/dev/null 2>&1",
        leaf_port, leaf_pw, hub_pw, getenv("SW_NATS_LEAF_PORT"), getenv("SW_NATS_TLS_DIR"),
        it_source_dir(), conf, conf);
    if (system(cmd) != 0)
        fail_msg("leaf config did not render or validate");
    snprintf(log, sizeof(log), "%s/log/nats-leaf-euw.log", getenv("SW_VAR"));
    char *nargv[] = {"nats-server", "-c", conf, NULL};
    leaf_pid = spawn(log, nargv, NULL);
    /* Wait until the hub lists the leaf connection. */
    snprintf(cmd, sizeof(cmd),
             "curl -sf http://127.0.0.1:%s/leafz | grep -q '\"account\": *\"SW\"'",
             getenv("SW_NATS_HTTP_PORT"));
    int i = 0;
    while (system(cmd) != 0 && i++ < 50)
        usleep(200 * 1000);
    if (i >= 50)
        fail_msg("the leaf node did not connect to the hub");

    static char e1[64], e2[160], e3[64], e4[96], e5[64], e6[64];
    snprintf(e1, sizeof(e1), "SW_REGION=eu-west");
    snprintf(e2, sizeof(e2), "NATS_URL=nats://127.0.0.1:%d", leaf_port);
    snprintf(e3, sizeof(e3), "SW_NATS_USER=prober");
    snprintf(e4, sizeof(e4), "SW_NATS_PASSWORD=%s", leaf_pw);
    snprintf(e5, sizeof(e5), "SW_NATS_INBOX_PREFIX=_INBOX_euw");
    snprintf(e6, sizeof(e6), "SW_JS_DOMAIN=hub");
    char *env[] = {e1, e2, e3, e4, e5, e6, NULL};
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/sw-prober", SW_BIN_DIR);
    char *pargv[] = {bin, NULL};
    snprintf(log, sizeof(log), "%s/log/prober-euw.log", getenv("SW_VAR"));
    prober_pid = spawn(log, pargv, env);
    return 0;
}

static int teardown(void **state)
{
    if (prober_pid > 0) {
        kill(prober_pid, SIGTERM);
        waitpid(prober_pid, NULL, 0);
    }
    if (leaf_pid > 0) {
        kill(leaf_pid, SIGTERM);
        waitpid(leaf_pid, NULL, 0);
    }
    it_targets_stop(targets_pid);
    return 0;
}

static const char *create(const char *access, const char *region, const char *path)
{
    static char id[64];
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", http_port, path);
    it_resp *r = it_auth("POST", "/api/endpoints/", access,
                         json_pack("{s:s,s:[s]}", "url", url, "regions", region));
    if (r->status != 201)
        fail_msg("create in %s: %ld %s", region, r->status, r->raw);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    return id;
}

static void test_remote_region_checks_its_own_jobs(void **state)
{
    char email[160], access[1024], euw[64], local[64];
    char *tid = it_signup_verified(email, sizeof(email), "Leaf Co");
    it_resp *r = it_login(email, IT_PASSWORD);
    snprintf(access, sizeof(access), "%s", json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    snprintf(euw, sizeof(euw), "%s", create(access, "eu-west", "/ok?r=euw"));
    snprintf(local, sizeof(local), "%s", create(access, "local", "/ok?r=local"));

    const char *pe[] = {euw}, *pl[] = {local};
    assert_true(it_wait_count("SELECT count(*) FROM public.check_history WHERE endpoint_id ="
                              " $1::uuid AND ok AND region = 'eu-west'",
                              1, pe, 1, 20000) >= 1);
    assert_true(it_wait_count("SELECT count(*) FROM public.check_history WHERE endpoint_id ="
                              " $1::uuid AND ok AND region = 'local'",
                              1, pl, 1, 20000) >= 1);
    /* Each region checked only its own. */
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.check_history WHERE endpoint_id ="
                                 " $1::uuid AND region <> 'eu-west'",
                                 1, pe),
                     0);
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.check_history WHERE endpoint_id ="
                                 " $1::uuid AND region <> 'local'",
                                 1, pl),
                     0);
    const char *pr[] = {euw};
    char path[128];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", pr[0]);
    for (int i = 0; i < 25; i++) {
        r = it_auth("GET", path, access, NULL);
        bool up = strcmp(json_string_value(json_object_get(r->body, "last_status")), "up") == 0;
        it_resp_free(r);
        if (up)
            break;
        usleep(200 * 1000);
    }
    r = it_auth("GET", path, access, NULL);
    assert_string_equal(json_string_value(json_object_get(r->body, "last_status")), "up");
    it_resp_free(r);
    free(tid);
}

/* A connection to the leaf node as its prober user (eu-west), as sw-prober makes it. */
static natsConnection *leaf_connect(void)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    char url[64];
    snprintf(url, sizeof(url), "nats://127.0.0.1:%d", leaf_port);
    natsOptions_Create(&o);
    natsOptions_SetURL(o, url);
    natsOptions_SetUserInfo(o, "prober", leaf_pw);
    natsOptions_SetCustomInboxPrefix(o, "_INBOX_euw");
    assert_int_equal(natsConnection_Connect(&nc, o), NATS_OK);
    natsOptions_Destroy(o);
    return nc;
}

static void test_leaf_user_is_refused_elsewhere(void **state)
{
    natsConnection *nc = leaf_connect();
    natsMsg *reply = NULL;

    /* Its own consumer answers through the link... */
    assert_int_equal(natsConnection_RequestString(
                         &reply, nc, "$JS.hub.API.CONSUMER.INFO.SW_JOBS.probers-eu-west", "", 3000),
                     NATS_OK);
    assert_null(strstr(natsMsg_GetData(reply), "\"error\""));
    natsMsg_Destroy(reply);
    reply = NULL;
    /* ...another region's does not, nor does the API, nor a forged job. */
    assert_int_not_equal(natsConnection_RequestString(
                             &reply, nc, "$JS.hub.API.CONSUMER.MSG.NEXT.SW_JOBS.probers-local",
                             "{\"batch\":1}", 1500),
                         NATS_OK);
    natsMsg_Destroy(reply);
    reply = NULL;
    assert_int_not_equal(
        natsConnection_RequestString(&reply, nc, "sw.v1.auth.register", "{}", 1500), NATS_OK);
    natsMsg_Destroy(reply);
    reply = NULL;
    assert_int_not_equal(natsConnection_RequestString(&reply, nc, "sw.v1.jobs.probe.local",
                                                      "{\"job_id\":\"forged\"}", 1500),
                         NATS_OK);
    natsMsg_Destroy(reply);
    reply = NULL;
    /* Only eu-west results may be published: a result for the home region goes nowhere. */
    assert_int_not_equal(
        natsConnection_RequestString(&reply, nc, "sw.v1.results.local.t_x", "{}", 1500), NATS_OK);
    natsMsg_Destroy(reply);
    natsConnection_Destroy(nc);
}

/* Publishes one result as the leaf region's prober user would, on subject. */
static void leaf_publish(natsConnection *nc, const char *subject, const char *job, const char *ep,
                         const char *tenant, const char *region)
{
    json_int_t now = (json_int_t)time(NULL);
    json_t *o =
        json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:b,s:b,s:b,s:i,s:s,s:f,s:i,s:i,s:i}", "job_id",
                  job, "attempt", 1, "tenant_id", tenant, "endpoint_id", ep, "region", region,
                  "due_epoch", now, "checked_at_ms", now * 1000, "ok", 0, "blocked", 0, "final", 1,
                  "http_status", 500, "error", "forged", "total_ms", 1.0, "failure_threshold", 1,
                  "recovery_threshold", 1, "regions_total", 1);
    char *text = json_dumps(o, JSON_COMPACT);
    assert_int_equal(natsConnection_PublishString(nc, subject, text), NATS_OK);
    free(text);
    json_decref(o);
}

/* Results are trusted from their subject: the leaf region's user may publish only on
 * sw.v1.results.eu-west.*, and the recorder refuses (and counts) a result for another
 * tenant's endpoint, for an endpoint not scheduled in eu-west, or whose payload claims another
 * region; the thresholds a result carries change nothing. An honest one is recorded. */
static void test_forged_results_are_refused(void **state)
{
    char email[160], access[1024], a_euw[64], a_local[64], subject[160], job[4][160];
    char *ta = it_signup_verified(email, sizeof(email), "Victim Co");
    it_resp *r = it_login(email, IT_PASSWORD);
    snprintf(access, sizeof(access), "%s", json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    snprintf(a_euw, sizeof(a_euw), "%s", create(access, "eu-west", "/ok?r=forge-euw"));
    snprintf(a_local, sizeof(a_local), "%s", create(access, "local", "/ok?r=forge-local"));
    char *tb = it_signup_verified(email, sizeof(email), "Forger Co");
    const char *pa[] = {a_euw};
    assert_true(it_wait_count("SELECT count(*) FROM public.check_history WHERE endpoint_id ="
                              " $1::uuid AND ok",
                              1, pa, 1, 20000) >= 1);
    long refused_before = it_worker_counter("sw-recorder", "results_refused");
    for (int i = 0; i < 4; i++)
        snprintf(job[i], sizeof(job[i]), "forged-%d-%lld", i, (long long)time(NULL));

    natsConnection *nc = leaf_connect();
    /* 1. Victim's eu-west endpoint, published as the forger's tenant. */
    snprintf(subject, sizeof(subject), "sw.v1.results.eu-west.%s", tb);
    leaf_publish(nc, subject, job[0], a_euw, tb, "eu-west");
    /* 2. Victim's local-only endpoint, from eu-west. */
    snprintf(subject, sizeof(subject), "sw.v1.results.eu-west.%s", ta);
    leaf_publish(nc, subject, job[1], a_local, ta, "eu-west");
    /* 3. The same, its payload claiming to be the local region. */
    leaf_publish(nc, subject, job[2], a_local, ta, "local");
    /* 4. An honest eu-west result for the eu-west endpoint: recorded. */
    leaf_publish(nc, subject, job[3], a_euw, ta, "eu-west");
    assert_int_equal(natsConnection_FlushTimeout(nc, 3000), NATS_OK);
    natsConnection_Destroy(nc);

    const char *p3[] = {job[3]};
    assert_int_equal(it_wait_count("SELECT count(*) FROM public.check_history WHERE job_id = $1", 1,
                                   p3, 1, 20000),
                     1);
    long refused = refused_before;
    for (int i = 0; i < 100 && refused < refused_before + 3; i++) {
        refused = it_worker_counter("sw-recorder", "results_refused");
        if (refused < refused_before + 3)
            usleep(100 * 1000);
    }
    assert_int_equal(refused - refused_before, 3);
    for (int i = 0; i < 3; i++) {
        const char *pj[] = {job[i]};
        assert_int_equal(
            it_sql_long("SELECT count(*) FROM public.check_history WHERE job_id = $1", 1, pj), 0);
    }
    /* Nothing was recorded under the forger's tenant, and the honest failure did not take the
     * endpoint down with the threshold of 1 its payload claimed (the endpoint's own is 3). */
    const char *pt[] = {tb};
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.check_history WHERE tenant_id = $1", 1, pt), 0);
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.endpoint_state WHERE endpoint_id ="
                                 " $1::uuid AND status = 'down'",
                                 1, pa),
                     0);
    /* And the recorder said so in its log. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "grep -c 'result refused' %s/log/recorder.log | grep -qv '^0$'",
             getenv("SW_VAR"));
    assert_int_equal(system(cmd), 0);
    free(ta);
    free(tb);
}

/* The monitor JSON of a nats-server (owned), or NULL. */
static json_t *monitor(const char *mon_port, const char *path)
{
    char cmd[256], buf[65536];
    snprintf(cmd, sizeof(cmd), "curl -sf --max-time 5 http://127.0.0.1:%s%s", mon_port, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    pclose(p);
    buf[n] = '\0';
    return json_loads(buf, 0, NULL);
}

/* The leaf link crosses networks: the hub's leaf port takes TLS only, so the connected leaf
 * (setup waited for it) speaks TLS, verified against the instance's NATS CA. */
static void test_leaf_link_is_tls(void **state)
{
    json_t *varz = monitor(getenv("SW_NATS_HTTP_PORT"), "/varz");
    assert_non_null(varz);
    json_t *leaf = json_object_get(varz, "leaf");
    assert_true(json_is_true(json_object_get(leaf, "tls_required")));
    json_decref(varz);
    json_t *leafz = monitor(getenv("SW_NATS_HTTP_PORT"), "/leafz");
    assert_non_null(leafz);
    assert_true(json_integer_value(json_object_get(leafz, "leafnodes")) >= 1);
    json_decref(leafz);

    /* A leaf without the tls block (so without the instance's CA) does not get in either:
     * the hub demands TLS, the leaf cannot verify it, and no link comes up. */
    char conf[512], cmd[2048], log[512];
    snprintf(conf, sizeof(conf), "%s/nats/leaf-plain.conf", getenv("SW_VAR"));
    snprintf(log, sizeof(log), "%s/log/nats-leaf-plain.log", getenv("SW_VAR"));
    snprintf(cmd, sizeof(cmd),
             "sed -e '/tls {/d' -e 's/^server_name: .*/server_name: \"statuswatch-leaf-plain\"/'"
             " -e 's/127.0.0.1:%d\"/127.0.0.1:%d\"/' %s/nats/leaf-euw.conf > %s",
             leaf_port, leaf_port + 1, getenv("SW_VAR"), conf);
    assert_int_equal(system(cmd), 0);
    char *nargv[] = {"nats-server", "-c", conf, NULL};
    pid_t plain = spawn(log, nargv, NULL);
    /* Until its handshake has failed at least once (its log says so). */
    snprintf(cmd, sizeof(cmd), "grep -qi 'tls' %s", log);
    int i = 0;
    while (system(cmd) != 0 && i++ < 50)
        usleep(200 * 1000);
    kill(plain, SIGTERM);
    waitpid(plain, NULL, 0);
    if (i >= 50)
        fail_msg("the plain leaf logged no TLS refusal; see %s", log);
    leafz = monitor(getenv("SW_NATS_HTTP_PORT"), "/leafz");
    assert_non_null(leafz);
    json_t *list = json_object_get(leafz, "leafs");
    for (size_t k = 0; k < json_array_size(list); k++) {
        const char *name = json_string_value(json_object_get(json_array_get(list, k), "name"));
        if (name && strcmp(name, "statuswatch-leaf-plain") == 0)
            fail_msg("a leaf without TLS was accepted by the hub");
    }
    json_decref(leafz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_link_is_tls),
        cmocka_unit_test(test_remote_region_checks_its_own_jobs),
        cmocka_unit_test(test_leaf_user_is_refused_elsewhere),
        cmocka_unit_test(test_forged_results_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
