/* Scatter-gather; see gather.h. */
#include "bus/gather.h"

#include <stdio.h>
#include <string.h>

#include "bus/clock.h"
#include "bus/ids.h"
#include "bus/jetstream.h"

sw_status bus_gather(json_t **out, natsConnection *nc, const char *inbox_prefix,
                     const char *subject, const char *payload, int wait_ms, int max)
{
    natsSubscription *sub = NULL;
    json_t *replies = NULL;
    char prefix[128], inbox[192], rnd[17];
    sw_status st = SW_EUNAVAILABLE;
    natsStatus s;

    *out = NULL;
    if (!nc || natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED)
        goto out;
    if (inbox_prefix)
        snprintf(prefix, sizeof(prefix), "%s", inbox_prefix);
    else
        bus_inbox_prefix(prefix, sizeof(prefix));
    sw_random_hex(rnd, 8);
    snprintf(inbox, sizeof(inbox), "%s.g.%s", prefix, rnd);
    int64_t deadline = sw_now_ns() + (int64_t)(wait_ms > 0 ? wait_ms : 0) * SW_NS_PER_MS;
    s = natsConnection_SubscribeSync(&sub, nc, inbox);
    if (s == NATS_OK)
        s = natsConnection_PublishRequest(nc, subject, inbox, payload,
                                          payload ? (int)strlen(payload) : 0);
    if (s != NATS_OK)
        goto out;
    /* Out now, not when the flusher next runs; a failed flush still leaves the window. */
    natsConnection_FlushTimeout(nc, wait_ms > 0 ? wait_ms : 1);
    replies = json_array();
    if (!replies) {
        st = SW_EINTERNAL;
        goto out;
    }
    while (max <= 0 || (int)json_array_size(replies) < max) {
        int64_t left_ms = (deadline - sw_now_ns()) / SW_NS_PER_MS;
        natsMsg *m = NULL;
        if (left_ms <= 0 || natsSubscription_NextMsg(&m, sub, left_ms) != NATS_OK)
            break;
        if (natsMsg_IsNoResponders(m)) {
            natsMsg_Destroy(m);
            break;
        }
        json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
        if (json_is_object(o))
            json_array_append_new(replies, o);
        else
            json_decref(o);
        natsMsg_Destroy(m);
    }
    *out = replies;
    replies = NULL;
    st = SW_OK;
out:
    json_decref(replies);
    if (sub)
        natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return st;
}
