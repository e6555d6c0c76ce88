/* Throttles counted in PostgreSQL (public.rate_limits), so every instance of every actor
 * enforces one limit. Fixed windows: a key may be hit `count` times per window. */
#ifndef SW_RATELIMIT_H
#define SW_RATELIMIT_H

#include "actors/common/app.h"
#include "bus/bus.h"

/* Counts one hit on key ("register:ip:127.0.0.9"). Returns SW_OK while under the limit,
 * SW_ETHROTTLED past it with *retry_after set to the seconds left in the window, or a store
 * error (callers fail closed with 503). */
sw_status rate_limit_hit(store_conn *c, const char *key, sw_rate rate, int *retry_after);

/* Takes back one hit of key in the current window (an attempt that turned out to succeed,
 * for limits on failures only: hit before the attempt, refund after it succeeded, so
 * concurrent attempts never get past the limit). A window that has ended is left alone. */
sw_status rate_limit_refund(store_conn *c, const char *key, sw_rate rate);

/* The throttle key of a client address: an IPv4 address as is, an IPv6 address by its /64
 * ("2001:db8:1:2::/64"), since one host or subscriber usually holds a whole /64 and can rotate
 * inside it; IPv4-mapped IPv6 becomes the IPv4 address. Anything unparsable is kept as is
 * (truncated), "-" when NULL. */
void rate_limit_addr(char *out, size_t len, const char *ip);

/* Fills a DRF-style 429 reply with Retry-After, logs the hit, and returns SW_ETHROTTLED. */
sw_status rate_limit_reply(bus_reply *rep, const bus_req *req, const char *what, int retry_after);

#endif
