/* Handlers of sw-endpoints (subjects sw.v1.endpoints.*): the URLs a tenant watches, DRF
 * ModelViewSet style (DESIGN §5), plan limits, the URL policy, the schedule row of each
 * endpoint and the first check job. */
#ifndef SW_ENDPOINTS_H
#define SW_ENDPOINTS_H

#include <pthread.h>

#include "actors/common/app.h"
#include "actors/common/plans.h"
#include "actors/common/seal.h"
#include "actors/common/url_policy.h"
#include "bus/bus.h"
#include "store/store.h"

#define ENDPOINTS_MAX_REGIONS 16

/* req->app of this actor: the shared context plus what only endpoints needs. */
#define ENDPOINTS_LOOKUP_SLOTS 64

/* URL checks (a DNS lookup each, up to its deadline) in flight per tenant in this process. */
typedef struct lookup_slot {
    char tenant[48];
    int n;
} lookup_slot;

typedef struct endpoints_app {
    actor_app *common;  /* owned */
    url_policy *policy; /* owned: built once from SW_PROBE_ALLOW_CIDRS, SW_ENV, SW_DNS_* */
    pthread_mutex_t lookups_lock;
    lookup_slot lookups[ENDPOINTS_LOOKUP_SLOTS];
    int lookups_per_tenant; /* SW_DNS_TENANT_LOOKUPS */
    char home_region[64];   /* SW_REGION: the default region of a new endpoint */
    char regions[512];      /* SW_REGIONS: the regions probers run in (comma-separated) */
    seal_key *seal;         /* owned: SW_SEAL_KEY (request header values); NULL when unset */
} endpoints_app;

/* bus_actor_def.app_init / app_free. Refuses to start (naming the setting) on a bad
 * SW_PROBE_ALLOW_CIDRS, SW_REGION, SW_REGIONS, SW_DNS_SERVERS or SW_DNS_TIMEOUT_MS. */
void *endpoints_app_init(bus_actor *a, sw_status *err);
void endpoints_app_free(void *app);

/* cache.c: the read model (see the file's comment). A snapshot of one tenant's endpoints in
 * list order (created_at, id), each row the API object of its table columns as compact JSON
 * without the closing brace, so a reader appends the live state fields and '}'. */
typedef struct endpoints_row {
    char id[40];
    bool paused;
    char ping_key[40]; /* a heartbeat's (its JSON has no ping_key: the URL is per request) */
    char *json;        /* owned */
    size_t len;        /* of json without its closing brace */
} endpoints_row;

typedef struct endpoints_snapshot {
    int refs; /* under the cache's lock */
    char tenant[48];
    char schema[48];   /* unquoted */
    long long version; /* public.endpoint_versions of the schema when loaded (0: no row) */
    size_t n;
    endpoints_row *rows; /* owned, list order */
    size_t *by_id;       /* owned: indexes of rows sorted by id */
} endpoints_snapshot;

/* The tenant's snapshot (*out: one reference, endpoints_snapshot_release), from memory unless
 * reload or absent, else loaded on c (the schema from public.tenants) and kept. The caller
 * checks it against the version its own statement sees. SW_ENOTFOUND/SW_EUNAUTH: no such
 * tenant. */
sw_status endpoints_snapshot_get(store_conn *c, const char *tenant, bool reload,
                                 endpoints_snapshot **out);
void endpoints_snapshot_release(endpoints_snapshot *s);
/* The row with this id, or NULL. */
const endpoints_row *endpoints_snapshot_find(const endpoints_snapshot *s, const char *id);

/* crud.c */
/* Whether req->param_id is one of the tenant's endpoints, as committed now (the read model,
 * checked against the tenant's version in one prepared statement). SW_ENOTFOUND/SW_EUNAUTH:
 * no such tenant. */
sw_status endpoints_owned(store_conn *c, const bus_req *req, bool *owned);
/* The API fields that come from the endpoints table (alias e), in response order: the
 * snapshot's columns. The state fields (last_status, …) follow them. */
const char *endpoints_fields(void);
sw_status endpoints_list(const bus_req *req, bus_reply *rep);
sw_status endpoints_create(const bus_req *req, bus_reply *rep);
sw_status endpoints_get(const bus_req *req, bus_reply *rep);
sw_status endpoints_update(const bus_req *req, bus_reply *rep);
sw_status endpoints_patch(const bus_req *req, bus_reply *rep);
sw_status endpoints_delete(const bus_req *req, bus_reply *rep);

/* plan.c: inside the caller's tenant transaction, takes the tenant's advisory lock (class
 * ENDPOINTS_PLAN_LOCK_CLASS; creates, plan changes and resumes of one tenant queue behind it,
 * so a count of its endpoints stays true until the commit) and returns its plan from
 * sw-billing's public.subscriptions ("free" without a row; *plan NULL for a plan not in
 * actors/common/plans.h, which then limits nothing). */
#define ENDPOINTS_PLAN_LOCK_CLASS "21335" /* 0x5357, "SW" */
sw_status endpoints_lock_plan(store_conn *c, const char *tenant, const sw_plan **plan);

/* plan.c: bus_worker.handle of the plan.changed consumer: pauses what the tenant's plan no
 * longer allows, resumes what a downgrade paused once the plan allows it again. */
void endpoints_plan_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

/* history.c */
sw_status endpoints_checks(const bus_req *req, bus_reply *rep);
/* Which checks of an endpoint to list (endpoints_history_checks). */
typedef struct endpoints_checks_filter {
    const char *region; /* borrowed; NULL: every region */
    int ok;             /* -1: all, 0: failed attempts only, 1: successful ones only */
    int64_t before_ms;  /* > 0: only checks made before this epoch ms */
    int limit;          /* 1..500 */
    int64_t since_ms;   /* > 0: only checks made at or after this epoch ms */
} endpoints_checks_filter;
/* The checks list of the tenant's endpoint (both history tables: the exceptions and the runs
 * of successes, schema/public/0013_1_check_runs.sql), newest first, inside the caller's
 * tenant transaction. *rows owned: objects {checked_at, region, attempt, ok, http_status,
 * error, latency_ms, dns_ms, connect_ms, tls_ms, ttfb_ms}. */
sw_status endpoints_history_checks(store_conn *c, const char *tenant, const char *endpoint,
                                   const endpoints_checks_filter *f, json_t **rows);
sw_status endpoints_uptime(const bus_req *req, bus_reply *rep);
sw_status endpoints_response_times(const bus_req *req, bus_reply *rep);
sw_status endpoints_incidents(const bus_req *req, bus_reply *rep);

/* status_pages.c: GET/POST /api/status-pages/, GET/PATCH/DELETE /api/status-pages/{id}/
 * (owner and admins). */
sw_status status_pages_list(const bus_req *req, bus_reply *rep);
sw_status status_pages_create(const bus_req *req, bus_reply *rep);
sw_status status_pages_get(const bus_req *req, bus_reply *rep);
sw_status status_pages_patch(const bus_req *req, bus_reply *rep);
sw_status status_pages_delete(const bus_req *req, bus_reply *rep);
/* 3-63 characters of [a-z0-9-]. */
bool status_slug_valid(const char *slug);

/* status_public.c: BUS_SUBJ_STATUS_PUBLIC, one public document of a page ({"slug", "path"}),
 * for the edge's cache. */
sw_status status_public(const bus_req *req, bus_reply *rep);

/* fields.c: the writable fields of an endpoint, checked. Members are owned by the struct
 * (endpoint_input_free); has_* tells which ones the request carried. */
typedef struct endpoint_input {
    bool has_name, has_url, has_interval, has_timeout, has_expected, has_regions, has_failure,
        has_recovery, has_paused;
    char name[808]; /* up to 200 characters of UTF-8 */
    char url[2049];
    long interval_seconds, timeout_seconds, failure_threshold, recovery_threshold;
    json_t *expected_status; /* owned: "Nxx-Mxx" string or an array of codes */
    json_t *regions;         /* owned: array of region names */
    bool paused;
    /* issue 17: what a check does (README "Checks") */
    bool has_kind, has_method, has_headers, has_body, has_follow, has_tls_verify,
        has_assertions, has_degraded, has_alert_days;
    char kind[8];             /* "http" | "tcp" */
    char method[8];           /* GET HEAD POST PUT PATCH DELETE OPTIONS */
    json_t *headers;          /* owned: name -> value; a value "********" keeps the stored one */
    char *body;               /* owned; NULL: none */
    bool follow_redirects, tls_verify;
    json_t *assertions;       /* owned: assertion_validate's list */
    long degraded_threshold_ms; /* 0: none */
    json_t *alert_days;       /* owned: array of 1-365, unique, descending */
} endpoint_input;

/* Reads and checks req->body into in; field errors go into rep (DRF shape). url_required:
 * POST and PUT. Returns true when there were no field errors. Resolves the URL's host (the
 * URL policy), so call it outside any transaction. */
bool endpoint_input_read(endpoint_input *in, const bus_req *req, bus_reply *rep, bool url_required);
void endpoint_input_free(endpoint_input *in);

/* The columns of a check (issue 17) as UPDATE/INSERT parameters, after endpoint_input_read:
 * merges the request's headers with the sealed ones stored (cur_sealed: borrowed, may be NULL;
 * "********" keeps a stored value) and seals them. p gets 10 parameters in this order: kind,
 * method, header_names (JSON array), headers_sealed, body, follow_redirects, tls_verify,
 * assertions, degraded_threshold_ms, tls_expiry_alert_days (JSON array); NULL for one the
 * request did not carry (the column keeps its value), except body/degraded which use set_* to
 * tell "set to null". bufs: owned strings to free with endpoint_check_params_free. False (with a
 * field error, or SW_EUNAVAILABLE in *st) when the headers cannot be sealed. */
typedef struct endpoint_check_params {
    const char *p[10];
    bool set_body, set_degraded;
    char *owned[6];
    char num[24];
} endpoint_check_params;
bool endpoint_check_params_make(endpoint_check_params *cp, const bus_req *req,
                                const endpoint_input *in, const char *cur_sealed, bus_reply *rep);
void endpoint_check_params_free(endpoint_check_params *cp);
/* alerting.c: channel_ids and reminder_minutes of req->body (when present) checked and written
 * to endpoint id inside the caller's tenant transaction; SW_EINVAL with field errors in rep. */
sw_status endpoints_alert_write(store_conn *c, const bus_req *req, bus_reply *rep, const char *id);

/* crud.c, for heartbeat.c: the API shape of one endpoint (p: tenant, id; *row owned, raw:
 * before endpoints_heartbeat_shape), and the plan's limit inside a begun tenant transaction
 * (locks the tenant row; SW_OK when one more endpoint is allowed, else the error reply). */
sw_status endpoints_fetch(store_conn *c, const char *const p[2], json_t **row);
sw_status endpoints_check_limit(store_conn *c, const bus_req *req, bus_reply *rep);

/* heartbeat.c: heartbeat monitors (kind "heartbeat": pinged, never probed). */
bool endpoints_heartbeat_requested(const bus_req *req); /* the body says kind "heartbeat" */
sw_status endpoints_heartbeat_create(const bus_req *req, bus_reply *rep);
/* PUT/PATCH of an id: true when it is the tenant's heartbeat, then *result and rep are the
 * answer; false when crud.c answers (a probed endpoint, or no such endpoint). */
bool endpoints_heartbeat_update(const bus_req *req, bus_reply *rep, sw_status *result);
sw_status endpoints_pings(const bus_req *req, bus_reply *rep);
sw_status endpoints_rotate_ping_url(const bus_req *req, bus_reply *rep);
/* An endpoint row as the API shows it: kind, and for a heartbeat ping_url (on the caller's
 * base URL) in place of the key; the heartbeat fields dropped for a probed endpoint. */
void endpoints_heartbeat_shape(const bus_req *req, json_t *row);
/* The same for the read model (cache.c, at load): kind, and the heartbeat fields dropped for a
 * probed endpoint; the ping key moves out of row into key (copied; "" for a probed one). */
void endpoints_heartbeat_shape_cached(json_t *row, char *key, size_t keylen);
/* "<the caller's base URL>/ping/<key>" into out. */
void endpoints_ping_url(char *out, size_t len, const bus_req *req, const char *key);

/* publish.c: after commit. Failures are logged, never returned to the client: the schedule
 * row (due now) makes the scheduler send the job anyway, and events are best effort. */
void endpoints_publish_first_check(const bus_req *req, const json_t *endpoint, long due_epoch,
                                   const json_t *probe);
/* endpoint.<event>, with its audit object (bus/contract.h): endpoint is the row (borrowed, may
 * be NULL) whose name labels the audit entry. */
void endpoints_publish_event(const bus_req *req, const char *endpoint_id, const char *event,
                             const json_t *endpoint);
/* The ping key of a heartbeat for the edges (stream SW_PING_KEYS): key names endpoint_id, or
 * (removed) names nothing any more. Retried; a failure is logged loudly (the ping URL would
 * answer 404 until the heartbeat is saved again). */
void endpoints_publish_ping_key(const bus_req *req, const char *endpoint_id, const char *key,
                                bool removed);

#endif
