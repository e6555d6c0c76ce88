/* Publishing mail jobs. */
#include "actors/common/mail.h"

#include "bus/bus.h"

sw_status mail_enqueue(jsCtx *js, const char *kind, const char *to, const json_t *vars,
                       const char *msg_id, const char *request_id)
{
    json_t *job = json_pack("{s:s,s:s,s:O}", "kind", kind, "to", to, "vars", vars);
    sw_status st = SW_EINTERNAL;
    if (!job)
        return SW_EINTERNAL;
    /* One retry covers a publish lost in a reconnect; Nats-Msg-Id makes it harmless. */
    for (int attempt = 0; attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(js, MAIL_SUBJECT, job, msg_id, request_id);
    json_decref(job);
    return st;
}
