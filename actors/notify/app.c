/* sw-notify's settings, read once at start: SMTP (the mailer), the database pool, the key that
 * seals channel secrets, the URL policy for channel URLs and the delivery knobs. */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "actors/notify/notify.h"
#include "bus/config.h"
#include "bus/log.h"

void *notify_app_init(bus_actor *a, sw_status *err)
{
    char why[160];
    bool ok = true;
    notify_app *app = calloc(1, sizeof(*app));
    if (!app || !notify_load_smtp(&app->smtp))
        goto einval;
    app->common = actor_app_init(a, err);
    if (!app->common)
        goto fail;
    /* The channels' secrets are sealed with a key derived from SW_NOTIFY_KEY (at least 32
     * characters; ops/sw generates 64 hex digits): only this process holds it. */
    const char *k = sw_config_str("SW_NOTIFY_KEY", NULL);
    if (!k || strlen(k) < 32) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_NOTIFY_KEY", "reason",
               "expected at least 32 characters (it seals the notification channels' secrets)",
               NULL);
        goto einval;
    }
    crypto_generichash(app->key, sizeof(app->key), (const unsigned char *)k, strlen(k),
                       (const unsigned char *)"sw-notify channel secrets", 25);
    const char *allow = sw_config_str("SW_PROBE_ALLOW_CIDRS", "");
    if (url_policy_new(&app->policy, allow, sw_config_is_production(), why, sizeof(why)) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_PROBE_ALLOW_CIDRS", "reason", why,
               NULL);
        goto einval;
    }
    if (*allow)
        sw_log(SW_LOG_WARN,
               "SW_PROBE_ALLOW_CIDRS is set: notification channels may point at these private "
               "addresses (meant for tests only)",
               "setting", "SW_PROBE_ALLOW_CIDRS", "value", allow, NULL);
    long dns_ms = sw_config_long("SW_DNS_TIMEOUT_MS", 4000, 100, 4500, &ok);
    if (!ok || url_policy_set_resolver(app->policy, sw_config_str("SW_DNS_SERVERS", ""),
                                       (int)dns_ms, why, sizeof(why)) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_DNS_SERVERS", NULL);
        goto einval;
    }
    app->timeout_s = sw_config_long("SW_NOTIFY_TIMEOUT_S", 10, 1, 30, &ok);
    if (!ok) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_NOTIFY_TIMEOUT_S", "reason",
               "expected 1-30 (seconds)", NULL);
        goto einval;
    }
    app->rollup_hold_s = sw_config_long("SW_NOTIFY_ROLLUP_HOLD_S", 10, 0, 60, &ok);
    if (!ok) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_NOTIFY_ROLLUP_HOLD_S", "reason",
               "expected 0-60 (seconds)", NULL);
        goto einval;
    }
    app->pagerduty_base = sw_config_str("SW_PAGERDUTY_API_BASE", "https://events.pagerduty.com");
    app->telegram_base = sw_config_str("SW_TELEGRAM_API_BASE", "https://api.telegram.org");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return app;
einval:
    *err = SW_EINVAL;
fail:
    if (app) {
        actor_app_free(app->common);
        url_policy_free(app->policy);
        free(app);
    }
    return NULL;
}

void notify_app_free(void *p)
{
    notify_app *app = p;
    if (!app)
        return;
    actor_app_free(app->common);
    url_policy_free(app->policy);
    sodium_memzero(app->key, sizeof(app->key));
    free(app);
    curl_global_cleanup();
}
