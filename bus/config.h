/* Settings from the environment, with the original system's names where it had them
 * (DESIGN §8). Production checks live here so every actor refuses the same bad settings. */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Borrowed from the environment, or def when unset or empty. */
const char *sw_config_str(const char *name, const char *def);
/* Parsed integer, or def when unset; a value that is not an integer in [min, max] is an error
 * reported through *ok = false (ok may be NULL, then def is returned). */
long sw_config_long(const char *name, long def, long min, long max, bool *ok);
bool sw_config_bool(const char *name, bool def);

/* True when SW_ENV is "production", and also when the process holds a live Stripe key
 * (STRIPE_SECRET_KEY sk_live_… or rk_live_…): live money means production, whatever SW_ENV
 * says, so every production refusal applies. */
bool sw_config_is_production(void);

/* Checks SW_ENV: unset, "development", "test" or "production"; anything else (a typo,
 * "prod", "staging") is refused rather than silently treated as development. On failure
 * writes a message naming the setting into why and returns false. */
bool sw_config_check_env(char *why, size_t whylen);

/* A rate like "5/hour", "10/minute", "3/h", "100/s": count and window in seconds.
 * Returns false for a malformed rate. */
bool sw_config_parse_rate(const char *text, int *count, int *window_s);

/* Checks SECRET_KEY: in production it must be set, at least 32 bytes and not a known
 * development value. On failure writes a message naming the setting into why and returns
 * false. Outside production a missing key is allowed (the caller decides what needs it). */
bool sw_config_check_secret_key(char *why, size_t whylen);

#endif
