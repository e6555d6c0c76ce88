/* Input rules (actors/common/validate.h): which email addresses are accepted and how they are
 * normalised, display names, tenant slugs, and the random tokens / identifiers and their
 * stored hash form. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "actors/common/validate.h"

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* ------------------------------------------------------------------ email */

static void valid_emails_are_normalised(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"alice@example.com", "alice@example.com"},
        {"Alice@Example.COM", "alice@example.com"},
        {"  bob@example.org\t\n", "bob@example.org"},
        {"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"},
        {"a@b.io", "a@b.io"},
        {"o'brien@example.ie", "o'brien@example.ie"},
        {"x_y-z@my-host.example.org", "x_y-z@my-host.example.org"},
        {"1234@example.com", "1234@example.com"},
        {"user@123.example.com", "user@123.example.com"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        if (!validate_email(out, sizeof(out), cases[i].in))
            fail_msg("\"%s\" refused", cases[i].in);
        assert_string_equal(out, cases[i].out);
    }
}

static void invalid_emails_are_refused(void **state)
{
    static const char *cases[] = {
        "",
        "   ",
        "plainaddress",
        "a@b@example.com",
        "@example.com",
        "alice@",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@localhost",
        "alice@example.123",
        "alice@example.c",
        "alice@-example.com",
        "alice@example-.com",
        "alice@example..com",
        "alice@.example.com",
        "alice@example.com.",
        "alice@ex_ample.com",
        "al ice@example.com",
        "alice@exa mple.com",
        "ali\x01"
        "ce@example.com",
        "alice@exam\x7fple.com",
        "alice@example.com\r\nBcc: x@y.z",
        "j\xc3\xb6rg@example.com",  /* jörg */
        "alice@ex\xc3\xa4mple.com", /* exämple */
        "<alice@example.com>",
        "alice@example.com>",
        "\"alice\"@example.com",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256] = "untouched";
        if (validate_email(out, sizeof(out), cases[i]))
            fail_msg("\"%s\" accepted as \"%s\"", cases[i], out);
    }
    char out[256];
    assert_false(validate_email(out, sizeof(out), NULL));
}

static void email_length_limits(void **state)
{
    char addr[400], out[300];
    char *l64 = repeat('a', 64), *l65 = repeat('a', 65);
    char *d63 = repeat('b', 63), *d57 = repeat('c', 57), *d58 = repeat('c', 58);
    char *d64 = repeat('d', 64);

    snprintf(addr, sizeof(addr), "%s@example.com", l64);
    assert_true(validate_email(out, sizeof(out), addr));
    snprintf(addr, sizeof(addr), "%s@example.com", l65);
    assert_false(validate_email(out, sizeof(out), addr));

    /* 64 + 1 + 189 = 254 characters: the longest address allowed. */
    snprintf(addr, sizeof(addr), "%s@%s.%s.%s.com", l64, d63, d63, d57);
    assert_int_equal(strlen(addr), 254);
    assert_true(validate_email(out, sizeof(out), addr));
    assert_string_equal(out, addr);
    snprintf(addr, sizeof(addr), "%s@%s.%s.%s.com", l64, d63, d63, d58);
    assert_int_equal(strlen(addr), 255);
    assert_false(validate_email(out, sizeof(out), addr));

    /* A domain label over 63 characters. */
    snprintf(addr, sizeof(addr), "a@%s.com", d64);
    assert_false(validate_email(out, sizeof(out), addr));

    /* An output buffer too small is a refusal, not a truncated address. */
    char small[10] = "";
    assert_false(validate_email(small, sizeof(small), "alice@example.com"));

    free(l64);
    free(l65);
    free(d63);
    free(d57);
    free(d58);
    free(d64);
}

/* ------------------------------------------------------------------ names */

static void names_are_trimmed_and_checked(void **state)
{
    char out[512];
    assert_true(validate_name(out, sizeof(out), "  Acme Corp \t", 100));
    assert_string_equal(out, "Acme Corp");
    assert_true(validate_name(out, sizeof(out), "Zürich Ops", 100));
    assert_string_equal(out, "Zürich Ops");

    assert_false(validate_name(out, sizeof(out), "", 100));
    assert_false(validate_name(out, sizeof(out), " \t\r\n", 100));
    assert_false(validate_name(out, sizeof(out), NULL, 100));
    assert_false(validate_name(out, sizeof(out),
                               "Acme\x01"
                               "Corp",
                               100));
    assert_false(validate_name(out, sizeof(out), "Acme\nBcc: x@y.z", 100));
    assert_false(validate_name(out, sizeof(out), "Acme\tCorp", 100));
    assert_false(validate_name(out, sizeof(out), "Acme\x7f", 100));
    assert_false(validate_name(out, sizeof(out), "Acme\x1b[31mCorp", 100));

    /* An output buffer too small is a refusal, not a truncated name. */
    char small[5] = "";
    assert_false(validate_name(small, sizeof(small), "Acme Corp", 100));
}

static void name_length_counts_characters_not_bytes(void **state)
{
    char out[512], in[512];
    char *a100 = repeat('a', 100), *a101 = repeat('a', 101);
    assert_true(validate_name(out, sizeof(out), a100, 100));
    assert_false(validate_name(out, sizeof(out), a101, 100));

    /* 100 "é" are 200 bytes but 100 characters. */
    in[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(in, "\xc3\xa9");
    assert_true(validate_name(out, sizeof(out), in, 100));
    assert_string_equal(out, in);
    strcat(in, "\xc3\xa9");
    assert_false(validate_name(out, sizeof(out), in, 100));

    /* Surrounding spaces do not count. */
    snprintf(in, sizeof(in), "   %s   ", a100);
    assert_true(validate_name(out, sizeof(out), in, 100));
    assert_string_equal(out, a100);
    free(a100);
    free(a101);
}

/* ------------------------------------------------------------------ slugs */

static void assert_slug_shape(const char *slug)
{
    size_t n = strlen(slug);
    assert_true(n >= 1);
    if (n > 40)
        fail_msg("slug \"%s\" is %zu characters, over 40", slug, n);
    assert_int_equal(strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-"), n);
    assert_true(slug[0] != '-' && slug[n - 1] != '-');
    assert_null(strstr(slug, "--"));
}

static void slugs(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"Acme Corp.", "acme-corp"},
        {"  ---  ", "org"},
        {"", "org"},
        {"--Acme--", "acme"},
        {"Hello   World!!", "hello-world"},
        {"ACME 2024", "acme-2024"},
        {"Caf\xc3\xa9 Z\xc3\xbcrich", "caf-z-rich"},
        {"\xe6\x9d\xb1\xe4\xba\xac", "org"}, /* 東京 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        slugify(out, sizeof(out), cases[i].in);
        assert_string_equal(out, cases[i].out);
        assert_slug_shape(out);
    }
}

static void slug_is_capped_at_40_characters(void **state)
{
    char out[64], in[160], want[64];
    char *a50 = repeat('a', 50), *a39 = repeat('a', 39), *a38 = repeat('a', 38);

    slugify(out, sizeof(out), a50);
    assert_int_equal(strlen(out), 40);
    assert_slug_shape(out);

    snprintf(in, sizeof(in), "%s b", a38);
    snprintf(want, sizeof(want), "%s-b", a38); /* exactly 40 */
    slugify(out, sizeof(out), in);
    assert_string_equal(out, want);

    /* A word break right at the cap: the dash and the next letter must not push it over. */
    snprintf(in, sizeof(in), "%s bcd", a39);
    slugify(out, sizeof(out), in);
    assert_slug_shape(out);

    /* Long multi-word names stay within the cap wherever the breaks fall. */
    for (size_t w = 1; w <= 6; w++) {
        char word[8];
        snprintf(word, sizeof(word), "%.*s ", (int)w, "abcdef");
        in[0] = '\0';
        while (strlen(in) + strlen(word) < 100)
            strcat(in, word);
        slugify(out, sizeof(out), in);
        assert_slug_shape(out);
    }
    free(a50);
    free(a39);
    free(a38);
}

/* ------------------------------------------------------------------ tokens */

static void tokens_are_43_url_safe_characters_and_unique(void **state)
{
    char a[64], b[64];
    token_new(a, sizeof(a));
    token_new(b, sizeof(b));
    assert_int_equal(strlen(a), 43);
    assert_int_equal(strlen(b), 43);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_int_equal(strspn(a, alphabet), 43);
    assert_int_equal(strspn(b, alphabet), 43);
    assert_string_not_equal(a, b);

    /* 32 bytes of randomness behind it. */
    unsigned char bin[64];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(bin, sizeof(bin), a, 43, NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(n, 32);
}

static void token_hash_is_a_bytea_literal_of_sha256(void **state)
{
    char out[80], again[80], other[80];
    token_hash_bytea(out, sizeof(out), "abc");
    assert_string_equal(out, "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(strlen(out), 66);

    token_hash_bytea(again, sizeof(again), "abc");
    assert_string_equal(out, again);
    token_hash_bytea(other, sizeof(other), "abd");
    assert_string_not_equal(out, other);
    assert_int_equal(strspn(other + 2, "0123456789abcdef"), 64);
}

static void random_idents_are_lowercase_alnum(void **state)
{
    char a[32], b[32], none[4] = "xyz";
    random_ident(a, 24);
    random_ident(b, 24);
    assert_int_equal(strlen(a), 24);
    assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789"), 24);
    assert_string_not_equal(a, b);
    random_ident(none, 0);
    assert_string_equal(none, "");
}

static int setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_emails_are_normalised),
        cmocka_unit_test(invalid_emails_are_refused),
        cmocka_unit_test(email_length_limits),
        cmocka_unit_test(names_are_trimmed_and_checked),
        cmocka_unit_test(name_length_counts_characters_not_bytes),
        cmocka_unit_test(slugs),
        cmocka_unit_test(slug_is_capped_at_40_characters),
        cmocka_unit_test(tokens_are_43_url_safe_characters_and_unique),
        cmocka_unit_test(token_hash_is_a_bytea_literal_of_sha256),
        cmocka_unit_test(random_idents_are_lowercase_alnum),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
