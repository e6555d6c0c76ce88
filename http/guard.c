/* Per-address connection cap of the edge (see guard.h). civetweb calls accept() in its master
 * thread and hands the socket to a worker that then blocks reading the request; a client that
 * opens hundreds of connections and trickles bytes would hold every worker. civetweb 1.15 has
 * no callback before that hand-over, so this file defines accept() itself: sw-edge's own
 * definition interposes on libc's for libcivetweb (ELF symbol lookup finds the executable
 * first), calls accept4() and refuses a connection over the cap at once, in the master
 * thread, with a short 429 and a close. The count drops in civetweb's connection_closed
 * callback (edge_guard_release). The table is a fixed array of open-addressing slots keyed
 * by a keyed hash (SipHash) of the address, so a flood of addresses cannot force collisions;
 * its mutex is held only while counting, never across I/O. */
#include "http/guard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "bus/log.h"
#include "http/edge.h"

typedef struct slot {
    unsigned char addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
    uint32_t home;          /* hash & mask: where a probe for this address starts */
    uint32_t count;         /* 0: the slot is free */
} slot;

typedef struct watch {
    bool armed, fired;
    int64_t deadline; /* CLOCK_MONOTONIC ns */
    int peer_port, local_port;
    char peer[48];
} watch;

struct edge_guard {
    pthread_mutex_t mu;
    slot *slots;
    size_t mask, used;
    uint32_t max_per_client;
    const char *trusted;
    int plain_port;
    char refusal[400]; /* the 429 written to a refused plain-HTTP connection */
    int refusal_len;
    unsigned char key[crypto_shorthash_KEYBYTES];
    atomic_ulong refused;

    /* The watchdog of body deadlines: wmu guards watches and stop; never held across I/O. */
    pthread_mutex_t wmu;
    pthread_cond_t wcond;
    watch *watches;
    size_t nwatches;
    pthread_t thread;
    int64_t next_wake; /* when the watchdog wakes next; INT64_MAX: only when signalled */
    bool running, stop;
};

static _Atomic(edge_guard *) installed;

#define REFUSAL_BODY "{\"detail\":\"Too many open connections from your address.\"}"
static const char refusal[] = "HTTP/1.1 429 Too Many Requests\r\n"
                              "Content-Type: application/json; charset=utf-8\r\n"
                              "Content-Length: %zu\r\n"
                              "Retry-After: 5\r\n"
                              "X-Content-Type-Options: nosniff\r\n"
                              "Cache-Control: no-store\r\n"
                              "%s"
                              "Connection: close\r\n"
                              "\r\n" REFUSAL_BODY;

sw_status edge_guard_new(edge_guard **out, int max_per_client, size_t slots, const char *trusted,
                         int plain_port, bool hsts)
{
    size_t n = 64;
    *out = NULL;
    if (max_per_client < 1)
        return SW_EINVAL;
    while (n < slots * 2) /* at most half full: short probes */
        n *= 2;
    edge_guard *g = calloc(1, sizeof(*g));
    if (!g)
        return SW_EINTERNAL;
    g->slots = calloc(n, sizeof(*g->slots));
    if (!g->slots) {
        free(g);
        return SW_EINTERNAL;
    }
    pthread_mutex_init(&g->mu, NULL);
    pthread_mutex_init(&g->wmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wcond, &ca);
    pthread_condattr_destroy(&ca);
    g->mask = n - 1;
    g->max_per_client = (uint32_t)max_per_client;
    g->trusted = trusted ? trusted : "";
    g->plain_port = plain_port;
    g->refusal_len = snprintf(g->refusal, sizeof(g->refusal), refusal, strlen(REFUSAL_BODY),
                              hsts ? "Strict-Transport-Security: max-age=63072000; "
                                     "includeSubDomains\r\n"
                                   : "");
    crypto_shorthash_keygen(g->key);
    atomic_init(&g->refused, 0);
    *out = g;
    return SW_OK;
}

void edge_guard_free(edge_guard *g)
{
    if (!g)
        return;
    if (g->running) {
        pthread_mutex_lock(&g->wmu);
        g->stop = true;
        pthread_cond_signal(&g->wcond);
        pthread_mutex_unlock(&g->wmu);
        pthread_join(g->thread, NULL);
    }
    pthread_cond_destroy(&g->wcond);
    pthread_mutex_destroy(&g->wmu);
    pthread_mutex_destroy(&g->mu);
    free(g->watches);
    free(g->slots);
    free(g);
}

void edge_guard_install(edge_guard *g)
{
    atomic_store(&installed, g);
}

unsigned long edge_guard_refused(const edge_guard *g)
{
    return g ? atomic_load(&((edge_guard *)g)->refused) : 0;
}

/* The 16-byte key and the text of a socket address; false for other families. */
static bool key_of(unsigned char key[16], char *text, size_t tlen, const struct sockaddr *sa,
                   socklen_t len)
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
        return inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)tlen) != NULL;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(key, &in6->sin6_addr, 16);
        /* One IPv6 client owns a whole /64 (SLAAC, privacy addresses): count by prefix, or
         * rotating the low bits would escape the cap. IPv4-mapped addresses stay whole. */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(key, mapped, 12) != 0)
            memset(key + 8, 0, 8);
        return inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)tlen) != NULL;
    }
    return false;
}

static uint32_t home_of(const edge_guard *g, const unsigned char key[16])
{
    unsigned char h[crypto_shorthash_BYTES];
    uint32_t v;
    crypto_shorthash(h, key, 16, g->key);
    memcpy(&v, h, sizeof(v));
    return v & (uint32_t)g->mask;
}

/* The slot holding key, or the free slot where it would go. Caller holds mu. */
static size_t find(const edge_guard *g, const unsigned char key[16], uint32_t home)
{
    size_t i = home;
    while (g->slots[i].count && memcmp(g->slots[i].addr, key, 16) != 0)
        i = (i + 1) & g->mask;
    return i;
}

/* Frees slot i and shifts later members of its probe run back (linear probing without
 * tombstones). Caller holds mu. */
static void remove_at(edge_guard *g, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & g->mask;
        if (!g->slots[j].count)
            break;
        size_t k = g->slots[j].home;
        /* The entry at j stays when its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        g->slots[i] = g->slots[j];
        i = j;
    }
    g->slots[i].count = 0;
    g->used--;
}

bool edge_guard_admit(edge_guard *g, const struct sockaddr *addr, socklen_t len)
{
    unsigned char key[16];
    char text[INET6_ADDRSTRLEN];
    bool ok = false;
    if (!key_of(key, text, sizeof(text), addr, len))
        return true; /* not an IP socket: nothing to count by */
    if (edge_ip_listed(text, g->trusted))
        return true;
    uint32_t home = home_of(g, key);
    pthread_mutex_lock(&g->mu);
    size_t i = find(g, key, home);
    if (g->slots[i].count) {
        if (g->slots[i].count < g->max_per_client) {
            g->slots[i].count++;
            ok = true;
        }
    } else if (g->used < (g->mask + 1) / 2) {
        memcpy(g->slots[i].addr, key, 16);
        g->slots[i].home = home;
        g->slots[i].count = 1;
        g->used++;
        ok = true;
    }
    pthread_mutex_unlock(&g->mu);
    if (!ok) {
        /* Logged at the 1st, 2nd, 4th, 8th… refusal: visible, but never a flood. */
        unsigned long n = atomic_fetch_add(&g->refused, 1) + 1;
        if ((n & (n - 1)) == 0) {
            char total[24], cap[16];
            snprintf(total, sizeof(total), "%lu", n);
            snprintf(cap, sizeof(cap), "%u", g->max_per_client);
            sw_log(SW_LOG_WARN, "connection refused: too many open connections from one address",
                   "peer", text, "setting", "SW_HTTP_MAX_CONN_PER_CLIENT", "cap", cap,
                   "refused_total", total, NULL);
        }
    }
    return ok;
}

void edge_guard_release(edge_guard *g, const char *peer)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    struct sockaddr_in in = {.sin_family = AF_INET};
    unsigned char key[16];
    char text[INET6_ADDRSTRLEN];
    bool ok;
    if (!g || !peer || edge_ip_listed(peer, g->trusted))
        return;
    if (inet_pton(AF_INET, peer, &in.sin_addr) == 1)
        ok = key_of(key, text, sizeof(text), (struct sockaddr *)&in, sizeof(in));
    else if (inet_pton(AF_INET6, peer, &in6.sin6_addr) == 1)
        ok = key_of(key, text, sizeof(text), (struct sockaddr *)&in6, sizeof(in6));
    else
        return;
    if (!ok)
        return;
    uint32_t home = home_of(g, key);
    pthread_mutex_lock(&g->mu);
    size_t i = find(g, key, home);
    if (g->slots[i].count && --g->slots[i].count == 0)
        remove_at(g, i);
    pthread_mutex_unlock(&g->mu);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int local_port(int fd);

/* The socket of this process connected to peer:peer_port on local_port, or -1. Only runs
 * when a deadline passed, so a scan of /proc/self/fd is fine. */
static int find_socket(const char *peer, int peer_port, int local_port_want)
{
    struct sockaddr_storage ss;
    char text[INET6_ADDRSTRLEN];
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int found = -1;
    while (d && found < 0 && (de = readdir(d))) {
        char *end = NULL;
        long fd = strtol(de->d_name, &end, 10);
        if (!end || *end || fd < 0 || fd == dirfd(d))
            continue;
        socklen_t len = sizeof(ss);
        if (getpeername((int)fd, (struct sockaddr *)&ss, &len) != 0)
            continue;
        int port = -1;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
            port = ntohs(in->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
            port = ntohs(in6->sin6_port);
        } else {
            continue;
        }
        if (port == peer_port && strcmp(text, peer) == 0 && local_port((int)fd) == local_port_want)
            found = (int)fd;
    }
    if (d)
        closedir(d);
    return found;
}

static void *watchdog(void *arg)
{
    edge_guard *g = arg;
    pthread_mutex_lock(&g->wmu);
    while (!g->stop) {
        int64_t now = now_ns(), next = INT64_MAX;
        for (size_t i = 0; i < g->nwatches; i++) {
            watch *w = &g->watches[i];
            if (!w->armed || w->fired)
                continue;
            if (w->deadline > now) {
                if (w->deadline < next)
                    next = w->deadline;
                continue;
            }
            /* Passed: mark it, then look for the socket without the lock. The worker may
             * disarm meanwhile; it sees fired and closes the connection either way. */
            watch copy = *w;
            w->fired = true;
            pthread_mutex_unlock(&g->wmu);
            int fd = find_socket(copy.peer, copy.peer_port, copy.local_port);
            if (fd >= 0)
                shutdown(fd, SHUT_RD);
            pthread_mutex_lock(&g->wmu);
            now = now_ns();
        }
        g->next_wake = next;
        if (next == INT64_MAX) {
            pthread_cond_wait(&g->wcond, &g->wmu);
        } else {
            struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
            pthread_cond_timedwait(&g->wcond, &g->wmu, &ts);
        }
    }
    pthread_mutex_unlock(&g->wmu);
    return NULL;
}

sw_status edge_guard_start_watchdog(edge_guard *g, size_t watch_slots)
{
    g->watches = calloc(watch_slots, sizeof(*g->watches));
    if (!g->watches)
        return SW_EINTERNAL;
    g->nwatches = watch_slots;
    g->next_wake = INT64_MAX;
    if (pthread_create(&g->thread, NULL, watchdog, g) != 0)
        return SW_EINTERNAL;
    g->running = true;
    return SW_OK;
}

int edge_guard_watch(edge_guard *g, const char *peer, int peer_port, int local_port, int timeout_ms)
{
    int ticket = -1;
    if (!g || !g->running || !peer)
        return -1;
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
    pthread_mutex_lock(&g->wmu);
    for (size_t i = 0; i < g->nwatches; i++) {
        watch *w = &g->watches[i];
        if (w->armed)
            continue;
        *w = (watch){
            .armed = true, .deadline = deadline, .peer_port = peer_port, .local_port = local_port};
        snprintf(w->peer, sizeof(w->peer), "%s", peer);
        ticket = (int)i;
        break;
    }
    /* Wake the watchdog only if it would sleep past this deadline (every deadline is now +
     * the same timeout, so that is when it sleeps with nothing armed): no wake-up per
     * request. */
    if (ticket >= 0 && deadline < g->next_wake) {
        g->next_wake = deadline;
        pthread_cond_signal(&g->wcond);
    }
    pthread_mutex_unlock(&g->wmu);
    return ticket;
}

bool edge_guard_unwatch(edge_guard *g, int ticket)
{
    bool fired;
    if (!g || ticket < 0 || (size_t)ticket >= g->nwatches)
        return false;
    pthread_mutex_lock(&g->wmu);
    fired = g->watches[ticket].fired;
    g->watches[ticket].armed = false;
    g->watches[ticket].fired = false;
    pthread_mutex_unlock(&g->wmu);
    return fired;
}

static int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

/* civetweb's master thread calls this (see the top of the file). Same contract as accept(2);
 * a refused connection is answered and closed here and reported as ECONNABORTED, which
 * civetweb skips. */
int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int s = accept4(fd, addr, len, 0);
    edge_guard *g = atomic_load(&installed);
    if (s < 0 || !g || !addr || !len || edge_guard_admit(g, addr, *len))
        return s;
    /* Over the cap. A plain-HTTP client gets a reason (the socket is new: this send never
     * blocks); a TLS client cannot read one before its handshake and only sees the close. */
    if (local_port(s) == g->plain_port) {
        ssize_t n = send(s, g->refusal, (size_t)g->refusal_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;
        shutdown(s, SHUT_WR);
    }
    close(s);
    errno = ECONNABORTED;
    return -1;
}
