/* Public status pages (issue 20) through the real edge, sw-endpoints, the probing pipeline and a
 * real probe target: the CRUD (owner/admin, slug rules, only the tenant's own endpoints), the
 * public page and the Statuspage v2 JSON validated against schemas written from Statuspage's
 * documentation (tests/conformance/statuspage-v2/), badges, an outage showing on the page and
 * in summary.json within 5 s of the recorder's state change, the edge cache's ETag/304 and
 * Cache-Control, and that nothing private is ever shown: URLs, endpoint ids, error texts,
 * private pages, other pages' components, other tenants' endpoints. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int http_port, https_port, targets_pid;
static char owner_email[160], access_tok[1024], tenant[64];
static char other_access[1024], other_endpoint[64];
static char ep_api[64], ep_web[64];
static char slug[64], page_id[64], comp_api[64], comp_web[64];

static char *login_token(const char *email)
{
    it_resp *r = it_login(email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    char *t = strdup(json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    return t;
}

static void create_endpoint(char *out, size_t len, const char *token, const char *path,
                            const char *name)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", http_port, path);
    it_resp *r = it_auth("POST", "/api/endpoints/", token,
                         json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "url", url, "name", name,
                                   "failure_threshold", 1, "recovery_threshold", 1,
                                   "timeout_seconds", 3, "interval_seconds", 30));
    if (r->status != 201)
        fail_msg("create %s: %ld %s", url, r->status, r->raw);
    snprintf(out, len, "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
}

static void set_switch(const char *name, int code)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null http://127.0.0.1:%d/set/%s/%d", http_port,
             name, code);
    assert_int_equal(system(cmd), 0);
}

static void random_slug(char *out, size_t len, const char *prefix)
{
    const char *ip = it_fresh_ip(); /* a cheap unique token: "10.x.y.z" */
    char tail[32];
    size_t o = 0;
    for (const char *p = ip; *p && o + 1 < sizeof(tail); p++)
        tail[o++] = *p == '.' ? '-' : *p;
    tail[o] = '\0';
    snprintf(out, len, "%s-%s-%d", prefix, tail, (int)(getpid() % 10000));
}

static int setup(void **state)
{
    (void)state;
    targets_pid = it_targets_start(&http_port, &https_port);
    char *tid = it_signup_verified(owner_email, sizeof(owner_email), "Status Co");
    snprintf(tenant, sizeof(tenant), "%s", tid);
    free(tid);
    char *t = login_token(owner_email);
    snprintf(access_tok, sizeof(access_tok), "%s", t);
    free(t);
    create_endpoint(ep_api, sizeof(ep_api), access_tok, "/switch/sp-api", "api-internal-name");
    create_endpoint(ep_web, sizeof(ep_web), access_tok, "/ok", "web");

    char other_email[160];
    free(it_signup_verified(other_email, sizeof(other_email), "Other Co"));
    t = login_token(other_email);
    snprintf(other_access, sizeof(other_access), "%s", t);
    free(t);
    create_endpoint(other_endpoint, sizeof(other_endpoint), other_access, "/ok", "theirs");

    random_slug(slug, sizeof(slug), "status-co");
    it_resp *r =
        it_auth("POST", "/api/status-pages/", access_tok,
                json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:s},{s:s,s:s}]}", "name", "Status Co <b>",
                          "slug", slug, "description", "What we run for you.", "components",
                          "endpoint_id", ep_api, "name", "Public API", "group", "Backend",
                          "endpoint_id", ep_web, "name", "Website"));
    if (r->status != 201)
        fail_msg("create page: %ld %s", r->status, r->raw);
    snprintf(page_id, sizeof(page_id), "%s", json_string_value(json_object_get(r->body, "id")));
    json_t *comps = json_object_get(r->body, "components");
    snprintf(comp_api, sizeof(comp_api), "%s",
             json_string_value(json_object_get(json_array_get(comps, 0), "id")));
    snprintf(comp_web, sizeof(comp_web), "%s",
             json_string_value(json_object_get(json_array_get(comps, 1), "id")));
    it_resp_free(r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    it_targets_stop(targets_pid);
    return 0;
}

static it_resp *get_public(const char *rest)
{
    char path[512];
    snprintf(path, sizeof(path), "/status/%s/%s", slug, rest);
    return it_http("GET", path, NULL, NULL);
}

/* Validates body against tests/conformance/statuspage-v2/<schema> (draft 7). */
static void assert_schema(const char *schema, const it_resp *r)
{
    char doc[] = "/tmp/sw-statuspage-XXXXXX";
    int fd = mkstemp(doc);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, r->raw, r->raw_len), (ssize_t)r->raw_len);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 %s/tests/conformance/validate.py"
             " %s/tests/conformance/statuspage-v2/%s %s",
             it_source_dir(), it_source_dir(), schema, doc);
    int rc = system(cmd);
    unlink(doc);
    if (rc != 0)
        fail_msg("%s does not match the Statuspage schema: %s", schema, r->raw);
}

/* Nothing the owner did not choose to show: no URL of a watched endpoint, no endpoint id, no
 * internal name, no error text. */
static void assert_nothing_private(const it_resp *r)
{
    char port[32];
    snprintf(port, sizeof(port), "127.0.0.1:%d", http_port);
    if (strstr(r->raw, port) || strstr(r->raw, "/switch/") || strstr(r->raw, ep_api) ||
        strstr(r->raw, ep_web) || strstr(r->raw, other_endpoint) ||
        strstr(r->raw, "api-internal-name") || strstr(r->raw, tenant) ||
        strstr(r->raw, "unexpected status"))
        fail_msg("a public document shows something private: %s", r->raw);
}

static const char *component_status(const json_t *summary, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(summary, "components"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return json_string_value(json_object_get(c, "status"));
    }
    return NULL;
}

/* ---- CRUD ---------------------------------------------------------------------------------- */

static void test_crud_and_validation(void **state)
{
    (void)state;
    char path[160];
    /* The list has the page, with its url and components in order. */
    it_resp *r = it_auth("GET", "/api/status-pages/", access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    json_t *p0 = json_array_get(json_object_get(r->body, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "slug")), slug);
    assert_non_null(strstr(json_string_value(json_object_get(p0, "url")), "/status/"));
    json_t *c0 = json_array_get(json_object_get(p0, "components"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "endpoint_id")), ep_api);
    assert_string_equal(json_string_value(json_object_get(c0, "group")), "Backend");
    it_resp_free(r);

    /* Slug rules and required fields, DRF-style field errors. */
    const char *bad[] = {"ab", "UPPER", "with space", "under_score", "", NULL};
    for (int i = 0; bad[i]; i++) {
        r = it_auth("POST", "/api/status-pages/", access_tok,
                    json_pack("{s:s,s:s}", "name", "x", "slug", bad[i]));
        assert_int_equal(r->status, 400);
        assert_true(json_is_array(json_object_get(r->body, "slug")));
        it_resp_free(r);
    }
    char longslug[80];
    memset(longslug, 'a', 64);
    longslug[64] = '\0';
    r = it_auth("POST", "/api/status-pages/", access_tok,
                json_pack("{s:s,s:s}", "name", "x", "slug", longslug));
    assert_int_equal(r->status, 400);
    it_resp_free(r);
    r = it_auth("POST", "/api/status-pages/", access_tok, json_pack("{s:s}", "slug", "abc-def"));
    assert_int_equal(r->status, 400);
    assert_true(json_is_array(json_object_get(r->body, "name")));
    it_resp_free(r);

    /* The slug is unique across the service: another tenant cannot take it. */
    r = it_auth("POST", "/api/status-pages/", other_access,
                json_pack("{s:s,s:s}", "name", "Copycat", "slug", slug));
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->raw, "already exists"));
    it_resp_free(r);

    /* Only the tenant's own endpoints: another tenant's id is refused, not shown. */
    char s2[64];
    random_slug(s2, sizeof(s2), "theft");
    r = it_auth("POST", "/api/status-pages/", access_tok,
                json_pack("{s:s,s:s,s:[{s:s}]}", "name", "x", "slug", s2, "components",
                          "endpoint_id", other_endpoint));
    assert_int_equal(r->status, 400);
    assert_true(json_is_array(json_object_get(r->body, "components")));
    it_resp_free(r);
    const char *sp[] = {s2};
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.status_page_slugs WHERE slug = $1", 1, sp), 0);
    r = it_auth("POST", "/api/status-pages/", access_tok,
                json_pack("{s:s,s:s,s:[{s:s},{s:s}]}", "name", "x", "slug", s2, "components",
                          "endpoint_id", ep_web, "endpoint_id", ep_web));
    assert_int_equal(r->status, 400);
    it_resp_free(r);

    /* Another tenant never sees the page: 404, not 403. */
    snprintf(path, sizeof(path), "/api/status-pages/%s/", page_id);
    r = it_auth("GET", path, other_access, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_auth("PATCH", path, other_access, json_pack("{s:s}", "name", "pwned"));
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_auth("DELETE", path, other_access, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->body, "name")), "Status Co <b>");
    it_resp_free(r);

    /* Create, patch (slug and components), delete: a page of its own. */
    r = it_auth("POST", "/api/status-pages/", access_tok,
                json_pack("{s:s,s:s,s:b}", "name", "Temp", "slug", s2, "show_uptime", 0));
    assert_int_equal(r->status, 201);
    assert_false(json_is_true(json_object_get(r->body, "show_uptime")));
    assert_true(json_is_true(json_object_get(r->body, "is_public")));
    char tmp_id[64], s3[64];
    snprintf(tmp_id, sizeof(tmp_id), "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    random_slug(s3, sizeof(s3), "renamed");
    snprintf(path, sizeof(path), "/api/status-pages/%s/", tmp_id);
    r = it_auth("PATCH", path, access_tok,
                json_pack("{s:s,s:[{s:s}]}", "slug", s3, "components", "endpoint_id", ep_web));
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->body, "slug")), s3);
    assert_int_equal(json_array_size(json_object_get(r->body, "components")), 1);
    /* The endpoint's own name when none is given. */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r->body, "components"), 0), "name")),
                        "web");
    it_resp_free(r);
    const char *sp3[] = {s3};
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.status_page_slugs WHERE slug = $1", 1, sp3), 1);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.status_page_slugs WHERE slug = $1", 1, sp), 0);
    r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    assert_int_equal(
        it_sql_long("SELECT count(*) FROM public.status_page_slugs WHERE slug = $1", 1, sp3), 0);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
}

/* Status pages are the owner's and admins': a member is refused every route (the role
 * table of every route and role is in test_team.c). */
static void test_members_may_not_edit(void **state)
{
    (void)state;
    char email[160], path[160];
    char *tid = it_signup_verified(email, sizeof(email), "Member Co");
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE \"%s\".users SET role = 'member'", tid);
    json_decref(it_sql(sql, 0, NULL));
    free(tid);
    char *t = login_token(email);
    it_resp *r = it_auth("GET", "/api/status-pages/", t, NULL);
    assert_int_equal(r->status, 403);
    assert_string_equal(json_string_value(json_object_get(r->body, "code")), "role_required");
    it_resp_free(r);
    r = it_auth("POST", "/api/status-pages/", t,
                json_pack("{s:s,s:s}", "name", "x", "slug", "member-made"));
    assert_int_equal(r->status, 403);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/status-pages/%s/", page_id);
    r = it_auth("DELETE", path, t, NULL);
    assert_int_equal(r->status, 403);
    it_resp_free(r);
    free(t);
    r = it_http("GET", "/api/status-pages/", NULL, NULL);
    assert_int_equal(r->status, 401);
    it_resp_free(r);
}

/* ---- the public side ---------------------------------------------------------------------------
 */

static void test_statuspage_json_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *path, *schema;
    } docs[] = {
        {"api/v2/summary.json", "summary.json"},
        {"api/v2/status.json", "status.json"},
        {"api/v2/components.json", "components.json"},
        {"api/v2/incidents.json", "incidents.json"},
        {"api/v2/incidents/unresolved.json", "incidents-unresolved.json"},
        {"api/v2/scheduled-maintenances.json", "scheduled-maintenances.json"},
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        it_resp *r = get_public(docs[i].path);
        if (r->status != 200)
            fail_msg("%s: %ld %s", docs[i].path, r->status, r->raw);
        assert_non_null(strstr(it_header(r, "Content-Type"), "application/json"));
        assert_string_equal(it_header(r, "Access-Control-Allow-Origin"), "*");
        assert_schema(docs[i].schema, r);
        assert_nothing_private(r);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(r->body, "page"), "name")),
            "Status Co <b>");
        it_resp_free(r);
    }
    /* The components as the owner named and grouped them, plus the group. */
    it_resp *r = get_public("api/v2/components.json");
    json_t *comps = json_object_get(r->body, "components");
    assert_int_equal(json_array_size(comps), 3);
    bool group_seen = false;
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        if (json_is_true(json_object_get(c, "group"))) {
            group_seen = true;
            assert_string_equal(json_string_value(json_object_get(c, "name")), "Backend");
            assert_string_equal(
                json_string_value(json_array_get(json_object_get(c, "components"), 0)), comp_api);
        }
    }
    assert_true(group_seen);
    it_resp_free(r);
}

static void test_page_renders_for_anyone(void **state)
{
    (void)state;
    it_resp *r = get_public("");
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(it_header(r, "Content-Type"), "text/html"));
    /* Escaped, for a phone, with the 90 daily bars of each component and no script at all. */
    assert_non_null(strstr(r->raw, "Status Co &lt;b&gt;"));
    assert_null(strstr(r->raw, "Status Co <b>"));
    assert_non_null(strstr(r->raw, "name=\"viewport\""));
    assert_non_null(strstr(r->raw, "Public API"));
    assert_non_null(strstr(r->raw, "Website"));
    assert_non_null(strstr(r->raw, "Backend"));
    assert_null(strstr(r->raw, "<script"));
    /* Each component: 90 daily bars (a title with the day each). */
    int bars = 0;
    for (const char *p = strstr(r->raw, "class=\"bars\""); p && (p = strstr(p, " title=\"20")); p++)
        bars++;
    assert_int_equal(bars, 2 * 90);
    assert_non_null(strstr(it_header(r, "Content-Security-Policy"), "default-src 'none'"));
    assert_nothing_private(r);
    it_resp_free(r);
    /* Without the trailing slash too. */
    char path[128];
    snprintf(path, sizeof(path), "/status/%s", slug);
    r = it_http("GET", path, NULL, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
}

static void assert_svg(const it_resp *r, const char *colour, const char *text)
{
    assert_int_equal(r->status, 200);
    assert_string_equal(it_header(r, "Content-Type"), "image/svg+xml");
    assert_true(strncmp(r->raw, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    if (colour && !strstr(r->raw, colour))
        fail_msg("badge without colour %s: %s", colour, r->raw);
    if (text && !strstr(r->raw, text))
        fail_msg("badge without %s: %s", text, r->raw);
    /* Well-formed XML. */
    char doc[] = "/tmp/sw-badge-XXXXXX";
    int fd = mkstemp(doc);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, r->raw, r->raw_len), (ssize_t)r->raw_len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c 'import sys, xml.dom.minidom as m; "
             "assert m.parse(sys.argv[1]).documentElement.tagName == \"svg\"' %s",
             doc);
    int rc = system(cmd);
    unlink(doc);
    assert_int_equal(rc, 0);
}

static void test_badges(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "badge/%s/status.svg", comp_web);
    it_resp *r = get_public(path);
    assert_svg(r, "#4c1", ">up<");
    assert_nothing_private(r);
    it_resp_free(r);
    const char *windows[] = {"uptime-24h.svg", "uptime-7d.svg",     "uptime-30d.svg",
                             "uptime-90d.svg", "response-time.svg", NULL};
    for (int i = 0; windows[i]; i++) {
        snprintf(path, sizeof(path), "badge/%s/%s", comp_web, windows[i]);
        r = get_public(path);
        assert_svg(r, NULL, NULL);
        it_resp_free(r);
    }
    snprintf(path, sizeof(path), "badge/%s/shields.json", comp_web);
    r = get_public(path);
    assert_int_equal(r->status, 200);
    assert_schema("shields.json", r);
    assert_string_equal(json_string_value(json_object_get(r->body, "label")), "Website");
    assert_string_equal(json_string_value(json_object_get(r->body, "message")), "up");
    assert_string_equal(json_string_value(json_object_get(r->body, "color")), "brightgreen");
    it_resp_free(r);
    /* An endpoint id is not a component id; a component of no page of this slug is 404. */
    snprintf(path, sizeof(path), "badge/%s/status.svg", ep_web);
    r = get_public(path);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    snprintf(path, sizeof(path), "badge/%s/nothing.svg", comp_web);
    r = get_public(path);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
}

/* The recorder marks the endpoint down; within 5 s the page, summary.json and the badge say
 * so, and the incident is listed; then it recovers. */
static void test_outage_shows_within_5s(void **state)
{
    (void)state;
    const char *p[] = {ep_api};
    char sql[256];
    /* Warm the cache first, so what follows proves the edge drops it. */
    it_resp_free(get_public("api/v2/summary.json"));
    it_resp_free(get_public(""));
    set_switch("sp-api", 500);
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now() WHERE endpoint_id = "
                       "$1::uuid",
                       1, p));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM public.endpoint_state WHERE endpoint_id = "
             "$1::uuid AND status = 'down'");
    assert_int_equal(it_wait_count(sql, 1, p, 1, 30000), 1);
    bool json_down = false, html_down = false;
    for (int w = 0; w <= 5000 && !(json_down && html_down); w += 250) {
        if (!json_down) {
            it_resp *r = get_public("api/v2/summary.json");
            const char *s = component_status(r->body, comp_api);
            json_down = s && strcmp(s, "major_outage") == 0 &&
                        strcmp(json_string_value(json_object_get(json_object_get(r->body, "status"),
                                                                 "indicator")),
                               "major") == 0 &&
                        json_array_size(json_object_get(r->body, "incidents")) == 1;
            if (json_down) {
                assert_schema("summary.json", r);
                assert_nothing_private(r);
            }
            it_resp_free(r);
        }
        if (!html_down) {
            it_resp *r = get_public("");
            html_down = strstr(r->raw, "data-status=\"major_outage\"") &&
                        strstr(r->raw, "Partial System Outage") && strstr(r->raw, "Open incidents");
            if (html_down)
                assert_nothing_private(r);
            it_resp_free(r);
        }
        if (!(json_down && html_down))
            usleep(250 * 1000);
    }
    assert_true(json_down);
    assert_true(html_down);
    char path[256];
    snprintf(path, sizeof(path), "badge/%s/status.svg", comp_api);
    it_resp *r = get_public(path);
    assert_svg(r, "#e05d44", ">down<");
    it_resp_free(r);
    r = get_public("api/v2/incidents/unresolved.json");
    assert_schema("incidents-unresolved.json", r);
    json_t *inc = json_array_get(json_object_get(r->body, "incidents"), 0);
    assert_string_equal(json_string_value(json_object_get(inc, "status")), "investigating");
    assert_nothing_private(r);
    it_resp_free(r);

    /* Recovery: resolved, listed among the past incidents. */
    set_switch("sp-api", 200);
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now() WHERE endpoint_id = "
                       "$1::uuid",
                       1, p));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM public.endpoint_state WHERE endpoint_id = "
             "$1::uuid AND status = 'up'");
    assert_int_equal(it_wait_count(sql, 1, p, 1, 30000), 1);
    bool resolved = false;
    for (int w = 0; w <= 5000 && !resolved; w += 250) {
        r = get_public("api/v2/incidents.json");
        json_t *i0 = json_array_get(json_object_get(r->body, "incidents"), 0);
        resolved = i0 && strcmp(json_string_value(json_object_get(i0, "status")), "resolved") == 0;
        if (resolved)
            assert_schema("incidents.json", r);
        it_resp_free(r);
        if (!resolved)
            usleep(250 * 1000);
    }
    assert_true(resolved);
    r = get_public("");
    assert_non_null(strstr(r->raw, "Resolved"));
    assert_null(strstr(r->raw, "Open incidents"));
    it_resp_free(r);
}

static void test_private_unknown_and_other_pages(void **state)
{
    (void)state;
    it_resp *r = it_http("GET", "/status/no-such-page-here/", NULL, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_http("GET", "/status/x/", NULL, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_http("GET", "/status/Upper-Case/", NULL, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = it_http("POST", "/status/anything/", "{}", "Content-Type: application/json", NULL);
    assert_int_equal(r->status, 405);
    it_resp_free(r);

    /* A private page of the same tenant: 404 everywhere, even for its own components. */
    char s2[64], path[256], api_path[160];
    random_slug(s2, sizeof(s2), "private");
    r = it_auth("POST", "/api/status-pages/", access_tok,
                json_pack("{s:s,s:s,s:b,s:[{s:s}]}", "name", "Hidden", "slug", s2, "is_public", 0,
                          "components", "endpoint_id", ep_web));
    assert_int_equal(r->status, 201);
    char hidden_comp[64], hidden_id[64];
    snprintf(hidden_id, sizeof(hidden_id), "%s", json_string_value(json_object_get(r->body, "id")));
    snprintf(hidden_comp, sizeof(hidden_comp), "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(r->body, "components"), 0), "id")));
    it_resp_free(r);
    const char *rests[] = {"", "api/v2/summary.json", "api/v2/components.json", NULL};
    for (int i = 0; rests[i]; i++) {
        snprintf(path, sizeof(path), "/status/%s/%s", s2, rests[i]);
        r = it_http("GET", path, NULL, NULL);
        assert_int_equal(r->status, 404);
        it_resp_free(r);
    }
    snprintf(path, sizeof(path), "/status/%s/badge/%s/status.svg", s2, hidden_comp);
    r = it_http("GET", path, NULL, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    /* The public page does not answer for another page's component. */
    snprintf(path, sizeof(path), "badge/%s/status.svg", hidden_comp);
    r = get_public(path);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    /* Published: visible within moments (the edge drops its cached 404). */
    snprintf(api_path, sizeof(api_path), "/api/status-pages/%s/", hidden_id);
    r = it_auth("PATCH", api_path, access_tok,
                json_pack("{s:b,s:b}", "is_public", 1, "show_uptime", 0));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    long status = 0;
    for (int w = 0; w <= 5000 && status != 200; w += 250) {
        snprintf(path, sizeof(path), "/status/%s/api/v2/status.json", s2);
        r = it_http("GET", path, NULL, NULL);
        status = r->status;
        it_resp_free(r);
        if (status != 200)
            usleep(250 * 1000);
    }
    assert_int_equal(status, 200);
    /* Uptime hidden by the owner: no bars, no uptime or latency badges. */
    snprintf(path, sizeof(path), "/status/%s/badge/%s/uptime-30d.svg", s2, hidden_comp);
    r = it_http("GET", path, NULL, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/status/%s/", s2);
    r = it_http("GET", path, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(strstr(r->raw, "class=\"bars\""));
    it_resp_free(r);
    r = it_auth("DELETE", api_path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
}

static void test_etag_and_cache_control(void **state)
{
    (void)state;
    it_resp *r = get_public("api/v2/summary.json");
    assert_int_equal(r->status, 200);
    char etag[64];
    snprintf(etag, sizeof(etag), "%s", it_header(r, "ETag"));
    assert_true(etag[0] == '"');
    assert_non_null(strstr(it_header(r, "Cache-Control"), "max-age="));
    assert_non_null(strstr(it_header(r, "Cache-Control"), "public"));
    it_resp_free(r);
    char inm[96], path[256];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    snprintf(path, sizeof(path), "/status/%s/api/v2/summary.json", slug);
    r = it_http("GET", path, NULL, inm, NULL);
    /* Unchanged since: 304 with no body (the document may have moved on: then 200). */
    if (r->status == 304) {
        assert_int_equal(r->raw_len, 0);
        assert_string_equal(it_header(r, "ETag"), etag);
    } else {
        assert_int_equal(r->status, 200);
        assert_string_not_equal(it_header(r, "ETag"), etag);
    }
    it_resp_free(r);
    r = it_http("GET", path, NULL, "If-None-Match: \"0000000000000000\"", NULL);
    assert_int_equal(r->status, 200);
    assert_true(r->raw_len > 0);
    it_resp_free(r);
    r = it_http("HEAD", path, NULL, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
}

/* Deleting an endpoint takes it off the page. */
static void test_deleted_endpoint_leaves_the_page(void **state)
{
    (void)state;
    char id[64], s2[64], path[160];
    create_endpoint(id, sizeof(id), access_tok, "/ok?short-lived", "short-lived");
    random_slug(s2, sizeof(s2), "shortlived");
    it_resp *r = it_auth("POST", "/api/status-pages/", access_tok,
                         json_pack("{s:s,s:s,s:[{s:s}]}", "name", "Short", "slug", s2, "components",
                                   "endpoint_id", id));
    assert_int_equal(r->status, 201);
    char pid[64];
    snprintf(pid, sizeof(pid), "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/status-pages/%s/", pid);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(json_array_size(json_object_get(r->body, "components")), 0);
    it_resp_free(r);
    r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
}

/* A maintenance window (sw-notify writes its occurrences into public.maintenance_periods, one
 * row per endpoint): the component is under_maintenance, the window is listed, the badge blue.
 * Skipped while that table (issue 19) is not in the schema. */
static void test_maintenance_shows_under_maintenance(void **state)
{
    (void)state;
    if (it_sql_long("SELECT count(*) FROM pg_class WHERE relname = 'maintenance_periods'"
                    " AND relnamespace = 'public'::regnamespace",
                    0, NULL) == 0) {
        print_message("public.maintenance_periods does not exist yet (issue 19): skipped\n");
        skip();
    }
    const char *p[] = {tenant, ep_web, ep_api};
    json_decref(it_sql("INSERT INTO public.maintenance_periods (tenant_id, window_id, endpoint_id,"
                       "  starts_at, ends_at) VALUES"
                       " ($1, gen_random_uuid(), $2::uuid, now() - interval '1 minute',"
                       "  now() + interval '1 hour'),"
                       " ($1, gen_random_uuid(), $3::uuid, now() + interval '1 day',"
                       "  now() + interval '1 day 2 hours')",
                       3, p));
    bool seen = false;
    for (int w = 0; w <= 5000 && !seen; w += 250) {
        it_resp *r = get_public("api/v2/summary.json");
        const char *st = component_status(r->body, comp_web);
        seen = st && strcmp(st, "under_maintenance") == 0;
        if (seen) {
            assert_schema("summary.json", r);
            json_t *mts = json_object_get(r->body, "scheduled_maintenances");
            assert_int_equal(json_array_size(mts), 2);
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(mts, 0), "status")),
                "in_progress");
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(mts, 1), "status")), "scheduled");
            assert_nothing_private(r);
        }
        it_resp_free(r);
        if (!seen)
            usleep(250 * 1000);
    }
    assert_true(seen);
    it_resp *r = get_public("api/v2/scheduled-maintenances.json");
    assert_schema("scheduled-maintenances.json", r);
    it_resp_free(r);
    char path[256];
    snprintf(path, sizeof(path), "badge/%s/status.svg", comp_web);
    r = get_public(path);
    assert_svg(r, "#007ec6", ">maintenance<");
    it_resp_free(r);
    r = get_public("");
    assert_non_null(strstr(r->raw, "Maintenance in progress"));
    assert_non_null(strstr(r->raw, "data-status=\"under_maintenance\""));
    it_resp_free(r);
    json_decref(it_sql("DELETE FROM public.maintenance_periods WHERE tenant_id = $1", 1, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crud_and_validation),
        cmocka_unit_test(test_members_may_not_edit),
        cmocka_unit_test(test_statuspage_json_shapes),
        cmocka_unit_test(test_page_renders_for_anyone),
        cmocka_unit_test(test_badges),
        cmocka_unit_test(test_etag_and_cache_control),
        cmocka_unit_test(test_private_unknown_and_other_pages),
        cmocka_unit_test(test_deleted_endpoint_leaves_the_page),
        cmocka_unit_test(test_maintenance_shows_under_maintenance),
        cmocka_unit_test(test_outage_shows_within_5s),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
