/* Error tracking (bus/sentry.h) without a network: DSN parsing and the envelope endpoint, the
 * auth header, SENTRY_TRACES_SAMPLE_RATE, events built from scrubbed log lines, the envelope
 * format, the bounded queue (a Sentry that never answers: logging goes on, events are dropped
 * and counted) and the crash file the signal handler writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>

#include "bus/log.h"
#include "bus/sentry.h"

static void dsn_parsing(void **state)
{
    sw_sentry_dsn d;
    char why[160];
    assert_true(sw_sentry_dsn_parse(&d, "https://abc123@o1.ingest.sentry.io/42", why, sizeof(why)));
    assert_string_equal(d.scheme, "https");
    assert_string_equal(d.key, "abc123");
    assert_string_equal(d.host, "o1.ingest.sentry.io");
    assert_string_equal(d.project, "42");
    assert_string_equal(d.endpoint, "https://o1.ingest.sentry.io/api/42/envelope/");

    /* A port, a path prefix (self-hosted behind a proxy) and a legacy secret (never used). */
    assert_true(
        sw_sentry_dsn_parse(&d, "http://ab1:s3cr3t@127.0.0.1:9000/sentry/7", why, sizeof(why)));
    assert_string_equal(d.key, "ab1");
    assert_string_equal(d.endpoint, "http://127.0.0.1:9000/sentry/api/7/envelope/");
    assert_null(strstr(d.endpoint, "s3cr3t"));

    const char *bad[] = {"",
                         "abc@host/1",
                         "ftp://abc@host/1",
                         "https://host/1",
                         "https://abc@host",
                         "https://abc@host/notanumber",
                         "https://abc@ho st/1",
                         "https://ab\"c@host/1",
                         "https://abc@host;x/1",
                         "https://zz@host/1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        if (sw_sentry_dsn_parse(&d, bad[i], why, sizeof(why)))
            fail_msg("accepted DSN \"%s\"", bad[i]);
        assert_true(why[0] != '\0');
    }
}

static void auth_header(void **state)
{
    char h[256];
    sw_sentry_auth_header(h, sizeof(h), "abc123");
    assert_non_null(strstr(h, "Sentry sentry_version=7"));
    assert_non_null(strstr(h, "sentry_key=abc123"));
    assert_non_null(strstr(h, "sentry_client=statuswatch.c/"));
}

static void sample_rate(void **state)
{
    double r = -1;
    char why[160];
    assert_true(sw_sentry_parse_sample_rate(NULL, &r, why, sizeof(why)));
    assert_true(r == 0);
    assert_true(sw_sentry_parse_sample_rate("0.25", &r, why, sizeof(why)));
    assert_true(r == 0.25);
    assert_true(sw_sentry_parse_sample_rate("1", &r, why, sizeof(why)));
    assert_true(r == 1);
    const char *bad[] = {"1.5", "-0.1", "abc", "0.5x", "nan", "inf"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sw_sentry_parse_sample_rate(bad[i], &r, why, sizeof(why)))
            fail_msg("accepted SENTRY_TRACES_SAMPLE_RATE=%s", bad[i]);
}

/* The event carries the scrubbed line: tags for actor/request/tenant, the rest in extra. */
static void event_from_scrubbed_line(void **state)
{
    json_t *fields = json_pack("{s:s,s:s,s:s}", "subject", "sw.v1.endpoints.list", "password",
                               "hunter2-hunter2", "url", "https://user:pw@example.com/");
    json_t *scrubbed = sw_log_scrub(fields);
    json_object_set_new(scrubbed, "time", json_string("2026-12-01T10:00:00.000Z"));
    json_object_set_new(scrubbed, "level", json_string("error"));
    json_object_set_new(scrubbed, "actor", json_string("sw-endpoints"));
    json_object_set_new(scrubbed, "msg", json_string("request failed"));
    json_object_set_new(scrubbed, "request_id", json_string("0123abcd"));
    json_object_set_new(scrubbed, "tenant", json_string("t_abc"));
    json_t *ev = sw_sentry_event_from_log(scrubbed, "statuswatch@abc", "staging", "host1");
    assert_string_equal(json_string_value(json_object_get(ev, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(ev, "release")), "statuswatch@abc");
    assert_string_equal(json_string_value(json_object_get(ev, "environment")), "staging");
    assert_string_equal(json_string_value(json_object_get(ev, "timestamp")),
                        "2026-12-01T10:00:00.000Z");
    assert_int_equal(strlen(json_string_value(json_object_get(ev, "event_id"))), 32);
    json_t *tags = json_object_get(ev, "tags"), *extra = json_object_get(ev, "extra");
    assert_string_equal(json_string_value(json_object_get(tags, "actor")), "sw-endpoints");
    assert_string_equal(json_string_value(json_object_get(tags, "request_id")), "0123abcd");
    assert_string_equal(json_string_value(json_object_get(tags, "tenant")), "t_abc");
    assert_string_equal(json_string_value(json_object_get(extra, "password")), "[redacted]");
    assert_string_equal(json_string_value(json_object_get(extra, "url")), "[redacted]");
    assert_string_equal(json_string_value(json_object_get(extra, "subject")),
                        "sw.v1.endpoints.list");
    assert_null(json_object_get(extra, "msg"));
    json_t *fp = json_object_get(ev, "fingerprint");
    assert_int_equal(json_array_size(fp), 3);
    assert_string_equal(json_string_value(json_array_get(fp, 0)), "sw-endpoints");
    assert_string_equal(json_string_value(json_array_get(fp, 1)), "request failed");
    assert_string_equal(json_string_value(json_array_get(fp, 2)), "sw.v1.endpoints.list");

    char *env = sw_sentry_envelope(ev);
    assert_non_null(env);
    assert_null(strstr(env, "hunter2"));
    /* Three lines: envelope header, item header with the payload's exact length, payload. */
    char *l1 = env, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    char *end = strchr(l3, '\n');
    assert_non_null(end);
    assert_string_equal(end + 1, "");
    json_t *h1 = json_loadb(l1, (size_t)(l2 - l1 - 1), 0, NULL);
    json_t *h2 = json_loadb(l2, (size_t)(l3 - l2 - 1), 0, NULL);
    json_t *payload = json_loadb(l3, (size_t)(end - l3), 0, NULL);
    assert_non_null(payload);
    assert_string_equal(json_string_value(json_object_get(h1, "event_id")),
                        json_string_value(json_object_get(ev, "event_id")));
    assert_string_equal(json_string_value(json_object_get(h2, "type")), "event");
    assert_int_equal(json_integer_value(json_object_get(h2, "length")), end - l3);
    json_decref(h1);
    json_decref(h2);
    json_decref(payload);
    free(env);
    json_decref(ev);
    json_decref(scrubbed);
    json_decref(fields);
}

/* Without SENTRY_DSN nothing is set up; a bad sample rate refuses the start. */
static void no_dsn_no_sentry(void **state)
{
    unsetenv("SENTRY_DSN");
    setenv("SENTRY_TRACES_SAMPLE_RATE", "2", 1);
    assert_false(sw_sentry_init("sw-unit"));
    setenv("SENTRY_TRACES_SAMPLE_RATE", "0.5", 1);
    assert_true(sw_sentry_init("sw-unit"));
    assert_false(sw_sentry_enabled());
    assert_true(sw_sentry_traces_sample_rate() == 0.5);
    unsetenv("SENTRY_TRACES_SAMPLE_RATE");
    setenv("SENTRY_DSN", "not a dsn", 1);
    assert_false(sw_sentry_init("sw-unit"));
    assert_false(sw_sentry_enabled());
    unsetenv("SENTRY_DSN");
}

/* A Sentry that accepts connections and never answers: the sender is stuck on its first event,
 * the queue (2) fills, every further error line is dropped and counted, and logging goes on. */
static void full_queue_drops_and_counts(void **state)
{
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    char dsn[128], spool[] = "/tmp/sw-sentry-unit-XXXXXX";
    assert_true(srv >= 0);
    assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(srv, 16), 0);
    assert_int_equal(getsockname(srv, (struct sockaddr *)&a, &alen), 0);
    assert_non_null(mkdtemp(spool));
    snprintf(dsn, sizeof(dsn), "http://abc@127.0.0.1:%d/1", ntohs(a.sin_port));

    sw_sentry_stats before;
    sw_sentry_stats_get(&before);
    assert_false(sw_sentry_enabled());
    setenv("SENTRY_DSN", dsn, 1);
    setenv("SW_SENTRY_QUEUE", "2", 1);
    setenv("SW_SENTRY_FLUSH_MS", "0", 1);
    setenv("SW_SENTRY_TIMEOUT_MS", "60000", 1);
    setenv("SW_SENTRY_SPOOL_DIR", spool, 1);
    sw_log_init("sw-unit", "error");
    assert_true(sw_sentry_init("sw-unit"));
    assert_true(sw_sentry_enabled());
    for (int i = 0; i < 20; i++)
        sw_log(SW_LOG_ERROR, "boom", "i", "x", NULL);
    sw_sentry_stats after;
    sw_sentry_stats_get(&after);
    /* At most one in flight and two queued: the other 17 or more were dropped. */
    assert_true(after.dropped - before.dropped >= 17);
    assert_int_equal(after.sent, 0);

    /* The crash file the signal handler writes, written here without a signal. */
    assert_true(sw_sentry_write_crash(SIGSEGV));
    DIR *d = opendir(spool);
    struct dirent *de;
    char path[512] = "";
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "crash-sw-unit-", 14) == 0)
            snprintf(path, sizeof(path), "%s/%s", spool, de->d_name);
    closedir(d);
    assert_true(path[0] != '\0');
    FILE *f = fopen(path, "r");
    char *lines[3] = {NULL, NULL, NULL};
    size_t caps[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        assert_true(getline(&lines[i], &caps[i], f) > 0);
    fclose(f);
    json_t *h = json_loads(lines[0], 0, NULL), *ih = json_loads(lines[1], 0, NULL);
    json_t *ev = json_loads(lines[2], 0, NULL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ih, "type")), "event");
    assert_string_equal(json_string_value(json_object_get(h, "event_id")),
                        json_string_value(json_object_get(ev, "event_id")));
    assert_string_equal(json_string_value(json_object_get(ev, "level")), "fatal");
    assert_string_equal(json_string_value(json_object_get(ev, "release")), sw_release);
    json_t *tags = json_object_get(ev, "tags");
    assert_string_equal(json_string_value(json_object_get(tags, "actor")), "sw-unit");
    assert_string_equal(json_string_value(json_object_get(tags, "signal")), "SIGSEGV");
    json_t *exc = json_array_get(json_object_get(json_object_get(ev, "exception"), "values"), 0);
    assert_string_equal(json_string_value(json_object_get(exc, "type")), "SIGSEGV");
    assert_true(json_is_number(json_object_get(ev, "timestamp")));
    for (int i = 0; i < 3; i++)
        free(lines[i]);
    json_decref(h);
    json_decref(ih);
    json_decref(ev);
    unlink(path);
    rmdir(spool);
    close(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dsn_parsing),      cmocka_unit_test(auth_header),
        cmocka_unit_test(sample_rate),      cmocka_unit_test(event_from_scrubbed_line),
        cmocka_unit_test(no_dsn_no_sentry), cmocka_unit_test(full_queue_drops_and_counts),
    };
    unsetenv("SENTRY_DSN");
    unsetenv("SENTRY_TRACES_SAMPLE_RATE");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
