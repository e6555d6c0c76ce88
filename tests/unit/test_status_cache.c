/* The edge's cache of public status documents (http/status_cache.h): what is fresh, who
 * refreshes a stale document while the others keep being served, what an event invalidates,
 * the cap on entries, the ETag, and which paths under /status/ are documents at all. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "http/status_cache.h"

#define MS 1000000LL

static edge_status_doc *doc(const char *body, const char *tenant, int64_t at)
{
    edge_status_doc *d =
        edge_status_doc_new(200, "application/json", body, strlen(body), tenant, at);
    assert_non_null(d);
    return d;
}

static void test_fresh_stale_and_one_refresher(void **state)
{
    (void)state;
    edge_status_cache *c = NULL;
    bool fresh, claimed;
    assert_int_equal(edge_status_cache_new(&c, 100, 2000 * MS), SW_OK);
    assert_null(edge_status_cache_get(c, "acme/", 0, &fresh, &claimed));
    assert_false(claimed); /* nothing to serve: every caller fetches */
    edge_status_cache_put(c, "acme/", doc("v1", "t_a", 0));

    edge_status_doc *d = edge_status_cache_get(c, "acme/", 1999 * MS, &fresh, &claimed);
    assert_true(fresh);
    assert_false(claimed);
    assert_string_equal(d->body, "v1");
    edge_status_doc_release(d);

    /* Past the TTL: the first caller claims the refresh, the others get the old one. */
    d = edge_status_cache_get(c, "acme/", 2000 * MS, &fresh, &claimed);
    assert_false(fresh);
    assert_true(claimed);
    edge_status_doc *d2 = edge_status_cache_get(c, "acme/", 2001 * MS, &fresh, &claimed);
    assert_false(fresh);
    assert_false(claimed);
    assert_string_equal(d2->body, "v1");
    edge_status_doc_release(d2);
    /* The new version replaces it, and the old one lives on for whoever holds it. */
    edge_status_cache_put(c, "acme/", doc("v2", "t_a", 2002 * MS));
    assert_string_equal(d->body, "v1");
    edge_status_doc_release(d);
    d = edge_status_cache_get(c, "acme/", 2003 * MS, &fresh, &claimed);
    assert_true(fresh);
    assert_string_equal(d->body, "v2");
    edge_status_doc_release(d);

    /* A refresh that failed gives the claim back: the next caller tries again. */
    d = edge_status_cache_get(c, "acme/", 9000 * MS, &fresh, &claimed);
    assert_true(claimed);
    edge_status_doc_release(d);
    edge_status_cache_abandon(c, "acme/");
    d = edge_status_cache_get(c, "acme/", 9001 * MS, &fresh, &claimed);
    assert_true(claimed);
    assert_string_equal(d->body, "v2");
    edge_status_doc_release(d);
    edge_status_cache_free(c);
}

static void test_events_invalidate_their_tenant(void **state)
{
    (void)state;
    edge_status_cache *c = NULL;
    bool fresh, claimed;
    assert_int_equal(edge_status_cache_new(&c, 100, 60000 * MS), SW_OK);
    edge_status_cache_put(c, "a/", doc("a", "t_a", 0));
    edge_status_cache_put(c, "a/api/v2/summary.json", doc("a2", "t_a", 0));
    edge_status_cache_put(c, "b/", doc("b", "t_b", 0));
    edge_status_cache_put(c, "gone/", doc("404", "", 0)); /* an unknown slug */
    /* t_a's two documents and the unknown slug (a new page of t_a may have taken it). */
    assert_int_equal(edge_status_cache_invalidate(c, "t_a"), 3);
    edge_status_doc *d = edge_status_cache_get(c, "a/", 1, &fresh, &claimed);
    assert_false(fresh);
    assert_true(claimed);
    edge_status_doc_release(d);
    d = edge_status_cache_get(c, "gone/", 1, &fresh, &claimed);
    assert_false(fresh);
    edge_status_doc_release(d);
    d = edge_status_cache_get(c, "b/", 1, &fresh, &claimed);
    assert_true(fresh);
    edge_status_doc_release(d);
    /* A new version is fresh again. */
    edge_status_cache_put(c, "a/", doc("a-new", "t_a", 2));
    d = edge_status_cache_get(c, "a/", 3, &fresh, &claimed);
    assert_true(fresh);
    assert_string_equal(d->body, "a-new");
    edge_status_doc_release(d);
    edge_status_cache_free(c);
}

static void test_cap_and_etag(void **state)
{
    (void)state;
    edge_status_cache *c = NULL;
    bool fresh, claimed;
    char key[32];
    assert_int_equal(edge_status_cache_new(&c, 3, 60000 * MS), SW_OK);
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "slug%d/", i);
        edge_status_cache_put(c, key, doc("x", "t", 0));
    }
    assert_int_equal(edge_status_cache_count(c), 3);
    assert_null(edge_status_cache_get(c, "slug4/", 1, &fresh, &claimed));
    /* Known keys are still replaced when the cache is full. */
    edge_status_cache_put(c, "slug0/", doc("y", "t", 1));
    edge_status_doc *d = edge_status_cache_get(c, "slug0/", 2, &fresh, &claimed);
    assert_string_equal(d->body, "y");
    edge_status_doc *same = doc("y", "t", 5), *other = doc("z", "t", 5);
    assert_string_equal(d->etag, same->etag);
    assert_string_not_equal(d->etag, other->etag);
    assert_int_equal(strlen(d->etag), 18);
    assert_true(d->etag[0] == '"' && d->etag[17] == '"');
    edge_status_doc_release(d);
    edge_status_doc_release(same);
    edge_status_doc_release(other);
    edge_status_cache_free(c);
}

static void test_paths(void **state)
{
    (void)state;
    char slug[64], rest[128];
    static const struct {
        const char *path;
        bool ok;
        const char *slug, *rest;
    } cases[] = {
        {"acme", true, "acme", ""},
        {"acme/", true, "acme", ""},
        {"acme-co-2/api/v2/summary.json", true, "acme-co-2", "api/v2/summary.json"},
        {"acme/api/v2/incidents/unresolved.json", true, "acme", "api/v2/incidents/unresolved.json"},
        {"acme/api/v2/scheduled-maintenances.json", true, "acme",
         "api/v2/scheduled-maintenances.json"},
        {"acme/badge/0f8fad5b-d9cb-469f-a165-70867728950e/uptime-30d.svg", true, "acme",
         "badge/0f8fad5b-d9cb-469f-a165-70867728950e/uptime-30d.svg"},
        {"acme/badge/0f8fad5b-d9cb-469f-a165-70867728950e/shields.json", true, "acme",
         "badge/0f8fad5b-d9cb-469f-a165-70867728950e/shields.json"},
        {"ab/", false, NULL, NULL},
        {"Acme/", false, NULL, NULL},
        {"acme/api/v2/pages.json", false, NULL, NULL},
        {"acme/api/v2/summary.json/", false, NULL, NULL},
        {"acme/badge/0F8FAD5B-D9CB-469F-A165-70867728950E/status.svg", false, NULL, NULL},
        {"acme/badge/0f8fad5b-d9cb-469f-a165-70867728950e/other.svg", false, NULL, NULL},
        {"acme/badge/../../status.svg", false, NULL, NULL},
        {"acme/index.html", false, NULL, NULL},
        {"acme//", false, NULL, NULL},
        {"", false, NULL, NULL},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/", false, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = edge_status_path(cases[i].path, slug, sizeof(slug), rest, sizeof(rest));
        if (ok != cases[i].ok)
            fail_msg("%s: %s", cases[i].path, ok ? "accepted" : "refused");
        if (ok) {
            assert_string_equal(slug, cases[i].slug);
            assert_string_equal(rest, cases[i].rest);
        }
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_stale_and_one_refresher),
        cmocka_unit_test(test_events_invalidate_their_tenant),
        cmocka_unit_test(test_cap_and_etag),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
