/* Log scrubbing (bus/log.h): secret keys and secret-looking values are redacted at any depth,
 * ordinary values are kept; and the line sw_log actually writes to stderr is one JSON object
 * with time, level, actor and msg and no secret in it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "bus/log.h"

#define REDACTED "[redacted]"

static void secret_keys(void **state)
{
    static const char *secret[] = {
        "password",      "new_password",  "Password",         "passwd",        "secret",
        "client_secret", "token",         "access_token",     "refresh_token", "refresh",
        "Authorization", "authorization", "Cookie",           "Set-Cookie",    "api_key",
        "apikey",        "signature",     "Stripe-Signature", "password_hash", "credentials",
        "card",          "verify_link",
    };
    static const char *ordinary[] = {"email", "status", "tenant",  "path", "method", "actor",
                                     "msg",   "count",  "subject", "id",   "ip",     NULL};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (!sw_log_key_is_secret(secret[i]))
            fail_msg("key \"%s\" not treated as secret", secret[i]);
    for (size_t i = 0; ordinary[i]; i++)
        if (sw_log_key_is_secret(ordinary[i]))
            fail_msg("key \"%s\" treated as secret", ordinary[i]);
    assert_false(sw_log_key_is_secret(NULL));
}

static void secret_values(void **state)
{
    static const char *secret[] = {
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1XzEifQ.c2lnbmF0dXJl",
        "token was eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.abc in the header",
        "sk_live_51HxYzAbCdEf",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "rk_live_abc",
        "whsec_8f2d6a1b",
        "Bearer abc.def",
        "Basic dXNlcjpwYXNz",
        "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA",
        "https://user:hunter2@example.com/",
        "postgres://sw:pw@127.0.0.1:5432/sw",
        "https://app.example/verify?token=abc123",
        "https://app.example/x?Token=abc123",
    };
    static const char *ordinary[] = {
        "hello world",
        "alice@example.com",
        "https://example.com/health",
        "200",
        "",
        "GET /api/auth/me/",
        "t_abc123def456",
        "eyJ without dots",
        "sk_ is not enough",
        NULL,
    };
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (!sw_log_value_is_secret(secret[i]))
            fail_msg("value \"%s\" not treated as secret", secret[i]);
    for (size_t i = 0; ordinary[i]; i++)
        if (sw_log_value_is_secret(ordinary[i]))
            fail_msg("value \"%s\" treated as secret", ordinary[i]);
    assert_false(sw_log_value_is_secret(NULL));
}

static void scrub_redacts_at_any_depth_and_keeps_the_rest(void **state)
{
    json_t *in = json_loads("{"
                            " \"user\": {\"email\": \"a@example.com\", \"password\": \"hunter2\","
                            "            \"profile\": {\"api_key\": \"k-123\", \"age\": 40}},"
                            " \"items\": [{\"token\": \"t1\"}, {\"name\": \"ok\"}, \"Bearer xyz\","
                            "            [\"sk_live_deep\", \"plain\"]],"
                            " \"headers\": {\"Authorization\": \"Basic Zm9vOmJhcg==\","
                            "               \"Accept\": \"application/json\"},"
                            " \"credentials\": {\"user\": \"u\", \"pass\": \"p\"},"
                            " \"card\": 4242424242424242,"
                            " \"note\": \"webhook whsec_abc failed\","
                            " \"url\": \"https://u:p@host/\","
                            " \"count\": 3, \"ok\": true, \"refresh\": null"
                            "}",
                            0, NULL);
    assert_non_null(in);
    char *before = json_dumps(in, JSON_SORT_KEYS);
    json_t *out = sw_log_scrub(in);
    assert_non_null(out);

    /* The input is not modified. */
    char *after = json_dumps(in, JSON_SORT_KEYS);
    assert_string_equal(before, after);

    json_error_t err;
    const char *email, *password, *api_key, *token, *name, *bearer, *deep, *plain, *auth, *accept,
        *creds, *card, *note, *url;
    json_int_t age, count;
    int ok;
    json_t *refresh;
    assert_int_equal(json_unpack_ex(out, &err, JSON_STRICT,
                                    "{s:{s:s,s:s,s:{s:s,s:I}},s:[{s:s},{s:s},s,[s,s]],"
                                    "s:{s:s,s:s},s:s,s:s,s:s,s:s,s:I,s:b,s:o}",
                                    "user", "email", &email, "password", &password, "profile",
                                    "api_key", &api_key, "age", &age, "items", "token", &token,
                                    "name", &name, &bearer, &deep, &plain, "headers",
                                    "Authorization", &auth, "Accept", &accept, "credentials",
                                    &creds, "card", &card, "note", &note, "url", &url, "count",
                                    &count, "ok", &ok, "refresh", &refresh),
                     0);
    assert_string_equal(email, "a@example.com");
    assert_string_equal(password, REDACTED);
    assert_string_equal(api_key, REDACTED);
    assert_int_equal(age, 40);
    assert_string_equal(token, REDACTED);
    assert_string_equal(name, "ok");
    assert_string_equal(bearer, REDACTED);
    assert_string_equal(deep, REDACTED);
    assert_string_equal(plain, "plain");
    assert_string_equal(auth, REDACTED);
    assert_string_equal(accept, "application/json");
    assert_string_equal(creds, REDACTED);
    assert_string_equal(card, REDACTED);
    assert_string_equal(note, REDACTED);
    assert_string_equal(url, REDACTED);
    assert_int_equal(count, 3);
    assert_true(ok);
    assert_true(json_is_null(refresh));

    char *text = json_dumps(out, 0);
    static const char *leaks[] = {"hunter2",    "k-123", "t1\"",  "xyz", "sk_live",
                                  "Zm9vOmJhcg", "4242",  "whsec", "u:p@"};
    for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
        if (strstr(text, leaks[i]))
            fail_msg("\"%s\" survived scrubbing: %s", leaks[i], text);

    free(text);
    free(before);
    free(after);
    json_decref(out);
    json_decref(in);
}

/* ------------------------------------------------------------------ real output */

/* Runs fn with stderr going to a temporary file; returns what was written (owned). */
static char *capture_stderr(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    off_t n = lseek(fileno(tmp), 0, SEEK_END); /* write(2) bypasses the FILE position */
    assert_true(n >= 0);
    char *buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(pread(fileno(tmp), buf, (size_t)n, 0), n);
    fclose(tmp);
    return buf;
}

static void log_login(void)
{
    sw_log_ctx_set("req-42", "t_abc123def456");
    sw_log(SW_LOG_INFO, "login attempt", "email", "alice@example.com", "password",
           "hunter2-Secret!", "level", "debug", "header", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
           NULL);
    sw_log_ctx_clear();
}

static void log_below_level(void)
{
    sw_log(SW_LOG_DEBUG, "noisy detail", "k", "v", NULL);
    sw_logj(SW_LOG_DEBUG, "noisy json detail", json_pack("{s:i}", "n", 1));
}

static void log_secret_message(void)
{
    sw_log(SW_LOG_ERROR, "stripe said no to sk_live_abcdef", NULL);
}

static void emitted_line_is_json_without_secrets(void **state)
{
    char *out = capture_stderr(log_login);

    /* Exactly one line, newline-terminated. */
    size_t n = strlen(out);
    assert_true(n > 0);
    assert_int_equal(out[n - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + n - 1);
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "eyJhbGciOiJIUzI1NiJ9"));

    json_error_t err;
    json_t *line = json_loads(out, 0, &err);
    if (!line)
        fail_msg("not JSON (%s): %s", err.text, out);
    assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(line, "actor")), "sw-unit");
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "login attempt");
    assert_string_equal(json_string_value(json_object_get(line, "request_id")), "req-42");
    assert_string_equal(json_string_value(json_object_get(line, "tenant")), "t_abc123def456");
    assert_string_equal(json_string_value(json_object_get(line, "email")), "alice@example.com");
    assert_string_equal(json_string_value(json_object_get(line, "password")), REDACTED);
    assert_string_equal(json_string_value(json_object_get(line, "header")), REDACTED);

    /* "2024-01-02T03:04:05.678Z" */
    const char *when = json_string_value(json_object_get(line, "time"));
    assert_non_null(when);
    assert_int_equal(strlen(when), 24);
    assert_int_equal(when[10], 'T');
    assert_int_equal(when[23], 'Z');

    json_decref(line);
    free(out);
}

static void levels_filter_and_messages_are_scrubbed(void **state)
{
    char *out = capture_stderr(log_below_level);
    assert_string_equal(out, "");
    free(out);

    out = capture_stderr(log_secret_message);
    assert_null(strstr(out, "sk_live_abcdef"));
    json_t *line = json_loads(out, 0, NULL);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(line, "msg")), REDACTED);
    /* No request context left over from an earlier line. */
    assert_null(json_object_get(line, "request_id"));
    json_decref(line);
    free(out);
}

/* sw_log writes info and warn lines itself (without jansson, the edge logs every request): the
 * same bytes as sw_logj's line for the same fields, escapes, secrets and odd keys included. */
static const char *const odd_fields[][2] = {
    {"path", "/api/endpoints/?q=\"x\"\\y"},
    {"ctrl", "tab\there\nnew\rret\bbs\fff\x01\x1f\x7f"},
    {"unicode", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    {"bad_utf8", "\xc3\x28"},
    {"token", "abc"},
    {"note", "Bearer abc.def"},
    {"msg", "not the message"},
    {"empty", ""},
    {"none", NULL},
};

static void log_odd_direct(void)
{
    sw_log_ctx_set("rid-1", "t_odd");
    sw_log(SW_LOG_WARN, "odd \"line\" \xc3\xa9", odd_fields[0][0], odd_fields[0][1],
           odd_fields[1][0], odd_fields[1][1], odd_fields[2][0], odd_fields[2][1], odd_fields[3][0],
           odd_fields[3][1], odd_fields[4][0], odd_fields[4][1], odd_fields[5][0], odd_fields[5][1],
           odd_fields[6][0], odd_fields[6][1], odd_fields[7][0], odd_fields[7][1], odd_fields[8][0],
           odd_fields[8][1], NULL);
    sw_log_ctx_clear();
}

static void log_odd_jansson(void)
{
    json_t *f = json_object();
    for (size_t i = 0; i < sizeof(odd_fields) / sizeof(odd_fields[0]); i++)
        json_object_set_new(f, odd_fields[i][0],
                            odd_fields[i][1] ? json_string(odd_fields[i][1]) : json_null());
    sw_log_ctx_set("rid-1", "t_odd");
    sw_logj(SW_LOG_WARN, "odd \"line\" \xc3\xa9", f);
    sw_log_ctx_clear();
}

static void direct_line_equals_the_jansson_line(void **state)
{
    char *a = capture_stderr(log_odd_direct);
    char *b = capture_stderr(log_odd_jansson);
    /* The time differs: compare from the level on. */
    const char *la = strstr(a, "\"level\""), *lb = strstr(b, "\"level\"");
    assert_non_null(la);
    assert_non_null(lb);
    assert_string_equal(la, lb);
    assert_null(strstr(a, "abc.def"));
    assert_non_null(strstr(a, "\\u00E9"));
    free(a);
    free(b);
}

static int setup(void **state)
{
    sw_log_init("sw-unit", "info");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secret_keys),
        cmocka_unit_test(secret_values),
        cmocka_unit_test(scrub_redacts_at_any_depth_and_keeps_the_rest),
        cmocka_unit_test(emitted_line_is_json_without_secrets),
        cmocka_unit_test(levels_filter_and_messages_are_scrubbed),
        cmocka_unit_test(direct_line_equals_the_jansson_line),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
