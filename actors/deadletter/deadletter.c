/* Advisory -> stored dead letter -> SW_DLQ -> removed from SW_JOBS. Every step is idempotent
 * (primary key, Nats-Msg-Id, delete of a deleted message), so an advisory handled twice
 * changes nothing. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/deadletter/deadletter.h"
#include "bus/config.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"
#include "store/store.h"

typedef struct deadletter {
    store_pool *db;
    pthread_mutex_t lock;
    json_t *consumers; /* owned, under lock: the last backlog snapshot (consumer_gauges_turn) */
} deadletter;

/* Handles one advisory; false when it should be retried later. */
static bool handle(bus_actor *a, deadletter *d, natsMsg *adv)
{
    jsCtx *js = bus_actor_js(a);
    natsMsg *orig = NULL, *dlq = NULL;
    jsErrCode jerr = 0;
    json_t *job = NULL;
    bool done = false;
    char seq_s[24], id[64], deliveries[16], reason[96];

    json_t *o = json_loadb(natsMsg_GetData(adv), (size_t)natsMsg_GetDataLength(adv), 0, NULL);
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *stream = json_string_value(json_object_get(o, "stream"));
    json_int_t seq = json_integer_value(json_object_get(o, "stream_seq"));
    if (!type || !stream || strcmp(stream, BUS_STREAM_JOBS) != 0 || seq <= 0) {
        done = true; /* not ours to handle */
        goto out;
    }
    snprintf(seq_s, sizeof(seq_s), "%lld", (long long)seq);
    snprintf(deliveries, sizeof(deliveries), "%lld",
             (long long)json_integer_value(json_object_get(o, "deliveries")));
    if (strstr(type, "terminated"))
        snprintf(reason, sizeof(reason), "terminated");
    else
        snprintf(reason, sizeof(reason), "max deliveries reached (%s)", deliveries);

    natsStatus s = js_GetMsg(&orig, js, BUS_STREAM_JOBS, (uint64_t)seq, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
        done = true; /* already handled, or a poison job the prober dead-lettered itself */
        goto out;
    }
    if (s != NATS_OK)
        goto out;

    job = json_loadb(natsMsg_GetData(orig), (size_t)natsMsg_GetDataLength(orig), 0, NULL);
    const char *tenant = json_string_value(json_object_get(job, "tenant_id"));
    const char *endpoint = json_string_value(json_object_get(job, "endpoint_id"));
    char *job_text = job ? json_dumps(job, JSON_COMPACT) : NULL;
    store_conn *c = store_acquire(d->db);
    sw_status st = SW_EUNAVAILABLE;
    if (c) {
        const char *p[] = {seq_s,     natsMsg_GetSubject(orig), tenant, endpoint, job_text, reason,
                           deliveries};
        st = store_query(c, NULL, NULL,
                         "INSERT INTO public.dead_letters (stream, stream_seq, subject, tenant_id,"
                         " endpoint_id, job, reason, deliveries)"
                         " VALUES ('" BUS_STREAM_JOBS "', $1::bigint, $2, $3,"
                         "  CASE WHEN $4 ~ '^[0-9a-f-]{36}$' THEN $4::uuid END, $5::jsonb, $6,"
                         "  nullif($7, '0')::int)"
                         " ON CONFLICT DO NOTHING",
                         7, p);
        store_release(d->db, c);
    }
    free(job_text);
    if (st != SW_OK)
        goto out;

    snprintf(id, sizeof(id), BUS_ID_DLQ_FMT, BUS_STREAM_JOBS, (unsigned long long)seq);
    if (natsMsg_Create(&dlq, BUS_SUBJ_DLQ_JOBS, NULL, natsMsg_GetData(orig),
                       natsMsg_GetDataLength(orig)) != NATS_OK)
        goto out;
    natsMsgHeader_Set(dlq, BUS_H_CONTENT_TYPE, "application/json");
    natsMsgHeader_Set(dlq, BUS_H_MSG_ID, id);
    natsMsgHeader_Set(dlq, BUS_H_DLQ_REASON, reason);
    natsMsgHeader_Set(dlq, BUS_H_DLQ_SUBJECT, natsMsg_GetSubject(orig));
    natsMsgHeader_Set(dlq, BUS_H_DLQ_SEQ, seq_s);
    if (js_PublishMsg(NULL, js, dlq, NULL, &jerr) != NATS_OK)
        goto out;
    s = js_DeleteMsg(js, BUS_STREAM_JOBS, (uint64_t)seq, NULL, &jerr);
    if (s != NATS_OK && jerr != JSSequenceNotFoundErr && jerr != JSNoMessageFoundErr)
        goto out;
    if (tenant && endpoint && store_schema_name_valid(tenant)) {
        char subject[BUS_SUBJECT_MAX];
        bus_subject_event(subject, sizeof(subject), tenant, BUS_EVT_ENDPOINT_DEAD_LETTERED);
        json_t *evt = json_pack("{s:s,s:s,s:I,s:s}", "endpoint_id", endpoint, "tenant_id", tenant,
                                "stream_seq", (json_int_t)seq, "reason", reason);
        bus_js_publish(js, subject, evt, id, NULL);
        json_decref(evt);
    }
    sw_log(SW_LOG_INFO, "job dead-lettered", "stream_seq", seq_s, "reason", reason, "tenant_id",
           tenant, NULL);
    done = true;
out:
    json_decref(job);
    json_decref(o);
    natsMsg_Destroy(dlq);
    natsMsg_Destroy(orig);
    return done;
}

void deadletter_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    for (int i = 0; i < n; i++) {
        if (handle(a, app, msgs[i]))
            bus_msg_ack(bus_actor_conn(a), msgs[i]);
        else
            bus_msg_nak(bus_actor_conn(a), msgs[i], BUS_DEADLETTER_RETRY_MS);
        natsMsg_Destroy(msgs[i]);
    }
}

/* ---------------------------------------------------------------- consumer backlogs */

/* JetStream's answer to one info or list call bounds a snapshot; a server that does not answer
 * ends the snapshot at the first call instead of one wait per stream. */
#define GAUGES_JS_WAIT_MS 1000
#define GAUGES_EVERY_MS 2000
#define GAUGES_MAX_CONSUMERS 256

/* {"stream", "consumer", "pending", "ack_pending", "redelivered"} of every durable consumer
 * of every stream, or NULL when JetStream did not answer. New reference. */
static json_t *snapshot_consumers(jsCtx *js)
{
    jsStreamNamesList *names = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = GAUGES_JS_WAIT_MS;
    if (js_StreamNames(&names, js, &o, &jerr) != NATS_OK || !names)
        return NULL;
    json_t *out = json_array();
    for (int i = 0; i < names->Count && json_array_size(out) < GAUGES_MAX_CONSUMERS; i++) {
        jsConsumerInfoList *list = NULL;
        natsStatus s = js_Consumers(&list, js, names->List[i], &o, &jerr);
        if (s == NATS_TIMEOUT) {
            json_decref(out);
            out = NULL;
            break;
        }
        for (int k = 0; s == NATS_OK && list && k < list->Count; k++) {
            const jsConsumerInfo *ci = list->List[k];
            /* Ephemeral consumers (the edge's ordered watch of SW_REVOKED, a CLI's peek) come
             * and go with their clients: only the topology's durables are series. */
            if (!ci->Config || !ci->Config->Durable || !*ci->Config->Durable ||
                json_array_size(out) >= GAUGES_MAX_CONSUMERS)
                continue;
            json_array_append_new(out, json_pack("{s:s,s:s,s:I,s:I,s:I}", "stream", ci->Stream,
                                                 "consumer", ci->Name, "pending",
                                                 (json_int_t)ci->NumPending, "ack_pending",
                                                 (json_int_t)ci->NumAckPending, "redelivered",
                                                 (json_int_t)ci->NumRedelivered));
        }
        jsConsumerInfoList_Destroy(list);
    }
    jsStreamNamesList_Destroy(names);
    return out;
}

void deadletter_gauges_turn(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    (void)msgs;
    (void)n;
    deadletter *d = app;
    json_t *snap = snapshot_consumers(bus_actor_js(a));
    pthread_mutex_lock(&d->lock);
    json_decref(d->consumers);
    d->consumers = snap; /* NULL: JetStream silent, the gauges are left out rather than stale */
    pthread_mutex_unlock(&d->lock);
    for (int waited = 0; waited < GAUGES_EVERY_MS && !bus_actor_stopping(a); waited += 100)
        nats_Sleep(100);
}

void deadletter_stats(bus_actor *a, json_t *data)
{
    deadletter *d = bus_actor_app(a);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 400; /* the micro thread answers STATS: never wait long for JetStream */
    if (js_GetStreamInfo(&si, bus_actor_js(a), "SW_DLQ", &o, &jerr) == NATS_OK && si)
        json_object_set_new(data, "dlq_messages", json_integer((json_int_t)si->State.Msgs));
    jsStreamInfo_Destroy(si);
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    if (d->consumers)
        json_object_set_new(data, "consumers", json_deep_copy(d->consumers));
    pthread_mutex_unlock(&d->lock);
}

/* ---------------------------------------------------------------- lifecycle */

void *deadletter_app_init(bus_actor *a, sw_status *err)
{
    (void)a;
    deadletter *d = calloc(1, sizeof(*d));
    if (d)
        pthread_mutex_init(&d->lock, NULL);
    if (!d || store_pool_new(&d->db, sw_config_str("DATABASE_URL", ""), 1) != SW_OK) {
        deadletter_app_free(d);
        *err = SW_EINTERNAL;
        return NULL;
    }
    return d;
}

void deadletter_app_free(void *arg)
{
    deadletter *d = arg;
    if (!d)
        return;
    store_pool_free(d->db);
    json_decref(d->consumers);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
