/* Ping routes, ping keys and the per-check limit; see pings.h. */
#include "http/pings.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    uint64_t window; /* (second << 8) | pings counted in it; atomic */
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
    char hash[BUS_PING_KEY_HASH_HEX + 1];
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
