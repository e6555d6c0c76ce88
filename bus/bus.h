/* The actor runtime. An actor is a main() that hands a table of {subject, handler} rows to
 * bus_actor_main(); the runtime connects to NATS (reconnecting forever), subscribes each row in
 * queue group "q", turns each request into a bus_req, calls the handler, and publishes the
 * reply with Sw-Status and a JSON body. It also answers the NATS micro protocol ($SRV.PING,
 * INFO, STATS), logs in JSON, and drains on SIGTERM: in-flight requests and worker batches
 * finish before the process exits. A request still queued half-way through the drain
 * (SW_DRAIN_TIMEOUT_MS, 10 s) is answered 503 "shutting_down" with Retry-After instead; when
 * the drain times out, app_free waits until every handler has returned.
 *
 * Handlers take a parsed request and fill a reply, so they are testable without a network:
 * build a bus_req by hand, call the handler, read the bus_reply. */
#ifndef SW_BUS_H
#define SW_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <nats/nats.h>

#include "bus/clock.h"
#include "bus/contract.h"
#include "bus/ids.h"
#include "bus/status.h"

typedef struct bus_actor bus_actor;

/* Header names, subjects and the rest of the bus contract: bus/contract.h. */

typedef struct bus_req {
    const char *subject;
    const char *request_id; /* never NULL ("" when absent) */
    const char *tenant;     /* NULL when the caller is not authenticated */
    const char *user;
    const char *role;
    const char *client_ip;
    const char *param_id; /* the {id} of a REST path, NULL when none */
    const char *query;    /* the raw query string, NULL when none */
    json_t *body;         /* borrowed: the JSON object sent ({} for an empty body); NULL on raw
                             routes */
    const char *raw;      /* borrowed: the bytes as received */
    int raw_len;
    natsMsg *msg; /* borrowed: for other headers, see bus_req_header() */
    bus_actor *actor;
    void *app; /* what the actor's app_init returned */
} bus_req;

#define BUS_REPLY_MAX_HEADERS 6

typedef struct bus_reply {
    json_t *body; /* owned by the reply */
    char *text;   /* owned: a body already serialised (bus_reply_text), sent instead of body */
    int nheaders;
    char *header_names[BUS_REPLY_MAX_HEADERS]; /* owned */
    char *header_values[BUS_REPLY_MAX_HEADERS];
} bus_reply;

typedef sw_status (*bus_handler)(const bus_req *req, bus_reply *rep);

typedef struct bus_route {
    const char *subject;
    bus_handler handler;
    bool raw; /* body passed through unparsed (webhooks) */
} bus_route;

/* How much a worker takes on its next turn (see bus_worker.plan). */
typedef struct bus_take {
    int room;    /* at most this many messages are taken (0: none this turn) */
    int ask;     /* ask the server for this many when no pull request is open (<= room) */
    int wait_ms; /* how long to wait for the first */
} bus_take;

/* A worker declares its consumer the way a request actor declares routes: the runtime binds
 * the durable pull consumer once it exists, runs the loop on a thread of its own, and calls
 * handle once per turn with what it took. While stopping, the loop takes nothing more and
 * ends once busy() (if given) says the worker holds no work; then done() runs on the same
 * thread, before the connection drains. app is what app_init returned. */
typedef struct bus_worker {
    const char *stream;   /* NULL: no consumer, handle runs every turn with n = 0 (a ticker) */
    const char *consumer; /* the durable; NULL with a stream: consumer_name() gives it */
    void (*consumer_name)(void *app, char *out, size_t len);
    int batch;   /* default plan: room = ask = batch */
    int wait_ms; /* default plan: wait for the first message */
    /* Optional: the turn's room and ask (e.g. the prober's free capacity). */
    void (*plan)(void *app, bool stopping, bus_take *t);
    /* msgs[0..n-1]: owned by handle (ack, nak or term each, then natsMsg_Destroy). */
    void (*handle)(bus_actor *a, void *app, natsMsg **msgs, int n);
    bool (*busy)(void *app);
    void (*done)(void *app);
} bus_worker;

typedef struct bus_actor_def {
    const char *name; /* "sw-auth": the micro service name, no dots */
    /* True for an actor that issues or verifies tokens (sw-auth): in production it refuses to
     * start without a strong SECRET_KEY. The others are not given the key (ops/sw); one that is
     * handed a weak key in production still refuses it. */
    bool uses_secret_key;
    const char *description;
    const bus_route *routes;
    size_t nroutes;
    const bus_worker *workers; /* started after app_init, joined before app_free */
    size_t nworkers;
    /* Optional: called once after the connection is up and before subscribing. Returns the
     * app context handed to handlers as req->app, or NULL with *err set to fail start-up. */
    void *(*app_init)(bus_actor *a, sw_status *err);
    void (*app_free)(void *app);
    /* Optional: adds gauges (values of the moment, e.g. rows by plan read from the database) to
     * the data object (borrowed) of the "worker" pseudo-endpoint when $SRV.STATS is answered,
     * next to the counters of bus_actor_count. Runs on the micro subscription's thread: keep
     * it short and bounded (a statement timeout on any query). */
    void (*stats)(bus_actor *a, json_t *data);
    /* Optional, NULL-terminated: subjects whose handlers may wait seconds on something outside
     * (a DNS lookup with its deadline). They run on the actor's pool of SW_SLOW_THREADS threads
     * (default 32), never on a NATS delivery thread, so the requests queued behind one on its
     * subscription (any tenant's) are not held up. */
    const char *const *slow_subjects;
} bus_actor_def;

/* Runs the actor until SIGTERM/SIGINT; returns the process exit code. */
int bus_actor_main(int argc, char **argv, const bus_actor_def *def);

/* --- helpers for handlers and workers --- */

/* A request header, borrowed from the message, or NULL. */
const char *bus_req_header(const bus_req *req, const char *name);

struct bus_audit;
/* The actor part of an audit object (bus/messages.h, bus/contract.h) from the request's
 * verified headers: Sw-User, Sw-Api-Token, Sw-Client-Ip, Sw-Request-Id (borrowed from req),
 * and at_ms = now. The caller sets action, target and detail. */
void bus_audit_from_req(struct bus_audit *a, const bus_req *req);

natsConnection *bus_actor_conn(bus_actor *a);
jsCtx *bus_actor_js(bus_actor *a);
void *bus_actor_app(bus_actor *a);
/* True once the actor has been asked to stop; workers finish their batch and return. */
bool bus_actor_stopping(bus_actor *a);

/* Actor counters for $SRV.STATS: adds delta to the counter called name (created on first use;
 * names past BUS_MAX_COUNTERS are ignored). They are reported in the data object of a
 * "worker" pseudo-endpoint of the STATS reply ({"checks_ok": 12, ...}), so actors without
 * routes (prober, recorder, scheduler) show their work too. Thread-safe; name is copied. */
#define BUS_MAX_COUNTERS 48
void bus_actor_count(bus_actor *a, const char *name, int64_t delta);
/* Raises the counter name to value when value is larger (a high-water mark, e.g. lateness). */
void bus_actor_count_max(bus_actor *a, const char *name, int64_t value);

/* Sets the reply body. body: takes ownership. */
void bus_reply_json(bus_reply *rep, json_t *body);
/* A success body the handler serialised itself (one compact JSON object; owned by the reply
 * from now on): for hot read paths that build their text from cached fragments. */
void bus_reply_text(bus_reply *rep, char *text);
/* Sets {"detail": detail} (and "code" when code is not NULL) and returns st. */
sw_status bus_reply_error(bus_reply *rep, sw_status st, const char *code, const char *detail);
/* A failed store or bus call as the client sees it, dropping whatever the reply held: 503 when
 * a dependency is away (SW_EUNAVAILABLE), else 500. Returns the status replied. */
sw_status bus_reply_failure(bus_reply *rep, sw_status st);
/* 404 {"detail": "Not found."}, dropping whatever the reply held. */
sw_status bus_reply_not_found(bus_reply *rep);
/* Appends msg to the field's list in a DRF-style field error body. */
void bus_reply_field_error(bus_reply *rep, const char *field, const char *msg);
/* Adds a header; name and value are copied. Extra headers past the limit are dropped. */
void bus_reply_header(bus_reply *rep, const char *name, const char *value);
void bus_reply_clear(bus_reply *rep);

/* --- connections (actors, the edge, tools) --- */

/* Connects with the settings from the environment: NATS_URL, SW_NATS_USER, SW_NATS_PASSWORD,
 * reconnecting forever with an inbox prefix of _INBOX_<user>. With wait_ms > 0, waits that
 * long for the first connection before failing; with 0, returns at once and connects in the
 * background. *out: owned (natsConnection_Destroy). */
sw_status bus_connect(natsConnection **out, const char *name, int wait_ms);

/* Sets the servers of opts from a URL or a comma-separated list of URLs (the nodes of a
 * cluster): natsOptions_SetURL in nats.c 3.4 takes a single URL only. */
natsStatus bus_nats_set_servers(natsOptions *opts, const char *list);

/* Publishes to a JetStream subject with a Nats-Msg-Id so a retried publish is a no-op.
 * payload: borrowed. */
sw_status bus_js_publish(jsCtx *js, const char *subject, const json_t *payload, const char *msg_id,
                         const char *request_id);

/* Sends a request with context headers and waits for the reply. Translates no-responders to
 * SW_EUNAVAILABLE and timeouts to SW_ETIMEOUT. *reply: owned (natsMsg_Destroy). */
sw_status bus_request(natsMsg **reply, natsConnection *nc, natsMsg *req, int timeout_ms);

#endif
