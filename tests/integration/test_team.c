/* Roles, through the real edge (issue 21): a table of role x route -> status, each role's
 * user a real login; a role too low gets 403 {"detail"}, another tenant's object stays 404
 * whatever the role. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <libpq-fe.h>

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
 * the service-wide directory); returns its id (owned). */
static char *user_add(const char *tenant, const char *role, char *email, size_t len)
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
    json_t *rows =
        it_sql("SELECT user_id::text AS id FROM public.user_directory WHERE email = $1", 1, p);
    char *id = strdup(json_string_value(json_object_get(json_array_get(rows, 0), "id")));
    json_decref(rows);
    return id;
}

static void org_new(org *o, const char *name)
{
    o->id = it_signup_verified(o->email[OWNER], sizeof(o->email[OWNER]), name);
    it_set_plan(o->id, "pro");
    for (int r = VIEWER; r < OWNER; r++)
        free(user_add(o->id, role_names[r], o->email[r], sizeof(o->email[r])));
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
    /* Status pages are the admins' (the role is checked before the body: 400 only for them). */
    {"GET", "/api/status-pages/", NULL, {403, 403, 200, 200}},
    {"POST", "/api/status-pages/", "{\"name\":\"x\"}", {403, 403, 400, 400}},
    {"GET", "/api/status-pages/{other}/", NULL, {403, 403, 404, 404}},
    {"PATCH", "/api/status-pages/{other}/", "{\"name\":\"x\"}", {403, 403, 404, 404}},
    {"DELETE", "/api/status-pages/{other}/", NULL, {403, 403, 404, 404}},
    /* The team: reads for everyone, changes for admins (the target here is a fresh viewer). */
    {"GET", "/api/team/members/", NULL, {200, 200, 200, 200}},
    {"PATCH", "/api/team/members/{viewer}/", "{\"role\":\"member\"}", {403, 403, 200, 200}},
    {"DELETE", "/api/team/members/{viewer}/", NULL, {403, 403, 204, 204}},
    {"GET", "/api/team/invitations/", NULL, {403, 403, 200, 200}},
    {"POST", "/api/team/invitations/", "{invite}", {403, 403, 201, 201}},
    {"POST",
     "/api/team/transfer-ownership/",
     "{\"user_id\":\"x\",\"password\":\"x\"}",
     {403, 403, 403, 400}},
    {"GET", "/api/tokens/", NULL, {403, 403, 200, 200}},
    {"POST", "/api/tokens/", "{\"name\":\"ci\",\"role\":\"viewer\"}", {403, 403, 201, 201}},
    {"GET", "/api/audit-log/", NULL, {403, 403, 200, 200}},
    {"POST", "/api/auth/password-change/", "{}", {400, 400, 400, 400}},
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
             strncmp(at, "{other}", 7) == 0 ? other : id, close + 1);
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
            char *id = NULL, path[256], body[256], viewer_email[160];
            if (strstr(c->path, "{viewer}")) {
                id = user_add(a.id, "viewer", viewer_email, sizeof(viewer_email));
            } else {
                id = endpoint_new(&a);
            }
            path_for(path, sizeof(path), c->path, id, other);
            seq++;
            if (c->body && strcmp(c->body, "{url}") == 0)
                snprintf(body, sizeof(body), "{\"url\":\"http://1.1.%d.%d/\"}", seq / 200,
                         seq % 200 + 1);
            else if (c->body && strcmp(c->body, "{invite}") == 0)
                snprintf(body, sizeof(body), "{\"email\":\"%s\",\"role\":\"viewer\"}",
                         it_fresh_email("invitee"));
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

/* ---------------------------------------------------------------- helpers */

static it_resp *json_call(const char *auth, const char *method, const char *path, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    it_resp *r = auth ? api(auth, method, path, text)
                      : it_http(method, path, text, "Content-Type: application/json", NULL);
    free(text);
    return r;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The token of a link "<marker><token>" in a mail (owned). */
static char *mail_link_token(const char *mail, const char *marker)
{
    const char *p = mail ? strstr(mail, marker) : NULL;
    if (!p)
        return NULL;
    p += strlen(marker);
    return strndup(p, strcspn(p, " \r\n"));
}

/* Polls GET path with auth until it answers want or 5 s pass; returns the last status. */
static long wait_status(const char *auth, const char *path, long want)
{
    long st = 0;
    for (int i = 0; i < 50; i++) {
        it_resp *r = api(auth, "GET", path, NULL);
        st = r->status;
        it_resp_free(r);
        if (st == want)
            break;
        usleep(100 * 1000);
    }
    return st;
}

/* Whether the audit log (read with auth) lists action (on target_id, unless NULL). */
static bool audit_has_as(const char *auth, const char *action, const char *target_id)
{
    it_resp *r = api(auth, "GET", "/api/audit-log/?page_size=100", NULL);
    assert_int_equal(r->status, 200);
    bool found = false;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r->body, "results"), i, e)
    {
        const json_t *target = json_object_get(e, "target");
        if (strcmp(jstr(e, "action"), action) == 0 &&
            (!target_id || (jstr(target, "id") && strcmp(jstr(target, "id"), target_id) == 0)))
            found = true;
    }
    it_resp_free(r);
    return found;
}

static bool audit_has(const org *o, const char *action, const char *target_id)
{
    return audit_has_as(o->auth[OWNER], action, target_id);
}

/* ---------------------------------------------------------------- API tokens */

static void test_api_tokens(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Tokens Co");
    /* Created by an admin: shown once, with its prefix; never in the list. */
    it_resp *r = json_call(o.auth[ADMIN], "POST", "/api/tokens/",
                           json_pack("{s:s,s:s}", "name", "deploy bot", "role", "member"));
    assert_int_equal(r->status, 201);
    const char *tok = jstr(r->body, "token");
    assert_non_null(tok);
    assert_int_equal(strncmp(tok, "swt_", 4), 0);
    assert_int_equal(strlen(tok), 47);
    char token[64], id[64], bearer[128];
    snprintf(token, sizeof(token), "%s", tok);
    snprintf(id, sizeof(id), "%s", jstr(r->body, "id"));
    assert_int_equal(strncmp(jstr(r->body, "prefix"), token, strlen(jstr(r->body, "prefix"))), 0);
    assert_string_equal(jstr(r->body, "role"), "member");
    it_resp_free(r);
    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", token);

    r = api(o.auth[ADMIN], "GET", "/api/tokens/", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    json_t *first = json_array_get(json_object_get(r->body, "results"), 0);
    assert_string_equal(jstr(first, "name"), "deploy bot");
    assert_null(json_object_get(first, "token"));
    assert_null(strstr(r->raw, token));
    assert_string_equal(jstr(json_object_get(first, "created_by"), "email"), o.email[ADMIN]);
    it_resp_free(r);
    /* Only the hash is stored. */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM \"%s\".api_tokens WHERE token_hash = sha256($1::bytea)", o.id);
    const char *pt[] = {token};
    assert_int_equal(it_sql_long(sql, 1, pt), 1);

    /* It works on the API with its own role (member: endpoints yes, tokens no) ... */
    assert_int_equal(wait_status(bearer, "/api/endpoints/", 200), 200);
    r = api(bearer, "POST", "/api/endpoints/", "{\"url\":\"http://1.3.0.1/\"}");
    assert_int_equal(r->status, 201);
    it_resp_free(r);
    r = api(bearer, "GET", "/api/tokens/", NULL);
    assert_int_equal(r->status, 403);
    it_resp_free(r);
    /* The list shows when it was last used (the edge reports a use, at most once a minute). */
    bool used = false;
    for (int i = 0; i < 50 && !used; i++) {
        r = api(o.auth[ADMIN], "GET", "/api/tokens/", NULL);
        used = json_is_string(json_object_get(
            json_array_get(json_object_get(r->body, "results"), 0), "last_used_at"));
        it_resp_free(r);
        if (!used)
            usleep(100 * 1000);
    }
    assert_true(used);
    /* ... never on the auth routes ... */
    r = api(bearer, "GET", "/api/auth/me/", NULL);
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    /* ... and a guessed token is refused like a bad JWT. */
    r = api("Authorization: Bearer swt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "GET",
            "/api/endpoints/", NULL);
    assert_int_equal(r->status, 401);
    it_resp_free(r);

    /* Never above the creator's role, never for a member; field errors. */
    r = json_call(o.auth[ADMIN], "POST", "/api/tokens/",
                  json_pack("{s:s,s:s}", "name", "too high", "role", "owner"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "role"));
    it_resp_free(r);
    r = json_call(o.auth[ADMIN], "POST", "/api/tokens/",
                  json_pack("{s:s,s:s,s:s}", "name", "", "role", "boss", "expires_at", "soon"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "name"));
    assert_non_null(json_object_get(r->body, "role"));
    assert_non_null(json_object_get(r->body, "expires_at"));
    it_resp_free(r);
    r = json_call(o.auth[ADMIN], "POST", "/api/tokens/",
                  json_pack("{s:s,s:s,s:s}", "name", "past", "role", "viewer", "expires_at",
                            "2001-01-01T00:00:00Z"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "expires_at"));
    it_resp_free(r);

    /* Revoked: it stops working within 5 s (at every edge; here, the test's). */
    char path[128];
    snprintf(path, sizeof(path), "/api/tokens/%s/", id);
    r = api(o.auth[ADMIN], "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    assert_int_equal(wait_status(bearer, "/api/endpoints/", 401), 401);
    r = api(o.auth[ADMIN], "DELETE", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);

    /* Expired: a token that expires in 3 s works, then stops (within 5 s of its expiry). */
    char soon[32];
    time_t at = time(NULL) + 3;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(soon, sizeof(soon), "%Y-%m-%dT%H:%M:%SZ", &tm);
    r = json_call(
        o.auth[ADMIN], "POST", "/api/tokens/",
        json_pack("{s:s,s:s,s:s}", "name", "short", "role", "viewer", "expires_at", soon));
    assert_int_equal(r->status, 201);
    char short_bearer[128], short_id[64];
    snprintf(short_bearer, sizeof(short_bearer), "Authorization: Bearer %s",
             jstr(r->body, "token"));
    snprintf(short_id, sizeof(short_id), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    assert_int_equal(wait_status(short_bearer, "/api/endpoints/", 200), 200);
    sleep(3);
    assert_int_equal(wait_status(short_bearer, "/api/endpoints/", 401), 401);

    /* Another organization never sees or revokes it. */
    org b;
    org_new(&b, "Tokens Other");
    snprintf(path, sizeof(path), "/api/tokens/%s/", short_id);
    r = api(b.auth[OWNER], "DELETE", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = api(b.auth[OWNER], "GET", "/api/tokens/", NULL);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 0);
    it_resp_free(r);

    assert_true(audit_has(&o, "token.created", id));
    assert_true(audit_has(&o, "token.revoked", id));
    free(o.id);
    free(b.id);
}

/* ---------------------------------------------------------------- invitations */

static void test_invitation_flow(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Invite Co");
    char email[160];
    snprintf(email, sizeof(email), "%s", it_fresh_email("invited"));
    /* Never above the inviter's role; never owner; an address already registered is 400. */
    it_resp *r = json_call(o.auth[ADMIN], "POST", "/api/team/invitations/",
                           json_pack("{s:s,s:s}", "email", email, "role", "owner"));
    assert_int_equal(r->status, 400);
    it_resp_free(r);
    r = json_call(o.auth[ADMIN], "POST", "/api/team/invitations/",
                  json_pack("{s:s,s:s}", "email", o.email[MEMBER], "role", "viewer"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "email"));
    it_resp_free(r);

    r = json_call(o.auth[ADMIN], "POST", "/api/team/invitations/",
                  json_pack("{s:s,s:s}", "email", email, "role", "member"));
    assert_int_equal(r->status, 201);
    char inv_id[64];
    snprintf(inv_id, sizeof(inv_id), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    r = api(o.auth[OWNER], "GET", "/api/team/invitations/", NULL);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    it_resp_free(r);

    char *mail = it_mail_wait(email, 15000);
    assert_non_null(mail);
    assert_non_null(strstr(mail, "Invite Co"));
    char *token = mail_link_token(mail, "/accept-invitation?token=");
    assert_non_null(token);

    /* Weak password: field error, the invitation still open. */
    r = json_call(NULL, "POST", "/api/auth/accept-invitation/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", "short",
                            "password_confirm", "short"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "password"));
    it_resp_free(r);
    r = json_call(NULL, "POST", "/api/auth/accept-invitation/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", IT_PASSWORD,
                            "password_confirm", IT_PASSWORD));
    assert_int_equal(r->status, 201);
    assert_string_equal(jstr(json_object_get(r->body, "user"), "role"), "member");
    it_resp_free(r);
    /* Verified at once: the login works and the role is member. */
    r = it_login(email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    /* Single use. */
    r = json_call(NULL, "POST", "/api/auth/accept-invitation/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", IT_PASSWORD,
                            "password_confirm", IT_PASSWORD));
    assert_int_equal(r->status, 400);
    assert_string_equal(jstr(r->body, "code"), "token_used");
    it_resp_free(r);
    free(token);
    free(mail);
    assert_true(audit_has(&o, "invitation.created", inv_id));
    assert_true(audit_has(&o, "invitation.accepted", inv_id));

    /* Expired after 7 days (moved into the past here), and withdrawn ones do not work. */
    char email2[160];
    snprintf(email2, sizeof(email2), "%s", it_fresh_email("late"));
    r = json_call(o.auth[OWNER], "POST", "/api/team/invitations/",
                  json_pack("{s:s,s:s}", "email", email2, "role", "viewer"));
    assert_int_equal(r->status, 201);
    char inv2[64];
    snprintf(inv2, sizeof(inv2), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    mail = it_mail_wait(email2, 15000);
    token = mail_link_token(mail, "/accept-invitation?token=");
    assert_non_null(token);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE \"%s\".invitations SET expires_at = now() - interval '1 second'"
             " WHERE id = $1::uuid",
             o.id);
    const char *pi[] = {inv2};
    json_decref(it_sql(sql, 1, pi));
    r = json_call(NULL, "POST", "/api/auth/accept-invitation/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", IT_PASSWORD,
                            "password_confirm", IT_PASSWORD));
    assert_int_equal(r->status, 400);
    assert_string_equal(jstr(r->body, "code"), "token_expired");
    it_resp_free(r);
    free(token);
    free(mail);
    /* Withdraw: 204, then gone from the list; another organization gets 404. */
    org b;
    org_new(&b, "Invite Other");
    char path[128];
    snprintf(path, sizeof(path), "/api/team/invitations/%s/", inv2);
    r = api(b.auth[OWNER], "DELETE", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = api(o.auth[ADMIN], "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    assert_true(audit_has(&o, "invitation.withdrawn", inv2));
    free(o.id);
    free(b.id);
}

/* ---------------------------------------------------------------- members */

static void test_role_change_and_removal(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Members Co");
    it_resp *r = it_login(o.email[MEMBER], IT_PASSWORD);
    char refresh[256];
    snprintf(refresh, sizeof(refresh), "%s", jstr(r->body, "refresh"));
    it_resp_free(r);
    json_t *rows = it_sql("SELECT user_id::text AS id FROM public.user_directory WHERE email = $1",
                          1, (const char *[]){o.email[MEMBER]});
    char uid[64], path[128];
    snprintf(uid, sizeof(uid), "%s", jstr(json_array_get(rows, 0), "id"));
    json_decref(rows);
    snprintf(path, sizeof(path), "/api/team/members/%s/", uid);

    /* The owner's role and one's own cannot be changed here. */
    r = api(o.auth[ADMIN], "PATCH", path, "{\"role\":\"owner\"}");
    assert_int_equal(r->status, 400);
    it_resp_free(r);

    /* member -> viewer: the old access token stops within 5 s, a refresh has the new role. */
    r = api(o.auth[ADMIN], "PATCH", path, "{\"role\":\"viewer\"}");
    assert_int_equal(r->status, 200);
    assert_string_equal(jstr(r->body, "role"), "viewer");
    it_resp_free(r);
    assert_int_equal(wait_status(o.auth[MEMBER], "/api/endpoints/", 401), 401);
    r = json_call(NULL, "POST", "/api/auth/token/refresh/", json_pack("{s:s}", "refresh", refresh));
    assert_int_equal(r->status, 200);
    char auth[1200];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jstr(r->body, "access"));
    snprintf(refresh, sizeof(refresh), "%s", jstr(r->body, "refresh"));
    it_resp_free(r);
    r = api(auth, "GET", "/api/auth/me/", NULL);
    assert_string_equal(jstr(r->body, "role"), "viewer");
    it_resp_free(r);
    r = api(auth, "POST", "/api/endpoints/", "{\"url\":\"http://1.4.0.1/\"}");
    assert_int_equal(r->status, 403);
    it_resp_free(r);
    assert_true(audit_has(&o, "member.role_changed", uid));

    /* Removed: access and refresh tokens end at once, the email is free again. */
    r = api(o.auth[ADMIN], "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    assert_int_equal(wait_status(auth, "/api/endpoints/", 401), 401);
    r = json_call(NULL, "POST", "/api/auth/token/refresh/", json_pack("{s:s}", "refresh", refresh));
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    r = it_login(o.email[MEMBER], IT_PASSWORD);
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    assert_true(audit_has(&o, "member.removed", uid));

    /* The owner cannot be removed; another organization's member is 404. */
    rows = it_sql("SELECT user_id::text AS id FROM public.user_directory WHERE email = $1", 1,
                  (const char *[]){o.email[OWNER]});
    snprintf(path, sizeof(path), "/api/team/members/%s/", jstr(json_array_get(rows, 0), "id"));
    json_decref(rows);
    r = api(o.auth[ADMIN], "DELETE", path, NULL);
    assert_int_equal(r->status, 403);
    it_resp_free(r);
    org b;
    org_new(&b, "Members Other");
    r = api(b.auth[OWNER], "DELETE", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    free(o.id);
    free(b.id);
}

static void test_transfer_ownership(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Transfer Co");
    json_t *rows = it_sql("SELECT user_id::text AS id FROM public.user_directory WHERE email = $1",
                          1, (const char *[]){o.email[ADMIN]});
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", jstr(json_array_get(rows, 0), "id"));
    json_decref(rows);
    it_resp *r = json_call(o.auth[OWNER], "POST", "/api/team/transfer-ownership/",
                           json_pack("{s:s,s:s}", "user_id", uid, "password", "Wrong-Pass-123x"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "password"));
    it_resp_free(r);
    r = json_call(o.auth[OWNER], "POST", "/api/team/transfer-ownership/",
                  json_pack("{s:s,s:s}", "user_id", uid, "password", IT_PASSWORD));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    /* After logging in again: the old owner is an admin, the admin the owner. */
    char auth[1200];
    login_into(auth, sizeof(auth), o.email[ADMIN]);
    r = api(auth, "GET", "/api/auth/me/", NULL);
    assert_string_equal(jstr(r->body, "role"), "owner");
    it_resp_free(r);
    login_into(auth, sizeof(auth), o.email[OWNER]);
    r = api(auth, "GET", "/api/auth/me/", NULL);
    assert_string_equal(jstr(r->body, "role"), "admin");
    it_resp_free(r);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\".users WHERE role = 'owner'", o.id);
    assert_int_equal(it_sql_long(sql, 0, NULL), 1);
    assert_true(audit_has_as(auth, "ownership.transferred", uid));
    free(o.id);
}

/* ---------------------------------------------------------------- passwords */

static void test_password_reset(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Reset Co");
    it_resp *r = it_login(o.email[MEMBER], IT_PASSWORD);
    char refresh[256], auth[1200];
    snprintf(refresh, sizeof(refresh), "%s", jstr(r->body, "refresh"));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jstr(r->body, "access"));
    it_resp_free(r);
    char xff[96];
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", it_fresh_ip());

    /* The same answer for an unknown address. */
    r = it_http("POST", "/api/auth/password-reset/", "{\"email\":\"nobody-here@example.test\"}",
                "Content-Type: application/json", xff, NULL);
    assert_int_equal(r->status, 200);
    char unknown_body[512];
    snprintf(unknown_body, sizeof(unknown_body), "%s", r->raw);
    it_resp_free(r);
    char body[256];
    snprintf(body, sizeof(body), "{\"email\":\"%s\"}", o.email[MEMBER]);
    r = it_http("POST", "/api/auth/password-reset/", body, "Content-Type: application/json", xff,
                NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->raw, unknown_body);
    it_resp_free(r);
    char *mail = it_mail_wait(o.email[MEMBER], 15000);
    assert_non_null(mail);
    char *token = mail_link_token(mail, "/reset-password?token=");
    assert_non_null(token);

    /* SW_THROTTLE_SENSITIVE (3/hour) per address: the 4th is 429 with Retry-After. */
    r = it_http("POST", "/api/auth/password-reset/", "{\"email\":\"x1@example.test\"}",
                "Content-Type: application/json", xff, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    r = it_http("POST", "/api/auth/password-reset/", "{\"email\":\"x2@example.test\"}",
                "Content-Type: application/json", xff, NULL);
    assert_int_equal(r->status, 429);
    assert_non_null(it_header(r, "Retry-After"));
    it_resp_free(r);

    /* Confirm: mismatch is a field error; then the new password works, every session ends. */
    r = json_call(NULL, "POST", "/api/auth/password-reset/confirm/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", "New-Sturdy-Lamp-43y",
                            "password_confirm", "Other-Sturdy-Lamp-43y"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "password_confirm"));
    it_resp_free(r);
    r = json_call(NULL, "POST", "/api/auth/password-reset/confirm/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", "New-Sturdy-Lamp-43y",
                            "password_confirm", "New-Sturdy-Lamp-43y"));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    assert_int_equal(wait_status(auth, "/api/endpoints/", 401), 401);
    r = json_call(NULL, "POST", "/api/auth/token/refresh/", json_pack("{s:s}", "refresh", refresh));
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    r = it_login(o.email[MEMBER], IT_PASSWORD);
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    r = it_login(o.email[MEMBER], "New-Sturdy-Lamp-43y");
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    /* Single use. */
    r = json_call(NULL, "POST", "/api/auth/password-reset/confirm/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", "Third-Sturdy-Lamp-44z",
                            "password_confirm", "Third-Sturdy-Lamp-44z"));
    assert_int_equal(r->status, 400);
    assert_string_equal(jstr(r->body, "code"), "token_used");
    it_resp_free(r);
    free(token);
    free(mail);
    assert_true(audit_has(&o, "password.reset", NULL));
    free(o.id);
}

static void test_password_change(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Change Co");
    /* Two sessions of the member: the change in one ends the other. */
    it_resp *r = it_login(o.email[MEMBER], IT_PASSWORD);
    char other_refresh[256];
    snprintf(other_refresh, sizeof(other_refresh), "%s", jstr(r->body, "refresh"));
    it_resp_free(r);
    r = json_call(o.auth[MEMBER], "POST", "/api/auth/password-change/",
                  json_pack("{s:s,s:s,s:s}", "current_password", "Wrong-Lamp-42x", "password",
                            "Changed-Lamp-45q", "password_confirm", "Changed-Lamp-45q"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "current_password"));
    it_resp_free(r);
    r = json_call(o.auth[MEMBER], "POST", "/api/auth/password-change/",
                  json_pack("{s:s,s:s,s:s}", "current_password", IT_PASSWORD, "password",
                            "Changed-Lamp-45q", "password_confirm", "Changed-Lamp-45q"));
    assert_int_equal(r->status, 200);
    char auth[1200];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jstr(r->body, "access"));
    it_resp_free(r);
    /* This session goes on with the new pair; the other one's refresh token is dead. */
    r = api(auth, "GET", "/api/endpoints/", NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    r = json_call(NULL, "POST", "/api/auth/token/refresh/",
                  json_pack("{s:s}", "refresh", other_refresh));
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    assert_int_equal(wait_status(o.auth[MEMBER], "/api/endpoints/", 401), 401);
    r = it_login(o.email[MEMBER], "Changed-Lamp-45q");
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    assert_true(audit_has(&o, "password.changed", NULL));
    free(o.id);
}

/* API tokens and passwords: a change (the user knows the current password) keeps the user's
 * tokens, a reset (the account taken back by mail) ends them within 5 s. */
static void test_api_tokens_and_passwords(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Token Pw Co");
    it_resp *r = json_call(o.auth[ADMIN], "POST", "/api/tokens/",
                           json_pack("{s:s,s:s}", "name", "ci", "role", "member"));
    assert_int_equal(r->status, 201);
    char bearer[128];
    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", jstr(r->body, "token"));
    it_resp_free(r);
    assert_int_equal(wait_status(bearer, "/api/endpoints/", 200), 200);

    r = json_call(o.auth[ADMIN], "POST", "/api/auth/password-change/",
                  json_pack("{s:s,s:s,s:s}", "current_password", IT_PASSWORD, "password",
                            "Changed-Lamp-46r", "password_confirm", "Changed-Lamp-46r"));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    /* Still accepted a while later (a revocation would have arrived within milliseconds). */
    usleep(1000 * 1000);
    r = api(bearer, "GET", "/api/endpoints/", NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);

    char xff[96], body[256];
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", it_fresh_ip());
    snprintf(body, sizeof(body), "{\"email\":\"%s\"}", o.email[ADMIN]);
    r = it_http("POST", "/api/auth/password-reset/", body, "Content-Type: application/json", xff,
                NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    char *mail = it_mail_wait(o.email[ADMIN], 15000);
    assert_non_null(mail);
    char *token = mail_link_token(mail, "/reset-password?token=");
    assert_non_null(token);
    r = json_call(NULL, "POST", "/api/auth/password-reset/confirm/",
                  json_pack("{s:s,s:s,s:s}", "token", token, "password", "Reset-Lamp-47s",
                            "password_confirm", "Reset-Lamp-47s"));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    assert_int_equal(wait_status(bearer, "/api/endpoints/", 401), 401);
    /* The list says so: revoked tokens leave it. */
    char auth[1200];
    it_resp *l = it_login(o.email[ADMIN], "Reset-Lamp-47s");
    assert_int_equal(l->status, 200);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jstr(l->body, "access"));
    it_resp_free(l);
    r = api(auth, "GET", "/api/tokens/", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 0);
    it_resp_free(r);
    free(token);
    free(mail);
    free(o.id);
}

/* ---------------------------------------------------------------- audit log */

static void test_audit_log(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Audit Co");
    /* A few actions, then: newest first, paginated, not changeable through any route. */
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "t%d", i);
        it_resp *r = json_call(o.auth[OWNER], "POST", "/api/tokens/",
                               json_pack("{s:s,s:s}", "name", name, "role", "viewer"));
        assert_int_equal(r->status, 201);
        it_resp_free(r);
    }
    it_resp *r = api(o.auth[ADMIN], "GET", "/api/audit-log/?page_size=2", NULL);
    assert_int_equal(r->status, 200);
    json_t *res = json_object_get(r->body, "results");
    assert_int_equal(json_array_size(res), 2);
    assert_true(json_integer_value(json_object_get(r->body, "count")) >= 3);
    assert_non_null(jstr(r->body, "next"));
    json_t *e0 = json_array_get(res, 0), *e1 = json_array_get(res, 1);
    assert_string_equal(jstr(e0, "action"), "token.created");
    assert_string_equal(jstr(json_object_get(e0, "target"), "label"), "t2");
    assert_string_equal(jstr(json_object_get(e1, "target"), "label"), "t1");
    assert_true(strcmp(jstr(e0, "at"), jstr(e1, "at")) >= 0);
    assert_string_equal(jstr(json_object_get(e0, "actor"), "label"), o.email[OWNER]);
    assert_string_equal(jstr(json_object_get(e0, "actor"), "type"), "user");
    assert_non_null(jstr(e0, "client_ip"));
    it_resp_free(r);
    const char *methods[] = {"POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < 4; i++) {
        r = api(o.auth[OWNER], methods[i], "/api/audit-log/", "{}");
        assert_int_equal(r->status, 405);
        it_resp_free(r);
    }
    /* Logins, good and bad, are recorded too. */
    r = it_login(o.email[VIEWER], "Not-The-Password-1x");
    assert_int_equal(r->status, 401);
    it_resp_free(r);
    assert_true(audit_has(&o, "login.failed", NULL));
    assert_true(audit_has(&o, "login", NULL));
    free(o.id);
}

/* ---------------------------------------------------------------- audit entries of other actors */

/* A request from a given client address (the test edge trusts X-Forwarded-For from loopback). */
static it_resp *api_from(const char *auth, const char *ip, const char *method, const char *path,
                         json_t *body /* stolen */)
{
    char xff[96];
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
    it_resp *r = it_http(method, path, text, auth, "Content-Type: application/json", xff, NULL);
    free(text);
    return r;
}

/* The entries (read with auth) of action on target_id, polled until there is one or 5 s pass;
 * returns them (owned, maybe empty). Other actors' entries come through their events. */
static json_t *audit_wait(const char *auth, const char *action, const char *target_id)
{
    json_t *found = json_array();
    for (int i = 0; i < 50 && json_array_size(found) == 0; i++) {
        if (i)
            usleep(100 * 1000);
        it_resp *r = api(auth, "GET", "/api/audit-log/?page_size=100", NULL);
        assert_int_equal(r->status, 200);
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(r->body, "results"), k, e)
        {
            const char *tid = jstr(json_object_get(e, "target"), "id");
            if (strcmp(jstr(e, "action"), action) == 0 && tid && strcmp(tid, target_id) == 0)
                json_array_append(found, e);
        }
        it_resp_free(r);
    }
    return found;
}

/* Exactly one entry of action on target_id, with who (user user_id labelled label, or the
 * token token_id), the target's type and label and the client address; returns it (owned). */
static json_t *audit_one(const org *o, const char *action, const char *target_type,
                         const char *target_id, const char *target_label, const char *actor_type,
                         const char *actor_id, const char *actor_label, const char *ip)
{
    json_t *all = audit_wait(o->auth[OWNER], action, target_id);
    if (json_array_size(all) != 1)
        fail_msg("%s on %s: %zu entries, want 1", action, target_id, json_array_size(all));
    json_t *e = json_incref(json_array_get(all, 0));
    json_decref(all);
    const json_t *actor = json_object_get(e, "actor"), *target = json_object_get(e, "target");
    assert_string_equal(jstr(target, "type"), target_type);
    if (target_label)
        assert_string_equal(jstr(target, "label"), target_label);
    assert_string_equal(jstr(actor, "type"), actor_type);
    if (actor_id)
        assert_string_equal(jstr(actor, strcmp(actor_type, "token") == 0 ? "token_id" : "user_id"),
                            actor_id);
    if (actor_label)
        assert_string_equal(jstr(actor, "label"), actor_label);
    if (ip)
        assert_string_equal(jstr(e, "client_ip"), ip);
    assert_non_null(jstr(e, "at"));
    return e;
}

static void user_id_of(char *out, size_t len, const char *email)
{
    json_t *rows = it_sql("SELECT user_id::text AS id FROM public.user_directory WHERE email = $1",
                          1, (const char *[]){email});
    assert_int_equal(json_array_size(rows), 1);
    snprintf(out, len, "%s", jstr(json_array_get(rows, 0), "id"));
    json_decref(rows);
}

/* Endpoint and status-page changes (sw-endpoints) and plan changes (sw-billing) reach the audit
 * log through their events: who (user or token), what, target, client address. */
static void test_audit_other_actors(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Audit Others");
    char member[64], admin[64], ip[64], path[160], id[64];
    user_id_of(member, sizeof(member), o.email[MEMBER]);
    user_id_of(admin, sizeof(admin), o.email[ADMIN]);

    /* Endpoints, as a member: created, updated (which fields), deleted. */
    snprintf(ip, sizeof(ip), "%s", it_fresh_ip());
    it_resp *r = api_from(o.auth[MEMBER], ip, "POST", "/api/endpoints/",
                          json_pack("{s:s,s:s}", "name", "Audited API", "url", "http://1.6.0.1/"));
    assert_int_equal(r->status, 201);
    snprintf(id, sizeof(id), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    json_decref(audit_one(&o, "endpoint.created", "endpoint", id, "Audited API", "user", member,
                          o.email[MEMBER], ip));
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    snprintf(ip, sizeof(ip), "%s", it_fresh_ip());
    r = api_from(o.auth[MEMBER], ip, "PATCH", path,
                 json_pack("{s:s,s:i}", "name", "Audited API v2", "interval_seconds", 120));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    json_t *e = audit_one(&o, "endpoint.updated", "endpoint", id, "Audited API v2", "user", member,
                          o.email[MEMBER], ip);
    json_t *fields = json_object_get(json_object_get(e, "detail"), "fields");
    assert_int_equal(json_array_size(fields), 2);
    assert_string_equal(json_string_value(json_array_get(fields, 0)), "name");
    assert_string_equal(json_string_value(json_array_get(fields, 1)), "interval_seconds");
    json_decref(e);
    snprintf(ip, sizeof(ip), "%s", it_fresh_ip());
    r = api_from(o.auth[MEMBER], ip, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    json_decref(audit_one(&o, "endpoint.deleted", "endpoint", id, "Audited API v2", "user", member,
                          o.email[MEMBER], ip));

    /* With an API token: the token is who, its creator the user behind it. */
    r = json_call(o.auth[ADMIN], "POST", "/api/tokens/",
                  json_pack("{s:s,s:s}", "name", "deployer", "role", "member"));
    assert_int_equal(r->status, 201);
    char bearer[128], token_id[64];
    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", jstr(r->body, "token"));
    snprintf(token_id, sizeof(token_id), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    assert_int_equal(wait_status(bearer, "/api/endpoints/", 200), 200);
    snprintf(ip, sizeof(ip), "%s", it_fresh_ip());
    r = api_from(bearer, ip, "POST", "/api/endpoints/",
                 json_pack("{s:s}", "url", "http://1.6.0.2/"));
    assert_int_equal(r->status, 201);
    snprintf(id, sizeof(id), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    e = audit_one(&o, "endpoint.created", "endpoint", id, NULL, "token", token_id, "token deployer",
                  ip);
    assert_string_equal(jstr(json_object_get(e, "actor"), "user_id"), admin);
    json_decref(e);

    /* Status pages, as an admin. */
    char slug[64], page[64];
    unsigned char rnd[6];
    char hex[13];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(slug, sizeof(slug), "audit-%s", hex);
    snprintf(ip, sizeof(ip), "%s", it_fresh_ip());
    r = api_from(o.auth[ADMIN], ip, "POST", "/api/status-pages/",
                 json_pack("{s:s,s:s}", "name", "Our status", "slug", slug));
    assert_int_equal(r->status, 201);
    snprintf(page, sizeof(page), "%s", jstr(r->body, "id"));
    it_resp_free(r);
    json_decref(audit_one(&o, "status_page.created", "status_page", page, "Our status", "user",
                          admin, o.email[ADMIN], ip));
    snprintf(path, sizeof(path), "/api/status-pages/%s/", page);
    r = api_from(o.auth[ADMIN], ip, "PATCH", path, json_pack("{s:s}", "name", "Our status v2"));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    json_decref(audit_one(&o, "status_page.updated", "status_page", page, "Our status v2", "user",
                          admin, o.email[ADMIN], ip));
    r = api_from(o.auth[ADMIN], ip, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    json_decref(audit_one(&o, "status_page.deleted", "status_page", page, "Our status v2", "user",
                          admin, o.email[ADMIN], ip));

    /* A plan change: Stripe's webhook (signed here as Stripe would) ends the subscription. */
    char secret[256], evt_id[48], sig[65], h[200];
    it_secret(secret, sizeof(secret), "STRIPE_WEBHOOK_SECRET");
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(evt_id, sizeof(evt_id), "evt_test_audit%s", hex);
    long t = (long)time(NULL);
    json_t *ev =
        json_pack("{s:s,s:s,s:s,s:I,s:b,s:{s:{s:s,s:s,s:s,s:s,s:{s:s}}}}", "id", evt_id, "object",
                  "event", "type", "customer.subscription.deleted", "created", (json_int_t)t,
                  "livemode", 0, "data", "object", "id", "sub_auditgone", "object", "subscription",
                  "customer", "cus_audit", "status", "canceled", "metadata", "tenant_id", o.id);
    char *body = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char prefix[32];
    crypto_auth_hmacsha256_state hs;
    snprintf(prefix, sizeof(prefix), "%ld.", t);
    crypto_auth_hmacsha256_init(&hs, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)prefix, strlen(prefix));
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&hs, mac);
    sodium_bin2hex(sig, sizeof(sig), mac, sizeof(mac));
    snprintf(h, sizeof(h), "Stripe-Signature: t=%ld,v1=%s", t, sig);
    snprintf(ip, sizeof(ip), "%s", it_fresh_ip());
    char xff[96];
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip);
    r = it_http("POST", "/api/billing/webhook/", body, "Content-Type: application/json", h, xff,
                NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    free(body);
    e = audit_one(&o, "plan.changed", "organization", o.id, NULL, "system", NULL, "Stripe", ip);
    assert_string_equal(jstr(json_object_get(e, "detail"), "plan"), "free");
    assert_string_equal(jstr(json_object_get(e, "detail"), "previous_plan"), "pro");
    json_decref(e);
    free(o.id);
}

/* An event of stream SW_EVENTS, published as the admin (as an actor would) with msg id. */
static void publish_event(const char *tenant, const char *kind, const char *msg_id, json_t *evt)
{
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    char subject[192];
    char *text = json_dumps(evt, JSON_COMPACT);
    json_decref(evt);
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.%s", tenant, kind);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(natsMsg_Create(&m, subject, NULL, text, (int)strlen(text)), NATS_OK);
    natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
    assert_int_equal(js_PublishMsg(NULL, js, m, NULL, &jerr), NATS_OK);
    natsMsg_Destroy(m);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    free(text);
}

/* Whether sw-auth's audit consumer has nothing pending or unacked within 5 s. */
static bool audit_consumer_drained(void)
{
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    bool drained = false;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    for (int i = 0; i < 50 && !drained; i++) {
        jsConsumerInfo *ci = NULL;
        jsErrCode jerr = 0;
        if (i)
            usleep(100 * 1000);
        assert_int_equal(js_GetConsumerInfo(&ci, js, "SW_EVENTS", "auth-audit", NULL, &jerr),
                         NATS_OK);
        drained = ci->NumPending == 0 && ci->NumAckPending == 0;
        jsConsumerInfo_Destroy(ci);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return drained;
}

static json_t *synthetic_event(const char *endpoint_id, const char *label)
{
    return json_pack("{s:s,s:{s:s,s:{s:s,s:s,s:s},s:{s:s},s:I}}", "endpoint_id", endpoint_id,
                     "audit", "action", "endpoint.updated", "target", "type", "endpoint", "id",
                     endpoint_id, "label", label, "actor", "client_ip", "192.0.2.7", "at_ms",
                     (json_int_t)time(NULL) * 1000);
}

/* A redelivered event writes no second entry: the entry is keyed by the event's msg id. Here
 * the entry of an event exists already (written before the ack got lost, as it were) when the
 * event arrives; a second event, published after it, shows the consumer got past it. And
 * entries cannot be changed: no route takes a change, and the database refuses one even from
 * the table's owner (a trigger, the lock behind the grants). */
static void test_audit_idempotent_and_append_only(void **state)
{
    (void)state;
    org o;
    org_new(&o, "Audit Once");
    unsigned char rnd[8];
    char hex[17], once[64], after[64], ep1[40], ep2[40], sql[400];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(once, sizeof(once), "evt:test:%s:once", hex);
    snprintf(after, sizeof(after), "evt:test:%s:after", hex);
    snprintf(ep1, sizeof(ep1), "00000000-0000-4000-8000-%.12s", hex);
    snprintf(ep2, sizeof(ep2), "00000000-0000-4000-9000-%.12s", hex);
    snprintf(sql, sizeof(sql),
             "INSERT INTO \"%s\".audit_log (action, target_type, target_id, target_label,"
             " actor_label, event_id) VALUES ('endpoint.updated', 'endpoint', $1, 'first write',"
             " 'earlier delivery', $2)",
             o.id);
    json_decref(it_sql(sql, 2, (const char *[]){ep1, once}));
    publish_event(o.id, "endpoint.updated", once, synthetic_event(ep1, "second write"));
    publish_event(o.id, "endpoint.updated", after, synthetic_event(ep2, "next event"));
    json_decref(audit_one(&o, "endpoint.updated", "endpoint", ep2, "next event", "system", NULL,
                          NULL, "192.0.2.7"));
    json_t *e = audit_one(&o, "endpoint.updated", "endpoint", ep1, "first write", "system", NULL,
                          "earlier delivery", NULL);
    long entry = (long)json_integer_value(json_object_get(e, "id"));
    json_decref(e);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\".audit_log WHERE event_id = $1", o.id);
    assert_int_equal(it_sql_long(sql, 1, (const char *[]){once}), 1);
    /* ... and the repeat was acked, not retried (nothing waits on the consumer). */
    assert_true(audit_consumer_drained());

    /* No route changes an entry: not the list, not an entry's path. */
    it_resp *before = api(o.auth[OWNER], "GET", "/api/audit-log/?page_size=100", NULL);
    assert_int_equal(before->status, 200);
    char path[96];
    snprintf(path, sizeof(path), "/api/audit-log/%ld/", entry);
    const char *methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (int role = ADMIN; role <= OWNER; role++)
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
            it_resp *r = api(o.auth[role], methods[i], path, "{\"action\":\"login\"}");
            if (r->status != 404 && r->status != 405)
                fail_msg("%s %s: %ld", methods[i], path, r->status);
            it_resp_free(r);
            r = api(o.auth[role], methods[i], "/api/audit-log/", "{\"action\":\"login\"}");
            assert_int_equal(r->status, strcmp(methods[i], "GET") == 0 ? 200 : 405);
            it_resp_free(r);
        }
    it_resp *now = api(o.auth[OWNER], "GET", "/api/audit-log/?page_size=100", NULL);
    assert_true(json_equal(json_object_get(before->body, "results"),
                           json_object_get(now->body, "results")));
    it_resp_free(before);
    it_resp_free(now);

    /* The database refuses a change whoever asks: here the superuser of the test instance. */
    PGconn *pg = PQconnectdb(getenv("DATABASE_URL"));
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    for (int i = 0; i < 2; i++) {
        if (i == 0)
            snprintf(sql, sizeof(sql), "UPDATE \"%s\".audit_log SET actor_label = 'someone else'",
                     o.id);
        else
            snprintf(sql, sizeof(sql), "DELETE FROM \"%s\".audit_log", o.id);
        PGresult *res = PQexec(pg, sql);
        assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
        assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
        PQclear(res);
    }
    PQfinish(pg);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\".audit_log WHERE actor_label = $1",
             o.id);
    assert_int_equal(it_sql_long(sql, 1, (const char *[]){"earlier delivery"}), 1);
    free(o.id);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_route_table),
        cmocka_unit_test(test_me_reports_role),
        cmocka_unit_test(test_api_tokens),
        cmocka_unit_test(test_invitation_flow),
        cmocka_unit_test(test_role_change_and_removal),
        cmocka_unit_test(test_transfer_ownership),
        cmocka_unit_test(test_password_reset),
        cmocka_unit_test(test_password_change),
        cmocka_unit_test(test_api_tokens_and_passwords),
        cmocka_unit_test(test_audit_log),
        cmocka_unit_test(test_audit_other_actors),
        cmocka_unit_test(test_audit_idempotent_and_append_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
