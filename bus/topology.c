/* Streams and consumers. Subjects, retention and limits follow DESIGN §3. */
#include "bus/topology.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bus/contract.h"
#include "bus/log.h"
#include "bus/messages.h"

#define SEC 1000000000LL

typedef struct stream_def {
    const char *name;
    const char *subjects[2];
    jsRetentionPolicy retention;
    int64_t max_age; /* ns; 0 = unlimited */
    int64_t max_per_subject; /* messages kept per subject; 0 = unlimited */
} stream_def;

static const stream_def streams[] = {
    {BUS_STREAM_JOBS, {BUS_SUBJ_JOBS}, js_WorkQueuePolicy, 0, 0},
    {BUS_STREAM_RESULTS, {BUS_SUBJ_RESULTS}, js_WorkQueuePolicy, 0, 0},
    {BUS_STREAM_EVENTS, {BUS_SUBJ_EVENTS}, js_LimitsPolicy, BUS_EVENTS_MAX_AGE_S *SEC, 0},
    {BUS_STREAM_DLQ, {BUS_SUBJ_DLQ}, js_LimitsPolicy, BUS_DLQ_MAX_AGE_S *SEC, 0},
    /* Revoked sessions (bus/revocation.h): kept as long as an access token lives. */
    {"SW_REVOKED", {"sw.v1.revoked.>"}, js_LimitsPolicy, (900 + 60) * SEC, 0},
    /* Heartbeat pings for the recorder; ping keys for the edge, the last one of each key. */
    {BUS_STREAM_PINGS, {BUS_SUBJ_PINGS}, js_WorkQueuePolicy, 0, 0},
    {BUS_STREAM_PING_KEYS, {BUS_SUBJ_PING_KEYS}, js_LimitsPolicy, 0, 1},
    /* API tokens (bus/apitoken.h): the last record of each token, as long as it exists. */
    {BUS_STREAM_API_TOKENS, {BUS_SUBJ_API_TOKENS}, js_LimitsPolicy, 0, 1},
    {BUS_STREAM_ADVISORIES,
     {BUS_SUBJ_ADVISORY_MAX_DELIVERIES, BUS_SUBJ_ADVISORY_TERMINATED},
     js_LimitsPolicy,
     BUS_DLQ_MAX_AGE_S *SEC,
     0},
};

static int is_not_ready(natsStatus s, jsErrCode jerr)
{
    /* At boot a cluster answers "temporarily unavailable" (10008) until its meta leader is
     * elected; a single node may not have JetStream up yet (no responders, timeout). */
    return s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT || s == NATS_NOT_YET_CONNECTED ||
           s == NATS_CONNECTION_DISCONNECTED || jerr == 10008 ||
           jerr == 10005; /* a new cluster: "no suitable peers" until every node has joined */
}

static sw_status apply_stream(jsCtx *js, const stream_def *d, int replicas, int wait_ms)
{
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    int n = d->subjects[1] ? 2 : 1;

    jsStreamConfig_Init(&sc);
    sc.Name = d->name;
    sc.Subjects = (const char **)d->subjects;
    sc.SubjectsLen = n;
    sc.Retention = d->retention;
    sc.Storage = js_FileStorage;
    sc.Replicas = replicas;
    sc.MaxAge = d->max_age;
    if (d->max_per_subject > 0)
        sc.MaxMsgsPerSubject = d->max_per_subject;
    sc.Duplicates =
        BUS_DUPLICATE_WINDOW_S * SEC; /* the window in which a repeated Nats-Msg-Id is dropped */
    for (int waited = 0;; waited += 250) {
        jerr = 0;
        s = js_AddStream(&si, js, &sc, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr)
            s = js_UpdateStream(&si, js, &sc, NULL, &jerr);
        if (s == NATS_OK || !is_not_ready(s, jerr) || waited >= wait_ms)
            break;
        nats_Sleep(250);
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        char code[16];
        snprintf(code, sizeof(code), "%d", (int)jerr);
        sw_log(SW_LOG_ERROR, "stream set-up failed", "stream", d->name, "error",
               natsStatus_GetText(s), "js_code", code, NULL);
        return SW_EUNAVAILABLE;
    }
    return SW_OK;
}

static sw_status apply_consumer(jsCtx *js, const char *stream, jsConsumerConfig *cc)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddConsumer(&ci, js, stream, cc, NULL, &jerr);
    if (s != NATS_OK && (jerr == JSConsumerNameExistErr || jerr == 10148 /* exists, differs */))
        s = js_UpdateConsumer(&ci, js, stream, cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        char code[16];
        snprintf(code, sizeof(code), "%d", (int)jerr);
        sw_log(SW_LOG_ERROR, "consumer set-up failed", "consumer", cc->Durable, "error",
               natsStatus_GetText(s), "js_code", code, NULL);
        return SW_EUNAVAILABLE;
    }
    return SW_OK;
}

/* A durable pull consumer (explicit acks); 0 leaves a limit at the server's default. */
typedef struct consumer_def {
    const char *stream;
    const char *durable;
    const char *filter; /* NULL: the whole stream */
    int ack_wait_s;
    int max_deliver;
    int max_ack_pending;
    bool new_only; /* DeliverNew: a consumer added later must not replay the stream's past */
} consumer_def;

static const consumer_def consumers[] = {
    /* Mail: the notify actor naks with its own growing delay when SMTP fails; AckWait only
     * covers a mailer that died mid-send. */
    {BUS_STREAM_JOBS, BUS_CONSUMER_MAILER, BUS_SUBJ_MAIL_JOB, BUS_MAIL_ACK_WAIT_S,
     BUS_MAIL_MAX_DELIVER, BUS_MAIL_MAX_ACK_PENDING, false},
    /* Results: the recorder writes batches; a failed batch is nak'd and comes back. */
    {BUS_STREAM_RESULTS, BUS_CONSUMER_RECORDER, NULL, BUS_RESULT_ACK_WAIT_S, 0,
     BUS_RESULT_MAX_ACK_PENDING, false},
    /* Heartbeat pings: the recorder stores them in batches; a failed batch comes back. */
    {BUS_STREAM_PINGS, BUS_CONSUMER_RECORDER_PINGS, NULL, BUS_PING_ACK_WAIT_S, 0,
     BUS_PING_MAX_ACK_PENDING, false},
    /* Advisories: every max-delivery / terminate advisory of SW_JOBS waits here for the
     * dead-letter actor, even while it is down. */
    {BUS_STREAM_ADVISORIES, BUS_CONSUMER_DEADLETTER, NULL, BUS_DEADLETTER_ACK_WAIT_S, 0, 0, false},
    /* Plan changes for sw-endpoints (any tenant); the handler reads the tenant's plan as it
     * stands, so a redelivery, or history replayed to a new consumer, changes nothing. */
    {BUS_STREAM_EVENTS, BUS_CONSUMER_ENDPOINTS_PLAN, BUS_SUBJ_EVT_PLAN_CHANGED, BUS_PLAN_ACK_WAIT_S,
     0, 0, false},
    /* Outages for sw-auth, which mails the owner: never past incidents again. */
    {BUS_STREAM_EVENTS, BUS_CONSUMER_AUTH_ALERTS, BUS_SUBJ_EVT_ENDPOINT, BUS_ALERT_ACK_WAIT_S, 0, 0,
     true},
    /* Certificates nearing expiry for sw-auth, which mails the owner once per threshold. */
    {BUS_STREAM_EVENTS, BUS_CONSUMER_AUTH_TLS, BUS_SUBJ_EVT_TLS_EXPIRING, BUS_ALERT_ACK_WAIT_S, 0,
     0, true},
    /* Every event for sw-auth's audit log (those with an "audit" object are written, once
     * each); only new ones: events published before the consumer existed carry no actor. */
    {BUS_STREAM_EVENTS, BUS_CONSUMER_AUTH_AUDIT, BUS_SUBJ_EVENTS, BUS_AUDIT_ACK_WAIT_S, 0, 0, true},
    /* Alerting: endpoint events for sw-notify (never past incidents again), and its delivery
     * jobs, which it naks with its own back-off (BUS_DELIVERY_BACKOFF_S). */
    {BUS_STREAM_EVENTS, BUS_CONSUMER_NOTIFY_ALERTS, BUS_SUBJ_EVT_ENDPOINT, BUS_ALERT_ACK_WAIT_S, 0,
     0, true},
    {BUS_STREAM_EVENTS, BUS_CONSUMER_NOTIFY_TLS, BUS_SUBJ_EVT_TLS_EXPIRING, BUS_ALERT_ACK_WAIT_S,
     0, 0, true},
    {BUS_STREAM_JOBS, BUS_CONSUMER_DELIVERER, BUS_SUBJ_DELIVER_JOBS, BUS_DELIVERY_ACK_WAIT_S,
     BUS_DELIVERY_MAX_DELIVER, BUS_DELIVERY_MAX_ACK_PENDING, false},
    /* Deleted endpoints for the recorder, which owns their state rows. */
    {BUS_STREAM_EVENTS, BUS_CONSUMER_RECORDER_DELETES, BUS_SUBJ_EVT_ENDPOINT_DELETED,
     BUS_ALERT_ACK_WAIT_S, 0, 0, false},
};

static sw_status apply_consumer_def(jsCtx *js, const consumer_def *d, int replicas)
{
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = d->durable;
    cc.FilterSubject = d->filter;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)d->ack_wait_s * SEC;
    if (d->max_deliver)
        cc.MaxDeliver = d->max_deliver;
    if (d->max_ack_pending)
        cc.MaxAckPending = d->max_ack_pending;
    if (d->new_only)
        cc.DeliverPolicy = js_DeliverNew;
    cc.Replicas = replicas;
    return apply_consumer(js, d->stream, &cc);
}

sw_status bus_topology_apply(jsCtx *js, const char *regions, int replicas, int wait_ms)
{
    char buf[512], durable[96], filter[128];
    sw_status st;

    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        st = apply_stream(js, &streams[i], replicas, wait_ms);
        if (st != SW_OK)
            return st;
    }
    for (size_t i = 0; i < sizeof(consumers) / sizeof(consumers[0]); i++) {
        st = apply_consumer_def(js, &consumers[i], replicas);
        if (st != SW_OK)
            return st;
    }

    /* One durable per probe region: WorkQueue streams need non-overlapping filters, and every
     * prober process of a region pulls from the same consumer. */
    snprintf(buf, sizeof(buf), "%s", regions && *regions ? regions : "local");
    char *save = NULL;
    for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        if (!bus_consumer_probers(durable, sizeof(durable), r) ||
            !bus_subject_probe_job(filter, sizeof(filter), r))
            return SW_EINVAL;
        /* Failed checks are retried by the prober's nak-with-delay (5 s, 15 s). No consumer
         * BackOff: with one, nats-server 2.9.10 ignored a second NakWithDelay and redelivered
         * only after the ack wait (measured: attempt 3 came 30 s late). AckWait alone covers a
         * prober that died; long checks extend it with InProgress. */
        consumer_def d = {.stream = BUS_STREAM_JOBS,
                          .durable = durable,
                          .filter = filter,
                          .ack_wait_s = BUS_PROBE_ACK_WAIT_S,
                          .max_deliver = BUS_PROBE_MAX_DELIVER,
                          .max_ack_pending = BUS_PROBE_MAX_ACK_PENDING};
        st = apply_consumer_def(js, &d, replicas);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

sw_status bus_topology_check(jsCtx *js, int wait_ms, char *missing, size_t len)
{
    jsStreamNamesList *names = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    size_t used = 0;
    sw_status st = SW_OK;

    missing[0] = '\0';
    jsOptions_Init(&o);
    o.Wait = wait_ms;
    /* One request for all the names, so the check costs one round trip whatever the count. */
    natsStatus s = js_StreamNames(&names, js, &o, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND) {
        snprintf(missing, len, "JetStream not answering");
        return s == NATS_TIMEOUT ? SW_ETIMEOUT : SW_EUNAVAILABLE;
    }
    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        bool found = false;
        for (int k = 0; names && k < names->Count && !found; k++)
            found = strcmp(names->List[k], streams[i].name) == 0;
        if (found)
            continue;
        int n = snprintf(missing + used, len - used, "%s%s", used ? "," : "", streams[i].name);
        if (n > 0 && (size_t)n < len - used)
            used += (size_t)n;
        st = SW_ENOTFOUND;
    }
    jsStreamNamesList_Destroy(names);
    return st;
}
