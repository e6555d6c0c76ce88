/* Handlers of sw-billing (subjects sw.v1.billing.*): the plans, Stripe Checkout for the Pro
 * upgrade, and Stripe's signed webhooks that move a tenant between plans (DESIGN §7). */
#ifndef SW_BILLING_H
#define SW_BILLING_H

#include <stddef.h>
#include <stdint.h>

#include "actors/common/app.h"
#include "bus/bus.h"
#include <jansson.h>

#define BILLING_SIG_TOLERANCE_S 300
#define BILLING_STRIPE_API "https://api.stripe.com"

/* req->app of this actor: the shared context plus the Stripe settings, read once at start.
 * The strings are borrowed from the environment. */
typedef struct billing_app {
    actor_app *common; /* owned */
    const char *secret_key;
    const char *webhook_secret;
    const char *price_pro;
    char api_base[256];      /* without a trailing slash */
    long connect_timeout_ms; /* Stripe calls: connect, then the whole request */
    long total_timeout_ms;
} billing_app;

/* app.c: bus_actor_def.app_init / app_free. In production refuses to start (naming the
 * setting) without STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_PRO, or with a
 * test-mode key; logs "Stripe test mode" when STRIPE_API_BASE is not Stripe's. */
void *billing_app_init(bus_actor *a, sw_status *err);
void billing_app_free(void *app);

/* Checks the Stripe settings (all strings may be NULL). On failure writes a message naming
 * the setting into why and returns false. Exposed for unit tests. */
bool billing_config_check(bool production, const char *secret_key, const char *webhook_secret,
                          const char *price_pro, char *why, size_t whylen);

/* stripe.c: one call to the Stripe API at api_base + path ("/v1/checkout/sessions"): a POST
 * of form (already encoded) when form is not NULL, else a GET; idem: an Idempotency-Key or
 * NULL. SW_OK when Stripe answered (*http its status, *body its JSON, owned, NULL when not
 * JSON); SW_EUNAVAILABLE when it could not be reached in time (logged). */
sw_status billing_stripe_call(const billing_app *app, const char *path, const char *form,
                              const char *idem, long *http, json_t **body);
/* Logs what Stripe said about a refused request: status and the error's type, code and param
 * (never the message, which may quote what we sent). */
void billing_stripe_log_error(const char *what, long http, const json_t *body);

/* plans.c */
sw_status billing_plans(const bus_req *req, bus_reply *rep);
/* checkout.c */
sw_status billing_checkout(const bus_req *req, bus_reply *rep);
/* webhook.c */
sw_status billing_webhook(const bus_req *req, bus_reply *rep);

/* signature.c: verifies a Stripe-Signature header ("t=…,v1=…[,v1=…][,v0=…]") for the raw
 * payload as Stripe specifies: HMAC-SHA256 of "<t>.<payload>" keyed with the whsec_ string as
 * is, any v1 may match (constant-time compare), other schemes ignored, |now - t| <= tolerance.
 * Returns SW_OK, or SW_EINVAL with *why set to a static reason for the log. */
sw_status billing_signature_verify(const char *header, const char *payload, size_t len,
                                   const char *secret, int64_t now, int64_t tolerance,
                                   const char **why);

/* Writes the lowercase hex v1 signature of "<t>.<payload>" (65 bytes with the NUL): what
 * Stripe (and the test double) put in the header. */
void billing_signature_compute(char out[65], int64_t t, const char *payload, size_t len,
                               const char *secret);

#endif
