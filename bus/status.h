/* The one status enum of StatusWatch. Library errors (natsStatus, CURLcode, libpq, libsodium,
 * libjwt) are translated into these where they are called; nothing above sees the originals.
 * Each row: name, HTTP status the edge returns, message a client may see. */
#ifndef SW_STATUS_H
#define SW_STATUS_H

#define SW_STATUS_MAP(X)                                                                        \
    X(SW_OK, 200, "OK")                                                                         \
    X(SW_CREATED, 201, "Created.")                                                              \
    X(SW_NO_CONTENT, 204, "No content.")                                                        \
    X(SW_RESET_CONTENT, 205, "Reset content.")                                                  \
    X(SW_EINVAL, 400, "Invalid input.")                                                         \
    X(SW_EUNAUTH, 401, "Authentication credentials were not provided or are invalid.")          \
    X(SW_EFORBIDDEN, 403, "You do not have permission to perform this action.")                 \
    X(SW_ENOTFOUND, 404, "Not found.")                                                          \
    X(SW_EMETHOD, 405, "Method not allowed.")                                                   \
    X(SW_ECONFLICT, 409, "Conflict.")                                                           \
    X(SW_ETOOLARGE, 413, "Request body too large.")                                             \
    X(SW_EMEDIATYPE, 415, "Unsupported media type.")                                            \
    X(SW_ETHROTTLED, 429, "Request was throttled.")                                             \
    X(SW_EINTERNAL, 500, "Internal server error.")                                              \
    X(SW_EUPSTREAM, 502, "An upstream service failed.")                                         \
    X(SW_EUNAVAILABLE, 503, "Service temporarily unavailable.")                                 \
    X(SW_ETIMEOUT, 504, "The service did not answer in time.")

typedef enum sw_status {
#define SW__STATUS_ENUM(name, http, msg) name,
    SW_STATUS_MAP(SW__STATUS_ENUM)
#undef SW__STATUS_ENUM
        SW__STATUS_COUNT
} sw_status;

/* The client-visible message for a status; static string, never NULL. */
const char *sw_status_str(sw_status st);

/* The HTTP status code for a status (500 for an unknown value). */
int sw_status_http(sw_status st);

/* The status for an HTTP code, SW_EINTERNAL for a code not in the map. */
sw_status sw_status_from_http(int http);

/* The enum's own name ("SW_EINVAL"), for logs. */
const char *sw_status_name(sw_status st);

static inline int sw_status_is_error(sw_status st)
{
    return sw_status_http(st) >= 400;
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
