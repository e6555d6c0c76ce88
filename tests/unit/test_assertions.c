/* Check assertions (actors/common/assertion.h): every source and comparison passing and
 * failing, the JSONPath subset, the error text a user reads, and the DRF-style errors of
 * validation, entry by entry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "actors/common/assertion.h"

static const char *body_json = "{\"status\":\"degraded\",\"items\":[{\"id\":7},{\"id\":8}],"
                               "\"empty\":\"\",\"none\":null,\"list\":[],\"n\":42.5}";
static const char *headers = "HTTP/1.1 301 Moved\r\nX-Trace: first\r\nLocation: /b\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "X-Trace: abc-123\r\nX-Empty:\r\n\r\n";

/* Checks one assertion given as JSON text against the fixed response; err gets the error. */
static bool one(const char *assertion_json, char *err, size_t len)
{
    json_t *a = json_loads(assertion_json, 0, NULL);
    assert_non_null(a);
    json_t *list = json_pack("[O]", a), *errors = NULL;
    json_t *norm = assertion_validate(list, &errors);
    if (!norm) {
        char *e = json_dumps(errors, JSON_COMPACT);
        fail_msg("not valid: %s: %s", assertion_json, e);
    }
    assertion_response r = {.status = 200,
                            .response_time_ms = 120.4,
                            .body = body_json,
                            .body_len = strlen(body_json),
                            .headers = headers};
    bool ok = assertion_check(norm, &r, err, len);
    json_decref(norm);
    json_decref(list);
    json_decref(a);
    return ok;
}

static void pass(const char *j)
{
    char err[300];
    if (!one(j, err, sizeof(err)))
        fail_msg("expected to hold: %s (%s)", j, err);
}

static void fails(const char *j, const char *expected_err)
{
    char err[300];
    if (one(j, err, sizeof(err)))
        fail_msg("expected to fail: %s", j);
    if (expected_err)
        assert_string_equal(err, expected_err);
}

#define A(src, prop, cmp, tgt)                                                                     \
    "{\"source\":\"" src "\",\"property\":" prop ",\"comparison\":\"" cmp "\",\"target\":" tgt "}"

static void test_status_code(void **state)
{
    (void)state;
    pass(A("status_code", "null", "equals", "200"));
    pass(A("status_code", "null", "equals", "\"200\""));
    fails(A("status_code", "null", "equals", "201"),
          "assertion 1 failed: status_code equals 201 (got 200)");
    pass(A("status_code", "null", "not_equals", "500"));
    fails(A("status_code", "null", "not_equals", "200"), NULL);
    pass(A("status_code", "null", "less_than", "300"));
    fails(A("status_code", "null", "less_than", "200"), NULL);
    pass(A("status_code", "null", "greater_than", "199"));
    fails(A("status_code", "null", "greater_than", "200"), NULL);
    pass(A("status_code", "null", "matches", "\"^2[0-9]{2}$\""));
    fails(A("status_code", "null", "not_matches", "\"^2\""), NULL);
    pass(A("status_code", "null", "exists", "null"));
    fails(A("status_code", "null", "not_exists", "null"), NULL);
}

static void test_response_time(void **state)
{
    (void)state;
    pass(A("response_time_ms", "null", "less_than", "500"));
    fails(A("response_time_ms", "null", "less_than", "100"),
          "assertion 1 failed: response_time_ms less_than 100 (got 120)");
    pass(A("response_time_ms", "null", "greater_than", "100"));
    fails(A("response_time_ms", "null", "greater_than", "1000"), NULL);
}

static void test_body(void **state)
{
    (void)state;
    pass(A("body", "null", "contains", "\"degraded\""));
    fails(A("body", "null", "contains", "\"Welcome\""), NULL);
    pass(A("body", "null", "not_contains", "\"login\""));
    fails(A("body", "null", "not_contains", "\"items\""), NULL);
    pass(A("body", "null", "matches", "\"\\\"id\\\":[0-9]+\""));
    fails(A("body", "null", "matches", "\"^<html\""), NULL);
    pass(A("body", "null", "not_matches", "\"^<html\""));
    pass(A("body", "null", "not_empty", "null"));
    fails(A("body", "null", "is_empty", "null"), NULL);
    fails(A("body", "null", "equals", "\"x\""), NULL);
    pass(A("body", "null", "not_equals", "\"x\""));
}

static void test_json_body(void **state)
{
    (void)state;
    pass(A("json_body", "\"$.status\"", "equals", "\"degraded\""));
    fails(A("json_body", "\"$.status\"", "equals", "\"ok\""),
          "assertion 1 failed: json_body $.status equals \"ok\" (got \"degraded\")");
    pass(A("json_body", "\"$.items[1].id\"", "equals", "8"));
    pass(A("json_body", "\"$['items'][0]['id']\"", "less_than", "8"));
    pass(A("json_body", "\"$.n\"", "greater_than", "42"));
    pass(A("json_body", "\"$.items[0]\"", "equals", "\"{\\\"id\\\":7}\""));
    pass(A("json_body", "\"$.items\"", "contains", "\"\\\"id\\\":8\""));
    pass(A("json_body", "\"$.status\"", "exists", "null"));
    fails(A("json_body", "\"$.nope\"", "exists", "null"),
          "assertion 1 failed: json_body $.nope exists (got nothing)");
    pass(A("json_body", "\"$.items[5]\"", "not_exists", "null"));
    fails(A("json_body", "\"$.status\"", "not_exists", "null"), NULL);
    pass(A("json_body", "\"$.empty\"", "is_empty", "null"));
    pass(A("json_body", "\"$.none\"", "is_empty", "null"));
    pass(A("json_body", "\"$.list\"", "is_empty", "null"));
    fails(A("json_body", "\"$.status\"", "is_empty", "null"), NULL);
    pass(A("json_body", "\"$.status\"", "not_empty", "null"));
    fails(A("json_body", "\"$.empty\"", "not_empty", "null"), NULL);
    pass(A("json_body", "\"$.status\"", "matches", "\"^deg\""));
    fails(A("json_body", "\"$.status\"", "not_matches", "\"^deg\""), NULL);
    pass(A("json_body", "\"$.status\"", "not_contains", "\"ok\""));
    fails(A("json_body", "\"$.status\"", "contains", "\"ok\""), NULL);
    pass(A("json_body", "\"$.missing\"", "not_equals", "\"ok\""));
    fails(A("json_body", "\"$.missing\"", "less_than", "3"), NULL);
}

static void test_header(void **state)
{
    (void)state;
    /* Only the last response's headers count (redirects). */
    pass(A("header", "\"x-trace\"", "equals", "\"abc-123\""));
    fails(A("header", "\"X-Trace\"", "equals", "\"first\""),
          "assertion 1 failed: header X-Trace equals \"first\" (got \"abc-123\")");
    pass(A("header", "\"Content-Type\"", "contains", "\"json\""));
    fails(A("header", "\"Location\"", "exists", "null"), NULL);
    pass(A("header", "\"Location\"", "not_exists", "null"));
    pass(A("header", "\"X-Empty\"", "is_empty", "null"));
    pass(A("header", "\"X-Trace\"", "not_empty", "null"));
}

static void test_first_failure_is_named(void **state)
{
    (void)state;
    char err[300];
    json_t *list = json_loads("[" A("status_code", "null", "equals", "200") "," A(
                                  "json_body", "\"$.status\"", "equals", "\"ok\"") "]",
                              0, NULL);
    json_t *errors = NULL, *norm = assertion_validate(list, &errors);
    assert_non_null(norm);
    assertion_response r = {.status = 200, .body = body_json, .body_len = strlen(body_json)};
    assert_false(assertion_check(norm, &r, err, sizeof(err)));
    assert_string_equal(err,
                        "assertion 2 failed: json_body $.status equals \"ok\" (got \"degraded\")");
    /* A body that is not JSON. */
    r.body = "<html>";
    r.body_len = 6;
    assert_false(assertion_check(norm, &r, err, sizeof(err)));
    assert_string_equal(
        err, "assertion 2 failed: json_body $.status equals \"ok\" (got a body that is not JSON)");
    json_decref(norm);
    json_decref(list);
}

static void test_validation_errors(void **state)
{
    (void)state;
    json_t *errors = NULL;
    json_t *list = json_loads(
        "[{\"source\":\"status_code\",\"comparison\":\"equals\",\"target\":200},"
        " {\"source\":\"status_code\",\"comparison\":\"roughly\",\"target\":200},"
        " {\"source\":\"json_body\",\"comparison\":\"exists\"},"
        " {\"source\":\"json_body\",\"property\":\"status\",\"comparison\":\"exists\"},"
        " {\"source\":\"body\",\"property\":\"x\",\"comparison\":\"contains\"},"
        " {\"source\":\"body\",\"comparison\":\"matches\",\"target\":\"([\"},"
        " {\"source\":\"status_code\",\"comparison\":\"less_than\",\"target\":\"abc\"},"
        " {\"source\":\"status_code\",\"comparison\":\"exists\",\"target\":1},"
        " \"nope\"]",
        0, NULL);
    assert_null(assertion_validate(list, &errors));
    char *text = json_dumps(errors, JSON_COMPACT);
    assert_string_equal(
        text, "[{},{\"comparison\":[\"\\\"roughly\\\" is not a valid choice.\"]},"
              "{\"property\":[\"This field is required.\"]},"
              "{\"property\":[\"Enter a JSONPath like $.status or $.items[0].id.\"]},"
              "{\"property\":[\"Only the json_body and header sources take a property.\"],"
              "\"target\":[\"This field is required.\"]},"
              "{\"target\":[\"Not a valid regular expression.\"]},"
              "{\"target\":[\"A valid number is required.\"]},"
              "{\"target\":[\"The exists comparison takes no target.\"]},"
              "{\"non_field_errors\":[\"Invalid data. Expected a dictionary.\"]}]");
    free(text);
    json_decref(errors);
    json_decref(list);

    list = json_loads("{}", 0, NULL);
    assert_null(assertion_validate(list, &errors));
    assert_string_equal(json_string_value(json_array_get(errors, 0)), "Expected a list of items.");
    json_decref(errors);
    json_decref(list);

    list = json_array();
    for (int i = 0; i < 11; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "source", "body", "comparison",
                                              "not_empty"));
    assert_null(assertion_validate(list, &errors));
    json_decref(errors);
    json_decref(list);
}

static void test_paths(void **state)
{
    (void)state;
    assert_true(assertion_path_valid("$"));
    assert_true(assertion_path_valid("$.a.b[0].c"));
    assert_true(assertion_path_valid("$['a b'][2]"));
    assert_false(assertion_path_valid("a.b"));
    assert_false(assertion_path_valid("$.a["));
    assert_false(assertion_path_valid("$..a"));
    assert_false(assertion_path_valid("$.a[*]"));
    json_t *doc = json_loads("{\"a\":{\"b\":[{\"c\":\"x\"}]}}", 0, NULL);
    assert_string_equal(json_string_value(assertion_json_path(doc, "$.a.b[0].c")), "x");
    assert_null(assertion_json_path(doc, "$.a.b[1].c"));
    assert_null(assertion_json_path(doc, "$.a.c"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_code),      cmocka_unit_test(test_response_time),
        cmocka_unit_test(test_body),             cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_header),           cmocka_unit_test(test_first_failure_is_named),
        cmocka_unit_test(test_validation_errors), cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
