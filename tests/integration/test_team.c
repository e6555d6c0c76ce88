/* Roles, through the real edge (issue 21): a table of role x route -> status, each role's
 * user a real login; a role too low gets 403 {"detail"}, another tenant's object stays 404
 * whatever the role. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "actors/common/password.h"

enum { VIEWER, MEMBER, ADMIN, OWNER, NROLES };
static const char *const role_names[NROLES] = {"viewer", "member", "admin", "owner"};

typedef struct org {
    char *id;
    char email[NROLES][160];
    char auth[NROLES][1200]; /* "Authorization: Bearer …" per role */
} org;

static void login_into(char *auth, size_t len, const char *email)
{
    it_resp *r = it_login(email, IT_PASSWORD);
    if (r->status != 200)
        fail_msg("login %s: %ld %s", email, r->status, r->raw);
    snprintf(auth, len, "Authorization: Bearer %s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
}

/* A verified user of role in tenant, written as sw-auth writes one (tenant users table and
 * the service-wide directory). */
static void user_add(const char *tenant, const char *role, char *email, size_t len)
{
    char hash[PASSWORD_HASH_LEN], sql[512];
    snprintf(email, len, "%s", it_fresh_email(role));
    assert_true(password_hash(hash, IT_PASSWORD));
    snprintf(sql, sizeof(sql),
             "WITH u AS (INSERT INTO \"%s\".users (email, password_hash, role, verified_at)"
             " VALUES ($1, $2, $3, now()) RETURNING id)"
             " INSERT INTO public.user_directory (email, tenant_id, user_id)"
             " SELECT $1, $4, id FROM u",
             tenant);
    const char *p[] = {email, hash, role, tenant};
    json_decref(it_sql(sql, 4, p));
}

static void org_new(org *o, const char *name)
{
    o->id = it_signup_verified(o->email[OWNER], sizeof(o->email[OWNER]), name);
    it_set_plan(o->id, "pro");
    for (int r = VIEWER; r < OWNER; r++)
        user_add(o->id, role_names[r], o->email[r], sizeof(o->email[r]));
    for (int r = VIEWER; r < NROLES; r++)
        login_into(o->auth[r], sizeof(o->auth[r]), o->email[r]);
}

static it_resp *api(const char *auth, const char *method, const char *path, const char *body)
{
    return it_http(method, path, body, auth, "Content-Type: application/json", NULL);
}

static char *endpoint_new(const org *o)
{
    static int n;
    char body[128];
    n++;
    snprintf(body, sizeof(body), "{\"url\":\"http://1.0.%d.%d/\"}", (n / 200) % 250, n % 200 + 1);
    it_resp *r = api(o->auth[OWNER], "POST", "/api/endpoints/", body);
    if (r->status != 201)
        fail_msg("create: %ld %s", r->status, r->raw);
    char *id = strdup(json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    return id;
}

/* One route: method, path ("{id}" is a fresh endpoint of the caller's organization, "{other}"
 * one of another organization), body ("{url}": {"url": <a URL not used yet>}), and the status
 * each role gets (-1: not checked here). */
typedef struct route_case {
    const char *method, *path, *body;
    int status[NROLES];
} route_case;

static const route_case cases[] = {
    {"GET", "/api/auth/me/", NULL, {200, 200, 200, 200}},
    {"GET", "/api/endpoints/", NULL, {200, 200, 200, 200}},
    {"POST", "/api/endpoints/", "{url}", {403, 201, 201, 201}},
    {"GET", "/api/endpoints/{id}/", NULL, {200, 200, 200, 200}},
    {"PUT", "/api/endpoints/{id}/", "{url}", {403, 200, 200, 200}},
    {"PATCH", "/api/endpoints/{id}/", "{\"name\":\"renamed\"}", {403, 200, 200, 200}},
    {"DELETE", "/api/endpoints/{id}/", NULL, {403, 204, 204, 204}},
    {"GET", "/api/endpoints/{id}/checks/", NULL, {200, 200, 200, 200}},
    {"GET", "/api/endpoints/{id}/uptime/", NULL, {200, 200, 200, 200}},
    /* Heartbeat routes on a probed endpoint: the role first, then 404 (not a heartbeat). */
    {"GET", "/api/endpoints/{id}/pings/", NULL, {404, 404, 404, 404}},
    {"POST", "/api/endpoints/{id}/rotate-ping-url/", NULL, {403, 404, 404, 404}},
    /* Another organization's object: 404 for whoever may use the route at all. */
    {"GET", "/api/endpoints/{other}/", NULL, {404, 404, 404, 404}},
    {"PATCH", "/api/endpoints/{other}/", "{\"name\":\"x\"}", {403, 404, 404, 404}},
    {"DELETE", "/api/endpoints/{other}/", NULL, {403, 404, 404, 404}},
    {"GET", "/api/endpoints/{other}/checks/", NULL, {404, 404, 404, 404}},
    /* Billing is the owner's (a Pro organization has nothing to buy: 400, not 403). */
    {"POST", "/api/billing/create-checkout-session/", "{}", {403, 403, 403, -1}},
};

static void path_for(char *out, size_t len, const char *pattern, const char *id, const char *other)
{
    const char *at = strchr(pattern, '{');
    if (!at) {
        snprintf(out, len, "%s", pattern);
        return;
    }
    const char *close = strchr(at, '}');
    snprintf(out, len, "%.*s%s%s", (int)(at - pattern), pattern,
             strncmp(at, "{id}", 4) == 0 ? id : other, close + 1);
}

static void test_role_route_table(void **state)
{
    (void)state;
    org a, b;
    org_new(&a, "Roles A");
    org_new(&b, "Roles B");
    char *other = endpoint_new(&b);
    int failures = 0, seq = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int role = VIEWER; role < NROLES; role++) {
            const route_case *c = &cases[i];
            if (c->status[role] < 0)
                continue;
            char *id = endpoint_new(&a);
            char path[256], body[256];
            path_for(path, sizeof(path), c->path, id, other);
            seq++;
            if (c->body && strcmp(c->body, "{url}") == 0)
                snprintf(body, sizeof(body), "{\"url\":\"http://1.1.%d.%d/\"}", seq / 200,
                         seq % 200 + 1);
            else if (c->body)
                snprintf(body, sizeof(body), "%s", c->body);
            it_resp *r = api(a.auth[role], c->method, path, c->body ? body : NULL);
            if (r->status != c->status[role]) {
                print_error("%s %s as %s: %ld, want %d: %s\n", c->method, c->path, role_names[role],
                            r->status, c->status[role], r->raw);
                failures++;
            } else if (r->status == 403 && !json_is_string(json_object_get(r->body, "detail"))) {
                print_error("%s %s as %s: 403 without detail: %s\n", c->method, c->path,
                            role_names[role], r->raw);
                failures++;
            }
            it_resp_free(r);
            free(id);
        }
    }
    /* The other organization's endpoint is untouched by all of it. */
    char path[128];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", other);
    it_resp *r = api(b.auth[OWNER], "GET", path, NULL);
    assert_int_equal(r->status, 200);
    assert_string_not_equal(json_string_value(json_object_get(r->body, "name")), "x");
    it_resp_free(r);
    free(other);
    free(a.id);
    free(b.id);
    assert_int_equal(failures, 0);
}

/* GET /api/auth/me/ says which role the caller has (the dashboard hides controls from it). */
static void test_me_reports_role(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Roles Me");
    for (int role = VIEWER; role < NROLES; role++) {
        it_resp *r = api(o.auth[role], "GET", "/api/auth/me/", NULL);
        assert_int_equal(r->status, 200);
        const char *got = json_string_value(json_object_get(r->body, "role"));
        assert_non_null(got);
        assert_string_equal(got, role_names[role]);
        it_resp_free(r);
    }
    free(o.id);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_route_table),
        cmocka_unit_test(test_me_reports_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
