/* Heartbeat monitors through the real edge, bus, recorder and database: creating one (period
 * or cron + time zone, field errors), every ping form (GET/POST/HEAD, start, fail, exit
 * status) and what is stored of it, start → success duration, the per-check rate limit, an
 * unknown uuid, rotation of the ping URL, a deadline passing (down within 2 s, an incident and
 * the outage mail, up again on the next ping), a ping while the recorder is stopped (kept in
 * JetStream, the edge writes nothing), a cron deadline across a DST change computed by the
 * recorder, and tenant isolation. */
#include "tests/support/it.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "bus/contract.h"
#include "bus/messages.h"

typedef struct tenant {
    char email[160];
    char *id;
    char auth[1200];
} tenant;

static void tenant_new(tenant *t, const char *org)
{
    t->id = it_signup_verified(t->email, sizeof(t->email), org);
    it_resp *r = it_login(t->email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    snprintf(t->auth, sizeof(t->auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
}

static it_resp *api(const tenant *t, const char *method, const char *path, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    it_resp *r = it_http(method, path, text, t->auth, "Content-Type: application/json", NULL);
    free(text);
    return r;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A heartbeat created with body (stolen); returns its id and fills its ping path. */
static char *create_hb(const tenant *t, json_t *body, char *ping_path, size_t len)
{
    it_resp *r = api(t, "POST", "/api/endpoints/", body);
    if (r->status != 201)
        fail_msg("create heartbeat: %ld %s", r->status, r->raw);
    char *id = strdup(str(r->body, "id"));
    const char *url = str(r->body, "ping_url");
    assert_non_null(url);
    const char *path = strstr(url, "/ping/");
    assert_non_null(path);
    snprintf(ping_path, len, "%s", path);
    it_resp_free(r);
    return id;
}

static it_resp *get_hb(const tenant *t, const char *id)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    return api(t, "GET", path, NULL);
}

/* Polls the endpoint until last_status is want or timeout_ms passes; returns the last one. */
static char *wait_status(const tenant *t, const char *id, const char *want, int timeout_ms)
{
    char *last = NULL;
    for (int waited = 0;; waited += 100) {
        it_resp *r = get_hb(t, id);
        free(last);
        const char *v = r->status == 200 ? str(r->body, "last_status") : NULL;
        last = strdup(v ? v : "?");
        it_resp_free(r);
        if (strcmp(last, want) == 0 || waited >= timeout_ms)
            return last;
        usleep(100 * 1000);
    }
}

static long count_pings(const char *id)
{
    const char *p[] = {id};
    return it_sql_long("SELECT count(*) FROM public.heartbeat_pings WHERE endpoint_id = $1::uuid",
                       1, p);
}

static long wait_pings(const char *id, long want)
{
    const char *p[] = {id};
    return it_wait_count("SELECT count(*) FROM public.heartbeat_pings WHERE endpoint_id = $1::uuid",
                         1, p, want, 15000);
}

static it_resp *ping(const char *method, const char *path, const char *body)
{
    return it_http(method, path, body, "User-Agent: backup-job/1.0", "Content-Type: text/plain",
                   NULL);
}

/* Repeats a ping until it is not limited (a test pinging again within the same second). */
static it_resp *ping_ok(const char *method, const char *path, const char *body)
{
    for (int i = 0;; i++) {
        it_resp *r = ping(method, path, body);
        if (r->status != 429 || i == 20)
            return r;
        it_resp_free(r);
        usleep(250 * 1000);
    }
}

static void create_and_field_errors(void **state)
{
    (void)state;
    tenant t;
    char ping_path[128];
    tenant_new(&t, "Heartbeat Fields");
    char *id = create_hb(&t,
                         json_pack("{s:s,s:s,s:i}", "kind", "heartbeat", "name", "Nightly backup",
                                   "period_seconds", 3600),
                         ping_path, sizeof(ping_path));
    it_resp *r = get_hb(&t, id);
    assert_int_equal(r->status, 200);
    assert_string_equal(str(r->body, "kind"), "heartbeat");
    assert_string_equal(str(r->body, "last_status"), "pending");
    assert_true(json_is_null(json_object_get(r->body, "url")));
    assert_int_equal(json_integer_value(json_object_get(r->body, "period_seconds")), 3600);
    assert_int_equal(json_integer_value(json_object_get(r->body, "grace_seconds")), 300);
    assert_string_equal(str(r->body, "tz"), "UTC");
    /* The ping URL is on the edge's host, and its uuid is a secret of its own, not the id. */
    assert_true(strncmp(str(r->body, "ping_url"), "http://", 7) == 0);
    assert_null(strstr(ping_path, id));
    assert_true(strlen(ping_path) == strlen("/ping/") + 36);
    it_resp_free(r);

    struct {
        json_t *body;
        const char *field;
    } bad[] = {
        {json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 59), "period_seconds"},
        {json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 31 * 86400 + 1),
         "period_seconds"},
        {json_pack("{s:s}", "kind", "heartbeat"), "period_seconds"},
        {json_pack("{s:s,s:s}", "kind", "heartbeat", "cron", "0 3 * *"), "cron"},
        {json_pack("{s:s,s:s}", "kind", "heartbeat", "cron", "0 0 30 2 *"), "cron"},
        {json_pack("{s:s,s:s,s:s}", "kind", "heartbeat", "cron", "0 3 * * *", "tz", "Mars/Base"),
         "tz"},
        {json_pack("{s:s,s:s,s:s}", "kind", "heartbeat", "cron", "0 3 * * *", "tz",
                   "../../etc/passwd"),
         "tz"},
        {json_pack("{s:s,s:i,s:i}", "kind", "heartbeat", "period_seconds", 3600, "grace_seconds",
                   86401),
         "grace_seconds"},
        {json_pack("{s:s,s:i,s:s}", "kind", "heartbeat", "period_seconds", 3600, "cron",
                   "0 3 * * *"),
         "non_field_errors"},
        {json_pack("{s:s,s:i,s:s}", "kind", "heartbeat", "period_seconds", 3600, "url",
                   "https://example.com/"),
         "url"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        it_resp *e = api(&t, "POST", "/api/endpoints/", bad[i].body);
        if (e->status != 400 || !json_is_array(json_object_get(e->body, bad[i].field)))
            fail_msg("case %zu: %ld %s", i, e->status, e->raw);
        it_resp_free(e);
    }
    /* A cron heartbeat in a zone, and switching it to a period. */
    char *id2 = create_hb(&t,
                          json_pack("{s:s,s:s,s:s,s:i}", "kind", "heartbeat", "cron",
                                    "30  2 * * 1-5", "tz", "Europe/Berlin", "grace_seconds", 0),
                          ping_path, sizeof(ping_path));
    r = get_hb(&t, id2);
    assert_string_equal(str(r->body, "cron"), "30 2 * * 1-5");
    assert_string_equal(str(r->body, "tz"), "Europe/Berlin");
    assert_true(json_is_null(json_object_get(r->body, "period_seconds")));
    it_resp_free(r);
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id2);
    r = api(&t, "PATCH", path, json_pack("{s:i}", "period_seconds", 600));
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "period_seconds")), 600);
    assert_true(json_is_null(json_object_get(r->body, "cron")));
    it_resp_free(r);
    r = api(&t, "PATCH", path, json_pack("{s:s}", "kind", "http"));
    assert_int_equal(r->status, 400);
    it_resp_free(r);
    /* Its public.heartbeats row follows: the recorder reads the period from there. */
    const char *p[] = {id2};
    assert_int_equal(
        it_sql_long("SELECT period_seconds FROM public.heartbeats WHERE endpoint_id = $1::uuid", 1,
                    p),
        600);
    free(id);
    free(id2);
    free(t.id);
}

static void every_ping_form(void **state)
{
    (void)state;
    tenant t;
    char pp[128], path[200];
    tenant_new(&t, "Heartbeat Pings");
    char *id = create_hb(&t, json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 3600),
                         pp, sizeof(pp));

    it_resp *r = ping_ok("GET", pp, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->raw, "OK");
    assert_non_null(strstr(it_header(r, "Content-Type"), "text/plain"));
    it_resp_free(r);
    free(wait_status(&t, id, "up", 15000));

    snprintf(path, sizeof(path), "%s/fail", pp);
    r = ping_ok("POST", path, "disk full\nbackup aborted");
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    char *s = wait_status(&t, id, "down", 15000);
    assert_string_equal(s, "down");
    free(s);

    snprintf(path, sizeof(path), "%s/0", pp);
    r = ping_ok("HEAD", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->raw_len, 0);
    it_resp_free(r);
    s = wait_status(&t, id, "up", 15000);
    assert_string_equal(s, "up");
    free(s);

    snprintf(path, sizeof(path), "%s/start", pp);
    r = ping_ok("GET", path, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    snprintf(path, sizeof(path), "%s/7/", pp);
    r = ping_ok("POST", path, "exit 7");
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    assert_int_equal(wait_pings(id, 5), 5);
    s = wait_status(&t, id, "down", 15000);
    assert_string_equal(s, "down");
    free(s);

    /* The ping log: newest first, with what the job sent. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/pings/", id);
    r = api(&t, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 5);
    json_t *res = json_object_get(r->body, "results");
    assert_int_equal(json_array_size(res), 5);
    json_t *p0 = json_array_get(res, 0), *p1 = json_array_get(res, 1), *p3 = json_array_get(res, 3),
           *p4 = json_array_get(res, 4);
    assert_string_equal(str(p0, "kind"), "fail");
    assert_int_equal(json_integer_value(json_object_get(p0, "exit_status")), 7);
    assert_string_equal(str(p0, "body"), "exit 7");
    assert_string_equal(str(p0, "method"), "POST");
    assert_true(json_is_integer(json_object_get(p0, "duration_ms"))); /* after the start */
    assert_string_equal(str(p1, "kind"), "start");
    assert_string_equal(str(p3, "kind"), "fail");
    assert_string_equal(str(p3, "body"), "disk full\nbackup aborted");
    assert_true(json_is_null(json_object_get(p3, "exit_status")));
    assert_string_equal(str(p4, "kind"), "success");
    assert_string_equal(str(p4, "method"), "GET");
    assert_string_equal(str(p4, "user_agent"), "backup-job/1.0");
    assert_non_null(str(p4, "client_ip"));
    assert_non_null(str(p4, "received_at"));
    it_resp_free(r);

    /* Page 2 of size 2. */
    snprintf(path, sizeof(path), "/api/endpoints/%s/pings/?page=2&page_size=2", id);
    r = api(&t, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->body, "results")), 2);
    assert_non_null(strstr(str(r->body, "next"), "page=3"));
    it_resp_free(r);
    free(id);
    free(t.id);
}

static void start_then_success_duration_and_body_limit(void **state)
{
    (void)state;
    tenant t;
    char pp[128], path[200];
    tenant_new(&t, "Heartbeat Duration");
    char *id = create_hb(&t, json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 3600),
                         pp, sizeof(pp));
    snprintf(path, sizeof(path), "%s/start", pp);
    it_resp *r = ping_ok("GET", path, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    usleep(1200 * 1000);
    /* A 12 KiB body: 10 KiB of it is kept, 1 KiB shown in the list. */
    char *big = malloc(12 * 1024 + 1);
    memset(big, 'x', 12 * 1024);
    big[12 * 1024] = '\0';
    r = ping_ok("POST", pp, big);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    free(big);
    assert_int_equal(wait_pings(id, 2), 2);
    const char *p[] = {id};
    json_t *rows = it_sql("SELECT duration_ms, octet_length(body) AS n FROM public.heartbeat_pings"
                          " WHERE endpoint_id = $1::uuid AND kind = 'success'",
                          1, p);
    json_t *row = json_array_get(rows, 0);
    assert_non_null(str(row, "duration_ms")); /* it_sql gives text */
    assert_true(atol(str(row, "duration_ms")) >= 1200);
    assert_int_equal(atol(str(row, "n")), 10240);
    json_decref(rows);
    snprintf(path, sizeof(path), "/api/endpoints/%s/pings/", id);
    r = api(&t, "GET", path, NULL);
    json_t *first = json_array_get(json_object_get(r->body, "results"), 0);
    assert_int_equal(strlen(str(first, "body")), 1024);
    assert_int_equal(json_integer_value(json_object_get(first, "body_bytes")), 10240);
    assert_true(json_integer_value(json_object_get(first, "duration_ms")) >= 1200); /* JSON: a number */
    it_resp_free(r);
    free(id);
    free(t.id);
}

static void rate_limit_unknown_and_rotation(void **state)
{
    (void)state;
    tenant t;
    char pp[128], old[128];
    tenant_new(&t, "Heartbeat Limits");
    char *id = create_hb(&t, json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 3600),
                         pp, sizeof(pp));
    /* 12 pings at once span at most two one-second windows: at most 10 are taken. */
    int ok = 0, limited = 0;
    for (int i = 0; i < 12; i++) {
        it_resp *r = ping("GET", pp, NULL);
        ok += r->status == 200;
        if (r->status == 429) {
            limited++;
            assert_string_equal(r->raw, "rate limited");
            assert_non_null(it_header(r, "Retry-After"));
        }
        it_resp_free(r);
    }
    assert_true(ok >= 5 && ok <= 10);
    assert_int_equal(ok + limited, 12);

    /* Unknown and malformed uuids. */
    static const char *unknown[] = {"/ping/00000000-0000-4000-8000-000000000000",
                                    "/ping/not-a-uuid", "/ping/", NULL};
    for (int i = 0; unknown[i]; i++) {
        it_resp *r = ping("GET", unknown[i], NULL);
        assert_int_equal(r->status, 404);
        assert_string_equal(r->raw, "not found");
        it_resp_free(r);
    }
    it_resp *r = ping("DELETE", pp, NULL);
    assert_int_equal(r->status, 405);
    it_resp_free(r);

    /* Rotation: a new uuid; the old one answers 404 (once the edge has seen it go). */
    snprintf(old, sizeof(old), "%s", pp);
    char path[160];
    snprintf(path, sizeof(path), "/api/endpoints/%s/rotate-ping-url/", id);
    r = api(&t, "POST", path, NULL);
    assert_int_equal(r->status, 200);
    const char *fresh = strstr(str(r->body, "ping_url"), "/ping/");
    assert_string_not_equal(fresh, old);
    snprintf(pp, sizeof(pp), "%s", fresh);
    it_resp_free(r);
    long status = 0;
    for (int i = 0; i < 50 && status != 404; i++) {
        r = ping("GET", old, NULL);
        status = r->status;
        it_resp_free(r);
        if (status != 404)
            usleep(100 * 1000);
    }
    assert_int_equal(status, 404);
    r = ping_ok("GET", pp, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    /* The new key is stored, the old one is gone. */
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\".endpoints WHERE ping_key::text = $1",
             t.id);
    const char *po[] = {old + 6}, *pn[] = {pp + 6};
    assert_int_equal(it_sql_long(sql, 1, po), 0);
    assert_int_equal(it_sql_long(sql, 1, pn), 1);
    free(id);
    free(t.id);
}

/* A mail to `to` that contains needle, within timeout_ms (it_mail_wait finds the first). */
static bool mail_with(const char *to, const char *needle, int timeout_ms)
{
    const char *dir = getenv("SW_MAIL_DIR");
    char head[300], path[1024];
    snprintf(head, sizeof(head), "To: <%s>", to);
    for (int waited = 0; dir && waited <= timeout_ms; waited += 200) {
        DIR *d = opendir(dir);
        struct dirent *de;
        bool found = false;
        while (d && !found && (de = readdir(d))) {
            if (!strstr(de->d_name, ".eml"))
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            FILE *f = fopen(path, "rb");
            char buf[65536];
            size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
            if (f)
                fclose(f);
            buf[n] = '\0';
            found = strstr(buf, head) && strstr(buf, needle);
        }
        if (d)
            closedir(d);
        if (found)
            return true;
        usleep(200 * 1000);
    }
    return false;
}

static void deadline_marks_down_and_next_ping_up(void **state)
{
    (void)state;
    tenant t;
    char pp[128], name[64];
    tenant_new(&t, "Heartbeat Deadline");
    snprintf(name, sizeof(name), "queue worker %d", (int)getpid());
    char *id = create_hb(&t,
                         json_pack("{s:s,s:s,s:i,s:i}", "kind", "heartbeat", "name", name,
                                   "period_seconds", 60, "grace_seconds", 0),
                         pp, sizeof(pp));
    it_resp *r = ping_ok("GET", pp, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    free(wait_status(&t, id, "up", 15000));
    r = get_hb(&t, id);
    /* The expected next ping: a period after the success. */
    assert_non_null(str(r->body, "next_ping_at"));
    it_resp_free(r);

    /* A minute is long for a test: the deadline is moved 1 s ahead (the row the recorder
     * wrote), as if 59 s had passed. Then it must be down within 2 s of that deadline. */
    const char *p[] = {id};
    json_decref(
        it_sql("UPDATE public.heartbeat_state SET deadline_at = now() + interval '1 second',"
               " next_expected_at = now() + interval '1 second'"
               " WHERE endpoint_id = $1::uuid",
               1, p));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double deadline = (double)ts.tv_sec + ts.tv_nsec / 1e9 + 1.0;
    char *s = wait_status(&t, id, "down", 10000);
    clock_gettime(CLOCK_REALTIME, &ts);
    double late = (double)ts.tv_sec + ts.tv_nsec / 1e9 - deadline;
    assert_string_equal(s, "down");
    free(s);
    if (late > 2.0)
        fail_msg("down %.2f s after the deadline (more than 2 s)", late);
    /* The same incidents and mails as every endpoint. */
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM \"%s\".incidents WHERE endpoint_id = $1::uuid"
             " AND closed_at IS NULL",
             t.id);
    assert_int_equal(it_sql_long(sql, 1, p), 1);
    assert_true(mail_with(t.email, name, 20000));

    /* The next ping: up, the incident closed. */
    r = ping_ok("POST", pp, "back");
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    s = wait_status(&t, id, "up", 15000);
    assert_string_equal(s, "up");
    free(s);
    assert_int_equal(it_sql_long(sql, 1, p), 0);
    free(id);
    free(t.id);
}

static void ping_while_recorder_stopped_is_kept(void **state)
{
    (void)state;
    tenant t;
    char pp[128];
    tenant_new(&t, "Heartbeat Durable");
    char *id = create_hb(&t, json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 3600),
                         pp, sizeof(pp));
    assert_int_equal(it_ops("actor stop recorder"), 0);
    it_resp *r = ping_ok("POST", pp, "while you were out");
    assert_int_equal(r->status, 200); /* stored in JetStream, not in the database */
    it_resp_free(r);
    usleep(500 * 1000);
    assert_int_equal(count_pings(id), 0); /* the edge writes nothing */
    assert_int_equal(it_ops("actor start recorder"), 0);
    assert_int_equal(wait_pings(id, 1), 1);
    char *s = wait_status(&t, id, "up", 15000);
    assert_string_equal(s, "up");
    free(s);
    free(id);
    free(t.id);
}

/* The edge answers a ping 200 once it is in its publish window, before JetStream has stored it
 * (README "Heartbeat monitors"). A nats-server restart in the middle of a stream of pings: every
 * ping answered 200 is stored exactly once afterwards; the others got 503 (or 429, the limit). */
typedef struct pinger {
    const char *paths[3];
    volatile int stop;
    long ok[3], unavailable, limited, other;
} pinger;

static void *ping_loop(void *arg)
{
    pinger *pg = arg;
    for (unsigned i = 0; !pg->stop; i++) {
        int k = (int)(i % 3);
        it_resp *r = ping("POST", pg->paths[k], "nightly");
        if (r->status == 200)
            pg->ok[k]++;
        else if (r->status == 503)
            pg->unavailable++;
        else if (r->status == 429)
            pg->limited++;
        else
            pg->other++;
        it_resp_free(r);
        usleep(40 * 1000); /* ~8 pings/s per check: under the limit of 10 */
    }
    return NULL;
}

static void pings_answered_200_survive_a_nats_restart(void **state)
{
    (void)state;
    tenant t;
    char pp[3][128];
    char *id[3];
    tenant_new(&t, "Heartbeat NATS restart");
    pinger pg = {0};
    for (int k = 0; k < 3; k++) {
        id[k] = create_hb(&t, json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 3600),
                          pp[k], sizeof(pp[k]));
        pg.paths[k] = pp[k];
    }
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ping_loop, &pg), 0);
    usleep(1500 * 1000);
    assert_int_equal(it_ops("actor stop nats"), 0);
    usleep(1500 * 1000);
    assert_int_equal(it_ops("actor start nats"), 0);
    assert_true(it_wait_ready(30000));
    usleep(1500 * 1000);
    pg.stop = 1;
    pthread_join(th, NULL);
    print_message("pings: 200 %ld/%ld/%ld, 503 %ld, 429 %ld, other %ld\n", pg.ok[0], pg.ok[1],
                  pg.ok[2], pg.unavailable, pg.limited, pg.other);
    assert_int_equal(pg.other, 0);
    assert_true(pg.unavailable > 0); /* the restart was seen */
    for (int k = 0; k < 3; k++) {
        assert_true(pg.ok[k] > 0);
        /* Exactly the pings answered 200: none lost, none stored twice (a 503 was not taken). */
        assert_int_equal(wait_pings(id[k], pg.ok[k]), pg.ok[k]);
        usleep(k == 0 ? 1000 * 1000 : 0); /* late republished duplicates would show by now */
        assert_int_equal(count_pings(id[k]), pg.ok[k]);
        free(id[k]);
    }
    free(t.id);
}

/* The recorder's deadline of a cron heartbeat across the spring-forward change in Berlin: a
 * success at 2026-03-28 03:00 CET expects the next "0 3 * * *" at 2026-03-29 03:00 CEST,
 * 23 hours later (01:00Z). The ping is published on the bus as the edge would have, with that
 * past time (computed, not waited for). */
static void cron_deadline_across_dst(void **state)
{
    (void)state;
    tenant t;
    char pp[128], subject[BUS_SUBJECT_MAX];
    tenant_new(&t, "Heartbeat DST");
    char *id = create_hb(&t,
                         json_pack("{s:s,s:s,s:s,s:i}", "kind", "heartbeat", "cron", "0 3 * * *",
                                   "tz", "Europe/Berlin", "grace_seconds", 600),
                         pp, sizeof(pp));
    char pid[33];
    snprintf(pid, sizeof(pid), "%08x%08x%08x%08x", (unsigned)getpid(), (unsigned)time(NULL),
             (unsigned)rand(), 0xdecafu);
    bus_ping p = {.ping_id = pid,
                  .endpoint_id = id,
                  .kind = "success",
                  .exit_status = -1,
                  .received_at_ms = 1774663200000LL, /* 2026-03-28T02:00:00Z */
                  .method = "GET",
                  .client_ip = "127.0.0.1",
                  .user_agent = "",
                  .body = ""};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", t.id);
    json_t *o = bus_ping_encode(&p);
    assert_non_null(o);
    assert_true(bus_subject_ping(subject, sizeof(subject), t.id));
    char *text = json_dumps(o, JSON_COMPACT);
    natsConnection *nc = it_nats();
    jsCtx *js = NULL;
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsErrCode jerr = 0;
    assert_int_equal(js_Publish(NULL, js, subject, text, (int)strlen(text), NULL, &jerr), NATS_OK);
    free(text);
    json_decref(o);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    assert_int_equal(wait_pings(id, 1), 1);
    const char *q[] = {id};
    json_t *rows = it_sql("SELECT to_char(next_expected_at AT TIME ZONE 'UTC',"
                          "  'YYYY-MM-DD\"T\"HH24:MI:SS') AS n"
                          " FROM public.heartbeat_state WHERE endpoint_id = $1::uuid",
                          1, q);
    assert_string_equal(str(json_array_get(rows, 0), "n"), "2026-03-29T01:00:00");
    json_decref(rows);
    /* The API shows the same expected ping. */
    it_resp *r = get_hb(&t, id);
    assert_string_equal(str(r->body, "next_ping_at"), "2026-03-29T01:00:00.000000Z");
    it_resp_free(r);
    /* That deadline is long past: the ticker marks it down. */
    char *s = wait_status(&t, id, "down", 15000);
    assert_string_equal(s, "down");
    free(s);
    free(id);
    free(t.id);
}

static void tenants_never_see_each_other(void **state)
{
    (void)state;
    tenant a, b;
    char pp[128], path[200];
    tenant_new(&a, "Heartbeat Tenant A");
    tenant_new(&b, "Heartbeat Tenant B");
    char *id = create_hb(&a, json_pack("{s:s,s:i}", "kind", "heartbeat", "period_seconds", 3600),
                         pp, sizeof(pp));
    it_resp *r = ping_ok("GET", pp, NULL);
    it_resp_free(r);
    assert_int_equal(wait_pings(id, 1), 1);
    snprintf(path, sizeof(path), "/api/endpoints/%s/pings/", id);
    r = api(&b, "GET", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/rotate-ping-url/", id);
    r = api(&b, "POST", path, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    snprintf(path, sizeof(path), "/api/endpoints/%s/", id);
    r = api(&b, "PATCH", path, json_pack("{s:i}", "period_seconds", 120));
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    r = api(&a, "GET", path, NULL);
    assert_int_equal(json_integer_value(json_object_get(r->body, "period_seconds")), 3600);
    it_resp_free(r);
    /* Deleting it: the ping URL is 404 afterwards. */
    r = api(&a, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    long status = 0;
    for (int i = 0; i < 50 && status != 404; i++) {
        r = ping("GET", pp, NULL);
        status = r->status;
        it_resp_free(r);
        if (status != 404)
            usleep(100 * 1000);
    }
    assert_int_equal(status, 404);
    free(id);
    free(a.id);
    free(b.id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_and_field_errors),
        cmocka_unit_test(every_ping_form),
        cmocka_unit_test(start_then_success_duration_and_body_limit),
        cmocka_unit_test(rate_limit_unknown_and_rotation),
        cmocka_unit_test(deadline_marks_down_and_next_ping_up),
        cmocka_unit_test(ping_while_recorder_stopped_is_kept),
        cmocka_unit_test(pings_answered_200_survive_a_nats_restart),
        cmocka_unit_test(cron_deadline_across_dst),
        cmocka_unit_test(tenants_never_see_each_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
