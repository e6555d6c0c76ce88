/* The edge's Prometheus exposition. See metrics.h for what is measured and where it comes from.
 * Label values come from fixed sets (route patterns, known methods, numeric statuses, region
 * and consumer names), so the number of series stays bounded whatever clients send. */
#include "http/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <sodium.h>

#include "bus/bus.h"
#include "bus/log.h"

#define MAX_ROUTES 64
#define MAX_COMBOS 32 /* (method, status) pairs per route */
#define MAX_REGIONS 16

static const double http_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NHTTP_BUCKETS (sizeof(http_buckets) / sizeof(http_buckets[0]))

/* The prober counts check durations in these buckets (actors/prober/prober.c). */
static const int check_le_ms[] = {50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};
#define NCHECK_BUCKETS (sizeof(check_le_ms) / sizeof(check_le_ms[0]))

typedef struct combo {
    const char *method;
    int status;
    uint64_t count;
} combo;

typedef struct route_stat {
    const char *route;
    pthread_mutex_t lock;
    combo combos[MAX_COMBOS];
    int ncombos;
    uint64_t buckets[NHTTP_BUCKETS]; /* not cumulative; summed when rendered */
    uint64_t count;
    double sum;
} route_stat;

struct edge_metrics {
    pthread_mutex_t add_lock; /* only taken when a route is seen for the first time */
    route_stat routes[MAX_ROUTES];
    int nroutes; /* published with release after the slot is ready */
    uint64_t no_responders, timeouts;
};

static const char *methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

sw_status edge_metrics_new(edge_metrics **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return SW_EINTERNAL;
    pthread_mutex_init(&(*out)->add_lock, NULL);
    return SW_OK;
}

void edge_metrics_free(edge_metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nroutes; i++)
        pthread_mutex_destroy(&m->routes[i].lock);
    pthread_mutex_destroy(&m->add_lock);
    free(m);
}

static route_stat *route_get(edge_metrics *m, const char *route)
{
    int n = __atomic_load_n(&m->nroutes, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (m->routes[i].route == route || strcmp(m->routes[i].route, route) == 0)
            return &m->routes[i];
    route_stat *rs = NULL;
    pthread_mutex_lock(&m->add_lock);
    n = m->nroutes;
    for (int i = 0; i < n && !rs; i++)
        if (strcmp(m->routes[i].route, route) == 0)
            rs = &m->routes[i];
    if (!rs && n < MAX_ROUTES) {
        rs = &m->routes[n];
        rs->route = route;
        pthread_mutex_init(&rs->lock, NULL);
        __atomic_store_n(&m->nroutes, n + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&m->add_lock);
    return rs;
}

void edge_metrics_observe(edge_metrics *m, const char *route, const char *method, int status,
                          double seconds)
{
    const char *meth = "other";
    for (size_t i = 0; method && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(method, methods[i]) == 0)
            meth = methods[i];
    if (!m || !route)
        return;
    route_stat *rs = route_get(m, route);
    if (!rs)
        return;
    size_t b = 0;
    while (b < NHTTP_BUCKETS && seconds > http_buckets[b])
        b++;
    pthread_mutex_lock(&rs->lock);
    combo *c = NULL;
    for (int i = 0; i < rs->ncombos && !c; i++)
        if (rs->combos[i].method == meth && rs->combos[i].status == status)
            c = &rs->combos[i];
    if (!c && rs->ncombos < MAX_COMBOS) {
        c = &rs->combos[rs->ncombos++];
        c->method = meth;
        c->status = status;
        c->count = 0;
    }
    if (c)
        c->count++;
    if (b < NHTTP_BUCKETS)
        rs->buckets[b]++;
    rs->count++;
    rs->sum += seconds;
    pthread_mutex_unlock(&rs->lock);
}

void edge_metrics_bus_error(edge_metrics *m, bool timeout)
{
    if (m)
        __atomic_add_fetch(timeout ? &m->timeouts : &m->no_responders, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- access */

int edge_metrics_authorize(const char *token, bool production, const char *authorization)
{
    unsigned char want[crypto_generichash_BYTES], got[crypto_generichash_BYTES];
    if (!token || !*token)
        return production ? 403 : 0;
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return 401;
    const char *presented = authorization + 7;
    while (*presented == ' ')
        presented++;
    /* Hashing both sides first makes the comparison constant-time whatever the lengths. */
    crypto_generichash(want, sizeof(want), (const unsigned char *)token, strlen(token), NULL, 0);
    crypto_generichash(got, sizeof(got), (const unsigned char *)presented, strlen(presented),
                       NULL, 0);
    return sodium_memcmp(want, got, sizeof(want)) == 0 ? 0 : 401;
}

void edge_metrics_escape(char *out, size_t len, const char *value)
{
    size_t o = 0;
    if (!len)
        return;
    for (const char *p = value ? value : ""; *p; p++) {
        const char *rep = NULL;
        char one[2] = {*p, '\0'};
        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '"')
            rep = "\\\"";
        else if (*p == '\n')
            rep = "\\n";
        else
            rep = one;
        size_t n = strlen(rep);
        if (o + n >= len)
            break;
        memcpy(out + o, rep, n);
        o += n;
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------- scrape-time sources */

typedef struct region_checks {
    char region[64];
    int64_t ok, fail, blocked;
    int64_t buckets[NCHECK_BUCKETS + 1]; /* the last one is +Inf */
    int64_t sum_ms;
} region_checks;

static const char *str_or_empty(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

static int64_t data_int(json_t *data, const char *key)
{
    return json_integer_value(json_object_get(data, key));
}

/* Asks every prober for its $SRV.STATS and sums the worker counters per region. Probers answer
 * within milliseconds; the window is short so a scrape stays fast. */
static int gather_checks(const edge_metrics_sources *src, region_checks *out, int max)
{
    natsSubscription *sub = NULL;
    char inbox[128], rnd[17];
    int n = 0;

    sw_random_hex(rnd, 8);
    snprintf(inbox, sizeof(inbox), "%s.metrics.%s", src->inbox_prefix, rnd);
    if (natsConnection_SubscribeSync(&sub, src->nc, inbox) != NATS_OK ||
        natsConnection_PublishRequestString(src->nc, "$SRV.STATS.sw-prober", inbox, "") !=
            NATS_OK) {
        natsSubscription_Destroy(sub);
        return 0;
    }
    int window = src->timeout_ms < 300 ? src->timeout_ms : 300;
    int64_t deadline = sw_now_ns() + (int64_t)window * 1000000LL;
    for (;;) {
        int64_t left = (deadline - sw_now_ns()) / 1000000;
        natsMsg *msg = NULL;
        if (left <= 0 || natsSubscription_NextMsg(&msg, sub, left) != NATS_OK)
            break;
        json_t *o = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, NULL);
        const char *region =
            json_string_value(json_object_get(json_object_get(o, "metadata"), "region"));
        json_t *eps = json_object_get(o, "endpoints"), *ep;
        size_t i;
        json_array_foreach(eps, i, ep)
        {
            json_t *data = json_object_get(ep, "data");
            if (strcmp(str_or_empty(json_object_get(ep, "name")), "worker") != 0 ||
                !json_is_object(data))
                continue;
            region_checks *rc = NULL;
            for (int k = 0; k < n && !rc; k++)
                if (strcmp(out[k].region, region ? region : "local") == 0)
                    rc = &out[k];
            if (!rc && n < max) {
                rc = &out[n++];
                memset(rc, 0, sizeof(*rc));
                snprintf(rc->region, sizeof(rc->region), "%s", region ? region : "local");
            }
            if (!rc)
                continue;
            rc->ok += data_int(data, "checks_ok");
            rc->fail += data_int(data, "checks_fail");
            rc->blocked += data_int(data, "checks_blocked");
            rc->sum_ms += data_int(data, "check_ms_sum");
            for (size_t b = 0; b < NCHECK_BUCKETS; b++) {
                char key[40];
                snprintf(key, sizeof(key), "check_ms_le_%d", check_le_ms[b]);
                rc->buckets[b] += data_int(data, key);
            }
            rc->buckets[NCHECK_BUCKETS] += data_int(data, "check_ms_le_inf");
        }
        json_decref(o);
        natsMsg_Destroy(msg);
    }
    natsSubscription_Destroy(sub);
    return n;
}

static void put_consumer(FILE *f, FILE *f2, jsCtx *js, const char *stream, const char *consumer)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char s[96], c[160];
    if (js_GetConsumerInfo(&ci, js, stream, consumer, NULL, &jerr) != NATS_OK || !ci) {
        sw_log(SW_LOG_DEBUG, "metrics: consumer info unavailable", "consumer", consumer, NULL);
        return;
    }
    edge_metrics_escape(s, sizeof(s), stream);
    edge_metrics_escape(c, sizeof(c), consumer);
    fprintf(f, "sw_jetstream_consumer_pending{stream=\"%s\",consumer=\"%s\"} %llu\n", s, c,
            (unsigned long long)ci->NumPending);
    fprintf(f2, "sw_jetstream_consumer_ack_pending{stream=\"%s\",consumer=\"%s\"} %lld\n", s, c,
            (long long)ci->NumAckPending);
    jsConsumerInfo_Destroy(ci);
}

static void put_jetstream(FILE *f, const edge_metrics_sources *src)
{
    char *acks = NULL, regions[512];
    size_t acks_len = 0;
    FILE *f2 = open_memstream(&acks, &acks_len);
    if (!f2)
        return;
    fprintf(f, "# HELP sw_jetstream_consumer_pending Messages in the stream not yet delivered to "
               "the consumer.\n# TYPE sw_jetstream_consumer_pending gauge\n");
    fprintf(f2, "# HELP sw_jetstream_consumer_ack_pending Messages delivered to the consumer and "
                "not acknowledged yet.\n# TYPE sw_jetstream_consumer_ack_pending gauge\n");
    put_consumer(f, f2, src->js, "SW_JOBS", "mailer");
    snprintf(regions, sizeof(regions), "%s", src->regions && *src->regions ? src->regions : "local");
    char *save = NULL;
    for (char *r = strtok_r(regions, ", ", &save); r; r = strtok_r(NULL, ", ", &save)) {
        char durable[96];
        snprintf(durable, sizeof(durable), "probers-%s", r);
        put_consumer(f, f2, src->js, "SW_JOBS", durable);
    }
    put_consumer(f, f2, src->js, "SW_RESULTS", "recorder");
    put_consumer(f, f2, src->js, "SW_ADVISORIES", "deadletter");
    fclose(f2);
    fwrite(acks, 1, acks_len, f);
    free(acks);

    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, src->js, "SW_DLQ", NULL, &jerr) == NATS_OK && si) {
        fprintf(f, "# HELP sw_dlq_messages Dead-lettered jobs kept in the SW_DLQ stream.\n"
                   "# TYPE sw_dlq_messages gauge\nsw_dlq_messages %llu\n",
                (unsigned long long)si->State.Msgs);
        jsStreamInfo_Destroy(si);
    }
}

/* Writes one "name{plan=...} n" line per plan, free and pro always present. */
static void put_by_plan(FILE *f, const char *name, json_t *rows)
{
    const char *plans[] = {"free", "pro"};
    for (size_t i = 0; i < 2; i++) {
        json_int_t n = 0;
        size_t k;
        json_t *row;
        json_array_foreach(rows, k, row)
        {
            if (strcmp(str_or_empty(json_object_get(row, "plan")), plans[i]) == 0)
                n = json_integer_value(json_object_get(row, "n"));
        }
        fprintf(f, "%s{plan=\"%s\"} %lld\n", name, plans[i], (long long)n);
    }
    size_t k;
    json_t *row;
    json_array_foreach(rows, k, row)
    {
        const char *plan = json_string_value(json_object_get(row, "plan"));
        char esc[64];
        if (!plan || strcmp(plan, "free") == 0 || strcmp(plan, "pro") == 0)
            continue;
        edge_metrics_escape(esc, sizeof(esc), plan);
        fprintf(f, "%s{plan=\"%s\"} %lld\n", name, esc,
                (long long)json_integer_value(json_object_get(row, "n")));
    }
}

static void put_database(FILE *f, const edge_metrics_sources *src)
{
    json_t *tenants = NULL, *endpoints = NULL, *lag = NULL;
    char timeout[64];
    store_conn *c = store_acquire(src->db);
    if (!c)
        return;
    /* Read-only and bounded: the transaction is rolled back by store_release. */
    snprintf(timeout, sizeof(timeout), "SET LOCAL statement_timeout = %d", src->timeout_ms);
    if (store_tx_begin(c) != SW_OK || store_query(c, NULL, NULL, timeout, 0, NULL) != SW_OK)
        goto out;
    if (store_query(c, &tenants, NULL,
                    "SELECT plan, count(*)::bigint AS n FROM public.tenants GROUP BY plan", 0,
                    NULL) == SW_OK) {
        fprintf(f, "# HELP sw_tenants Organizations by plan.\n# TYPE sw_tenants gauge\n");
        put_by_plan(f, "sw_tenants", tenants);
    }
    if (store_query(c, &endpoints, NULL,
                    "SELECT t.plan, count(*)::bigint AS n FROM public.schedule s"
                    " JOIN public.tenants t ON t.id = s.tenant_id GROUP BY t.plan",
                    0, NULL) == SW_OK) {
        fprintf(f, "# HELP sw_endpoints Endpoints being checked (rows of public.schedule), by "
                   "plan; paused endpoints are not counted.\n# TYPE sw_endpoints gauge\n");
        put_by_plan(f, "sw_endpoints", endpoints);
    }
    /* The index on next_due_at finds the oldest due row at once. */
    if (store_query_one(c, &lag,
                        "SELECT COALESCE(extract(epoch FROM now() - min(next_due_at)), 0)::float8"
                        " AS lag FROM public.schedule WHERE next_due_at <= now()"
                        " AND url IS NOT NULL",
                        0, NULL) == SW_OK) {
        double v = json_number_value(json_object_get(lag, "lag"));
        fprintf(f,
                "# HELP sw_scheduler_lag_seconds How far behind the scheduler is: now minus the "
                "oldest next_due_at of the endpoints due (0 when none is due).\n"
                "# TYPE sw_scheduler_lag_seconds gauge\nsw_scheduler_lag_seconds %.3f\n",
                v > 0 ? v : 0.0);
    }
out:
    json_decref(tenants);
    json_decref(endpoints);
    json_decref(lag);
    store_release(src->db, c);
}

static void put_checks(FILE *f, const edge_metrics_sources *src)
{
    region_checks rc[MAX_REGIONS];
    int n = src->nc ? gather_checks(src, rc, MAX_REGIONS) : 0;
    fprintf(f, "# HELP sw_checks_total Check attempts by probe region and result, summed over "
               "the probers answering $SRV.STATS (counts restart with a prober).\n"
               "# TYPE sw_checks_total counter\n");
    for (int i = 0; i < n; i++) {
        char reg[128];
        edge_metrics_escape(reg, sizeof(reg), rc[i].region);
        fprintf(f, "sw_checks_total{region=\"%s\",result=\"ok\"} %lld\n", reg, (long long)rc[i].ok);
        fprintf(f, "sw_checks_total{region=\"%s\",result=\"fail\"} %lld\n", reg,
                (long long)rc[i].fail);
        fprintf(f, "sw_checks_total{region=\"%s\",result=\"blocked\"} %lld\n", reg,
                (long long)rc[i].blocked);
    }
    fprintf(f, "# HELP sw_check_duration_seconds Total time of check attempts (DNS to last "
               "byte), by probe region.\n# TYPE sw_check_duration_seconds histogram\n");
    for (int i = 0; i < n; i++) {
        char reg[128];
        long long cum = 0;
        edge_metrics_escape(reg, sizeof(reg), rc[i].region);
        for (size_t b = 0; b < NCHECK_BUCKETS; b++) {
            cum += rc[i].buckets[b];
            fprintf(f, "sw_check_duration_seconds_bucket{region=\"%s\",le=\"%g\"} %lld\n", reg,
                    check_le_ms[b] / 1000.0, cum);
        }
        cum += rc[i].buckets[NCHECK_BUCKETS];
        fprintf(f, "sw_check_duration_seconds_bucket{region=\"%s\",le=\"+Inf\"} %lld\n", reg,
                cum);
        fprintf(f, "sw_check_duration_seconds_sum{region=\"%s\"} %.3f\n", reg,
                rc[i].sum_ms / 1000.0);
        fprintf(f, "sw_check_duration_seconds_count{region=\"%s\"} %lld\n", reg, cum);
    }
}

/* ---------------------------------------------------------------- render */

static void put_http(FILE *f, edge_metrics *m)
{
    int n = __atomic_load_n(&m->nroutes, __ATOMIC_ACQUIRE);
    char route[160];

    fprintf(f, "# HELP sw_http_requests_total HTTP requests answered by the edge, by route "
               "pattern, method and status.\n# TYPE sw_http_requests_total counter\n");
    for (int i = 0; i < n; i++) {
        route_stat *rs = &m->routes[i];
        edge_metrics_escape(route, sizeof(route), rs->route);
        pthread_mutex_lock(&rs->lock);
        for (int k = 0; k < rs->ncombos; k++)
            fprintf(f, "sw_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                    route, rs->combos[k].method, rs->combos[k].status,
                    (unsigned long long)rs->combos[k].count);
        pthread_mutex_unlock(&rs->lock);
    }
    fprintf(f, "# HELP sw_http_request_duration_seconds Time from request to response at the "
               "edge, by route pattern.\n# TYPE sw_http_request_duration_seconds histogram\n");
    for (int i = 0; i < n; i++) {
        route_stat *rs = &m->routes[i];
        uint64_t buckets[NHTTP_BUCKETS], count;
        double sum;
        pthread_mutex_lock(&rs->lock);
        memcpy(buckets, rs->buckets, sizeof(buckets));
        count = rs->count;
        sum = rs->sum;
        pthread_mutex_unlock(&rs->lock);
        edge_metrics_escape(route, sizeof(route), rs->route);
        unsigned long long cum = 0;
        for (size_t b = 0; b < NHTTP_BUCKETS; b++) {
            cum += buckets[b];
            fprintf(f, "sw_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    route, http_buckets[b], cum);
        }
        fprintf(f, "sw_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                route, (unsigned long long)count);
        fprintf(f, "sw_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route, sum);
        fprintf(f, "sw_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
                (unsigned long long)count);
    }
    fprintf(f,
            "# HELP sw_bus_request_errors_total Edge requests to actors that failed on the bus.\n"
            "# TYPE sw_bus_request_errors_total counter\n"
            "sw_bus_request_errors_total{kind=\"no_responders\"} %llu\n"
            "sw_bus_request_errors_total{kind=\"timeout\"} %llu\n",
            (unsigned long long)__atomic_load_n(&m->no_responders, __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&m->timeouts, __ATOMIC_RELAXED));
}

sw_status edge_metrics_render(char **out, size_t *len, edge_metrics *m,
                              const edge_metrics_sources *src)
{
    char *buf = NULL;
    size_t n = 0;
    *out = NULL;
    *len = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return SW_EINTERNAL;
    put_http(f, m);
    put_checks(f, src);
    if (src->db)
        put_database(f, src);
    if (src->js && src->nc && natsConnection_Status(src->nc) == NATS_CONN_STATUS_CONNECTED)
        put_jetstream(f, src);
    if (fclose(f) != 0) {
        free(buf);
        return SW_EINTERNAL;
    }
    *out = buf;
    *len = n;
    return SW_OK;
}
