/* Alerting, the moving part: endpoint.down|degraded|up events become one notification row per
 * channel of the endpoint (the tenant's default channels) and one delivery job each
 * (sw.v1.jobs.deliver.<tenant>); the delivery worker sends a batch of jobs at once with libcurl
 * multi, each bounded by SW_NOTIFY_TIMEOUT_S, and records and acks each one as soon as it is
 * done, so a slow receiver holds only its own job. Failures are retried with the back-off of
 * BUS_DELIVERY_BACKOFF_S (past 2 hours), then the delivery is failed and dead-lettered.
 * Wire formats: Slack incoming webhook (text + blocks), Discord webhook (content + embed),
 * Teams workflow webhook (Adaptive Card attachment), PagerDuty Events API v2 (dedup_key =
 * incident id), ntfy (Title/Priority/Tags headers), Telegram sendMessage, Standard Webhooks
 * (webhook-id, webhook-timestamp, webhook-signature v1 HMAC-SHA256) and email via the mailer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "actors/common/mail.h"
#include "actors/notify/notify.h"
#include "bus/clock.h"
#include "bus/ids.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"
#include "store/store.h"

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define BODY_KEEP 512 /* bytes of a receiver's answer kept (for the error) */

static const int backoff_s[BUS_DELIVERY_NBACKOFF] = {BUS_DELIVERY_BACKOFF_S};

/* ---- queueing ----------------------------------------------------------------------------- */

sw_status notify_queue(store_conn *c, json_t *ids, const json_t *channel_rows, const char *kind,
                       const char *incident_id, const char *endpoint_id, const char *dedup_base,
                       const json_t *data)
{
    size_t i;
    json_t *ch;
    char dedup[300];
    char *payload = json_dumps(data, JSON_COMPACT);
    sw_status st = payload ? SW_OK : SW_EINTERNAL;
    json_array_foreach(channel_rows, i, ch)
    {
        json_t *row = NULL;
        if (st != SW_OK)
            break;
        const char *cid = json_string_value(json_object_get(ch, "id"));
        snprintf(dedup, sizeof(dedup), "%s:%s", dedup_base, cid ? cid : "");
        const char *p[] = {cid,   json_string_value(json_object_get(ch, "name")),
                           json_string_value(json_object_get(ch, "kind")),
                           kind,  incident_id, endpoint_id, dedup, payload};
        /* A redelivered event finds its rows: a pending one is published again (the job's msg
         * id and the worker's status check make that harmless). */
        st = store_query_one(c, &row,
                             "INSERT INTO notifications (channel_id, channel_name, channel_kind,"
                             " kind, incident_id, endpoint_id, dedup, payload)"
                             " VALUES ($1::uuid, $2, $3, $4, $5::uuid, $6::uuid, $7, $8::jsonb)"
                             " ON CONFLICT (dedup) DO UPDATE SET dedup = EXCLUDED.dedup"
                             " RETURNING id::text AS id, status",
                             8, p);
        if (st == SW_OK && strcmp(json_string_value(json_object_get(row, "status")), "pending") == 0)
            json_array_append(ids, json_object_get(row, "id"));
        json_decref(row);
    }
    free(payload);
    return st;
}

sw_status notify_publish_jobs(bus_actor *a, const char *tenant, const json_t *ids,
                              const char *request_id)
{
    char subject[BUS_SUBJECT_MAX], msg_id[80];
    size_t i;
    json_t *id;
    sw_status worst = SW_OK;
    snprintf(subject, sizeof(subject), BUS_SUBJ_DELIVER_JOB_PREFIX "%s", tenant);
    json_array_foreach(ids, i, id)
    {
        snprintf(msg_id, sizeof(msg_id), BUS_ID_DELIVER_JOB_FMT, json_string_value(id));
        json_t *job = json_pack("{s:s,s:O}", "tenant_id", tenant, "notification_id", id);
        sw_status st = job ? bus_js_publish(bus_actor_js(a), subject, job, msg_id, request_id)
                           : SW_EINTERNAL;
        json_decref(job);
        if (st != SW_OK) {
            sw_log(SW_LOG_WARN, "delivery job not published", "notification_id",
                   json_string_value(id), "status", sw_status_name(st), NULL);
            worst = st;
        }
    }
    return worst;
}

/* ---- events ------------------------------------------------------------------------------- */

static const char *str_or(const json_t *o, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : def;
}

sw_status notify_targets(store_conn *c, const char *endpoint, json_t **rows)
{
    const char *p[] = {endpoint};
    return store_query(c, rows, NULL,
                       "WITH e AS (SELECT (SELECT channel_ids FROM endpoints WHERE id = $1::uuid)"
                       "  AS ids)"
                       " SELECT ch.id::text AS id, ch.name, ch.kind FROM channels ch, e"
                       " WHERE CASE WHEN e.ids IS NULL THEN ch.is_default ELSE ch.id = ANY(e.ids) END"
                       " ORDER BY ch.created_at, ch.id",
                       1, p);
}

/* One endpoint event: SW_OK when done with it, else retry later. An outage (down, degraded) is
 * held in public.notify_pending for the roll-up (ticker.c sends it); a recovery goes out now,
 * after whatever of its outage was still held. */
static sw_status on_event(bus_actor *a, notify_app *app, natsMsg *m)
{
    char tenant[BUS_TENANT_MAX], dedup[160];
    const char *subject = natsMsg_GetSubject(m);
    json_t *evt = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    json_t *channels = NULL, *ids = json_array(), *data = NULL, *inc = NULL, *held = NULL;
    char *data_text = NULL;
    store_conn *c = NULL;
    sw_status st = SW_OK;
    size_t tl = bus_subject_event_tenant(subject, tenant) ? strlen(tenant) : 0;
    const char *kind = tl ? subject + strlen(BUS_SUBJ_EVENT_PREFIX) + tl + 1 : "";
    bool degraded = strcmp(kind, BUS_EVT_ENDPOINT_DEGRADED) == 0;
    bool down = strcmp(kind, BUS_EVT_ENDPOINT_DOWN) == 0 || degraded;
    bool up = strcmp(kind, BUS_EVT_ENDPOINT_UP) == 0;
    const char *incident = json_string_value(json_object_get(evt, "incident_id"));
    const char *endpoint = json_string_value(json_object_get(evt, "endpoint_id"));
    /* The tenant is the subject's; only the recorder may publish endpoint.down|up. */
    if ((!down && !up) || !sw_tenant_id_valid(tenant) || !bus_uuid_valid(incident) ||
        !bus_uuid_valid(endpoint))
        goto out; /* another endpoint event, or a change with no incident: nothing to send */
    c = store_acquire_tenant(app->common->db, tenant);
    st = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
    if (st == SW_OK)
        st = channels_seed(c);
    if (st == SW_OK) {
        const char *p[] = {incident, endpoint};
        st = store_query_one(c, &inc,
                             "SELECT greatest(0, extract(epoch FROM coalesce(i.closed_at, now())"
                             " - i.opened_at))::bigint AS duration_seconds,"
                             " coalesce((SELECT reminder_minutes FROM endpoints"
                             "  WHERE id = $2::uuid), 0) AS reminder_minutes"
                             " FROM incidents i WHERE i.id = $1::uuid",
                             2, p);
        if (st == SW_ENOTFOUND)
            st = SW_OK;
    }
    if (st != SW_OK)
        goto out;
    data = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "incident_id", incident, "endpoint_id", endpoint,
                     "endpoint_name", str_or(evt, "endpoint_name", ""), "url",
                     str_or(evt, "url", ""), "cause", str_or(evt, "cause", ""), "status",
                     down ? (degraded ? "degraded" : "down") : "up");
    data_text = json_dumps(data, JSON_COMPACT);
    if (down) {
        char every[16];
        snprintf(every, sizeof(every), "%lld",
                 (long long)json_integer_value(json_object_get(inc, "reminder_minutes")));
        const char *p[] = {incident, tenant, endpoint, data_text, every};
        st = store_query(c, NULL, NULL,
                         "INSERT INTO public.notify_pending (incident_id, tenant_id, endpoint_id,"
                         " data) VALUES ($1::uuid, $2, $3::uuid, $4::jsonb) ON CONFLICT DO NOTHING",
                         4, p);
        if (st == SW_OK && strcmp(every, "0") != 0)
            st = store_query(c, NULL, NULL,
                             "INSERT INTO public.notify_reminders (incident_id, tenant_id,"
                             " endpoint_id, data, every_minutes, due_at)"
                             " VALUES ($1::uuid, $2, $3::uuid, $4::jsonb, $5::int,"
                             "  now() + $5::int * interval '1 minute') ON CONFLICT DO NOTHING",
                             5, p);
        if (st == SW_OK)
            st = store_tx_commit(c);
        goto out;
    }
    /* Up: the outage first if it was still held (never lose it), then the recovery. */
    {
        const char *p[] = {incident};
        st = store_query(c, NULL, NULL, "DELETE FROM public.notify_reminders"
                                        " WHERE incident_id = $1::uuid", 1, p);
        if (st == SW_OK)
            st = store_query(c, &held, NULL,
                             "DELETE FROM public.notify_pending WHERE incident_id = $1::uuid"
                             " RETURNING data", 1, p);
    }
    if (st == SW_OK)
        st = notify_targets(c, endpoint, &channels);
    if (st == SW_OK && json_array_size(held) > 0) {
        snprintf(dedup, sizeof(dedup), "%s:opened", incident);
        st = notify_queue(c, ids, channels, "incident.opened", incident, endpoint, dedup,
                          json_object_get(json_array_get(held, 0), "data"));
    }
    if (inc)
        json_object_set(data, "duration_seconds", json_object_get(inc, "duration_seconds"));
    snprintf(dedup, sizeof(dedup), "%s:resolved", incident);
    if (st == SW_OK)
        st = notify_queue(c, ids, channels, "incident.resolved", incident, endpoint, dedup, data);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st == SW_OK)
        st = notify_publish_jobs(a, tenant, ids, NULL);
out:
    if (c)
        store_release(app->common->db, c);
    free(data_text);
    json_decref(held);
    json_decref(inc);
    json_decref(data);
    json_decref(ids);
    json_decref(channels);
    json_decref(evt);
    return st;
}

/* A tls.expiring event: one notification per channel of the endpoint. */
static sw_status on_tls(bus_actor *a, notify_app *app, natsMsg *m)
{
    char tenant[BUS_TENANT_MAX], dedup[200];
    json_t *evt = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    json_t *channels = NULL, *ids = json_array(), *data = NULL;
    const char *endpoint = json_string_value(json_object_get(evt, "endpoint_id"));
    store_conn *c = NULL;
    sw_status st = SW_OK;
    if (!bus_subject_event_tenant(natsMsg_GetSubject(m), tenant) || !sw_tenant_id_valid(tenant) ||
        !bus_uuid_valid(endpoint))
        goto out;
    data = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "endpoint_id", endpoint, "endpoint_name",
                     str_or(evt, "endpoint_name", ""), "url", str_or(evt, "url", ""),
                     "expires_at", str_or(evt, "expires_at", ""), "days_left",
                     json_integer_value(json_object_get(evt, "days_left")), "threshold_days",
                     json_integer_value(json_object_get(evt, "threshold_days")), "issuer",
                     str_or(evt, "issuer", ""), "subject", str_or(evt, "subject", ""));
    snprintf(dedup, sizeof(dedup), "tls:%s:%.40s:%lld", endpoint, str_or(evt, "expires_at", ""),
             (long long)json_integer_value(json_object_get(evt, "threshold_days")));
    c = store_acquire_tenant(app->common->db, tenant);
    st = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
    if (st == SW_OK)
        st = channels_seed(c);
    if (st == SW_OK)
        st = notify_targets(c, endpoint, &channels);
    if (st == SW_OK)
        st = notify_queue(c, ids, channels, "tls.expiring", NULL, endpoint, dedup, data);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st == SW_OK)
        st = notify_publish_jobs(a, tenant, ids, NULL);
out:
    if (c)
        store_release(app->common->db, c);
    json_decref(data);
    json_decref(ids);
    json_decref(channels);
    json_decref(evt);
    return st;
}

void notify_tls_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    for (int i = 0; i < n; i++) {
        sw_status st = on_tls(a, app, msgs[i]);
        if (st == SW_OK)
            bus_msg_ack(nc, msgs[i]);
        else
            bus_msg_nak(nc, msgs[i], BUS_ALERT_RETRY_MS);
        natsMsg_Destroy(msgs[i]);
    }
}

void notify_events_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    for (int i = 0; i < n; i++) {
        sw_status st = on_event(a, app, msgs[i]);
        if (st == SW_OK) {
            bus_msg_ack(nc, msgs[i]);
        } else {
            sw_log(SW_LOG_WARN, "outage notifications not queued yet; will retry", "status",
                   sw_status_name(st), NULL);
            bus_msg_nak(nc, msgs[i], BUS_ALERT_RETRY_MS);
        }
        natsMsg_Destroy(msgs[i]);
    }
}

/* ---- rendering ---------------------------------------------------------------------------- */

typedef struct message {
    char title[300];
    char text[1200];
    bool bad;  /* down/degraded */
    bool good; /* resolved */
} message;

static void duration_text(char *out, size_t len, long long s)
{
    if (s >= 3600)
        snprintf(out, len, "%lldh %02lldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        snprintf(out, len, "%lldm %02llds", s / 60, s % 60);
    else
        snprintf(out, len, "%llds", s);
}

static void render(message *msg, const char *kind, const json_t *data, const char *channel_name)
{
    const char *name = str_or(data, "endpoint_name", "");
    const char *url = str_or(data, "url", "");
    const char *cause = str_or(data, "cause", "");
    memset(msg, 0, sizeof(*msg));
    if (strcmp(kind, "incident.opened") == 0 || strcmp(kind, "reminder") == 0) {
        bool degraded = strcmp(str_or(data, "status", ""), "degraded") == 0;
        msg->bad = true;
        snprintf(msg->title, sizeof(msg->title), "%s%.200s is %s",
                 strcmp(kind, "reminder") == 0 ? "Still: " : "", name,
                 degraded ? "DEGRADED" : "DOWN");
        snprintf(msg->text, sizeof(msg->text), "%.200s (%.600s) is %s. Last error: %.300s", name,
                 url, degraded ? "degraded" : "down", *cause ? cause : "unknown");
    } else if (strcmp(kind, "incident.resolved") == 0) {
        char d[40];
        duration_text(d, sizeof(d), (long long)json_integer_value(
                                        json_object_get(data, "duration_seconds")));
        msg->good = true;
        snprintf(msg->title, sizeof(msg->title), "%.200s is back UP", name);
        snprintf(msg->text, sizeof(msg->text), "%.200s (%.600s) is up again after %s down.", name,
                 url, d);
    } else if (strcmp(kind, "rollup") == 0) {
        json_t *list = json_object_get(data, "incidents"), *it;
        size_t i, n = json_array_size(list), used = 0;
        msg->bad = true;
        snprintf(msg->title, sizeof(msg->title), "%zu endpoints are DOWN", n);
        json_array_foreach(list, i, it)
        {
            int w = snprintf(msg->text + used, sizeof(msg->text) - used, "%s- %.80s (%.120s)",
                             i ? "\n" : "", str_or(it, "endpoint_name", ""), str_or(it, "url", ""));
            if (w < 0 || (size_t)w >= sizeof(msg->text) - used) {
                msg->text[used] = '\0';
                snprintf(msg->text + used, sizeof(msg->text) - used, "\n... and %zu more", n - i);
                break;
            }
            used += (size_t)w;
        }
    } else if (strcmp(kind, "tls.expiring") == 0) {
        msg->bad = true;
        snprintf(msg->title, sizeof(msg->title), "Certificate of %.200s expires soon", name);
        snprintf(msg->text, sizeof(msg->text),
                 "The TLS certificate of %.200s (%.600s) expires %.40s, in %lld days.", name, url,
                 str_or(data, "expires_at", "soon"),
                 (long long)json_integer_value(json_object_get(data, "days_left")));
    } else {
        snprintf(msg->title, sizeof(msg->title), "Test notification");
        snprintf(msg->text, sizeof(msg->text),
                 "This is a test notification from StatusWatch for the channel \"%.200s\".",
                 channel_name);
    }
}

/* ---- one delivery ------------------------------------------------------------------------- */

typedef struct delivery {
    natsMsg *msg; /* owned */
    char tenant[BUS_TENANT_MAX];
    char id[40];
    char incident[40];
    char channel_id[40];
    char channel_kind[16];
    int attempt;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char answer[BODY_KEEP + 1];
    size_t answer_len;
    char errbuf[CURL_ERROR_SIZE];
    bool blocked;
    bool trusted; /* a settings URL (PagerDuty, Telegram): not the URL policy's */
    const url_policy *policy;
} delivery;

static void delivery_free(delivery *d)
{
    if (!d)
        return;
    if (d->easy)
        curl_easy_cleanup(d->easy);
    curl_slist_free_all(d->headers);
    free(d->body);
    if (d->msg)
        natsMsg_Destroy(d->msg);
    free(d);
}

static curl_socket_t on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    delivery *d = arg;
    if (purpose != CURLSOCKTYPE_IPCXN ||
        (!d->trusted && !url_policy_addr_allowed(d->policy, &addr->addr))) {
        d->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    delivery *d = arg;
    size_t len = size * n, room = BODY_KEEP - d->answer_len;
    size_t take = len < room ? len : room;
    memcpy(d->answer + d->answer_len, ptr, take);
    d->answer_len += take;
    d->answer[d->answer_len] = '\0';
    return len;
}

static void header(delivery *d, const char *name, const char *value)
{
    char line[600];
    snprintf(line, sizeof(line), "%s: %s", name, value);
    d->headers = curl_slist_append(d->headers, line);
}

/* The Standard Webhooks signature of "<id>.<ts>.<body>" with the secret's base64 key. */
static bool sign_webhook(char *out, size_t len, const char *secret, const char *id, const char *ts,
                         const char *body)
{
    unsigned char key[128], mac[crypto_auth_hmacsha256_BYTES];
    size_t kl = 0;
    crypto_auth_hmacsha256_state s;
    if (!secret || strncmp(secret, "whsec_", 6) != 0 ||
        sodium_base642bin(key, sizeof(key), secret + 6, strlen(secret + 6), NULL, &kl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    crypto_auth_hmacsha256_init(&s, key, kl);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&s, mac);
    sodium_memzero(key, sizeof(key));
    char b64[sodium_base64_ENCODED_LEN(sizeof(mac), sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, len, "v1,%s", b64);
    return true;
}

/* Builds the request of a notification row (with its channel's config and unsealed secrets)
 * on d. Returns false when it cannot be built (a broken row: failed, not retried). For email,
 * queues the mail instead and sets *mailed. */
static bool build(delivery *d, notify_app *app, bus_actor *a, const json_t *row,
                  const json_t *cfg, const json_t *sec, bool *mailed)
{
    const char *kind = str_or(row, "kind", "test");
    const json_t *data = json_object_get(row, "payload");
    message msg;
    char url[2300];
    json_t *body = NULL;
    render(&msg, kind, data, str_or(row, "channel_name", ""));
    *mailed = false;
    const char *ck = d->channel_kind;

    if (strcmp(ck, "email") == 0) {
        size_t i;
        json_t *addr;
        /* The outage mail of before issue 19 for down and up; the rest (degraded, reminders,
         * roll-ups, certificates, tests) in the generic template. */
        bool outage = (strcmp(kind, "incident.opened") == 0 &&
                       strcmp(str_or(data, "status", "down"), "down") == 0) ||
                      strcmp(kind, "incident.resolved") == 0;
        json_array_foreach(json_object_get(cfg, "addresses"), i, addr)
        {
            char mid[200];
            json_t *vars =
                outage ? json_pack("{s:s,s:s,s:s}", "endpoint_name",
                                   str_or(data, "endpoint_name", ""), "url", str_or(data, "url", ""),
                                   "cause", str_or(data, "cause", ""))
                       : json_pack("{s:s,s:s}", "title", msg.title, "text", msg.text);
            snprintf(mid, sizeof(mid), "mail:%s:%zu", d->id, i);
            sw_status st = mail_enqueue(bus_actor_js(a),
                                        outage ? (msg.good ? "endpoint_up" : "endpoint_down")
                                               : "notification",
                                        json_string_value(addr), vars, mid, NULL);
            json_decref(vars);
            if (st != SW_OK)
                return false;
        }
        *mailed = true;
        return true;
    }
    if (strcmp(ck, "webhook") == 0) {
        /* The Standard Webhooks body; a roll-up is an incident.opened listing its incidents. */
        body = json_pack("{s:s,s:s,s:s,s:O}", "type",
                         strcmp(kind, "rollup") == 0 ? "incident.opened" : kind, "id", d->id,
                         "created_at",
                         str_or(row, "created_at", ""), "data", data);
        snprintf(url, sizeof(url), "%s", str_or(cfg, "url", ""));
    } else if (strcmp(ck, "slack") == 0) {
        char md[1600];
        snprintf(md, sizeof(md), "*%.300s*\n%.1200s", msg.title, msg.text);
        body = json_pack("{s:s,s:[{s:s,s:{s:s,s:s}},{s:s,s:{s:s,s:s}}]}", "text", md, "blocks",
                         "type", "header", "text", "type", "plain_text", "text", msg.title, "type",
                         "section", "text", "type", "mrkdwn", "text", msg.text);
        snprintf(url, sizeof(url), "%s", str_or(sec, "url", ""));
    } else if (strcmp(ck, "discord") == 0) {
        int color = msg.bad ? 0xE01E5A : msg.good ? 0x2EB67D : 0x5865F2;
        body = json_pack("{s:s,s:[{s:s,s:s,s:i}]}", "content", msg.title, "embeds", "title",
                         msg.title, "description", msg.text, "color", color);
        snprintf(url, sizeof(url), "%s", str_or(sec, "url", ""));
    } else if (strcmp(ck, "teams") == 0) {
        body = json_pack("{s:s,s:[{s:s,s:n,s:{s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:b},"
                         "{s:s,s:s,s:b}]}}]}",
                         "type", "message", "attachments", "contentType",
                         "application/vnd.microsoft.card.adaptive", "contentUrl", "content",
                         "$schema", "http://adaptivecards.io/schemas/adaptive-card.json", "type",
                         "AdaptiveCard", "version", "1.4", "body", "type", "TextBlock", "text",
                         msg.title, "weight", "Bolder", "size", "Medium", "wrap", 1, "type",
                         "TextBlock", "text", msg.text, "wrap", 1);
        snprintf(url, sizeof(url), "%s", str_or(sec, "url", ""));
    } else if (strcmp(ck, "pagerduty") == 0) {
        const char *dedup = *d->incident ? d->incident : d->id;
        body = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:s}", "routing_key",
                         str_or(sec, "routing_key", ""), "event_action",
                         msg.good ? "resolve" : "trigger", "dedup_key", dedup, "payload",
                         "summary", msg.title, "source",
                         *str_or(data, "url", "") ? str_or(data, "url", "") : "StatusWatch",
                         "severity", strcmp(kind, "test") == 0 ? "info" : "critical", "client",
                         "StatusWatch");
        snprintf(url, sizeof(url), "%s/v2/enqueue", app->pagerduty_base);
        d->trusted = true;
    } else if (strcmp(ck, "telegram") == 0) {
        char text[1600];
        snprintf(text, sizeof(text), "%.300s\n\n%.1200s", msg.title, msg.text);
        body = json_pack("{s:s,s:s}", "chat_id", str_or(cfg, "chat_id", ""), "text", text);
        snprintf(url, sizeof(url), "%s/bot%s/sendMessage", app->telegram_base,
                 str_or(sec, "bot_token", ""));
        d->trusted = true;
    } else if (strcmp(ck, "ntfy") == 0) {
        snprintf(url, sizeof(url), "%s", str_or(cfg, "url", ""));
        d->body = strdup(msg.text);
        header(d, "Title", msg.title);
        header(d, "Priority", msg.bad ? "urgent" : "default");
        header(d, "Tags", msg.bad ? "rotating_light" : msg.good ? "white_check_mark" : "bell");
        const char *tok = str_or(sec, "token", NULL);
        if (tok) {
            char auth[300];
            snprintf(auth, sizeof(auth), "Bearer %s", tok);
            header(d, "Authorization", auth);
        }
        header(d, "Content-Type", "text/plain; charset=utf-8");
    } else {
        return false;
    }
    if (body) {
        d->body = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        header(d, "Content-Type", "application/json");
    }
    if (!d->body || !url[0])
        return false;
    if (strcmp(ck, "webhook") == 0) {
        char ts[24], sig[128];
        snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
        if (!sign_webhook(sig, sizeof(sig), str_or(sec, "secret", NULL), d->id, ts, d->body))
            return false;
        header(d, "webhook-id", d->id);
        header(d, "webhook-timestamp", ts);
        header(d, "webhook-signature", sig);
    }
    d->easy = curl_easy_init();
    if (!d->easy)
        return false;
    CURL *h = d->easy;
    d->policy = app->policy;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, d);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* a receiver answers, it does not redirect */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, app->timeout_s * 1000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, app->timeout_s * 1000L);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, d);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "StatusWatch-Notify/1.0");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt(h, CURLOPT_CAINFO, CA_BUNDLE);
    sodium_memzero(url, sizeof(url));
    return true;
}

/* Writes the outcome: delivered, or another attempt, or failed for good. */
static sw_status record(notify_app *app, delivery *d, const char *status, const char *error)
{
    char attempts[16];
    snprintf(attempts, sizeof(attempts), "%d", d->attempt);
    store_conn *c = store_acquire_tenant(app->common->db, d->tenant);
    sw_status st = c ? store_tx_begin_tenant(c, d->tenant) : SW_EUNAVAILABLE;
    if (st == SW_OK) {
        const char *p[] = {d->id, status, attempts, error};
        st = store_query(c, NULL, NULL,
                         "UPDATE notifications SET status = $2, attempts = $3::int,"
                         " last_error = left($4, 300), updated_at = now(),"
                         " delivered_at = CASE WHEN $2 = 'delivered' THEN now() END"
                         " WHERE id = $1::uuid",
                         4, p);
    }
    if (st == SW_OK && *d->incident && strcmp(status, "pending") != 0) {
        const char *p[] = {d->incident, strcmp(status, "delivered") == 0 ? "notification_sent"
                                                                          : "notification_failed",
                           d->id, d->channel_id, d->channel_kind};
        st = store_query(c, NULL, NULL,
                         "INSERT INTO incident_events (incident_id, type, detail)"
                         " SELECT $1::uuid, $2, jsonb_build_object('notification_id', $3::text,"
                         "  'channel_id', nullif($4::text, ''), 'channel_kind', $5::text,"
                         "  'kind', n.kind)"
                         " FROM notifications n WHERE n.id = $3::uuid",
                         5, p);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (c)
        store_release(app->common->db, c);
    return st;
}

/* Copies the job to the dead-letter stream and terminates it (a WorkQueue term deletes it). */
static void dead_letter(bus_actor *a, delivery *d, const char *reason)
{
    natsMsg *dlq = NULL;
    jsErrCode jerr = 0;
    uint64_t seq = 0, n = 0;
    char id[64], seq_s[24];
    bus_msg_meta(d->msg, &n, &seq);
    snprintf(id, sizeof(id), BUS_ID_DLQ_FMT, BUS_STREAM_JOBS, (unsigned long long)seq);
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
    if (natsMsg_Create(&dlq, BUS_SUBJ_DLQ_JOBS, NULL, natsMsg_GetData(d->msg),
                       natsMsg_GetDataLength(d->msg)) == NATS_OK) {
        natsMsgHeader_Set(dlq, BUS_H_CONTENT_TYPE, "application/json");
        natsMsgHeader_Set(dlq, BUS_H_MSG_ID, id);
        natsMsgHeader_Set(dlq, BUS_H_DLQ_REASON, reason);
        natsMsgHeader_Set(dlq, BUS_H_DLQ_SUBJECT, natsMsg_GetSubject(d->msg));
        natsMsgHeader_Set(dlq, BUS_H_DLQ_SEQ, seq_s);
        if (js_PublishMsg(NULL, bus_actor_js(a), dlq, NULL, &jerr) != NATS_OK)
            sw_log(SW_LOG_WARN, "failed delivery not copied to the dead-letter stream",
                   "notification_id", d->id, NULL);
        natsMsg_Destroy(dlq);
    }
    bus_msg_term(bus_actor_conn(a), d->msg);
}

/* After an attempt: retry (transport error, 408, 429, 5xx) or finish. */
static void finish(bus_actor *a, notify_app *app, delivery *d, long http, CURLcode rc)
{
    char err[400] = "";
    bool retry = false, ok = false;
    if (d->blocked) {
        snprintf(err, sizeof(err), "blocked by the URL policy");
    } else if (rc != CURLE_OK) {
        snprintf(err, sizeof(err), "%s",
                 rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc));
        retry = true;
    } else if (http >= 200 && http < 300) {
        ok = true;
    } else {
        snprintf(err, sizeof(err), "HTTP %ld", http);
        retry = http == 408 || http == 429 || http >= 500;
    }
    natsConnection *nc = bus_actor_conn(a);
    bool last = d->attempt >= BUS_DELIVERY_MAX_DELIVER;
    const char *status = ok ? "delivered" : (retry && !last) ? "pending" : "failed";
    if (record(app, d, status, ok ? NULL : err) != SW_OK) {
        bus_msg_nak(nc, d->msg, BUS_ALERT_RETRY_MS); /* the outcome is not stored: again */
        return;
    }
    char n[16];
    snprintf(n, sizeof(n), "%d", d->attempt);
    if (ok) {
        bus_msg_ack(nc, d->msg);
        sw_log(SW_LOG_INFO, "notification delivered", "notification_id", d->id, "channel_kind",
               d->channel_kind, "attempt", n, NULL);
    } else if (retry && !last) {
        int delay = backoff_s[d->attempt - 1 < BUS_DELIVERY_NBACKOFF ? d->attempt - 1
                                                                     : BUS_DELIVERY_NBACKOFF - 1];
        bus_msg_nak(nc, d->msg, (int64_t)delay * 1000);
        sw_log(SW_LOG_WARN, "notification not delivered; will retry", "notification_id", d->id,
               "channel_kind", d->channel_kind, "error", err, "attempt", n, NULL);
    } else {
        sw_log(SW_LOG_WARN, "notification failed", "notification_id", d->id, "channel_kind",
               d->channel_kind, "error", err, "attempt", n, NULL);
        dead_letter(a, d, err);
    }
}

/* Loads the job's row; NULL (and the message acked or nak'd) when there is nothing to send. */
static delivery *prepare(bus_actor *a, notify_app *app, natsMsg *m, bool *mailed)
{
    natsConnection *nc = bus_actor_conn(a);
    json_t *job = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    json_t *row = NULL, *sec = NULL;
    store_conn *c = NULL;
    uint64_t n = 1, seq = 0;
    delivery *d = calloc(1, sizeof(*d));
    const char *tenant = json_string_value(json_object_get(job, "tenant_id"));
    const char *nid = json_string_value(json_object_get(job, "notification_id"));
    sw_status st;
    *mailed = false;
    if (!d)
        goto retry;
    if (!sw_tenant_id_valid(tenant) || !bus_uuid_valid(nid)) {
        sw_log(SW_LOG_ERROR, "delivery job dropped: malformed", NULL);
        bus_msg_term(nc, m);
        goto done;
    }
    snprintf(d->tenant, sizeof(d->tenant), "%s", tenant);
    snprintf(d->id, sizeof(d->id), "%s", nid);
    bus_msg_meta(m, &n, &seq);
    d->attempt = n > 0 && n < 1000 ? (int)n : 1;
    c = store_acquire_tenant(app->common->db, tenant);
    st = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
    if (st == SW_OK) {
        const char *p[] = {nid};
        st = store_query_one(c, &row,
                             "SELECT n.kind, n.status, n.channel_name, n.channel_kind,"
                             " coalesce(n.incident_id::text, '') AS incident_id,"
                             " coalesce(n.channel_id::text, '') AS channel_id, n.payload,"
                             " to_char(n.created_at AT TIME ZONE 'UTC',"
                             "  'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS created_at,"
                             " ch.config, ch.sealed, ch.id IS NOT NULL AS has_channel"
                             " FROM notifications n LEFT JOIN channels ch ON ch.id = n.channel_id"
                             " WHERE n.id = $1::uuid",
                             1, p);
    }
    if (c)
        store_release(app->common->db, c);
    if (st == SW_ENOTFOUND || (st == SW_OK && strcmp(str_or(row, "status", ""), "pending") != 0)) {
        bus_msg_ack(nc, m); /* gone, or already done */
        goto done;
    }
    if (st != SW_OK)
        goto retry;
    snprintf(d->incident, sizeof(d->incident), "%s", str_or(row, "incident_id", ""));
    snprintf(d->channel_id, sizeof(d->channel_id), "%s", str_or(row, "channel_id", ""));
    snprintf(d->channel_kind, sizeof(d->channel_kind), "%s", str_or(row, "channel_kind", ""));
    d->msg = m;
    if (!json_is_true(json_object_get(row, "has_channel"))) {
        record(app, d, "failed", "the channel was deleted");
        bus_msg_ack(nc, m);
        d->msg = NULL;
        goto done;
    }
    if (channels_unseal(&sec, app, json_string_value(json_object_get(row, "sealed"))) != SW_OK ||
        !build(d, app, a, row, json_object_get(row, "config"), sec, mailed)) {
        if (record(app, d, "failed", "the channel's configuration cannot be used") == SW_OK)
            bus_msg_term(nc, m);
        else
            bus_msg_nak(nc, m, BUS_ALERT_RETRY_MS);
        d->msg = NULL;
        goto done;
    }
    if (*mailed) {
        if (record(app, d, "delivered", NULL) == SW_OK)
            bus_msg_ack(nc, m);
        else
            bus_msg_nak(nc, m, BUS_ALERT_RETRY_MS);
        d->msg = NULL;
        goto done;
    }
    json_decref(sec);
    json_decref(row);
    json_decref(job);
    return d;
retry:
    bus_msg_nak(nc, m, BUS_ALERT_RETRY_MS);
done:
    if (d && d->msg == m)
        d->msg = NULL;
    natsMsg_Destroy(m);
    delivery_free(d);
    json_decref(sec);
    json_decref(row);
    json_decref(job);
    return NULL;
}

void notify_deliver_batch(bus_actor *a, void *p, natsMsg **msgs, int n)
{
    notify_app *app = p;
    CURLM *multi = curl_multi_init();
    int running = 0;
    for (int i = 0; i < n; i++) {
        bool mailed = false;
        delivery *d = prepare(a, app, msgs[i], &mailed);
        if (!d)
            continue;
        if (!multi || curl_multi_add_handle(multi, d->easy) != CURLM_OK) {
            bus_msg_nak(bus_actor_conn(a), d->msg, BUS_ALERT_RETRY_MS);
            delivery_free(d);
            continue;
        }
        running++;
    }
    /* Every request of the batch at once; each is recorded and acked when it ends. */
    while (multi && running > 0) {
        int still = 0, left = 0;
        curl_multi_perform(multi, &still);
        CURLMsg *cm;
        while ((cm = curl_multi_info_read(multi, &left))) {
            if (cm->msg != CURLMSG_DONE)
                continue;
            delivery *d = NULL;
            long http = 0;
            CURL *h = cm->easy_handle;
            CURLcode rc = cm->data.result;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&d);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
            curl_multi_remove_handle(multi, h);
            finish(a, app, d, http, rc);
            delivery_free(d);
            running--;
        }
        if (running > 0)
            curl_multi_poll(multi, NULL, 0, 200, NULL);
    }
    if (multi)
        curl_multi_cleanup(multi);
}
