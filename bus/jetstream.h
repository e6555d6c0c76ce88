/* JetStream work-queue plumbing the worker actors share: a pull consumer that keeps one pull
 * request open instead of blocking in Fetch, publishes that do not wait for their PubAck one
 * at a time, and acks spoken on the wire. Both use one core subscription on an inbox of the
 * caller's, drained by the caller's own thread: no callbacks, no locks.
 *
 * Why not natsSubscription_Fetch: in libnats 3.4.1 a fetch that starts with messages already
 * queued from an earlier request can store more messages than the array it allocated (a heap
 * overflow seen in the prober under load). The pull protocol itself is small: a request
 * {"batch","expires"} to $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, messages back on the
 * reply subject, a 404/408/409 status when the request ends. */
#ifndef SW_BUS_JETSTREAM_H
#define SW_BUS_JETSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <nats/nats.h>

#include "bus/bus.h"
#include "bus/status.h"

/* The inbox prefix this process's connection may read (SW_NATS_INBOX_PREFIX, else
 * _INBOX_<SW_NATS_USER>, else _INBOX) and the JetStream API prefix ($JS.API, or
 * $JS.<SW_JS_DOMAIN>.API behind a leaf node), as bus_connect and the actor runtime use them. */
void bus_inbox_prefix(char *out, size_t len);
void bus_js_api_prefix(char *out, size_t len);

/* --- acks for any message whose reply subject is a $JS.ACK subject --- */
sw_status bus_msg_ack(natsConnection *nc, natsMsg *m);
/* Redelivery after delay_ms (0: as soon as the consumer may). */
sw_status bus_msg_nak(natsConnection *nc, natsMsg *m, int64_t delay_ms);
/* Resets the ack wait: the work is still going on. */
sw_status bus_msg_in_progress(natsConnection *nc, natsMsg *m);
/* Never redeliver (on a WorkQueue stream this deletes the message). */
sw_status bus_msg_term(natsConnection *nc, natsMsg *m);
/* The delivery count and stream sequence from the ack subject. False when m is not a
 * JetStream delivery. */
bool bus_msg_meta(const natsMsg *m, uint64_t *delivered, uint64_t *stream_seq);

/* --- pull consumer --- */
typedef struct bus_pull bus_pull;

/* Binds to an existing durable pull consumer. inbox_prefix: see bus_inbox_prefix.
 * *out: owned (bus_pull_free). */
sw_status bus_pull_new(bus_pull **out, natsConnection *nc, const char *inbox_prefix,
                       const char *api_prefix, const char *stream, const char *consumer);
void bus_pull_free(bus_pull *p);

/* Takes up to max delivered messages into out (owned by the caller now), waiting up to
 * wait_ms for the first. When no pull request is open and room > 0, first asks the server for
 * room messages (a request that stays open for a few seconds, so messages published meanwhile
 * arrive at once). Keep room <= capacity - messages held, and max >= room: the server never
 * sends more than was asked. Returns how many messages were stored. */
int bus_pull_take(bus_pull *p, int room, natsMsg **out, int max, int wait_ms);

/* For a worker loop: binds *p (while NULL) to the durable consumer once it exists, with this
 * process's inbox and API prefixes; says so every 30 s while it does not (the topology is set
 * up by sw-migrate or whichever actor starts first). True when *p is ready. */
bool bus_actor_pull_ready(bus_actor *a, bus_pull **p, const char *stream, const char *consumer);

/* The worker loop of the actor runtime (bus_actor_def.workers), on the worker's thread. */
void bus__worker_run(bus_actor *a, const bus_worker *w);

/* --- publishes with the PubAck collected later --- */
typedef struct bus_apub bus_apub;

/* A PubAck (st == SW_OK), a refusal by JetStream (SW_EUNAVAILABLE) or no answer within the
 * timeout (SW_ETIMEOUT) for the publish tagged tag. */
typedef void (*bus_apub_done)(void *tag, sw_status st, void *arg);

/* timeout_ms: how long a publish may wait for its PubAck before it counts as failed.
 * *out: owned (bus_apub_free). */
sw_status bus_apub_new(bus_apub **out, natsConnection *nc, const char *inbox_prefix,
                       int timeout_ms);
/* Forgets publishes still waiting (without calling done for them). */
void bus_apub_free(bus_apub *p);

/* Publishes payload (borrowed) with a Nats-Msg-Id so a retried publish is a no-op. Fails at
 * once only when the message cannot be sent; otherwise done(tag, …) follows from a poll. */
sw_status bus_apub_publish(bus_apub *p, const char *subject, const json_t *payload,
                           const char *msg_id, void *tag);
/* Reports PubAcks that have arrived and publishes that timed out, waiting up to wait_ms for
 * the first when some are pending. Returns how many are still pending. */
int bus_apub_poll(bus_apub *p, int wait_ms, bus_apub_done done, void *arg);
int bus_apub_pending(const bus_apub *p);
/* Polls until nothing is pending (each publish ends by its timeout at the latest), reporting
 * no tags. Returns SW_OK when every publish pending at the call got its PubAck, else the
 * first failure. For callers that publish a batch and then wait for all of it. */
sw_status bus_apub_flush(bus_apub *p);

#endif
