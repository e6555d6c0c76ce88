/* GET /metrics: the edge's Prometheus text exposition (format 0.0.4). The edge's own request
 * counters and latency histograms live here (a mutex per route, taken once per request);
 * everything else is collected at scrape time with a few cheap calls, each bounded by a
 * timeout: one $SRV.STATS to every actor (the probers' check counters and check durations,
 * summed per region; the gauges sw-tenancy, sw-scheduler and sw-deadletter read from what they
 * own: tenants and endpoints by plan, scheduler lag, DLQ size; sw-deadletter's snapshot of
 * every durable consumer's backlog). The edge holds no database connection and asks JetStream
 * nothing for a scrape. */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <nats/nats.h>

#include "bus/status.h"

typedef struct edge_metrics edge_metrics;

/* Where a scrape reads from; all borrowed for the duration of the call. */
typedef struct edge_metrics_sources {
    natsConnection *nc;       /* $SRV.STATS of every actor */
    const char *inbox_prefix; /* where STATS replies may arrive (_INBOX_<user>) */
    int timeout_ms;           /* the STATS window at most */
    const char *actors;       /* SW_READY_ACTORS: each gets sw_actor_instances, 0 when silent */
} edge_metrics_sources;

/* *out: owned (edge_metrics_free, which accepts NULL). */
sw_status edge_metrics_new(edge_metrics **out);
void edge_metrics_free(edge_metrics *m);

/* Counts one answered request. route: the route pattern ("/api/endpoints/{id}/"), "static",
 * "unmatched", or a fixed path such as "/health/"; it must stay valid for the life of m (a
 * string literal or a route table entry). */
void edge_metrics_observe(edge_metrics *m, const char *route, const char *method, int status,
                          double seconds);
/* Counts a bus request that failed: no responders (false) or a timeout (true). */
void edge_metrics_bus_error(edge_metrics *m, bool timeout);

/* The edge's TLS certificate: reads the first certificate of the PEM file at path and exposes
 * its notAfter as sw_edge_tls_certificate_expiry_timestamp_seconds (for the expiry alert). The
 * edge reads its certificate once at start, so a renewed one shows after the restart that loads
 * it. Returns SW_EINVAL (logged) when no certificate can be read. */
sw_status edge_metrics_set_certificate(edge_metrics *m, const char *path);

/* Renders the whole exposition. *out: owned (free), NUL-terminated, length in *len. */
sw_status edge_metrics_render(char **out, size_t *len, edge_metrics *m,
                              const edge_metrics_sources *src);

/* Who may scrape. token: SW_METRICS_TOKEN (NULL or "" when unset); authorization: the request's
 * Authorization header. Returns 0 (serve), 401 (token missing or wrong; compared in constant
 * time) or 403 (production without a configured token: never served). */
int edge_metrics_authorize(const char *token, bool production, const char *authorization);

/* A label value escaped for the exposition format (\ " and newline); truncated to fit. */
void edge_metrics_escape(char *out, size_t len, const char *value);

#endif
