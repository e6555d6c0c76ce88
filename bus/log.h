/* Structured logging: one JSON object per line on stderr with time, level, actor, request id,
 * tenant, message and fields. Secrets are scrubbed before anything is written: fields whose
 * key names a secret, and values that look like tokens or keys, become "[redacted]". */
#ifndef SW_LOG_H
#define SW_LOG_H

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

/* Scrubbing, exposed for tests and for the edge's access log. */
int sw_log_key_is_secret(const char *key);
int sw_log_value_is_secret(const char *value);
/* Returns a scrubbed deep copy of v (owned). */
json_t *sw_log_scrub(const json_t *v);

#endif
