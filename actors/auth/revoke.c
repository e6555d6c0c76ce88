/* Ending sessions before their access tokens expire: the revocation goes on stream SW_REVOKED
 * (bus/revocation.h), which every edge watches; see auth.h. */
#include <stdio.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "bus/log.h"
#include "bus/revocation.h"

static sw_status publish(const bus_req *req, sw_revocation_kind kind, const char *id)
{
    char subject[128], msg_id[160];
    json_t *body = NULL;
    int64_t now_ms = sw_epoch_ms();
    sw_revocation r = {.kind = kind, .before = now_ms / 1000, .before_ms = now_ms};
    snprintf(r.id, sizeof(r.id), "%s", id ? id : "");
    if (!sw_revocation_encode(subject, sizeof(subject), &body, &r))
        return SW_EINTERNAL;
    snprintf(msg_id, sizeof(msg_id), "revoked:%s:%lld", subject + 14, (long long)r.before_ms);
    jsCtx *js = bus_actor_js(req->actor);
    sw_status st =
        js ? bus_js_publish(js, subject, body, msg_id, req->request_id) : SW_EUNAVAILABLE;
    json_decref(body);
    if (st != SW_OK)
        sw_log(SW_LOG_ERROR, "revocation not published: access tokens live on until they expire",
               "subject", subject, "status", sw_status_name(st), NULL);
    return st;
}

sw_status auth_revoke_session(const bus_req *req, const char *family)
{
    return publish(req, SW_REVOKE_SESSION, family);
}

sw_status auth_revoke_user(const bus_req *req, store_conn *c, const char *tenant, const char *user)
{
    const char *p[] = {tenant, user};
    sw_status st = store_query(c, NULL, NULL,
                               "UPDATE public.refresh_tokens SET revoked_at = now()"
                               " WHERE tenant_id = $1 AND user_id = $2::uuid"
                               " AND revoked_at IS NULL",
                               2, p);
    if (st == SW_OK)
        st = publish(req, SW_REVOKE_USER, user);
    if (st == SW_OK)
        sw_log(SW_LOG_INFO, "security: every session of a user revoked", "event",
               "sessions_revoked", "user_id", user, "tenant_id", tenant, NULL);
    return st;
}

sw_status auth_revoke_access(const bus_req *req, const char *user)
{
    return publish(req, SW_REVOKE_USER, user);
}
