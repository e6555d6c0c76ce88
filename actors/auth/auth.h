/* Handlers of sw-auth (subjects sw.v1.auth.*), one per REST route of DESIGN §5. */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include "bus/bus.h"
#include "store/store.h"

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

/* revoke.c: sessions that end before their access tokens expire (bus/revocation.h).
 * auth_revoke_session: the access tokens of one session (refresh-token family) stop working
 * at every edge within moments; the caller has revoked the family's refresh tokens already.
 * auth_revoke_user: every session of the user ends: all its refresh tokens are revoked (on c,
 * in the caller's transaction if one is open) and its access tokens issued before now stop
 * working; for a password change (and a removed user). Both return SW_EUNAVAILABLE when the
 * bus did not take the revocation (the caller should answer 503 so the client retries). */
sw_status auth_revoke_session(const bus_req *req, const char *family);
sw_status auth_revoke_user(const bus_req *req, store_conn *c, const char *tenant, const char *user);
/* alerts.c: bus_worker.handle of the endpoint-events consumer: one mail to the owner per
 * incident opened or closed. */
void auth_alerts_batch(bus_actor *a, void *app, natsMsg **msgs, int n);

/* The shared actor context plus a check that SECRET_KEY can sign tokens. */
void *auth_app_init(bus_actor *a, sw_status *err);

/* Queues the verification email for a new token (shared by register and resend). */
sw_status auth_send_verification(const bus_req *req, const char *email, const char *org,
                                 const char *tenant_id, const char *token);

#endif
