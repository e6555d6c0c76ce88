/* The REST contract itself (http/openapi.yaml): GET /api/schema/ serves exactly the document
 * the build embedded, /api/docs/ renders it under a CSP of its own, and responses the
 * document promises headers for carry them (WWW-Authenticate on every 401). That every response
 * of the suites matches the document is checked afterwards by web/scripts/contract.mjs over the
 * exchanges tests/support/it.c logs. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SW_OPENAPI_JSON
#error "SW_OPENAPI_JSON (the build's http/openapi.json) must be defined by the build"
#endif

static void test_schema_is_the_document(void **state)
{
    (void)state;
    json_error_t err;
    json_t *doc = json_load_file(SW_OPENAPI_JSON, 0, &err);
    if (!doc)
        fail_msg("%s: %s", SW_OPENAPI_JSON, err.text);
    it_resp *r = it_http("GET", "/api/schema/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(it_header(r, "Content-Type"), "application/json"));
    assert_non_null(r->body);
    assert_true(json_equal(r->body, doc));
    assert_string_equal(json_string_value(json_object_get(r->body, "openapi")), "3.1.0");
    /* Every route of the edge is in it, these two included. */
    json_t *paths = json_object_get(r->body, "paths");
    const char *want[] = {"/api/auth/register/",
                          "/api/endpoints/{id}/checks/",
                          "/api/billing/webhook/",
                          "/api/schema/",
                          "/api/docs/",
                          "/health/ready/",
                          "/metrics"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!json_object_get(paths, want[i]))
            fail_msg("the document has no %s", want[i]);
    it_resp_free(r);
    /* Without the trailing slash too; other methods are 405 with Allow. */
    r = it_http("GET", "/api/schema", NULL, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    r = it_http("POST", "/api/schema/", "{}", "Content-Type: application/json", NULL);
    assert_int_equal(r->status, 405);
    assert_string_equal(it_header(r, "Allow"), "GET");
    it_resp_free(r);
    json_decref(doc);
}

static void test_docs_page(void **state)
{
    (void)state;
    it_resp *r = it_http("GET", "/api/docs/", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(it_header(r, "Content-Type"), "text/html"));
    const char *csp = it_header(r, "Content-Security-Policy");
    assert_non_null(csp);
    /* Its own policy: scripts from the edge only, inline styles for Redoc, no framing. */
    assert_non_null(strstr(csp, "script-src 'self';"));
    assert_null(strstr(csp, "'unsafe-eval'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_non_null(strstr(r->raw, "/api/schema/"));
    assert_null(strstr(r->raw, "cdn."));
    assert_null(strstr(r->raw, "unpkg"));
    assert_non_null(it_header(r, "X-Request-Id"));
    it_resp_free(r);
}

static void test_every_401_names_its_scheme(void **state)
{
    (void)state;
    /* From the edge (no token) and from sw-auth (bad credentials, a bad refresh token). */
    it_resp *r = it_http("GET", "/api/auth/me/", NULL, NULL);
    assert_int_equal(r->status, 401);
    assert_string_equal(it_header(r, "WWW-Authenticate"), "Bearer realm=\"api\"");
    it_resp_free(r);
    r = it_post_json(
        "/api/auth/token/",
        json_pack("{s:s,s:s}", "email", it_fresh_email("nobody"), "password", IT_PASSWORD), NULL);
    assert_int_equal(r->status, 401);
    assert_string_equal(json_string_value(json_object_get(r->body, "code")), "no_active_account");
    assert_string_equal(it_header(r, "WWW-Authenticate"), "Bearer realm=\"api\"");
    it_resp_free(r);
    r = it_post_json("/api/auth/token/refresh/", json_pack("{s:s}", "refresh", "not-a-token"),
                     NULL);
    assert_int_equal(r->status, 401);
    assert_string_equal(it_header(r, "WWW-Authenticate"), "Bearer realm=\"api\"");
    it_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_is_the_document),
        cmocka_unit_test(test_docs_page),
        cmocka_unit_test(test_every_401_names_its_scheme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
