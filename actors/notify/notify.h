/* sw-notify internals: the mail worker and its message rendering. */
#ifndef SW_NOTIFY_H
#define SW_NOTIFY_H

#include <stddef.h>
#include <jansson.h>

#include "bus/bus.h"

void *notify_app_init(bus_actor *a, sw_status *err);
void notify_app_free(void *app);
/* The mailer worker's batch handler (bus_worker.handle): sends each mail job, acks it, or
 * naks it with a growing delay while SMTP fails. */
void notify_mail_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

/* Renders a mail job ({"kind","to","vars"}) into a complete RFC 5322 message with CRLF line
 * ends. *out: owned (free). SW_EINVAL for an unknown kind or missing values: such a job can
 * never succeed and is not retried. */
sw_status notify_render(char **out, const json_t *job, const char *from, const char *msg_id);

#endif
