/* sw-billing start-up: the Stripe settings, checked once. In production a missing key, a
 * missing webhook secret or price, or a test-mode key stops the actor with the setting named;
 * STRIPE_API_BASE must be https in production, and anything but Stripe is said loudly in the
 * log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "actors/billing/billing.h"
#include "bus/config.h"
#include "bus/log.h"

static bool empty(const char *s)
{
    return !s || !*s;
}

bool billing_config_check(bool production, const char *secret_key, const char *webhook_secret,
                          const char *price_pro, char *why, size_t whylen)
{
    if (!production)
        return true;
    if (empty(secret_key)) {
        snprintf(why, whylen, "STRIPE_SECRET_KEY is not set");
        return false;
    }
    if (strncmp(secret_key, "sk_test_", 8) == 0 || strncmp(secret_key, "rk_test_", 8) == 0) {
        snprintf(why, whylen, "STRIPE_SECRET_KEY is a test-mode key: production needs a live key");
        return false;
    }
    if (strncmp(secret_key, "sk_live_", 8) != 0 && strncmp(secret_key, "rk_live_", 8) != 0) {
        snprintf(why, whylen, "STRIPE_SECRET_KEY is not a live Stripe secret key");
        return false;
    }
    if (empty(webhook_secret)) {
        snprintf(why, whylen, "STRIPE_WEBHOOK_SECRET is not set");
        return false;
    }
    if (strncmp(webhook_secret, "whsec_", 6) != 0) {
        snprintf(why, whylen, "STRIPE_WEBHOOK_SECRET is not a Stripe webhook signing secret");
        return false;
    }
    if (empty(price_pro)) {
        snprintf(why, whylen, "STRIPE_PRICE_PRO is not set");
        return false;
    }
    return true;
}

void *billing_app_init(bus_actor *a, sw_status *err)
{
    char why[160];
    billing_app *app = calloc(1, sizeof(*app));
    if (!app) {
        *err = SW_EINTERNAL;
        return NULL;
    }
    app->secret_key = sw_config_str("STRIPE_SECRET_KEY", NULL);
    app->webhook_secret = sw_config_str("STRIPE_WEBHOOK_SECRET", NULL);
    app->price_pro = sw_config_str("STRIPE_PRICE_PRO", NULL);
    if (!billing_config_check(sw_config_is_production(), app->secret_key, app->webhook_secret,
                              app->price_pro, why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "reason", why, NULL);
        free(app);
        *err = SW_EINVAL;
        return NULL;
    }
    const char *base = sw_config_str("STRIPE_API_BASE", BILLING_STRIPE_API);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(app->api_base) ||
        (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0)) {
        sw_log(SW_LOG_ERROR, "refusing to start: STRIPE_API_BASE must be an http(s) URL",
               "setting", "STRIPE_API_BASE", NULL);
        free(app);
        *err = SW_EINVAL;
        return NULL;
    }
    memcpy(app->api_base, base, n);
    app->api_base[n] = '\0';
    /* Production talks to Stripe with a live key: never in clear text, whichever host. */
    if (sw_config_is_production() && strncmp(app->api_base, "https://", 8) != 0) {
        sw_log(SW_LOG_ERROR, "refusing to start: STRIPE_API_BASE must be https in production",
               "setting", "STRIPE_API_BASE", NULL);
        free(app);
        *err = SW_EINVAL;
        return NULL;
    }

    /* Stripe's own timeouts (connect 5 s, whole call 15 s), but always inside the edge's wait
     * for our reply: a client should get our clean 503, not the edge's 504 while a handler
     * thread is still talking to Stripe. */
    long edge_wait = sw_config_long("SW_BUS_TIMEOUT_MS", 5000, 100, 120000, NULL);
    app->total_timeout_ms = sw_config_long("SW_STRIPE_TIMEOUT_MS", 15000, 100, 120000, NULL);
    if (app->total_timeout_ms > edge_wait - 500)
        app->total_timeout_ms = edge_wait > 1000 ? edge_wait - 500 : edge_wait / 2;
    app->connect_timeout_ms = app->total_timeout_ms < 5000 ? app->total_timeout_ms : 5000;

    if (sw_config_is_production() && strcmp(app->api_base, BILLING_STRIPE_API) != 0)
        sw_log(SW_LOG_WARN, "STRIPE_API_BASE is not Stripe's API in production", "api_base",
               app->api_base, NULL);
    if (strcmp(app->api_base, BILLING_STRIPE_API) != 0)
        sw_log(SW_LOG_WARN, "Stripe test mode: payments go to a Stripe test double, not Stripe",
               "api_base", app->api_base, NULL);
    else if (!empty(app->secret_key) && strncmp(app->secret_key, "sk_test_", 8) == 0)
        sw_log(SW_LOG_INFO, "Stripe test mode: using Stripe's API with a test-mode key", NULL);
    if (empty(app->secret_key))
        sw_log(SW_LOG_WARN, "STRIPE_SECRET_KEY is not set: checkout answers 503", NULL);
    if (empty(app->webhook_secret))
        sw_log(SW_LOG_WARN, "STRIPE_WEBHOOK_SECRET is not set: every webhook is refused", NULL);
    if (empty(app->price_pro))
        sw_log(SW_LOG_WARN, "STRIPE_PRICE_PRO is not set: checkout answers 503", NULL);

    app->common = actor_app_init(a, err);
    if (!app->common) {
        free(app);
        return NULL;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return app;
}

void billing_app_free(void *p)
{
    billing_app *app = p;
    if (!app)
        return;
    actor_app_free(app->common);
    free(app);
    curl_global_cleanup();
}
