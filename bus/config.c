/* Environment settings. */
#include "bus/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *sw_config_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v && *v) ? v : def;
}

long sw_config_long(const char *name, long def, long min, long max, bool *ok)
{
    const char *v = getenv(name);
    if (ok)
        *ok = true;
    if (!v || !*v)
        return def;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        if (ok)
            *ok = false;
        return def;
    }
    return n;
}

bool sw_config_bool(const char *name, bool def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
           strcasecmp(v, "on") == 0;
}

bool sw_config_is_production(void)
{
    const char *stripe = sw_config_str("STRIPE_SECRET_KEY", "");
    return strcmp(sw_config_str("SW_ENV", "development"), "production") == 0 ||
           strncmp(stripe, "sk_live_", 8) == 0 || strncmp(stripe, "rk_live_", 8) == 0;
}

bool sw_config_check_env(char *why, size_t whylen)
{
    static const char *known[] = {"development", "test", "production"};
    const char *env = sw_config_str("SW_ENV", "development");
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(env, known[i]) == 0)
            return true;
    }
    /* The value is the operator's own setting, not a secret: naming it helps. */
    snprintf(why, whylen, "SW_ENV=\"%.40s\" is not development, test or production", env);
    return false;
}

bool sw_config_parse_rate(const char *text, int *count, int *window_s)
{
    static const struct {
        const char *unit;
        int seconds;
    } units[] = {{"s", 1},       {"sec", 1},       {"second", 1}, {"m", 60},
                 {"min", 60},    {"minute", 60},   {"h", 3600},   {"hour", 3600},
                 {"d", 86400},   {"day", 86400}};
    if (!text)
        return false;
    char *end = NULL;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end != '/' || n < 1 || n > 1000000000)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end + 1, units[i].unit) == 0) {
            *count = (int)n;
            *window_s = units[i].seconds;
            return true;
        }
    }
    return false;
}

bool sw_config_check_secret_key(char *why, size_t whylen)
{
    static const char *known_defaults[] = {"changeme", "change-me", "secret", "dev",
                                           "development", "django-insecure", "insecure",
                                           "statuswatch"};
    const char *key = getenv("SECRET_KEY");
    if (!sw_config_is_production())
        return true;
    if (!key || !*key) {
        snprintf(why, whylen, "SECRET_KEY is not set (required when SW_ENV=production)");
        return false;
    }
    if (strlen(key) < 32) {
        snprintf(why, whylen, "SECRET_KEY is too short: at least 32 bytes are required");
        return false;
    }
    for (size_t i = 0; i < sizeof(known_defaults) / sizeof(known_defaults[0]); i++) {
        if (strcasestr(key, known_defaults[i])) {
            snprintf(why, whylen, "SECRET_KEY looks like a default or development value");
            return false;
        }
    }
    return true;
}
