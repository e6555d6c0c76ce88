/* Scatter-gather on core NATS: one request, every reply that comes within a window. The NATS
 * micro protocol ($SRV.PING|INFO|STATS) is answered by every running instance of every actor,
 * so a caller that wants them all (the edge's /health/ready/ and /metrics, swctl micro) sends
 * one request and collects for a fixed time instead of taking the first answer. The wait is
 * always bounded: a caller never hangs on a bus that is down. */
#ifndef SW_BUS_GATHER_H
#define SW_BUS_GATHER_H

#include <jansson.h>
#include <nats/nats.h>

#include "bus/status.h"

/* Publishes payload (may be NULL: an empty request) on subject with a fresh reply inbox under
 * inbox_prefix (NULL: this process's, see bus_inbox_prefix) and collects the replies that are
 * JSON objects until wait_ms have passed or max of them came (max <= 0: no limit). Returns
 * early when the server says nobody listens on subject, and at once with SW_EUNAVAILABLE when
 * the connection is not connected (a request would only sit in the reconnect buffer).
 * *out: owned JSON array of the replies in arrival order (empty when none came). */
sw_status bus_gather(json_t **out, natsConnection *nc, const char *inbox_prefix,
                     const char *subject, const char *payload, int wait_ms, int max);

#endif
