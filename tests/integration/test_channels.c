/* Alerting (issue 19) through the real edge, sw-notify, JetStream and loopback receivers
 * (tests/fakes/receivers.py) that check each wire format they get, the webhook's Standard
 * Webhooks signature with the reference implementation: channels CRUD (secrets write-only and
 * masked, the URL policy, roles, the default email channel of a new organization), every kind
 * delivered by its test notification, a retry after a receiver answers 500 twice, a hanging
 * receiver that does not delay another channel, and an outage notified through the channels. */
#include "tests/support/it.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int recv_pid, recv_port;
static char owner_email[160], access_tok[1024], tenant[64];

static int receivers_start(int port)
{
    int fds[2];
    char line[128] = "", script[512], port_s[16];
    snprintf(script, sizeof(script), "%s/tests/fakes/receivers.py", it_source_dir());
    snprintf(port_s, sizeof(port_s), "%d", port);
    if (pipe(fds) != 0)
        fail_msg("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        setpgid(0, 0);
        execl("/usr/bin/python3", "python3", script, "--port", port_s, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    int got = 0;
    if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "READY %d", &got) != 1)
        fail_msg("receivers did not start: %s", line);
    fclose(f);
    recv_port = got;
    return (int)pid;
}

static char *login_token(const char *email)
{
    it_resp *r = it_login(email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    char *t = strdup(json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    return t;
}

static int setup(void **state)
{
    (void)state;
    const char *p = getenv("SW_RECEIVERS_PORT");
    recv_pid = receivers_start(p ? atoi(p) : 0);
    char *t = it_signup_verified(owner_email, sizeof(owner_email), "Alerting Co");
    snprintf(tenant, sizeof(tenant), "%s", t);
    free(t);
    char *a = login_token(owner_email);
    snprintf(access_tok, sizeof(access_tok), "%s", a);
    free(a);
    return 0;
}

static int targets_pid, http_port, https_port;

static int teardown(void **state)
{
    (void)state;
    if (targets_pid > 0)
        it_targets_stop(targets_pid);
    if (recv_pid > 0) {
        kill(-recv_pid, SIGTERM);
        kill(recv_pid, SIGTERM);
        waitpid(recv_pid, NULL, 0);
    }
    return 0;
}

static void url_of(char *out, size_t len, const char *path)
{
    snprintf(out, len, "http://127.0.0.1:%d%s", recv_port, path);
}

/* Creates a channel; returns the 201 body (owned). */
static json_t *create_channel(const char *name, const char *kind, json_t *config)
{
    it_resp *r = it_auth("POST", "/api/channels/", access_tok,
                         json_pack("{s:s,s:s,s:o}", "name", name, "kind", kind, "config", config));
    if (r->status != 201)
        fail_msg("create %s channel: %ld %s", kind, r->status, r->raw);
    json_t *b = json_incref(r->body);
    it_resp_free(r);
    return b;
}

/* POST /test/; returns the notification id (owned). */
static char *test_channel(const char *id)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/channels/%s/test/", id);
    it_resp *r = it_auth("POST", path, access_tok, json_object());
    if (r->status != 200)
        fail_msg("test channel: %ld %s", r->status, r->raw);
    assert_string_equal(json_string_value(json_object_get(r->body, "status")), "pending");
    char *nid = strdup(json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    return nid;
}

/* The delivery as the API shows it (owned), polled until its status is want or timeout. */
static json_t *wait_delivery(const char *nid, const char *want, int timeout_ms)
{
    json_t *found = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 250) {
        it_resp *r = it_auth("GET", "/api/notifications/?page_size=100", access_tok, NULL);
        assert_int_equal(r->status, 200);
        size_t i;
        json_t *n;
        json_decref(found);
        found = NULL;
        json_array_foreach(json_object_get(r->body, "results"), i, n)
        {
            if (strcmp(json_string_value(json_object_get(n, "id")), nid) == 0)
                found = json_incref(n);
        }
        it_resp_free(r);
        if (found && strcmp(json_string_value(json_object_get(found, "status")), want) == 0)
            return found;
        usleep(250 * 1000);
    }
    return found;
}

/* What the receivers got on paths starting with prefix (owned array). */
static json_t *received(const char *prefix)
{
    char url[256], cmd[400];
    url_of(url, sizeof(url), "/_log");
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 5 %s", url);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    json_error_t e;
    json_t *all = json_loadf(f, 0, &e);
    pclose(f);
    assert_non_null(all);
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(all, i, x)
    {
        const char *p = json_string_value(json_object_get(x, "path"));
        if (p && strncmp(p, prefix, strlen(prefix)) == 0)
            json_array_append(out, x);
    }
    json_decref(all);
    return out;
}

static void register_secret(const char *name, const char *secret)
{
    char url[256], cmd[700];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/_secret/%s", recv_port, name);
    snprintf(cmd, sizeof(cmd),
             "curl -s --max-time 5 -o /dev/null -w '%%{http_code}' -H 'Content-Type: "
             "application/json' -d '{\"secret\":\"%s\"}' %s",
             secret, url);
    FILE *f = popen(cmd, "r");
    char code[8] = "";
    assert_non_null(fgets(code, sizeof(code), f));
    pclose(f);
    assert_string_equal(code, "200");
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_new_organization_has_default_email_channel(void **state)
{
    (void)state;
    it_resp *r = it_auth("GET", "/api/channels/", access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->body, "count")), 1);
    json_t *c = json_array_get(json_object_get(r->body, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "kind")), "email");
    assert_true(json_is_true(json_object_get(c, "is_default")));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_object_get(c, "config"), "addresses"), 0)),
        owner_email);
    it_resp_free(r);
}

static void test_secrets_write_only_and_policy(void **state)
{
    (void)state;
    char url[256];
    url_of(url, sizeof(url), "/webhook/crud");
    json_t *c = create_channel("Hooks", "webhook", json_pack("{s:s}", "url", url));
    const char *secret = json_string_value(json_object_get(json_object_get(c, "config"), "secret"));
    assert_non_null(secret);
    assert_int_equal(strncmp(secret, "whsec_", 6), 0); /* generated, shown once */
    char path[160];
    snprintf(path, sizeof(path), "/api/channels/%s/", json_string_value(json_object_get(c, "id")));
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r->body, "config"), "secret")), "********");
    assert_null(strstr(r->raw, secret + 6));
    it_resp_free(r);
    /* The audit log (sw-auth, from channel.changed) names the change and never the secret. */
    bool audited = false;
    for (int i = 0; i < 40 && !audited; i++) {
        it_resp *a = it_auth("GET", "/api/audit-log/", access_tok, NULL);
        assert_int_equal(a->status, 200);
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(a->body, "results"), k, e)
        {
            const char *act = json_string_value(json_object_get(e, "action"));
            const char *tid =
                json_string_value(json_object_get(json_object_get(e, "target"), "id"));
            if (act && tid && strcmp(act, "channel.created") == 0 &&
                strcmp(tid, json_string_value(json_object_get(c, "id"))) == 0)
                audited = true;
        }
        assert_null(strstr(a->raw, secret + 6));
        it_resp_free(a);
        if (!audited)
            usleep(250 * 1000);
    }
    assert_true(audited);
    /* Stored sealed: the secret is nowhere in the row. */
    const char *p[] = {json_string_value(json_object_get(c, "id"))};
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM \"%s\".channels WHERE id = $1::uuid AND sealed IS NOT NULL"
             " AND position(%s IN sealed || config::text) = 0",
             tenant, "'whsec_'");
    assert_int_equal(it_sql_long(sql, 1, p), 1);
    /* PATCH with the mask keeps the secret; the name changes. */
    r = it_auth("PATCH", path, access_tok,
                json_pack("{s:s,s:{s:s,s:s}}", "name", "Hooks 2", "config", "url", url, "secret",
                          "********"));
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->body, "name")), "Hooks 2");
    it_resp_free(r);
    /* kind cannot change */
    r = it_auth("PATCH", path, access_tok, json_pack("{s:s}", "kind", "slack"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "kind"));
    it_resp_free(r);
    /* The URL policy: a private address is a field error. */
    r = it_auth("POST", "/api/channels/", access_tok,
                json_pack("{s:s,s:s,s:{s:s}}", "name", "Inward", "kind", "slack", "config", "url",
                          "http://10.1.2.3/hook"));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "config"));
    it_resp_free(r);
    r = it_auth("POST", "/api/channels/", access_tok,
                json_pack("{s:s,s:s,s:{s:s}}", "name", "Bad", "kind", "carrier-pigeon", "config",
                          "url", url));
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "kind"));
    it_resp_free(r);
    /* Another organization sees none of it. */
    char other[160];
    free(it_signup_verified(other, sizeof(other), "Other Alerts"));
    char *tok = login_token(other);
    r = it_auth("GET", path, tok, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    free(tok);
    r = it_auth("DELETE", path, access_tok, NULL);
    assert_int_equal(r->status, 204);
    it_resp_free(r);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 404);
    it_resp_free(r);
    json_decref(c);
}

static void test_each_kind_delivered_in_its_wire_format(void **state)
{
    (void)state;
    char u[7][256];
    url_of(u[0], sizeof(u[0]), "/webhook/kinds");
    url_of(u[1], sizeof(u[1]), "/slack/kinds");
    url_of(u[2], sizeof(u[2]), "/discord/kinds");
    url_of(u[3], sizeof(u[3]), "/teams/kinds");
    url_of(u[4], sizeof(u[4]), "/ntfy/kinds");
    json_t *ch[7];
    ch[0] = create_channel("Webhook", "webhook", json_pack("{s:s}", "url", u[0]));
    register_secret("kinds",
                    json_string_value(json_object_get(json_object_get(ch[0], "config"), "secret")));
    ch[1] = create_channel("Slack", "slack", json_pack("{s:s}", "url", u[1]));
    ch[2] = create_channel("Discord", "discord", json_pack("{s:s}", "url", u[2]));
    ch[3] = create_channel("Teams", "teams", json_pack("{s:s}", "url", u[3]));
    ch[4] = create_channel("ntfy", "ntfy", json_pack("{s:s,s:s}", "url", u[4], "token", "tk_secret_1"));
    ch[5] = create_channel("PagerDuty", "pagerduty",
                           json_pack("{s:s}", "routing_key", "R0UT1NGKEY0123456789abcdefABCDEF"));
    ch[6] = create_channel("Telegram", "telegram",
                           json_pack("{s:s,s:s}", "bot_token", "123456:ABCdefGHI_jkl-MNO", "chat_id",
                                     "-1001234567890"));
    char *nid[7];
    for (int i = 0; i < 7; i++)
        nid[i] = test_channel(json_string_value(json_object_get(ch[i], "id")));
    for (int i = 0; i < 7; i++) {
        json_t *d = wait_delivery(nid[i], "delivered", 20000);
        if (!d || strcmp(json_string_value(json_object_get(d, "status")), "delivered") != 0)
            fail_msg("%s not delivered: %s", json_string_value(json_object_get(ch[i], "kind")),
                     d ? json_dumps(d, 0) : "(no row)");
        json_decref(d);
    }
    const char *prefixes[] = {"/webhook/kinds", "/slack/kinds", "/discord/kinds", "/teams/kinds",
                              "/ntfy/kinds", "/pd/v2/enqueue", "/tg/bot123456:ABCdefGHI_jkl-MNO/sendMessage"};
    for (int i = 0; i < 7; i++) {
        json_t *got = received(prefixes[i]);
        if (json_array_size(got) < 1)
            fail_msg("nothing received on %s", prefixes[i]);
        json_t *x = json_array_get(got, json_array_size(got) - 1);
        if (!json_is_true(json_object_get(x, "valid")))
            fail_msg("%s: %s", prefixes[i], json_dumps(json_object_get(x, "errors"), 0));
        json_decref(got);
    }
    json_t *ntfy = received("/ntfy/kinds");
    json_t *h = json_object_get(json_array_get(ntfy, 0), "headers");
    assert_string_equal(json_string_value(json_object_get(h, "Authorization")),
                        "Bearer tk_secret_1");
    json_decref(ntfy);
    for (int i = 0; i < 7; i++) {
        free(nid[i]);
        json_decref(ch[i]);
    }
}

static void test_retry_after_two_500s(void **state)
{
    (void)state;
    char u[256];
    url_of(u, sizeof(u), "/fail2/slack/retry");
    json_t *ch = create_channel("Flaky", "slack", json_pack("{s:s}", "url", u));
    char *nid = test_channel(json_string_value(json_object_get(ch, "id")));
    /* back-off 2 s, then 10 s: the third attempt lands within 30 s */
    json_t *d = wait_delivery(nid, "delivered", 30000);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "delivered");
    assert_int_equal(json_integer_value(json_object_get(d, "attempts")), 3);
    json_decref(d);
    json_t *got = received("/fail2/slack/retry");
    assert_int_equal(json_array_size(got), 3);
    json_decref(got);
    free(nid);
    json_decref(ch);
}

static void test_hanging_receiver_does_not_delay_another(void **state)
{
    (void)state;
    char slow[256], fast[256];
    url_of(slow, sizeof(slow), "/hang/discord/slow");
    url_of(fast, sizeof(fast), "/discord/fast");
    json_t *a = create_channel("Hangs", "discord", json_pack("{s:s}", "url", slow));
    json_t *b = create_channel("Answers", "discord", json_pack("{s:s}", "url", fast));
    char *na = test_channel(json_string_value(json_object_get(a, "id")));
    char *nb = test_channel(json_string_value(json_object_get(b, "id")));
    /* The fast one is delivered while the hanging one is still waiting for its answer. */
    json_t *d = wait_delivery(nb, "delivered", 2500);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "delivered");
    json_decref(d);
    d = wait_delivery(na, "pending", 0);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "pending");
    json_decref(d);
    /* The hanging one times out (SW_NOTIFY_TIMEOUT_S) and is retried: an error is recorded. */
    for (int i = 0; i < 40; i++) {
        d = wait_delivery(na, "pending", 0);
        bool errd = json_string_value(json_object_get(d, "last_error")) != NULL;
        if (errd) {
            assert_string_equal(json_string_value(json_object_get(d, "last_error")), "timeout");
            json_decref(d);
            break;
        }
        json_decref(d);
        assert_true(i < 39);
        usleep(250 * 1000);
    }
    free(na);
    free(nb);
    json_decref(a);
    json_decref(b);
}

static void set_switch(const char *name, int code)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null http://127.0.0.1:%d/set/%s/%d", http_port,
             name, code);
    assert_int_equal(system(cmd), 0);
}

/* The incident's timeline types, comma-joined (owned). */
static char *timeline_types(const char *incident)
{
    char path[160], out[512] = "";
    snprintf(path, sizeof(path), "/api/incidents/%s/", incident);
    it_resp *r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(r->status, 200);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r->body, "timeline"), i, e)
    {
        size_t n = strlen(out);
        snprintf(out + n, sizeof(out) - n, "%s%s", n ? "," : "",
                 json_string_value(json_object_get(e, "type")));
    }
    it_resp_free(r);
    return strdup(out);
}

/* An outage of a real probed endpoint: the incident opens, a default webhook channel gets a
 * signed incident.opened, the timeline shows the notification, acknowledge is recorded once,
 * the recovery sends incident.resolved with the duration, and a resolved incident cannot be
 * acknowledged. */
static void test_outage_incident_timeline_acknowledge(void **state)
{
    (void)state;
    char hook[256], url[256], sql[400], ep[64], inc[64];
    targets_pid = it_targets_start(&http_port, &https_port);
    url_of(hook, sizeof(hook), "/webhook/outage");
    it_resp *r = it_auth("POST", "/api/channels/", access_tok,
                         json_pack("{s:s,s:s,s:b,s:{s:s}}", "name", "Ops hook", "kind", "webhook",
                                   "is_default", 1, "config", "url", hook));
    assert_int_equal(r->status, 201);
    register_secret("outage", json_string_value(
                                  json_object_get(json_object_get(r->body, "config"), "secret")));
    it_resp_free(r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/switch/alert-ep", http_port);
    r = it_auth("POST", "/api/endpoints/", access_tok,
                json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "url", url, "name", "Checkout API",
                          "failure_threshold", 1, "recovery_threshold", 1, "timeout_seconds", 3,
                          "interval_seconds", 30));
    if (r->status != 201)
        fail_msg("create endpoint: %ld %s", r->status, r->raw);
    snprintf(ep, sizeof(ep), "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    const char *p[] = {ep};
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM public.endpoint_state WHERE endpoint_id = "
                               "$1::uuid AND status = 'up'");
    assert_int_equal(it_wait_count(sql, 1, p, 1, 30000), 1);
    set_switch("alert-ep", 500);
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now() WHERE endpoint_id = $1::uuid",
                       1, p));
    /* The incident, through the API. */
    char path[200];
    snprintf(path, sizeof(path), "/api/incidents/?endpoint=%s&open=true", ep);
    inc[0] = '\0';
    for (int i = 0; i < 120 && !inc[0]; i++) {
        r = it_auth("GET", path, access_tok, NULL);
        assert_int_equal(r->status, 200);
        json_t *first = json_array_get(json_object_get(r->body, "results"), 0);
        if (first)
            snprintf(inc, sizeof(inc), "%s", json_string_value(json_object_get(first, "id")));
        it_resp_free(r);
        if (!inc[0])
            usleep(250 * 1000);
    }
    assert_true(inc[0] != '\0');
    /* The signed incident.opened reaches the webhook, with the incident id in data. */
    json_t *got = NULL;
    for (int i = 0; i < 80; i++) {
        json_decref(got);
        got = received("/webhook/outage");
        if (json_array_size(got) >= 1)
            break;
        usleep(250 * 1000);
    }
    assert_int_equal(json_array_size(got), 1);
    json_t *x = json_array_get(got, 0);
    if (!json_is_true(json_object_get(x, "valid")))
        fail_msg("webhook: %s", json_dumps(json_object_get(x, "errors"), 0));
    json_t *body = json_loads(json_string_value(json_object_get(x, "body")), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "type")), "incident.opened");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(body, "data"), "incident_id")), inc);
    json_decref(body);
    json_decref(got);
    /* The timeline shows the delivery. */
    char *types = NULL;
    for (int i = 0; i < 40; i++) {
        free(types);
        types = timeline_types(inc);
        if (strstr(types, "notification_sent"))
            break;
        usleep(250 * 1000);
    }
    assert_non_null(strstr(types, "opened"));
    assert_non_null(strstr(types, "notification_sent"));
    free(types);
    /* Acknowledge: recorded once. */
    snprintf(path, sizeof(path), "/api/incidents/%s/acknowledge/", inc);
    r = it_auth("POST", path, access_tok, json_object());
    assert_int_equal(r->status, 200);
    char acked[64];
    snprintf(acked, sizeof(acked), "%s", json_string_value(json_object_get(r->body, "acknowledged_at")));
    assert_true(acked[0] != '\0');
    it_resp_free(r);
    r = it_auth("POST", path, access_tok, json_object());
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->body, "acknowledged_at")), acked);
    it_resp_free(r);
    types = timeline_types(inc);
    assert_non_null(strstr(types, "acknowledged"));
    free(types);
    /* Recovery: incident.resolved with the duration; a resolved incident is not acknowledged. */
    set_switch("alert-ep", 200);
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now() WHERE endpoint_id = $1::uuid",
                       1, p));
    got = NULL;
    for (int i = 0; i < 160; i++) {
        json_decref(got);
        got = received("/webhook/outage");
        if (json_array_size(got) >= 2)
            break;
        usleep(250 * 1000);
    }
    assert_int_equal(json_array_size(got), 2);
    x = json_array_get(got, 1);
    assert_true(json_is_true(json_object_get(x, "valid")));
    body = json_loads(json_string_value(json_object_get(x, "body")), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "type")), "incident.resolved");
    assert_true(json_is_integer(json_object_get(json_object_get(body, "data"), "duration_seconds")));
    json_decref(body);
    json_decref(got);
    snprintf(path, sizeof(path), "/api/incidents/%s/acknowledge/", inc);
    r = it_auth("POST", path, access_tok, json_object());
    assert_int_equal(r->status, 400);
    assert_string_equal(json_string_value(json_object_get(r->body, "code")), "incident_resolved");
    it_resp_free(r);
}

/* Creates a probed endpoint on targets' /switch/<sw> (body extra fields merged); waits until up. */
static void probed_endpoint(char *out, size_t len, const char *sw, const char *name, json_t *extra)
{
    char url[256], sql[200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/switch/%s", http_port, sw);
    json_t *b = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "url", url, "name", name,
                          "failure_threshold", 1, "recovery_threshold", 1, "timeout_seconds", 3,
                          "interval_seconds", 30);
    if (extra) {
        json_object_update(b, extra);
        json_decref(extra);
    }
    it_resp *r = it_auth("POST", "/api/endpoints/", access_tok, b);
    if (r->status != 201)
        fail_msg("create endpoint: %ld %s", r->status, r->raw);
    snprintf(out, len, "%s", json_string_value(json_object_get(r->body, "id")));
    it_resp_free(r);
    const char *p[] = {out};
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM public.endpoint_state WHERE endpoint_id = "
                               "$1::uuid AND status = 'up'");
    assert_int_equal(it_wait_count(sql, 1, p, 1, 30000), 1);
}

/* The next check now. A second after the previous one at least: a job's msg id is
 * <endpoint>:<due epoch s>:<region>, so one due in the same second would be dropped. */
static void check_now(const char *ep)
{
    const char *p[] = {ep};
    usleep(1100 * 1000);
    json_decref(it_sql("UPDATE public.schedule SET next_due_at = now() WHERE endpoint_id = $1::uuid",
                       1, p));
}

/* Five endpoints of one organization down at once: each channel gets one roll-up listing
 * them, not five messages. */
static void test_rollup_of_five_outages(void **state)
{
    (void)state;
    char ep[5][64], sw[5][32], name[32], u[256];
    it_set_plan(tenant, "pro");
    url_of(u, sizeof(u), "/slack/rollup");
    it_resp *r = it_auth("POST", "/api/channels/", access_tok,
                         json_pack("{s:s,s:s,s:b,s:{s:s}}", "name", "Rollup room", "kind", "slack",
                                   "is_default", 1, "config", "url", u));
    assert_int_equal(r->status, 201);
    it_resp_free(r);
    for (int i = 0; i < 5; i++) {
        snprintf(sw[i], sizeof(sw[i]), "ru-%d", i);
        snprintf(name, sizeof(name), "Rack %d", i);
        probed_endpoint(ep[i], sizeof(ep[i]), sw[i], name, NULL);
    }
    for (int i = 0; i < 5; i++)
        set_switch(sw[i], 503);
    usleep(1100 * 1000);
    for (int i = 0; i < 5; i++) {
        const char *p[] = {ep[i]};
        json_decref(it_sql("UPDATE public.schedule SET next_due_at = now()"
                           " WHERE endpoint_id = $1::uuid", 1, p));
    }
    json_t *got = NULL;
    for (int i = 0; i < 120; i++) {
        json_decref(got);
        got = received("/slack/rollup");
        if (json_array_size(got) >= 1)
            break;
        usleep(250 * 1000);
    }
    assert_int_equal(json_array_size(got), 1);
    json_t *x = json_array_get(got, 0);
    assert_true(json_is_true(json_object_get(x, "valid")));
    const char *body = json_string_value(json_object_get(x, "body"));
    assert_non_null(strstr(body, "5 endpoints are DOWN"));
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "Rack %d", i);
        assert_non_null(strstr(body, name));
    }
    json_decref(got);
    /* Nothing else follows for these outages (the hold is 3 s on the test instance). */
    sleep(5);
    got = received("/slack/rollup");
    assert_int_equal(json_array_size(got), 1);
    json_decref(got);
    for (int i = 0; i < 5; i++)
        set_switch(sw[i], 200);
    for (int i = 0; i < 5; i++)
        check_now(ep[i]);
    /* Recoveries go out one by one. */
    for (int i = 0; i < 120; i++) {
        got = received("/slack/rollup");
        size_t n = json_array_size(got);
        json_decref(got);
        if (n >= 6)
            break;
        usleep(250 * 1000);
    }
    got = received("/slack/rollup");
    assert_int_equal(json_array_size(got), 6);
    json_decref(got);
    /* Not a default channel any more, for the tests that follow. */
    r = it_auth("GET", "/api/channels/?page_size=100", access_tok, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r->body, "results"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), "Rollup room") == 0) {
            char path[160];
            snprintf(path, sizeof(path), "/api/channels/%s/",
                     json_string_value(json_object_get(c, "id")));
            it_resp_free(it_auth("DELETE", path, access_tok, NULL));
        }
    }
    it_resp_free(r);
}

/* An endpoint with its own channel and reminder_minutes: only that channel hears, a reminder
 * follows while it is down, and acknowledging stops them. */
static void test_reminder_until_acknowledged(void **state)
{
    (void)state;
    char u[256], ep[64], inc[64] = "", path[200], sql[300];
    url_of(u, sizeof(u), "/discord/remind");
    json_t *ch = create_channel("Reminders", "discord", json_pack("{s:s}", "url", u));
    const char *cid = json_string_value(json_object_get(ch, "id"));
    /* channel_ids must be the organization's channels */
    json_t *bad = json_pack("{s:[s]}", "channel_ids", "00000000-0000-4000-8000-000000000000");
    char badurl[256];
    snprintf(badurl, sizeof(badurl), "http://127.0.0.1:%d/ok", http_port);
    json_object_set_new(bad, "url", json_string(badurl));
    it_resp *r = it_auth("POST", "/api/endpoints/", access_tok, bad);
    assert_int_equal(r->status, 400);
    assert_non_null(json_object_get(r->body, "channel_ids"));
    it_resp_free(r);
    probed_endpoint(ep, sizeof(ep), "remind-ep", "Billing",
                    json_pack("{s:[s],s:i}", "channel_ids", cid, "reminder_minutes", 5));
    snprintf(path, sizeof(path), "/api/endpoints/%s/", ep);
    r = it_auth("GET", path, access_tok, NULL);
    assert_int_equal(json_integer_value(json_object_get(r->body, "reminder_minutes")), 5);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r->body, "channel_ids"), 0)),
                        cid);
    it_resp_free(r);
    set_switch("remind-ep", 500);
    check_now(ep);
    json_t *got = NULL;
    for (int i = 0; i < 120; i++) {
        json_decref(got);
        got = received("/discord/remind");
        if (json_array_size(got) >= 1)
            break;
        usleep(250 * 1000);
    }
    assert_int_equal(json_array_size(got), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(got, 0), "body")),
                           "Billing is DOWN"));
    json_decref(got);
    /* Only its own channel: the default webhook got nothing about it. */
    got = received("/webhook/outage");
    size_t i;
    json_t *x;
    json_array_foreach(got, i, x)
        assert_null(strstr(json_string_value(json_object_get(x, "body")), "Billing"));
    json_decref(got);
    /* The reminder, made due now rather than in 5 minutes. */
    const char *p[] = {ep};
    json_t *rows = it_sql("SELECT incident_id::text AS id FROM public.notify_reminders WHERE"
                          " endpoint_id = $1::uuid", 1, p);
    assert_int_equal(json_array_size(rows), 1);
    snprintf(inc, sizeof(inc), "%s", json_string_value(json_object_get(json_array_get(rows, 0), "id")));
    json_decref(rows);
    const char *pi[] = {inc};
    json_decref(it_sql("UPDATE public.notify_reminders SET due_at = now() WHERE incident_id = $1::uuid",
                       1, pi));
    for (int k = 0; k < 80; k++) {
        got = received("/discord/remind");
        size_t n = json_array_size(got);
        json_decref(got);
        if (n >= 2)
            break;
        usleep(250 * 1000);
    }
    got = received("/discord/remind");
    assert_int_equal(json_array_size(got), 2);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(got, 1), "body")),
                           "Still: Billing is DOWN"));
    json_decref(got);
    /* Acknowledge: the reminder is gone, none follows. */
    snprintf(path, sizeof(path), "/api/incidents/%s/acknowledge/", inc);
    r = it_auth("POST", path, access_tok, json_object());
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM public.notify_reminders WHERE incident_id = $1::uuid");
    assert_int_equal(it_sql_long(sql, 1, pi), 0);
    sleep(3);
    got = received("/discord/remind");
    assert_int_equal(json_array_size(got), 2);
    json_decref(got);
    set_switch("remind-ep", 200);
    json_decref(ch);
}

/* A certificate about to expire (the recorder's tls.expiring, issue 17, published here as the
 * recorder would): the endpoint's channel is told. */
static void test_tls_expiring_notified(void **state)
{
    (void)state;
    char u[256], ep[64], subject[160];
    url_of(u, sizeof(u), "/ntfy/tls");
    json_t *ch = create_channel("Certificates", "ntfy", json_pack("{s:s}", "url", u));
    probed_endpoint(ep, sizeof(ep), "tls-ep", "Shop",
                    json_pack("{s:[s]}", "channel_ids",
                              json_string_value(json_object_get(ch, "id"))));
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.tls.expiring", tenant);
    json_t *evt = json_pack("{s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s}", "endpoint_id", ep,
                            "tenant_id", tenant, "threshold_days", 14, "days_left", 13,
                            "expires_at", "2027-01-01T00:00:00Z", "issuer", "CN=Test CA",
                            "subject", "CN=shop.example", "endpoint_name", "Shop", "url",
                            "https://shop.example/");
    char *text = json_dumps(evt, JSON_COMPACT);
    jsCtx *js = NULL;
    natsConnection *nc = it_nats();
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsErrCode jerr = 0;
    assert_int_equal(js_Publish(NULL, js, subject, text, (int)strlen(text), NULL, &jerr), NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    free(text);
    json_decref(evt);
    json_t *got = NULL;
    for (int i = 0; i < 80; i++) {
        json_decref(got);
        got = received("/ntfy/tls");
        if (json_array_size(got) >= 1)
            break;
        usleep(250 * 1000);
    }
    assert_int_equal(json_array_size(got), 1);
    json_t *x = json_array_get(got, 0);
    assert_true(json_is_true(json_object_get(x, "valid")));
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(x, "headers"), "Title")),
                           "Certificate of Shop"));
    json_decref(got);
    json_decref(ch);
}

static void test_viewer_cannot_change_channels(void **state)
{
    (void)state;
    /* An API token with the viewer role stands for a viewer. */
    it_resp *r = it_auth("POST", "/api/tokens/", access_tok,
                         json_pack("{s:s,s:s}", "name", "read only", "role", "viewer"));
    assert_int_equal(r->status, 201);
    char tok[256];
    snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(r->body, "token")));
    it_resp_free(r);
    r = it_auth("GET", "/api/channels/", tok, NULL);
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    r = it_auth("POST", "/api/channels/", tok,
                json_pack("{s:s,s:s,s:{s:[s]}}", "name", "x", "kind", "email", "config",
                          "addresses", "a@example.com"));
    assert_int_equal(r->status, 403);
    assert_string_equal(json_string_value(json_object_get(r->body, "code")), "role_required");
    it_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_organization_has_default_email_channel),
        cmocka_unit_test(test_secrets_write_only_and_policy),
        cmocka_unit_test(test_each_kind_delivered_in_its_wire_format),
        cmocka_unit_test(test_retry_after_two_500s),
        cmocka_unit_test(test_hanging_receiver_does_not_delay_another),
        cmocka_unit_test(test_viewer_cannot_change_channels),
        cmocka_unit_test(test_outage_incident_timeline_acknowledge),
        cmocka_unit_test(test_rollup_of_five_outages),
        cmocka_unit_test(test_reminder_until_acknowledged),
        cmocka_unit_test(test_tls_expiring_notified),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
