/* Sentry events from error-level log lines and from crashes; see sentry.h for the contract.
 * The hot path (a thread logging an error) builds the event, serialises it and puts it on a
 * ring under a mutex held for a few pointer moves; the network is the sender thread's only. */
#include "bus/sentry.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus/clock.h"
#include "bus/ids.h"
#include "bus/status.h"
#include "bus/config.h"
#include "bus/log.h"

#define SDK_NAME "statuswatch.c"
#define SDK_VERSION "0.1.0"
#define CRASH_FRAMES 32
#define CRASH_BUF 16384

typedef struct item {
    char *envelope; /* owned */
    char *spool;    /* owned: the claimed spool file this envelope came from, or NULL */
    char *origin;   /* owned: its name before it was claimed (put back when not delivered) */
} item;

static struct {
    bool enabled;
    sw_sentry_dsn dsn;
    char auth[256];
    char actor[64];
    char environment[64];
    char server_name[128];
    char spool_dir[400];
    double traces_rate;
    int flush_ms, timeout_ms;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    item *ring;
    int cap, head, count;
    bool stopping;
    pthread_t thread;
    int64_t paused_until_ms; /* atomic: Sentry asked us to wait (429) */
    int64_t last_warn_ms;    /* sender thread only */

    /* Built at start-up for the signal handler. */
    char crash_tmp[512], crash_path[512];
    char crash_head[4096]; /* envelope + item headers, the event up to its tags */
    size_t crash_head_len;
    void *altstack;
} S;

static int64_t n_sent, n_dropped, n_failed;
static int crashing;
static char crash_buf[CRASH_BUF];

/* ---------------------------------------------------------------- settings */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

bool sw_sentry_dsn_parse(sw_sentry_dsn *out, const char *dsn, char *why, size_t whylen)
{
    char buf[1024];
    memset(out, 0, sizeof(*out));
    if (!dsn || !*dsn || strlen(dsn) >= sizeof(buf)) {
        snprintf(why, whylen, "empty or longer than 1023 bytes");
        return false;
    }
    snprintf(buf, sizeof(buf), "%s", dsn);
    char *rest = strstr(buf, "://");
    if (!rest) {
        snprintf(why, whylen, "expected {scheme}://{public_key}@{host}/{project_id}");
        return false;
    }
    *rest = '\0';
    rest += 3;
    if (strcmp(buf, "http") != 0 && strcmp(buf, "https") != 0) {
        snprintf(why, whylen, "the scheme must be http or https");
        return false;
    }
    memcpy(out->scheme, buf, strlen(buf) + 1); /* "http" or "https": fits */
    char *at = strchr(rest, '@');
    char *slash = strchr(rest, '/');
    if (!at || (slash && slash < at) || at == rest) {
        snprintf(why, whylen, "no public key before '@'");
        return false;
    }
    *at = '\0';
    char *colon = strchr(rest, ':'); /* a legacy secret key: never sent */
    if (colon)
        *colon = '\0';
    if (strlen(rest) >= sizeof(out->key) ||
        strspn(rest, "0123456789abcdefABCDEF") != strlen(rest)) {
        snprintf(why, whylen, "the public key must be hexadecimal");
        return false;
    }
    snprintf(out->key, sizeof(out->key), "%s", rest);
    char *host = at + 1;
    slash = strchr(host, '/');
    if (!slash || slash == host) {
        snprintf(why, whylen, "no host, or no /{project_id} after it");
        return false;
    }
    *slash = '\0';
    if (strlen(host) >= sizeof(out->host) ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host)) {
        snprintf(why, whylen, "the host holds characters a host name cannot have");
        return false;
    }
    snprintf(out->host, sizeof(out->host), "%s", host);
    char *path = slash + 1;
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        path[--plen] = '\0';
    char *last = strrchr(path, '/');
    const char *project = last ? last + 1 : path;
    if (!all_digits(project) || strlen(project) >= sizeof(out->project)) {
        snprintf(why, whylen, "the project id (the last path segment) must be a number");
        return false;
    }
    snprintf(out->project, sizeof(out->project), "%s", project);
    if (last) {
        *last = '\0';
        if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") !=
                strlen(path) ||
            strlen(path) + 2 > sizeof(out->path)) {
            snprintf(why, whylen, "the path before the project id holds unexpected characters");
            return false;
        }
        snprintf(out->path, sizeof(out->path), "/%s", path);
    }
    snprintf(out->endpoint, sizeof(out->endpoint), "%s://%s%s/api/%s/envelope/", out->scheme,
             out->host, out->path, out->project);
    return true;
}

void sw_sentry_auth_header(char *out, size_t len, const char *key)
{
    snprintf(out, len, "Sentry sentry_version=7, sentry_client=%s/%s, sentry_key=%s", SDK_NAME,
             SDK_VERSION, key);
}

bool sw_sentry_parse_sample_rate(const char *text, double *rate, char *why, size_t whylen)
{
    *rate = 0;
    if (!text || !*text)
        return true;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < 0 || v > 1) {
        snprintf(why, whylen, "expected a number from 0 to 1");
        return false;
    }
    *rate = v;
    return true;
}

bool sw_sentry_enabled(void)
{
    return S.enabled;
}

double sw_sentry_traces_sample_rate(void)
{
    return S.traces_rate;
}

void sw_sentry_stats_get(sw_sentry_stats *out)
{
    out->sent = __atomic_load_n(&n_sent, __ATOMIC_RELAXED);
    out->dropped = __atomic_load_n(&n_dropped, __ATOMIC_RELAXED);
    out->failed = __atomic_load_n(&n_failed, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- events */

static void iso_now(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    size_t n = strlen(out);
    snprintf(out + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

json_t *sw_sentry_event_from_log(const json_t *line, const char *release, const char *environment,
                                 const char *server_name)
{
    char id[33], now[64];
    const char *k;
    json_t *v;
    sw_random_hex(id, 16);
    iso_now(now, sizeof(now));
    const char *level = json_string_value(json_object_get(line, "level"));
    const char *when = json_string_value(json_object_get(line, "time"));
    const char *actor = json_string_value(json_object_get(line, "actor"));
    const char *msg = json_string_value(json_object_get(line, "msg"));

    json_t *ev = json_object();
    json_t *tags = json_object();
    json_t *extra = json_object();
    json_object_set_new(ev, "event_id", json_string(id));
    json_object_set_new(ev, "timestamp", json_string(when ? when : now));
    json_object_set_new(ev, "platform", json_string("c"));
    if (!level)
        level = "error";
    json_object_set_new(ev, "level", json_string(strcmp(level, "warn") == 0 ? "warning" : level));
    json_object_set_new(ev, "logger", json_string(actor ? actor : "sw"));
    json_object_set_new(ev, "release", json_string(release));
    json_object_set_new(ev, "environment", json_string(environment));
    if (server_name && *server_name)
        json_object_set_new(ev, "server_name", json_string(server_name));
    json_object_set_new(ev, "message", json_pack("{s:s}", "formatted", msg ? msg : ""));
    json_object_set_new(tags, "actor", json_string(actor ? actor : "sw"));
    json_object_foreach((json_t *)line, k, v)
    {
        if (strcmp(k, "request_id") == 0 || strcmp(k, "tenant") == 0)
            json_object_set(tags, k, v);
        else if (strcmp(k, "time") && strcmp(k, "level") && strcmp(k, "actor") && strcmp(k, "msg"))
            json_object_set(extra, k, v);
    }
    /* One issue per actor, message and (when the line names one) subject or setting: "request
     * failed" on sw.v1.billing.checkout is not the same fault as on sw.v1.auth.token. */
    json_t *fp = json_pack("[s,s]", actor ? actor : "sw", msg ? msg : "");
    const char *where = json_string_value(json_object_get(extra, "subject"));
    if (!where)
        where = json_string_value(json_object_get(extra, "setting"));
    if (where)
        json_array_append_new(fp, json_string(where));
    json_object_set_new(ev, "fingerprint", fp);
    json_object_set_new(ev, "tags", tags);
    json_object_set_new(ev, "extra", extra);
    json_object_set_new(ev, "sdk",
                        json_pack("{s:s,s:s}", "name", SDK_NAME, "version", SDK_VERSION));
    return ev;
}

char *sw_sentry_envelope(const json_t *event)
{
    char now[64], *payload = NULL, *out = NULL;
    iso_now(now, sizeof(now));
    payload = json_dumps(event, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!payload)
        return NULL;
    const char *id = json_string_value(json_object_get(event, "event_id"));
    size_t n = strlen(payload);
    if (asprintf(
            &out,
            "{\"event_id\":\"%s\",\"sent_at\":\"%s\"}\n{\"type\":\"event\",\"length\":%zu}\n%s\n",
            id ? id : "", now, n, payload) < 0)
        out = NULL;
    free(payload);
    return out;
}

/* ---------------------------------------------------------------- queue */

static int64_t now_ms(void)
{
    return sw_epoch_ms();
}

/* it: takes ownership of its strings, even when the queue is full (then they are freed). */
static void enqueue(item it)
{
    bool queued = false;
    pthread_mutex_lock(&S.lock);
    if (S.count < S.cap && !S.stopping) {
        S.ring[(S.head + S.count) % S.cap] = it;
        S.count++;
        queued = true;
        pthread_cond_signal(&S.cond);
    }
    pthread_mutex_unlock(&S.lock);
    if (!queued) {
        __atomic_add_fetch(&n_dropped, 1, __ATOMIC_RELAXED);
        if (it.spool && it.origin)
            rename(it.spool, it.origin); /* a crash report stays for the next start */
        free(it.envelope);
        free(it.spool);
        free(it.origin);
    }
}

static void on_error_line(const json_t *line)
{
    if (__atomic_load_n(&S.paused_until_ms, __ATOMIC_RELAXED) > now_ms()) {
        __atomic_add_fetch(&n_dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    json_t *ev = sw_sentry_event_from_log(line, sw_release, S.environment, S.server_name);
    item it = {.envelope = sw_sentry_envelope(ev)};
    json_decref(ev);
    if (!it.envelope) {
        __atomic_add_fetch(&n_dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    enqueue(it);
}

/* ---------------------------------------------------------------- sender */

typedef struct response {
    long retry_after_s; /* from Retry-After, -1 when absent */
} response;

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    response *r = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0)
        r->retry_after_s = strtol(buf + 12, NULL, 10);
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
    return size * n; /* the reply ({"id": ...}) is not needed */
}

/* Warns at most once a minute: a Sentry outage must not flood the log. Never at error level,
 * which would feed the queue from its own sender. */
static void warn_once(const char *msg, const char *detail)
{
    int64_t t = now_ms();
    if (t - S.last_warn_ms < 60000)
        return;
    S.last_warn_ms = t;
    sw_log(SW_LOG_WARN, msg, "sentry_host", S.dsn.host, "detail", detail, NULL);
}

static void deliver(CURL *h, struct curl_slist *headers, item *it)
{
    response r = {.retry_after_s = -1};
    long code = 0;
    bool keep_spool = true;

    if (__atomic_load_n(&S.paused_until_ms, __ATOMIC_RELAXED) > now_ms()) {
        __atomic_add_fetch(&n_dropped, 1, __ATOMIC_RELAXED);
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, S.dsn.endpoint);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, it->envelope);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(it->envelope));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        __atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
        warn_once("sentry: events not delivered", curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
        __atomic_add_fetch(&n_sent, 1, __ATOMIC_RELAXED);
        keep_spool = false;
    } else if (code == 429 || (code == 503 && r.retry_after_s >= 0)) {
        long wait_s = r.retry_after_s > 0 && r.retry_after_s < 3600 ? r.retry_after_s : 60;
        __atomic_store_n(&S.paused_until_ms, now_ms() + wait_s * 1000, __ATOMIC_RELAXED);
        __atomic_add_fetch(&n_dropped, 1, __ATOMIC_RELAXED);
        warn_once("sentry: rate limited, events dropped meanwhile", code == 429 ? "429" : "503");
    } else {
        char detail[32];
        snprintf(detail, sizeof(detail), "HTTP %ld", code);
        __atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
        warn_once("sentry: event refused", detail);
        keep_spool = code == 401 || code == 403 || code >= 500; /* may work once fixed */
    }
out:
    if (it->spool) {
        if (keep_spool && it->origin)
            rename(it->spool, it->origin);
        else
            unlink(it->spool);
    }
}

static void *sender_main(void *arg)
{
    CURL *h = curl_easy_init();
    struct curl_slist *headers = NULL;
    char auth[300];
    snprintf(auth, sizeof(auth), "X-Sentry-Auth: %s", S.auth);
    headers = curl_slist_append(headers, "Content-Type: application/x-sentry-envelope");
    headers = curl_slist_append(headers, auth);
    if (h) {
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)S.timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(S.timeout_ms < 2000 ? S.timeout_ms : 2000));
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_USERAGENT, SDK_NAME "/" SDK_VERSION);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* the CA bundle file: see performance notes */
    }
    for (;;) {
        item it;
        pthread_mutex_lock(&S.lock);
        while (S.count == 0 && !S.stopping)
            pthread_cond_wait(&S.cond, &S.lock);
        if (S.count == 0) {
            pthread_mutex_unlock(&S.lock);
            break;
        }
        it = S.ring[S.head];
        S.head = (S.head + 1) % S.cap;
        S.count--;
        pthread_mutex_unlock(&S.lock);
        if (h)
            deliver(h, headers, &it);
        else
            __atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
        free(it.envelope);
        free(it.spool);
        free(it.origin);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return NULL;
}

static void at_exit_flush(void)
{
    struct timespec deadline;
    if (!S.enabled)
        return;
    sw_log_set_error_hook(NULL);
    pthread_mutex_lock(&S.lock);
    S.stopping = true;
    pthread_cond_signal(&S.cond);
    pthread_mutex_unlock(&S.lock);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += S.flush_ms / 1000;
    deadline.tv_nsec += (long)(S.flush_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    /* Still sending past the deadline: the process ends anyway, with the thread in it. */
    if (pthread_timedjoin_np(S.thread, NULL, &deadline) == 0)
        S.enabled = false;
}

/* ---------------------------------------------------------------- crashes */

/* Async-signal-safe appends into crash_buf: no allocation, no locale, no stdio. */
static void put(size_t *n, const char *s)
{
    while (*s && *n + 1 < CRASH_BUF)
        crash_buf[(*n)++] = *s++;
}

static void put_u64(size_t *n, uint64_t v, int base)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % (uint64_t)base];
        v /= (uint64_t)base;
    } while (v && i < (int)sizeof(tmp));
    while (i > 0 && *n + 1 < CRASH_BUF)
        crash_buf[(*n)++] = tmp[--i];
}

/* Copies only characters that need no JSON escaping and can be no markup: request ids are hex,
 * tenants t_[a-z0-9]. */
static void put_safe(size_t *n, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max && *n + 1 < CRASH_BUF; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-' || c == '.')
            crash_buf[(*n)++] = c;
    }
}

static const struct {
    int sig;
    const char *name, *what;
} fatal_signals[] = {
    {SIGSEGV, "SIGSEGV", "Segmentation fault"},
    {SIGBUS, "SIGBUS", "Bus error"},
    {SIGILL, "SIGILL", "Illegal instruction"},
    {SIGFPE, "SIGFPE", "Floating-point exception"},
    {SIGABRT, "SIGABRT", "Aborted"},
};

bool sw_sentry_write_crash(int sig)
{
    const char *name = "SIGNAL", *what = "Fatal signal";
    struct timespec ts;
    void *frames[CRASH_FRAMES + 4];
    size_t n = 0;

    if (!S.crash_path[0])
        return false;
    for (size_t i = 0; i < ARRAY_LEN(fatal_signals); i++) {
        if (fatal_signals[i].sig == sig) {
            name = fatal_signals[i].name;
            what = fatal_signals[i].what;
        }
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    memcpy(crash_buf, S.crash_head, S.crash_head_len);
    n = S.crash_head_len;
    put(&n, ",\"signal\":\"");
    put(&n, name);
    put(&n, "\"");
    const char *rid = sw_log_ctx_request_id(), *tenant = sw_log_ctx_tenant();
    if (rid[0]) {
        put(&n, ",\"request_id\":\"");
        put_safe(&n, rid, 64);
        put(&n, "\"");
    }
    if (tenant[0]) {
        put(&n, ",\"tenant\":\"");
        put_safe(&n, tenant, 64);
        put(&n, "\"");
    }
    put(&n, "},\"timestamp\":");
    put_u64(&n, (uint64_t)ts.tv_sec, 10);
    put(&n, ".");
    uint64_t ms = (uint64_t)(ts.tv_nsec / 1000000);
    if (ms < 100)
        put(&n, ms < 10 ? "00" : "0");
    put_u64(&n, ms, 10);
    put(&n, ",\"message\":{\"formatted\":\"");
    put_safe(&n, S.actor, sizeof(S.actor));
    put(&n, " crashed: ");
    put(&n, name);
    put(&n, "\"},\"exception\":{\"values\":[{\"type\":\"");
    put(&n, name);
    put(&n, "\",\"value\":\"");
    put(&n, what);
    put(&n, " (signal ");
    put_u64(&n, (uint64_t)sig, 10);
    put(&n, ")\",\"mechanism\":{\"type\":\"signalhandler\",\"handled\":false,\"synthetic\":true,"
            "\"meta\":{\"signal\":{\"number\":");
    put_u64(&n, (uint64_t)sig, 10);
    put(&n, ",\"name\":\"");
    put(&n, name);
    put(&n, "\"}}},\"stacktrace\":{\"frames\":[");
    /* backtrace() was called once at start-up, so libgcc is loaded and it allocates nothing.
     * Sentry lists frames oldest first; the first three are this function, the handler and the
     * kernel's signal trampoline. */
    int nf = backtrace(frames, CRASH_FRAMES + 3);
    bool first = true;
    for (int i = nf - 1; i >= 3; i--) {
        put(&n, first ? "{\"instruction_addr\":\"0x" : ",{\"instruction_addr\":\"0x");
        put_u64(&n, (uint64_t)(uintptr_t)frames[i], 16);
        put(&n, "\"}");
        first = false;
    }
    put(&n, "]}}]}}\n");

    int fd = open(S.crash_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, crash_buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    if (off != n) {
        unlink(S.crash_tmp);
        return false;
    }
    return rename(S.crash_tmp, S.crash_path) == 0;
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    if (!__atomic_exchange_n(&crashing, 1, __ATOMIC_SEQ_CST))
        sw_sentry_write_crash(sig);
    errno = saved;
    /* SA_RESETHAND put the default action back: the process dies of this signal (exit status,
     * core dump) once the handler returns, also when the signal was sent with kill(2). */
    raise(sig);
}

static void crash_prepare(void)
{
    char id[33], *body = NULL, *actor_json = NULL;
    void *warm[4];
    json_t *ev = NULL, *actor = NULL;

    if (mkdir(S.spool_dir, 0700) != 0 && errno != EEXIST) {
        sw_log(SW_LOG_WARN, "sentry: no crash reports (cannot create SW_SENTRY_SPOOL_DIR)", "dir",
               S.spool_dir, "error", strerror(errno), NULL);
        return;
    }
    sw_random_hex(id, 16);
    ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "event_id", id, "platform", "native",
                   "level", "fatal", "logger", S.actor, "release", sw_release, "environment",
                   S.environment, "sdk", "name", SDK_NAME, "version", SDK_VERSION);
    if (S.server_name[0])
        json_object_set_new(ev, "server_name", json_string(S.server_name));
    actor = json_string(S.actor);
    body = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
    actor_json = json_dumps(actor, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    if (!body || !actor_json)
        goto out;
    int n = snprintf(S.crash_head, sizeof(S.crash_head),
                     "{\"event_id\":\"%s\"}\n{\"type\":\"event\"}\n%.*s,\"tags\":{\"actor\":%s", id,
                     (int)strlen(body) - 1, body, actor_json);
    if (n <= 0 || (size_t)n >= sizeof(S.crash_head))
        goto out;
    S.crash_head_len = (size_t)n;
    snprintf(S.crash_tmp, sizeof(S.crash_tmp), "%s/.crash-%s-%s.tmp", S.spool_dir, S.actor, id);
    snprintf(S.crash_path, sizeof(S.crash_path), "%s/crash-%s-%s.envelope", S.spool_dir, S.actor,
             id);
    backtrace(warm, 4); /* loads libgcc now, not in the handler */

    stack_t ss = {.ss_size = 64 * 1024};
    S.altstack = malloc(ss.ss_size);
    ss.ss_sp = S.altstack;
    if (S.altstack)
        sigaltstack(&ss, NULL); /* this thread's stack overflow is reported too */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_LEN(fatal_signals); i++)
        sigaction(fatal_signals[i].sig, &sa, NULL);
out:
    if (!S.crash_head_len)
        S.crash_path[0] = '\0';
    free(body);
    free(actor_json);
    json_decref(ev);
    json_decref(actor);
}

/* Queues this actor's crash reports from the spool. Each file is claimed by renaming it to
 * <name>.<pid> (atomic: two instances starting together never send one twice); claims of a
 * process that died before sending are taken over. */
static void spool_send(void)
{
    char prefix[96], path[900], claimed[920], *text = NULL;
    DIR *d = opendir(S.spool_dir);
    struct dirent *de;
    if (!d)
        return;
    snprintf(prefix, sizeof(prefix), "crash-%s-", S.actor);
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        const char *ext = strstr(nm, ".envelope");
        if (strncmp(nm, prefix, strlen(prefix)) != 0 || !ext)
            continue;
        if (ext[9] == '.') { /* claimed: by a live process? */
            long pid = strtol(ext + 10, NULL, 10);
            if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                continue;
        }
        snprintf(path, sizeof(path), "%s/%s", S.spool_dir, nm);
        snprintf(claimed, sizeof(claimed), "%s/%.*s.envelope.%ld", S.spool_dir, (int)(ext - nm), nm,
                 (long)getpid());
        if (rename(path, claimed) != 0)
            continue;
        FILE *f = fopen(claimed, "r");
        if (!f)
            continue;
        struct stat sb;
        text = NULL;
        if (fstat(fileno(f), &sb) == 0 && sb.st_size > 0 && sb.st_size < 1024 * 1024) {
            text = malloc((size_t)sb.st_size + 1);
            if (text && fread(text, 1, (size_t)sb.st_size, f) == (size_t)sb.st_size)
                text[sb.st_size] = '\0';
            else {
                free(text);
                text = NULL;
            }
        }
        fclose(f);
        if (!text) {
            unlink(claimed); /* unreadable or empty: nothing to send */
            continue;
        }
        char origin[900];
        snprintf(origin, sizeof(origin), "%s/%.*s.envelope", S.spool_dir, (int)(ext - nm), nm);
        item it = {.envelope = text, .spool = strdup(claimed), .origin = strdup(origin)};
        sw_log(SW_LOG_INFO, "sentry: sending a crash report left by an earlier run", "file", nm,
               NULL);
        enqueue(it);
    }
    closedir(d);
}

/* ---------------------------------------------------------------- start */

bool sw_sentry_init(const char *actor)
{
    char why[160];
    const char *dsn = sw_config_str("SENTRY_DSN", NULL);
    bool ok = true;

    if (S.enabled)
        return true;
    if (!sw_sentry_parse_sample_rate(getenv("SENTRY_TRACES_SAMPLE_RATE"), &S.traces_rate, why,
                                     sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SENTRY_TRACES_SAMPLE_RATE", "reason",
               why, NULL);
        return false;
    }
    if (!dsn)
        return true; /* no hook, no thread, no handler: nothing is ever sent */
    if (!sw_sentry_dsn_parse(&S.dsn, dsn, why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SENTRY_DSN", "reason", why, NULL);
        return false;
    }
    const char *env = sw_config_str("SENTRY_ENVIRONMENT", sw_config_str("SW_ENV", "development"));
    if (strlen(env) >= sizeof(S.environment) || strpbrk(env, "/\r\n\t") ||
        strcasecmp(env, "none") == 0) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SENTRY_ENVIRONMENT", "reason",
               "at most 63 characters, no slash or newline, not \"None\"", NULL);
        return false;
    }
    long cap = sw_config_long("SW_SENTRY_QUEUE", 100, 1, 100000, &ok);
    if (!ok) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_SENTRY_QUEUE", "reason",
               "expected 1-100000", NULL);
        return false;
    }
    S.flush_ms = (int)sw_config_long("SW_SENTRY_FLUSH_MS", 2000, 0, 60000, &ok);
    if (ok)
        S.timeout_ms = (int)sw_config_long("SW_SENTRY_TIMEOUT_MS", 5000, 100, 60000, &ok);
    if (!ok) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting",
               "SW_SENTRY_FLUSH_MS/SW_SENTRY_TIMEOUT_MS", "reason",
               "expected milliseconds (0-60000 / 100-60000)", NULL);
        return false;
    }
    snprintf(S.environment, sizeof(S.environment), "%s", env);
    snprintf(S.actor, sizeof(S.actor), "%s", actor ? actor : "sw");
    snprintf(S.spool_dir, sizeof(S.spool_dir), "%s",
             sw_config_str("SW_SENTRY_SPOOL_DIR", "/var/tmp/statuswatch-sentry"));
    if (gethostname(S.server_name, sizeof(S.server_name)) != 0)
        S.server_name[0] = '\0';
    S.server_name[sizeof(S.server_name) - 1] = '\0';
    sw_sentry_auth_header(S.auth, sizeof(S.auth), S.dsn.key);

    S.ring = calloc((size_t)cap, sizeof(*S.ring));
    if (!S.ring || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        sw_log(SW_LOG_ERROR, "sentry: cannot start the sender", NULL);
        free(S.ring);
        S.ring = NULL;
        return false;
    }
    S.cap = (int)cap;
    pthread_mutex_init(&S.lock, NULL);
    pthread_cond_init(&S.cond, NULL);
    /* The sender takes no signal: SIGTERM/SIGINT are for the thread that waits for them. */
    sigset_t all, old;
    sigfillset(&all);
    for (size_t i = 0; i < ARRAY_LEN(fatal_signals); i++)
        sigdelset(&all, fatal_signals[i].sig);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&S.thread, NULL, sender_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        sw_log(SW_LOG_ERROR, "sentry: cannot start the sender", NULL);
        return false;
    }
    S.enabled = true;
    atexit(at_exit_flush);
    crash_prepare();
    sw_log_set_error_hook(on_error_line);
    sw_log(SW_LOG_INFO, "error tracking: errors and crashes go to Sentry", "sentry_host",
           S.dsn.host, "project", S.dsn.project, "environment", S.environment, "release",
           sw_release, "crash_spool", S.crash_path[0] ? S.spool_dir : "off", NULL);
    if (S.traces_rate > 0)
        sw_log(SW_LOG_INFO,
               "SENTRY_TRACES_SAMPLE_RATE applies to the dashboard: the services "
               "send errors and crashes, no transactions",
               NULL);
    spool_send();
    return true;
}
