/* Streams and consumers. Subjects, retention and limits follow DESIGN §3. */
#include "bus/topology.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bus/log.h"

#define SEC 1000000000LL

typedef struct stream_def {
    const char *name;
    const char *subjects[2];
    jsRetentionPolicy retention;
    int64_t max_age; /* ns; 0 = unlimited */
} stream_def;

static const stream_def streams[] = {
    {"SW_JOBS", {"sw.v1.jobs.>"}, js_WorkQueuePolicy, 0},
    {"SW_RESULTS", {"sw.v1.results.>"}, js_WorkQueuePolicy, 0},
    {"SW_EVENTS", {"sw.v1.evt.>"}, js_LimitsPolicy, 7 * 86400 * SEC},
    {"SW_DLQ", {"sw.v1.dlq.>"}, js_LimitsPolicy, 30 * 86400 * SEC},
    {"SW_ADVISORIES",
     {"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.SW_JOBS.>",
      "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.SW_JOBS.>"},
     js_LimitsPolicy,
     30 * 86400 * SEC},
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
    sc.Duplicates = 120 * SEC; /* the window in which a repeated Nats-Msg-Id is dropped */
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

sw_status bus_topology_apply(jsCtx *js, const char *regions, int replicas, int wait_ms)
{
    jsConsumerConfig cc;
    char buf[512], durable[96], filter[128];
    sw_status st;

    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        st = apply_stream(js, &streams[i], replicas, wait_ms);
        if (st != SW_OK)
            return st;
    }

    /* Mail: the notify actor naks with its own growing delay when SMTP fails; AckWait only
     * covers a mailer that died mid-send. */
    jsConsumerConfig_Init(&cc);
    cc.Durable = "mailer";
    cc.FilterSubject = "sw.v1.jobs.mail";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 60 * SEC;
    cc.MaxDeliver = 20;
    cc.MaxAckPending = 256;
    cc.Replicas = replicas;
    st = apply_consumer(js, "SW_JOBS", &cc);
    if (st != SW_OK)
        return st;

    /* Results: the recorder writes batches; a failed batch is nak'd and comes back. */
    jsConsumerConfig_Init(&cc);
    cc.Durable = "recorder";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 60 * SEC;
    cc.MaxAckPending = 20000;
    cc.Replicas = replicas;
    st = apply_consumer(js, "SW_RESULTS", &cc);
    if (st != SW_OK)
        return st;

    /* Advisories: every max-delivery / terminate advisory of SW_JOBS waits here for the
     * dead-letter actor, even while it is down. */
    jsConsumerConfig_Init(&cc);
    cc.Durable = "deadletter";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 60 * SEC;
    cc.Replicas = replicas;
    st = apply_consumer(js, "SW_ADVISORIES", &cc);
    if (st != SW_OK)
        return st;

    /* One durable per probe region: WorkQueue streams need non-overlapping filters, and every
     * prober process of a region pulls from the same consumer. */
    snprintf(buf, sizeof(buf), "%s", regions && *regions ? regions : "local");
    char *save = NULL;
    for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        snprintf(durable, sizeof(durable), "probers-%s", r);
        snprintf(filter, sizeof(filter), "sw.v1.jobs.probe.%s", r);
        jsConsumerConfig_Init(&cc);
        cc.Durable = durable;
        cc.FilterSubject = filter;
        cc.AckPolicy = js_AckExplicit;
        /* Failed checks are retried by the prober's nak-with-delay (5 s, 15 s). No consumer
         * BackOff: with one, nats-server 2.9.10 ignored a second NakWithDelay and redelivered
         * only after the ack wait (measured: attempt 3 came 30 s late). AckWait alone covers a
         * prober that died; long checks extend it with InProgress. */
        cc.AckWait = 30 * SEC;
        cc.MaxDeliver = 3;
        cc.MaxAckPending = 20000;
        cc.Replicas = replicas;
        st = apply_consumer(js, "SW_JOBS", &cc);
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
