/* sw-edge: civetweb serving the REST API (over the bus), health checks and the dashboard's
 * static files. Every response carries X-Request-Id and the security headers of DESIGN §5. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <civetweb.h>
#include <jansson.h>
#include <nats/nats.h>
#include <sodium.h>

#include "bus/bus.h"
#include "bus/config.h"
#include "bus/gather.h"
#include "bus/jwt.h"
#include "bus/log.h"
#include "bus/sentry.h"
#include "bus/topology.h"
#include "http/edge.h"
#include "http/guard.h"
#include "http/metrics.h"
#include "http/pings.h"
#include "http/status_cache.h"
#include "bus/messages.h"
#include "bus/revocation.h"
#include "bus/apitoken.h"

#define REFRESH_COOKIE "sw_refresh"
#define HSTS "max-age=63072000; includeSubDomains"

typedef struct edge {
    natsConnection *nc;
    jsCtx *js;
    unsigned char jwt_key[SW_JWT_KEY_BYTES];
    const char *web_root;
    const char *trusted_proxies;
    const char *listen; /* SW_HTTP_LISTEN: the host of absolute URLs when nothing else is */
    const char *ready_actors;
    int bus_timeout_ms;
    edge_metrics *metrics;
    sw_revoked_set *revoked;         /* sessions whose access tokens are refused */
    natsSubscription *revoked_sub;   /* keeps `revoked` current (stream SW_REVOKED) */
    sw_apitoken_set *apitokens;      /* API tokens accepted (stream SW_API_TOKENS) */
    natsSubscription *apitokens_sub;
    edge_ping_keys *ping_keys;       /* ping key hash → tenant, endpoint (heartbeats) */
    natsSubscription *ping_keys_sub; /* keeps `ping_keys` current (stream SW_PING_KEYS) */
    edge_ping_pub *ping_pub;         /* pings to SW_PINGS, acknowledged asynchronously */
    const char *metrics_token;
    char inbox_prefix[96];
    bool production;
    bool enforce_https;        /* redirect plain HTTP to the HTTPS listener (when there is one) */
    char https_port[8];        /* "" without TLS */
    edge_guard *guard;         /* connections per client address */
    const char *allowed_hosts; /* ALLOWED_HOSTS; NULL: any Host */
    char redirect_origin[300]; /* "https://host[:port]" of the HTTPS redirect */
    int body_timeout_ms;       /* the whole body must arrive within this after the headers */
    int header_timeout_ms;     /* request line + headers (civetweb's request_timeout_ms) */
    edge_status_cache *status; /* public status documents (http/status_cache.h) */
    natsSubscription *status_subs[2]; /* the events that make them stale */
    int status_max_age_s;             /* Cache-Control max-age of public status documents */
    char status_cache_control[40];    /* "public, max-age=<status_max_age_s>" */
} edge;

typedef struct call {
    char request_id[33];
    char client_ip[64];
    int64_t t0;
    int status;
    const char *route; /* the metrics label: a route pattern, "static", … */
    bool tls;          /* this request came over HTTPS */
} call;

/* When the worker thread serving a connection began waiting for the next request's headers:
 * the connection's start (on_init_connection) or the end of its last request. A worker
 * serves one connection at a time, so a thread-local is enough. */
static __thread int64_t phase_start;

static const char *api_headers[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"Cache-Control", "no-store"},
    {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Permissions-Policy", "geolocation=(), camera=(), microphone=(), payment=(), usb=()"},
};

/* The dashboard's CSP: self only, plus the Sentry ingest origin in connect-src when the
 * dashboard reports its errors (dashboard_init). Written once before the server starts. */
static char dashboard_csp[1024] =
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/* /api/docs/ (Redoc) only: its styled-components insert <style> elements, so styles may be
 * inline there; scripts stay self-only. Its search index runs in a blob: worker. */
static const char docs_csp[] =
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; worker-src 'self' blob:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/* GET /api/config/: the dashboard's public settings, rendered once (dashboard_init). */
static char *public_config;

/* Reply headers an actor may set (as Sw-Http-<Name>) and the edge passes on. */
static const char *forwarded_headers[] = {"Retry-After", "Set-Cookie", "WWW-Authenticate",
                                          "Location"};

static void access_log(const struct mg_request_info *ri, const call *cl)
{
    char ms[32];
    char status[8];
    if (!sw_log_enabled(SW_LOG_INFO))
        return;
    snprintf(ms, sizeof(ms), "%.2f", (double)(sw_now_ns() - cl->t0) / 1e6);
    snprintf(status, sizeof(status), "%d", cl->status);
    sw_log_ctx_set(cl->request_id, NULL);
    /* A ping URL's uuid is its heartbeat's secret: the log names the route, not the path. */
    bool ping =
        ri->local_uri && strncmp(ri->local_uri, EDGE_PING_PREFIX, strlen(EDGE_PING_PREFIX)) == 0;
    sw_log(SW_LOG_INFO, "request", "method", ri->request_method, "path",
           ping ? "/ping/{uuid}" : ri->local_uri, "status", status, "ms", ms, "client_ip",
           cl->client_ip, NULL);
    sw_log_ctx_clear();
}

/* A response's status line and headers, sent with its body in one mg_write. civetweb 1.15's
 * mg_response_header_add copies each header into two heap strings and mg_response_header_send
 * writes every line with a send() of its own: a cached status document or a ping answer cost a
 * dozen system calls, and with Nagle's algorithm the body could wait for the client's delayed
 * ACK of the headers (README "Served to a crowd"). */
typedef struct resp {
    char buf[8192];
    size_t len;
    bool has_connection; /* a caller set Connection itself */
} resp;

static void resp_add(resp *r, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    /* 4 for ": " and CRLF, 2 for the final CRLF */
    if (r->len + n + v + 6 > sizeof(r->buf)) {
        sw_log(SW_LOG_ERROR, "response header dropped: too long", "header", name, NULL);
        return;
    }
    memcpy(r->buf + r->len, name, n);
    r->buf[r->len + n] = ':';
    r->buf[r->len + n + 1] = ' ';
    memcpy(r->buf + r->len + n + 2, value, v);
    r->len += n + v + 2;
    r->buf[r->len++] = '\r';
    r->buf[r->len++] = '\n';
    if (n == 10 && strcasecmp(name, "Connection") == 0)
        r->has_connection = true;
}

/* The Date header's value, formatted once a second per worker thread. */
static const char *http_date(void)
{
    static __thread time_t formatted = -1;
    static __thread char text[40];
    time_t now = time(NULL);
    if (now != formatted) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        formatted = now;
    }
    return text;
}

/* What civetweb decides after the request (should_keep_alive): the client's Connection header
 * when it sent one, else HTTP/1.1's default. */
static bool keeps_alive(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *c = mg_get_header(conn, "Connection");
    if (c)
        return strcasestr(c, "keep-alive") != NULL;
    return ri && ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

/* Ends the headers (adding Date and Connection) and writes them with body[0..len) (NULL: none). */
static void resp_send(resp *r, struct mg_connection *conn, const char *body, size_t len)
{
    resp_add(r, "Date", http_date());
    if (!r->has_connection)
        resp_add(r, "Connection", keeps_alive(conn) ? "keep-alive" : "close");
    r->buf[r->len++] = '\r';
    r->buf[r->len++] = '\n';
    if (!body || !len) {
        mg_write(conn, r->buf, r->len);
    } else if (len <= sizeof(r->buf) - r->len) {
        memcpy(r->buf + r->len, body, len);
        mg_write(conn, r->buf, r->len + len);
    } else {
        char *all = len < 4u << 20 ? malloc(r->len + len) : NULL;
        if (all) {
            memcpy(all, r->buf, r->len);
            memcpy(all + r->len, body, len);
            mg_write(conn, all, r->len + len);
            free(all);
        } else {
            mg_write(conn, r->buf, r->len);
            mg_write(conn, body, len);
        }
    }
}

/* Starts a response with the common headers; the caller adds its own and sends. */
static void start_response(resp *r, struct mg_connection *conn, const edge *e, call *cl,
                           int status, bool api)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    cl->status = status;
    r->has_connection = false;
    int n = snprintf(r->buf, sizeof(r->buf), "HTTP/%s %d %s\r\n",
                     ri && ri->http_version ? ri->http_version : "1.1", status,
                     mg_get_response_code_text(conn, status));
    r->len = n > 0 && (size_t)n < sizeof(r->buf) ? (size_t)n : 0;
    resp_add(r, "X-Request-Id", cl->request_id);
    if (api) {
        for (size_t i = 0; i < ARRAY_LEN(api_headers); i++)
            resp_add(r, api_headers[i][0], api_headers[i][1]);
    }
    /* Over TLS, and on every response under ENFORCE_HTTPS: TLS may end at a proxy in front,
     * and a browser ignores the header on a plain-HTTP response anyway. */
    if (cl->tls || e->enforce_https)
        resp_add(r, "Strict-Transport-Security", HSTS);
}

static void send_typed(struct mg_connection *conn, const edge *e, call *cl, int status,
                       const char *ctype, const char *body, size_t len, const char *const *extra,
                       int nextra)
{
    char clen[24];
    resp r;
    start_response(&r, conn, e, cl, status, true);
    resp_add(&r, "Content-Type", ctype);
    for (int i = 0; i + 1 < nextra * 2; i += 2)
        resp_add(&r, extra[i], extra[i + 1]);
    snprintf(clen, sizeof(clen), "%zu", len);
    resp_add(&r, "Content-Length", clen);
    resp_send(&r, conn, body, len);
}

static void send_json(struct mg_connection *conn, const edge *e, call *cl, int status,
                      const char *body, size_t len, const char *const *extra, int nextra)
{
    send_typed(conn, e, cl, status, "application/json; charset=utf-8", body, len, extra, nextra);
}

static void send_detail(struct mg_connection *conn, const edge *e, call *cl, int status,
                        const char *detail, const char *const *extra, int nextra)
{
    json_t *b = json_pack("{s:s}", "detail", detail);
    char *text = json_dumps(b, JSON_COMPACT);
    send_json(conn, e, cl, status, text, strlen(text), extra, nextra);
    free(text);
    json_decref(b);
}

/* Reads the body up to EDGE_MAX_BODY bytes within the body deadline (SW_HTTP_BODY_TIMEOUT_MS
 * from t0; http/guard.h's watchdog cuts a read still blocked then). Returns the length, -1
 * when it is too large, -2 on a read error, -3 when the deadline passed first (or no byte came
 * for civetweb's request_timeout_ms). *out: owned. */
static long read_body(struct mg_connection *conn, const struct mg_request_info *ri, const edge *e,
                      int64_t t0, char **out)
{
    size_t cap = EDGE_MAX_BODY + 1, len = 0;
    int64_t deadline = t0 + (int64_t)e->body_timeout_ms * 1000000;
    long long want = ri->content_length; /* -1: chunked */
    long rc = 0;
    int n = 0;
    *out = NULL;
    if (want > EDGE_MAX_BODY)
        return -1;
    char *buf = malloc(cap);
    if (!buf)
        return -2;
    int64_t left_ms = (deadline - sw_now_ns()) / 1000000;
    int ticket = edge_guard_watch(e->guard, ri->remote_addr, ri->remote_port, ri->server_port,
                                  left_ms > 0 ? (int)left_ms : 0);
    while (want < 0 || (long long)len < want) {
        n = mg_read(conn, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len > EDGE_MAX_BODY)
            break;
    }
    bool cut = edge_guard_unwatch(e->guard, ticket) || sw_now_ns() > deadline;
    bool short_body = want >= 0 && (long long)len < want;
    if (len > EDGE_MAX_BODY)
        rc = -1;
    else if ((cut && (short_body || want < 0 || n < 0)) || (short_body && n == 0))
        rc = -3;
    else if (n < 0 || short_body)
        rc = -2;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return (long)len;
}

/* GET /api/schema/ (the REST contract as JSON, embedded at build time) and GET /api/docs/
 * (web/docs.html from the dashboard build, which renders it, under a CSP of its own). */
static void handle_local(struct mg_connection *conn, edge *e, call *cl, const edge_route *r)
{
    char path[1024], headers[1200];
    if (strcmp(r->pattern, "/api/schema/") == 0) {
        send_json(conn, e, cl, 200, edge_openapi_json, edge_openapi_json_len, NULL, 0);
        return;
    }
    snprintf(path, sizeof(path), "%s/docs.html", e->web_root);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        send_detail(conn, e, cl, 404, "The API docs page has not been built (npm run build).", NULL,
                    0);
        return;
    }
    snprintf(headers, sizeof(headers),
             "X-Request-Id: %s\r\n"
             "X-Content-Type-Options: nosniff\r\n"
             "X-Frame-Options: DENY\r\n"
             "Referrer-Policy: no-referrer\r\n"
             "Permissions-Policy: geolocation=(), camera=(), microphone=(), payment=(), usb=()\r\n"
             "Cache-Control: no-cache\r\n"
             "Content-Security-Policy: %s\r\n"
             "%s",
             cl->request_id, docs_csp,
             cl->tls ? "Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n" : "");
    cl->status = 200;
    mg_send_mime_file2(conn, path, "text/html; charset=utf-8", headers);
}

static bool bearer_token(const char *authz, const char **token)
{
    if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
        return false;
    *token = authz + 7;
    while (**token == ' ')
        (*token)++;
    return **token != '\0';
}

/* Tells sw-auth an API token is in use (at most once a minute per token and edge), for the
 * list's "last used": a publish, nobody waits for it. */
static void report_apitoken_use(edge *e, const sw_apitoken *t)
{
    natsMsg *m = NULL;
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"id\":\"%s\"}", t->id);
    if (natsMsg_Create(&m, BUS_SUBJ_AUTH_TOKEN_USED, NULL, body, n) != NATS_OK)
        return;
    natsMsgHeader_Set(m, "Content-Type", "application/json");
    natsMsgHeader_Set(m, BUS_H_TENANT, t->tenant);
    natsConnection_PublishMsg(e->nc, m);
    natsMsg_Destroy(m);
}

static void handle_api(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                       call *cl)
{
    static const char *www_auth[] = {"WWW-Authenticate", "Bearer realm=\"api\""};
    char param[72], allow[64], errbuf[160];
    bool wrong_method = false;
    char *body = NULL;
    natsMsg *req = NULL, *reply = NULL;
    sw_jwt_claims claims;
    sw_apitoken apitoken;
    bool by_apitoken = false;
    json_t *parsed = NULL;
    long len = 0;

    const edge_route *r =
        edge_route_find(ri->request_method, ri->local_uri, param, sizeof(param), &wrong_method);
    cl->route = r ? r->pattern : "unmatched";
    if (!r) {
        if (wrong_method) {
            edge_route_allow(ri->local_uri, allow, sizeof(allow));
            const char *h[] = {"Allow", allow};
            snprintf(errbuf, sizeof(errbuf), "Method \"%s\" not allowed.", ri->request_method);
            send_detail(conn, e, cl, 405, errbuf, h, 1);
        } else {
            send_detail(conn, e, cl, 404, "Not found.", NULL, 0);
        }
        return;
    }

    if (r->flags & EDGE_LOCAL) {
        handle_local(conn, e, cl, r);
        return;
    }

    /* The token first: an anonymous caller learns nothing about bodies or actors. */
    if (r->auth == EDGE_ACCESS) {
        const char *token = NULL;
        if (!bearer_token(mg_get_header(conn, "Authorization"), &token)) {
            send_detail(conn, e, cl, 401, "Authentication credentials were not provided.", www_auth,
                        1);
            return;
        }
        int64_t now = sw_epoch_ms() / 1000;
        if (strncmp(token, SW_APITOKEN_PREFIX, strlen(SW_APITOKEN_PREFIX)) == 0) {
            /* An API token (bus/apitoken.h): one hash and a lookup in memory, no database.
             * Not for the auth routes: a token cannot log out, change a password or see "me". */
            bool report_use = false;
            if (strncmp(r->pattern, "/api/auth/", 10) == 0) {
                send_detail(conn, e, cl, 401, "API tokens are not accepted on this route.",
                            www_auth, 1);
                return;
            }
            if (!sw_apitoken_set_check(e->apitokens, token, now, &apitoken, &report_use)) {
                send_detail(conn, e, cl, 401, "Given token not valid for any token type.",
                            www_auth, 1);
                return;
            }
            memset(&claims, 0, sizeof(claims));
            snprintf(claims.tenant, sizeof(claims.tenant), "%s", apitoken.tenant);
            snprintf(claims.user, sizeof(claims.user), "%s", apitoken.user);
            snprintf(claims.role, sizeof(claims.role), "%s", apitoken.role);
            by_apitoken = true;
            if (report_use)
                report_apitoken_use(e, &apitoken);
        } else if (sw_jwt_verify(&claims, token, e->jwt_key, now) != SW_OK ||
                   sw_revoked_set_check(e->revoked, &claims, now)) {
            send_detail(conn, e, cl, 401, "Given token not valid for any token type.", www_auth, 1);
            return;
        }
    }

    /* JSON routes take JSON only (DRF's JSONParser): a cross-site form (text/plain,
     * multipart, urlencoded) never reaches an actor. An empty body needs no type. */
    /* Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 §6.3);
     * civetweb 1.15 would wait for one until the connection closes. */
    bool has_body = ri->content_length > 0 ||
                    (ri->content_length < 0 && mg_get_header(conn, "Transfer-Encoding"));
    if (!(r->flags & EDGE_RAW) && has_body &&
        !edge_is_json_type(mg_get_header(conn, "Content-Type"))) {
        char type[64];
        edge_media_type(type, sizeof(type), mg_get_header(conn, "Content-Type"));
        snprintf(errbuf, sizeof(errbuf), "Unsupported media type \"%s\" in request.", type);
        const char *h[] = {"Connection", "close"}; /* its body is never read */
        send_detail(conn, e, cl, 415, errbuf, h, 1);
        goto out;
    }

    len = has_body ? read_body(conn, ri, e, cl->t0, &body) : 0;
    if (len == -3) {
        /* The rest of the body is never read: civetweb closes this connection after it. */
        const char *h[] = {"Connection", "close"};
        send_detail(conn, e, cl, 408, "The request body did not arrive in time.", h, 1);
        goto out;
    }
    if (len == -1) {
        send_detail(conn, e, cl, 413, "Request body too large (64 KiB at most).", NULL, 0);
        goto out;
    }
    if (len < 0) {
        send_detail(conn, e, cl, 400, "The request body could not be read.", NULL, 0);
        goto out;
    }
    if (!(r->flags & EDGE_RAW) && len > 0) {
        json_error_t jerr;
        parsed = json_loadb(body, (size_t)len, 0, &jerr);
        if (!json_is_object(parsed)) {
            send_detail(conn, e, cl, 400, "JSON parse error: the body must be a JSON object.", NULL,
                        0);
            goto out;
        }
    }

    if (natsMsg_Create(&req, r->subject, NULL, len ? body : "", (int)len) != NATS_OK) {
        send_detail(conn, e, cl, 500, sw_status_str(SW_EINTERNAL), NULL, 0);
        goto out;
    }
    natsMsgHeader_Set(req, "Content-Type", "application/json");
    natsMsgHeader_Set(req, BUS_H_REQUEST_ID, cl->request_id);
    natsMsgHeader_Set(req, BUS_H_CLIENT_IP, cl->client_ip);
    if (param[0])
        natsMsgHeader_Set(req, BUS_H_PARAM_ID, param);
    if (ri->query_string && *ri->query_string && strlen(ri->query_string) < 1024)
        natsMsgHeader_Set(req, BUS_H_QUERY, ri->query_string);
    {
        char base[300];
        edge_request_base(base, sizeof(base), cl->tls, mg_get_header(conn, "Host"),
                          mg_get_header(conn, "X-Forwarded-Proto"),
                          mg_get_header(conn, "X-Forwarded-Host"), ri->remote_addr,
                          e->trusted_proxies, e->allowed_hosts, e->listen);
        natsMsgHeader_Set(req, BUS_H_BASE_URL, base);
    }
    if (r->auth == EDGE_ACCESS) {
        natsMsgHeader_Set(req, BUS_H_TENANT, claims.tenant);
        natsMsgHeader_Set(req, BUS_H_USER, claims.user);
        natsMsgHeader_Set(req, BUS_H_ROLE, claims.role);
        if (by_apitoken)
            natsMsgHeader_Set(req, BUS_H_API_TOKEN, apitoken.id);
    }
    if (r->flags & EDGE_REFRESH_COOKIE) {
        char cookie[128];
        if (edge_cookie(cookie, sizeof(cookie), mg_get_header(conn, "Cookie"), REFRESH_COOKIE))
            natsMsgHeader_Set(req, "Sw-Refresh-Cookie", cookie);
    }
    if (r->flags & EDGE_RAW) {
        const char *sig = mg_get_header(conn, "Stripe-Signature");
        if (sig && strlen(sig) < 2048)
            natsMsgHeader_Set(req, "Stripe-Signature", sig);
    }

    sw_status st = bus_request(&reply, e->nc, req, e->bus_timeout_ms);
    if (st == SW_EUNAVAILABLE || st == SW_ETIMEOUT)
        edge_metrics_bus_error(e->metrics, st == SW_ETIMEOUT);
    if (st == SW_EUNAVAILABLE) {
        const char *h[] = {"Retry-After", "5"};
        send_detail(conn, e, cl, 503, "Service temporarily unavailable, try again shortly.", h, 1);
        goto out;
    }
    if (st == SW_ETIMEOUT) {
        send_detail(conn, e, cl, 504, "The service did not answer in time.", NULL, 0);
        goto out;
    }

    const char *code = NULL;
    int status = 502;
    if (natsMsgHeader_Get(reply, BUS_H_STATUS, &code) == NATS_OK) {
        long n = strtol(code, NULL, 10);
        if (n >= 200 && n <= 599)
            status = (int)n;
    }
    const char *extra[2 * ARRAY_LEN(forwarded_headers)];
    int nextra = 0;
    char secure_cookie[512];
    for (size_t i = 0; i < ARRAY_LEN(forwarded_headers); i++) {
        char key[64];
        const char *v = NULL;
        snprintf(key, sizeof(key), "%s%s", BUS_H_HTTP_PREFIX, forwarded_headers[i]);
        if (natsMsgHeader_Get(reply, key, &v) == NATS_OK && v) {
            /* A cookie set over HTTPS (or under ENFORCE_HTTPS) never travels in clear text
             * afterwards, whatever the actor decided. */
            if (strcmp(forwarded_headers[i], "Set-Cookie") == 0 && (cl->tls || e->enforce_https) &&
                !strcasestr(v, "; Secure") && strlen(v) + 9 < sizeof(secure_cookie)) {
                snprintf(secure_cookie, sizeof(secure_cookie), "%s; Secure", v);
                v = secure_cookie;
            }
            extra[2 * nextra] = forwarded_headers[i];
            extra[2 * nextra + 1] = v;
            nextra++;
        }
    }
    /* Every 401 names its scheme (RFC 9110 §15.5.2), also when an actor did not. */
    bool has_www_auth = false;
    for (int i = 0; i < nextra; i++)
        has_www_auth |= strcmp(extra[2 * i], "WWW-Authenticate") == 0;
    if (status == 401 && !has_www_auth && nextra < (int)ARRAY_LEN(forwarded_headers)) {
        extra[2 * nextra] = www_auth[0];
        extra[2 * nextra + 1] = www_auth[1];
        nextra++;
    }
    if (status == 205 || status == 204)
        send_json(conn, e, cl, status, "", 0, extra, nextra);
    else
        send_json(conn, e, cl, status, natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply),
                  extra, nextra);
    sodium_memzero(secure_cookie, sizeof(secure_cookie));
out:
    json_decref(parsed);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
    free(body);
}

/* ---------------------------------------------------------------- heartbeat pings */

static void send_text(struct mg_connection *conn, const edge *e, call *cl, int status,
                      const char *text, bool head, const char *const *extra, int nextra)
{
    char clen[24];
    resp r;
    start_response(&r, conn, e, cl, status, true);
    resp_add(&r, "Content-Type", "text/plain; charset=utf-8");
    for (int i = 0; i + 1 < nextra * 2; i += 2)
        resp_add(&r, extra[i], extra[i + 1]);
    snprintf(clen, sizeof(clen), "%zu", strlen(text));
    resp_add(&r, "Content-Length", clen);
    resp_send(&r, conn, head ? NULL : text, strlen(text));
}

/* GET|POST|HEAD /ping/<uuid>[/start|/fail|/<exit status>]: public, no token (the uuid is the
 * secret). 200 "OK" once the ping is in the publisher's window, which holds it until JetStream
 * has stored it for the recorder (http/pings.h; the edge writes nothing else anywhere); 404 "not found" for a uuid no heartbeat has; 429 past BUS_PING_RATE_PER_S a
 * second for one check. A POST body is kept up to BUS_PING_BODY_MAX bytes. */
static void handle_ping(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                        call *cl)
{
    char uuid[BUS_UUID_LEN + 1], tenant[BUS_TENANT_MAX], endpoint[BUS_UUID_LEN + 1];
    char subject[BUS_SUBJECT_MAX], msg_id[64], ua[257];
    const char *kind = NULL;
    int exit_status = -1;
    char *body = NULL, *text = NULL;
    const char *m = ri->request_method;
    bool head = strcmp(m, "HEAD") == 0;

    cl->route = "/ping/{uuid}";
    if (!head && strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0) {
        const char *h[] = {"Allow", "GET, POST, HEAD"};
        char why[96];
        snprintf(why, sizeof(why), "Method \"%.16s\" not allowed.", m);
        send_detail(conn, e, cl, 405, why, h, 1);
        return;
    }
    if (!edge_ping_path(ri->local_uri, uuid, &kind, &exit_status)) {
        send_text(conn, e, cl, 404, "not found", head, NULL, 0);
        return;
    }
    int64_t received_at = 0;
    edge_ping_verdict v = edge_ping_keys_take_at(e->ping_keys, uuid, sw_epoch_ms(), tenant,
                                                 endpoint, &received_at);
    if (v == EDGE_PING_UNKNOWN) {
        send_text(conn, e, cl, 404, "not found", head, NULL, 0);
        return;
    }
    if (v == EDGE_PING_LIMITED) {
        const char *h[] = {"Retry-After", "1"};
        send_text(conn, e, cl, 429, "rate limited", head, h, 1);
        return;
    }
    bool has_body = ri->content_length > 0 ||
                    (ri->content_length < 0 && mg_get_header(conn, "Transfer-Encoding"));
    long len = has_body && strcmp(m, "POST") == 0 ? read_body(conn, ri, e, cl->t0, &body) : 0;
    if (len == -1) {
        send_text(conn, e, cl, 413, "request body too large", false, NULL, 0);
        goto out;
    }
    if (len < 0) {
        const char *h[] = {"Connection", "close"};
        send_text(conn, e, cl, 400, "the request body could not be read", false, h, 1);
        goto out;
    }
    if (len > BUS_PING_BODY_MAX)
        len = BUS_PING_BODY_MAX;
    if (body) {
        len = (long)edge_utf8_clean(body, (size_t)len);
        body[len] = '\0';
    }
    const char *agent = mg_get_header(conn, "User-Agent");
    snprintf(ua, sizeof(ua), "%s", agent ? agent : "");
    ua[edge_utf8_clean(ua, strlen(ua))] = '\0';
    bus_ping p = {.ping_id = cl->request_id,
                  .endpoint_id = endpoint,
                  .kind = kind,
                  .exit_status = exit_status,
                  .received_at_ms = received_at,
                  .method = m,
                  .client_ip = cl->client_ip,
                  .user_agent = ua,
                  .body = body ? body : ""};
    snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", tenant);
    snprintf(msg_id, sizeof(msg_id), BUS_ID_PING_FMT, cl->request_id);
    size_t tlen = 0;
    text = bus_subject_ping(subject, sizeof(subject), tenant) ? bus_ping_encode_text(&p, &tlen)
                                                              : NULL;
    sw_status st = text ? edge_ping_pub_send(e->ping_pub, subject, text, (int)tlen, msg_id,
                                             cl->request_id)
                        : SW_EINTERNAL;
    if (st != SW_OK) {
        /* At most one line a second: during a NATS outage every ping of a flood lands here. */
        static int64_t last_warn_ns;
        const char *h[] = {"Retry-After", "5"};
        int64_t now = sw_now_ns(), last = __atomic_load_n(&last_warn_ns, __ATOMIC_RELAXED);
        if (now - last > 1000 * SW_NS_PER_MS &&
            __atomic_compare_exchange_n(&last_warn_ns, &last, now, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            sw_log(SW_LOG_WARN, "ping not stored", "endpoint_id", endpoint, "status",
                   sw_status_name(st), NULL);
        send_text(conn, e, cl, 503, "unavailable, try again shortly", head, h, 1);
        goto out;
    }
    send_text(conn, e, cl, 200, "OK", head, NULL, 0);
out:
    free(text);
    free(body);
}

/* ---------------------------------------------------------------- health */

/* The edge holds no database connection: sw-tenancy answers the database and migration checks
 * (sw.v1.tenancy.health). Every wait below is bounded and they add up to well under 2 s, so a
 * health check answers (503 naming the failing part) while NATS or PostgreSQL is down. */
#define HEALTH_DB_WAIT_MS 700
#define HEALTH_STREAMS_WAIT_MS 400
#define HEALTH_PING_WAIT_MS 400

/* Asks sw-tenancy for the database checks; *db and *migrations get its answers, or what kept
 * it from answering. */
static void check_db(edge *e, char *db, size_t dblen, char *mig, size_t miglen)
{
    natsMsg *req = NULL, *reply = NULL;
    json_t *o = NULL;
    snprintf(db, dblen, "unknown: bus unavailable");
    snprintf(mig, miglen, "unknown");
    if (natsMsg_Create(&req, "sw.v1.tenancy.health", NULL, "{}", 2) != NATS_OK)
        goto out;
    natsMsgHeader_Set(req, "Content-Type", "application/json");
    sw_status st = bus_request(&reply, e->nc, req, HEALTH_DB_WAIT_MS);
    if (st != SW_OK) {
        snprintf(db, dblen, "unknown: sw-tenancy %s",
                 st == SW_ETIMEOUT ? "did not answer in time" : "not answering");
        goto out;
    }
    o = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    const char *d = json_string_value(json_object_get(o, "database"));
    const char *m = json_string_value(json_object_get(o, "migrations"));
    snprintf(db, dblen, "%s", d ? d : "unknown: malformed answer from sw-tenancy");
    snprintf(mig, miglen, "%s", m ? m : "unknown");
out:
    json_decref(o);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
}

/* Sends $SRV.PING and lists the expected actors that did not answer within the window. */
static void check_actors(edge *e, char *missing, size_t len)
{
    json_t *replies = NULL, *r;
    char seen[1024] = ",", want[512], needle[80];
    size_t used = 0, i;

    missing[0] = '\0';
    if (bus_gather(&replies, e->nc, e->inbox_prefix, "$SRV.PING", NULL, HEALTH_PING_WAIT_MS, 0) !=
        SW_OK) {
        snprintf(missing, len, "bus unavailable");
        return;
    }
    json_array_foreach(replies, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (name && strlen(seen) + strlen(name) + 2 < sizeof(seen)) {
            strcat(seen, name);
            strcat(seen, ",");
        }
    }
    json_decref(replies);

    snprintf(want, sizeof(want), "%s", e->ready_actors);
    char *save = NULL;
    for (char *a = strtok_r(want, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        snprintf(needle, sizeof(needle), ",%s,", a);
        if (strstr(seen, needle))
            continue;
        int n = snprintf(missing + used, len - used, "%s%s", used ? "," : "", a);
        if (n > 0 && (size_t)n < len - used)
            used += (size_t)n;
    }
}

static void handle_health(struct mg_connection *conn, edge *e, call *cl, bool ready)
{
    json_t *checks = json_object();
    bool ok = true;
    char detail[512], db[96], migrations[64];

    bool nats_up = natsConnection_Status(e->nc) == NATS_CONN_STATUS_CONNECTED;
    json_object_set_new(checks, "nats", json_string(nats_up ? "ok" : "disconnected"));
    ok &= nats_up;
    if (nats_up)
        check_db(e, db, sizeof(db), migrations, sizeof(migrations));
    else
        snprintf(db, sizeof(db), "unknown: bus unavailable");
    json_object_set_new(checks, "database", json_string(db));
    ok &= strcmp(db, "ok") == 0;

    if (ready) {
        sw_status st =
            nats_up ? bus_topology_check(e->js, HEALTH_STREAMS_WAIT_MS, detail, sizeof(detail))
                    : SW_EUNAVAILABLE;
        if (st == SW_OK) {
            json_object_set_new(checks, "streams", json_string("ok"));
        } else {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s%s", st == SW_ENOTFOUND ? "missing: " : "unknown: ",
                     nats_up ? detail : "bus unavailable");
            json_object_set_new(checks, "streams", json_string(msg));
            ok = false;
        }
        if (nats_up)
            check_actors(e, detail, sizeof(detail));
        else
            snprintf(detail, sizeof(detail), "bus unavailable");
        if (!detail[0]) {
            json_object_set_new(checks, "actors", json_string("ok"));
        } else {
            char msg[600];
            snprintf(msg, sizeof(msg), "not answering: %s", detail);
            json_object_set_new(checks, "actors", json_string(msg));
            ok = false;
        }
        const char *mig = nats_up && strcmp(db, "ok") == 0 ? migrations : "unknown";
        json_object_set_new(checks, "migrations", json_string(mig));
        ok &= strcmp(mig, "ok") == 0;
    }
    json_t *body = json_pack("{s:s,s:o}", "status", ok ? "ok" : "unavailable", "checks", checks);
    char *text = json_dumps(body, JSON_COMPACT);
    send_json(conn, e, cl, ok ? 200 : 503, text, strlen(text), NULL, 0);
    free(text);
    json_decref(body);
}

/* ---------------------------------------------------------------- static files */

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void handle_static(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                          call *cl)
{
    char path[1024], headers[1400];
    const char *uri = ri->local_uri;

    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        send_detail(conn, e, cl, 405, "Method not allowed.", NULL, 0);
        return;
    }
    /* civetweb has already removed dot segments from local_uri; refuse anything odd left. */
    if (strstr(uri, "..") || strchr(uri, '\\') || strlen(uri) > 512) {
        send_detail(conn, e, cl, 404, "Not found.", NULL, 0);
        return;
    }
    snprintf(path, sizeof(path), "%s%s", e->web_root, uri);
    bool asset = strncmp(uri, "/assets/", 8) == 0; /* hashed build output */
    if (!is_file(path)) {
        /* SPA fallback: client routes (/login, /dashboard, …) get index.html; a missing
         * asset is a real 404. */
        if (asset || strrchr(uri, '.') > strrchr(uri, '/')) {
            send_detail(conn, e, cl, 404, "Not found.", NULL, 0);
            return;
        }
        snprintf(path, sizeof(path), "%s/index.html", e->web_root);
        if (!is_file(path)) {
            send_detail(conn, e, cl, 404, "The dashboard has not been built.", NULL, 0);
            return;
        }
    }
    snprintf(headers, sizeof(headers),
             "X-Request-Id: %s\r\n"
             "X-Content-Type-Options: nosniff\r\n"
             "X-Frame-Options: DENY\r\n"
             "X-XSS-Protection: 0\r\n"
             "Referrer-Policy: strict-origin-when-cross-origin\r\n"
             "Permissions-Policy: geolocation=(), camera=(), microphone=(), payment=(), usb=()\r\n"
             "Content-Security-Policy: %s\r\n"
             "%s",
             cl->request_id, dashboard_csp,
             cl->tls || e->enforce_https ? "Strict-Transport-Security: " HSTS "\r\n" : "");
    cl->status = 200;
    mg_send_mime_file2(conn, path, NULL, headers);
}

/* ---------------------------------------------------------------- metrics */

static void handle_metrics(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                           call *cl)
{
    static const char *www_auth[] = {"WWW-Authenticate", "Bearer realm=\"metrics\""};
    char *text = NULL;
    size_t len = 0;

    int verdict = edge_metrics_authorize(e->metrics_token, e->production,
                                         mg_get_header(conn, "Authorization"));
    if (verdict == 403) {
        send_detail(conn, e, cl, 403, "Metrics are disabled: set SW_METRICS_TOKEN.", NULL, 0);
        return;
    }
    if (verdict != 0) {
        send_detail(conn, e, cl, 401, "Authentication credentials were not provided.", www_auth, 1);
        return;
    }
    if (strcmp(ri->request_method, "GET") != 0) {
        const char *h[] = {"Allow", "GET"};
        send_detail(conn, e, cl, 405, "Method not allowed.", h, 1);
        return;
    }
    edge_metrics_sources src = {
        .nc = e->nc, .inbox_prefix = e->inbox_prefix, .timeout_ms = 300, .actors = e->ready_actors};
    if (edge_metrics_render(&text, &len, e->metrics, &src) != SW_OK) {
        send_detail(conn, e, cl, 500, sw_status_str(SW_EINTERNAL), NULL, 0);
        return;
    }
    send_typed(conn, e, cl, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL, 0);
    free(text);
}

/* ---------------------------------------------------------------- dashboard settings */

/* The dashboard reports its own errors to Sentry when a DSN is configured for it:
 * SW_WEB_SENTRY_DSN, else SENTRY_DSN (a DSN is public by design: it only lets one post events).
 * Renders GET /api/config/ and adds the DSN's origin to the dashboard CSP's connect-src, and
 * nothing else. Returns false (logged) for an invalid DSN. */
static bool dashboard_init(void)
{
    sw_sentry_dsn dsn;
    char why[160];
    const char *web_dsn = sw_config_str("SW_WEB_SENTRY_DSN", sw_config_str("SENTRY_DSN", NULL));
    json_t *cfg = NULL;
    if (!web_dsn) {
        cfg = json_pack("{s:n}", "sentry");
    } else {
        if (!sw_sentry_dsn_parse(&dsn, web_dsn, why, sizeof(why))) {
            sw_log(SW_LOG_ERROR, "refusing to start", "setting",
                   getenv("SW_WEB_SENTRY_DSN") && *getenv("SW_WEB_SENTRY_DSN") ? "SW_WEB_SENTRY_DSN"
                                                                               : "SENTRY_DSN",
                   "reason", why, NULL);
            return false;
        }
        cfg =
            json_pack("{s:{s:s,s:s,s:s,s:f}}", "sentry", "dsn", web_dsn, "environment",
                      sw_config_str("SENTRY_ENVIRONMENT", sw_config_str("SW_ENV", "development")),
                      "release", sw_release, "traces_sample_rate", sw_sentry_traces_sample_rate());
        /* The host was checked by the DSN parser: no quote, space or semicolon can get in. */
        char *p = strstr(dashboard_csp, "connect-src 'self'");
        char rest[1024];
        if (p) {
            p += strlen("connect-src 'self'");
            snprintf(rest, sizeof(rest), "%s", p);
            snprintf(p, sizeof(dashboard_csp) - (size_t)(p - dashboard_csp), " %s://%s%s",
                     dsn.scheme, dsn.host, rest);
        }
    }
    public_config = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
    json_decref(cfg);
    return public_config != NULL;
}

static void handle_config(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                          call *cl)
{
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        const char *h[] = {"Allow", "GET, HEAD"};
        send_detail(conn, e, cl, 405, "Method not allowed.", h, 1);
        return;
    }
    send_json(conn, e, cl, 200, public_config, strlen(public_config), NULL, 0);
}

/* ---------------------------------------------------------------- HTTPS redirect */

/* Percent-encodes what may not appear as is in a URL path. */
static void encode_path(char *out, size_t len, const char *path)
{
    static const char keep[] = "-._~/!$&'()*+,;=:@";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr(keep, *p))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, len - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

/* 301 to the same path and query at the configured HTTPS origin (redirect_origin), never at
 * the host the client named: a Host header is the client's to choose. */
static void redirect_https(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                           call *cl)
{
    char path[2048], location[2700];
    encode_path(path, sizeof(path), ri->local_uri_raw ? ri->local_uri_raw : "/");
    const char *q = ri->query_string;
    bool has_q = q && *q && !strpbrk(q, "\r\n") && strlen(q) < 1024;
    snprintf(location, sizeof(location), "%s%s%s%s", e->redirect_origin, path, has_q ? "?" : "",
             has_q ? q : "");
    const char *extra[] = {"Location", location};
    send_detail(conn, e, cl, 301, "Moved permanently to HTTPS.", extra, 1);
}

/* The origin of the HTTPS redirect: FRONTEND_URL when it is https (the public address people
 * use), else the first plain name of ALLOWED_HOSTS, else the HTTPS listener's address; with
 * the listener's port unless it is 443. */
static void redirect_origin(edge *e, const char *https_listen)
{
    const char *front = sw_config_str("FRONTEND_URL", NULL);
    char host[256] = "";
    if (front && strncmp(front, "https://", 8) == 0 && strlen(front) < sizeof(e->redirect_origin)) {
        size_t n = 8 + strcspn(front + 8, "/?#");
        snprintf(e->redirect_origin, sizeof(e->redirect_origin), "%.*s", (int)n, front);
        return;
    }
    for (const char *p = e->allowed_hosts; p && *p && !host[0];) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len && len < sizeof(host) && p[0] != '.' && p[0] != '*')
            snprintf(host, sizeof(host), "%.*s", (int)len, p);
        p += len;
    }
    if (!host[0]) {
        const char *colon = strrchr(https_listen, ':');
        size_t n = colon ? (size_t)(colon - https_listen) : strlen(https_listen);
        snprintf(host, sizeof(host), "%.*s", (int)n, https_listen);
        if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0)
            snprintf(host, sizeof(host), "localhost");
    }
    bool port = strcmp(e->https_port, "443") != 0;
    snprintf(e->redirect_origin, sizeof(e->redirect_origin), "https://%s%s%s", host,
             port ? ":" : "", port ? e->https_port : "");
}

/* ---------------------------------------------------------------- public status pages */

/* Security headers of the public documents: no script anywhere; the page's styles are inline. */
static const char status_html_csp[] =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
static const char status_doc_csp[] = "default-src 'none'; style-src 'unsafe-inline'; "
                                     "frame-ancestors 'none'";

/* Whether an If-None-Match header names etag (a list, or "*"; weak forms compare equal). */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = inm; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static void status_send(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                        call *cl, const edge_status_doc *d)
{
    char clen[24];
    bool html = strncmp(d->content_type, "text/html", 9) == 0;
    bool head = strcmp(ri->request_method, "HEAD") == 0;
    bool not_modified =
        d->status == 200 && etag_matches(mg_get_header(conn, "If-None-Match"), d->etag);
    resp r;
    start_response(&r, conn, e, cl, not_modified ? 304 : d->status, false);
    resp_add(&r, "Cache-Control", e->status_cache_control);
    resp_add(&r, "ETag", d->etag);
    resp_add(&r, "X-Content-Type-Options", "nosniff");
    resp_add(&r, "Referrer-Policy", "no-referrer");
    resp_add(&r, "Content-Security-Policy", html ? status_html_csp : status_doc_csp);
    if (html)
        resp_add(&r, "X-Frame-Options", "DENY");
    else /* the Statuspage API and badges are read by widgets on other sites */
        resp_add(&r, "Access-Control-Allow-Origin", "*");
    if (not_modified) {
        resp_send(&r, conn, NULL, 0);
        return;
    }
    resp_add(&r, "Content-Type", d->content_type);
    snprintf(clen, sizeof(clen), "%zu", d->len);
    resp_add(&r, "Content-Length", clen);
    resp_send(&r, conn, head ? NULL : d->body, d->len);
}

/* Asks sw-endpoints for the document: a new one (owned) or NULL with *st saying why. */
static edge_status_doc *status_fetch(edge *e, call *cl, const char *slug, const char *rest,
                                     sw_status *st)
{
    natsMsg *req = NULL, *reply = NULL;
    json_t *env = NULL;
    edge_status_doc *d = NULL;
    json_t *body = json_pack("{s:s,s:s}", "slug", slug, "path", rest);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    *st = SW_EINTERNAL;
    if (!text ||
        natsMsg_Create(&req, BUS_SUBJ_STATUS_PUBLIC, NULL, text, (int)strlen(text)) != NATS_OK)
        goto out;
    natsMsgHeader_Set(req, "Content-Type", "application/json");
    natsMsgHeader_Set(req, BUS_H_REQUEST_ID, cl->request_id);
    *st = bus_request(&reply, e->nc, req, e->bus_timeout_ms);
    if (*st != SW_OK)
        goto out;
    const char *code = NULL;
    if (natsMsgHeader_Get(reply, BUS_H_STATUS, &code) != NATS_OK || strcmp(code, "200") != 0) {
        *st = SW_EUNAVAILABLE;
        goto out;
    }
    env = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    json_t *b = json_object_get(env, "body");
    int status = (int)json_integer_value(json_object_get(env, "status"));
    const char *type = json_string_value(json_object_get(env, "content_type"));
    if (!json_is_string(b) || !type || (status != 200 && status != 404)) {
        *st = SW_EUPSTREAM;
        goto out;
    }
    d = edge_status_doc_new(status, type, json_string_value(b), json_string_length(b),
                            json_string_value(json_object_get(env, "tenant")), sw_now_ns());
    *st = d ? SW_OK : SW_EINTERNAL;
out:
    json_decref(env);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
    free(text);
    json_decref(body);
    return d;
}

/* GET|HEAD /status/<slug>/[document]: from the cache when fresh; a stale document is served
 * while the one request that claimed it fetches the new one (and served as it is when the
 * actor cannot answer). */
static void handle_status(struct mg_connection *conn, const struct mg_request_info *ri, edge *e,
                          call *cl)
{
    char slug[64], rest[128], key[200];
    bool fresh = false, claimed = false;
    cl->route = "/status/{slug}/";
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        const char *h[] = {"Allow", "GET, HEAD"};
        send_detail(conn, e, cl, 405, "Method not allowed.", h, 1);
        return;
    }
    if (!edge_status_path(ri->local_uri + strlen("/status/"), slug, sizeof(slug), rest,
                          sizeof(rest))) {
        send_detail(conn, e, cl, 404, "Not found.", NULL, 0);
        return;
    }
    snprintf(key, sizeof(key), "%s/%s", slug, rest);
    edge_status_doc *d = edge_status_cache_get(e->status, key, sw_now_ns(), &fresh, &claimed);
    if (d && (fresh || !claimed)) {
        status_send(conn, ri, e, cl, d);
        edge_status_doc_release(d);
        return;
    }
    sw_status st;
    edge_status_doc *nd = status_fetch(e, cl, slug, rest, &st);
    if (nd) {
        __atomic_add_fetch(&nd->refs, 1, __ATOMIC_ACQ_REL);
        edge_status_cache_put(e->status, key, nd);
        status_send(conn, ri, e, cl, nd);
        edge_status_doc_release(nd);
    } else if (d) {
        edge_status_cache_abandon(e->status, key);
        status_send(conn, ri, e, cl, d); /* the last good version beats an error */
    } else if (st == SW_ETIMEOUT) {
        send_detail(conn, e, cl, 504, "The service did not answer in time.", NULL, 0);
    } else {
        const char *h[] = {"Retry-After", "5"};
        send_detail(conn, e, cl, 503, "Service temporarily unavailable, try again shortly.", h, 1);
    }
    edge_status_doc_release(d);
}

/* An endpoint or status-page event: the tenant's public documents are stale. */
static void on_status_event(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    edge *e = closure;
    char tenant[BUS_TENANT_MAX];
    if (bus_subject_event_tenant(natsMsg_GetSubject(msg), tenant))
        edge_status_cache_invalidate(e->status, tenant);
    natsMsg_Destroy(msg);
}

/* ---------------------------------------------------------------- dispatch */

/* A request id: 128 random bits as hex, from a ChaCha20 stream per worker thread (keyed from
 * the system's generator once) rather than one getrandom() per request. */
static void request_id(char out[33])
{
    static __thread unsigned char key[crypto_stream_chacha20_ietf_KEYBYTES];
    static __thread uint64_t counter;
    static __thread bool keyed;
    unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0}, id[16];
    if (!keyed) {
        randombytes_buf(key, sizeof(key));
        keyed = true;
    }
    counter++;
    memcpy(nonce, &counter, sizeof(counter));
    crypto_stream_chacha20_ietf(id, sizeof(id), nonce, key);
    sodium_bin2hex(out, 33, id, sizeof(id));
}

/* Every request (civetweb's begin_request: before its own handler lookup, which takes the
 * context lock, and its .htpasswd check, a stat() per request, neither of which the edge uses). */
static int on_request(struct mg_connection *conn)
{
    edge *e = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    call cl = {.t0 = sw_now_ns(), .status = 0, .route = "static", .tls = ri->is_ssl != 0};

    request_id(cl.request_id);
    /* civetweb's mg_get_header returns only the first line of a repeated header. */
    const char *xff[16];
    size_t nxff = 0;
    for (int i = 0; i < ri->num_headers && nxff < ARRAY_LEN(xff); i++) {
        if (strcasecmp(ri->http_headers[i].name, "X-Forwarded-For") == 0)
            xff[nxff++] = ri->http_headers[i].value;
    }
    edge_client_ip(cl.client_ip, sizeof(cl.client_ip), ri->remote_addr, xff, nxff,
                   e->trusted_proxies);
    const char *uri = ri->local_uri ? ri->local_uri : "/";
    bool health = strcmp(uri, "/health/") == 0 || strcmp(uri, "/health") == 0;
    bool ready = strcmp(uri, "/health/ready/") == 0 || strcmp(uri, "/health/ready") == 0;
    bool metrics = strcmp(uri, "/metrics") == 0 || strcmp(uri, "/metrics/") == 0;

    /* ALLOWED_HOSTS: any other Host is refused before anything else (Django's 400); load
     * balancers probe the health checks by address, so those answer whatever the Host. */
    if (e->allowed_hosts && !health && !ready &&
        !edge_host_allowed(mg_get_header(conn, "Host"), e->allowed_hosts)) {
        cl.route = "bad_host";
        const char *h[] = {"Connection", "close"};
        send_detail(conn, e, &cl, 400, "Invalid Host header.", h, 1);
    } else if (e->enforce_https && e->https_port[0] && !cl.tls && !health && !ready && !metrics) {
        /* Load balancers and Prometheus keep talking plain HTTP to these. */
        cl.route = "https_redirect";
        redirect_https(conn, ri, e, &cl);
    } else if (strcmp(uri, "/api/config/") == 0) {
        cl.route = "/api/config/";
        handle_config(conn, ri, e, &cl);
    } else if (strncmp(uri, "/api/", 5) == 0) {
        handle_api(conn, ri, e, &cl);
    } else if (strncmp(uri, EDGE_PING_PREFIX, strlen(EDGE_PING_PREFIX)) == 0) {
        handle_ping(conn, ri, e, &cl);
    } else if (strncmp(uri, "/status/", 8) == 0) {
        handle_status(conn, ri, e, &cl);
    } else if (health) {
        cl.route = "/health/";
        handle_health(conn, e, &cl, false);
    } else if (ready) {
        cl.route = "/health/ready/";
        handle_health(conn, e, &cl, true);
    } else if (metrics) {
        cl.route = "/metrics";
        handle_metrics(conn, ri, e, &cl);
    } else {
        handle_static(conn, ri, e, &cl);
    }
    access_log(ri, &cl);
    edge_metrics_observe(e->metrics, cl.route, ri->request_method, cl.status ? cl.status : 200,
                         (double)(sw_now_ns() - cl.t0) / 1e9);
    phase_start = sw_now_ns(); /* a kept-alive connection now waits for its next request */
    return cl.status ? cl.status : 200;
}

static int on_log(const struct mg_connection *conn, const char *message)
{
    sw_log(SW_LOG_WARN, "http server", "detail", message, NULL);
    return 1;
}

static int on_init_connection(const struct mg_connection *conn, void **conn_data)
{
    (void)conn;
    *conn_data = NULL;
    phase_start = sw_now_ns();
    return 0;
}

/* Errors civetweb answers itself, before a request reaches on_request: they get the API's
 * error shape and headers too (HSTS under ENFORCE_HTTPS), never civetweb's HTML page. Request
 * headers that did not complete within request_timeout_ms (the header deadline) reach here as
 * 400 "Malformed message" (civetweb 1.15 get_message: a timeout, or the client closing, with
 * part of a request read): they become 408. civetweb's own text is not passed on. */
static int on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    const char *detail = "Bad request.", *reason = "Bad Request";
    char id[33], body[128];
    if (status < 400 || status > 599)
        return 1;
    const edge *e = mg_get_user_data(mg_get_context(conn));
    bool malformed = status == 400 && errmsg && strcmp(errmsg, "Malformed message") == 0;
    /* civetweb says "Malformed message" both for headers that did not finish in time and
     * for headers that overflowed its buffer: the time since this worker began waiting for
     * them tells which. */
    if (malformed && e && sw_now_ns() - phase_start >= (int64_t)e->header_timeout_ms * 900000) {
        status = 408;
        reason = "Request Timeout";
        detail = "The request headers did not arrive in time.";
    } else if (malformed) {
        status = 431;
        reason = "Request Header Fields Too Large";
        detail = "Request headers too large (16 KiB at most).";
    } else if (status == 413) {
        reason = "Payload Too Large";
        detail = "Request headers too large (16 KiB at most).";
    } else if (status == 411) {
        reason = "Length Required";
        detail = "Content-Length is not a valid length.";
    } else if (status >= 500) {
        reason = status == 505 ? "HTTP Version Not Supported" : "Internal Server Error";
        detail = status == 505 ? "HTTP version not supported." : sw_status_str(SW_EINTERNAL);
    } else if (status != 400) {
        reason = "Error";
        detail = "The request could not be served.";
    }
    sw_random_hex(id, 16);
    int blen = snprintf(body, sizeof(body), "{\"detail\":\"%s\"}", detail);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\n"
              "Content-Type: application/json; charset=utf-8\r\n"
              "Content-Length: %d\r\n"
              "X-Request-Id: %s\r\n"
              "X-Content-Type-Options: nosniff\r\n"
              "Cache-Control: no-store\r\n"
              "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
              "%s"
              "Connection: close\r\n\r\n%s",
              status, reason, blen, id,
              e && e->enforce_https ? "Strict-Transport-Security: " HSTS "\r\n" : "", body);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    sw_log_ctx_set(id, NULL);
    sw_log(SW_LOG_INFO,
           status == 408 ? "request headers timed out" : "request refused by the server", "status",
           code, "peer", ri ? ri->remote_addr : NULL, NULL);
    sw_log_ctx_clear();
    return 0;
}

/* A connection ends: its client address holds one fewer (http/guard.h). */
static void on_connection_closed(const struct mg_connection *conn)
{
    const edge *e = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (e && ri)
        edge_guard_release(e->guard, ri->remote_addr);
}

/* A numeric setting in [min, max]; anything else stops the edge with the setting named. */
static bool setting_long(long *out, const char *name, long def, long min, long max)
{
    bool ok = true;
    *out = sw_config_long(name, def, min, max, &ok);
    if (!ok) {
        char reason[96];
        snprintf(reason, sizeof(reason), "%s must be a whole number from %ld to %ld", name, min,
                 max);
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", name, "reason", reason, NULL);
    }
    return ok;
}

int sw_tls_compat_linked(void); /* http/tls_compat.c */

/* civetweb reads the certificate and its key from one PEM file (ssl_certificate). With separate
 * SW_TLS_CERT and SW_TLS_KEY files, both are copied into a private temporary file (0600) that
 * is removed at exit. Returns the path to use, or NULL (logged). */
static const char *tls_pem(char *tmp, size_t len, const char *cert, const char *key)
{
    char buf[8192];
    if (strcmp(cert, key) == 0)
        return cert;
    snprintf(tmp, len, "%s/sw-edge-tls-XXXXXX", sw_config_str("TMPDIR", "/tmp"));
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sw_log(SW_LOG_ERROR, "cannot create the TLS key file", "dir", tmp, NULL);
        tmp[0] = '\0';
        return NULL;
    }
    const char *files[] = {cert, key};
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) {
            sw_log(SW_LOG_ERROR, "cannot read", "setting", i ? "SW_TLS_KEY" : "SW_TLS_CERT", "path",
                   files[i], NULL);
            ok = false;
            break;
        }
        size_t n;
        while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
            ok = write(fd, buf, n) == (ssize_t)n;
        if (ok && write(fd, "\n", 1) != 1)
            ok = false;
        fclose(f);
    }
    sodium_memzero(buf, sizeof(buf));
    close(fd);
    if (!ok) {
        unlink(tmp);
        tmp[0] = '\0';
        return NULL;
    }
    return tmp;
}

int main(void)
{
    edge e = {0};
    struct mg_callbacks cb = {0};
    struct mg_context *ctx = NULL;
    sigset_t sigs;
    int sig = 0, rc = 1;
    char why[160], threads[16], header_timeout[16], ports[300], pem_tmp[512] = "";
    const char *pem = NULL;

    sw_log_init("sw-edge", sw_config_str("SW_LOG_LEVEL", "info"));
    /* Up to SW_HTTP_THREADS workers make requests on one NATS connection: a worker that finds
     * its lock taken sleeps at once instead of spinning (libnats spins 2000 times by default),
     * which on a small machine burns the cores the lock holder needs. */
    if (nats_Open(0) != NATS_OK)
        return 1;
    if (!sw_sentry_init("sw-edge") || !dashboard_init())
        return 2;
    if (sodium_init() < 0)
        return 1;
    if (!sw_config_check_env(why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_ENV", "reason", why, NULL);
        return 2;
    }
    if (!sw_config_check_secret_key(why, sizeof(why))) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SECRET_KEY", "reason", why, NULL);
        return 2;
    }
    const char *secret = sw_config_str("SECRET_KEY", NULL);
    if (!secret || strlen(secret) < 32) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SECRET_KEY", "reason",
               "SECRET_KEY must be set to at least 32 bytes (ops/sw generates one)", NULL);
        return 2;
    }
    sw_jwt_derive_key(e.jwt_key, secret);
    e.web_root = sw_config_str("SW_WEB_ROOT", "web/dist");
    e.trusted_proxies = sw_config_str("SW_TRUSTED_PROXIES", "");
    e.ready_actors =
        sw_config_str("SW_READY_ACTORS", "sw-auth,sw-tenancy,sw-notify,sw-endpoints,sw-billing,"
                                         "sw-scheduler,sw-prober,sw-recorder,sw-deadletter");
    e.bus_timeout_ms = (int)sw_config_long("SW_BUS_TIMEOUT_MS", 5000, 100, 120000, NULL);
    e.metrics_token = sw_config_str("SW_METRICS_TOKEN", NULL);
    e.production = sw_config_is_production();
    e.enforce_https = sw_config_bool("ENFORCE_HTTPS", false);
    e.allowed_hosts = sw_config_str("ALLOWED_HOSTS", NULL);
    if (e.production && !e.allowed_hosts) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "ALLOWED_HOSTS", "reason",
               "ALLOWED_HOSTS must list the host names the edge answers for in production", NULL);
        return 2;
    }
    {
        const char *user = sw_config_str("SW_NATS_USER", NULL);
        snprintf(e.inbox_prefix, sizeof(e.inbox_prefix), "%s%s", user ? "_INBOX_" : "_INBOX",
                 user ? user : "");
    }
    if (e.production && (!e.metrics_token || !*e.metrics_token))
        sw_log(SW_LOG_WARN, "GET /metrics is refused (403) until SW_METRICS_TOKEN is set", NULL);
    if (edge_metrics_new(&e.metrics) != SW_OK)
        return 1;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (bus_connect(&e.nc, "sw-edge", 0) != SW_OK ||
        natsConnection_JetStream(&e.js, e.nc, NULL) != NATS_OK)
        goto out;
    /* Fail closed: an edge that cannot see revocations would honour ended sessions. */
    if (sw_revoked_set_new(&e.revoked) != SW_OK ||
        sw_revoked_set_watch(&e.revoked_sub, e.revoked, e.js, 5000) != SW_OK)
        goto out;
    /* Heartbeat pings are answered from memory: which endpoint each ping key names. */
    if (edge_ping_keys_new(&e.ping_keys) != SW_OK ||
        edge_ping_keys_watch(&e.ping_keys_sub, e.ping_keys, e.js, 5000) != SW_OK)
        goto out;
    {
        long pending, ack_ms;
        if (!setting_long(&pending, "SW_PING_MAX_PENDING", 8192, 16, 1000000) ||
            !setting_long(&ack_ms, "SW_PING_ACK_WAIT_MS", 5000, 100, 600000)) {
            rc = 2;
            goto out;
        }
        if (edge_ping_pub_new(&e.ping_pub, e.nc, (int)pending, (int)ack_ms, 1000) != SW_OK)
            goto out;
    }
    if (sw_apitoken_set_new(&e.apitokens) != SW_OK ||
        sw_apitoken_set_watch(&e.apitokens_sub, e.apitokens, e.js, 5000) != SW_OK)
        goto out;

    /* Slow clients (README "Slow clients"): one worker thread per open connection, so a cap
     * per client address well below the thread count, and deadlines for headers and bodies. */
    long nthreads, per_client, header_ms, body_ms, status_ttl_ms, status_entries, max_age;
    if (!setting_long(&status_ttl_ms, "SW_STATUS_CACHE_TTL_MS", 2000, 100, 60000) ||
        !setting_long(&status_entries, "SW_STATUS_CACHE_ENTRIES", 20000, 16, 1000000) ||
        !setting_long(&max_age, "SW_STATUS_MAX_AGE_S", 2, 0, 3600)) {
        rc = 2;
        goto out;
    }
    e.status_max_age_s = (int)max_age;
    snprintf(e.status_cache_control, sizeof(e.status_cache_control), "public, max-age=%d",
             e.status_max_age_s);
    /* Public status documents: from memory, made stale by the tenant's events (core
     * subscriptions: a missed event only means the entry lives out its TTL). */
    if (edge_status_cache_new(&e.status, (size_t)status_entries, status_ttl_ms * 1000000) !=
            SW_OK ||
        natsConnection_Subscribe(&e.status_subs[0], e.nc, BUS_SUBJ_EVT_ENDPOINT_ANY,
                                 on_status_event, &e) != NATS_OK ||
        natsConnection_Subscribe(&e.status_subs[1], e.nc, BUS_SUBJ_EVT_STATUS_PAGE, on_status_event,
                                 &e) != NATS_OK)
        goto out;
    if (!setting_long(&nthreads, "SW_HTTP_THREADS", 256, 2, 4096) ||
        !setting_long(&per_client, "SW_HTTP_MAX_CONN_PER_CLIENT", 64, 1, 4096) ||
        !setting_long(&header_ms, "SW_HTTP_HEADER_TIMEOUT_MS", 10000, 100, 600000) ||
        !setting_long(&body_ms, "SW_HTTP_BODY_TIMEOUT_MS", 10000, 100, 600000)) {
        rc = 2;
        goto out;
    }
    if (per_client >= nthreads)
        sw_log(SW_LOG_WARN, "one client address can hold every worker thread", "setting",
               "SW_HTTP_MAX_CONN_PER_CLIENT", NULL);
    e.body_timeout_ms = (int)body_ms;
    e.header_timeout_ms = (int)header_ms;
    snprintf(threads, sizeof(threads), "%ld", nthreads);
    snprintf(header_timeout, sizeof(header_timeout), "%ld", header_ms);
    const char *listen = sw_config_str("SW_HTTP_LISTEN", "127.0.0.1:8080");
    e.listen = listen;
    const char *lcolon = strrchr(listen, ':');
    /* civetweb's queue of accepted connections waiting for a worker (connection_queue, 20)
     * and the worker threads: that many addresses at most hold a connection at once. */
    if (edge_guard_new(&e.guard, (int)per_client, (size_t)nthreads + 64, e.trusted_proxies,
                       lcolon ? atoi(lcolon + 1) : -1, e.enforce_https) != SW_OK)
        goto out;
    edge_guard_install(e.guard);
    if (edge_guard_start_watchdog(e.guard, (size_t)nthreads) != SW_OK)
        goto out;
    /* TLS when a certificate is configured: a second listener (SW_HTTPS_LISTEN) with HTTPS. */
    const char *cert = sw_config_str("SW_TLS_CERT", NULL);
    const char *key = sw_config_str("SW_TLS_KEY", NULL);
    const char *https = sw_config_str("SW_HTTPS_LISTEN", "127.0.0.1:8443");
    if ((cert && *cert) != (key && *key)) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting",
               cert && *cert ? "SW_TLS_KEY" : "SW_TLS_CERT", "reason",
               "SW_TLS_CERT and SW_TLS_KEY are set together", NULL);
        rc = 2;
        goto out;
    }
    if (cert && *cert && sw_tls_compat_linked()) {
        pem = tls_pem(pem_tmp, sizeof(pem_tmp), cert, key);
        if (!pem) {
            rc = 2;
            goto out;
        }
        edge_metrics_set_certificate(e.metrics, cert);
        const char *colon = strrchr(https, ':');
        snprintf(e.https_port, sizeof(e.https_port), "%s", colon ? colon + 1 : https);
        snprintf(ports, sizeof(ports), "%s,%ss", listen, https);
        redirect_origin(&e, https);
    } else {
        snprintf(ports, sizeof(ports), "%s", listen);
        if (e.enforce_https)
            sw_log(SW_LOG_INFO,
                   "ENFORCE_HTTPS without SW_TLS_CERT: no redirect here (TLS ends "
                   "in front of the edge); cookies are Secure",
                   NULL);
    }
    const char *options[] = {"listening_ports", ports, "num_threads", threads,
                             /* the whole request line and headers, from the first wait;
                              * also the longest single wait for body bytes */
                             "request_timeout_ms", header_timeout, "enable_keep_alive", "yes",
                             /* the next request's headers on a kept-alive connection */
                             "keep_alive_timeout_ms", header_timeout, "max_request_size", "16384",
                             /* a response is one write (resp_send); a file's headers and its
                              * data are two, and must not wait for the client's delayed ACK */
                             "tcp_nodelay", "1",
                             pem ? "ssl_certificate" : NULL, pem,
                             pem ? "ssl_protocol_version" : NULL, "4", /* TLS 1.2 and up */
                             NULL};
    mg_init_library(pem ? MG_FEATURES_TLS : 0);
    cb.begin_request = on_request;
    cb.log_message = on_log;
    cb.http_error = on_http_error;
    cb.init_connection = on_init_connection;
    cb.connection_closed = on_connection_closed;
    ctx = mg_start(&cb, &e, options);
    if (!ctx) {
        sw_log(SW_LOG_ERROR, "cannot listen", "setting",
               pem ? "SW_HTTP_LISTEN/SW_HTTPS_LISTEN/SW_TLS_CERT" : "SW_HTTP_LISTEN", "listen",
               ports, NULL);
        goto out;
    }
    sw_log(SW_LOG_INFO, "listening", "listen", listen, "https", pem ? https : NULL, "web_root",
           e.web_root, "threads", threads, "max_conn_per_client",
           sw_config_str("SW_HTTP_MAX_CONN_PER_CLIENT", "64"), NULL);

    sigwait(&sigs, &sig);
    sw_log(SW_LOG_INFO, "stopping", NULL);
    rc = 0;
out:
    if (ctx)
        mg_stop(ctx); /* finishes the requests in flight */
    /* Every ping answered 200 is stored before the edge lets go of the bus. */
    if (e.ping_pub) {
        int left = edge_ping_pub_drain(e.ping_pub, 10000);
        if (left > 0) {
            char n[16];
            snprintf(n, sizeof(n), "%d", left);
            sw_log(SW_LOG_ERROR, "pings not stored by JetStream at exit", "pings", n, NULL);
        }
    }
    edge_guard_install(NULL);
    edge_guard_free(e.guard);
    if (e.revoked_sub)
        natsSubscription_Unsubscribe(e.revoked_sub);
    if (e.ping_keys_sub)
        natsSubscription_Unsubscribe(e.ping_keys_sub);
    if (e.apitokens_sub)
        natsSubscription_Unsubscribe(e.apitokens_sub);
    for (int i = 0; i < 2; i++) {
        if (e.status_subs[i])
            natsSubscription_Unsubscribe(e.status_subs[i]);
    }
    if (e.nc)
        natsConnection_DrainTimeout(e.nc, 5000);
    edge_ping_pub_free(e.ping_pub);
    natsSubscription_Destroy(e.revoked_sub);
    natsSubscription_Destroy(e.ping_keys_sub);
    natsSubscription_Destroy(e.apitokens_sub);
    natsSubscription_Destroy(e.status_subs[0]);
    natsSubscription_Destroy(e.status_subs[1]);
    jsCtx_Destroy(e.js);
    natsConnection_Destroy(e.nc);
    edge_metrics_free(e.metrics);
    edge_status_cache_free(e.status);
    sw_revoked_set_free(e.revoked);
    edge_ping_keys_free(e.ping_keys);
    sw_apitoken_set_free(e.apitokens);
    if (pem_tmp[0])
        unlink(pem_tmp);
    sodium_memzero(e.jwt_key, sizeof(e.jwt_key));
    free(public_config);
    nats_CloseAndWait(2000);
    return rc;
}
