/* sw-auth: sign-up, email verification, login, token refresh and logout; and, as the owner of
 * the users, whom to mail when an endpoint goes down or comes back. */
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
};

/* Outages: the recorder's endpoint.down|up, turned into a mail to the owner. */
static const bus_worker workers[] = {
    {.stream = BUS_STREAM_EVENTS,
     .consumer = BUS_CONSUMER_AUTH_ALERTS,
     .batch = 16,
     .wait_ms = 1000,
     .handle = auth_alerts_batch},
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
