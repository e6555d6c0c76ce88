/* What sw-endpoints tells the rest of the system after a commit: the first check job of an
 * endpoint (one per region) and the endpoint.created|updated|deleted events. Never inside a
 * transaction: a job for a row that then rolls back would probe a URL nobody stored. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actors/endpoints/endpoints.h"
#include "bus/log.h"
#include "bus/messages.h"

/* Now as ISO 8601 UTC with milliseconds ("2024-05-01T12:00:00.123Z"). */
static void iso_now(char *out, size_t len)
{
    int64_t ms = sw_epoch_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%03dZ", base, (int)(ms % 1000));
}

void endpoints_publish_first_check(const bus_req *req, const json_t *endpoint, long due_epoch,
                                   const json_t *probe)
{
    jsCtx *js = bus_actor_js(req->actor);
    const char *id = json_string_value(json_object_get(endpoint, "id"));
    json_t *regions = json_object_get(endpoint, "regions");
    size_t i;
    json_t *r;

    if (!id || json_is_true(json_object_get(endpoint, "paused")))
        return;
    json_array_foreach(regions, i, r)
    {
        char subject[BUS_SUBJECT_MAX];
        bus_probe_job job = {
            .endpoint_id = id,
            .tenant_id = req->tenant,
            .region = json_string_value(r),
            .url = json_string_value(json_object_get(endpoint, "url")),
            .due_epoch = due_epoch,
            .timeout_seconds =
                (int)json_integer_value(json_object_get(endpoint, "timeout_seconds")),
            .expected_status = json_object_get(endpoint, "expected_status"),
            .check = probe,
        };
        if (!job.region)
            continue;
        /* The scheduler publishes the same due time with the same id, so whichever of the
         * two comes second is dropped by JetStream's duplicate window. */
        json_t *jobj = bus_probe_job_set_id(&job) &&
                               bus_subject_probe_job(subject, sizeof(subject), job.region)
                           ? bus_probe_job_encode(&job)
                           : NULL;
        sw_status st = (js && jobj) ? bus_js_publish(js, subject, jobj, job.job_id, req->request_id)
                                    : SW_EUNAVAILABLE;
        if (st != SW_OK)
            sw_log(SW_LOG_WARN,
                   "first check not published; the scheduler will send it (schedule row is due)",
                   "endpoint_id", id, "region", job.region, "status", sw_status_name(st), NULL);
        json_decref(jobj);
    }
}

/* The audit object of an endpoint event (bus/contract.h): who, from where, which endpoint; on
 * an update the fields the request set. endpoint: the row (borrowed, may be NULL). */
static bool put_audit(json_t *evt, const bus_req *req, const char *endpoint_id, const char *kind,
                      const json_t *endpoint)
{
    bus_audit a;
    json_t *detail = json_object(), *fields = json_array();
    const char *name = json_string_value(json_object_get(endpoint, "name"));
    const char *k = json_string_value(json_object_get(endpoint, "kind"));
    bus_audit_from_req(&a, req);
    a.action = kind;
    a.target_type = "endpoint";
    a.target_id = endpoint_id;
    a.target_label = name && *name ? name : json_string_value(json_object_get(endpoint, "url"));
    if (k)
        json_object_set_new(detail, "kind", json_string(k));
    if (strcmp(kind, BUS_EVT_ENDPOINT_PREFIX "updated") == 0) {
        const char *key;
        json_t *v;
        json_object_foreach(req->body, key, v)
        {
            if (endpoint && json_object_get(endpoint, key) && json_array_size(fields) < 32)
                json_array_append_new(fields, json_string(key));
        }
        json_object_set_new(detail, "fields", fields);
        fields = NULL;
    }
    a.detail = json_object_size(detail) ? detail : NULL;
    bool ok = bus_audit_put(evt, &a);
    json_decref(fields);
    json_decref(detail);
    return ok;
}

void endpoints_publish_event(const bus_req *req, const char *endpoint_id, const char *event,
                             const json_t *endpoint)
{
    jsCtx *js = bus_actor_js(req->actor);
    char subject[BUS_SUBJECT_MAX], kind[48], msg_id[200], at[40], now_ms[24];

    iso_now(at, sizeof(at));
    snprintf(kind, sizeof(kind), "%s%s", BUS_EVT_ENDPOINT_PREFIX, event);
    bus_subject_event(subject, sizeof(subject), req->tenant, kind);
    /* One event per request: a retried publish of the same request is a no-op. */
    snprintf(now_ms, sizeof(now_ms), "%lld", (long long)sw_epoch_ms());
    snprintf(msg_id, sizeof(msg_id), BUS_ID_ENDPOINT_EVT_FMT, endpoint_id, event,
             req->request_id && *req->request_id ? req->request_id : now_ms);
    json_t *evt =
        json_pack("{s:s,s:s,s:s}", "endpoint_id", endpoint_id, "tenant_id", req->tenant, "at", at);
    if (evt && !put_audit(evt, req, endpoint_id, kind, endpoint))
        sw_log(SW_LOG_WARN, "event without its audit entry (out of shape)", "event", event,
               "endpoint_id", endpoint_id, NULL);
    /* The event is also the audit log's entry: retried (the same msg id, so never twice). */
    sw_status st = SW_EUNAVAILABLE;
    for (int attempt = 0; js && evt && attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(js, subject, evt, msg_id, req->request_id);
    if (st != SW_OK)
        sw_log(SW_LOG_ERROR, "event not published: no audit entry for this change", "event", event,
               "endpoint_id", endpoint_id, "status", sw_status_name(st), NULL);
    json_decref(evt);
}

void endpoints_publish_ping_key(const bus_req *req, const char *endpoint_id, const char *key,
                                bool removed)
{
    jsCtx *js = bus_actor_js(req->actor);
    char subject[BUS_SUBJECT_MAX], msg_id[200];
    bus_ping_key k = {.removed = removed};
    if (!key || !bus_uuid_valid(key))
        return;
    bus_ping_key_hash(k.hash, key);
    snprintf(k.tenant_id, sizeof(k.tenant_id), "%s", req->tenant);
    snprintf(k.endpoint_id, sizeof(k.endpoint_id), "%s", endpoint_id);
    snprintf(msg_id, sizeof(msg_id), "pingkey:%s:%d:%s", k.hash, removed,
             req->request_id && *req->request_id ? req->request_id : endpoint_id);
    json_t *body =
        bus_subject_ping_key(subject, sizeof(subject), k.hash) ? bus_ping_key_encode(&k) : NULL;
    sw_status st = SW_EUNAVAILABLE;
    for (int attempt = 0; js && body && attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(js, subject, body, msg_id, req->request_id);
    if (st != SW_OK)
        sw_log(SW_LOG_ERROR, "ping key not published: the ping URL answers 404 until it is",
               "endpoint_id", endpoint_id, "status", sw_status_name(st), NULL);
    json_decref(body);
}
