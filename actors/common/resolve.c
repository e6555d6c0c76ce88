/* c-ares lookups with a deadline; see resolve.h. */
#include "actors/common/resolve.h"

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ares.h>

typedef struct lookup {
    bool done;
    int status;
    struct ares_addrinfo *res;
} lookup;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = ARES_SUCCESS;

static void library_init(void)
{
    init_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_result(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    lookup *l = arg;
    (void)timeouts;
    l->done = true;
    l->status = status;
    l->res = res;
}

/* A channel asking servers (or resolv.conf's), each try waiting a share of the deadline. */
static int channel_new(ares_channel *ch, const char *servers, int timeout_ms)
{
    struct ares_options o;
    memset(&o, 0, sizeof(o));
    o.timeout = timeout_ms / 2 > 0 ? timeout_ms / 2 : 1; /* ms, with ARES_OPT_TIMEOUTMS */
    o.tries = 2;
    int rc = ares_init_options(ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS)
        return rc;
    if (servers && *servers) {
        rc = ares_set_servers_ports_csv(*ch, servers);
        if (rc != ARES_SUCCESS)
            ares_destroy(*ch);
    }
    return rc;
}

bool sw_resolve_servers_valid(const char *servers)
{
    ares_channel ch;
    pthread_once(&init_once, library_init);
    if (init_rc != ARES_SUCCESS)
        return false;
    if (channel_new(&ch, servers, 1000) != ARES_SUCCESS)
        return false;
    ares_destroy(ch);
    return true;
}

/* Runs the channel until the lookup is done or the deadline passes. */
static void run_until(ares_channel ch, lookup *l, int64_t deadline)
{
    while (!l->done) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM), n = 0;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            if (!ARES_GETSOCK_READABLE(bits, i) && !ARES_GETSOCK_WRITABLE(bits, i))
                continue;
            pfd[n].fd = socks[i];
            pfd[n].events = (short)((ARES_GETSOCK_READABLE(bits, i) ? POLLIN : 0) |
                                    (ARES_GETSOCK_WRITABLE(bits, i) ? POLLOUT : 0));
            pfd[n].revents = 0;
            n++;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return;
        struct timeval max = {(time_t)(left / 1000), (suseconds_t)((left % 1000) * 1000)}, tv;
        struct timeval *t = ares_timeout(ch, &max, &tv);
        int wait = (int)(t->tv_sec * 1000 + t->tv_usec / 1000);
        int rc = poll(pfd, (nfds_t)n, wait > 0 ? wait : 1);
        if (rc <= 0) {
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
            continue;
        }
        for (int i = 0; i < n; i++)
            ares_process_fd(
                ch, (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
                (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
    }
}

sw_status sw_resolve(sw_addrs *out, const char *name, const char *servers, int timeout_ms)
{
    ares_channel ch;
    lookup l = {false, ARES_SUCCESS, NULL};
    struct ares_addrinfo_hints hints;
    sw_status st = SW_EINTERNAL;

    memset(out, 0, sizeof(*out));
    pthread_once(&init_once, library_init);
    if (init_rc != ARES_SUCCESS)
        return SW_EINTERNAL;
    int rc = channel_new(&ch, servers, timeout_ms);
    if (rc != ARES_SUCCESS)
        return rc == ARES_EBADSTR ? SW_EINVAL : SW_EINTERNAL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ares_getaddrinfo(ch, name, NULL, &hints, on_result, &l);
    run_until(ch, &l, now_ms() + timeout_ms);
    if (!l.done) {
        ares_cancel(ch); /* calls on_result with ARES_ECANCELLED */
        st = SW_ETIMEOUT;
        goto out;
    }
    if (l.status == ARES_ETIMEOUT) {
        st = SW_ETIMEOUT;
        goto out;
    }
    if (l.status != ARES_SUCCESS || !l.res) {
        st = SW_ENOTFOUND;
        goto out;
    }
    size_t n = 0;
    for (struct ares_addrinfo_node *a = l.res->nodes; a; a = a->ai_next)
        n++;
    out->addr = n ? calloc(n, sizeof(*out->addr)) : NULL;
    if (!n) {
        st = SW_ENOTFOUND;
        goto out;
    }
    if (!out->addr)
        goto out;
    for (struct ares_addrinfo_node *a = l.res->nodes; a; a = a->ai_next) {
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || !a->ai_addr ||
            (size_t)a->ai_addrlen > sizeof(out->addr[0]))
            continue;
        memcpy(&out->addr[out->n++], a->ai_addr, (size_t)a->ai_addrlen);
    }
    st = out->n ? SW_OK : SW_ENOTFOUND;
out:
    if (l.res)
        ares_freeaddrinfo(l.res);
    ares_destroy(ch);
    if (st != SW_OK)
        sw_addrs_free(out);
    return st;
}

void sw_addrs_free(sw_addrs *a)
{
    if (!a)
        return;
    free(a->addr);
    a->addr = NULL;
    a->n = 0;
}
