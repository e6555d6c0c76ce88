/* SSRF policy for monitored URLs (DESIGN §5): which URLs may be created and which addresses a
 * probe may connect to. Decisions are made on resolved addresses, never on URL text, so every
 * spelling of an IP literal and every name that resolves inward is caught the same way. */
#ifndef SW_URL_POLICY_H
#define SW_URL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "bus/status.h"

typedef enum url_verdict {
    URL_OK,
    URL_MALFORMED,
    URL_BAD_SCHEME,
    URL_USERINFO,
    URL_UNRESOLVABLE,
    URL_DENIED_ADDRESS,
    URL_RESOLVE_TIMEOUT /* the name server did not answer by the deadline */
} url_verdict;

typedef struct url_policy url_policy;

/* allow_cidrs: SW_PROBE_ALLOW_CIDRS, comma-separated exact small ranges ("127.0.0.1/32,::1/128");
 * empty/NULL = none. Refused (SW_EINVAL, reason in why) when production is true and the list is
 * not empty, when an entry is wider than /24 (IPv4) or /64 (IPv6), malformed, or overlaps
 * 169.254.0.0/16, 0.0.0.0/8 or fe80::/10 (never allowable). *out owned (free with
 * url_policy_free), NULL on error. why may be NULL; on success it is set to "". */
sw_status url_policy_new(url_policy **out, const char *allow_cidrs, bool production, char *why,
                         size_t whylen);

/* NULL ok. */
void url_policy_free(url_policy *p);

/* How url_policy_check resolves names: servers ("127.0.0.1:5353,[::1]:53"; NULL or "" = the
 * system's /etc/resolv.conf, the default) and a deadline per lookup (default 4000 ms). SW_EINVAL
 * (reason in why) for a malformed server list or a timeout outside 100-4500 ms. */
sw_status url_policy_set_resolver(url_policy *p, const char *servers, int timeout_ms, char *why,
                                  size_t whylen);

/* Whether the allow list holds at least one entry (callers log loudly when it does). */
bool url_policy_has_allowlist(const url_policy *p);

/* Whether connecting to this address is allowed (deny list of DESIGN §5 incl. IPv4-mapped/NAT64/
 * 6to4 forms, minus the allow list). For CURLOPT_OPENSOCKETFUNCTION. sa is borrowed; only
 * AF_INET and AF_INET6 can be allowed. A NULL policy behaves as one with an empty allow list. */
bool url_policy_addr_allowed(const url_policy *p, const struct sockaddr *sa);

/* Parses url (http/https only, no userinfo, host required, port 1-65535, length <= 2048), resolves
 * the host (A and AAAA: numeric forms with getaddrinfo, names with c-ares within the resolver's
 * deadline, actors/common/resolve.h) and checks EVERY address. IP literals in any spelling
 * that inet_aton/getaddrinfo accept (decimal 2130706433, octal 0177.0.0.1, hex 0x7f.1, short 127.1,
 * bracketed IPv6, IPv4-mapped ::ffff:127.0.0.1) are therefore caught by checking resolved
 * addresses, never by string matching. Names like "localhost" or /etc/hosts entries are resolved
 * and checked the same way. reason: a short client-safe sentence (never the resolved IPs); may be
 * NULL. Blocks at most the resolver's deadline (URL_RESOLVE_TIMEOUT past it). */
url_verdict url_policy_check(const url_policy *p, const char *url, char *reason, size_t len);

/* Client-facing message for a verdict ("Only http and https URLs can be monitored." …); static
 * string, never NULL. */
const char *url_verdict_message(url_verdict v);

#endif
