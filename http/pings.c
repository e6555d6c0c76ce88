/* Ping routes, ping keys and the per-check limit; see pings.h. */
#include "http/pings.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/clock.h"
#include "bus/log.h"

bool edge_ping_path(const char *path, char uuid[BUS_UUID_LEN + 1], const char **kind,
                    int *exit_status)
{
    size_t pl = strlen(EDGE_PING_PREFIX);
    *kind = NULL;
    *exit_status = -1;
    uuid[0] = '\0';
    if (!path || strncmp(path, EDGE_PING_PREFIX, pl) != 0)
        return false;
    const char *p = path + pl;
    if (strlen(p) < BUS_UUID_LEN)
        return false;
    memcpy(uuid, p, BUS_UUID_LEN);
    uuid[BUS_UUID_LEN] = '\0';
    if (!bus_uuid_valid(uuid))
        goto no;
    p += BUS_UUID_LEN;
    if (*p == '\0' || strcmp(p, "/") == 0) {
        *kind = "success";
        return true;
    }
    if (*p++ != '/')
        goto no;
    char rest[8];
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sizeof(rest) || (p[n] == '/' && p[n + 1] != '\0'))
        goto no;
    memcpy(rest, p, n);
    rest[n] = '\0';
    if (strcmp(rest, "start") == 0) {
        *kind = "start";
        return true;
    }
    if (strcmp(rest, "fail") == 0) {
        *kind = "fail";
        return true;
    }
    if (n <= 3 && strspn(rest, "0123456789") == n) {
        int v = atoi(rest);
        if (v <= 255) {
            *exit_status = v;
            *kind = v == 0 ? "success" : "fail";
            return true;
        }
    }
no:
    uuid[0] = '\0';
    *kind = NULL;
    *exit_status = -1;
    return false;
}

/* The length of the UTF-8 sequence at s[0..left) (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF), 0 when it is not one, -1 when it is cut short by the end. */
static int utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    int n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= left)
            return -1;
        unsigned char b = s[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
            return 0;
    }
    return n;
}

size_t edge_utf8_clean(char *buf, size_t len)
{
    unsigned char *s = (unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        int n = utf8_seq(s + i, len - i);
        if (n < 0)
            return i; /* cut at the end (a body kept to its first bytes) */
        if (n == 0) {
            s[i++] = '?';
            continue;
        }
        i += (size_t)n;
    }
    return len;
}

/* ------------------------------------------------------------------ the map */

#define NBUCKETS 65536

typedef struct entry {
    struct entry *next;
    char hash[BUS_PING_KEY_HASH_HEX + 1];
    char tenant[BUS_TENANT_MAX];
    char endpoint[BUS_UUID_LEN + 1];
    uint64_t window;  /* (second << 8) | pings counted in it; atomic */
    int64_t last_ms;  /* atomic: the receive time given to this key's last ping */
} entry;

struct edge_ping_keys {
    pthread_rwlock_t lock;
    entry **buckets;
    uint64_t loaded_seq; /* atomic: the last stream sequence applied */
};

static size_t bucket_of(const char *hash)
{
    /* The hash is uniformly random hex already. */
    return (size_t)strtoul((char[5]){hash[0], hash[1], hash[2], hash[3], 0}, NULL, 16) % NBUCKETS;
}

sw_status edge_ping_keys_new(edge_ping_keys **out)
{
    edge_ping_keys *k = calloc(1, sizeof(*k));
    *out = NULL;
    if (!k)
        return SW_EINTERNAL;
    k->buckets = calloc(NBUCKETS, sizeof(*k->buckets));
    if (!k->buckets || pthread_rwlock_init(&k->lock, NULL) != 0) {
        free(k->buckets);
        free(k);
        return SW_EINTERNAL;
    }
    *out = k;
    return SW_OK;
}

void edge_ping_keys_free(edge_ping_keys *k)
{
    if (!k)
        return;
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (entry *e = k->buckets[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(k->buckets);
    pthread_rwlock_destroy(&k->lock);
    free(k);
}

void edge_ping_keys_apply(edge_ping_keys *keys, const bus_ping_key *k)
{
    size_t b = bucket_of(k->hash);
    pthread_rwlock_wrlock(&keys->lock);
    entry **pp = &keys->buckets[b];
    while (*pp && strcmp((*pp)->hash, k->hash) != 0)
        pp = &(*pp)->next;
    if (k->removed) {
        if (*pp) {
            entry *gone = *pp;
            *pp = gone->next;
            free(gone);
        }
    } else {
        entry *e = *pp;
        if (!e) {
            e = calloc(1, sizeof(*e));
            if (e) {
                memcpy(e->hash, k->hash, sizeof(e->hash));
                e->next = keys->buckets[b];
                keys->buckets[b] = e;
            } else {
                sw_log(SW_LOG_ERROR, "out of memory: a ping key was not recorded", NULL);
            }
        }
        if (e) {
            snprintf(e->tenant, sizeof(e->tenant), "%s", k->tenant_id);
            snprintf(e->endpoint, sizeof(e->endpoint), "%s", k->endpoint_id);
        }
    }
    pthread_rwlock_unlock(&keys->lock);
}

edge_ping_verdict edge_ping_keys_take(edge_ping_keys *keys, const char *uuid, int64_t now_s,
                                      char tenant[BUS_TENANT_MAX], char endpoint[BUS_UUID_LEN + 1])
{
    int64_t at;
    return edge_ping_keys_take_at(keys, uuid, now_s * 1000, tenant, endpoint, &at);
}

edge_ping_verdict edge_ping_keys_take_at(edge_ping_keys *keys, const char *uuid, int64_t now_ms,
                                         char tenant[BUS_TENANT_MAX],
                                         char endpoint[BUS_UUID_LEN + 1], int64_t *received_at_ms)
{
    int64_t now_s = now_ms / 1000;
    char hash[BUS_PING_KEY_HASH_HEX + 1];
    *received_at_ms = now_ms;
    edge_ping_verdict v = EDGE_PING_UNKNOWN;
    bus_ping_key_hash(hash, uuid);
    pthread_rwlock_rdlock(&keys->lock);
    entry *e = keys->buckets[bucket_of(hash)];
    while (e && strcmp(e->hash, hash) != 0)
        e = e->next;
    if (e) {
        memcpy(tenant, e->tenant, BUS_TENANT_MAX);
        memcpy(endpoint, e->endpoint, BUS_UUID_LEN + 1);
        /* A fixed one-second window per check, counted without a lock. */
        bool limited = false;
        uint64_t cur = __atomic_load_n(&e->window, __ATOMIC_RELAXED);
        for (;;) {
            uint64_t next;
            if ((cur >> 8) != (uint64_t)now_s) {
                next = ((uint64_t)now_s << 8) | 1;
            } else if ((cur & 0xff) >= BUS_PING_RATE_PER_S) {
                limited = true;
                break;
            } else {
                next = cur + 1;
            }
            if (__atomic_compare_exchange_n(&e->window, &cur, next, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
        }
        v = limited ? EDGE_PING_LIMITED : EDGE_PING_OK;
        /* Strictly after this key's previous ping: two pings of one job in the same millisecond
         * (a /start and its end) keep their order in the recorder and the ping log. At most
         * BUS_PING_RATE_PER_S a second, so this is never more than a few ms ahead. */
        int64_t last = __atomic_load_n(&e->last_ms, __ATOMIC_RELAXED);
        while (!limited) {
            int64_t at = now_ms > last ? now_ms : last + 1;
            if (__atomic_compare_exchange_n(&e->last_ms, &last, at, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                *received_at_ms = at;
                break;
            }
        }
    }
    pthread_rwlock_unlock(&keys->lock);
    return v;
}

/* ------------------------------------------------------------------ the watch */

static void on_key(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    edge_ping_keys *keys = closure;
    bus_ping_key k;
    jsMsgMetaData *meta = NULL;
    (void)nc;
    (void)sub;
    if (bus_ping_key_decode(&k, natsMsg_GetSubject(m), natsMsg_GetData(m),
                            natsMsg_GetDataLength(m)))
        edge_ping_keys_apply(keys, &k);
    else
        sw_log(SW_LOG_WARN, "malformed ping key ignored", NULL);
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK)
        __atomic_store_n(&keys->loaded_seq, meta->Sequence.Stream, __ATOMIC_RELEASE);
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(m);
}

sw_status edge_ping_keys_watch(natsSubscription **sub, edge_ping_keys *keys, jsCtx *js, int wait_ms)
{
    jsSubOptions so;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char code[16];

    *sub = NULL;
    natsStatus ns = js_GetStreamInfo(&si, js, BUS_STREAM_PING_KEYS, NULL, &jerr);
    uint64_t last = ns == NATS_OK ? si->State.LastSeq : 0;
    uint64_t msgs = ns == NATS_OK ? si->State.Msgs : 0;
    jsStreamInfo_Destroy(si);
    if (ns == NATS_OK) {
        jsSubOptions_Init(&so);
        so.Stream = BUS_STREAM_PING_KEYS;
        so.Ordered = true;
        so.Config.DeliverPolicy = js_DeliverLastPerSubject;
        ns = js_Subscribe(sub, js, BUS_SUBJ_PING_KEYS, on_key, keys, NULL, &so, &jerr);
    }
    if (ns != NATS_OK) {
        snprintf(code, sizeof(code), "%d", (int)jerr);
        sw_log(SW_LOG_ERROR, "cannot watch ping keys", "stream", BUS_STREAM_PING_KEYS, "error",
               natsStatus_GetText(ns), "js_code", code, NULL);
        return SW_EUNAVAILABLE;
    }
    for (int waited = 0; msgs > 0 && __atomic_load_n(&keys->loaded_seq, __ATOMIC_ACQUIRE) < last;
         waited += 10) {
        if (waited >= wait_ms) {
            sw_log(SW_LOG_WARN, "ping keys not all loaded yet; continuing", NULL);
            break;
        }
        nats_Sleep(10);
    }
    return SW_OK;
}

/* ------------------------------------------------------------------ the publisher */

struct edge_ping_pub {
    natsConnection *nc;
    jsCtx *js;
    jsPubOptions po; /* MaxWait: how long an acknowledgement may take */
    int max_pending, stall_ms;
    int held; /* atomic: pings handed over and not yet stored (in flight + retry) */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    natsMsg **retry; /* under lock: pings to publish again */
    int nretry, cap;
    bool stopping; /* under lock */
    bool started;
    pthread_t thread;
    int64_t last_complaint_ns; /* atomic */
};

/* Queues msg to be published again (lock held). False when there is no memory for it. */
static bool queue_locked(edge_ping_pub *p, natsMsg *msg)
{
    if (p->nretry == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        natsMsg **more = realloc(p->retry, (size_t)cap * sizeof(*more));
        if (!more)
            return false;
        p->retry = more;
        p->cap = cap;
    }
    p->retry[p->nretry++] = msg;
    return true;
}

static void drop(edge_ping_pub *p, natsMsg *msg)
{
    sw_log(SW_LOG_ERROR, "out of memory: a ping was dropped before JetStream stored it", NULL);
    natsMsg_Destroy(msg);
    __atomic_sub_fetch(&p->held, 1, __ATOMIC_ACQ_REL);
}

/* Every acknowledgement, and every failure (an error answer, no responders, no answer within
 * MaxWait): a stored ping is let go, any other is queued to be published again. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    edge_ping_pub *p = closure;
    (void)js;
    if (pa || !pae) {
        natsMsg_Destroy(msg);
        __atomic_sub_fetch(&p->held, 1, __ATOMIC_ACQ_REL);
        return;
    }
    int64_t now = sw_now_ns(), last = __atomic_load_n(&p->last_complaint_ns, __ATOMIC_RELAXED);
    if (now - last > 1000 * SW_NS_PER_MS &&
        __atomic_compare_exchange_n(&p->last_complaint_ns, &last, now, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
        char code[16];
        snprintf(code, sizeof(code), "%d", (int)pae->ErrCode);
        sw_log(SW_LOG_WARN, "ping not stored yet; publishing it again", "error",
               natsStatus_GetText(pae->Err), "js_code", code, NULL);
    }
    pthread_mutex_lock(&p->lock);
    bool queued = queue_locked(p, msg);
    if (queued)
        pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (!queued)
        drop(p, msg);
}

/* Publishes the queued pings again, at most every 200 ms (JetStream may be away a while). */
static void *retry_loop(void *arg)
{
    edge_ping_pub *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        if (p->nretry == 0) {
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        natsMsg **batch = p->retry;
        int n = p->nretry;
        p->retry = NULL;
        p->nretry = p->cap = 0;
        pthread_mutex_unlock(&p->lock);
        nats_Sleep(200);
        for (int i = 0; i < n; i++) {
            if (natsConnection_Status(p->nc) == NATS_CONN_STATUS_CONNECTED &&
                js_PublishMsgAsync(p->js, &batch[i], &p->po) == NATS_OK)
                batch[i] = NULL; /* the library holds it again */
        }
        pthread_mutex_lock(&p->lock);
        for (int i = 0; i < n; i++) {
            if (batch[i] && !queue_locked(p, batch[i])) {
                pthread_mutex_unlock(&p->lock);
                drop(p, batch[i]);
                pthread_mutex_lock(&p->lock);
            }
        }
        free(batch);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

sw_status edge_ping_pub_new(edge_ping_pub **out, natsConnection *nc, int max_pending,
                            int ack_wait_ms, int stall_ms)
{
    jsOptions o;
    *out = NULL;
    edge_ping_pub *p = calloc(1, sizeof(*p));
    if (!p)
        return SW_EINTERNAL;
    p->nc = nc;
    p->max_pending = max_pending;
    p->stall_ms = stall_ms;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    jsOptions_Init(&o);
    o.PublishAsync.MaxPending = max_pending; /* never reached: held bounds it first */
    o.PublishAsync.AckHandler = on_ack;
    o.PublishAsync.AckHandlerClosure = p;
    o.PublishAsync.StallWait = stall_ms > 0 ? stall_ms : 1;
    jsPubOptions_Init(&p->po);
    p->po.MaxWait = ack_wait_ms;
    if (natsConnection_JetStream(&p->js, nc, &o) != NATS_OK ||
        pthread_create(&p->thread, NULL, retry_loop, p) != 0) {
        edge_ping_pub_free(p);
        return SW_EINTERNAL;
    }
    p->started = true;
    *out = p;
    return SW_OK;
}

sw_status edge_ping_pub_send(edge_ping_pub *p, const char *subject, const char *data, int len,
                             const char *msg_id, const char *request_id)
{
    natsMsg *m = NULL;
    if (natsConnection_Status(p->nc) != NATS_CONN_STATUS_CONNECTED)
        return SW_EUNAVAILABLE;
    /* A place in the window, waiting up to stall_ms for one. */
    for (int waited = 0;; waited += 5) {
        if (__atomic_add_fetch(&p->held, 1, __ATOMIC_ACQ_REL) <= p->max_pending)
            break;
        __atomic_sub_fetch(&p->held, 1, __ATOMIC_ACQ_REL);
        if (waited >= p->stall_ms)
            return SW_EUNAVAILABLE;
        nats_Sleep(5);
    }
    natsStatus s = natsMsg_Create(&m, subject, NULL, data, len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Content-Type", "application/json");
    if (s == NATS_OK && msg_id)
        s = natsMsgHeader_Set(m, BUS_H_MSG_ID, msg_id);
    if (s == NATS_OK && request_id && *request_id)
        s = natsMsgHeader_Set(m, BUS_H_REQUEST_ID, request_id);
    if (s == NATS_OK)
        s = js_PublishMsgAsync(p->js, &m, &p->po);
    if (s != NATS_OK) {
        natsMsg_Destroy(m); /* NULL when the library took it */
        __atomic_sub_fetch(&p->held, 1, __ATOMIC_ACQ_REL);
        sw_log(SW_LOG_WARN, "jetstream publish failed", "subject", subject, "error",
               natsStatus_GetText(s), NULL);
        return SW_EUNAVAILABLE;
    }
    return SW_OK;
}

int edge_ping_pub_pending(edge_ping_pub *p)
{
    return p ? __atomic_load_n(&p->held, __ATOMIC_ACQUIRE) : 0;
}

int edge_ping_pub_drain(edge_ping_pub *p, int wait_ms)
{
    for (int waited = 0; p && edge_ping_pub_pending(p) > 0 && waited < wait_ms; waited += 20)
        nats_Sleep(20);
    return edge_ping_pub_pending(p);
}

void edge_ping_pub_free(edge_ping_pub *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    for (int i = 0; i < p->nretry; i++)
        natsMsg_Destroy(p->retry[i]);
    jsCtx_Destroy(p->js);
    free(p->retry);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
