/* Bounded name resolution for the URL policy: c-ares (Debian's libc-ares), so a name whose
 * name server never answers costs at most the deadline, never the system resolver's retries
 * (blocking getaddrinfo with Debian's defaults waits 5 s per try and server). /etc/hosts is read
 * first, as the system resolver does ("localhost" stays loopback). */
#ifndef SW_RESOLVE_H
#define SW_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "bus/status.h"

typedef struct sw_addrs {
    size_t n;
    struct sockaddr_storage *addr; /* owned: n entries (AF_INET or AF_INET6) */
} sw_addrs;

/* Resolves name (A and AAAA) within timeout_ms, asking servers ("127.0.0.1:5353,[::1]:53";
 * NULL or "" = the servers of /etc/resolv.conf). On SW_OK *out holds at least one address
 * (free with sw_addrs_free). SW_ETIMEOUT: no answer by the deadline; SW_ENOTFOUND: no such
 * name, or no address; SW_EINVAL: servers is malformed; SW_EINTERNAL otherwise. Thread-safe
 * (one c-ares channel per call). */
sw_status sw_resolve(sw_addrs *out, const char *name, const char *servers, int timeout_ms);
void sw_addrs_free(sw_addrs *a);

/* Whether servers is a list c-ares accepts (for start-up checks of SW_DNS_SERVERS). */
bool sw_resolve_servers_valid(const char *servers);

#endif
