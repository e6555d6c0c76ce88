/* The one status enum (bus/status.h): each status reaches the client as the HTTP code DESIGN §5
 * promises, codes map back to the same status, and out-of-range values degrade to a 500. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bus/status.h"

static const struct {
    sw_status st;
    int http;
    const char *name;
} expected[] = {
    {SW_OK, 200, "SW_OK"},
    {SW_CREATED, 201, "SW_CREATED"},
    {SW_NO_CONTENT, 204, "SW_NO_CONTENT"},
    {SW_RESET_CONTENT, 205, "SW_RESET_CONTENT"},
    {SW_EINVAL, 400, "SW_EINVAL"},
    {SW_EUNAUTH, 401, "SW_EUNAUTH"},
    {SW_EFORBIDDEN, 403, "SW_EFORBIDDEN"},
    {SW_ENOTFOUND, 404, "SW_ENOTFOUND"},
    {SW_EMETHOD, 405, "SW_EMETHOD"},
    {SW_ECONFLICT, 409, "SW_ECONFLICT"},
    {SW_ETOOLARGE, 413, "SW_ETOOLARGE"},
    {SW_EMEDIATYPE, 415, "SW_EMEDIATYPE"},
    {SW_ETHROTTLED, 429, "SW_ETHROTTLED"},
    {SW_EINTERNAL, 500, "SW_EINTERNAL"},
    {SW_EUPSTREAM, 502, "SW_EUPSTREAM"},
    {SW_EUNAVAILABLE, 503, "SW_EUNAVAILABLE"},
    {SW_ETIMEOUT, 504, "SW_ETIMEOUT"},
};

static void every_status_has_its_http_code(void **state)
{
    /* A status added to the map without a row here fails this test. */
    assert_int_equal(SW__STATUS_COUNT, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        assert_int_equal(sw_status_http(expected[i].st), expected[i].http);
        assert_string_equal(sw_status_name(expected[i].st), expected[i].name);
        assert_int_equal(sw_status_is_error(expected[i].st), expected[i].http >= 400);
        const char *msg = sw_status_str(expected[i].st);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
    }
}

static void client_messages_are_drf_like(void **state)
{
    assert_string_equal(sw_status_str(SW_ENOTFOUND), "Not found.");
    assert_string_equal(sw_status_str(SW_EUNAUTH),
                        "Authentication credentials were not provided or are invalid.");
    assert_string_equal(sw_status_str(SW_ETHROTTLED), "Request was throttled.");
    assert_string_equal(sw_status_str(SW_EFORBIDDEN),
                        "You do not have permission to perform this action.");
}

static void http_codes_round_trip(void **state)
{
    for (unsigned i = 0; i < SW__STATUS_COUNT; i++) {
        sw_status st = (sw_status)i;
        assert_int_equal(sw_status_from_http(sw_status_http(st)), st);
    }
}

static void unknown_values_are_safe(void **state)
{
    static const int codes[] = {0, -1, 100, 302, 418, 422, 501, 599, 999, 200000};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_int_equal(sw_status_from_http(codes[i]), SW_EINTERNAL);

    static const unsigned bad[] = {SW__STATUS_COUNT, SW__STATUS_COUNT + 1, 1000, 0xffffffffu};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sw_status st = (sw_status)bad[i];
        assert_int_equal(sw_status_http(st), 500);
        assert_string_equal(sw_status_str(st), sw_status_str(SW_EINTERNAL));
        assert_string_equal(sw_status_name(st), "SW_UNKNOWN");
        assert_true(sw_status_is_error(st));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_status_has_its_http_code),
        cmocka_unit_test(client_messages_are_drf_like),
        cmocka_unit_test(http_codes_round_trip),
        cmocka_unit_test(unknown_values_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
