/* Settings (bus/config.h): throttle rates as written in SW_THROTTLE_* ("5/hour"), and the
 * SECRET_KEY check that keeps a production actor from starting on a weak or default key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus/config.h"

#define GOOD_KEY "3f1c9a7be2d54a0c8e6b1f2d3c4b5a69788f7e6d5c4b3a2910f1e2d3c4b5a697"

static void good_rates_parse(void **state)
{
    static const struct {
        const char *text;
        int count, window;
    } cases[] = {
        {"5/hour", 5, 3600}, {"10/minute", 10, 60}, {"3/h", 3, 3600}, {"100/s", 100, 1},
        {"1/day", 1, 86400}, {"2/m", 2, 60},        {"7/min", 7, 60}, {"9/sec", 9, 1},
        {"4/d", 4, 86400},   {"1/second", 1, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int count = -1, window = -1;
        if (!sw_config_parse_rate(cases[i].text, &count, &window))
            fail_msg("\"%s\" refused", cases[i].text);
        assert_int_equal(count, cases[i].count);
        assert_int_equal(window, cases[i].window);
    }
}

static void bad_rates_are_refused(void **state)
{
    static const char *cases[] = {
        "",        "5",      "x/hour", "0/hour", "5/fortnight", "-1/h",          "5/",   "/hour",
        "5/hour ", "5/HOUR", "5//h",   "5.5/h",  "5/h/h",       "99999999999/h", "5 /h", "five/h",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int count = -7, window = -7;
        if (sw_config_parse_rate(cases[i], &count, &window))
            fail_msg("\"%s\" accepted as %d/%ds", cases[i], count, window);
        /* A refused rate leaves the caller's defaults alone. */
        assert_int_equal(count, -7);
        assert_int_equal(window, -7);
    }
    int count, window;
    assert_false(sw_config_parse_rate(NULL, &count, &window));
}

static void check_key(const char *env, const char *key, bool want, const char *why_has)
{
    char why[256] = "";
    if (env)
        setenv("SW_ENV", env, 1);
    else
        unsetenv("SW_ENV");
    if (key)
        setenv("SECRET_KEY", key, 1);
    else
        unsetenv("SECRET_KEY");
    bool got = sw_config_check_secret_key(why, sizeof(why));
    if (got != want)
        fail_msg("SW_ENV=%s SECRET_KEY=%s: got %d (%s)", env ? env : "(unset)",
                 key ? key : "(unset)", got, why);
    if (!want) {
        /* The operator is told which setting is wrong. */
        assert_non_null(strstr(why, "SECRET_KEY"));
        if (why_has)
            assert_non_null(strstr(why, why_has));
        /* ... without the key itself ending up in the message. */
        if (key && *key)
            assert_null(strstr(why, key));
    }
}

static void production_refuses_weak_secret_keys(void **state)
{
    check_key("production", NULL, false, "not set");
    check_key("production", "", false, "not set");
    check_key("production", "short-key", false, "short");
    check_key("production", "0123456789abcdef0123456789abcde", false, "short"); /* 31 */
    check_key("production", "changeme-changeme-changeme-changeme-1234", false, "default");
    check_key("production", "django-insecure-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c", false, "default");
    check_key("production", "ThisIsMyStatusWatchProductionKey-1234567", false, "default");
    check_key("production", GOOD_KEY, true, NULL);
    check_key("production", "0123456789abcdef0123456789abcdef", true, NULL); /* 32 */
}

static void development_accepts_any_key(void **state)
{
    check_key("development", NULL, true, NULL);
    check_key("development", "x", true, NULL);
    check_key("development", "changeme", true, NULL);
    check_key(NULL, NULL, true, NULL);
    check_key(NULL, "dev", true, NULL);
}

static void env_must_be_known(void **state)
{
    static const char *good[] = {"development", "test", "production", ""};
    static const char *bad[] = {"staging", "prod", "Production", "production ", "dev"};
    char why[160];
    unsetenv("SW_ENV");
    assert_true(sw_config_check_env(why, sizeof(why)));
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        setenv("SW_ENV", good[i], 1);
        assert_true(sw_config_check_env(why, sizeof(why)));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("SW_ENV", bad[i], 1);
        why[0] = '\0';
        if (sw_config_check_env(why, sizeof(why)))
            fail_msg("SW_ENV=%s accepted", bad[i]);
        assert_non_null(strstr(why, "SW_ENV"));
        /* ...and none of them is production's lenient twin: is_production stays false. */
        assert_false(sw_config_is_production());
    }
}

static void live_stripe_key_means_production(void **state)
{
    setenv("SW_ENV", "development", 1);
    unsetenv("STRIPE_SECRET_KEY");
    assert_false(sw_config_is_production());
    setenv("STRIPE_SECRET_KEY", "sk_test_abc", 1);
    assert_false(sw_config_is_production());
    setenv("STRIPE_SECRET_KEY", "sk_live_abc", 1);
    assert_true(sw_config_is_production());
    setenv("STRIPE_SECRET_KEY", "rk_live_abc", 1);
    assert_true(sw_config_is_production());
    /* ...so the production refusals follow: a weak SECRET_KEY is refused. */
    check_key("development", "short-key", false, "short");
    unsetenv("STRIPE_SECRET_KEY");
    setenv("SW_ENV", "production", 1);
    assert_true(sw_config_is_production());
}

static int teardown(void **state)
{
    unsetenv("STRIPE_SECRET_KEY");
    unsetenv("SW_ENV");
    unsetenv("SECRET_KEY");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_rates_parse),
        cmocka_unit_test(bad_rates_are_refused),
        cmocka_unit_test_teardown(production_refuses_weak_secret_keys, teardown),
        cmocka_unit_test_teardown(development_accepts_any_key, teardown),
        cmocka_unit_test_teardown(env_must_be_known, teardown),
        cmocka_unit_test_teardown(live_stripe_key_means_production, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
