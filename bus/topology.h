/* The JetStream topology of DESIGN §3: streams and durable consumers, defined once here and
 * applied idempotently by sw-migrate at deploy time; the health check reads the same table. */
#ifndef SW_TOPOLOGY_H
#define SW_TOPOLOGY_H

#include <stddef.h>
#include <nats/nats.h>

#include "bus/status.h"

/* Creates or updates every stream and consumer. regions: comma-separated list of probe
 * regions ("local,eu-west"); each gets a probers-<region> consumer. replicas: 1 or 3.
 * Retries for up to wait_ms while JetStream is not ready (e.g. a cluster electing a leader). */
sw_status bus_topology_apply(jsCtx *js, const char *regions, int replicas, int wait_ms);

/* Checks every stream exists, with one request that waits wait_ms at most. SW_ENOTFOUND writes
 * the missing names into missing; SW_ETIMEOUT / SW_EUNAVAILABLE (JetStream did not answer)
 * writes "JetStream not answering". */
sw_status bus_topology_check(jsCtx *js, int wait_ms, char *missing, size_t len);

#endif
