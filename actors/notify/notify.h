/* sw-notify internals: the mail worker and its message rendering; the alerting API (channels,
 * deliveries, incidents), the event consumer that turns outages into deliveries, and the
 * delivery worker that speaks each channel's wire format (issue 19). */
#ifndef SW_NOTIFY_H
#define SW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <sodium.h>

#include "actors/common/app.h"
#include "actors/common/url_policy.h"
#include "bus/bus.h"

typedef struct smtp_cfg {
    char url[512];
    const char *user;
    const char *password;
    bool tls;
    char from_header[256];
    char from_addr[256];
    long retry_base_ms;
} smtp_cfg;

typedef struct notify_app {
    smtp_cfg smtp;
    actor_app *common; /* owned: the database pool */
    url_policy *policy; /* owned: every channel URL (SW_PROBE_ALLOW_CIDRS opens loopback) */
    unsigned char key[crypto_secretbox_KEYBYTES]; /* from SW_NOTIFY_KEY: seals channel secrets */
    const char *pagerduty_base; /* SW_PAGERDUTY_API_BASE, trusted egress */
    const char *telegram_base;  /* SW_TELEGRAM_API_BASE, trusted egress */
    long timeout_s;             /* SW_NOTIFY_TIMEOUT_S: one delivery attempt at most */
    long rollup_hold_s;         /* SW_NOTIFY_ROLLUP_HOLD_S: quiet time before held outages go */
} notify_app;

void *notify_app_init(bus_actor *a, sw_status *err);
void notify_app_free(void *app);
bool notify_load_smtp(smtp_cfg *c);

/* The mailer worker's batch handler (bus_worker.handle): sends each mail job, acks it, or
 * naks it with a growing delay while SMTP fails. */
void notify_mail_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

/* Renders a mail job ({"kind","to","vars"}) into a complete RFC 5322 message with CRLF line
 * ends. *out: owned (free). SW_EINVAL for an unknown kind or missing values: such a job can
 * never succeed and is not retried. */
sw_status notify_render(char **out, const json_t *job, const char *from, const char *msg_id);

/* ---- channels.c: the API -------------------------------------------------------------- */
sw_status channels_list(const bus_req *req, bus_reply *rep);
sw_status channels_get(const bus_req *req, bus_reply *rep);
sw_status channels_create(const bus_req *req, bus_reply *rep);
sw_status channels_patch(const bus_req *req, bus_reply *rep);
sw_status channels_delete(const bus_req *req, bus_reply *rep);
sw_status channels_test(const bus_req *req, bus_reply *rep);
sw_status notifications_list(const bus_req *req, bus_reply *rep);
sw_status incidents_list(const bus_req *req, bus_reply *rep);
sw_status incidents_get(const bus_req *req, bus_reply *rep);
sw_status incidents_acknowledge(const bus_req *req, bus_reply *rep);

/* Inside a tenant transaction: makes the organization's first channel (email to its owner,
 * is_default) unless it was made before. */
sw_status channels_seed(store_conn *c);
/* The channel's secret fields, unsealed: *out owned JSON object ({} when it has none). */
sw_status channels_unseal(json_t **out, const notify_app *app, const char *sealed);

/* ---- deliver.c ------------------------------------------------------------------------ */
/* Inside a tenant transaction: one notification row per channel in channel_rows (rows of
 * channels with id, name, kind), with payload; then, after the caller commits, the jobs are
 * published by notify_publish_jobs. ids: owned array of notification ids appended to. */
sw_status notify_queue(store_conn *c, json_t *ids, const json_t *channel_rows, const char *kind,
                       const char *incident_id, const char *endpoint_id, const char *dedup_base,
                       const json_t *data);
/* Publishes one delivery job per id (msg id BUS_ID_DELIVER_JOB_FMT). */
sw_status notify_publish_jobs(bus_actor *a, const char *tenant, const json_t *ids,
                              const char *request_id);
/* The channels an endpoint's incidents go to (its channel_ids, else the default channels):
 * rows {id, name, kind}, owned. Inside a tenant transaction. */
sw_status notify_targets(store_conn *c, const char *endpoint, json_t **rows);
/* ticker.c: held outages out (one by one, or as roll-ups), due reminders out. */
void notify_tick(bus_actor *a, void *app, natsMsg **msgs, int n);
/* Workers: endpoint events -> notifications; delivery jobs -> the receivers. */
void notify_events_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
void notify_tls_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
void notify_deliver_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

#endif
