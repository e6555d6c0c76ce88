/* sw-auth: sign-up, email verification, login, token refresh and logout. */
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

static const bus_actor_def actor = {
    .name = "sw-auth",
    .uses_secret_key = true,
    .description = "StatusWatch accounts: sign-up, email verification, login, sessions",
    .routes = routes,
    .nroutes = ARRAY_LEN(routes),
    .app_init = auth_app_init,
    .app_free = actor_app_free,
};

int main(int argc, char **argv)
{
    return bus_actor_main(argc, argv, &actor);
}
