/* Integration test support; see it.h. */
#include "tests/support/it.h"

#include "bus/bus.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <sodium.h>

#ifndef SW_SOURCE_DIR
#error "SW_SOURCE_DIR must be defined by the build"
#endif

static __thread char hdr_buf[1024];
static __thread char ip_buf[64];
static __thread char email_buf[160];

const char *it_source_dir(void)
{
    return SW_SOURCE_DIR;
}

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set: run integration tests through `ops/sw test`", name);
    return v;
}

const char *it_fresh_ip(void)
{
    uint32_t r = randombytes_random();
    snprintf(ip_buf, sizeof(ip_buf), "10.%u.%u.%u", (r >> 16) & 0xff, (r >> 8) & 0xff,
             (r & 0xfe) + 1);
    return ip_buf;
}

const char *it_fresh_email(const char *prefix)
{
    char rnd[13];
    unsigned char b[6];
    randombytes_buf(b, sizeof(b));
    sodium_bin2hex(rnd, sizeof(rnd), b, sizeof(b));
    snprintf(email_buf, sizeof(email_buf), "%s-%s@example.test", prefix, rnd);
    return email_buf;
}

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    buf *b = arg;
    size_t add = size * n;
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->data = d;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* With SW_CONTRACT_LOG set (ops/sw test sets it), every exchange with the edge is appended to
 * that file as one JSON line: the test, method, path (with query), status, response headers
 * and body. web/scripts/contract.mjs then checks each one against http/openapi.yaml, so a
 * route, status or shape the document lacks fails the suite. One write(2) per line with
 * O_APPEND: lines of concurrent tests never interleave. */
static void contract_log(const char *method, const char *path, const it_resp *r)
{
    const char *file = getenv("SW_CONTRACT_LOG");
    if (!file || !*file)
        return;
    json_t *headers = json_object();
    for (const char *line = r->headers; line && *line;) {
        size_t n = strcspn(line, "\r\n");
        const char *colon = memchr(line, ':', n);
        if (colon && colon > line) {
            char name[128];
            size_t nl = (size_t)(colon - line);
            if (nl < sizeof(name)) {
                for (size_t i = 0; i < nl; i++)
                    name[i] = (char)((line[i] >= 'A' && line[i] <= 'Z') ? line[i] + 32 : line[i]);
                name[nl] = '\0';
                const char *v = colon + 1;
                while (*v == ' ')
                    v++;
                /* A redirect or 100-continue leaves earlier blocks: the last value wins. */
                json_object_set_new(headers, name, json_stringn(v, n - (size_t)(v - line)));
            }
        }
        line += n;
        while (*line == '\r' || *line == '\n')
            line++;
    }
    json_t *body = json_stringn(r->raw, r->raw_len); /* NULL when not UTF-8 */
    json_t *entry = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "source", program_invocation_short_name,
                              "method", method, "path", path, "status", (json_int_t)r->status,
                              "headers", headers, "body", body ? body : json_null());
    char *text = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    json_decref(entry);
    if (!text)
        fail_msg("contract log: cannot encode %s %s", method, path);
    char *line = NULL;
    int len = asprintf(&line, "%s\n", text);
    free(text);
    if (len < 0)
        fail_msg("contract log: out of memory");
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, line, (size_t)len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    free(line);
    if (!ok)
        fail_msg("contract log %s: cannot append", file);
}

static __thread long http_timeout_ms = 30000;

void it_http_timeout(long timeout_ms)
{
    http_timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
}

it_resp *it_http_v(const char *method, const char *path, const char *body, va_list ap)
{
    char url[512], xff[96];
    struct curl_slist *hl = NULL;
    buf rb = {0}, hb = {0};
    bool has_xff = false;
    it_resp *r = calloc(1, sizeof(*r));

    snprintf(url, sizeof(url), "http://%s%s", env_or_fail("SW_HTTP_LISTEN"), path);
    for (const char *h = va_arg(ap, const char *); h; h = va_arg(ap, const char *)) {
        if (strncasecmp(h, "X-Forwarded-For:", 16) == 0)
            has_xff = true;
        hl = curl_slist_append(hl, h);
    }
    if (!has_xff) {
        snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", it_fresh_ip());
        hl = curl_slist_append(hl, xff);
    }
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, http_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    r->raw = rb.data ? rb.data : strdup("");
    r->raw_len = rb.len;
    r->headers = hb.data ? hb.data : strdup("");
    r->body = json_loadb(r->raw, r->raw_len, 0, NULL);
    contract_log(method, path, r);
    return r;
}

it_resp *it_http(const char *method, const char *path, const char *body, ...)
{
    va_list ap;
    va_start(ap, body);
    it_resp *r = it_http_v(method, path, body, ap);
    va_end(ap);
    return r;
}

it_resp *it_post_json(const char *path, json_t *body, const char *xff)
{
    char *text = json_dumps(body, JSON_COMPACT);
    char h[96];
    json_decref(body);
    it_resp *r;
    if (xff) {
        snprintf(h, sizeof(h), "X-Forwarded-For: %s", xff);
        r = it_http("POST", path, text, "Content-Type: application/json", h, NULL);
    } else {
        r = it_http("POST", path, text, "Content-Type: application/json", NULL);
    }
    free(text);
    return r;
}

void it_resp_free(it_resp *r)
{
    if (!r)
        return;
    json_decref(r->body);
    free(r->raw);
    free(r->headers);
    free(r);
}

const char *it_header(const it_resp *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            snprintf(hdr_buf, sizeof(hdr_buf), "%.*s", (int)vl, v);
            return hdr_buf;
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

json_t *it_sql(const char *sql, int nparams, const char *const *params)
{
    PGconn *pg = PQconnectdb(env_or_fail("DATABASE_URL"));
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("database: %s", PQerrorMessage(pg));
    PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType es = PQresultStatus(res);
    if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK)
        fail_msg("sql failed: %s\n%s", PQresultErrorMessage(res), sql);
    json_t *rows = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *o = json_object();
        for (int f = 0; f < PQnfields(res); f++)
            json_object_set_new(o, PQfname(res, f),
                                PQgetisnull(res, r, f) ? json_null()
                                                       : json_string(PQgetvalue(res, r, f)));
        json_array_append_new(rows, o);
    }
    PQclear(res);
    PQfinish(pg);
    return rows;
}

long it_sql_long(const char *sql, int nparams, const char *const *params)
{
    json_t *rows = it_sql(sql, nparams, params);
    long v = -1;
    json_t *row = json_array_get(rows, 0);
    if (row) {
        const char *k;
        json_t *val;
        json_object_foreach(row, k, val)
        {
            v = json_is_string(val) ? strtol(json_string_value(val), NULL, 10) : -1;
            break;
        }
    }
    json_decref(rows);
    return v;
}

void it_set_plan(const char *tenant, const char *plan)
{
    const char *p[] = {tenant, plan};
    json_t *rows = it_sql("INSERT INTO public.subscriptions (tenant_id, plan) VALUES ($1, $2)"
                          " ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan"
                          " RETURNING plan",
                          2, p);
    if (json_array_size(rows) != 1)
        fail_msg("setting the plan of %s to %s failed", tenant, plan);
    json_decref(rows);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    if (d)
        d[n] = '\0';
    fclose(f);
    return d;
}

char *it_mail_wait(const char *to, int timeout_ms)
{
    const char *dir = env_or_fail("SW_MAIL_DIR");
    char needle[300], path[1024];
    snprintf(needle, sizeof(needle), "To: <%s>", to);
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (!strstr(de->d_name, ".eml"))
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            char *m = slurp(path);
            if (m && strstr(m, needle)) {
                closedir(d);
                return m;
            }
            free(m);
        }
        if (d)
            closedir(d);
        usleep(100 * 1000);
    }
    return NULL;
}

char *it_mail_token(const char *mail)
{
    const char *p = mail ? strstr(mail, "/verify-email?token=") : NULL;
    if (!p)
        return NULL;
    p += strlen("/verify-email?token=");
    size_t n = strcspn(p, " \r\n");
    return strndup(p, n);
}

int it_ops(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s/ops/sw %s >&2", SW_SOURCE_DIR, args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

bool it_wait_ready(int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 250) {
        it_resp *r = it_http("GET", "/health/ready/", NULL, NULL);
        long st = r->status;
        it_resp_free(r);
        if (st == 200)
            return true;
        usleep(250 * 1000);
    }
    return false;
}

natsConnection *it_nats(void)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    natsOptions_Create(&o);
    bus_nats_set_servers(o, env_or_fail("NATS_URL"));
    natsOptions_SetUserInfo(o, env_or_fail("SW_ADMIN_NATS_USER"),
                            env_or_fail("SW_ADMIN_NATS_PASSWORD"));
    natsStatus s = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK)
        fail_msg("nats: %s", natsStatus_GetText(s));
    return nc;
}

long it_worker_counter(const char *service, const char *counter)
{
    natsConnection *nc = it_nats();
    natsMsg *m = NULL;
    char subject[128];
    long v = 0;
    snprintf(subject, sizeof(subject), "$SRV.STATS.%s", service);
    natsStatus s = natsConnection_RequestString(&m, nc, subject, "", 3000);
    if (s != NATS_OK)
        fail_msg("%s: %s", subject, natsStatus_GetText(s));
    json_t *o = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    json_t *ep;
    size_t i;
    json_array_foreach(json_object_get(o, "endpoints"), i, ep)
    {
        if (json_is_string(json_object_get(ep, "name")) &&
            strcmp(json_string_value(json_object_get(ep, "name")), "worker") == 0)
            v = (long)json_integer_value(json_object_get(json_object_get(ep, "data"), counter));
    }
    json_decref(o);
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);
    return v;
}

char *it_signup_verified(char *email_out, size_t len, const char *org)
{
    snprintf(email_out, len, "%s", it_fresh_email("owner"));
    it_resp *r =
        it_post_json("/api/auth/register/",
                     json_pack("{s:s,s:s,s:s,s:s}", "organization_name", org, "email", email_out,
                               "password", IT_PASSWORD, "password_confirm", IT_PASSWORD),
                     NULL);
    if (r->status != 201)
        fail_msg("sign-up failed: %ld %s", r->status, r->raw);
    char *tenant =
        strdup(json_string_value(json_object_get(json_object_get(r->body, "tenant"), "id")));
    it_resp_free(r);
    char *mail = it_mail_wait(email_out, 15000);
    if (!mail)
        fail_msg("no verification mail for %s", email_out);
    char *token = it_mail_token(mail);
    r = it_post_json("/api/auth/verify-email/", json_pack("{s:s}", "token", token), NULL);
    if (r->status != 200)
        fail_msg("verification failed: %ld %s", r->status, r->raw);
    it_resp_free(r);
    free(token);
    free(mail);
    return tenant;
}

it_resp *it_login(const char *email, const char *password)
{
    return it_post_json("/api/auth/token/",
                        json_pack("{s:s,s:s}", "email", email, "password", password), NULL);
}

int it_targets_start(int *http_port, int *https_port)
{
    int fds[2];
    char line[128] = "";
    char script[512];
    snprintf(script, sizeof(script), "%s/tests/fakes/targets.py", SW_SOURCE_DIR);
    if (pipe(fds) != 0)
        fail_msg("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        setpgid(0, 0);
        execl("/usr/bin/python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof(line), f) ||
        sscanf(line, "READY %d %d", http_port, https_port) != 2)
        fail_msg("probe targets did not start: %s", line);
    fclose(f);
    return (int)pid;
}

void it_targets_stop(int pid)
{
    if (pid > 0) {
        kill(-pid, SIGTERM);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

long it_wait_count(const char *sql, int nparams, const char *const *params, long want,
                   int timeout_ms)
{
    long v = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        v = it_sql_long(sql, nparams, params);
        if (v >= want)
            return v;
        usleep(200 * 1000);
    }
    return v;
}

it_resp *it_auth(const char *method, const char *path, const char *access, json_t *body)
{
    char auth[1200];
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", access);
    it_resp *r = it_http(method, path, text, auth, "Content-Type: application/json", NULL);
    free(text);
    return r;
}

int it_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("no free port");
    close(fd);
    return ntohs(a.sin_port);
}

void it_secret(char *out, size_t len, const char *name)
{
    char path[512], line[512];
    snprintf(path, sizeof(path), "%s/secrets.env", env_or_fail("SW_VAR"));
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    while (f && fgets(line, sizeof(line), f)) {
        char *l = strncmp(line, "export ", 7) == 0 ? line + 7 : line;
        if (strncmp(l, name, strlen(name)) == 0 && l[strlen(name)] == '=') {
            char *v = l + strlen(name) + 1;
            v[strcspn(v, "\n")] = '\0';
            if (*v == '\'') {
                v++;
                v[strcspn(v, "'")] = '\0';
            }
            snprintf(out, len, "%s", v);
        }
    }
    if (f)
        fclose(f);
    if (!out[0])
        fail_msg("%s not found in secrets.env", name);
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
    return size * n;
}

/* GET /health/ on 127.0.0.1:port; the status, 0 when nothing answered. */
static long health_status(int port)
{
    char url[96];
    long st = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/health/", port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    return st;
}

int it_edge_start(const char *log_name, int *port, const char *const *env)
{
    char log[512], bin[512], pw[128], listen[64];
    it_secret(pw, sizeof(pw), "NATS_PW_EDGE");
    *port = it_free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", *port);
    snprintf(log, sizeof(log), "%s/log/%s.log", env_or_fail("SW_VAR"), log_name);
    snprintf(bin, sizeof(bin), "%s/sw-edge", SW_BIN_DIR);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(log, "a");
        if (f) {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        /* The edge's own NATS user, never the admin login the tests hold. */
        unsetenv("SW_ADMIN_NATS_USER");
        unsetenv("SW_ADMIN_NATS_PASSWORD");
        unsetenv("DATABASE_URL"); /* the edge holds no database connection (ops/sw gives none) */
        setenv("SW_HTTP_LISTEN", listen, 1);
        setenv("SW_NATS_USER", "edge", 1);
        setenv("SW_NATS_PASSWORD", pw, 1);
        for (size_t i = 0; env && env[i]; i++) {
            char kv[1024];
            snprintf(kv, sizeof(kv), "%s", env[i]);
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = '\0';
            if (eq[1])
                setenv(kv, eq + 1, 1);
            else
                unsetenv(kv);
        }
        setpgid(0, 0);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 150; i++) {
        if (health_status(*port) == 200)
            return (int)pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            fail_msg("the edge %s exited; see %s", log_name, log);
        usleep(100 * 1000);
    }
    it_edge_stop((int)pid);
    fail_msg("the edge %s did not answer http://%s/health/", log_name, listen);
    return -1;
}

void it_edge_stop(int pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

int it_run_bin(const char *bin, const char *env, char **err)
{
    char cmd[2048], path[] = "/tmp/sw-run-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
    snprintf(cmd, sizeof(cmd), "env %s timeout 10 %s/%s 2>%s >/dev/null", env, SW_BIN_DIR, bin,
             path);
    int rc = system(cmd);
    FILE *f = fopen(path, "r");
    *err = calloc(1, 8192);
    if (f) {
        size_t n = fread(*err, 1, 8191, f);
        (*err)[n] = '\0';
        fclose(f);
    }
    unlink(path);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
