/* Structured logging: one JSON object per line on stderr with time, level, actor, request id,
 * tenant, message and fields. Secrets are scrubbed before anything is written: fields whose
 * key names a secret, and values that look like tokens or keys, become "[redacted]". */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>
#include <jansson.h>

typedef enum sw_log_level { SW_LOG_DEBUG, SW_LOG_INFO, SW_LOG_WARN, SW_LOG_ERROR } sw_log_level;

/* Sets the actor name and minimum level ("debug", "info", "warn", "error"); call once at start. */
void sw_log_init(const char *actor, const char *level);

/* The per-thread request context added to every line this thread logs; NULL clears a field.
 * The strings are copied. */
void sw_log_ctx_set(const char *request_id, const char *tenant);
void sw_log_ctx_clear(void);

/* Logs msg with fields. fields: takes ownership (may be NULL). */
void sw_logj(sw_log_level level, const char *msg, json_t *fields);

/* Logs msg with string key/value pairs ending in NULL: sw_log(SW_LOG_INFO, "started",
 * "listen", addr, NULL). */
void sw_log(sw_log_level level, const char *msg, ...) __attribute__((sentinel));

/* Whether a line at level would be written (to skip formatting its fields). */
bool sw_log_enabled(sw_log_level level);

/* Error tracking (bus/sentry.c) sees every error-level line after scrubbing: hook gets the
 * line (borrowed, valid during the call) on the logging thread and must not block. NULL removes
 * it. With no hook set (no SENTRY_DSN) an error line costs one pointer load more. */
typedef void (*sw_log_hook)(const json_t *line);
void sw_log_set_error_hook(sw_log_hook hook);

/* This thread's request context (borrowed, "" when none). The buffers are the thread's own, so
 * a signal handler may read them. */
const char *sw_log_ctx_request_id(void);
const char *sw_log_ctx_tenant(void);

/* Scrubbing, exposed for tests and for the edge's access log. */
int sw_log_key_is_secret(const char *key);
int sw_log_value_is_secret(const char *value);
/* Returns a scrubbed deep copy of v (owned). */
json_t *sw_log_scrub(const json_t *v);

#endif
