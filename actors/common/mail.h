/* Mail jobs: an actor that wants an email sent publishes a job on sw.v1.jobs.mail (stream
 * SW_JOBS); the notify actor renders and sends it over SMTP, retrying until it goes out. */
#ifndef SW_MAIL_H
#define SW_MAIL_H

#include <nats/nats.h>
#include <jansson.h>

#include "bus/status.h"

#include "bus/contract.h"

#define MAIL_SUBJECT BUS_SUBJ_MAIL_JOB

/* Queues an email of kind ("verify_email", …) to one address. vars: borrowed, the template's
 * values. msg_id: a stable id so a retried publish is not sent twice. */
sw_status mail_enqueue(jsCtx *js, const char *kind, const char *to, const json_t *vars,
                       const char *msg_id, const char *request_id);

#endif
