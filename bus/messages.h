/* The two messages of the probing pipeline, each with its one encoder and one decoder: the
 * probe job (scheduler and sw-endpoints → prober) and the probe result (prober → recorder),
 * and the subjects they travel on (bus/contract.h). A decoder checks every field a consumer
 * relies on, so what it accepts can always be stored; anything else is malformed and is
 * terminated on its own. */
#ifndef SW_BUS_MESSAGES_H
#define SW_BUS_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "bus/contract.h"
#include "bus/status.h"

/* ---- subjects ---------------------------------------------------------------------------- */

/* Each writes the subject into out (NUL-terminated) and returns false when it does not fit. */
bool bus_subject_probe_job(char *out, size_t len, const char *region);
bool bus_subject_result(char *out, size_t len, const char *region, const char *tenant);
/* sw.v1.evt.<tenant>.<kind>, kind e.g. BUS_EVT_PLAN_CHANGED or "endpoint.created". */
bool bus_subject_event(char *out, size_t len, const char *tenant, const char *kind);
/* <prefix><region> of the region's durable probe consumer. */
bool bus_consumer_probers(char *out, size_t len, const char *region);

/* Splits sw.v1.results.<region>.<tenant> into its two tokens (each checked: 1..max-1
 * characters of [A-Za-z0-9_-]). False for any other subject. */
bool bus_subject_result_parse(const char *subject, char region[BUS_REGION_MAX],
                              char tenant[BUS_TENANT_MAX]);
/* The tenant token of sw.v1.evt.<tenant>.<...>; false for any other subject. */
bool bus_subject_event_tenant(const char *subject, char tenant[BUS_TENANT_MAX]);

/* Whether s is a canonical lowercase UUID (8-4-4-4-12 hex digits). */
bool bus_uuid_valid(const char *s);

/* ---- probe job --------------------------------------------------------------------------- */

/* The job carries what a prober needs and nothing it does not: thresholds and quorum are the
 * recorder's own data (public.schedule), never taken from a message. */
typedef struct bus_probe_job {
    char job_id[BUS_JOB_ID_MAX]; /* BUS_ID_PROBE_JOB_FMT; also the job's Nats-Msg-Id */
    const char *endpoint_id;     /* borrowed (encode: from the caller; decode: from the JSON) */
    const char *tenant_id;
    const char *region;
    const char *url;
    int64_t due_epoch;
    int timeout_seconds;
    const json_t *expected_status; /* borrowed; NULL: the default ("2xx-3xx") */
    /* borrowed; NULL: a plain GET. What the check does besides (issue 17; public.schedule.probe):
     * {"kind": "http"|"tcp", "method", "headers": sealed text (actors/common/seal.h), "body",
     * "follow_redirects", "tls_verify", "assertions"}; the prober reads it. */
    const json_t *check;
} bus_probe_job;

/* Fills job_id from endpoint_id, due_epoch and region. False when it does not fit. */
bool bus_probe_job_set_id(bus_probe_job *j);
/* Returns the JSON object to publish (owned, json_decref), or NULL when a field is missing. */
json_t *bus_probe_job_encode(const bus_probe_job *j);
/* *out: its strings borrowed from o (valid while o is). SW_EINVAL when o is not a job. */
sw_status bus_probe_job_decode(bus_probe_job *out, const json_t *o);

/* ---- probe result ------------------------------------------------------------------------ */

typedef struct bus_probe_result {
    const char *job_id; /* borrowed */
    const char *endpoint_id;
    char tenant_id[BUS_TENANT_MAX]; /* decode: from the subject, never the payload */
    char region[BUS_REGION_MAX];    /* decode: from the subject, never the payload */
    int64_t due_epoch;
    int64_t checked_at_ms;
    int attempt;       /* 1..BUS_PROBE_MAX_DELIVER (delivery count of the job) */
    bool ok;           /* the status matched what the endpoint expects */
    bool blocked;      /* refused by the URL policy */
    bool final;        /* the job's last attempt */
    int http_status;   /* 0 when no response */
    const char *error; /* "" when ok */
    double dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms;
    /* The certificate an HTTPS check saw (issue 17); 0 / NULL: none. */
    int64_t tls_expires_at; /* epoch seconds */
    const char *tls_issuer, *tls_subject;
} bus_probe_result;

/* Returns the JSON object to publish on bus_subject_result(region, tenant) (owned), or NULL. */
json_t *bus_probe_result_encode(const bus_probe_result *r);

/* How a result message was judged. */
typedef enum bus_result_verdict {
    BUS_RESULT_OK,
    BUS_RESULT_MALFORMED, /* not a result: never storable, terminate it */
    BUS_RESULT_FORGED,    /* the payload names another tenant or region than its subject */
} bus_result_verdict;

/* Decodes the result o that arrived on subject. Tenant and region come from the subject (the
 * NATS permissions bind the region to the publisher); a payload that claims others is
 * BUS_RESULT_FORGED. *out: strings borrowed from o. */
bus_result_verdict bus_probe_result_decode(bus_probe_result *out, const json_t *o,
                                           const char *subject);

/* ---- heartbeat ping (edge → recorder) ------------------------------------------------------ */

typedef struct bus_ping {
    const char *ping_id;            /* borrowed; 32 hex digits (the edge's request id) */
    const char *endpoint_id;        /* a uuid */
    char tenant_id[BUS_TENANT_MAX]; /* decode: from the subject, never the payload */
    const char *kind;               /* "success" | "start" | "fail" */
    int exit_status;                /* 0-255 from /ping/<uuid>/<n>, -1 when none */
    int64_t received_at_ms;
    const char *method; /* GET | POST | HEAD */
    const char *client_ip;
    const char *user_agent; /* "" when none; at most 256 bytes */
    const char *body;       /* "" when none; valid UTF-8, at most BUS_PING_BODY_MAX bytes */
} bus_ping;

bool bus_subject_ping(char *out, size_t len, const char *tenant);
/* Returns the JSON object to publish on bus_subject_ping(tenant) (owned), or NULL when a field
 * is missing or out of shape. */
json_t *bus_ping_encode(const bus_ping *p);
/* The same as compact JSON text, written directly (the edge encodes one per ping: jansson's
 * pack and dump cost it more than the rest of the request). Returns owned text (free) and its
 * length, or NULL when a field is missing, out of shape or not UTF-8. */
char *bus_ping_encode_text(const bus_ping *p, size_t *len);
/* Decodes o that arrived on subject; false when it is not a ping (or names another tenant).
 * *out: strings borrowed from o. */
bool bus_ping_decode(bus_ping *out, const json_t *o, const char *subject);

/* ---- ping keys (sw-endpoints → edge) ------------------------------------------------------- */

/* The hash of a ping uuid, as BUS_PING_KEY_HASH_HEX lowercase hex digits (BLAKE2b). */
void bus_ping_key_hash(char out[BUS_PING_KEY_HASH_HEX + 1], const char *ping_uuid);
bool bus_subject_ping_key(char *out, size_t len, const char *hash);

typedef struct bus_ping_key {
    char hash[BUS_PING_KEY_HASH_HEX + 1]; /* decode: from the subject */
    char tenant_id[BUS_TENANT_MAX];
    char endpoint_id[BUS_UUID_LEN + 1];
    bool removed; /* the key no longer names an endpoint (rotated away, deleted) */
} bus_ping_key;

/* The body for a key naming tenant's endpoint, or (removed) naming nothing any more. Owned. */
json_t *bus_ping_key_encode(const bus_ping_key *k);
/* A message of stream SW_PING_KEYS; false when it is not one. */
bool bus_ping_key_decode(bus_ping_key *out, const char *subject, const char *data, int len);

/* ---- audit trail (any actor -> sw-auth, inside an event's payload) ------------------------ */

/* The "audit" object of an event (bus/contract.h, BUS_CONSUMER_AUTH_AUDIT). Strings borrowed;
 * NULL: absent. */
typedef struct bus_audit {
    const char *action;       /* "endpoint.created" */
    const char *target_type;  /* "endpoint" */
    const char *target_id;    /* may be NULL */
    const char *target_label; /* may be NULL */
    const char *user_id;      /* the acting user (a uuid), NULL for none */
    const char *token_id;     /* the API token used (a uuid), NULL for none */
    const char *client_ip;    /* may be NULL */
    const char *actor_label;  /* only without user and token: who acted ("Stripe") */
    const char *request_id;   /* may be NULL */
    int64_t at_ms;            /* when the change was made */
    const json_t *detail;     /* an object or NULL */
} bus_audit;

/* Adds "audit" to the event object evt (borrowed). False (evt unchanged) when the object would
 * not pass bus_audit_decode (a required field missing, one out of shape or too long). */
bool bus_audit_put(json_t *evt, const bus_audit *a);
/* Reads the "audit" object of the event evt. SW_ENOTFOUND: the event has none (not audited);
 * SW_EINVAL: it has one that is out of shape (never storable). *out: borrowed from evt. */
sw_status bus_audit_decode(bus_audit *out, const json_t *evt);

#endif
