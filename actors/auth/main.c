/* sw-auth: sign-up, email verification, login, token refresh and logout, the team (members,
 * invitations, ownership), passwords (reset, change), API tokens and the audit log; and, as
 * the owner of the users, whom to mail when an endpoint goes down or comes back. */
#include "actors/auth/auth.h"
#include "actors/common/app.h"

static const bus_route routes[] = {
    {"sw.v1.auth.register", auth_register, false},
    {"sw.v1.auth.verify_email", auth_verify_email, false},
    {"sw.v1.auth.resend_verification", auth_resend_verification, false},
    {"sw.v1.auth.token", auth_token, false},
    {"sw.v1.auth.refresh", auth_refresh, false},
    {"sw.v1.auth.logout", auth_logout, false},
    {"sw.v1.auth.me", auth_me, false},
    {"sw.v1.auth.accept_invitation", auth_accept_invitation, false},
    {"sw.v1.auth.password_reset", auth_password_reset, false},
    {"sw.v1.auth.password_reset_confirm", auth_password_reset_confirm, false},
    {"sw.v1.auth.password_change", auth_password_change, false},
    {"sw.v1.auth.members_list", auth_members_list, false},
    {"sw.v1.auth.members_patch", auth_members_patch, false},
    {"sw.v1.auth.members_delete", auth_members_delete, false},
    {"sw.v1.auth.transfer_ownership", auth_transfer_ownership, false},
    {"sw.v1.auth.invitations_list", auth_invitations_list, false},
    {"sw.v1.auth.invitations_create", auth_invitations_create, false},
    {"sw.v1.auth.invitations_delete", auth_invitations_delete, false},
    {"sw.v1.auth.tokens_list", auth_tokens_list, false},
    {"sw.v1.auth.tokens_create", auth_tokens_create, false},
    {"sw.v1.auth.tokens_revoke", auth_tokens_revoke, false},
    {BUS_SUBJ_AUTH_TOKEN_USED, auth_token_used, false},
    {"sw.v1.auth.audit_list", auth_audit_list, false},
};

/* Outages: the recorder's endpoint.down|up, turned into a mail to the owner; and the audit
 * entries of other actors' changes. */
static const bus_worker workers[] = {
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_AUTH_ALERTS,
     .batch = 16,
     .wait_ms = 1000,
     .handle = auth_alerts_batch},
    /* Certificates nearing expiry (issue 17): the recorder's tls.expiring, mailed the same way. */
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_AUTH_TLS,
     .batch = 16,
     .wait_ms = 1000,
     .handle = auth_alerts_batch},
    /* Other actors' changes for the audit log (bus/contract.h, "audit" in their events). */
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_AUTH_AUDIT,
     .batch = 64,
     .wait_ms = 1000,
     .handle = auth_audit_events_batch},
};

static const bus_actor_def actor = {
    .name = "sw-auth",
    .uses_secret_key = true,
    .description = "StatusWatch accounts: sign-up, email verification, login, sessions",
    .routes = routes,
    .nroutes = ARRAY_LEN(routes),
    .workers = workers,
    .nworkers = ARRAY_LEN(workers),
    .app_init = auth_app_init,
    .app_free = actor_app_free,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
