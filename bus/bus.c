/* The actor runtime: connection, route subscriptions, request/reply envelope, micro protocol,
 * signals and draining. See bus.h for the contract. */
#include "bus/bus.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "bus/config.h"
#include "bus/jetstream.h"
#include "bus/messages.h"
#include "bus/log.h"
#include "bus/sentry.h"

#define BUS_MAX_WORKERS 16
#define BUS_VERSION "1.0.0"
/* At least this long for handlers still running when the drain has closed the connection. */
#define BUS_HANDLER_WAIT_MS 5000

/* Per-route counters for $SRV.STATS. */
typedef struct route_state {
    const bus_route *route;
    bus_actor *actor;
    bool slow;     /* served on the slow pool (bus_actor_def.slow_subjects) */
    char name[64]; /* micro endpoint name: the subject after sw.v1.<actor>. with '.' -> '_' */
    pthread_mutex_t lock;
    int64_t num_requests;
    int64_t num_errors;
    int64_t processing_ns;
    char last_error[128];
} route_state;

/* A named actor counter (bus_actor_count). */
typedef struct counter {
    char name[48];
    int64_t value;
} counter;

typedef struct worker {
    pthread_t thread;
    const bus_worker *def;
    bus_actor *actor;
} worker;

/* A request handed to the pool of slow routes. */
typedef struct slow_job {
    struct slow_job *next;
    route_state *rs;
    natsConnection *nc;
    natsMsg *msg; /* owned */
} slow_job;

#define BUS_MAX_SLOW_THREADS 128

typedef struct slow_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    slow_job *head, *tail;
    int busy; /* jobs queued or running */
    bool stop;
    pthread_t threads[BUS_MAX_SLOW_THREADS];
    int nthreads;
} slow_pool;

struct bus_actor {
    const bus_actor_def *def;
    slow_pool slow;
    char id[32];
    char started[32];
    natsConnection *nc;
    jsCtx *js;
    void *app;
    route_state *routes;
    natsSubscription **subs;
    int nsubs;
    volatile int stopping;
    /* While stopping: a request that has not started by then is refused (503) so that the
     * drain ends in time; INT64_MAX until SIGTERM. */
    int64_t refuse_from_ns;
    int64_t refused; /* requests refused that way */
    /* Subscriptions whose delivery thread reports its end (on_sub_done): after the last one
     * no message callback is running, and only then may app_free run. */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    int nwatched;
    int ndone;
    worker workers[BUS_MAX_WORKERS];
    int nworkers;
    pthread_mutex_t counters_lock;
    counter counters[BUS_MAX_COUNTERS];
    int ncounters;
};

/* ---------------------------------------------------------------- replies */

void bus_reply_json(bus_reply *rep, json_t *body)
{
    json_decref(rep->body);
    rep->body = body;
    free(rep->text);
    rep->text = NULL;
}

void bus_reply_text(bus_reply *rep, char *text)
{
    json_decref(rep->body);
    rep->body = NULL;
    free(rep->text);
    rep->text = text;
}

sw_status bus_reply_error(bus_reply *rep, sw_status st, const char *code, const char *detail)
{
    json_t *b = json_object();
    json_object_set_new(b, "detail", json_string(detail ? detail : sw_status_str(st)));
    if (code)
        json_object_set_new(b, "code", json_string(code));
    bus_reply_json(rep, b);
    return st;
}

sw_status bus_reply_failure(bus_reply *rep, sw_status st)
{
    bus_reply_clear(rep);
    return bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
}

sw_status bus_reply_not_found(bus_reply *rep)
{
    bus_reply_clear(rep);
    return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Not found.");
}

void bus_reply_field_error(bus_reply *rep, const char *field, const char *msg)
{
    if (!json_is_object(rep->body))
        bus_reply_json(rep, json_object());
    json_t *list = json_object_get(rep->body, field);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(rep->body, field, list);
    }
    json_array_append_new(list, json_string(msg));
}

void bus_reply_header(bus_reply *rep, const char *name, const char *value)
{
    if (rep->nheaders >= BUS_REPLY_MAX_HEADERS)
        return;
    rep->header_names[rep->nheaders] = strdup(name);
    rep->header_values[rep->nheaders] = strdup(value);
    rep->nheaders++;
}

void bus_reply_clear(bus_reply *rep)
{
    json_decref(rep->body);
    rep->body = NULL;
    free(rep->text);
    rep->text = NULL;
    for (int i = 0; i < rep->nheaders; i++) {
        free(rep->header_names[i]);
        free(rep->header_values[i]);
    }
    rep->nheaders = 0;
}

/* ---------------------------------------------------------------- requests */

const char *bus_req_header(const bus_req *req, const char *name)
{
    const char *v = NULL;
    if (!req->msg || natsMsgHeader_Get(req->msg, name, &v) != NATS_OK)
        return NULL;
    return v;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

void bus_audit_from_req(bus_audit *a, const bus_req *req)
{
    memset(a, 0, sizeof(*a));
    a->user_id = nonempty(req->user);
    a->token_id = nonempty(bus_req_header(req, BUS_H_API_TOKEN));
    a->client_ip = nonempty(req->client_ip);
    a->request_id = nonempty(req->request_id);
    a->at_ms = sw_epoch_ms();
}

static void send_reply(natsConnection *nc, natsMsg *msg, sw_status st, bus_reply *rep,
                       const char *request_id)
{
    const char *reply_to = natsMsg_GetReply(msg);
    natsMsg *out = NULL;
    char *text = NULL;
    char code[8];

    if (!reply_to || !*reply_to)
        return; /* a publish, not a request: nothing to answer */
    if (!rep->body && !rep->text && sw_status_is_error(st))
        bus_reply_error(rep, st, NULL, NULL);
    text = rep->body ? json_dumps(rep->body, JSON_COMPACT) : NULL;
    const char *data = rep->text ? rep->text : text ? text : "{}";
    if (natsMsg_Create(&out, reply_to, NULL, data, (int)strlen(data)) != NATS_OK)
        goto out;
    snprintf(code, sizeof(code), "%d", sw_status_http(st));
    natsMsgHeader_Set(out, "Content-Type", "application/json");
    natsMsgHeader_Set(out, BUS_H_STATUS, code);
    if (request_id && *request_id)
        natsMsgHeader_Set(out, BUS_H_REQUEST_ID, request_id);
    if (sw_status_is_error(st)) {
        const char *detail = json_string_value(json_object_get(rep->body, "detail"));
        natsMsgHeader_Set(out, "Nats-Service-Error", detail ? detail : sw_status_str(st));
        natsMsgHeader_Set(out, "Nats-Service-Error-Code", code);
    }
    for (int i = 0; i < rep->nheaders; i++) {
        char key[96];
        snprintf(key, sizeof(key), "%s%s", BUS_H_HTTP_PREFIX, rep->header_names[i]);
        natsMsgHeader_Set(out, key, rep->header_values[i]);
    }
    if (natsConnection_PublishMsg(nc, out) != NATS_OK)
        sw_log(SW_LOG_WARN, "reply not sent", "subject", natsMsg_GetSubject(msg), NULL);
out:
    natsMsg_Destroy(out);
    free(text);
}

/* Serves one request and destroys msg. */
static void serve(route_state *rs, natsConnection *nc, natsMsg *msg)
{
    bus_req req = {0};
    bus_reply rep = {0};
    sw_status st;
    int64_t t0 = sw_now_ns();
    const char *reply_to = natsMsg_GetReply(msg);
    /* A request still queued late in the drain is answered at once rather than left to the
     * drain's timeout, which closes the connection and drops it unanswered. A publish (no
     * reply subject) is work nobody would retry: it is always handled. */
    bool refuse = reply_to && *reply_to &&
                  t0 >= __atomic_load_n(&rs->actor->refuse_from_ns, __ATOMIC_ACQUIRE);

    req.subject = natsMsg_GetSubject(msg);
    req.msg = msg;
    req.actor = rs->actor;
    req.app = rs->actor->app;
    req.request_id = bus_req_header(&req, BUS_H_REQUEST_ID);
    if (!req.request_id)
        req.request_id = "";
    req.tenant = bus_req_header(&req, BUS_H_TENANT);
    req.user = bus_req_header(&req, BUS_H_USER);
    req.role = bus_req_header(&req, BUS_H_ROLE);
    req.client_ip = bus_req_header(&req, BUS_H_CLIENT_IP);
    req.param_id = bus_req_header(&req, BUS_H_PARAM_ID);
    req.query = bus_req_header(&req, BUS_H_QUERY);
    req.raw = natsMsg_GetData(msg);
    req.raw_len = natsMsg_GetDataLength(msg);
    sw_log_ctx_set(req.request_id, req.tenant);

    if (refuse) {
        st = bus_reply_error(&rep, SW_EUNAVAILABLE, "shutting_down",
                             "The service is restarting. Try again.");
        bus_reply_header(&rep, "Retry-After", "1");
        __atomic_add_fetch(&rs->actor->refused, 1, __ATOMIC_RELAXED);
    } else if (rs->route->raw) {
        st = rs->route->handler(&req, &rep);
    } else {
        json_error_t jerr;
        req.body =
            req.raw_len > 0 ? json_loadb(req.raw, (size_t)req.raw_len, 0, &jerr) : json_object();
        if (!json_is_object(req.body))
            st = bus_reply_error(&rep, SW_EINVAL, "parse_error", "Malformed JSON body.");
        else
            st = rs->route->handler(&req, &rep);
        json_decref(req.body);
    }
    send_reply(nc, msg, st, &rep, req.request_id);

    int64_t dt = sw_now_ns() - t0;
    pthread_mutex_lock(&rs->lock);
    rs->num_requests++;
    rs->processing_ns += dt;
    if (sw_status_is_error(st)) {
        rs->num_errors++;
        snprintf(rs->last_error, sizeof(rs->last_error), "%d %s", sw_status_http(st),
                 sw_status_name(st));
    }
    pthread_mutex_unlock(&rs->lock);
    /* A 500 is a fault of ours (an error, and so a Sentry event); 503/504 are the bus or the
     * database being away, which their own warnings and the health checks report. Refusals
     * while stopping: one count when stopped. */
    if (sw_status_http(st) >= 500 && !refuse)
        sw_log(sw_status_http(st) == 500 ? SW_LOG_ERROR : SW_LOG_WARN, "request failed", "subject",
               req.subject, "status", sw_status_name(st), NULL);
    bus_reply_clear(&rep);
    sw_log_ctx_clear();
    natsMsg_Destroy(msg);
}

static void *slow_main(void *arg)
{
    slow_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cond, &p->lock);
        if (!p->head)
            break; /* stopping, nothing left */
        slow_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        serve(j->rs, j->nc, j->msg);
        free(j);
        pthread_mutex_lock(&p->lock);
        p->busy--;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    route_state *rs = closure;
    slow_pool *p = &rs->actor->slow;
    (void)sub;
    if (rs->slow && p->nthreads > 0) {
        slow_job *j = calloc(1, sizeof(*j));
        if (j) {
            j->rs = rs;
            j->nc = nc;
            j->msg = msg;
            pthread_mutex_lock(&p->lock);
            if (p->tail)
                p->tail->next = j;
            else
                p->head = j;
            p->tail = j;
            p->busy++;
            pthread_cond_signal(&p->cond);
            pthread_mutex_unlock(&p->lock);
            return;
        }
    }
    serve(rs, nc, msg);
}

/* Starts the pool when some route is slow. */
static sw_status slow_pool_start(bus_actor *a)
{
    slow_pool *p = &a->slow;
    bool any = false;
    for (size_t i = 0; i < a->def->nroutes; i++) {
        for (const char *const *s = a->def->slow_subjects; s && *s; s++)
            if (strcmp(*s, a->def->routes[i].subject) == 0)
                a->routes[i].slow = true;
        any |= a->routes[i].slow;
    }
    if (!any)
        return SW_OK;
    long n = sw_config_long("SW_SLOW_THREADS", 32, 1, BUS_MAX_SLOW_THREADS, NULL);
    for (long i = 0; i < n; i++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, slow_main, p) != 0)
            return SW_EINTERNAL;
        p->nthreads++;
    }
    return SW_OK;
}

/* Waits (up to wait_ms) for the pool's queued and running requests. */
static void slow_pool_idle(slow_pool *p, int wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0 && pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&p->lock);
}

/* Stops and joins the pool's threads; they finish what is queued first. */
static void slow_pool_stop(slow_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

/* ---------------------------------------------------------------- counters */

/* The counter called name, created when missing; NULL when the table is full. Called with
 * counters_lock held. */
static counter *counter_get(bus_actor *a, const char *name)
{
    for (int i = 0; i < a->ncounters; i++)
        if (strcmp(a->counters[i].name, name) == 0)
            return &a->counters[i];
    if (a->ncounters >= BUS_MAX_COUNTERS || strlen(name) >= sizeof(a->counters[0].name))
        return NULL;
    counter *c = &a->counters[a->ncounters++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->value = 0;
    return c;
}

void bus_actor_count(bus_actor *a, const char *name, int64_t delta)
{
    if (!a || !name)
        return;
    pthread_mutex_lock(&a->counters_lock);
    counter *c = counter_get(a, name);
    if (c)
        c->value += delta;
    pthread_mutex_unlock(&a->counters_lock);
}

void bus_actor_count_max(bus_actor *a, const char *name, int64_t value)
{
    if (!a || !name)
        return;
    pthread_mutex_lock(&a->counters_lock);
    counter *c = counter_get(a, name);
    if (c && value > c->value)
        c->value = value;
    pthread_mutex_unlock(&a->counters_lock);
}

/* ---------------------------------------------------------------- micro protocol */

static json_t *micro_base(bus_actor *a, const char *type)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "name", json_string(a->def->name));
    json_object_set_new(o, "id", json_string(a->id));
    json_object_set_new(o, "version", json_string(BUS_VERSION));
    json_t *md = json_object();
    const char *region = sw_config_str("SW_REGION", NULL);
    if (region)
        json_object_set_new(md, "region", json_string(region));
    json_object_set_new(o, "metadata", md);
    return o;
}

static json_t *micro_info(bus_actor *a)
{
    json_t *o = micro_base(a, "io.nats.micro.v1.info_response");
    json_t *eps = json_array();
    json_object_set_new(o, "description", json_string(a->def->description));
    for (size_t i = 0; i < a->def->nroutes; i++) {
        json_t *ep = json_object();
        json_object_set_new(ep, "name", json_string(a->routes[i].name));
        json_object_set_new(ep, "subject", json_string(a->routes[i].route->subject));
        json_object_set_new(ep, "queue_group", json_string(BUS_QUEUE_GROUP));
        json_object_set_new(ep, "metadata", json_null());
        json_array_append_new(eps, ep);
    }
    json_object_set_new(o, "endpoints", eps);
    return o;
}

static json_t *micro_stats(bus_actor *a)
{
    json_t *o = micro_base(a, "io.nats.micro.v1.stats_response");
    json_t *eps = json_array();
    json_object_set_new(o, "started", json_string(a->started));
    for (size_t i = 0; i < a->def->nroutes; i++) {
        route_state *rs = &a->routes[i];
        json_t *ep = json_object();
        pthread_mutex_lock(&rs->lock);
        json_object_set_new(ep, "name", json_string(rs->name));
        json_object_set_new(ep, "subject", json_string(rs->route->subject));
        json_object_set_new(ep, "queue_group", json_string(BUS_QUEUE_GROUP));
        json_object_set_new(ep, "num_requests", json_integer(rs->num_requests));
        json_object_set_new(ep, "num_errors", json_integer(rs->num_errors));
        json_object_set_new(ep, "last_error", json_string(rs->last_error));
        json_object_set_new(ep, "processing_time", json_integer(rs->processing_ns));
        json_object_set_new(
            ep, "average_processing_time",
            json_integer(rs->num_requests ? rs->processing_ns / rs->num_requests : 0));
        pthread_mutex_unlock(&rs->lock);
        json_array_append_new(eps, ep);
    }
    /* The actor's own counters and gauges, as a pseudo-endpoint: micro v1 allows free-form
     * "data" per endpoint, while top-level metadata may only hold strings. Its subject is not
     * subscribed (INFO does not list it); the request fields stay 0. */
    json_t *data = json_object();
    pthread_mutex_lock(&a->counters_lock);
    for (int i = 0; i < a->ncounters; i++)
        json_object_set_new(data, a->counters[i].name, json_integer(a->counters[i].value));
    pthread_mutex_unlock(&a->counters_lock);
    {
        /* Error tracking's own counters (bus/sentry.h), zero without SENTRY_DSN. */
        sw_sentry_stats ss;
        sw_sentry_stats_get(&ss);
        json_object_set_new(data, "sentry_events_sent", json_integer(ss.sent));
        json_object_set_new(data, "sentry_events_dropped", json_integer(ss.dropped));
        json_object_set_new(data, "sentry_events_failed", json_integer(ss.failed));
    }
    if (a->def->stats)
        a->def->stats(a, data);
    if (json_object_size(data) > 0) {
        char subject[96];
        json_t *ep = json_object();
        snprintf(subject, sizeof(subject), "%s.worker", a->def->name);
        json_object_set_new(ep, "name", json_string("worker"));
        json_object_set_new(ep, "subject", json_string(subject));
        json_object_set_new(ep, "num_requests", json_integer(0));
        json_object_set_new(ep, "num_errors", json_integer(0));
        json_object_set_new(ep, "last_error", json_string(""));
        json_object_set_new(ep, "processing_time", json_integer(0));
        json_object_set_new(ep, "average_processing_time", json_integer(0));
        json_object_set_new(ep, "data", data);
        json_array_append_new(eps, ep);
    } else {
        json_decref(data);
    }
    json_object_set_new(o, "endpoints", eps);
    return o;
}

static void on_micro(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    bus_actor *a = closure;
    const char *subj = natsMsg_GetSubject(msg);
    const char *reply_to = natsMsg_GetReply(msg);
    json_t *body = NULL;
    char *text = NULL;

    /* $SRV.<VERB>[.<name>[.<id>]] */
    const char *verb = subj + strlen("$SRV.");
    if (strncmp(verb, "PING", 4) == 0)
        body = micro_base(a, "io.nats.micro.v1.ping_response");
    else if (strncmp(verb, "INFO", 4) == 0)
        body = micro_info(a);
    else if (strncmp(verb, "STATS", 5) == 0)
        body = micro_stats(a);
    if (body && reply_to && *reply_to) {
        text = json_dumps(body, JSON_COMPACT);
        if (text)
            natsConnection_Publish(nc, reply_to, text, (int)strlen(text));
    }
    free(text);
    json_decref(body);
    natsMsg_Destroy(msg);
}

/* ---------------------------------------------------------------- connection */

static void on_disconnected(natsConnection *nc, void *closure)
{
    sw_log(SW_LOG_WARN, "nats disconnected; reconnecting", NULL);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    sw_log(SW_LOG_INFO, "nats reconnected", "server", url, NULL);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    sw_log(SW_LOG_WARN, "nats async error", "error", natsStatus_GetText(err), NULL);
}

natsStatus bus_nats_set_servers(natsOptions *opts, const char *list)
{
    char buf[2048], *save = NULL;
    const char *servers[32];
    int n = 0;
    snprintf(buf, sizeof(buf), "%s", list ? list : "");
    for (char *t = strtok_r(buf, ", ", &save); t && n < 32; t = strtok_r(NULL, ", ", &save))
        servers[n++] = t;
    if (n == 0)
        return NATS_INVALID_ARG;
    return n > 1 ? natsOptions_SetServers(opts, servers, n) : natsOptions_SetURL(opts, servers[0]);
}

sw_status bus_connect(natsConnection **out, const char *name, int wait_ms)
{
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;
    natsStatus s;
    char inbox[96];
    const char *url = sw_config_str("NATS_URL", "nats://127.0.0.1:4222");
    const char *user = sw_config_str("SW_NATS_USER", NULL);
    const char *pass = sw_config_str("SW_NATS_PASSWORD", NULL);
    sw_status st = SW_EUNAVAILABLE;

    *out = NULL;
    s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = bus_nats_set_servers(opts, url);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, name);
    if (s == NATS_OK && user)
        s = natsOptions_SetUserInfo(opts, user, pass);
    if (s == NATS_OK && user) {
        /* Replies to this user's requests land under its own prefix, which its NATS
         * permissions allow it (and only it) to read. A remote region's prober behind a leaf
         * node sets the prefix its hub user is allowed (SW_NATS_INBOX_PREFIX=_INBOX_euw). */
        snprintf(inbox, sizeof(inbox), "%s", sw_config_str("SW_NATS_INBOX_PREFIX", ""));
        if (!inbox[0])
            snprintf(inbox, sizeof(inbox), "_INBOX_%s", user);
        s = natsOptions_SetCustomInboxPrefix(opts, inbox);
    }
    if (s == NATS_OK)
        s = natsOptions_SetSendAsap(opts, true);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 250);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(opts, 8 * 1024 * 1024);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(opts, true, NULL, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_reconnected, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(opts, on_async_error, NULL);
    if (s != NATS_OK) {
        st = SW_EINTERNAL;
        goto out;
    }
    s = natsConnection_Connect(&nc, opts);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        sw_log(SW_LOG_ERROR, "nats connect failed", "error", natsStatus_GetText(s), NULL);
        goto out;
    }
    for (int waited = 0; wait_ms > 0 && natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED;
         waited += 50) {
        if (waited >= wait_ms) {
            sw_log(SW_LOG_ERROR, "nats not reachable", "url", url, NULL);
            goto out;
        }
        nats_Sleep(50);
    }
    *out = nc;
    nc = NULL;
    st = SW_OK;
out:
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    return st;
}

sw_status bus_js_publish(jsCtx *js, const char *subject, const json_t *payload, const char *msg_id,
                         const char *request_id)
{
    natsMsg *m = NULL;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    char *text = json_dumps(payload, JSON_COMPACT);
    sw_status st = SW_EINTERNAL;
    natsStatus s;

    if (!text)
        return SW_EINTERNAL;
    if (natsMsg_Create(&m, subject, NULL, text, (int)strlen(text)) != NATS_OK)
        goto out;
    natsMsgHeader_Set(m, "Content-Type", "application/json");
    if (msg_id)
        natsMsgHeader_Set(m, BUS_H_MSG_ID, msg_id);
    if (request_id && *request_id)
        natsMsgHeader_Set(m, BUS_H_REQUEST_ID, request_id);
    s = js_PublishMsg(&ack, js, m, NULL, &jerr);
    if (s == NATS_OK)
        st = SW_OK;
    else if (s == NATS_TIMEOUT)
        st = SW_ETIMEOUT;
    else
        st = SW_EUNAVAILABLE;
    if (st != SW_OK)
        sw_log(SW_LOG_WARN, "jetstream publish failed", "subject", subject, "error",
               natsStatus_GetText(s), NULL);
out:
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
    free(text);
    return st;
}

sw_status bus_request(natsMsg **reply, natsConnection *nc, natsMsg *req, int timeout_ms)
{
    natsStatus s = natsConnection_RequestMsg(reply, nc, req, timeout_ms);
    if (s == NATS_OK)
        return SW_OK;
    *reply = NULL;
    if (s == NATS_TIMEOUT)
        return SW_ETIMEOUT;
    return SW_EUNAVAILABLE; /* no responders, not connected, permission refused */
}

/* ---------------------------------------------------------------- actor lifecycle */

natsConnection *bus_actor_conn(bus_actor *a)
{
    return a->nc;
}

jsCtx *bus_actor_js(bus_actor *a)
{
    return a->js;
}

void *bus_actor_app(bus_actor *a)
{
    return a->app;
}

bool bus_actor_stopping(bus_actor *a)
{
    return __atomic_load_n(&a->stopping, __ATOMIC_ACQUIRE) != 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    bus__worker_run(w->actor, w->def);
    return NULL;
}

static sw_status spawn_workers(bus_actor *a)
{
    for (size_t i = 0; i < a->def->nworkers; i++) {
        if (a->nworkers >= BUS_MAX_WORKERS)
            return SW_EINTERNAL;
        worker *w = &a->workers[a->nworkers];
        w->def = &a->def->workers[i];
        w->actor = a;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return SW_EINTERNAL;
        a->nworkers++;
    }
    return SW_OK;
}

static void endpoint_name(char *out, size_t len, const char *subject)
{
    /* sw.v1.<actor>.<verb...> -> <verb...> with '.' turned into '_' (micro names allow no
     * dots). */
    const char *p = subject;
    for (int dots = 0; *p && dots < 3; p++)
        if (*p == '.')
            dots++;
    if (!*p)
        p = subject;
    snprintf(out, len, "%s", p);
    for (char *q = out; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '-' || *q == '_'))
            *q = '_';
}

/* The delivery thread of a subscription ends: its last message callback has returned. */
static void on_sub_done(void *closure)
{
    bus_actor *a = closure;
    pthread_mutex_lock(&a->done_lock);
    a->ndone++;
    pthread_cond_broadcast(&a->done_cond);
    pthread_mutex_unlock(&a->done_lock);
}

/* Asks for on_sub_done when sub's delivery ends. */
static sw_status watch(bus_actor *a, natsSubscription *sub)
{
    if (natsSubscription_SetOnCompleteCB(sub, on_sub_done, a) != NATS_OK)
        return SW_EUNAVAILABLE;
    pthread_mutex_lock(&a->done_lock);
    a->nwatched++;
    pthread_mutex_unlock(&a->done_lock);
    return SW_OK;
}

/* Waits up to timeout_ms until no message callback runs any more, which needs the connection
 * closed (a closed subscription finishes its current callback and ends). False on timeout. */
static bool callbacks_done(bus_actor *a, int timeout_ms)
{
    struct timespec until;
    int rc = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->done_lock);
    while (a->ndone < a->nwatched && rc == 0)
        rc = pthread_cond_timedwait(&a->done_cond, &a->done_lock, &until);
    bool done = a->ndone >= a->nwatched;
    pthread_mutex_unlock(&a->done_lock);
    return done;
}

static sw_status subscribe_all(bus_actor *a, int concurrency)
{
    char subj[3][160];
    a->subs = calloc(a->def->nroutes * (size_t)concurrency + 3, sizeof(*a->subs));
    if (!a->subs)
        return SW_EINTERNAL;
    for (size_t i = 0; i < a->def->nroutes; i++) {
        /* Several subscriptions in the same queue group: each has its own delivery thread,
         * so one slow request never holds up the others. */
        for (int c = 0; c < concurrency; c++) {
            natsStatus s =
                natsConnection_QueueSubscribe(&a->subs[a->nsubs], a->nc, a->def->routes[i].subject,
                                              BUS_QUEUE_GROUP, on_request, &a->routes[i]);
            if (s != NATS_OK)
                return SW_EUNAVAILABLE;
            natsSubscription_SetPendingLimits(a->subs[a->nsubs], 65536, 64 * 1024 * 1024);
            a->nsubs++;
            if (watch(a, a->subs[a->nsubs - 1]) != SW_OK)
                return SW_EUNAVAILABLE;
            natsSubscription_SetPendingLimits(a->subs[a->nsubs - 1], 65536, 64 * 1024 * 1024);
        }
    }
    /* $SRV.<VERB>, $SRV.<VERB>.<name> and $SRV.<VERB>.<name>.<id>, plain (not queue): every
     * instance answers discovery. */
    snprintf(subj[0], sizeof(subj[0]), "$SRV.*");
    snprintf(subj[1], sizeof(subj[1]), "$SRV.*.%s", a->def->name);
    snprintf(subj[2], sizeof(subj[2]), "$SRV.*.%s.%s", a->def->name, a->id);
    for (int v = 0; v < 3; v++) {
        if (natsConnection_Subscribe(&a->subs[a->nsubs], a->nc, subj[v], on_micro, a) != NATS_OK)
            return SW_EUNAVAILABLE;
        a->nsubs++;
        if (watch(a, a->subs[a->nsubs - 1]) != SW_OK)
            return SW_EUNAVAILABLE;
    }
    return SW_OK;
}

int bus_actor_main(int argc, char **argv, const bus_actor_def *def)
{
    bus_actor a = {0};
    sigset_t sigs;
    int sig = 0, rc = 1;
    char why[160];
    sw_status st;
    jsErrCode jerr = 0;

    (void)argc;
    (void)argv;
    sw_log_init(def->name, sw_config_str("SW_LOG_LEVEL", "info"));
    if (!sw_sentry_init(def->name))
        return 2;
    if (sodium_init() < 0) {
        sw_log(SW_LOG_ERROR, "libsodium failed to initialise", NULL);
        return 1;
    }
    if (!sw_config_check_env(why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_ENV", "reason", why, NULL);
        return 2;
    }
    if ((def->uses_secret_key || sw_config_str("SECRET_KEY", NULL)) &&
        !sw_config_check_secret_key(why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SECRET_KEY", "reason", why, NULL);
        return 2;
    }
    /* Signals go to this thread only (sigwait below); the library's threads inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    a.def = def;
    a.refuse_from_ns = INT64_MAX;
    /* SIGTERM to exit: at most about twice this (the drain, then handlers it cut off). */
    long drain_ms = sw_config_long("SW_DRAIN_TIMEOUT_MS", 10000, 100, 600000, NULL);
    pthread_mutex_init(&a.counters_lock, NULL);
    pthread_mutex_init(&a.slow.lock, NULL);
    pthread_cond_init(&a.slow.cond, NULL);
    pthread_mutex_init(&a.done_lock, NULL);
    pthread_cond_init(&a.done_cond, NULL);
    sw_random_hex(a.id, 11);
    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(a.started, sizeof(a.started), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    a.routes = calloc(def->nroutes ? def->nroutes : 1, sizeof(*a.routes));
    if (!a.routes)
        return 1;
    for (size_t i = 0; i < def->nroutes; i++) {
        a.routes[i].route = &def->routes[i];
        a.routes[i].actor = &a;
        pthread_mutex_init(&a.routes[i].lock, NULL);
        endpoint_name(a.routes[i].name, sizeof(a.routes[i].name), def->routes[i].subject);
    }

    if (bus_connect(&a.nc, def->name, 0) != SW_OK)
        goto out;
    {
        /* Behind a leaf node, JetStream is reached through the hub's domain
         * (SW_JS_DOMAIN=hub maps the API to $JS.hub.API). */
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Domain = sw_config_str("SW_JS_DOMAIN", NULL);
        if (natsConnection_JetStream(&a.js, a.nc, &jo) != NATS_OK)
            goto out;
    }
    (void)jerr;
    if (def->app_init) {
        st = SW_OK;
        a.app = def->app_init(&a, &st);
        if (!a.app) {
            sw_log(SW_LOG_ERROR, "start-up failed", "status", sw_status_name(st), NULL);
            goto out;
        }
    }
    if (slow_pool_start(&a) != SW_OK) {
        sw_log(SW_LOG_ERROR, "start-up failed: cannot start the slow-route threads", NULL);
        goto out;
    }
    if (spawn_workers(&a) != SW_OK) {
        sw_log(SW_LOG_ERROR, "start-up failed: worker threads", NULL);
        goto out;
    }
    long concurrency = sw_config_long("SW_CONCURRENCY", 4, 1, 64, NULL);
    if (subscribe_all(&a, (int)concurrency) != SW_OK) {
        sw_log(SW_LOG_ERROR, "subscribe failed", NULL);
        goto out;
    }
    sw_log(SW_LOG_INFO, "started", "id", a.id, "nats", sw_config_str("NATS_URL", ""), NULL);

    sigwait(&sigs, &sig);
    sw_log(SW_LOG_INFO, "stopping: draining in-flight work", "signal",
           sig == SIGTERM ? "TERM" : "INT", NULL);
    __atomic_store_n(&a.stopping, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < a.nworkers; i++)
        pthread_join(a.workers[i].thread, NULL);
    /* Drain: stop taking requests, finish the callbacks in flight, flush their replies.
     * Requests still queued after half the drain time are refused (on_request), so a
     * backlog cannot outlast the drain. Slow routes' requests run on the pool: those in
     * flight answer before the connection goes. */
    slow_pool_idle(&a.slow, 6000);
    __atomic_store_n(&a.refuse_from_ns, sw_now_ns() + drain_ms * 500000, __ATOMIC_RELEASE);
    natsConnection_DrainTimeout(a.nc, drain_ms);
    for (long waited = 0; waited < drain_ms + 2000 && !natsConnection_IsClosed(a.nc); waited += 20)
        nats_Sleep(20);
    rc = 0;
out:
    slow_pool_stop(&a.slow);
    if (a.nworkers && !bus_actor_stopping(&a)) { /* start-up failed after workers began */
        __atomic_store_n(&a.stopping, 1, __ATOMIC_RELEASE);
        for (int i = 0; i < a.nworkers; i++)
            pthread_join(a.workers[i].thread, NULL);
    }
    /* A drain that timed out (or a failed start) closes the connection while message
     * callbacks may still be running; the app, the routes and this frame stay until they have
     * returned. One stuck for good: exit without unwinding what it uses. */
    if (a.nc)
        natsConnection_Close(a.nc);
    if (!callbacks_done(&a, drain_ms > BUS_HANDLER_WAIT_MS ? (int)drain_ms : BUS_HANDLER_WAIT_MS)) {
        sw_log(SW_LOG_ERROR, "request handlers did not return after the drain: exiting", NULL);
        _exit(1);
    }
    int64_t refused = __atomic_load_n(&a.refused, __ATOMIC_RELAXED);
    if (refused > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)refused);
        sw_log(SW_LOG_WARN, "refused requests still queued late in the drain", "count", n, NULL);
    }
    if (def->app_free && a.app)
        def->app_free(a.app);
    for (int i = 0; i < a.nsubs; i++)
        natsSubscription_Destroy(a.subs[i]);
    free(a.subs);
    jsCtx_Destroy(a.js);
    natsConnection_Destroy(a.nc);
    for (size_t i = 0; i < def->nroutes; i++)
        pthread_mutex_destroy(&a.routes[i].lock);
    free(a.routes);
    nats_CloseAndWait(2000);
    pthread_mutex_destroy(&a.counters_lock);
    pthread_mutex_destroy(&a.counters_lock);
    pthread_cond_destroy(&a.slow.cond);
    pthread_mutex_destroy(&a.slow.lock);
    pthread_mutex_destroy(&a.done_lock);
    pthread_cond_destroy(&a.done_cond);
    sw_log(SW_LOG_INFO, rc == 0 ? "stopped" : "exited with an error", NULL);
    return rc;
}
