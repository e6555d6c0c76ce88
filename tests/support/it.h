/* Integration test support: talk to the stack that `ops/sw test` started (its settings are in
 * the environment), the way a client would: HTTP to the edge, SQL to PostgreSQL to check what
 * was stored, the SMTP catcher's folder for mail, NATS as the admin user, ops/sw to stop and
 * start actors. Every helper fails the running test (cmocka) rather than returning junk. */
#ifndef SW_IT_H
#define SW_IT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <nats/nats.h>

#define IT_PASSWORD "Sturdy-Lamp-42x"

typedef struct it_resp {
    long status;
    json_t *body; /* parsed JSON body, NULL when not JSON */
    char *raw;    /* body bytes, NUL-terminated */
    size_t raw_len;
    char *headers; /* raw response headers */
    double seconds;
} it_resp;

/* Sends method path with an optional body (sent as is) and extra header lines ("Name: v"),
 * NULL-terminated. Each call gets a fresh client IP through X-Forwarded-For unless a header
 * list sets one. */
it_resp *it_http(const char *method, const char *path, const char *body, ...)
    __attribute__((sentinel));
it_resp *it_http_v(const char *method, const char *path, const char *body, va_list ap);
/* How long it_http waits for a whole response before the test fails ("never hangs" checks);
 * 0 restores the default of 30 s. Per thread. */
void it_http_timeout(long timeout_ms);
/* Convenience: JSON body built with json_pack's format. */
it_resp *it_post_json(const char *path, json_t *body /* stolen */, const char *xff);
void it_resp_free(it_resp *r);
/* A response header's value (copied into a static per-thread buffer), or NULL. */
const char *it_header(const it_resp *r, const char *name);

/* A fresh client address for X-Forwarded-For (the test edge trusts 127.0.0.1), so throttles
 * of one test never touch another. */
const char *it_fresh_ip(void);
/* A fresh email address "<prefix>-<random>@example.test". Static per-thread buffer. */
const char *it_fresh_email(const char *prefix);

/* Runs SQL with text parameters against DATABASE_URL; returns owned rows. */
json_t *it_sql(const char *sql, int nparams, const char *const *params);
/* First column of the first row as a long (count queries). */
long it_sql_long(const char *sql, int nparams, const char *const *params);
/* Puts tenant on plan ("free" or "pro") directly in sw-billing's public.subscriptions, as a
 * completed checkout would (no Stripe round trip). Fails the test when the statement fails. */
void it_set_plan(const char *tenant, const char *plan);

/* Waits up to timeout_ms for a mail to `to` in SW_MAIL_DIR; returns it (owned) or NULL. */
char *it_mail_wait(const char *to, int timeout_ms);
/* The verification token from a mail's link (owned), or NULL. */
char *it_mail_token(const char *mail);

/* Runs `ops/sw ARGS…` against the test instance; returns its exit status. */
int it_ops(const char *args);
/* Waits until /health/ready/ answers 200 (true) or timeout_ms passes (false). */
bool it_wait_ready(int timeout_ms);

/* A NATS connection as the admin user (owned). */
natsConnection *it_nats(void);

/* A counter of one process of service (e.g. "sw-recorder") from the "worker" data of its
 * $SRV.STATS reply; 0 when it has not counted it yet. */
long it_worker_counter(const char *service, const char *counter);

/* Signs up and verifies a new organization; fills email and returns the tenant id (owned). */
char *it_signup_verified(char *email_out, size_t len, const char *org);
/* Logs in; returns the login response (access, refresh). */
it_resp *it_login(const char *email, const char *password);

/* Starts tests/fakes/targets.py (HTTP + self-signed HTTPS probe targets on 127.0.0.1); sets
 * the ports; returns its pid (stop with it_targets_stop). */
int it_targets_start(int *http_port, int *https_port);
void it_targets_stop(int pid);
/* Polls sql (a count query) until it returns at least want or timeout_ms passes; returns the
 * last value. */
long it_wait_count(const char *sql, int nparams, const char *const *params, long want,
                   int timeout_ms);
/* An authorised request: "Authorization: Bearer <access>" added. */
it_resp *it_auth(const char *method, const char *path, const char *access, json_t *body);

/* A loopback TCP port nobody listens on right now. */
int it_free_port(void);
/* NAME's value from the instance's secrets.env into out (fails the test when absent). */
void it_secret(char *out, size_t len, const char *name);
/* Starts a second sw-edge in front of the stack's actors on a free loopback port, as the
 * edge's own NATS user, with the test environment plus env ("NAME=value" strings, NULL-
 * terminated; "NAME=" unsets). Its output goes to $SW_VAR/log/<log_name>.log. Waits until its
 * GET /health/ answers 200 and returns its pid (stop with it_edge_stop); *port: its port. */
int it_edge_start(const char *log_name, int *port, const char *const *env);
void it_edge_stop(int pid);

/* Runs build/bin/<bin> with env overrides ("A=1 B=2", as for env(1)) on top of the test
 * environment, for at most 10 s; returns its exit status and its stderr (owned). */
int it_run_bin(const char *bin, const char *env, char **err);

/* The source tree (for ops/sw and conformance schemas). */
const char *it_source_dir(void);

#endif
