/* A stream watched into memory by an ordered consumer; see watch.h. */
#include "bus/watch.h"

#include <stdio.h>

#include "bus/log.h"

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    bus_watch *w = closure;
    jsMsgMetaData *meta = NULL;
    (void)nc;
    (void)sub;
    if (!w->apply(w->arg, natsMsg_GetSubject(m), natsMsg_GetData(m), natsMsg_GetDataLength(m)))
        sw_log(SW_LOG_WARN, "malformed message of a watched stream ignored", "stream", w->stream,
               "what", w->what, "subject", natsMsg_GetSubject(m), NULL);
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK)
        __atomic_store_n(&w->loaded_seq, meta->Sequence.Stream, __ATOMIC_RELEASE);
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(m);
}

sw_status bus_watch_start(natsSubscription **sub, bus_watch *w, jsCtx *js, int wait_ms)
{
    jsSubOptions so;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char code[16];

    *sub = NULL;
    natsStatus ns = js_GetStreamInfo(&si, js, w->stream, NULL, &jerr);
    uint64_t last = ns == NATS_OK ? si->State.LastSeq : 0;
    uint64_t msgs = ns == NATS_OK ? si->State.Msgs : 0;
    jsStreamInfo_Destroy(si);
    if (ns == NATS_OK) {
        jsSubOptions_Init(&so);
        so.Stream = w->stream;
        so.Ordered = true;
        so.Config.DeliverPolicy = w->last_per_subject ? js_DeliverLastPerSubject : js_DeliverAll;
        ns = js_Subscribe(sub, js, w->subjects, on_msg, w, NULL, &so, &jerr);
    }
    if (ns != NATS_OK) {
        snprintf(code, sizeof(code), "%d", (int)jerr);
        sw_log(SW_LOG_ERROR, "cannot watch a stream", "stream", w->stream, "what", w->what, "error",
               natsStatus_GetText(ns), "js_code", code, NULL);
        return SW_EUNAVAILABLE;
    }
    /* The startup load: what the stream held when we looked, before serving any request. */
    for (int waited = 0; msgs > 0 && __atomic_load_n(&w->loaded_seq, __ATOMIC_ACQUIRE) < last;
         waited += 10) {
        if (waited >= wait_ms) {
            sw_log(SW_LOG_WARN, "watched stream not all loaded yet; continuing", "stream",
                   w->stream, "what", w->what, NULL);
            break;
        }
        nats_Sleep(10);
    }
    return SW_OK;
}
