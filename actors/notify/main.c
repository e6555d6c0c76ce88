/* sw-notify: sends the emails other actors queue on sw.v1.jobs.mail (durable "mailer" on
 * SW_JOBS), over SMTP with libcurl, retrying with growing delays until the server takes them;
 * and alerting (issue 19): the notification channels API, the delivery log, incidents, the
 * endpoint events that become notifications and the delivery jobs that reach each channel. */
#include "actors/notify/notify.h"

static const bus_route routes[] = {
    {"sw.v1.notify.channels_list", channels_list, false},
    {"sw.v1.notify.channels_create", channels_create, false},
    {"sw.v1.notify.channels_get", channels_get, false},
    {"sw.v1.notify.channels_patch", channels_patch, false},
    {"sw.v1.notify.channels_delete", channels_delete, false},
    {"sw.v1.notify.channels_test", channels_test, false},
    {"sw.v1.notify.notifications_list", notifications_list, false},
    {"sw.v1.notify.incidents_list", incidents_list, false},
    {"sw.v1.notify.incidents_get", incidents_get, false},
    {"sw.v1.notify.incidents_acknowledge", incidents_acknowledge, false},
};

/* Two delivery workers on the one durable: a batch waiting on a slow receiver (at most
 * SW_NOTIFY_TIMEOUT_S) never stops the other from taking new jobs. */
static const bus_worker workers[] = {
    {.stream = BUS_STREAM_JOBS,
     .consumer = BUS_CONSUMER_MAILER,
     .batch = 16,
     .wait_ms = 1000,
     .handle = notify_mail_batch},
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_NOTIFY_ALERTS,
     .batch = 16,
     .wait_ms = 1000,
     .handle = notify_events_batch},
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_NOTIFY_TLS,
     .batch = 16,
     .wait_ms = 1000,
     .handle = notify_tls_batch},
    {.stream = BUS_STREAM_JOBS,
     .consumer = BUS_CONSUMER_DELIVERER,
     .batch = 32,
     .wait_ms = 1000,
     .handle = notify_deliver_batch},
    {.stream = BUS_STREAM_JOBS,
     .consumer = BUS_CONSUMER_DELIVERER,
     .batch = 32,
     .wait_ms = 1000,
     .handle = notify_deliver_batch},
    /* Held outages (the roll-up) and reminders, once a second. */
    {.stream = NULL, .handle = notify_tick},
};

static const bus_actor_def actor = {
    .name = "sw-notify",
    .description = "StatusWatch notifications: email over SMTP, alerting channels, incidents",
    .routes = routes,
    .nroutes = ARRAY_LEN(routes),
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = notify_app_init,
    .app_free = notify_app_free,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
