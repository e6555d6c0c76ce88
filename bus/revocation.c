/* Revocation messages and the edge's in-memory set of revoked sessions; see revocation.h. */
#include "bus/revocation.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/log.h"
#include "bus/watch.h"

#define PREFIX_SESSION "sw.v1.revoked.session."
#define PREFIX_USER "sw.v1.revoked.user."
#define NBUCKETS 1024u /* revocations of 16 minutes: logouts, mostly; chains stay short */

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-'
                 : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                     (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

bool sw_revocation_encode(char *subject, size_t len, json_t **body, const sw_revocation *r)
{
    *body = NULL;
    if (!is_uuid(r->id))
        return false;
    snprintf(subject, len, "%s%s", r->kind == SW_REVOKE_SESSION ? PREFIX_SESSION : PREFIX_USER,
             r->id);
    *body = json_pack("{s:I,s:I}", "before", (json_int_t)r->before, "before_ms",
                      (json_int_t)(r->before_ms ? r->before_ms : r->before * 1000));
    return *body != NULL;
}

bool sw_revocation_decode(sw_revocation *out, const char *subject, const char *data, int len)
{
    const char *id = NULL;
    memset(out, 0, sizeof(*out));
    if (!subject)
        return false;
    if (strncmp(subject, PREFIX_SESSION, strlen(PREFIX_SESSION)) == 0) {
        out->kind = SW_REVOKE_SESSION;
        id = subject + strlen(PREFIX_SESSION);
    } else if (strncmp(subject, PREFIX_USER, strlen(PREFIX_USER)) == 0) {
        out->kind = SW_REVOKE_USER;
        id = subject + strlen(PREFIX_USER);
    }
    if (!id || !is_uuid(id))
        return false;
    snprintf(out->id, sizeof(out->id), "%s", id);
    json_t *o = data && len > 0 ? json_loadb(data, (size_t)len, 0, NULL) : NULL;
    json_t *b = json_object_get(o, "before");
    out->before = json_is_integer(b) ? json_integer_value(b) : 0;
    json_t *bms = json_object_get(o, "before_ms");
    out->before_ms = json_is_integer(bms) && json_integer_value(bms) / 1000 == out->before
                         ? json_integer_value(bms)
                         : out->before * 1000;
    json_decref(o);
    return out->before > 0;
}

/* ------------------------------------------------------------------ the set */

typedef struct entry {
    struct entry *next;
    sw_revocation r;
    int64_t forget_at;
} entry;

struct sw_revoked_set {
    pthread_rwlock_t lock;
    entry *buckets[NBUCKETS];
    size_t count;    /* entries held; read without the lock on the hot path */
    bus_watch watch; /* the stream SW_REVOKED, watched into this set */
    unsigned adds;
};

sw_status sw_revoked_set_new(sw_revoked_set **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return SW_EINTERNAL;
    if (pthread_rwlock_init(&(*out)->lock, NULL) != 0) {
        free(*out);
        *out = NULL;
        return SW_EINTERNAL;
    }
    return SW_OK;
}

void sw_revoked_set_free(sw_revoked_set *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        for (entry *e = s->buckets[i], *next = NULL; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

static unsigned bucket_of(sw_revocation_kind kind, const char *id)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind; /* FNV-1a */
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % NBUCKETS;
}

/* Drops the forgotten entries of one chain; the write lock is held. */
static void sweep_chain(sw_revoked_set *s, unsigned b, int64_t now)
{
    for (entry **pp = &s->buckets[b]; *pp;) {
        entry *e = *pp;
        if (e->forget_at <= now) {
            *pp = e->next;
            free(e);
            __atomic_sub_fetch(&s->count, 1, __ATOMIC_RELEASE);
        } else {
            pp = &e->next;
        }
    }
}

void sw_revoked_set_add(sw_revoked_set *s, const sw_revocation *r, int64_t now)
{
    unsigned b = bucket_of(r->kind, r->id);
    int64_t forget_at = r->before + SW_REVOKED_TTL;
    if (forget_at <= now)
        return; /* every token it could name has expired */
    pthread_rwlock_wrlock(&s->lock);
    if (++s->adds % NBUCKETS == 0)
        for (unsigned i = 0; i < NBUCKETS; i++)
            sweep_chain(s, i, now);
    else
        sweep_chain(s, b, now);
    entry *e = s->buckets[b];
    while (e && !(e->r.kind == r->kind && strcmp(e->r.id, r->id) == 0))
        e = e->next;
    if (e) {
        if (r->before_ms > e->r.before_ms) {
            e->r.before = r->before;
            e->r.before_ms = r->before_ms;
            e->forget_at = forget_at;
        }
    } else {
        e = calloc(1, sizeof(*e));
        if (e) {
            e->r = *r;
            e->forget_at = forget_at;
            e->next = s->buckets[b];
            s->buckets[b] = e;
            __atomic_add_fetch(&s->count, 1, __ATOMIC_RELEASE);
        } else {
            sw_log(SW_LOG_ERROR, "out of memory: a revocation was not recorded", NULL);
        }
    }
    pthread_rwlock_unlock(&s->lock);
}

static const entry *find(const sw_revoked_set *s, sw_revocation_kind kind, const char *id,
                         int64_t now)
{
    for (const entry *e = s->buckets[bucket_of(kind, id)]; e; e = e->next)
        if (e->r.kind == kind && e->forget_at > now && strcmp(e->r.id, id) == 0)
            return e;
    return NULL;
}

bool sw_revoked_set_check(sw_revoked_set *s, const sw_jwt_claims *c, int64_t now)
{
    if (!s || __atomic_load_n(&s->count, __ATOMIC_ACQUIRE) == 0)
        return false;
    pthread_rwlock_rdlock(&s->lock);
    bool revoked = c->sid[0] && find(s, SW_REVOKE_SESSION, c->sid, now);
    if (!revoked) {
        const entry *u = find(s, SW_REVOKE_USER, c->user, now);
        revoked = u && c->iat_ms < u->r.before_ms;
    }
    pthread_rwlock_unlock(&s->lock);
    return revoked;
}

/* ------------------------------------------------------------------ the watch */

static bool apply(void *arg, const char *subject, const char *data, int len)
{
    sw_revocation r;
    if (!sw_revocation_decode(&r, subject, data, len))
        return false;
    sw_revoked_set_add(arg, &r, (int64_t)(nats_Now() / 1000));
    return true;
}

sw_status sw_revoked_set_watch(natsSubscription **sub, sw_revoked_set *s, jsCtx *js, int wait_ms)
{
    s->watch = (bus_watch){.stream = SW_REVOKED_STREAM,
                           .subjects = SW_REVOKED_SUBJECTS,
                           .what = "revoked sessions",
                           .apply = apply,
                           .arg = s};
    return bus_watch_start(sub, &s->watch, js, wait_ms);
}
