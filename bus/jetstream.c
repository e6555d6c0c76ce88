/* Pull requests, asynchronous publishes and acks on the JetStream wire protocol. See
 * jetstream.h for the contract and for why the client library's Fetch is not used. */
#include "bus/jetstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/clock.h"
#include "bus/config.h"
#include "bus/log.h"

/* How long a pull request stays open at the server, and how much longer the client waits for
 * its end (a 408) before treating it as lost, e.g. across a reconnect. Short, because a
 * request outlives a client that dies: nats-server 2.9 keeps offering it messages, and each
 * failed delivery counts against the message's MaxDeliver. */
#define PULL_EXPIRES_MS 1000
#define PULL_GRACE_MS 1000

void bus_inbox_prefix(char *out, size_t len)
{
    const char *set = sw_config_str("SW_NATS_INBOX_PREFIX", "");
    const char *user = sw_config_str("SW_NATS_USER", NULL);
    if (set[0])
        snprintf(out, len, "%s", set);
    else if (user && user[0])
        snprintf(out, len, "_INBOX_%s", user);
    else
        snprintf(out, len, "_INBOX");
}

void bus_js_api_prefix(char *out, size_t len)
{
    const char *domain = sw_config_str("SW_JS_DOMAIN", "");
    if (domain[0])
        snprintf(out, len, "$JS.%s.API", domain);
    else
        snprintf(out, len, "$JS.API");
}

/* ---------------------------------------------------------------- acks */

static sw_status ack_send(natsConnection *nc, natsMsg *m, const char *body)
{
    const char *reply = natsMsg_GetReply(m);
    if (!nc || !reply || strncmp(reply, "$JS.ACK.", 8) != 0)
        return SW_EINVAL;
    natsStatus s = natsConnection_PublishString(nc, reply, body);
    return s == NATS_OK ? SW_OK : SW_EUNAVAILABLE;
}

sw_status bus_msg_ack(natsConnection *nc, natsMsg *m)
{
    return ack_send(nc, m, "+ACK");
}

sw_status bus_msg_nak(natsConnection *nc, natsMsg *m, int64_t delay_ms)
{
    char body[64];
    if (delay_ms <= 0)
        return ack_send(nc, m, "-NAK");
    snprintf(body, sizeof(body), "-NAK {\"delay\":%lld}", (long long)(delay_ms * SW_NS_PER_MS));
    return ack_send(nc, m, body);
}

sw_status bus_msg_in_progress(natsConnection *nc, natsMsg *m)
{
    return ack_send(nc, m, "+WPI");
}

sw_status bus_msg_term(natsConnection *nc, natsMsg *m)
{
    return ack_send(nc, m, "+TERM");
}

bool bus_msg_meta(const natsMsg *m, uint64_t *delivered, uint64_t *stream_seq)
{
    /* $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>, or
     * with <domain>.<account hash> after $JS.ACK and a random token at the end (12 tokens). */
    const char *reply = natsMsg_GetReply((natsMsg *)m);
    const char *tok[13];
    int n = 0;
    if (!reply || strncmp(reply, "$JS.ACK.", 8) != 0)
        return false;
    tok[n++] = reply;
    for (const char *c = reply; *c && n < 13; c++)
        if (*c == '.')
            tok[n++] = c + 1;
    int first = n == 9 ? 4 : n >= 11 ? 6 : -1; /* index of <delivered> */
    if (first < 0)
        return false;
    char *end = NULL;
    unsigned long long d = strtoull(tok[first], &end, 10);
    if (end == tok[first] || *end != '.')
        return false;
    unsigned long long seq = strtoull(tok[first + 1], &end, 10);
    if (end == tok[first + 1] || *end != '.')
        return false;
    if (delivered)
        *delivered = d;
    if (stream_seq)
        *stream_seq = seq;
    return true;
}

/* ---------------------------------------------------------------- pull consumer */

struct bus_pull {
    natsConnection *nc;
    natsSubscription *sub; /* <inbox>.* ; the last token numbers the request */
    char inbox[128];
    char next_subject[256];
    uint64_t request;       /* number of the open (or last) request */
    int outstanding;        /* messages the open request may still bring */
    int64_t deadline_ns;    /* after this the open request is considered over */
    int64_t quiet_until_ns; /* no request before this (nobody answered the last one) */
};

/* A fresh inbox "<prefix>.<random>" and a sync subscription on "<inbox>.*", whose last token
 * numbers what the replies answer (a pull request, a publish). */
static natsStatus inbox_subscribe(natsSubscription **sub, natsConnection *nc,
                                  const char *inbox_prefix, char *inbox, size_t len)
{
    char token[24], subject[160];
    sw_random_hex(token, 11);
    snprintf(inbox, len, "%s.%s", inbox_prefix, token);
    snprintf(subject, sizeof(subject), "%s.*", inbox);
    return natsConnection_SubscribeSync(sub, nc, subject);
}

static void inbox_unsubscribe(natsSubscription *sub)
{
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
}

sw_status bus_pull_new(bus_pull **out, natsConnection *nc, const char *inbox_prefix,
                       const char *api_prefix, const char *stream, const char *consumer)
{
    *out = NULL;
    bus_pull *p = calloc(1, sizeof(*p));
    if (!p)
        return SW_EINTERNAL;
    p->nc = nc;
    snprintf(p->next_subject, sizeof(p->next_subject), "%s.CONSUMER.MSG.NEXT.%s.%s", api_prefix,
             stream, consumer);
    if (inbox_subscribe(&p->sub, nc, inbox_prefix, p->inbox, sizeof(p->inbox)) != NATS_OK) {
        free(p);
        return SW_EUNAVAILABLE;
    }
    *out = p;
    return SW_OK;
}

static uint64_t last_token(const char *subject)
{
    const char *dot = strrchr(subject, '.');
    return dot ? strtoull(dot + 1, NULL, 10) : 0;
}

/* If m is a status (no body, a Status header), ends the open request when the status is
 * about it and not a heartbeat, destroys m and returns true. 404 no messages, 408 expired, 409
 * consumer gone or leadership moved. A status comes on the reply subject, so one of an older
 * request is told apart (and changes nothing); a delivery keeps its own subject. */
static bool pull_status(bus_pull *p, natsMsg *m)
{
    const char *status = NULL;
    if (natsMsg_GetDataLength(m) != 0 || natsMsgHeader_Get(m, "Status", &status) != NATS_OK ||
        !status)
        return false;
    if (last_token(natsMsg_GetSubject(m)) == p->request && strcmp(status, "100") != 0) {
        p->outstanding = 0;
        /* An expiry is routine; anything else (409) is not asked again at once. */
        if (strcmp(status, "408") != 0)
            p->quiet_until_ns = sw_now_ns() + 100 * SW_NS_PER_MS;
    }
    natsMsg_Destroy(m);
    return true;
}

/* Lets the open request end before the subscription goes (see PULL_EXPIRES_MS): what it still
 * brings is held, then given back once, so no message is offered to a reply subject nobody
 * reads and none comes straight back to this request. */
static void pull_close_request(bus_pull *p)
{
    natsMsg **held = NULL;
    int nheld = 0, cap = 0;
    for (;;) {
        natsMsg *m = NULL;
        int queued = 0;
        bool open = p->outstanding > 0 && sw_now_ns() < p->deadline_ns &&
                    natsConnection_Status(p->nc) == NATS_CONN_STATUS_CONNECTED;
        natsSubscription_GetPending(p->sub, &queued, NULL);
        if (!open && queued == 0)
            break;
        if (natsSubscription_NextMsg(&m, p->sub, queued > 0 ? 0 : 100) != NATS_OK) {
            if (queued > 0)
                break; /* the subscription is gone with its connection */
            continue;
        }
        if (pull_status(p, m))
            continue;
        if (p->outstanding > 0)
            p->outstanding--;
        if (nheld == cap) {
            natsMsg **more = realloc(held, (size_t)(cap ? cap * 2 : 64) * sizeof(*held));
            if (!more) {
                bus_msg_nak(p->nc, m, 0);
                natsMsg_Destroy(m);
                continue;
            }
            held = more;
            cap = cap ? cap * 2 : 64;
        }
        held[nheld++] = m;
    }
    for (int i = 0; i < nheld; i++) {
        bus_msg_nak(p->nc, held[i], 0);
        natsMsg_Destroy(held[i]);
    }
    free(held);
}

void bus_pull_free(bus_pull *p)
{
    if (!p)
        return;
    pull_close_request(p);
    inbox_unsubscribe(p->sub);
    free(p);
}

static void pull_request(bus_pull *p, int batch)
{
    char reply[160], body[96];
    p->request++;
    snprintf(reply, sizeof(reply), "%s.%llu", p->inbox, (unsigned long long)p->request);
    snprintf(body, sizeof(body), "{\"batch\":%d,\"expires\":%lld}", batch,
             (long long)PULL_EXPIRES_MS * SW_NS_PER_MS);
    if (natsConnection_PublishRequestString(p->nc, p->next_subject, reply, body) != NATS_OK) {
        p->outstanding = 0; /* disconnected: ask again on the next call */
        return;
    }
    p->outstanding = batch;
    p->deadline_ns = sw_now_ns() + (PULL_EXPIRES_MS + PULL_GRACE_MS) * SW_NS_PER_MS;
}

/* NextMsg with no wait records an error (formatted text) when nothing is queued: in a busy
 * loop that cost more CPU than the work. Look first. */
static natsStatus next_msg(natsMsg **m, natsSubscription *sub, int wait_ms)
{
    int queued = 0;
    if (wait_ms <= 0 && (natsSubscription_GetPending(sub, &queued, NULL) != NATS_OK || queued == 0))
        return NATS_TIMEOUT;
    return natsSubscription_NextMsg(m, sub, wait_ms);
}

int bus_pull_take(bus_pull *p, int room, natsMsg **out, int max, int wait_ms)
{
    int n = 0;
    int64_t until = sw_now_ns() + (int64_t)(wait_ms > 0 ? wait_ms : 0) * SW_NS_PER_MS;
    while (n < max) {
        int64_t now = sw_now_ns();
        if (p->outstanding > 0 && now > p->deadline_ns)
            p->outstanding = 0;
        /* Keep a request open while there is room: one that ended (408 at its expiry) is
         * replaced at once, not after this call's wait. */
        if (p->outstanding == 0 && room - n > 0 && now >= p->quiet_until_ns)
            pull_request(p, room - n < max - n ? room - n : max - n);
        natsMsg *m = NULL;
        /* Wait only for the first message; then take what is already here. */
        int wait =
            n == 0 && until > now ? (int)((until - now + SW_NS_PER_MS - 1) / SW_NS_PER_MS) : 0;
        natsStatus s = next_msg(&m, p->sub, wait);
        if (s == NATS_NO_RESPONDERS) {
            /* No consumer answers (the stream is being set up or moved): ask again later. */
            p->outstanding = 0;
            p->quiet_until_ns = sw_now_ns() + 500 * SW_NS_PER_MS;
            break;
        }
        if (s != NATS_OK)
            break;
        if (pull_status(p, m))
            continue;
        /* A delivery: count it against the open request. */
        if (p->outstanding > 0)
            p->outstanding--;
        out[n++] = m;
    }
    return n;
}

bool bus_actor_pull_ready(bus_actor *a, bus_pull **p, const char *stream, const char *consumer)
{
    static __thread int64_t last_complaint;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char inbox[96], api[96];

    if (*p)
        return true;
    bool exists =
        js_GetConsumerInfo(&ci, bus_actor_js(a), stream, consumer, NULL, &jerr) == NATS_OK;
    jsConsumerInfo_Destroy(ci);
    bus_inbox_prefix(inbox, sizeof(inbox));
    bus_js_api_prefix(api, sizeof(api));
    if (exists && bus_pull_new(p, bus_actor_conn(a), inbox, api, stream, consumer) == SW_OK) {
        sw_log(SW_LOG_INFO, "consumer ready", "stream", stream, "consumer", consumer, NULL);
        return true;
    }
    if (sw_now_ns() - last_complaint > 30 * 1000 * SW_NS_PER_MS) {
        sw_log(SW_LOG_WARN, "consumer not available yet (sw-migrate sets up the streams)", "stream",
               stream, "consumer", consumer, NULL);
        last_complaint = sw_now_ns();
    }
    return false;
}

void bus__worker_run(bus_actor *a, const bus_worker *w)
{
    void *app = bus_actor_app(a);
    bus_pull *pull = NULL;
    natsMsg **msgs = NULL;
    int cap = 0;
    char consumer[128] = "";

    if (w->consumer)
        snprintf(consumer, sizeof(consumer), "%s", w->consumer);
    else if (w->consumer_name)
        w->consumer_name(app, consumer, sizeof(consumer));
    while (!bus_actor_stopping(a) || (w->busy && w->busy(app))) {
        bool stopping = bus_actor_stopping(a);
        int n = 0;
        if (w->stream && !pull && !stopping &&
            !bus_actor_pull_ready(a, &pull, w->stream, consumer)) {
            nats_Sleep(500);
        } else if (pull) {
            bus_take t = {stopping ? 0 : w->batch, stopping ? 0 : w->batch, w->wait_ms};
            if (w->plan)
                w->plan(app, stopping, &t);
            if (t.room > cap) {
                natsMsg **grown = realloc(msgs, (size_t)t.room * sizeof(*msgs));
                if (grown) {
                    msgs = grown;
                    cap = t.room;
                }
            }
            if (t.room > cap)
                t.room = cap;
            if (t.ask > t.room)
                t.ask = t.room;
            if (t.room > 0)
                n = bus_pull_take(pull, t.ask, msgs, t.room, t.wait_ms);
        }
        w->handle(a, app, msgs, n);
    }
    /* Messages that arrived after the stop go back at once instead of after the ack wait,
     * once the open pull request has ended. */
    bus_pull_free(pull);
    if (w->done)
        w->done(app);
    free(msgs);
}

/* ---------------------------------------------------------------- asynchronous publishes */

typedef struct apub_slot {
    uint64_t token;
    void *tag;
    int64_t deadline_ns;
    bool used;
} apub_slot;

struct bus_apub {
    natsConnection *nc;
    natsSubscription *sub; /* <inbox>.* ; the last token numbers the publish */
    char inbox[128];
    int timeout_ms;
    apub_slot *ring; /* token & (cap - 1); tokens tail..head-1 may be in use */
    uint64_t cap, head, tail;
    int pending;
};

sw_status bus_apub_new(bus_apub **out, natsConnection *nc, const char *inbox_prefix, int timeout_ms)
{
    *out = NULL;
    bus_apub *p = calloc(1, sizeof(*p));
    if (!p)
        return SW_EINTERNAL;
    p->nc = nc;
    p->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    p->cap = 256;
    p->head = p->tail = 1; /* token 0 is never used: it is what an unparsable subject gives */
    p->ring = calloc(p->cap, sizeof(*p->ring));
    if (!p->ring ||
        inbox_subscribe(&p->sub, nc, inbox_prefix, p->inbox, sizeof(p->inbox)) != NATS_OK) {
        free(p->ring);
        free(p);
        return SW_EUNAVAILABLE;
    }
    *out = p;
    return SW_OK;
}

void bus_apub_free(bus_apub *p)
{
    if (!p)
        return;
    inbox_unsubscribe(p->sub);
    free(p->ring);
    free(p);
}

static bool ring_grow(bus_apub *p)
{
    uint64_t cap = p->cap * 2;
    apub_slot *ring = calloc(cap, sizeof(*ring));
    if (!ring)
        return false;
    for (uint64_t t = p->tail; t < p->head; t++)
        ring[t & (cap - 1)] = p->ring[t & (p->cap - 1)];
    free(p->ring);
    p->ring = ring;
    p->cap = cap;
    return true;
}

sw_status bus_apub_publish(bus_apub *p, const char *subject, const json_t *payload,
                           const char *msg_id, void *tag)
{
    natsMsg *m = NULL;
    char reply[160];
    char *text = NULL;
    sw_status st = SW_EINTERNAL;

    if (p->head - p->tail == p->cap && !ring_grow(p))
        goto out;
    text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        goto out;
    uint64_t token = p->head;
    snprintf(reply, sizeof(reply), "%s.%llu", p->inbox, (unsigned long long)token);
    if (natsMsg_Create(&m, subject, reply, text, (int)strlen(text)) != NATS_OK)
        goto out;
    natsMsgHeader_Set(m, "Content-Type", "application/json");
    if (msg_id)
        natsMsgHeader_Set(m, BUS_H_MSG_ID, msg_id);
    if (natsConnection_PublishMsg(p->nc, m) != NATS_OK) {
        st = SW_EUNAVAILABLE;
        goto out;
    }
    apub_slot *slot = &p->ring[token & (p->cap - 1)];
    slot->token = token;
    slot->tag = tag;
    slot->deadline_ns = sw_now_ns() + p->timeout_ms * SW_NS_PER_MS;
    slot->used = true;
    p->head++;
    p->pending++;
    st = SW_OK;
out:
    natsMsg_Destroy(m);
    free(text);
    return st;
}

/* A PubAck is {"stream":"…","seq":N[,"duplicate":true]}; a refusal is {"error":{…}}. */
static sw_status puback_status(natsMsg *m)
{
    json_t *body = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    sw_status st = SW_EUNAVAILABLE;
    if (json_is_object(body) && !json_object_get(body, "error") &&
        json_is_integer(json_object_get(body, "seq")))
        st = SW_OK;
    else
        sw_log(SW_LOG_WARN, "jetstream publish refused", "reply",
               natsMsg_GetDataLength(m) > 0 ? natsMsg_GetData(m) : "(status only)", NULL);
    json_decref(body);
    return st;
}

int bus_apub_poll(bus_apub *p, int wait_ms, bus_apub_done done, void *arg)
{
    bool first = true;
    while (p->pending > 0) {
        natsMsg *m = NULL;
        natsStatus s = next_msg(&m, p->sub, first ? wait_ms : 0);
        first = false;
        if (s == NATS_NO_RESPONDERS)
            continue; /* consumed by the library; that publish times out below */
        if (s != NATS_OK)
            break;
        uint64_t token = last_token(natsMsg_GetSubject(m));
        apub_slot *slot = &p->ring[token & (p->cap - 1)];
        if (token >= p->tail && token < p->head && slot->used && slot->token == token) {
            slot->used = false;
            p->pending--;
            done(slot->tag, puback_status(m), arg);
        }
        natsMsg_Destroy(m);
    }
    /* Oldest first: a publish with no answer by its deadline failed (lost in a reconnect, or
     * no stream listens: the no-responders status is not passed on by the client library). */
    int64_t now = sw_now_ns();
    while (p->tail < p->head) {
        apub_slot *slot = &p->ring[p->tail & (p->cap - 1)];
        if (slot->used) {
            if (slot->deadline_ns > now)
                break;
            slot->used = false;
            p->pending--;
            done(slot->tag, SW_ETIMEOUT, arg);
        }
        p->tail++;
    }
    return p->pending;
}

int bus_apub_pending(const bus_apub *p)
{
    return p->pending;
}

static void note_first_failure(void *tag, sw_status st, void *arg)
{
    sw_status *first = arg;
    (void)tag;
    if (st != SW_OK && *first == SW_OK)
        *first = st;
}

sw_status bus_apub_flush(bus_apub *p)
{
    sw_status first = SW_OK;
    while (bus_apub_poll(p, 50, note_first_failure, &first) > 0)
        ;
    return first;
}
