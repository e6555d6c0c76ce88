/* Handlers of sw-auth (subjects sw.v1.auth.*), one per REST route of DESIGN §5. */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include "bus/bus.h"
#include "store/store.h"
#include "actors/common/app.h"

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

/* audit.c: the audit log. auth_audit appends an entry on c inside the caller's open tenant
 * transaction: the actor is actor_user (NULL: the caller, req->user) and the API token of the
 * request if one was used; target_* and detail (borrowed) may be NULL. */
sw_status auth_audit(store_conn *c, const bus_req *req, const char *actor_user, const char *action,
                     const char *target_type, const char *target_id, const char *target_label,
                     const json_t *detail);
sw_status auth_audit_list(const bus_req *req, bus_reply *rep);
/* bus_worker.handle of BUS_CONSUMER_AUTH_AUDIT: the "audit" object of other actors' events
 * (bus/contract.h) into audit_log, once per event. */
void auth_audit_events_batch(bus_actor *a, void *app, natsMsg **msgs, int n);
/* ?page= and ?page_size= (default 20, at most 100); false for a page that is not a number. */
bool auth_page(const bus_req *req, long *page, long *size);
/* Replies {"count","next","previous","results"}. rows: taken. 404 "Invalid page." past the
 * end. */
sw_status auth_reply_page(bus_reply *rep, const bus_req *req, const char *path, json_t *rows,
                          long total, long page, long size);
/* Runs sql in the caller's tenant schema with params + $n+1 LIMIT, $n+2 OFFSET; each row has a
 * total_count column (count(*) OVER ()), and replies the page. */
sw_status auth_list_page(const bus_req *req, bus_reply *rep, const char *path, const char *sql,
                         int nparams, const char *const *params, long page, long size);

/* tokens.c: API tokens (bus/apitoken.h). */
sw_status auth_tokens_list(const bus_req *req, bus_reply *rep);
sw_status auth_tokens_create(const bus_req *req, bus_reply *rep);
sw_status auth_tokens_revoke(const bus_req *req, bus_reply *rep);
/* sw.v1.auth.token_used: the edge's report that a token was used (no reply). */
sw_status auth_token_used(const bus_req *req, bus_reply *rep);
/* Publishes a token's record on SW_API_TOKENS (revoked: the edges drop it). */
sw_status auth_apitoken_publish(const bus_req *req, const char *id, const char *user,
                                const char *role, const char *hash_hex, long long expires_at,
                                bool revoked);
/* Revokes (on c, in the caller's transaction) the tokens user created, all of them, or with
 * above_role only those whose role is above it (a member demoted), and tells the edges. */
sw_status auth_apitokens_revoke_where(const bus_req *req, store_conn *c, const char *user,
                                      const char *above_role);

/* team.c: members, invitations, ownership. */
sw_status auth_members_list(const bus_req *req, bus_reply *rep);
sw_status auth_members_patch(const bus_req *req, bus_reply *rep);
sw_status auth_members_delete(const bus_req *req, bus_reply *rep);
sw_status auth_transfer_ownership(const bus_req *req, bus_reply *rep);
sw_status auth_invitations_list(const bus_req *req, bus_reply *rep);
sw_status auth_invitations_create(const bus_req *req, bus_reply *rep);
sw_status auth_invitations_delete(const bus_req *req, bus_reply *rep);
sw_status auth_accept_invitation(const bus_req *req, bus_reply *rep);

/* reset.c: forgotten and changed passwords. */
/* Reads "password" and "password_confirm" into *pw (borrowed from req->body), adding field
 * errors for missing ones and a mismatch; email (may be NULL) for the password rules. The
 * rules themselves are checked when email is given. */
void auth_password_fields(const bus_req *req, bus_reply *rep, const char *email, const char **pw);
/* Splits a mailed link's "<tenant>.<secret>"; false when malformed. */
bool auth_split_link_token(const char *in, char *tenant, size_t tlen, char *secret, size_t slen);
sw_status auth_password_reset(const bus_req *req, bus_reply *rep);
sw_status auth_password_reset_confirm(const bus_req *req, bus_reply *rep);
sw_status auth_password_change(const bus_req *req, bus_reply *rep);

/* session.c: a new session for user (a login's refresh token and access token) replied as
 * {access, refresh} with the cookie, on c (outside any transaction). */
sw_status auth_session_reply(bus_reply *rep, store_conn *c, const actor_app *app,
                             const char *tenant, const char *user, const char *role);
/* revoke.c: the user's access tokens issued before now stop working at every edge, but the
 * sessions go on: the next refresh gets an access token with the user's current role. */
sw_status auth_revoke_access(const bus_req *req, const char *user);

/* The shared actor context plus a check that SECRET_KEY can sign tokens. */
void *auth_app_init(bus_actor *a, sw_status *err);

/* Queues the verification email for a new token (shared by register and resend). */
sw_status auth_send_verification(const bus_req *req, const char *email, const char *org,
                                 const char *tenant_id, const char *token);

#endif
