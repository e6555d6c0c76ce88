/* The probe job and the probe result (bus/messages.h): what the one encoder writes, the one
 * decoder reads back field for field, through JSON text as it travels; the decoder refuses
 * what could not be stored, and takes tenant and region from the result's subject. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus/messages.h"

#define EP "0b5c3e4a-1f2d-4c6b-9a8e-7d6c5b4a3f21"
#define TENANT "t_abcdefghijklmnopqrstuvwx"

/* Encodes, prints, parses: what a consumer receives. *o: owned. */
static json_t *through_wire(json_t *encoded)
{
    assert_non_null(encoded);
    char *text = json_dumps(encoded, JSON_COMPACT);
    assert_non_null(text);
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    free(text);
    json_decref(encoded);
    return o;
}

static void job_round_trips(void **state)
{
    (void)state;
    json_t *expected = json_pack("[i,i]", 200, 204);
    bus_probe_job j = {.endpoint_id = EP,
                       .tenant_id = TENANT,
                       .region = "eu-west",
                       .url = "https://example.com/health?x=1",
                       .due_epoch = 1764600000,
                       .timeout_seconds = 7,
                       .expected_status = expected};
    assert_true(bus_probe_job_set_id(&j));
    assert_string_equal(j.job_id, EP ":1764600000:eu-west");
    json_t *o = through_wire(bus_probe_job_encode(&j));
    bus_probe_job d;
    assert_int_equal(bus_probe_job_decode(&d, o), SW_OK);
    assert_string_equal(d.job_id, j.job_id);
    assert_string_equal(d.endpoint_id, EP);
    assert_string_equal(d.tenant_id, TENANT);
    assert_string_equal(d.region, "eu-west");
    assert_string_equal(d.url, j.url);
    assert_int_equal(d.due_epoch, 1764600000);
    assert_int_equal(d.timeout_seconds, 7);
    assert_true(json_equal((json_t *)d.expected_status, expected));
    /* Thresholds and quorum never travel in a job: they are the recorder's own data. */
    assert_null(json_object_get(o, "failure_threshold"));
    assert_null(json_object_get(o, "regions_total"));
    json_decref(o);

    /* Without expected_status the decoder leaves the prober's default. */
    j.expected_status = NULL;
    o = through_wire(bus_probe_job_encode(&j));
    assert_int_equal(bus_probe_job_decode(&d, o), SW_OK);
    assert_null(d.expected_status);
    json_decref(o);
    json_decref(expected);
}

static void job_decoder_refuses_what_cannot_be_checked(void **state)
{
    (void)state;
    static const char *bad[] = {
        "[]",
        "{}",
        /* endpoint id not a UUID */
        "{\"job_id\":\"x\",\"endpoint_id\":\"nope\",\"tenant_id\":\"" TENANT
        "\",\"region\":\"local\","
        "\"url\":\"http://a/\",\"due_epoch\":1764600000}",
        /* no url */
        "{\"job_id\":\"x\",\"endpoint_id\":\"" EP "\",\"tenant_id\":\"" TENANT
        "\",\"region\":\"local\","
        "\"due_epoch\":1764600000}",
        /* due time a string */
        "{\"job_id\":\"x\",\"endpoint_id\":\"" EP "\",\"tenant_id\":\"" TENANT
        "\",\"region\":\"local\","
        "\"url\":\"http://a/\",\"due_epoch\":\"soon\"}",
        /* due time before 2001 */
        "{\"job_id\":\"x\",\"endpoint_id\":\"" EP "\",\"tenant_id\":\"" TENANT
        "\",\"region\":\"local\","
        "\"url\":\"http://a/\",\"due_epoch\":5}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = json_loads(bad[i], 0, NULL);
        bus_probe_job d;
        assert_int_equal(bus_probe_job_decode(&d, o), SW_EINVAL);
        json_decref(o);
    }
    assert_int_equal(bus_probe_job_decode(&(bus_probe_job){0}, NULL), SW_EINVAL);

    /* A timeout out of range is the default, as the prober always did. */
    json_t *o = json_loads("{\"job_id\":\"x\",\"endpoint_id\":\"" EP "\",\"tenant_id\":\"" TENANT
                           "\",\"region\":\"local\",\"url\":\"http://a/\",\"due_epoch\":1764600000,"
                           "\"timeout_seconds\":600}",
                           0, NULL);
    bus_probe_job d;
    assert_int_equal(bus_probe_job_decode(&d, o), SW_OK);
    assert_int_equal(d.timeout_seconds, BUS_PROBE_TIMEOUT_DEFAULT_S);
    json_decref(o);
}

static bus_probe_result sample_result(void)
{
    bus_probe_result r = {.job_id = EP ":1764600000:eu-west",
                          .endpoint_id = EP,
                          .due_epoch = 1764600000,
                          .checked_at_ms = 1764600000123LL,
                          .attempt = 2,
                          .ok = false,
                          .blocked = true,
                          .final = false,
                          .http_status = 503,
                          .error = "unexpected status 503 \"quoted\"",
                          .dns_ms = 1.5,
                          .connect_ms = 2.25,
                          .tls_ms = 0,
                          .ttfb_ms = 10.125,
                          .total_ms = 12.5};
    strcpy(r.tenant_id, TENANT);
    strcpy(r.region, "eu-west");
    return r;
}

static void result_round_trips_through_its_subject(void **state)
{
    (void)state;
    bus_probe_result r = sample_result();
    char subject[BUS_SUBJECT_MAX];
    assert_true(bus_subject_result(subject, sizeof(subject), r.region, r.tenant_id));
    assert_string_equal(subject, "sw.v1.results.eu-west." TENANT);
    json_t *o = through_wire(bus_probe_result_encode(&r));
    bus_probe_result d;
    assert_int_equal(bus_probe_result_decode(&d, o, subject), BUS_RESULT_OK);
    assert_string_equal(d.job_id, r.job_id);
    assert_string_equal(d.endpoint_id, EP);
    assert_string_equal(d.tenant_id, TENANT);
    assert_string_equal(d.region, "eu-west");
    assert_int_equal(d.due_epoch, r.due_epoch);
    assert_int_equal(d.checked_at_ms, r.checked_at_ms);
    assert_int_equal(d.attempt, 2);
    assert_false(d.ok);
    assert_true(d.blocked);
    assert_false(d.final);
    assert_int_equal(d.http_status, 503);
    assert_string_equal(d.error, r.error);
    assert_true(d.dns_ms == 1.5 && d.connect_ms == 2.25 && d.tls_ms == 0 && d.ttfb_ms == 10.125 &&
                d.total_ms == 12.5);
    json_decref(o);
}

static void result_tenant_and_region_come_from_the_subject(void **state)
{
    (void)state;
    bus_probe_result r = sample_result(), d;
    json_t *o = through_wire(bus_probe_result_encode(&r));
    /* The same payload published as another region or for another tenant is a forgery. */
    assert_int_equal(bus_probe_result_decode(&d, o, "sw.v1.results.local." TENANT),
                     BUS_RESULT_FORGED);
    assert_string_equal(d.region, "local");
    assert_int_equal(
        bus_probe_result_decode(&d, o, "sw.v1.results.eu-west.t_otherotherotherotherothe"),
        BUS_RESULT_FORGED);
    assert_string_equal(d.tenant_id, "t_otherotherotherotherothe");
    /* Subjects that are not a result's. */
    static const char *subjects[] = {
        "sw.v1.results.eu-west",    "sw.v1.results.eu-west." TENANT ".x", "sw.v1.results..x",
        "sw.v1.jobs.probe.eu-west", "sw.v1.results.eu west." TENANT,      NULL};
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
        assert_int_equal(bus_probe_result_decode(&d, o, subjects[i]), BUS_RESULT_MALFORMED);
    json_decref(o);
}

/* Each mutation of a good result the database could not store, or a consumer could not read. */
static void result_decoder_refuses_what_cannot_be_stored(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *json; /* the value put in its place; NULL: removed */
    } bad[] = {
        {"job_id", NULL},         {"job_id", "7"},           {"endpoint_id", "\"not-a-uuid\""},
        {"endpoint_id", NULL},    {"tenant_id", NULL},       {"region", NULL},
        {"attempt", "\"x\""},     {"attempt", "0"},          {"attempt", "70000"},
        {"http_status", "-1"},    {"http_status", "1000"},   {"due_epoch", "1e30"},
        {"due_epoch", "12"},      {"checked_at_ms", "null"}, {"ok", NULL},
        {"ok", "\"yes\""},        {"blocked", "1"},          {"error", "{}"},
        {"total_ms", "\"fast\""}, {"total_ms", "-3"},        {"dns_ms", "1e300"},
    };
    const char *subject = "sw.v1.results.eu-west." TENANT;
    bus_probe_result r = sample_result(), d;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = through_wire(bus_probe_result_encode(&r));
        if (bad[i].json)
            json_object_set_new(o, bad[i].key, json_loads(bad[i].json, JSON_DECODE_ANY, NULL));
        else
            json_object_del(o, bad[i].key);
        if (bus_probe_result_decode(&d, o, subject) != BUS_RESULT_MALFORMED)
            fail_msg("%s = %s was accepted", bad[i].key, bad[i].json ? bad[i].json : "(absent)");
        json_decref(o);
    }
    assert_int_equal(bus_probe_result_decode(&d, NULL, subject), BUS_RESULT_MALFORMED);
}

static void subjects_and_ids_follow_the_contract(void **state)
{
    (void)state;
    char s[BUS_SUBJECT_MAX], tenant[BUS_TENANT_MAX];
    assert_true(bus_subject_probe_job(s, sizeof(s), "local"));
    assert_string_equal(s, "sw.v1.jobs.probe.local");
    assert_true(bus_consumer_probers(s, sizeof(s), "eu-west"));
    assert_string_equal(s, "probers-eu-west");
    assert_true(bus_subject_event(s, sizeof(s), TENANT, BUS_EVT_PLAN_CHANGED));
    assert_string_equal(s, "sw.v1.evt." TENANT ".plan.changed");
    assert_true(bus_subject_event_tenant(s, tenant));
    assert_string_equal(tenant, TENANT);
    assert_false(bus_subject_event_tenant("sw.v1.jobs.mail", tenant));
    assert_false(bus_subject_probe_job(s, 10, "local")); /* does not fit */
    assert_true(bus_uuid_valid(EP));
    assert_false(bus_uuid_valid("0B5C3E4A-1F2D-4C6B-9A8E-7D6C5B4A3F21"));
    assert_false(bus_uuid_valid(EP "0"));
}

/* Heartbeat pings: what the edge encodes the recorder decodes; the tenant is the subject's. */
static void ping_roundtrip(void **state)
{
    (void)state;
    bus_ping p = {.ping_id = "0123456789abcdef0123456789abcdef",
                  .endpoint_id = "0b5c3e4a-1f2d-4c6b-9a8e-7d6c5b4a3f21",
                  .kind = "fail",
                  .exit_status = 3,
                  .received_at_ms = 1764547200000,
                  .method = "POST",
                  .client_ip = "203.0.113.9",
                  .user_agent = "curl/7.88.1",
                  .body = "backup failed: disk full"};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "t_abc");
    char subject[BUS_SUBJECT_MAX];
    assert_true(bus_subject_ping(subject, sizeof(subject), "t_abc"));
    assert_string_equal(subject, "sw.v1.pings.t_abc");
    json_t *o = bus_ping_encode(&p);
    assert_non_null(o);
    bus_ping d;
    assert_true(bus_ping_decode(&d, o, subject));
    assert_string_equal(d.tenant_id, "t_abc");
    assert_string_equal(d.kind, "fail");
    assert_int_equal(d.exit_status, 3);
    assert_string_equal(d.body, "backup failed: disk full");
    assert_true(d.received_at_ms == 1764547200000);
    /* Another tenant's subject: refused. */
    assert_false(bus_ping_decode(&d, o, "sw.v1.pings.t_other"));
    assert_false(bus_ping_decode(&d, o, "sw.v1.results.local.t_abc"));
    json_object_set_new(o, "kind", json_string("explode"));
    assert_false(bus_ping_decode(&d, o, subject));
    json_decref(o);
    p.kind = "nope";
    assert_null(bus_ping_encode(&p));
    p.kind = "success";
    p.exit_status = 256;
    assert_null(bus_ping_encode(&p));
    /* The text the edge publishes: what jansson reads back, escapes and UTF-8 included. */
    p.exit_status = -1;
    p.body = "say \"hi\"\\ \x01\n\ttab caf\xc3\xa9 \xf0\x9f\x98\x80 </script>";
    p.user_agent = "agent/1 \"x\"";
    size_t len = 0;
    char *text = bus_ping_encode_text(&p, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    o = json_loadb(text, len, 0, NULL);
    assert_non_null(o);
    assert_true(bus_ping_decode(&d, o, subject));
    assert_string_equal(d.body, p.body);
    assert_string_equal(d.user_agent, p.user_agent);
    assert_int_equal(d.exit_status, -1);
    assert_null(json_object_get(o, "exit_status"));
    json_decref(o);
    free(text);
    p.body = "cut \xe2\x82"; /* not UTF-8 */
    assert_null(bus_ping_encode_text(&p, &len));
}

static void ping_key_roundtrip(void **state)
{
    (void)state;
    char h1[BUS_PING_KEY_HASH_HEX + 1], h2[BUS_PING_KEY_HASH_HEX + 1], subject[BUS_SUBJECT_MAX];
    bus_ping_key_hash(h1, "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f");
    bus_ping_key_hash(h2, "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e50");
    assert_int_equal(strlen(h1), BUS_PING_KEY_HASH_HEX);
    assert_string_not_equal(h1, h2);
    assert_null(strstr(h1, "9f1c2d3e")); /* the subject never shows the secret */
    assert_true(bus_subject_ping_key(subject, sizeof(subject), h1));
    bus_ping_key k = {.removed = true};
    snprintf(k.tenant_id, sizeof(k.tenant_id), "t_abc");
    snprintf(k.endpoint_id, sizeof(k.endpoint_id), "0b5c3e4a-1f2d-4c6b-9a8e-7d6c5b4a3f21");
    json_t *o = bus_ping_key_encode(&k);
    char *text = json_dumps(o, JSON_COMPACT);
    bus_ping_key d;
    assert_true(bus_ping_key_decode(&d, subject, text, (int)strlen(text)));
    assert_string_equal(d.hash, h1);
    assert_string_equal(d.tenant_id, "t_abc");
    assert_true(d.removed);
    assert_false(bus_ping_key_decode(&d, "sw.v1.pingkeys.xyz", text, (int)strlen(text)));
    assert_false(bus_ping_key_decode(&d, subject, "{}", 2));
    free(text);
    json_decref(o);
}

/* ---- audit object ---------------------------------------------------------------------------- */

#define USER "6f1d2c3b-4a59-4e7d-8c1b-2a3f4e5d6c7b"
#define TOKEN "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

static void audit_round_trips(void **state)
{
    (void)state;
    json_t *detail = json_pack("{s:[s]}", "fields", "name");
    bus_audit a = {.action = "endpoint.updated",
                   .target_type = "endpoint",
                   .target_id = EP,
                   .target_label = "Öffentliche API",
                   .user_id = USER,
                   .token_id = TOKEN,
                   .client_ip = "203.0.113.9",
                   .actor_label = "ignored with a user",
                   .request_id = "abc123",
                   .at_ms = 1733112000123LL,
                   .detail = detail};
    json_t *evt = json_pack("{s:s}", "endpoint_id", EP);
    assert_true(bus_audit_put(evt, &a));
    json_t *o = through_wire(evt);
    bus_audit b;
    assert_int_equal(bus_audit_decode(&b, o), SW_OK);
    assert_string_equal(b.action, a.action);
    assert_string_equal(b.target_type, a.target_type);
    assert_string_equal(b.target_id, a.target_id);
    assert_string_equal(b.target_label, a.target_label);
    assert_string_equal(b.user_id, USER);
    assert_string_equal(b.token_id, TOKEN);
    assert_string_equal(b.client_ip, a.client_ip);
    assert_string_equal(b.request_id, a.request_id);
    assert_null(b.actor_label); /* a user's label is the writer's to look up */
    assert_true(b.at_ms == a.at_ms);
    assert_true(json_equal((json_t *)b.detail, detail));
    json_decref(o);

    /* The system as actor: no user, no token, a label. */
    bus_audit s = {.action = "plan.changed",
                   .target_type = "organization",
                   .target_id = TENANT,
                   .actor_label = "Stripe",
                   .at_ms = 1733112000123LL};
    evt = json_object();
    assert_true(bus_audit_put(evt, &s));
    o = through_wire(evt);
    assert_int_equal(bus_audit_decode(&b, o), SW_OK);
    assert_null(b.user_id);
    assert_null(b.token_id);
    assert_null(b.target_label);
    assert_null(b.detail);
    assert_string_equal(b.actor_label, "Stripe");
    json_decref(o);
    json_decref(detail);
}

static void audit_decoder_refuses_what_cannot_be_stored(void **state)
{
    (void)state;
    bus_audit b;
    /* No audit object: not audited. */
    json_t *o = json_pack("{s:s}", "endpoint_id", EP);
    assert_int_equal(bus_audit_decode(&b, o), SW_ENOTFOUND);
    json_decref(o);
    const char *bad[] = {
        "{\"audit\": 1}",
        "{\"audit\": {\"target\": {\"type\": \"endpoint\"}, \"at_ms\": 1733112000123}}",
        "{\"audit\": {\"action\": \"Endpoint.Created\", \"target\": {\"type\": \"endpoint\"},"
        " \"at_ms\": 1733112000123}}",
        "{\"audit\": {\"action\": \"created\", \"target\": {\"type\": \"endpoint\"},"
        " \"at_ms\": 1733112000123}}",
        "{\"audit\": {\"action\": \"endpoint.created\", \"target\": {\"type\": \"end point\"},"
        " \"at_ms\": 1733112000123}}",
        "{\"audit\": {\"action\": \"endpoint.created\", \"target\": {\"type\": \"endpoint\"},"
        " \"actor\": {\"user_id\": \"not-a-uuid\"}, \"at_ms\": 1733112000123}}",
        "{\"audit\": {\"action\": \"endpoint.created\", \"target\": {\"type\": \"endpoint\","
        " \"id\": 7}, \"at_ms\": 1733112000123}}",
        "{\"audit\": {\"action\": \"endpoint.created\", \"target\": {\"type\": \"endpoint\"},"
        " \"at_ms\": \"soon\"}}",
        "{\"audit\": {\"action\": \"endpoint.created\", \"target\": {\"type\": \"endpoint\"},"
        " \"at_ms\": 12}}",
        "{\"audit\": {\"action\": \"endpoint.created\", \"target\": {\"type\": \"endpoint\"},"
        " \"at_ms\": 1733112000123, \"detail\": [1]}}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        o = json_loads(bad[i], 0, NULL);
        assert_non_null(o);
        if (bus_audit_decode(&b, o) != SW_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        json_decref(o);
    }
    /* The encoder refuses the same, and an oversized detail. */
    char big[BUS_AUDIT_DETAIL_MAX + 10];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *detail = json_pack("{s:s}", "note", big);
    bus_audit a = {.action = "endpoint.created",
                   .target_type = "endpoint",
                   .at_ms = 1733112000123LL,
                   .detail = detail};
    o = json_object();
    assert_false(bus_audit_put(o, &a));
    a.detail = NULL;
    a.user_id = "nope";
    assert_false(bus_audit_put(o, &a));
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);
    json_decref(detail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ping_roundtrip),
        cmocka_unit_test(ping_key_roundtrip),
        cmocka_unit_test(job_round_trips),
        cmocka_unit_test(job_decoder_refuses_what_cannot_be_checked),
        cmocka_unit_test(result_round_trips_through_its_subject),
        cmocka_unit_test(result_tenant_and_region_come_from_the_subject),
        cmocka_unit_test(result_decoder_refuses_what_cannot_be_stored),
        cmocka_unit_test(subjects_and_ids_follow_the_contract),
        cmocka_unit_test(audit_round_trips),
        cmocka_unit_test(audit_decoder_refuses_what_cannot_be_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
