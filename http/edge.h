/* The edge: the HTTP front of StatusWatch. It maps REST paths to bus subjects, checks bodies
 * and tokens before anything reaches an actor, and turns replies back into HTTP. The pieces
 * here are pure functions so they can be tested without a server. */
#ifndef SW_EDGE_H
#define SW_EDGE_H

#include <stdbool.h>
#include <stddef.h>

#define EDGE_MAX_BODY (64 * 1024)

typedef enum edge_auth {
    EDGE_PUBLIC, /* anyone */
    EDGE_ACCESS, /* a valid access token; tenant, user and role are passed on as headers */
} edge_auth;

#define EDGE_RAW 1u            /* body passed through as bytes (Stripe webhooks) */
#define EDGE_REFRESH_COOKIE 2u /* the refresh cookie is passed on as Sw-Refresh-Cookie */
#define EDGE_LOCAL 4u          /* answered by the edge itself (subject NULL): schema, docs */

typedef struct edge_route {
    const char *method;
    const char *pattern; /* "/api/endpoints/{id}/": {id} matches one path segment */
    const char *subject;
    edge_auth auth;
    unsigned flags;
} edge_route;

/* Finds the route for method + path (trailing slash optional). Copies a {id} segment into
 * param (empty when the pattern has none). Returns NULL when nothing matches; then
 * *wrong_method tells whether the path exists with another method (405 rather than 404). */
const edge_route *edge_route_find(const char *method, const char *path, char *param,
                                  size_t param_len, bool *wrong_method);

/* The Allow header value for a path ("GET, POST"), for 405 replies. */
void edge_route_allow(const char *path, char *out, size_t len);

/* The client's address. From an untrusted peer: the peer address. From a peer listed in
 * trusted (comma-separated IPs, SW_TRUSTED_PROXIES): the right-most address of the
 * X-Forwarded-For lines (xff[0..nxff-1], in the order they came; each a comma-separated list)
 * that is not itself a trusted proxy; when every entry is trusted, the left-most one. An entry
 * that is not an IP stops the walk: the address of the hop to its right is taken (the peer
 * when there is none). Always a valid IP string or the peer as given. */
void edge_client_ip(char *out, size_t len, const char *peer, const char *const *xff, size_t nxff,
                    const char *trusted);

/* Whether ip is one of the comma-separated addresses of list (exact text match). */
bool edge_ip_listed(const char *ip, const char *list);

/* Whether a Host header value (host or host:port, [v6]:port) is one of allowed (ALLOWED_HOSTS:
 * comma-separated; "*" any host, ".example.com" example.com and every subdomain, otherwise
 * an exact name; case-insensitive). A missing or malformed Host is never allowed. */
bool edge_host_allowed(const char *host_header, const char *allowed);

/* Whether a Content-Type header value is application/json (any case, parameters such as
 * charset allowed). NULL is not. */
bool edge_is_json_type(const char *content_type);
/* The media type of a Content-Type value (before any ';', trimmed) for a message: printable
 * ASCII only, cut to fit out. "" for NULL. */
void edge_media_type(char *out, size_t len, const char *content_type);

/* The scheme and host a client used, "https://status.example.com", for the absolute URLs of
 * replies (DRF's request.build_absolute_uri: pagination links). scheme is https when tls, and
 * host the Host header; a peer among the trusted proxies may override them with
 * X-Forwarded-Proto and X-Forwarded-Host (the last value of each). A host that is malformed,
 * or not in allowed_hosts (ALLOWED_HOSTS, see edge_host_allowed) when that is set, is replaced
 * by the first concrete entry of allowed_hosts, else by fallback_host (the listener's address).
 * Any argument but out may be NULL. */
void edge_request_base(char *out, size_t len, bool tls, const char *host, const char *xf_proto,
                       const char *xf_host, const char *peer, const char *trusted,
                       const char *allowed_hosts, const char *fallback_host);

/* The REST contract (http/openapi.yaml as compact JSON), generated at build time. */
extern const char edge_openapi_json[];
extern const size_t edge_openapi_json_len;

/* The value of cookie name in a Cookie header, copied into out; false when absent. */
bool edge_cookie(char *out, size_t len, const char *cookie_header, const char *name);

#endif
