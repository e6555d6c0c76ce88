/* actors/common/role: role names, ranks and the 403 a route answers to a role too low. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "actors/common/role.h"

static void test_parse_and_name(void **state)
{
    (void)state;
    assert_int_equal(sw_role_parse("owner"), SW_ROLE_OWNER);
    assert_int_equal(sw_role_parse("admin"), SW_ROLE_ADMIN);
    assert_int_equal(sw_role_parse("member"), SW_ROLE_MEMBER);
    assert_int_equal(sw_role_parse("viewer"), SW_ROLE_VIEWER);
    assert_int_equal(sw_role_parse("Owner"), SW_ROLE_NONE);
    assert_int_equal(sw_role_parse("superuser"), SW_ROLE_NONE);
    assert_int_equal(sw_role_parse(""), SW_ROLE_NONE);
    assert_int_equal(sw_role_parse(NULL), SW_ROLE_NONE);
    assert_string_equal(sw_role_name(SW_ROLE_VIEWER), "viewer");
    assert_string_equal(sw_role_name(SW_ROLE_OWNER), "owner");
    assert_null(sw_role_name(SW_ROLE_NONE));
    assert_true(SW_ROLE_VIEWER < SW_ROLE_MEMBER && SW_ROLE_MEMBER < SW_ROLE_ADMIN &&
                SW_ROLE_ADMIN < SW_ROLE_OWNER);
}

static sw_status require(const char *tenant, const char *role, sw_role min, bus_reply *rep)
{
    bus_req req = {.subject = "sw.v1.test",
                   .request_id = "",
                   .tenant = tenant,
                   .user = tenant ? "3f0c2a6e-1111-4222-8333-444455556666" : NULL,
                   .role = role};
    memset(rep, 0, sizeof(*rep));
    return actor_require_role(&req, rep, min);
}

static void test_require(void **state)
{
    (void)state;
    bus_reply rep;
    /* Every role at or above the minimum passes and leaves the reply alone. */
    const char *roles[] = {"viewer", "member", "admin", "owner"};
    for (int r = SW_ROLE_VIEWER; r <= SW_ROLE_OWNER; r++) {
        for (int min = SW_ROLE_VIEWER; min <= SW_ROLE_OWNER; min++) {
            sw_status st = require("t_abc", roles[r - 1], (sw_role)min, &rep);
            if (r >= min) {
                assert_int_equal(st, SW_OK);
                assert_null(rep.body);
            } else {
                assert_int_equal(st, SW_EFORBIDDEN);
                assert_int_equal(sw_status_http(st), 403);
                const char *detail = json_string_value(json_object_get(rep.body, "detail"));
                assert_non_null(detail);
                assert_non_null(strstr(detail, sw_role_name((sw_role)min)));
                assert_string_equal(json_string_value(json_object_get(rep.body, "code")),
                                    "role_required");
            }
            bus_reply_clear(&rep);
        }
    }
    /* No tenant (unauthenticated), no role, or a forged name: below everything. */
    assert_int_equal(require(NULL, "owner", SW_ROLE_VIEWER, &rep), SW_EFORBIDDEN);
    bus_reply_clear(&rep);
    assert_int_equal(require("t_abc", NULL, SW_ROLE_VIEWER, &rep), SW_EFORBIDDEN);
    bus_reply_clear(&rep);
    assert_int_equal(require("t_abc", "root", SW_ROLE_VIEWER, &rep), SW_EFORBIDDEN);
    bus_reply_clear(&rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_name),
        cmocka_unit_test(test_require),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
