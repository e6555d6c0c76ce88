/* Stripe webhook signature verification (actors/billing/signature.c) against the vectors of
 * Stripe's "verify manually" procedure, and the production checks of the Stripe settings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "actors/billing/billing.h"

#define SECRET "whsec_test_secret_0123456789abcdef"
#define NOW 1700000000LL
#define BODY "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"checkout.session.completed\"}"

static sw_status verify(const char *header, const char *body, const char *secret, int64_t now)
{
    const char *why = NULL;
    sw_status st = billing_signature_verify(header, body, body ? strlen(body) : 0, secret, now,
                                            BILLING_SIG_TOLERANCE_S, &why);
    if (st != SW_OK)
        assert_non_null(why); /* every refusal says why, for the log */
    return st;
}

/* "t=<t>,v1=<sig of body at t with secret>" plus extra. */
static void header_for(char *out, size_t len, int64_t t, const char *body, const char *secret,
                       const char *extra)
{
    char sig[65];
    billing_signature_compute(sig, t, body, strlen(body), secret);
    snprintf(out, len, "t=%lld,v1=%s%s", (long long)t, sig, extra ? extra : "");
}

/* An independent HMAC (one-shot API) so the test does not only check the code against
 * itself. */
static void test_known_vector(void **state)
{
    char sig[65], expect[65], msg[256];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    snprintf(msg, sizeof(msg), "%lld.%s", NOW, BODY);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(expect, sizeof(expect), mac, sizeof(mac));
    billing_signature_compute(sig, NOW, BODY, strlen(BODY), SECRET);
    assert_string_equal(sig, expect);

    /* A short key and body: the key is the secret string exactly as configured. */
    billing_signature_compute(sig, 1, "x", 1, "Jefe");
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"Jefe", 4);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"1.x", 3);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(expect, sizeof(expect), mac, sizeof(mac));
    assert_string_equal(sig, expect);
}

static void test_valid(void **state)
{
    char h[256];
    header_for(h, sizeof(h), NOW, BODY, SECRET, NULL);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_OK);
    /* Within the 300 s tolerance either way. */
    assert_int_equal(verify(h, BODY, SECRET, NOW + 300), SW_OK);
    assert_int_equal(verify(h, BODY, SECRET, NOW - 300), SW_OK);
    /* Stripe's own test-mode header carries a v0 too, which is simply ignored. */
    header_for(h, sizeof(h), NOW, BODY, SECRET,
               ",v0=6ffbb59b2300aabcd19f5b4f1b66a7e1bd9ce7f6b1d7d4e8d8d1f1f2f3f4f5f6");
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_OK);
    /* Spaces after commas are tolerated; an uppercase hex signature is the same bytes. */
    char sig[65], up[65];
    billing_signature_compute(sig, NOW, BODY, strlen(BODY), SECRET);
    for (int i = 0; i < 65; i++)
        up[i] = (char)(sig[i] >= 'a' && sig[i] <= 'f' ? sig[i] - 32 : sig[i]);
    snprintf(h, sizeof(h), "t=%lld, v1=%s", NOW, up);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_OK);
}

static void test_wrong_secret(void **state)
{
    char h[256];
    header_for(h, sizeof(h), NOW, BODY, "whsec_another_secret", NULL);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
    /* No secret configured: nothing verifies. */
    header_for(h, sizeof(h), NOW, BODY, SECRET, NULL);
    assert_int_equal(verify(h, BODY, NULL, NOW), SW_EINVAL);
    assert_int_equal(verify(h, BODY, "", NOW), SW_EINVAL);
}

static void test_stale_timestamp(void **state)
{
    char h[256];
    header_for(h, sizeof(h), NOW, BODY, SECRET, NULL);
    assert_int_equal(verify(h, BODY, SECRET, NOW + 301), SW_EINVAL);
    assert_int_equal(verify(h, BODY, SECRET, NOW - 301), SW_EINVAL); /* from the future */
    assert_int_equal(verify(h, BODY, SECRET, NOW + 86400), SW_EINVAL);
    /* A replayed body with a fresh t but the old signature does not match. */
    char sig[65];
    billing_signature_compute(sig, NOW, BODY, strlen(BODY), SECRET);
    snprintf(h, sizeof(h), "t=%lld,v1=%s", NOW + 1000, sig);
    assert_int_equal(verify(h, BODY, SECRET, NOW + 1000), SW_EINVAL);
}

static void test_multiple_v1_one_valid(void **state)
{
    char good[65], bad[65], h[512];
    billing_signature_compute(good, NOW, BODY, strlen(BODY), SECRET);
    billing_signature_compute(bad, NOW, BODY, strlen(BODY), "whsec_old_secret");
    /* During a secret roll: either order, the valid one may come first or last. */
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s", NOW, bad, good);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_OK);
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s", NOW, good, bad);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_OK);
    snprintf(h, sizeof(h), "v1=%s,t=%lld,v1=%s", bad, NOW, good);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_OK);
    snprintf(h, sizeof(h), "t=%lld,v1=%s,v1=%s", NOW, bad, bad);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
}

static void test_only_v0(void **state)
{
    char good[65], h[256];
    billing_signature_compute(good, NOW, BODY, strlen(BODY), SECRET);
    /* A correct HMAC under another scheme name is a downgrade attempt: refused. */
    snprintf(h, sizeof(h), "t=%lld,v0=%s", NOW, good);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
    snprintf(h, sizeof(h), "t=%lld,v2=%s", NOW, good);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
}

static void test_missing_header(void **state)
{
    assert_int_equal(verify(NULL, BODY, SECRET, NOW), SW_EINVAL);
    assert_int_equal(verify("", BODY, SECRET, NOW), SW_EINVAL);
}

static void test_tampered_body(void **state)
{
    char h[256];
    header_for(h, sizeof(h), NOW, BODY, SECRET, NULL);
    const char *tampered =
        "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"checkout.session.completeD\"}";
    assert_int_equal(verify(h, tampered, SECRET, NOW), SW_EINVAL);
    /* One extra byte (a trailing newline) is a different body. */
    assert_int_equal(verify(h, BODY "\n", SECRET, NOW), SW_EINVAL);
    assert_int_equal(verify(h, "", SECRET, NOW), SW_EINVAL);
}

static void test_malformed_header(void **state)
{
    char good[65], h[512];
    billing_signature_compute(good, NOW, BODY, strlen(BODY), SECRET);
    /* Each prefix is followed by a correct signature. */
    const char *prefixes[] = {
        "t=,v1=",                          /* empty t */
        "t=abc,v1=",                       /* not a number */
        "t=-5,v1=",                        /* negative */
        "t=1700000000x,v1=",               /* trailing junk */
        "v1=",                             /* no t */
        "garbage",                         /* nothing */
        "t=1700000000,t=1700000000,v1=",   /* t twice */
        "t=99999999999999999999999,v1=",   /* overflows */
    };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        snprintf(h, sizeof(h), "%s%s", prefixes[i], good);
        assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
    }
    /* A v1 of the wrong length or not hex never matches, even as a prefix of the right one. */
    snprintf(h, sizeof(h), "t=%lld,v1=%.63s", NOW, good);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
    snprintf(h, sizeof(h), "t=%lld,v1=%s00", NOW, good);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
    snprintf(h, sizeof(h), "t=%lld,v1=", NOW);
    assert_int_equal(verify(h, BODY, SECRET, NOW), SW_EINVAL);
    assert_int_equal(verify("t=1700000000,v1=zz", BODY, SECRET, NOW), SW_EINVAL);
    assert_int_equal(verify(",,,,", BODY, SECRET, NOW), SW_EINVAL);
}

static void test_production_settings(void **state)
{
    char why[160];
    /* Outside production nothing is required (the local stack generates test values). */
    assert_true(billing_config_check(false, NULL, NULL, NULL, why, sizeof(why)));
    assert_true(billing_config_check(true, "sk_live_abc", "whsec_abc", "price_1", why,
                                     sizeof(why)));
    assert_false(billing_config_check(true, NULL, "whsec_abc", "price_1", why, sizeof(why)));
    assert_non_null(strstr(why, "STRIPE_SECRET_KEY"));
    assert_false(billing_config_check(true, "sk_test_abc", "whsec_abc", "price_1", why,
                                      sizeof(why)));
    assert_non_null(strstr(why, "STRIPE_SECRET_KEY"));
    assert_non_null(strstr(why, "test"));
    assert_false(billing_config_check(true, "rk_test_abc", "whsec_abc", "price_1", why,
                                      sizeof(why)));
    assert_false(billing_config_check(true, "sk_live_abc", "", "price_1", why, sizeof(why)));
    assert_non_null(strstr(why, "STRIPE_WEBHOOK_SECRET"));
    assert_false(billing_config_check(true, "sk_live_abc", "whsec_abc", NULL, why, sizeof(why)));
    assert_non_null(strstr(why, "STRIPE_PRICE_PRO"));
    /* The message names the setting but never quotes its value. */
    assert_false(billing_config_check(true, "sk_test_SECRETVALUE", "whsec_abc", "price_1", why,
                                      sizeof(why)));
    assert_null(strstr(why, "SECRETVALUE"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vector),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_stale_timestamp),
        cmocka_unit_test(test_multiple_v1_one_valid),
        cmocka_unit_test(test_only_v0),
        cmocka_unit_test(test_missing_header),
        cmocka_unit_test(test_tampered_body),
        cmocka_unit_test(test_malformed_header),
        cmocka_unit_test(test_production_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
