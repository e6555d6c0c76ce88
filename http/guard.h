/* The edge's guard against slow and greedy clients: a cap on the connections one client
 * address holds at once, applied when a connection is accepted, before a civetweb worker
 * thread is given to it. civetweb 1.15 keeps one worker thread on a connection for the
 * connection's whole life (keep-alive included) and offers no hook between accept() and that
 * worker, so the cap lives in this module's accept() (see guard.c). */
#ifndef SW_EDGE_GUARD_H
#define SW_EDGE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "bus/status.h"

typedef struct edge_guard edge_guard;

/* A guard allowing max_per_client connections per peer address. Peers listed in trusted
 * (comma-separated IPs, SW_TRUSTED_PROXIES; borrowed, must outlive the guard) are not
 * counted: a proxy carries many clients and limits them itself. slots bounds how many
 * distinct addresses can hold connections at once (civetweb's threads + queue suffice).
 * plain_port: the port of the plain-HTTP listener, the only one a refusal is written on;
 * hsts: the refusal carries Strict-Transport-Security (ENFORCE_HTTPS).
 * *out: owned, free with edge_guard_free. */
sw_status edge_guard_new(edge_guard **out, int max_per_client, size_t slots, const char *trusted,
                         int plain_port, bool hsts);
/* Accepts NULL. Uninstall first. */
void edge_guard_free(edge_guard *g);

/* Makes g the guard of every accept() of this process (NULL: none). */
void edge_guard_install(edge_guard *g);

/* Counts a new connection from addr (an IPv6 peer by its /64); false (nothing counted) when
 * the peer already holds max_per_client connections or no slot is free. */
bool edge_guard_admit(edge_guard *g, const struct sockaddr *addr, socklen_t len);
/* The connection from peer (civetweb's remote_addr text) is closed. */
void edge_guard_release(edge_guard *g, const char *peer);
/* Connections refused so far (also logged at the 1st, 2nd, 4th, 8th… refusal). */
unsigned long edge_guard_refused(const edge_guard *g);

/* Body deadlines. civetweb's mg_read waits until it has every byte asked for and gives up
 * only after request_timeout_ms without any byte, so a client trickling one byte a second
 * would hold a worker forever. Before reading a body the handler arms a deadline for its
 * connection (peer address text, peer port, the server port it came in on); if it passes
 * first, the guard's watchdog thread finds that socket and shuts its reading side, so the
 * blocked read returns at once. Returns a ticket, or -1 when every watch slot is taken
 * (then nothing is watched). */
int edge_guard_watch(edge_guard *g, const char *peer, int peer_port, int local_port,
                     int timeout_ms);
/* Ends a watch (ticket -1 is ignored). True when its deadline had passed: the connection's
 * reading side is shut (or about to be), so the caller answers 408 and closes. */
bool edge_guard_unwatch(edge_guard *g, int ticket);
/* Starts the watchdog thread (watch_slots at most at once: one per worker thread). */
sw_status edge_guard_start_watchdog(edge_guard *g, size_t watch_slots);

#endif
