/* The recorder's sw.v1.evt.<tenant>.endpoint.* events (durable BUS_CONSUMER_AUTH_ALERTS on
 * SW_EVENTS). The outage mail moved to sw-notify (issue 19): a new organization's default
 * email channel goes to its owner, so each tenant gets exactly one mail per event from there.
 * This consumer now only acks (kept for the audit log of issue 21 to build on); the owner
 * lookup stays for it. */
#include <stdio.h>
#include <string.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/mail.h"
#include "bus/jetstream.h"
#include "bus/ids.h"
#include "bus/log.h"
#include "bus/messages.h"
#include "store/store.h"

#define SW_AUTH_MAILS_OUTAGES 0

/* The owner's email (first owner by sign-up), copied into out. */
static sw_status owner_email(store_pool *db, const char *tenant, char *out, size_t len)
{
    json_t *row = NULL;
    store_conn *c = store_acquire_tenant(db, tenant);
    sw_status st = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
    if (st == SW_OK)
        st = store_query_one(c, &row,
                             "SELECT email FROM users WHERE role = 'owner'"
                             " ORDER BY created_at LIMIT 1",
                             0, NULL);
    if (st == SW_OK)
        snprintf(out, len, "%s", json_string_value(json_object_get(row, "email")));
    if (c)
        store_tx_rollback(c);
    store_release(db, c);
    json_decref(row);
    return st;
}

static const char *str_or_empty(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* One event: SW_OK when done with it (mailed, or nothing to mail), else retry later. */
/* tls.expiring (issue 17): one mail per threshold per certificate (the msg id names both). */
static sw_status tls_alert(actor_app *app, bus_actor *a, const char *tenant, const json_t *evt)
{
    char to[256] = "", msg_id[160];
    const char *ep = json_string_value(json_object_get(evt, "endpoint_id"));
    json_int_t threshold = json_integer_value(json_object_get(evt, "threshold_days"));
    json_int_t expires = json_integer_value(json_object_get(evt, "expires_epoch"));
    if (!bus_uuid_valid(ep) || threshold < 1 || expires <= 0)
        return SW_OK; /* not one of ours: nothing to mail */
    sw_status st = owner_email(app->db, tenant, to, sizeof(to));
    if (st == SW_ENOTFOUND)
        return SW_OK;
    if (st != SW_OK)
        return st;
    json_t *vars = json_pack("{s:s,s:s,s:I,s:s,s:s}", "endpoint_name",
                             str_or_empty(evt, "endpoint_name"), "url", str_or_empty(evt, "url"),
                             "days_left", json_integer_value(json_object_get(evt, "days_left")),
                             "expires_at", str_or_empty(evt, "expires_at"), "issuer",
                             str_or_empty(evt, "issuer"));
    snprintf(msg_id, sizeof(msg_id), BUS_ID_TLS_MAIL_FMT, ep, (long long)expires, (int)threshold);
    st = vars ? mail_enqueue(bus_actor_js(a), "tls_expiring", to, vars, msg_id, NULL)
              : SW_EINTERNAL;
    json_decref(vars);
    return st;
}

static sw_status alert(actor_app *app, bus_actor *a, natsMsg *m)
{
    char tenant[BUS_TENANT_MAX], to[256] = "", msg_id[128];
    const char *subject = natsMsg_GetSubject(m);
    sw_status st = SW_OK;
    json_t *evt = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    const char *status = json_string_value(json_object_get(evt, "status"));
    const char *incident = json_string_value(json_object_get(evt, "incident_id"));
    size_t tl = bus_subject_event_tenant(subject, tenant) ? strlen(tenant) : 0;
    const char *kind = tl ? subject + strlen(BUS_SUBJ_EVENT_PREFIX) + tl + 1 : "";
    bool down = strcmp(kind, BUS_EVT_ENDPOINT_DOWN) == 0;
    if (strcmp(kind, BUS_EVT_TLS_EXPIRING) == 0 && sw_tenant_id_valid(tenant)) {
        if (SW_AUTH_MAILS_OUTAGES == 0)
            goto out; /* sw-notify's default email channel mails it (issue 19) */
        st = tls_alert(app, a, tenant, evt);
        goto out;
    }
    /* The tenant is the subject's; only the recorder may publish endpoint.down|up. */
    const char *from = json_string_value(json_object_get(evt, "recovered_from"));
    if ((!down && strcmp(kind, BUS_EVT_ENDPOINT_UP) != 0) || !sw_tenant_id_valid(tenant) ||
        !status || !incident || !*incident || strlen(incident) > 64)
        goto out; /* another endpoint event, or a change with no incident: no mail */
    if (from && strcmp(from, "degraded") == 0)
        goto out; /* the end of a degradation (issue 17): there was no outage mail to follow */
    if (SW_AUTH_MAILS_OUTAGES == 0)
        goto out; /* sw-notify's default email channel mails the owner now */
    st = owner_email(app->db, tenant, to, sizeof(to));
    if (st == SW_ENOTFOUND) {
        sw_log(SW_LOG_WARN, "endpoint state changed but the organization has no owner to tell",
               "tenant_id", tenant, NULL);
        st = SW_OK;
        goto out;
    }
    if (st != SW_OK)
        goto out;
    json_t *vars = json_pack("{s:s,s:s,s:s}", "endpoint_name", str_or_empty(evt, "endpoint_name"),
                             "url", str_or_empty(evt, "url"), "cause", str_or_empty(evt, "cause"));
    snprintf(msg_id, sizeof(msg_id), BUS_ID_INCIDENT_MAIL_FMT, incident, down ? "down" : "up");
    st = vars ? mail_enqueue(bus_actor_js(a), down ? "endpoint_down" : "endpoint_up", to, vars,
                             msg_id, NULL)
              : SW_EINTERNAL;
    json_decref(vars);
out:
    json_decref(evt);
    return st;
}

void auth_alerts_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    for (int i = 0; i < n; i++) {
        sw_status st = alert(app, a, msgs[i]);
        if (st == SW_OK) {
            bus_msg_ack(nc, msgs[i]);
        } else {
            sw_log(SW_LOG_WARN, "outage mail not queued yet; will retry", "status",
                   sw_status_name(st), NULL);
            bus_msg_nak(nc, msgs[i], BUS_ALERT_RETRY_MS);
        }
        natsMsg_Destroy(msgs[i]);
    }
}
