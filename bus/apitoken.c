/* API-token records and the edge's in-memory table of them; see apitoken.h. */
#include "bus/apitoken.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "bus/ids.h"
#include "bus/log.h"
#include "bus/watch.h"

#define PREFIX_SUBJECT "sw.v1.apitokens."
#define NBUCKETS 4096u
#define REPORT_EVERY_S 60

static bool is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

void sw_apitoken_hash(unsigned char out[SW_APITOKEN_HASH_BYTES], const char *token)
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

void sw_apitoken_generate(char out[SW_APITOKEN_LEN + 1], unsigned char hash[SW_APITOKEN_HASH_BYTES])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, SW_APITOKEN_PREFIX, 4);
    sodium_bin2base64(out + 4, SW_APITOKEN_LEN + 1 - 4, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    sw_apitoken_hash(hash, out);
}

bool sw_apitoken_shaped(const char *token)
{
    if (!token || strncmp(token, SW_APITOKEN_PREFIX, 4) != 0 || strlen(token) != SW_APITOKEN_LEN)
        return false;
    for (const char *p = token + 4; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

static bool role_valid(const char *r)
{
    return strcmp(r, "owner") == 0 || strcmp(r, "admin") == 0 || strcmp(r, "member") == 0 ||
           strcmp(r, "viewer") == 0;
}

bool sw_apitoken_encode(char *subject, size_t len, json_t **body, const sw_apitoken *t)
{
    char hex[2 * SW_APITOKEN_HASH_BYTES + 1];
    *body = NULL;
    if (!is_uuid(t->id) || !is_uuid(t->user) || !sw_tenant_id_valid(t->tenant) ||
        !role_valid(t->role))
        return false;
    snprintf(subject, len, "%s%s.%s", PREFIX_SUBJECT, t->tenant, t->id);
    sodium_bin2hex(hex, sizeof(hex), t->hash, sizeof(t->hash));
    *body = json_pack("{s:s,s:s,s:s,s:I,s:b}", "hash", hex, "user", t->user, "role", t->role,
                      "expires_at", (json_int_t)t->expires_at, "revoked", t->revoked);
    return *body != NULL;
}

bool sw_apitoken_decode(sw_apitoken *out, const char *subject, const char *data, int len)
{
    memset(out, 0, sizeof(*out));
    if (!subject || strncmp(subject, PREFIX_SUBJECT, strlen(PREFIX_SUBJECT)) != 0)
        return false;
    const char *rest = subject + strlen(PREFIX_SUBJECT);
    const char *dot = strchr(rest, '.');
    if (!dot || (size_t)(dot - rest) >= sizeof(out->tenant))
        return false;
    memcpy(out->tenant, rest, (size_t)(dot - rest));
    snprintf(out->id, sizeof(out->id), "%s", dot + 1);
    if (!sw_tenant_id_valid(out->tenant) || !is_uuid(out->id))
        return false;
    json_t *o = data && len > 0 ? json_loadb(data, (size_t)len, 0, NULL) : NULL;
    const char *hex = json_string_value(json_object_get(o, "hash"));
    const char *user = json_string_value(json_object_get(o, "user"));
    const char *role = json_string_value(json_object_get(o, "role"));
    json_t *exp = json_object_get(o, "expires_at");
    json_t *rev = json_object_get(o, "revoked");
    size_t bin_len = 0;
    bool ok =
        hex && strlen(hex) == 2 * SW_APITOKEN_HASH_BYTES &&
        sodium_hex2bin(out->hash, sizeof(out->hash), hex, strlen(hex), NULL, &bin_len, NULL) == 0 &&
        bin_len == SW_APITOKEN_HASH_BYTES && is_uuid(user) && role &&
        strlen(role) < sizeof(out->role) && role_valid(role) && json_is_integer(exp) &&
        json_is_boolean(rev);
    if (ok) {
        snprintf(out->user, sizeof(out->user), "%s", user);
        snprintf(out->role, sizeof(out->role), "%s", role);
        out->expires_at = json_integer_value(exp);
        out->revoked = json_is_true(rev);
    }
    json_decref(o);
    return ok;
}

/* ------------------------------------------------------------------ the table */

typedef struct entry {
    struct entry *next;
    sw_apitoken t;
    int64_t reported_at; /* when its use was last reported (atomic) */
} entry;

struct sw_apitoken_set {
    pthread_rwlock_t lock;
    entry *buckets[NBUCKETS];
    size_t count;
    bus_watch watch; /* the stream SW_API_TOKENS, watched into this set */
};

sw_status sw_apitoken_set_new(sw_apitoken_set **out)
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

void sw_apitoken_set_free(sw_apitoken_set *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        for (entry *e = s->buckets[i], *next = NULL; e; e = next) {
            next = e->next;
            sodium_memzero(e, sizeof(*e));
            free(e);
        }
    }
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

static unsigned bucket_of(const unsigned char *hash)
{
    /* The hash is uniformly distributed already. */
    return ((unsigned)hash[0] | (unsigned)hash[1] << 8) % NBUCKETS;
}

void sw_apitoken_set_put(sw_apitoken_set *s, const sw_apitoken *t)
{
    unsigned b = bucket_of(t->hash);
    pthread_rwlock_wrlock(&s->lock);
    entry **pp = &s->buckets[b];
    while (*pp && sodium_memcmp((*pp)->t.hash, t->hash, SW_APITOKEN_HASH_BYTES) != 0)
        pp = &(*pp)->next;
    if (t->revoked) {
        if (*pp) {
            entry *gone = *pp;
            *pp = gone->next;
            free(gone);
            s->count--;
        }
    } else if (*pp) {
        (*pp)->t = *t;
    } else {
        entry *e = calloc(1, sizeof(*e));
        if (e) {
            e->t = *t;
            e->next = s->buckets[b];
            s->buckets[b] = e;
            s->count++;
        } else {
            sw_log(SW_LOG_ERROR, "out of memory: an API token was not recorded", NULL);
        }
    }
    pthread_rwlock_unlock(&s->lock);
}

bool sw_apitoken_set_check(sw_apitoken_set *s, const char *token, int64_t now, sw_apitoken *out,
                           bool *report_use)
{
    unsigned char hash[SW_APITOKEN_HASH_BYTES];
    bool ok = false;
    *report_use = false;
    if (!s || !sw_apitoken_shaped(token))
        return false;
    sw_apitoken_hash(hash, token);
    pthread_rwlock_rdlock(&s->lock);
    for (entry *e = s->buckets[bucket_of(hash)]; e; e = e->next) {
        if (sodium_memcmp(e->t.hash, hash, SW_APITOKEN_HASH_BYTES) != 0)
            continue;
        if (e->t.expires_at == 0 || e->t.expires_at > now) {
            *out = e->t;
            ok = true;
            int64_t last = __atomic_load_n(&e->reported_at, __ATOMIC_RELAXED);
            if (now - last >= REPORT_EVERY_S)
                *report_use = __atomic_compare_exchange_n(&e->reported_at, &last, now, false,
                                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        }
        break;
    }
    pthread_rwlock_unlock(&s->lock);
    return ok;
}

size_t sw_apitoken_set_count(sw_apitoken_set *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->count;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

/* ------------------------------------------------------------------ the watch */

static bool apply(void *arg, const char *subject, const char *data, int len)
{
    sw_apitoken t;
    if (!sw_apitoken_decode(&t, subject, data, len))
        return false;
    sw_apitoken_set_put(arg, &t);
    return true;
}

/* The last record of each token: a revoked one replaces its creation record. */
sw_status sw_apitoken_set_watch(natsSubscription **sub, sw_apitoken_set *s, jsCtx *js, int wait_ms)
{
    s->watch = (bus_watch){.stream = SW_APITOKENS_STREAM,
                           .subjects = SW_APITOKENS_SUBJECTS,
                           .last_per_subject = true,
                           .what = "API tokens",
                           .apply = apply,
                           .arg = s};
    return bus_watch_start(sub, &s->watch, js, wait_ms);
}
