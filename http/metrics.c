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
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bus/bus.h"
#include "bus/gather.h"
#include "bus/sentry.h"
#include "bus/log.h"
#include "bus/messages.h"

#define MAX_ROUTES 64
#define MAX_COMBOS 32 /* (method, status) pairs per route */
#define MAX_REGIONS 16

static const double http_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NHTTP_BUCKETS (sizeof(http_buckets) / sizeof(http_buckets[0]))

/* The prober counts check durations in these buckets (actors/prober/prober.c). */
static const int check_le_ms[] = {BUS_CHECK_MS_BUCKETS};
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
    double cert_not_after; /* epoch seconds; 0 without TLS */
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

sw_status edge_metrics_set_certificate(edge_metrics *m, const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *cert = NULL;
    struct tm tm;
    sw_status st = SW_EINVAL;
    if (!f)
        goto out;
    cert = PEM_read_X509(f, NULL, NULL, NULL);
    if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
        goto out;
    m->cert_not_after = (double)timegm(&tm);
    st = SW_OK;
out:
    if (st != SW_OK)
        sw_log(SW_LOG_WARN, "metrics: no certificate expiry (cannot read the certificate)", "path",
               path, NULL);
    X509_free(cert);
    if (f)
        fclose(f);
    return st;
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
    crypto_generichash(got, sizeof(got), (const unsigned char *)presented, strlen(presented), NULL,
                       0);
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

/* What the actors' $SRV.STATS say at scrape time: the probers' check counters summed per region,
 * and the gauges the database actors read from the tables they own (sw-tenancy: tenants by
 * plan; sw-scheduler: endpoints by plan and lag; sw-deadletter: the DLQ's size). Several
 * instances of one actor read the same rows, so a gauge takes the largest value reported. */
/* Per actor name: the processes that answered, and error tracking's counters (bus/sentry.h)
 * summed over them. */
#define MAX_ACTORS 32
typedef struct actor_view {
    char name[64];
    int instances;
    int64_t sentry_sent, sentry_dropped, sentry_failed;
} actor_view;

typedef struct stats_view {
    region_checks regions[MAX_REGIONS];
    int nregions;
    actor_view actors[MAX_ACTORS];
    int nactors;
    json_t *tenants_by_plan;   /* owned: {"free": n, ...} */
    json_t *endpoints_by_plan; /* owned */
    double lag_seconds;        /* < 0 when nobody reported it */
    double dlq_messages;       /* < 0 when nobody reported it */
    json_t *consumers;         /* owned: "<stream>\n<consumer>" -> {pending, ack_pending, ...} */
} stats_view;

static void merge_max(json_t **into, json_t *from)
{
    const char *k;
    json_t *v;
    if (!json_is_object(from))
        return;
    if (!*into)
        *into = json_object();
    json_object_foreach(from, k, v)
    {
        json_t *have = json_object_get(*into, k);
        if (json_is_integer(v) && (!have || json_integer_value(v) > json_integer_value(have)))
            json_object_set(*into, k, v);
    }
}

static actor_view *actor_get(stats_view *sv, const char *name)
{
    for (int k = 0; k < sv->nactors; k++)
        if (strcmp(sv->actors[k].name, name) == 0)
            return &sv->actors[k];
    if (sv->nactors >= MAX_ACTORS)
        return NULL;
    actor_view *av = &sv->actors[sv->nactors++];
    memset(av, 0, sizeof(*av));
    snprintf(av->name, sizeof(av->name), "%s", name);
    return av;
}

static void add_checks(stats_view *sv, const char *region, json_t *data)
{
    region_checks *rc = NULL;
    for (int k = 0; k < sv->nregions && !rc; k++)
        if (strcmp(sv->regions[k].region, region) == 0)
            rc = &sv->regions[k];
    if (!rc && sv->nregions < MAX_REGIONS) {
        rc = &sv->regions[sv->nregions++];
        memset(rc, 0, sizeof(*rc));
        snprintf(rc->region, sizeof(rc->region), "%s", region);
    }
    if (!rc)
        return;
    rc->ok += data_int(data, "checks_ok");
    rc->fail += data_int(data, "checks_fail");
    rc->blocked += data_int(data, "checks_blocked");
    rc->sum_ms += data_int(data, BUS_CHECK_MS_COUNTER_SUM);
    for (size_t b = 0; b < NCHECK_BUCKETS; b++) {
        char key[40];
        snprintf(key, sizeof(key), BUS_CHECK_MS_COUNTER_FMT, check_le_ms[b]);
        rc->buckets[b] += data_int(data, key);
    }
    rc->buckets[NCHECK_BUCKETS] += data_int(data, BUS_CHECK_MS_COUNTER_INF);
}

/* Consumer backlogs as sw-deadletter reports them ({"stream", "consumer", "pending", ...}).
 * Two instances report the same JetStream state a moment apart: the larger value stays. */
static void add_consumers(stats_view *sv, json_t *list)
{
    size_t i;
    json_t *c;
    if (!json_is_array(list))
        return;
    if (!sv->consumers)
        sv->consumers = json_object();
    json_array_foreach(list, i, c)
    {
        const char *stream = json_string_value(json_object_get(c, "stream"));
        const char *name = json_string_value(json_object_get(c, "consumer"));
        char key[256];
        if (!stream || !name || json_object_size(sv->consumers) >= 256)
            continue;
        snprintf(key, sizeof(key), "%s\n%s", stream, name);
        json_t *have = json_object_get(sv->consumers, key);
        if (!have) {
            json_object_set_new(sv->consumers, key, json_deep_copy(c));
            continue;
        }
        const char *fields[] = {"pending", "ack_pending", "redelivered"};
        for (size_t f = 0; f < 3; f++)
            if (data_int(c, fields[f]) > data_int(have, fields[f]))
                json_object_set(have, fields[f], json_object_get(c, fields[f]));
    }
}

/* One $SRV.STATS to every actor (bus_gather, a short window so a scrape stays fast). */
static void gather_stats(const edge_metrics_sources *src, stats_view *sv)
{
    json_t *replies = NULL, *o;
    size_t i;
    int window = src->timeout_ms < 300 ? src->timeout_ms : 300;

    memset(sv, 0, sizeof(*sv));
    sv->lag_seconds = sv->dlq_messages = -1;
    if (bus_gather(&replies, src->nc, src->inbox_prefix, "$SRV.STATS", NULL, window, 0) != SW_OK)
        return;
    json_array_foreach(replies, i, o)
    {
        const char *name = str_or_empty(json_object_get(o, "name"));
        const char *region =
            json_string_value(json_object_get(json_object_get(o, "metadata"), "region"));
        json_t *eps = json_object_get(o, "endpoints"), *ep, *data = NULL;
        size_t k;
        json_array_foreach(eps, k, ep)
        {
            if (strcmp(str_or_empty(json_object_get(ep, "name")), "worker") == 0)
                data = json_object_get(ep, "data");
        }
        actor_view *av = *name ? actor_get(sv, name) : NULL;
        if (av)
            av->instances++;
        if (!json_is_object(data))
            continue;
        if (av) {
            av->sentry_sent += data_int(data, "sentry_events_sent");
            av->sentry_dropped += data_int(data, "sentry_events_dropped");
            av->sentry_failed += data_int(data, "sentry_events_failed");
        }
        if (strcmp(name, "sw-prober") == 0)
            add_checks(sv, region ? region : "local", data);
        merge_max(&sv->tenants_by_plan, json_object_get(data, "tenants_by_plan"));
        merge_max(&sv->endpoints_by_plan, json_object_get(data, "endpoints_by_plan"));
        json_t *lag = json_object_get(data, "lag_seconds");
        if (json_is_number(lag) && json_number_value(lag) > sv->lag_seconds)
            sv->lag_seconds = json_number_value(lag);
        json_t *dlq = json_object_get(data, "dlq_messages");
        if (json_is_integer(dlq) && (double)json_integer_value(dlq) > sv->dlq_messages)
            sv->dlq_messages = (double)json_integer_value(dlq);
        add_consumers(sv, json_object_get(data, "consumers"));
    }
    json_decref(replies);
}

/* sw_jetstream_consumer_* from sw-deadletter's backlog snapshot. The families are always
 * declared; a consumer's samples are missing while no sw-deadletter answers (alert on
 * absent(sw_jetstream_consumer_pending) for that, see ops/prometheus/). */
static void put_jetstream(FILE *f, const stats_view *sv)
{
    static const struct {
        const char *field, *name, *help;
    } fam[] = {
        {"pending", "sw_jetstream_consumer_pending",
         "Messages in the stream not yet delivered to the consumer."},
        {"ack_pending", "sw_jetstream_consumer_ack_pending",
         "Messages delivered to the consumer and not acknowledged yet."},
        {"redelivered", "sw_jetstream_consumer_redelivered",
         "Messages delivered to the consumer more than once and not acknowledged yet."},
    };
    for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
        const char *key;
        json_t *c;
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", fam[k].name, fam[k].help, fam[k].name);
        json_object_foreach(sv->consumers, key, c)
        {
            char s[96], n[160];
            edge_metrics_escape(s, sizeof(s), str_or_empty(json_object_get(c, "stream")));
            edge_metrics_escape(n, sizeof(n), str_or_empty(json_object_get(c, "consumer")));
            fprintf(f, "%s{stream=\"%s\",consumer=\"%s\"} %lld\n", fam[k].name, s, n,
                    (long long)data_int(c, fam[k].field));
        }
    }
}

/* Writes one "name{plan=...} n" line per plan of by_plan ({"free": n, ...}), free and pro
 * always present (0 when not reported). */
static void put_by_plan(FILE *f, const char *name, json_t *by_plan)
{
    const char *plans[] = {"free", "pro"};
    for (size_t i = 0; i < 2; i++)
        fprintf(f, "%s{plan=\"%s\"} %lld\n", name, plans[i],
                (long long)json_integer_value(json_object_get(by_plan, plans[i])));
    const char *plan;
    json_t *n;
    json_object_foreach(by_plan, plan, n)
    {
        char esc[64];
        if (strcmp(plan, "free") == 0 || strcmp(plan, "pro") == 0)
            continue;
        edge_metrics_escape(esc, sizeof(esc), plan);
        fprintf(f, "%s{plan=\"%s\"} %lld\n", name, esc, (long long)json_integer_value(n));
    }
}

/* The gauges of sw-tenancy, sw-scheduler and sw-deadletter; a family whose actor did not
 * answer keeps its HELP and TYPE and has no sample. */
static void put_gauges(FILE *f, const stats_view *sv)
{
    fprintf(f, "# HELP sw_tenants Organizations by plan (sw-tenancy).\n# TYPE sw_tenants gauge\n");
    if (sv->tenants_by_plan)
        put_by_plan(f, "sw_tenants", sv->tenants_by_plan);
    fprintf(f, "# HELP sw_endpoints Endpoints being checked (rows of public.schedule), by plan; "
               "paused endpoints are not counted (sw-scheduler).\n# TYPE sw_endpoints gauge\n");
    if (sv->endpoints_by_plan)
        put_by_plan(f, "sw_endpoints", sv->endpoints_by_plan);
    fprintf(f, "# HELP sw_scheduler_lag_seconds How far behind the scheduler is: now minus the "
               "oldest next_due_at of the endpoints due (0 when none is due).\n"
               "# TYPE sw_scheduler_lag_seconds gauge\n");
    if (sv->lag_seconds >= 0)
        fprintf(f, "sw_scheduler_lag_seconds %.3f\n", sv->lag_seconds);
    fprintf(f, "# HELP sw_dlq_messages Dead-lettered jobs kept in the SW_DLQ stream "
               "(sw-deadletter).\n# TYPE sw_dlq_messages gauge\n");
    if (sv->dlq_messages >= 0)
        fprintf(f, "sw_dlq_messages %.0f\n", sv->dlq_messages);
}

/* sw_actor_instances for every expected actor (0 when none answered: "down" is a value, not a
 * gap) and the Sentry counters of every actor that answered plus the edge's own. */
static void put_actors(FILE *f, const stats_view *sv, const char *expected)
{
    char want[512], name[128];
    sw_sentry_stats own;
    fprintf(f, "# HELP sw_actor_instances Processes of each actor answering $SRV.STATS at "
               "scrape time (0: the actor is down).\n# TYPE sw_actor_instances gauge\n");
    snprintf(want, sizeof(want), "%s", expected ? expected : "");
    char *save = NULL;
    for (char *a = strtok_r(want, ", ", &save); a; a = strtok_r(NULL, ", ", &save)) {
        int count = 0;
        for (int i = 0; i < sv->nactors; i++)
            if (strcmp(sv->actors[i].name, a) == 0)
                count = sv->actors[i].instances;
        edge_metrics_escape(name, sizeof(name), a);
        fprintf(f, "sw_actor_instances{actor=\"%s\"} %d\n", name, count);
    }
    fprintf(f, "# HELP sw_sentry_events_total Error and crash events for Sentry by actor and "
               "outcome: sent (accepted), dropped (queue full or rate-limited), failed (network "
               "error or refused); always 0 without SENTRY_DSN.\n"
               "# TYPE sw_sentry_events_total counter\n");
    sw_sentry_stats_get(&own);
    for (int i = 0; i <= sv->nactors; i++) {
        const actor_view *av = i < sv->nactors ? &sv->actors[i] : NULL;
        edge_metrics_escape(name, sizeof(name), av ? av->name : "sw-edge");
        fprintf(f, "sw_sentry_events_total{actor=\"%s\",outcome=\"sent\"} %lld\n", name,
                (long long)(av ? av->sentry_sent : own.sent));
        fprintf(f, "sw_sentry_events_total{actor=\"%s\",outcome=\"dropped\"} %lld\n", name,
                (long long)(av ? av->sentry_dropped : own.dropped));
        fprintf(f, "sw_sentry_events_total{actor=\"%s\",outcome=\"failed\"} %lld\n", name,
                (long long)(av ? av->sentry_failed : own.failed));
    }
}

static void put_checks(FILE *f, const stats_view *sv)
{
    const region_checks *rc = sv->regions;
    int n = sv->nregions;
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
        fprintf(f, "sw_check_duration_seconds_bucket{region=\"%s\",le=\"+Inf\"} %lld\n", reg, cum);
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
    /* The family is always declared (so rules and dashboards can name it); the sample is there
     * when the edge serves HTTPS itself. */
    fprintf(f, "# HELP sw_edge_tls_certificate_expiry_timestamp_seconds When the edge's TLS "
               "certificate expires (notAfter, Unix time).\n"
               "# TYPE sw_edge_tls_certificate_expiry_timestamp_seconds gauge\n");
    if (m->cert_not_after > 0)
        fprintf(f, "sw_edge_tls_certificate_expiry_timestamp_seconds %.0f\n", m->cert_not_after);
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
    stats_view sv;
    gather_stats(src, &sv);
    put_http(f, m);
    put_checks(f, &sv);
    put_gauges(f, &sv);
    put_actors(f, &sv, src->actors);
    put_jetstream(f, &sv);
    json_decref(sv.tenants_by_plan);
    json_decref(sv.endpoints_by_plan);
    json_decref(sv.consumers);
    if (fclose(f) != 0) {
        free(buf);
        return SW_EINTERNAL;
    }
    *out = buf;
    *len = n;
    return SW_OK;
}
