/* The probe engine: many HTTP(S) checks at once on one thread with the libcurl multi
 * interface. Each check records DNS, connect, TLS, first-byte and total times, the HTTP status
 * and a short error; every address it connects to (redirects included) is checked against the
 * URL policy first, and a refused one is reported as "blocked". */
#ifndef SW_PROBE_H
#define SW_PROBE_H

#include <stdbool.h>
#include <jansson.h>

#include "actors/common/seal.h"
#include "actors/common/url_policy.h"

typedef struct probe_result {
    bool ok;            /* the status matched what the endpoint expects, and the assertions */
    bool blocked;       /* refused by the URL policy (SSRF) */
    int http_status;    /* 0 when no response */
    char error[300];    /* "" when ok */
    double dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms;
    /* The server certificate of an HTTPS check (also with tls_verify false); 0 / "": none. */
    int64_t tls_expires_at; /* epoch seconds */
    char tls_issuer[256], tls_subject[256];
} probe_result;

typedef struct probe_engine probe_engine;

/* Called once per finished check, on the engine's thread. */
typedef void (*probe_done_fn)(void *job, const probe_result *res, void *arg);

/* max_inflight: checks at most at once. policy: borrowed, outlives the engine. */
probe_engine *probe_engine_new(int max_inflight, const url_policy *policy, probe_done_fn done,
                               void *arg);
void probe_engine_free(probe_engine *e);

/* Test sandbox: connect to loopback addresses only (every other address is reported as
 * blocked), so a test suite never sends a probe off the machine. SW_PROBE_SANDBOX=1. */
void probe_engine_sandbox(probe_engine *e, bool on);

/* Test-only trust: verify servers against the CA bundle file path (borrowed, outlives the
 * engine) instead of the system bundle; SW_PROBE_CA_FILE, refused in production (prober.c). */
void probe_engine_ca_file(probe_engine *e, const char *path);

/* The key that opens the sealed request headers of checks (SW_SEAL_KEY); borrowed, outlives the
 * engine. Without it, a check with headers fails ("request headers cannot be opened"). */
void probe_engine_seal_key(probe_engine *e, const seal_key *key);

/* Starts a check of url (timeout in seconds) whose outcome is judged by expected (a JSON
 * string like "2xx-3xx" / "200-299" / "200", or an array of codes; NULL = 2xx-3xx). check: what
 * it does besides a plain GET (bus_probe_job.check; NULL: nothing; borrowed, copied as needed):
 * kind tcp (a connection to tcp://host:port within the timeout), method, sealed headers, body,
 * follow_redirects, tls_verify, assertions (actors/common/assertion.h). job is handed back to
 * the done callback. False when the engine is full. */
bool probe_engine_add(probe_engine *e, const char *url, int timeout_s, const json_t *expected,
                      const json_t *check, void *job);

/* Runs transfers for up to wait_ms and reports finished checks. Returns the checks in flight. */
int probe_engine_run(probe_engine *e, int wait_ms);

int probe_engine_inflight(const probe_engine *e);

/* Whether status satisfies expected (see probe_engine_add). */
bool probe_status_expected(int status, const json_t *expected);

#endif
