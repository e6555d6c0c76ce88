/* Fixed-window throttle counters in PostgreSQL. */
#include "actors/common/ratelimit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bus/log.h"

sw_status rate_limit_hit(store_conn *c, const char *key, sw_rate rate, int *retry_after)
{
    char window[16];
    json_t *row = NULL;
    snprintf(window, sizeof(window), "%d", rate.window_s);
    const char *p[] = {key, window};
    *retry_after = 0;
    sw_status st = store_query_one(
        c, &row,
        "INSERT INTO public.rate_limits AS r (key, window_start, count)"
        " VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2::int) * $2::int), 1)"
        " ON CONFLICT (key, window_start) DO UPDATE SET count = r.count + 1"
        " RETURNING r.count,"
        "  greatest(1, ceil(extract(epoch FROM r.window_start + make_interval(secs => $2::int)"
        "   - now())))::int AS retry_after",
        2, p);
    if (st != SW_OK)
        return st;
    int count = (int)json_integer_value(json_object_get(row, "count"));
    *retry_after = (int)json_integer_value(json_object_get(row, "retry_after"));
    json_decref(row);
    /* Now and then, drop windows that ended a day ago; any instance may do it. */
    if (count == 1 && (randombytes_random() % 64) == 0)
        store_query(c, NULL, NULL,
                    "DELETE FROM public.rate_limits WHERE window_start < now() - interval '2 days'",
                    0, NULL);
    return count > rate.count ? SW_ETHROTTLED : SW_OK;
}

sw_status rate_limit_refund(store_conn *c, const char *key, sw_rate rate)
{
    char window[16];
    snprintf(window, sizeof(window), "%d", rate.window_s);
    const char *p[] = {key, window};
    return store_query(c, NULL, NULL,
                       "UPDATE public.rate_limits SET count = count - 1"
                       " WHERE key = $1 AND count > 0 AND window_start ="
                       "  to_timestamp(floor(extract(epoch FROM now()) / $2::int) * $2::int)",
                       2, p);
}

void rate_limit_addr(char *out, size_t len, const char *ip)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!ip || !*ip) {
        snprintf(out, len, "-");
        return;
    }
    if (strchr(ip, ':') && inet_pton(AF_INET6, ip, a) == 1) {
        if (memcmp(a, mapped, sizeof(mapped)) == 0 &&
            inet_ntop(AF_INET, a + 12, text, sizeof(text))) {
            snprintf(out, len, "%s", text);
            return;
        }
        memset(a + 8, 0, 8);
        if (inet_ntop(AF_INET6, a, text, sizeof(text))) {
            snprintf(out, len, "%s/64", text);
            return;
        }
    }
    snprintf(out, len, "%.63s", ip);
}

sw_status rate_limit_reply(bus_reply *rep, const bus_req *req, const char *what, int retry_after)
{
    char secs[16], detail[128];
    snprintf(secs, sizeof(secs), "%d", retry_after);
    snprintf(detail, sizeof(detail), "Request was throttled. Expected available in %d seconds.",
             retry_after);
    bus_reply_header(rep, "Retry-After", secs);
    sw_log(SW_LOG_WARN, "security: throttled", "event", "throttle", "scope", what, "retry_after",
           secs, "client_ip", req->client_ip, NULL);
    return bus_reply_error(rep, SW_ETHROTTLED, "throttled", detail);
}
