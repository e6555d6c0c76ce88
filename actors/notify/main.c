/* sw-notify: sends the emails other actors queue on sw.v1.jobs.mail (durable "mailer" on
 * SW_JOBS), over SMTP with libcurl, retrying with growing delays until the server takes them. */
#include "actors/notify/notify.h"

static const bus_worker workers[] = {
    {.stream = BUS_STREAM_JOBS,
     .consumer = BUS_CONSUMER_MAILER,
     .batch = 16,
     .wait_ms = 1000,
     .handle = notify_mail_batch},
};

static const bus_actor_def actor = {
    .name = "sw-notify",
    .description = "StatusWatch notifications: email over SMTP",
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = notify_app_init,
    .app_free = notify_app_free,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
