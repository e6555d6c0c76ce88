/* Handlers of sw-auth (subjects sw.v1.auth.*), one per REST route of DESIGN §5. */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include "bus/bus.h"

/* register.c */
sw_status auth_register(const bus_req *req, bus_reply *rep);
/* verify.c */
sw_status auth_verify_email(const bus_req *req, bus_reply *rep);
sw_status auth_resend_verification(const bus_req *req, bus_reply *rep);
/* session.c */
sw_status auth_token(const bus_req *req, bus_reply *rep);
sw_status auth_refresh(const bus_req *req, bus_reply *rep);
sw_status auth_logout(const bus_req *req, bus_reply *rep);
sw_status auth_me(const bus_req *req, bus_reply *rep);

/* alerts.c: bus_worker.handle of the endpoint-events consumer: one mail to the owner per
 * incident opened or closed. */
void auth_alerts_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

/* The shared actor context plus a check that SECRET_KEY can sign tokens. */
void *auth_app_init(bus_actor *a, sw_status *err);

/* Queues the verification email for a new token (shared by register and resend). */
sw_status auth_send_verification(const bus_req *req, const char *email, const char *org,
                                 const char *tenant_id, const char *token);

#endif
