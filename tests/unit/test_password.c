/* The password rule (actors/common/password.h, DESIGN §5): the message a user sees for each
 * broken rule, common and email-like passwords refused, strong ones accepted; and Argon2id
 * hashing round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "actors/common/password.h"

#define MSG_SHORT "This password is too short. It must contain at least 12 characters."
#define MSG_LONG "This password is too long. It must contain at most 128 characters."
#define MSG_UPPER "Password must contain at least one uppercase letter."
#define MSG_LOWER "Password must contain at least one lowercase letter."
#define MSG_DIGIT "Password must contain at least one number."
#define MSG_SPECIAL "Password must contain at least one special character."
#define MSG_COMMON "This password is too common."
#define MSG_EMAIL "The password is too similar to the email address."

static bool has_message(const json_t *errors, const char *msg)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) if (json_is_string(e) &&
                                         strcmp(json_string_value(e), msg) == 0) return true;
    return false;
}

/* Asserts pw is refused with exactly the messages given (NULL-terminated). */
static void assert_refused_with(const char *pw, const char *email, ...)
{
    json_t *errors = json_array();
    bool ok = password_check(pw, email, errors);
    char *dump = json_dumps(errors, JSON_COMPACT);
    size_t expected = 0;
    va_list ap;
    va_start(ap, email);
    for (const char *m = va_arg(ap, const char *); m; m = va_arg(ap, const char *)) {
        expected++;
        if (!has_message(errors, m))
            fail_msg("\"%.40s\": missing \"%s\" in %s", pw, m, dump);
    }
    va_end(ap);
    if (ok)
        fail_msg("\"%.40s\" was accepted", pw);
    if (json_array_size(errors) != expected)
        fail_msg("\"%.40s\": expected %zu message(s), got %s", pw, expected, dump);
    free(dump);
    json_decref(errors);
}

static void assert_accepted(const char *pw, const char *email)
{
    json_t *errors = json_array();
    bool ok = password_check(pw, email, errors);
    if (!ok || json_array_size(errors) != 0) {
        char *dump = json_dumps(errors, JSON_COMPACT);
        fail_msg("\"%.40s\" refused: %s", pw, dump);
    }
    json_decref(errors);
}

static void each_rule_has_its_message(void **state)
{
    assert_refused_with("Ab1!xyz", NULL, MSG_SHORT, NULL);
    assert_refused_with("correct-horse7-battery", NULL, MSG_UPPER, NULL);
    assert_refused_with("CORRECT-HORSE7-BATTERY", NULL, MSG_LOWER, NULL);
    assert_refused_with("correct-Horse-battery", NULL, MSG_DIGIT, NULL);
    assert_refused_with("correctHorse7battery", NULL, MSG_SPECIAL, NULL);
    assert_refused_with("abc", NULL, MSG_SHORT, MSG_UPPER, MSG_DIGIT, MSG_SPECIAL, MSG_COMMON,
                        NULL);
}

static void appends_to_existing_errors(void **state)
{
    json_t *errors = json_pack("[s]", "earlier field error");
    assert_false(password_check("short", NULL, errors));
    assert_true(json_array_size(errors) > 1);
    assert_string_equal(json_string_value(json_array_get(errors, 0)), "earlier field error");
    json_decref(errors);

    /* A good password leaves an already non-empty array alone and still says yes. */
    errors = json_pack("[s]", "earlier field error");
    assert_true(password_check("correct-Horse7-battery", NULL, errors));
    assert_int_equal(json_array_size(errors), 1);
    json_decref(errors);
}

/* 12 characters cycling through every class, no dictionary word in it. */
static void fill_strong(char *out, size_t n)
{
    static const char cycle[] = "Kr9#vbN2$mzL";
    for (size_t i = 0; i < n; i++)
        out[i] = cycle[i % (sizeof(cycle) - 1)];
    out[n] = '\0';
}

static void length_limits(void **state)
{
    char pw[200];
    fill_strong(pw, 12);
    assert_accepted(pw, NULL);
    fill_strong(pw, 11);
    assert_refused_with(pw, NULL, MSG_SHORT, NULL);
    fill_strong(pw, 128);
    assert_accepted(pw, NULL);
    fill_strong(pw, 129);
    assert_refused_with(pw, NULL, MSG_LONG, NULL);
    fill_strong(pw, 199);
    assert_refused_with(pw, NULL, MSG_LONG, NULL);
}

/* Refuses each of the passwords as too common, reporting every one that slips through. */
static void assert_all_common(const char *const *pws, size_t n)
{
    char accepted[512] = "";
    for (size_t i = 0; i < n; i++) {
        json_t *errors = json_array();
        if (password_check(pws[i], NULL, errors) || !has_message(errors, MSG_COMMON))
            snprintf(accepted + strlen(accepted), sizeof(accepted) - strlen(accepted), " \"%s\"",
                     pws[i]);
        json_decref(errors);
    }
    if (accepted[0])
        fail_msg("not refused as too common:%s", accepted);
}

static void common_passwords_are_refused(void **state)
{
    static const char *const common[] = {
        "Password123!",       "Welcome2024!!", "Qwerty123456!",
        "PasswordPassword1!", "Letmein!2024",  "P@$$w0rd2222",
    };
    assert_all_common(common, sizeof(common) / sizeof(common[0]));
    /* Nothing else is wrong with them: "too common" is the only message. */
    assert_refused_with("Password123!", NULL, MSG_COMMON, NULL);
}

/* The substitutions the rule undoes (@->a, 0->o) must not stop it seeing the word when digits
 * or '!' follow it: "P@ssw0rd1234" is the brief's example of a common password. */
static void leet_common_passwords_are_refused(void **state)
{
    static const char *const leet[] = {
        "P@ssw0rd1234",
        "P@ssw0rd2024!",
        "P@ssw0rd!!!!",
        "W3lc0me12345!",
    };
    assert_all_common(leet, sizeof(leet) / sizeof(leet[0]));
}

/* The same when the substituted letter is the word's first or last one: "Welcom3" is
 * "welcome" whether or not digits follow it. */
static void leet_at_the_word_edges_is_refused(void **state)
{
    static const char *const leet[] = {
        "Welcom3!2024",
        "Hell0!123456",
        "Sunshin3!2024",
    };
    assert_all_common(leet, sizeof(leet) / sizeof(leet[0]));
}

static void password_like_the_email_is_refused(void **state)
{
    assert_refused_with("Jonathan.Smith#2024", "jonathan.smith@example.com", MSG_EMAIL, NULL);
    assert_refused_with("xX-JONATHANSMITH-9", "Jonathan.Smith@Example.com", MSG_EMAIL, NULL);
    /* The same password is fine for somebody else. */
    assert_accepted("Jonathan.Smith#2024", "maria@example.com");
    /* Very short local parts are not compared (everyone's password would contain "al"). */
    assert_accepted("correct-Horse7-battery-al", "al@example.com");
}

/* Passwords of the breached-password list (data/common-passwords.txt) that satisfy every
 * composition rule and no common word: refused as themselves and under the usual decorations
 * (capital first letter, a symbol or digits after it). Their neighbours are not. */
static void breached_passwords_are_refused(void **state)
{
    (void)state;
    assert_refused_with("Mailcreated5240!", NULL, MSG_COMMON, NULL);
    assert_refused_with("#Polniypizdec0211", NULL, MSG_COMMON, NULL);
    assert_refused_with("Sojdlg123aljg!2024", NULL, MSG_COMMON, NULL);
    json_t *errors = json_array();
    assert_true(password_check("Mailcreated5240!-Violet-Tram", NULL, errors));
    assert_true(password_check("Sturdy-Lamp-42x", NULL, errors));
    json_decref(errors);
}

static void strong_password_is_accepted(void **state)
{
    assert_accepted("correct-Horse7-battery", NULL);
    assert_accepted("correct-Horse7-battery", "alice@example.com");
    assert_accepted("Tr0ub4dor&3-xkcd", NULL);
    assert_accepted("GrüneÄpfel42xy", NULL); /* non-ASCII counts as special */
}

static void hash_and_verify_round_trip(void **state)
{
    char hash[PASSWORD_HASH_LEN];
    char again[PASSWORD_HASH_LEN];
    assert_true(password_hash(hash, "correct-Horse7-battery"));
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_null(strstr(hash, "correct-Horse7-battery"));

    assert_true(password_verify(hash, "correct-Horse7-battery"));
    assert_false(password_verify(hash, "correct-Horse7-batterY"));
    assert_false(password_verify(hash, ""));

    /* Salted: the same password never hashes the same twice. */
    assert_true(password_hash(again, "correct-Horse7-battery"));
    assert_string_not_equal(hash, again);
    assert_true(password_verify(again, "correct-Horse7-battery"));
}

static void verify_without_hash_or_with_junk_is_false(void **state)
{
    assert_false(password_verify(NULL, "correct-Horse7-battery"));
    assert_false(password_verify(NULL, ""));
    assert_false(password_verify("", "correct-Horse7-battery"));
    assert_false(password_verify("not-a-hash", "not-a-hash"));
}

static int setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_rule_has_its_message),
        cmocka_unit_test(breached_passwords_are_refused),
        cmocka_unit_test(appends_to_existing_errors),
        cmocka_unit_test(length_limits),
        cmocka_unit_test(common_passwords_are_refused),
        cmocka_unit_test(leet_common_passwords_are_refused),
        cmocka_unit_test(leet_at_the_word_edges_is_refused),
        cmocka_unit_test(password_like_the_email_is_refused),
        cmocka_unit_test(strong_password_is_accepted),
        cmocka_unit_test(hash_and_verify_round_trip),
        cmocka_unit_test(verify_without_hash_or_with_junk_is_false),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
