/* The prober's job loop: pull, check, publish the result, then ack (or nak with a delay to
 * retry). A job is acked only after its result's PubAck says it is stored in SW_RESULTS, so a
 * prober killed at any point loses nothing: unacked jobs come back to another prober. One
 * thread does it all without blocking: the pull request stays open at the server, curl's
 * multi handle runs the checks, and PubAcks are collected as they arrive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "actors/common/url_policy.h"
#include "actors/prober/probe.h"
#include "actors/prober/prober.h"
#include "bus/config.h"
#include "bus/ids.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"

#define SEC_NS 1000000000LL

typedef struct job {
    natsMsg *msg;
    json_t *payload;
    bus_probe_job job; /* decoded from payload, its strings borrowed from it */
    int attempt;
    int64_t started_ns;
    bool extended; /* InProgress sent once for a long check */
    bool ok;       /* the check's outcome, kept while its result awaits the PubAck */
    struct job *next, *prev;
} job;

typedef struct prober {
    bus_actor *actor;
    url_policy *policy;
    char region[64];
    int concurrency;
    int64_t retry_base_ms;
    probe_engine *engine;
    bus_apub *results; /* results published, PubAck not yet seen */
    job inflight;      /* list head: jobs being checked */
    seal_key *seal;    /* SW_SEAL_KEY: opens the request headers of checks; NULL when unset */
} prober;

static void list_add(job *head, job *j)
{
    j->next = head->next;
    j->prev = head;
    head->next->prev = j;
    head->next = j;
}

static void list_del(job *j)
{
    j->prev->next = j->next;
    j->next->prev = j->prev;
}

static void job_free(job *j)
{
    natsMsg_Destroy(j->msg);
    json_decref(j->payload);
    free(j);
}

/* A job that can never be checked: record it in the DLQ ourselves, then terminate it (on a
 * WorkQueue stream Term deletes the message, so the dead-letter actor could not fetch it). */
static void poison(prober *p, natsMsg *m, const char *why)
{
    natsMsg *dl = NULL;
    jsErrCode jerr = 0;
    uint64_t seq = 0;
    char id[64];
    bus_msg_meta(m, NULL, &seq);
    snprintf(id, sizeof(id), BUS_ID_DLQ_FMT, BUS_STREAM_JOBS, (unsigned long long)seq);
    if (natsMsg_Create(&dl, BUS_SUBJ_DLQ_JOBS, NULL, natsMsg_GetData(m),
                       natsMsg_GetDataLength(m)) == NATS_OK) {
        natsMsgHeader_Set(dl, BUS_H_MSG_ID, id);
        natsMsgHeader_Set(dl, BUS_H_DLQ_REASON, why);
        natsMsgHeader_Set(dl, BUS_H_DLQ_SUBJECT, natsMsg_GetSubject(m));
        js_PublishMsg(NULL, bus_actor_js(p->actor), dl, NULL, &jerr);
    }
    natsMsg_Destroy(dl);
    sw_log(SW_LOG_ERROR, "malformed probe job dead-lettered", "reason", why, NULL);
    bus_msg_term(bus_actor_conn(p->actor), m);
}

/* Publishes the result; the job is acked or retried when its PubAck comes (result_stored). */
static sw_status publish_result(prober *p, job *j, const probe_result *r)
{
    char subject[BUS_SUBJECT_MAX], msg_id[BUS_JOB_ID_MAX + 16];
    bus_probe_result res = {
        .job_id = j->job.job_id,
        .endpoint_id = j->job.endpoint_id,
        .due_epoch = j->job.due_epoch,
        .attempt = j->attempt,
        .checked_at_ms = sw_epoch_ms(),
        .ok = r->ok,
        .blocked = r->blocked,
        .final = r->ok || j->attempt >= BUS_PROBE_MAX_DELIVER,
        .http_status = r->http_status,
        .error = r->error,
        .dns_ms = r->dns_ms,
        .connect_ms = r->connect_ms,
        .tls_ms = r->tls_ms,
        .ttfb_ms = r->ttfb_ms,
        .total_ms = r->total_ms,
        .tls_expires_at = r->tls_expires_at,
        .tls_issuer = r->tls_issuer,
        .tls_subject = r->tls_subject,
    };
    snprintf(res.tenant_id, sizeof(res.tenant_id), "%s", j->job.tenant_id);
    snprintf(res.region, sizeof(res.region), "%s", p->region);
    snprintf(msg_id, sizeof(msg_id), BUS_ID_RESULT_FMT, res.job_id, res.attempt);
    if (!bus_subject_result(subject, sizeof(subject), p->region, res.tenant_id))
        return SW_EINTERNAL;
    json_t *o = bus_probe_result_encode(&res);
    if (!o)
        return SW_EINTERNAL;
    sw_status st = bus_apub_publish(p->results, subject, o, msg_id, j);
    json_decref(o);
    return st;
}

/* Upper bounds (ms) of the check duration buckets counted in $SRV.STATS; the edge's /metrics
 * turns them into the sw_check_duration_seconds histogram. */
static const int duration_le_ms[] = {BUS_CHECK_MS_BUCKETS};

/* Every attempt counts once, as the recorder stores it: ok, blocked (URL policy) or fail. */
static void count_check(prober *p, const probe_result *r)
{
    char name[40];
    size_t i = 0;
    bus_actor_count(p->actor,
                    r->ok        ? "checks_ok"
                    : r->blocked ? "checks_blocked"
                                 : "checks_fail",
                    1);
    while (i < sizeof(duration_le_ms) / sizeof(duration_le_ms[0]) &&
           r->total_ms > duration_le_ms[i])
        i++;
    if (i < sizeof(duration_le_ms) / sizeof(duration_le_ms[0]))
        snprintf(name, sizeof(name), BUS_CHECK_MS_COUNTER_FMT, duration_le_ms[i]);
    else
        snprintf(name, sizeof(name), BUS_CHECK_MS_COUNTER_INF);
    bus_actor_count(p->actor, name, 1);
    bus_actor_count(p->actor, BUS_CHECK_MS_COUNTER_SUM, (int64_t)(r->total_ms + 0.5));
}

/* The result's PubAck (or its failure) decides what happens to the job. */
static void result_stored(void *tag, sw_status st, void *arg)
{
    prober *p = arg;
    job *j = tag;
    natsConnection *nc = bus_actor_conn(p->actor);
    if (st != SW_OK) {
        /* Not recorded: the job must come back. */
        bus_msg_nak(nc, j->msg, 1000);
    } else if (j->ok) {
        bus_msg_ack(nc, j->msg);
    } else if (j->attempt >= BUS_PROBE_MAX_DELIVER) {
        bus_msg_nak(nc, j->msg, 0); /* past MaxDeliver: JetStream dead-letters it */
    } else {
        int64_t delay = p->retry_base_ms;
        for (int i = 1; i < j->attempt; i++)
            delay *= BUS_PROBE_RETRY_FACTOR;
        bus_msg_nak(nc, j->msg, delay);
    }
    job_free(j);
}

static void on_done(void *arg_job, const probe_result *r, void *arg)
{
    prober *p = arg;
    job *j = arg_job;
    list_del(j);
    count_check(p, r);
    j->ok = r->ok;
    if (publish_result(p, j, r) != SW_OK) {
        bus_msg_nak(bus_actor_conn(p->actor), j->msg, 1000);
        job_free(j);
    }
}

static void start_job(prober *p, natsMsg *m)
{
    uint64_t delivered = 1;
    json_t *pl = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    bus_probe_job decoded;
    if (bus_probe_job_decode(&decoded, pl) != SW_OK || !sw_tenant_id_valid(decoded.tenant_id)) {
        json_decref(pl);
        poison(p, m, "malformed job");
        natsMsg_Destroy(m);
        return;
    }
    job *j = calloc(1, sizeof(*j));
    if (!j) {
        json_decref(pl);
        bus_msg_nak(bus_actor_conn(p->actor), m, 1000);
        natsMsg_Destroy(m);
        return;
    }
    bus_msg_meta(m, &delivered, NULL);
    j->msg = m;
    j->payload = pl;
    j->job = decoded;
    j->attempt = delivered > 0 && delivered < 1000 ? (int)delivered : 1;
    j->started_ns = sw_now_ns();
    list_add(&p->inflight, j);
    if (!probe_engine_add(p->engine, j->job.url, j->job.timeout_seconds, j->job.expected_status,
                          j->job.check, j)) {
        list_del(j);
        bus_msg_nak(bus_actor_conn(p->actor), m, 1000);
        job_free(j);
    }
}

/* Long checks keep their lease: AckWait is 30 s, a check may take up to 60 s. Looked at
 * once a second, not on every turn of the loop. */
static void extend_leases(prober *p)
{
    static __thread int64_t last;
    int64_t now = sw_now_ns();
    if (now - last < SEC_NS)
        return;
    last = now;
    for (job *j = p->inflight.next; j != &p->inflight; j = j->next) {
        if (!j->extended && now - j->started_ns > BUS_PROBE_EXTEND_S * SEC_NS) {
            bus_msg_in_progress(bus_actor_conn(p->actor), j->msg);
            j->extended = true;
        }
    }
}

void prober_consumer(void *app, char *out, size_t len)
{
    prober *p = app;
    bus_consumer_probers(out, len, p->region);
}

static int held(const prober *p)
{
    return probe_engine_inflight(p->engine) + bus_apub_pending(p->results);
}

/* Take jobs up to the free capacity, but ask the server for more only when a worthwhile share
 * of it is free, not one at a time; wait for the first only when idle. Nothing once stopping. */
void prober_plan(void *app, bool stopping, bus_take *t)
{
    prober *p = app;
    int h = held(p);
    int min_ask = p->concurrency / 8 > 1 ? p->concurrency / 8 : 1;
    t->room = stopping ? 0 : p->concurrency - h;
    t->ask = t->room >= min_ask || h == 0 ? t->room : 0;
    t->wait_ms = h == 0 ? 500 : 0;
}

void prober_turn(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    prober *p = app;
    (void)a;
    for (int i = 0; i < n; i++)
        start_job(p, msgs[i]);
    probe_engine_run(p->engine, 20);
    bus_apub_poll(p->results, 0, result_stored, p);
    extend_leases(p);
}

/* Stopping: the checks in flight are finished and acked first. */
bool prober_busy(void *app)
{
    return held(app) > 0;
}

/* Its subscription goes before the runtime drains the connection, which would otherwise wait
 * for PubAcks nobody reads any more. */
void prober_done(void *app)
{
    prober *p = app;
    bus_apub_free(p->results);
    p->results = NULL;
}

void *prober_app_init(bus_actor *a, sw_status *err)
{
    char why[200], inbox[96];
    prober *p = calloc(1, sizeof(*p));
    if (!p) {
        *err = SW_EINTERNAL;
        return NULL;
    }
    p->actor = a;
    p->inflight.next = p->inflight.prev = &p->inflight;
    snprintf(p->region, sizeof(p->region), "%s", sw_config_str("SW_REGION", "local"));
    p->concurrency = (int)sw_config_long("SW_PROBE_CONCURRENCY", 256, 1, 10000, NULL);
    p->retry_base_ms =
        sw_config_long("SW_PROBE_RETRY_MS", BUS_PROBE_RETRY_BASE_MS, 10, 600000, NULL);
    const char *allow = sw_config_str("SW_PROBE_ALLOW_CIDRS", "");
    if (url_policy_new(&p->policy, allow, sw_config_is_production(), why, sizeof(why)) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_PROBE_ALLOW_CIDRS", "reason", why,
               NULL);
        free(p);
        *err = SW_EINVAL;
        return NULL;
    }
    if (url_policy_has_allowlist(p->policy))
        sw_log(SW_LOG_WARN,
               "SSRF ALLOW-LIST ACTIVE: probes may reach these private addresses (tests only)",
               "setting", "SW_PROBE_ALLOW_CIDRS", "value", allow, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bus_inbox_prefix(inbox, sizeof(inbox));
    if (bus_apub_new(&p->results, bus_actor_conn(a), inbox, 5000) != SW_OK) {
        url_policy_free(p->policy);
        free(p);
        *err = SW_EUNAVAILABLE;
        return NULL;
    }
    p->engine = probe_engine_new(p->concurrency, p->policy, on_done, p);
    if (p->engine && sw_config_bool("SW_PROBE_SANDBOX", false)) {
        if (sw_config_is_production()) {
            sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_PROBE_SANDBOX", "reason",
                   "the test sandbox is not for production", NULL);
            probe_engine_free(p->engine);
            bus_apub_free(p->results);
            url_policy_free(p->policy);
            free(p);
            *err = SW_EINVAL;
            return NULL;
        }
        probe_engine_sandbox(p->engine, true);
        sw_log(SW_LOG_WARN, "probe sandbox: only loopback addresses are contacted", NULL);
    }
    const char *ca_file = sw_config_str("SW_PROBE_CA_FILE", "");
    if (p->engine && *ca_file) {
        if (sw_config_is_production()) {
            sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_PROBE_CA_FILE", "reason",
                   "a test CA is not for production", NULL);
            probe_engine_free(p->engine);
            bus_apub_free(p->results);
            url_policy_free(p->policy);
            free(p);
            *err = SW_EINVAL;
            return NULL;
        }
        probe_engine_ca_file(p->engine, ca_file); /* getenv's string lives as long as we do */
        sw_log(SW_LOG_WARN, "probe trust: servers are verified against a test CA file", "path",
               ca_file, NULL);
    }
    const char *seal = sw_config_str("SW_SEAL_KEY", "");
    if (p->engine && *seal && seal_key_new(&p->seal, seal) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_SEAL_KEY", "reason",
               "expected 64 hex digits", NULL);
        probe_engine_free(p->engine);
        bus_apub_free(p->results);
        url_policy_free(p->policy);
        free(p);
        *err = SW_EINVAL;
        return NULL;
    }
    if (!p->engine) {
        probe_engine_free(p->engine);
        bus_apub_free(p->results);
        url_policy_free(p->policy);
        free(p);
        *err = SW_EINTERNAL;
        return NULL;
    }
    probe_engine_seal_key(p->engine, p->seal);
    return p;
}

void prober_app_free(void *arg)
{
    prober *p = arg;
    if (!p)
        return;
    probe_engine_free(p->engine);
    bus_apub_free(p->results);
    url_policy_free(p->policy);
    seal_key_free(p->seal);
    free(p);
    curl_global_cleanup();
}
