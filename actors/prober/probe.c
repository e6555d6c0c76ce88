/* libcurl multi engine; see probe.h. */
#include "actors/prober/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <curl/curl.h>

#define MAX_BODY (64 * 1024) /* read at most this much of a response body */
#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

typedef struct check {
    CURL *easy;
    void *job;
    json_t *expected;
    const url_policy *policy;
    bool sandbox;
    bool blocked;
    size_t body;
    char errbuf[CURL_ERROR_SIZE];
} check;

struct probe_engine {
    CURLM *multi;
    bool sandbox;
    const char *ca_file; /* borrowed; NULL: CA_BUNDLE */
    int max_inflight;
    int inflight;
    const url_policy *policy;
    probe_done_fn done;
    void *arg;
};

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

void probe_engine_sandbox(probe_engine *e, bool on)
{
    e->sandbox = on;
}

void probe_engine_ca_file(probe_engine *e, const char *path)
{
    e->ca_file = path;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    check *c = arg;
    c->body += size * n;
    return c->body > MAX_BODY ? 0 : size * n; /* past the cap: stop reading (status is known) */
}

/* Every connection, the first and each redirect's, is checked on the address actually used:
 * no DNS rebinding window, no redirect to an inside address. */
static curl_socket_t on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    check *c = arg;
    if (purpose != CURLSOCKTYPE_IPCXN || !url_policy_addr_allowed(c->policy, &addr->addr) ||
        (c->sandbox && !is_loopback(&addr->addr))) {
        c->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

probe_engine *probe_engine_new(int max_inflight, const url_policy *policy, probe_done_fn done,
                               void *arg)
{
    probe_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->multi = curl_multi_init();
    if (!e->multi) {
        free(e);
        return NULL;
    }
    e->max_inflight = max_inflight > 0 ? max_inflight : 1;
    e->policy = policy;
    e->done = done;
    e->arg = arg;
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->max_inflight);
    return e;
}

void probe_engine_free(probe_engine *e)
{
    if (!e)
        return;
    curl_multi_cleanup(e->multi);
    free(e);
}

int probe_engine_inflight(const probe_engine *e)
{
    return e->inflight;
}

static bool class_match(int status, const char *spec)
{
    /* "2xx-3xx", "200-299", "2xx", "200", "200,204" */
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        while (*part == ' ')
            part++;
        char lo_s[8] = "", hi_s[8] = "";
        char *dash = strchr(part, '-');
        snprintf(lo_s, sizeof(lo_s), "%.*s", dash ? (int)(dash - part) : (int)strlen(part), part);
        snprintf(hi_s, sizeof(hi_s), "%s", dash ? dash + 1 : lo_s);
        int lo, hi;
        if (strlen(lo_s) == 3 && lo_s[1] == 'x')
            lo = (lo_s[0] - '0') * 100;
        else
            lo = atoi(lo_s);
        if (strlen(hi_s) == 3 && hi_s[1] == 'x')
            hi = (hi_s[0] - '0') * 100 + 99;
        else
            hi = atoi(hi_s);
        if (status >= lo && status <= hi)
            return true;
    }
    return false;
}

bool probe_status_expected(int status, const json_t *expected)
{
    if (status <= 0)
        return false;
    if (json_is_array(expected)) {
        size_t i;
        json_t *v;
        json_array_foreach(expected, i, v) if (json_integer_value(v) == status) return true;
        return false;
    }
    if (json_is_integer(expected))
        return json_integer_value(expected) == status;
    if (json_is_string(expected))
        return class_match(status, json_string_value(expected));
    return status >= 200 && status < 400;
}

bool probe_engine_add(probe_engine *e, const char *url, int timeout_s, const json_t *expected,
                      void *job)
{
    if (e->inflight >= e->max_inflight)
        return false;
    check *c = calloc(1, sizeof(*c));
    if (!c)
        return false;
    c->easy = curl_easy_init();
    if (!c->easy) {
        free(c);
        return false;
    }
    c->job = job;
    c->policy = e->policy;
    c->sandbox = e->sandbox;
    c->expected = expected ? json_incref((json_t *)expected) : NULL;
    CURL *h = c->easy;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, c);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_s * 1000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_s * 1000L);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "StatusWatch/1.0 (+uptime check)");
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L); /* a check measures a fresh connection */
    /* Debian's default CA path disables libcurl's CA cache (22 ms per TLS check instead of
     * 0.8 ms): use the bundle file. */
    curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(h, CURLOPT_CAINFO, e->ca_file ? e->ca_file : CA_BUNDLE);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
        json_decref(c->expected);
        curl_easy_cleanup(h);
        free(c);
        return false;
    }
    e->inflight++;
    return true;
}

static double ms(CURL *h, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(h, what, &us);
    return (double)us / 1000.0;
}

static void finish(probe_engine *e, CURL *h, CURLcode rc)
{
    check *c = NULL;
    probe_result r;
    long status = 0;

    memset(&r, 0, sizeof(r));
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    r.http_status = (int)status;
    r.dns_ms = ms(h, CURLINFO_NAMELOOKUP_TIME_T);
    r.connect_ms = ms(h, CURLINFO_CONNECT_TIME_T);
    r.tls_ms = ms(h, CURLINFO_APPCONNECT_TIME_T);
    r.ttfb_ms = ms(h, CURLINFO_STARTTRANSFER_TIME_T);
    r.total_ms = ms(h, CURLINFO_TOTAL_TIME_T);
    bool body_capped = rc == CURLE_WRITE_ERROR && c->body > MAX_BODY;
    if (rc != CURLE_OK && !body_capped) {
        if (c->blocked)
            snprintf(r.error, sizeof(r.error), "blocked: the address is not allowed");
        else if (rc == CURLE_TOO_MANY_REDIRECTS)
            snprintf(r.error, sizeof(r.error), "too many redirects (more than 5)");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            snprintf(r.error, sizeof(r.error), "timed out");
        else
            snprintf(r.error, sizeof(r.error), "%.150s",
                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        r.blocked = c->blocked;
    } else if (!probe_status_expected(r.http_status, c->expected)) {
        snprintf(r.error, sizeof(r.error), "unexpected status %d", r.http_status);
    } else {
        r.ok = true;
    }
    curl_multi_remove_handle(e->multi, h);
    curl_easy_cleanup(h);
    e->inflight--;
    e->done(c->job, &r, e->arg);
    json_decref(c->expected);
    free(c);
}

int probe_engine_run(probe_engine *e, int wait_ms)
{
    int running = 0, left = 0;
    CURLMsg *m;
    curl_multi_perform(e->multi, &running);
    if (e->inflight > 0)
        curl_multi_poll(e->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(e->multi, &running);
    while ((m = curl_multi_info_read(e->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            finish(e, m->easy_handle, m->data.result);
    return e->inflight;
}
