/* libcurl multi engine; see probe.h. */
#include "actors/prober/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <curl/curl.h>

#include <sodium.h>

#include "actors/common/assertion.h"

static void sodium_memzero_str(json_t *v)
{
    /* jansson's string storage is its own: overwrite it through the API. */
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        char *z = calloc(1, n + 1);
        if (z) {
            memset(z, '*', n);
            json_string_setn(v, z, n);
            free(z);
        }
    }
}

#define MAX_BODY (64 * 1024)    /* read at most this much of a response body */
#define MAX_HEADERS (16 * 1024) /* keep at most this much of the response headers */
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
    /* issue 17 */
    bool tcp;               /* a connection is all that is checked */
    bool https;             /* the certificate is recorded */
    json_t *assertions;     /* owned; NULL: none (body and headers are then not kept) */
    char *body_buf;         /* owned: the body, when assertions need it */
    char *hdr_buf;          /* owned: the response headers, when assertions need them */
    size_t hdr_len;
    struct curl_slist *req_headers; /* owned */
    json_t *secrets;        /* owned: the request header values, kept out of error texts */
    char *req_body;         /* owned */
    char *setup_error;      /* static: why the check could not be made ("" none) */
} check;

struct probe_engine {
    CURLM *multi;
    bool sandbox;
    const char *ca_file; /* borrowed; NULL: CA_BUNDLE */
    const seal_key *seal; /* borrowed; NULL: checks with headers fail */
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

void probe_engine_seal_key(probe_engine *e, const seal_key *key)
{
    e->seal = key;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    check *c = arg;
    size_t len = size * n;
    if (c->assertions && c->body + len <= MAX_BODY) {
        if (!c->body_buf)
            c->body_buf = malloc(MAX_BODY + 1);
        if (c->body_buf) {
            memcpy(c->body_buf + c->body, p, len);
            c->body_buf[c->body + len] = '\0';
        }
    }
    c->body += len;
    return c->body > MAX_BODY ? 0 : len; /* past the cap: stop reading (status is known) */
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    check *c = arg;
    size_t len = size * n;
    if (c->hdr_len + len <= MAX_HEADERS) {
        char *nb = realloc(c->hdr_buf, c->hdr_len + len + 1);
        if (nb) {
            memcpy(nb + c->hdr_len, p, len);
            c->hdr_len += len;
            nb[c->hdr_len] = '\0';
            c->hdr_buf = nb;
        }
    }
    return len;
}

/* Every connection, the first and each redirect's, is checked on the address actually used:
 * no DNS rebinding window, no redirect to an inside address. */
static curl_socket_t on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    check *c = arg;
    if (c->setup_error)
        return CURL_SOCKET_BAD; /* the request could not be made as configured: never sent */
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

static void check_free(check *c)
{
    if (!c)
        return;
    json_decref(c->expected);
    json_decref(c->assertions);
    if (c->secrets) {
        const char *k;
        json_t *v;
        json_object_foreach(c->secrets, k, v) sodium_memzero_str(v);
        json_decref(c->secrets);
    }
    curl_slist_free_all(c->req_headers);
    free(c->body_buf);
    free(c->hdr_buf);
    free(c->req_body);
    free(c);
}

/* The request of an HTTP check: method, body, headers (opened from their seal), redirects and
 * verification. Returns why it cannot be made, or NULL. */
static const char *apply_check(probe_engine *e, check *c, CURL *h, const json_t *chk)
{
    const char *method = json_string_value(json_object_get(chk, "method"));
    const char *body = json_string_value(json_object_get(chk, "body"));
    const char *sealed = json_string_value(json_object_get(chk, "headers"));
    if (json_is_false(json_object_get(chk, "follow_redirects")))
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (json_is_false(json_object_get(chk, "tls_verify"))) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (body) {
        c->req_body = strdup(body);
        if (!c->req_body)
            return "out of memory";
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->req_body));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->req_body);
    }
    if (method && strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method && strcmp(method, "POST") == 0) {
        if (!body)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    } else if (method && strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET"); /* a GET with a body */
    }
    if (sealed) {
        char *plain = e->seal ? seal_open(e->seal, sealed) : NULL;
        json_t *hdrs = plain ? json_loads(plain, 0, NULL) : NULL;
        seal_wipe(plain);
        if (!json_is_object(hdrs)) {
            json_decref(hdrs);
            return "request headers cannot be opened (SW_SEAL_KEY)";
        }
        const char *k;
        json_t *v;
        json_object_foreach(hdrs, k, v)
        {
            const char *val = json_string_value(v);
            size_t n = strlen(k) + (val ? strlen(val) : 0) + 4;
            char *line = malloc(n);
            if (!line)
                break;
            /* "Name;" sends a header with an empty value (libcurl's convention). */
            snprintf(line, n, val && *val ? "%s: %s" : "%s;", k, val ? val : "");
            c->req_headers = curl_slist_append(c->req_headers, line);
            sodium_memzero(line, n);
            free(line);
        }
        c->secrets = hdrs;
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->req_headers);
    }
    return NULL;
}

bool probe_engine_add(probe_engine *e, const char *url, int timeout_s, const json_t *expected,
                      const json_t *chk, void *job)
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
    char tcp_url[2100];
    const char *kind = json_string_value(json_object_get(chk, "kind"));
    c->tcp = (kind && strcmp(kind, "tcp") == 0) || strncasecmp(url, "tcp://", 6) == 0;
    if (c->tcp) {
        /* tcp://host:port: libcurl opens the connection (through on_open and the policy) and
         * sends nothing. */
        snprintf(tcp_url, sizeof(tcp_url), "http://%s/",
                 strncasecmp(url, "tcp://", 6) == 0 ? url + 6 : url);
        url = tcp_url;
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    }
    c->https = !c->tcp && strncasecmp(url, "https://", 8) == 0;
    const json_t *as = json_object_get(chk, "assertions");
    if (!c->tcp && json_array_size(as) > 0) {
        c->assertions = json_incref((json_t *)as);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    }
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
    /* Every HTTPS check records the certificate, verified or not. */
    if (c->https)
        curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    if (!c->tcp && chk)
        c->setup_error = (char *)apply_check(e, c, h, chk);
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        check_free(c);
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

/* "Expire date:Jan  1 00:00:00 2027 GMT" (libcurl's OpenSSL backend) as epoch seconds. */
static int64_t cert_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%b %d %H:%M:%S %Y", &tm);
    return end ? (int64_t)timegm(&tm) : 0;
}

/* The leaf certificate of the connection: expiry, issuer, subject. */
static void record_cert(CURL *h, probe_result *r)
{
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return;
    for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
        const char *d = l->data;
        if (strncmp(d, "Expire date:", 12) == 0)
            r->tls_expires_at = cert_time(d + 12);
        else if (strncmp(d, "Issuer:", 7) == 0)
            snprintf(r->tls_issuer, sizeof(r->tls_issuer), "%s", d + 7 + (d[7] == ' '));
        else if (strncmp(d, "Subject:", 8) == 0)
            snprintf(r->tls_subject, sizeof(r->tls_subject), "%s", d + 8 + (d[8] == ' '));
    }
}

/* Replaces each request header value found in s by ******** (a target that echoes the request
 * must not put a secret into an error text). */
static void redact(char *s, size_t cap, const json_t *secrets)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)secrets, k, v)
    {
        const char *val = json_string_value(v);
        size_t n = val ? strlen(val) : 0;
        if (n < 4)
            continue;
        for (char *p = strstr(s, val); p; p = strstr(p + 8, val)) {
            size_t rest = strlen(p + n);
            if ((size_t)(p - s) + 8 + rest + 1 > cap)
                break;
            memmove(p + 8, p + n, rest + 1);
            memcpy(p, "********", 8);
        }
    }
    /* A shortened value may have been cut before it ended: any 8+ characters of one go too. */
    json_object_foreach((json_t *)secrets, k, v)
    {
        const char *val = json_string_value(v);
        if (!val || strlen(val) < 12)
            continue;
        char head[9];
        memcpy(head, val, 8);
        head[8] = '\0';
        for (char *p = strstr(s, head); p; p = strstr(p + 1, head))
            memcpy(p, "********", 8);
    }
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
    if (c->https)
        record_cert(h, &r);
    if (c->setup_error) {
        snprintf(r.error, sizeof(r.error), "%s", c->setup_error);
    } else if (rc != CURLE_OK && !body_capped) {
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
    } else if (c->tcp) {
        r.ok = true; /* the connection opened */
    } else if (!probe_status_expected(r.http_status, c->expected)) {
        snprintf(r.error, sizeof(r.error), "unexpected status %d", r.http_status);
    } else if (c->assertions) {
        assertion_response ar = {.status = r.http_status,
                                 .response_time_ms = r.total_ms,
                                 .body = c->body_buf ? c->body_buf : "",
                                 .body_len = c->body_buf ? strlen(c->body_buf) : 0,
                                 .headers = c->hdr_buf};
        r.ok = assertion_check(c->assertions, &ar, r.error, sizeof(r.error));
    } else {
        r.ok = true;
    }
    if (c->secrets && r.error[0])
        redact(r.error, sizeof(r.error), c->secrets);
    curl_multi_remove_handle(e->multi, h);
    curl_easy_cleanup(h);
    e->inflight--;
    e->done(c->job, &r, e->arg);
    check_free(c);
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
