/* What sw-endpoints tells the rest of the system after a commit: the first check job of an
 * endpoint (one per region) and the endpoint.created|updated|deleted events. Never inside a
 * transaction: a job for a row that then rolls back would probe a URL nobody stored. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actors/endpoints/endpoints.h"
#include "bus/log.h"

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

void endpoints_publish_first_check(const bus_req *req, const json_t *endpoint, long due_epoch)
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
        char subject[96], msg_id[160];
        const char *region = json_string_value(r);
        if (!region)
            continue;
        /* The scheduler publishes the same due time with the same id, so whichever of the
         * two comes second is dropped by JetStream's duplicate window. */
        snprintf(subject, sizeof(subject), "sw.v1.jobs.probe.%s", region);
        snprintf(msg_id, sizeof(msg_id), "%s:%ld:%s", id, due_epoch, region);
        /* The same fields as the scheduler's jobs (actors/scheduler/scheduler.c). */
        json_t *job = json_pack(
            "{s:s,s:s,s:s,s:O,s:O,s:O,s:I,s:s,s:O,s:O,s:i}", "job_id", msg_id, "endpoint_id", id,
            "tenant_id", req->tenant, "url", json_object_get(endpoint, "url"), "timeout_seconds",
            json_object_get(endpoint, "timeout_seconds"), "expected_status",
            json_object_get(endpoint, "expected_status"), "due_epoch", (json_int_t)due_epoch,
            "region", region, "failure_threshold", json_object_get(endpoint, "failure_threshold"),
            "recovery_threshold", json_object_get(endpoint, "recovery_threshold"),
            "regions_total", (int)json_array_size(regions));
        sw_status st = (js && job) ? bus_js_publish(js, subject, job, msg_id, req->request_id)
                                   : SW_EUNAVAILABLE;
        if (st != SW_OK)
            sw_log(SW_LOG_WARN,
                   "first check not published; the scheduler will send it (schedule row is due)",
                   "endpoint_id", id, "region", region, "status", sw_status_name(st), NULL);
        json_decref(job);
    }
}

void endpoints_publish_event(const bus_req *req, const char *endpoint_id, const char *event)
{
    jsCtx *js = bus_actor_js(req->actor);
    char subject[160], msg_id[200], at[40];

    iso_now(at, sizeof(at));
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.endpoint.%s", req->tenant, event);
    /* One event per request: a retried publish of the same request is a no-op. */
    if (req->request_id && *req->request_id)
        snprintf(msg_id, sizeof(msg_id), "evt:%s:%s:%s", endpoint_id, event, req->request_id);
    else
        snprintf(msg_id, sizeof(msg_id), "evt:%s:%s:%lld", endpoint_id, event,
                 (long long)sw_epoch_ms());
    json_t *evt =
        json_pack("{s:s,s:s,s:s}", "endpoint_id", endpoint_id, "tenant_id", req->tenant, "at", at);
    sw_status st =
        (js && evt) ? bus_js_publish(js, subject, evt, msg_id, req->request_id) : SW_EUNAVAILABLE;
    if (st != SW_OK)
        sw_log(SW_LOG_WARN, "event not published", "event", event, "endpoint_id", endpoint_id,
               "status", sw_status_name(st), NULL);
    json_decref(evt);
}
