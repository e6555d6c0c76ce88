/* JSON line logger with secret scrubbing. Lines are written with one write(2) each so
 * concurrent threads never interleave within a line. */
#include "bus/log.h"

#include <stdarg.h>
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
    static const char *words[] = {"password", "passwd", "secret", "token", "authorization",
                                  "cookie", "api_key", "apikey", "signature", "hash",
                                  "credential", "access", "refresh", "card", "link"};
    if (!key)
        return 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(key, words[i]))
            return 1;
    return 0;
}

int sw_log_value_is_secret(const char *v)
{
    static const char *prefixes[] = {"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_",
                                     "Bearer ", "Basic ", "$argon2"};
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

void sw_log(sw_log_level level, const char *msg, ...)
{
    if (level < min_level)
        return;
    json_t *fields = json_object();
    va_list ap;
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
