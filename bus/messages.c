/* Probe jobs and probe results to and from JSON; see messages.h. */
#include "bus/messages.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fits(int n, size_t len)
{
    return n > 0 && (size_t)n < len;
}

bool bus_subject_probe_job(char *out, size_t len, const char *region)
{
    return fits(snprintf(out, len, "%s%s", BUS_SUBJ_PROBE_JOB_PREFIX, region), len);
}

bool bus_subject_result(char *out, size_t len, const char *region, const char *tenant)
{
    return fits(snprintf(out, len, "%s%s.%s", BUS_SUBJ_RESULT_PREFIX, region, tenant), len);
}

bool bus_subject_event(char *out, size_t len, const char *tenant, const char *kind)
{
    return fits(snprintf(out, len, "%s%s.%s", BUS_SUBJ_EVENT_PREFIX, tenant, kind), len);
}

bool bus_consumer_probers(char *out, size_t len, const char *region)
{
    return fits(snprintf(out, len, "%s%s", BUS_CONSUMER_PROBERS_PREFIX, region), len);
}

/* Copies the token that starts at s and ends at the next '.' (or the end when last) into out;
 * returns a pointer past it, or NULL when it is empty, too long or has other characters. */
static const char *token(const char *s, char *out, size_t max, bool last)
{
    size_t n = 0;
    for (; s[n] && s[n] != '.'; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return NULL;
    }
    if (n == 0 || n >= max || (last ? s[n] != '\0' : s[n] != '.'))
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return s + n + (last ? 0 : 1);
}

bool bus_subject_result_parse(const char *subject, char region[BUS_REGION_MAX],
                              char tenant[BUS_TENANT_MAX])
{
    size_t pl = strlen(BUS_SUBJ_RESULT_PREFIX);
    region[0] = tenant[0] = '\0';
    if (!subject || strncmp(subject, BUS_SUBJ_RESULT_PREFIX, pl) != 0)
        return false;
    const char *rest = token(subject + pl, region, BUS_REGION_MAX, false);
    if (!rest || !token(rest, tenant, BUS_TENANT_MAX, true)) {
        region[0] = tenant[0] = '\0';
        return false;
    }
    return true;
}

bool bus_subject_event_tenant(const char *subject, char tenant[BUS_TENANT_MAX])
{
    size_t pl = strlen(BUS_SUBJ_EVENT_PREFIX);
    tenant[0] = '\0';
    if (!subject || strncmp(subject, BUS_SUBJ_EVENT_PREFIX, pl) != 0)
        return false;
    if (!token(subject + pl, tenant, BUS_TENANT_MAX, false)) {
        tenant[0] = '\0';
        return false;
    }
    return true;
}

bool bus_uuid_valid(const char *s)
{
    if (!s || strlen(s) != BUS_UUID_LEN)
        return false;
    for (int i = 0; i < BUS_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* ---- probe job --------------------------------------------------------------------------- */

bool bus_probe_job_set_id(bus_probe_job *j)
{
    if (!j->endpoint_id || !j->region)
        return false;
    return fits(snprintf(j->job_id, sizeof(j->job_id), BUS_ID_PROBE_JOB_FMT, j->endpoint_id,
                         (long long)j->due_epoch, j->region),
                sizeof(j->job_id));
}

json_t *bus_probe_job_encode(const bus_probe_job *j)
{
    if (!j->job_id[0] || !j->endpoint_id || !j->tenant_id || !j->region || !j->url)
        return NULL;
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "job_id", j->job_id, "endpoint_id",
                  j->endpoint_id, "tenant_id", j->tenant_id, "url", j->url, "timeout_seconds",
                  j->timeout_seconds, "due_epoch", (json_int_t)j->due_epoch, "region", j->region);
    /* A reference, not a copy (as json_pack's "O" would): the scheduler encodes one job per
     * region from the same row. */
    if (o && j->expected_status)
        json_object_set(o, "expected_status", (json_t *)j->expected_status);
    if (o && j->check)
        json_object_set(o, "check", (json_t *)j->check);
    return o;
}

static const char *str_field(const json_t *o, const char *key, size_t max)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= max)
        return NULL;
    return json_string_value(v);
}

/* An integer field within [lo, hi]; false when absent, not an integer or out of range. */
static bool int_field(const json_t *o, const char *key, json_int_t lo, json_int_t hi,
                      json_int_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return *out >= lo && *out <= hi;
}

/* Due times and check times: after 2001 and before 2286 (10^10 s), in seconds. */
#define EPOCH_MIN 1000000000LL
#define EPOCH_MAX 9999999999LL

sw_status bus_probe_job_decode(bus_probe_job *out, const json_t *o)
{
    json_int_t due = 0, timeout = BUS_PROBE_TIMEOUT_DEFAULT_S;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(o))
        return SW_EINVAL;
    const char *id = str_field(o, "job_id", BUS_JOB_ID_MAX);
    out->endpoint_id = str_field(o, "endpoint_id", BUS_UUID_LEN + 1);
    out->tenant_id = str_field(o, "tenant_id", BUS_TENANT_MAX);
    out->region = str_field(o, "region", BUS_REGION_MAX);
    out->url = str_field(o, "url", 4096);
    if (!id || !bus_uuid_valid(out->endpoint_id) || !out->tenant_id || !out->region || !out->url ||
        !int_field(o, "due_epoch", EPOCH_MIN, EPOCH_MAX, &due))
        return SW_EINVAL;
    /* An out-of-range timeout is the default, as it always was. */
    if (!int_field(o, "timeout_seconds", 1, BUS_PROBE_TIMEOUT_MAX_S, &timeout))
        timeout = BUS_PROBE_TIMEOUT_DEFAULT_S;
    const json_t *exp = json_object_get(o, "expected_status");
    out->expected_status = json_is_string(exp) || json_is_array(exp) ? exp : NULL;
    const json_t *check = json_object_get(o, "check");
    out->check = json_is_object(check) ? check : NULL;
    out->due_epoch = due;
    out->timeout_seconds = (int)timeout;
    snprintf(out->job_id, sizeof(out->job_id), "%s", id);
    return SW_OK;
}

/* ---- probe result ------------------------------------------------------------------------ */

json_t *bus_probe_result_encode(const bus_probe_result *r)
{
    if (!r->job_id || !r->endpoint_id || !r->tenant_id[0] || !r->region[0])
        return NULL;
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:I,s:s,s:i,s:I,s:b,s:b,s:b,s:i,s:s,s:f,s:f,s:f,s:f,s:f}",
                  "job_id", r->job_id, "endpoint_id", r->endpoint_id, "tenant_id", r->tenant_id,
                  "due_epoch", (json_int_t)r->due_epoch, "region", r->region, "attempt",
                  r->attempt, "checked_at_ms", (json_int_t)r->checked_at_ms, "ok", r->ok,
                  "blocked", r->blocked, "final", r->final, "http_status", r->http_status,
                  "error", r->error ? r->error : "", "dns_ms", r->dns_ms, "connect_ms",
                  r->connect_ms, "tls_ms", r->tls_ms, "ttfb_ms", r->ttfb_ms, "total_ms",
                  r->total_ms);
    if (o && r->tls_expires_at > 0) {
        json_object_set_new(o, "tls_expires_at", json_integer((json_int_t)r->tls_expires_at));
        json_object_set_new(o, "tls_issuer", json_string(r->tls_issuer ? r->tls_issuer : ""));
        json_object_set_new(o, "tls_subject", json_string(r->tls_subject ? r->tls_subject : ""));
    }
    return o;
}

/* A duration in ms: a finite number in [0, 1 day]; absent is 0. */
static bool ms_field(const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v)
        return true;
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out) && *out >= 0 && *out <= 86400000.0;
}

static bool bool_field(const json_t *o, const char *key, bool *out)
{
    const json_t *v = json_object_get(o, key);
    *out = json_is_true(v);
    return !v || json_is_boolean(v);
}

bus_result_verdict bus_probe_result_decode(bus_probe_result *out, const json_t *o,
                                           const char *subject)
{
    json_int_t due = 0, at = 0, attempt = 0, http = 0;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(o) || !bus_subject_result_parse(subject, out->region, out->tenant_id))
        return BUS_RESULT_MALFORMED;
    out->job_id = str_field(o, "job_id", BUS_JOB_ID_MAX);
    out->endpoint_id = str_field(o, "endpoint_id", BUS_UUID_LEN + 1);
    const char *tenant = str_field(o, "tenant_id", BUS_TENANT_MAX);
    const char *region = str_field(o, "region", BUS_REGION_MAX);
    const json_t *err = json_object_get(o, "error");
    if (!out->job_id || !bus_uuid_valid(out->endpoint_id) || !tenant || !region ||
        !int_field(o, "due_epoch", EPOCH_MIN, EPOCH_MAX, &due) ||
        !int_field(o, "checked_at_ms", EPOCH_MIN * 1000, EPOCH_MAX * 1000, &at) ||
        !int_field(o, "attempt", 1, 1000, &attempt) ||
        !int_field(o, "http_status", 0, 999, &http) || !bool_field(o, "ok", &out->ok) ||
        !json_is_boolean(json_object_get(o, "ok")) || !bool_field(o, "blocked", &out->blocked) ||
        !bool_field(o, "final", &out->final) || (err && !json_is_string(err)) ||
        json_string_length(err) > 1000 || !ms_field(o, "dns_ms", &out->dns_ms) ||
        !ms_field(o, "connect_ms", &out->connect_ms) || !ms_field(o, "tls_ms", &out->tls_ms) ||
        !ms_field(o, "ttfb_ms", &out->ttfb_ms) || !ms_field(o, "total_ms", &out->total_ms))
        return BUS_RESULT_MALFORMED;
    out->due_epoch = due;
    out->checked_at_ms = at;
    out->attempt = (int)attempt;
    out->http_status = (int)http;
    out->error = err ? json_string_value(err) : "";
    /* The certificate, when there is one: a bad one is left out, never fatal. */
    json_int_t exp = 0;
    if (int_field(o, "tls_expires_at", 1, EPOCH_MAX, &exp)) {
        out->tls_expires_at = exp;
        out->tls_issuer = str_field(o, "tls_issuer", 256);
        out->tls_subject = str_field(o, "tls_subject", 256);
    }
    /* The payload repeats tenant and region; a publisher that claims others is forging. */
    if (strcmp(tenant, out->tenant_id) != 0 || strcmp(region, out->region) != 0)
        return BUS_RESULT_FORGED;
    return BUS_RESULT_OK;
}

/* ---- heartbeat pings ------------------------------------------------------------------ */

bool bus_subject_ping(char *out, size_t len, const char *tenant)
{
    return fits(snprintf(out, len, "%s%s", BUS_SUBJ_PING_PREFIX, tenant), len);
}

static bool hex_id(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static bool ping_kind_valid(const char *k)
{
    return k && (strcmp(k, "success") == 0 || strcmp(k, "start") == 0 || strcmp(k, "fail") == 0);
}

static bool ping_method_valid(const char *m)
{
    return m && (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "HEAD") == 0);
}

/* Whether s[0..n) is UTF-8 without NUL (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF): what jansson accepts as a string. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        else
            return false;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}

/* Appends "key":"<s escaped>" (JSON, RFC 8259 §7) at *o; out has room for the worst case. */
static char *put_str(char *o, const char *key, const char *s, bool comma)
{
    static const char hex[] = "0123456789abcdef";
    if (comma)
        *o++ = ',';
    *o++ = '"';
    for (; *key; key++)
        *o++ = *key;
    *o++ = '"';
    *o++ = ':';
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            }
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    return o;
}

char *bus_ping_encode_text(const bus_ping *p, size_t *len)
{
    *len = 0;
    if (!hex_id(p->ping_id, 32) || !bus_uuid_valid(p->endpoint_id) || !p->tenant_id[0] ||
        !ping_kind_valid(p->kind) || p->exit_status < -1 || p->exit_status > 255 ||
        !ping_method_valid(p->method) || !p->client_ip)
        return NULL;
    const char *ua = p->user_agent ? p->user_agent : "";
    const char *body = p->body ? p->body : "";
    size_t ual = strlen(ua), bl = strlen(body), ipl = strlen(p->client_ip),
           tl = strlen(p->tenant_id);
    if (ual > 256 || bl > BUS_PING_BODY_MAX || ipl > 256 || tl >= BUS_TENANT_MAX ||
        !utf8_ok((const unsigned char *)ua, ual) || !utf8_ok((const unsigned char *)body, bl) ||
        !utf8_ok((const unsigned char *)p->client_ip, ipl) ||
        !utf8_ok((const unsigned char *)p->tenant_id, tl))
        return NULL;
    /* Every byte of a string escapes to at most 6; the rest is keys, ids and numbers. */
    char *out = malloc(6 * (ual + bl + ipl + tl) + 512);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '{';
    o = put_str(o, "ping_id", p->ping_id, false);
    o = put_str(o, "endpoint_id", p->endpoint_id, true);
    o = put_str(o, "tenant_id", p->tenant_id, true);
    o = put_str(o, "kind", p->kind, true);
    o += sprintf(o, ",\"received_at_ms\":%lld", (long long)p->received_at_ms);
    o = put_str(o, "method", p->method, true);
    o = put_str(o, "client_ip", p->client_ip, true);
    o = put_str(o, "user_agent", ua, true);
    o = put_str(o, "body", body, true);
    if (p->exit_status >= 0)
        o += sprintf(o, ",\"exit_status\":%d", p->exit_status);
    *o++ = '}';
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

json_t *bus_ping_encode(const bus_ping *p)
{
    size_t len = 0;
    char *text = bus_ping_encode_text(p, &len);
    json_t *o = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return o;
}

bool bus_ping_decode(bus_ping *out, const json_t *o, const char *subject)
{
    memset(out, 0, sizeof(*out));
    out->exit_status = -1;
    size_t pl = strlen(BUS_SUBJ_PING_PREFIX);
    if (!json_is_object(o) || !subject || strncmp(subject, BUS_SUBJ_PING_PREFIX, pl) != 0 ||
        !token(subject + pl, out->tenant_id, BUS_TENANT_MAX, true))
        return false;
    const char *claimed = json_string_value(json_object_get(o, "tenant_id"));
    out->ping_id = json_string_value(json_object_get(o, "ping_id"));
    out->endpoint_id = json_string_value(json_object_get(o, "endpoint_id"));
    out->kind = json_string_value(json_object_get(o, "kind"));
    out->method = json_string_value(json_object_get(o, "method"));
    out->client_ip = json_string_value(json_object_get(o, "client_ip"));
    out->user_agent = json_string_value(json_object_get(o, "user_agent"));
    out->body = json_string_value(json_object_get(o, "body"));
    json_t *at = json_object_get(o, "received_at_ms"), *ex = json_object_get(o, "exit_status");
    if (ex && !json_is_integer(ex))
        return false;
    out->exit_status = ex ? (int)json_integer_value(ex) : -1;
    out->received_at_ms = json_integer_value(at);
    return claimed && strcmp(claimed, out->tenant_id) == 0 && hex_id(out->ping_id, 32) &&
           bus_uuid_valid(out->endpoint_id) && ping_kind_valid(out->kind) &&
           ping_method_valid(out->method) && out->client_ip && strlen(out->client_ip) < 64 &&
           out->user_agent && strlen(out->user_agent) <= 256 && out->body &&
           strlen(out->body) <= BUS_PING_BODY_MAX && json_is_integer(at) &&
           out->received_at_ms > 0 && (!ex || (out->exit_status >= 0 && out->exit_status <= 255));
}

/* ---- ping keys ------------------------------------------------------------------------- */

void bus_ping_key_hash(char out[BUS_PING_KEY_HASH_HEX + 1], const char *ping_uuid)
{
    unsigned char h[BUS_PING_KEY_HASH_HEX / 2];
    crypto_generichash(h, sizeof(h), (const unsigned char *)ping_uuid, strlen(ping_uuid), NULL, 0);
    sodium_bin2hex(out, BUS_PING_KEY_HASH_HEX + 1, h, sizeof(h));
}

bool bus_subject_ping_key(char *out, size_t len, const char *hash)
{
    return hex_id(hash, BUS_PING_KEY_HASH_HEX) &&
           fits(snprintf(out, len, "%s%s", BUS_SUBJ_PING_KEY_PREFIX, hash), len);
}

json_t *bus_ping_key_encode(const bus_ping_key *k)
{
    if (!bus_uuid_valid(k->endpoint_id) || !k->tenant_id[0])
        return NULL;
    json_t *o = json_pack("{s:s,s:s}", "tenant_id", k->tenant_id, "endpoint_id", k->endpoint_id);
    if (o && k->removed)
        json_object_set_new(o, "removed", json_true());
    return o;
}

bool bus_ping_key_decode(bus_ping_key *out, const char *subject, const char *data, int len)
{
    size_t pl = strlen(BUS_SUBJ_PING_KEY_PREFIX);
    bool ok = false;
    memset(out, 0, sizeof(*out));
    if (!subject || strncmp(subject, BUS_SUBJ_PING_KEY_PREFIX, pl) != 0 ||
        !hex_id(subject + pl, BUS_PING_KEY_HASH_HEX) || !data || len <= 0)
        return false;
    memcpy(out->hash, subject + pl, BUS_PING_KEY_HASH_HEX + 1);
    json_t *o = json_loadb(data, (size_t)len, 0, NULL);
    const char *t = json_string_value(json_object_get(o, "tenant_id"));
    const char *e = json_string_value(json_object_get(o, "endpoint_id"));
    if (t && e && bus_uuid_valid(e) && strlen(t) < BUS_TENANT_MAX && *t) {
        snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", t);
        snprintf(out->endpoint_id, sizeof(out->endpoint_id), "%s", e);
        out->removed = json_is_true(json_object_get(o, "removed"));
        ok = true;
    }
    json_decref(o);
    return ok;
}

/* ---- audit trail --------------------------------------------------------------------------- */

#define AUDIT_ACTION_MAX 64
#define AUDIT_TYPE_MAX 32
#define AUDIT_ID_MAX 64
#define AUDIT_IP_MAX 64
#define AUDIT_LABEL_MAX 1000 /* the writer keeps 200 characters; bytes here, to bound the row */
#define AUDIT_ACTOR_LABEL_MAX 100

/* Whether s (may be NULL) is 1..max bytes of [a-z_] (and '.' when dots). */
static bool audit_word(const char *s, size_t max, bool dots)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || (dots && s[i] == '.')))
            return false;
    return true;
}

static bool audit_opt(const char *s, size_t max)
{
    return !s || (*s && strlen(s) <= max);
}

/* The rules of bus_audit_decode, on the struct either side holds. */
static bool audit_valid(const bus_audit *a)
{
    if (!audit_word(a->action, AUDIT_ACTION_MAX, true) || strlen(a->action) < 3 ||
        !strchr(a->action, '.') || !audit_word(a->target_type, AUDIT_TYPE_MAX, false) ||
        !audit_opt(a->target_id, AUDIT_ID_MAX) || !audit_opt(a->target_label, AUDIT_LABEL_MAX) ||
        !audit_opt(a->client_ip, AUDIT_IP_MAX) || !audit_opt(a->request_id, AUDIT_ID_MAX) ||
        !audit_opt(a->actor_label, AUDIT_ACTOR_LABEL_MAX) ||
        (a->user_id && !bus_uuid_valid(a->user_id)) ||
        (a->token_id && !bus_uuid_valid(a->token_id)) || a->at_ms < EPOCH_MIN * 1000 ||
        a->at_ms > EPOCH_MAX * 1000)
        return false;
    if (!a->detail)
        return true;
    if (!json_is_object(a->detail))
        return false;
    char *text = json_dumps(a->detail, JSON_COMPACT);
    bool ok = text && strlen(text) <= BUS_AUDIT_DETAIL_MAX;
    free(text);
    return ok;
}

static void set_opt(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

bool bus_audit_put(json_t *evt, const bus_audit *a)
{
    if (!json_is_object(evt) || !audit_valid(a))
        return false;
    json_t *target = json_pack("{s:s}", "type", a->target_type);
    json_t *actor = json_object();
    json_t *o = json_pack("{s:s,s:I}", "action", a->action, "at_ms", (json_int_t)a->at_ms);
    if (!target || !actor || !o) {
        json_decref(target);
        json_decref(actor);
        json_decref(o);
        return false;
    }
    set_opt(target, "id", a->target_id);
    set_opt(target, "label", a->target_label);
    set_opt(actor, "user_id", a->user_id);
    set_opt(actor, "token_id", a->token_id);
    set_opt(actor, "client_ip", a->client_ip);
    if (!a->user_id && !a->token_id)
        set_opt(actor, "label", a->actor_label);
    json_object_set_new(o, "target", target);
    json_object_set_new(o, "actor", actor);
    set_opt(o, "request_id", a->request_id);
    if (a->detail)
        json_object_set_new(o, "detail", json_deep_copy(a->detail));
    return json_object_set_new(evt, "audit", o) == 0;
}

/* A string member, NULL when absent; *bad set when present but not a string. */
static const char *opt_str(const json_t *o, const char *key, bool *bad)
{
    const json_t *v = json_object_get(o, key);
    if (v && !json_is_string(v))
        *bad = true;
    return json_string_value(v);
}

sw_status bus_audit_decode(bus_audit *out, const json_t *evt)
{
    memset(out, 0, sizeof(*out));
    const json_t *o = json_object_get(evt, "audit");
    if (!o)
        return SW_ENOTFOUND;
    const json_t *target = json_object_get(o, "target"), *actor = json_object_get(o, "actor");
    const json_t *at = json_object_get(o, "at_ms");
    bool bad = !json_is_object(o) || !json_is_object(target) || (actor && !json_is_object(actor)) ||
               !json_is_integer(at);
    if (bad)
        return SW_EINVAL;
    out->action = opt_str(o, "action", &bad);
    out->target_type = opt_str(target, "type", &bad);
    out->target_id = opt_str(target, "id", &bad);
    out->target_label = opt_str(target, "label", &bad);
    out->user_id = opt_str(actor, "user_id", &bad);
    out->token_id = opt_str(actor, "token_id", &bad);
    out->client_ip = opt_str(actor, "client_ip", &bad);
    out->actor_label = opt_str(actor, "label", &bad);
    out->request_id = opt_str(o, "request_id", &bad);
    out->at_ms = (int64_t)json_integer_value(at);
    out->detail = json_object_get(o, "detail");
    if (out->user_id || out->token_id)
        out->actor_label = NULL; /* a user's or token's label is the writer's to look up */
    return bad || !audit_valid(out) ? SW_EINVAL : SW_OK;
}
