/* JSON line logger with secret scrubbing. Lines are written with one write(2) each so
 * concurrent threads never interleave within a line. */
#include "bus/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static char actor_name[64] = "sw";
static sw_log_level min_level = SW_LOG_INFO;

static __thread char ctx_request_id[64];
static __thread char ctx_tenant[64];

static sw_log_hook error_hook;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void sw_log_init(const char *actor, const char *level)
{
    if (actor)
        snprintf(actor_name, sizeof(actor_name), "%s", actor);
    for (int i = 0; level && i < 4; i++)
        if (strcasecmp(level, level_names[i]) == 0)
            min_level = (sw_log_level)i;
}

bool sw_log_enabled(sw_log_level level)
{
    return level >= min_level;
}

void sw_log_ctx_set(const char *request_id, const char *tenant)
{
    snprintf(ctx_request_id, sizeof(ctx_request_id), "%s", request_id ? request_id : "");
    snprintf(ctx_tenant, sizeof(ctx_tenant), "%s", tenant ? tenant : "");
}

void sw_log_ctx_clear(void)
{
    ctx_request_id[0] = '\0';
    ctx_tenant[0] = '\0';
}

void sw_log_set_error_hook(sw_log_hook hook)
{
    __atomic_store_n(&error_hook, hook, __ATOMIC_RELEASE);
}

const char *sw_log_ctx_request_id(void)
{
    return ctx_request_id;
}

const char *sw_log_ctx_tenant(void)
{
    return ctx_tenant;
}

int sw_log_key_is_secret(const char *key)
{
    static const char *words[] = {"password",   "passwd",  "secret",  "token",     "authorization",
                                  "cookie",     "api_key", "apikey",  "signature", "hash",
                                  "credential", "access",  "refresh", "card",      "link"};
    if (!key)
        return 0;
    /* Lowercased once, then strstr: strcasestr per word was most of the cost of a log line
     * (15 words x every field of every access-log line). */
    char low[128];
    size_t n = strlen(key);
    bool folded = n < sizeof(low);
    if (folded) {
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (folded ? strstr(low, words[i]) != NULL : strcasestr(key, words[i]) != NULL)
            return 1;
    return 0;
}

int sw_log_value_is_secret(const char *v)
{
    static const char *prefixes[] = {"sk_live_", "sk_test_", "rk_live_", "rk_test_",
                                     "whsec_",   "Bearer ",  "Basic ",   "$argon2"};
    if (!v)
        return 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strstr(v, prefixes[i]))
            return 1;
    /* A JWT: three base64url segments, the first starting with the encoded '{"'. */
    const char *jwt = strstr(v, "eyJ");
    if (jwt && strchr(jwt, '.') && strchr(strchr(jwt, '.') + 1, '.'))
        return 1;
    /* URLs with credentials or tokens in them. */
    if (strstr(v, "://") && (strchr(v, '@') || strcasestr(v, "token=")))
        return 1;
    return 0;
}

json_t *sw_log_scrub(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            if (sw_log_key_is_secret(k) && !json_is_null(child) && !json_is_boolean(child))
                json_object_set_new(out, k, json_string("[redacted]"));
            else
                json_object_set_new(out, k, sw_log_scrub(child));
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) json_array_append_new(out, sw_log_scrub(child));
        return out;
    }
    if (json_is_string(v) && sw_log_value_is_secret(json_string_value(v)))
        return json_string("[redacted]");
    return json_deep_copy(v);
}

void sw_logj(sw_log_level level, const char *msg, json_t *fields)
{
    if (level < min_level) {
        json_decref(fields);
        return;
    }
    struct timespec ts;
    struct tm tm;
    char when[96];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

    json_t *line = json_object();
    json_object_set_new(line, "time", json_string(when));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "actor", json_string(actor_name));
    if (ctx_request_id[0])
        json_object_set_new(line, "request_id", json_string(ctx_request_id));
    if (ctx_tenant[0])
        json_object_set_new(line, "tenant", json_string(ctx_tenant));
    json_t *raw_msg = json_string(msg ? msg : "");
    json_object_set_new(line, "msg", sw_log_scrub(raw_msg));
    json_decref(raw_msg);
    if (fields) {
        json_t *clean = sw_log_scrub(fields);
        json_object_update_missing(line, clean);
        json_decref(clean);
        json_decref(fields);
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
    sw_log_hook hook =
        level >= SW_LOG_ERROR ? __atomic_load_n(&error_hook, __ATOMIC_ACQUIRE) : NULL;
    if (hook)
        hook(line); /* already scrubbed: the event holds what the log line holds */
    json_decref(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: the line and its newline go out in one write */
    ssize_t w = write(STDERR_FILENO, text, n + 1);
    (void)w;
    free(text);
}

/* ---- the direct path of sw_log: the same line sw_logj writes, without building it in
 * jansson (the edge logs every request). Whatever it does not handle exactly as sw_logj would
 * (an error-level line, which feeds the error hook; a repeated key; a line over the buffer)
 * goes through sw_logj. */

typedef struct line_buf {
    char p[8192];
    size_t n;
    bool full;
} line_buf;

static void lb_add(line_buf *b, const char *s, size_t n)
{
    if (b->full || b->n + n >= sizeof(b->p)) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* The code point of the UTF-8 sequence at s (its length in *len), or -1 where jansson would
 * refuse the string (overlong forms, surrogates, past U+10FFFF, truncated). */
static long utf8_next(const unsigned char *s, int *len)
{
    long cp;
    int n;
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = n;
    return cp;
}

static bool utf8_valid(const char *s)
{
    int len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len)
        if (utf8_next(p, &len) < 0)
            return false;
    return true;
}

/* s as a JSON string, escaped as json_dumps(JSON_ENSURE_ASCII) does. s: valid UTF-8. */
static void lb_str(line_buf *b, const char *s)
{
    char esc[24];
    int len;
    lb_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        lb_add(b, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        long cp = utf8_next(p, &len);
        switch (cp) {
        case '"':
            lb_add(b, "\\\"", 2);
            break;
        case '\\':
            lb_add(b, "\\\\", 2);
            break;
        case '\b':
            lb_add(b, "\\b", 2);
            break;
        case '\f':
            lb_add(b, "\\f", 2);
            break;
        case '\n':
            lb_add(b, "\\n", 2);
            break;
        case '\r':
            lb_add(b, "\\r", 2);
            break;
        case '\t':
            lb_add(b, "\\t", 2);
            break;
        default:
            if (cp < 0x10000) {
                snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
            } else {
                long v = cp - 0x10000;
                snprintf(esc, sizeof(esc), "\\u%04X\\u%04X", (unsigned)(0xD800 | (v >> 10)),
                         (unsigned)(0xDC00 | (v & 0x3FF)));
            }
            lb_add(b, esc, strlen(esc));
        }
    }
    lb_add(b, "\"", 1);
}

/* "key":value, scrubbed as sw_log_scrub would; NULL value: null. */
static void lb_field(line_buf *b, const char *k, const char *v)
{
    lb_add(b, ",", 1);
    lb_str(b, k);
    lb_add(b, ":", 1);
    if (!v)
        lb_add(b, "null", 4);
    else if (sw_log_key_is_secret(k) || sw_log_value_is_secret(v))
        lb_str(b, "[redacted]");
    else
        lb_str(b, v);
}

static const char *const reserved_keys[] = {"time",       "level",  "actor",
                                            "request_id", "tenant", "msg"};

/* Writes the line directly; false when sw_logj must (see above). */
static bool log_direct(sw_log_level level, const char *msg, va_list ap)
{
    const char *keys[32];
    int nkeys = 0;
    line_buf *b = malloc(sizeof(*b));
    bool ok = false;
    if (!b)
        return false;
    b->n = 0;
    b->full = false;
    struct timespec ts;
    struct tm tm;
    char when[96];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    lb_add(b, "{\"time\":", 8);
    lb_str(b, when);
    lb_add(b, ",\"level\":", 9);
    lb_str(b, level_names[level]);
    lb_add(b, ",\"actor\":", 9);
    if (!utf8_valid(actor_name) || !utf8_valid(ctx_request_id) || !utf8_valid(ctx_tenant))
        goto out;
    lb_str(b, actor_name);
    if (ctx_request_id[0])
        lb_field(b, "request_id", ctx_request_id);
    if (ctx_tenant[0])
        lb_field(b, "tenant", ctx_tenant);
    msg = msg ? msg : "";
    if (utf8_valid(msg)) /* jansson drops a key whose value is not UTF-8 */
        lb_field(b, "msg", msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (!utf8_valid(k) || nkeys == (int)(sizeof(keys) / sizeof(keys[0])))
            goto out;
        for (int i = 0; i < nkeys; i++)
            if (strcmp(keys[i], k) == 0)
                goto out; /* a repeated key: jansson keeps the last value in the first place */
        keys[nkeys++] = k;
        bool reserved = false;
        for (size_t i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++)
            reserved |= strcmp(reserved_keys[i], k) == 0;
        if (reserved || (v && !utf8_valid(v)))
            continue; /* update_missing keeps the line's own; jansson drops a bad value */
        lb_field(b, k, v);
    }
    lb_add(b, "}\n", 2);
    if (b->full)
        goto out;
    ssize_t w = write(STDERR_FILENO, b->p, b->n);
    (void)w;
    ok = true;
out:
    free(b);
    return ok;
}

void sw_log(sw_log_level level, const char *msg, ...)
{
    if (level < min_level)
        return;
    va_list ap;
    if (level < SW_LOG_ERROR) {
        va_start(ap, msg);
        bool done = log_direct(level, msg, ap);
        va_end(ap);
        if (done)
            return;
    }
    json_t *fields = json_object();
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        json_object_set_new(fields, k, v ? json_string(v) : json_null());
    }
    va_end(ap);
    sw_logj(level, msg, fields);
}
