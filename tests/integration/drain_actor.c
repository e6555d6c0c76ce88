/* A tiny actor for test_drain: the real runtime (bus_actor_main) with handlers whose timing the
 * test controls, reporting what happens on a pipe (IT_DRAIN_FD): 's' when a handler starts,
 * 'r' when the slow handler returns, 'f' when app_free runs. IT_DRAIN_SUBJECT is the one
 * route; IT_DRAIN_MODE picks its handler:
 *   slow  returns only after the drain timed out and closed the connection, then waits for an
 *         app_free that would come too early (exit 3 if it does);
 *   work  takes 50 ms per request, like a handler busy hashing a password. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"

typedef struct drain_app {
    int fd;
    int freed;
    int started;
} drain_app;

static drain_app the_app = {.fd = -1};

static void report(char what)
{
    if (write(the_app.fd, &what, 1) != 1)
        _exit(4);
}

static sw_status slow(const bus_req *req, bus_reply *rep)
{
    drain_app *app = req->app;
    natsConnection *nc = bus_actor_conn(req->actor);
    report('s');
    /* Outlive the drain (SW_DRAIN_TIMEOUT_MS): nats.c closes the connection when it gives up. */
    for (int i = 0; i < 3000 && !natsConnection_IsClosed(nc); i++)
        nats_Sleep(10);
    /* An app_free that does not wait for this handler runs right after the close. */
    for (int i = 0; i < 150 && !__atomic_load_n(&app->freed, __ATOMIC_ACQUIRE); i++)
        nats_Sleep(20);
    if (__atomic_load_n(&app->freed, __ATOMIC_ACQUIRE))
        _exit(3);
    report('r');
    bus_reply_json(rep, json_pack("{s:b}", "done", 1));
    return SW_OK;
}

static sw_status work(const bus_req *req, bus_reply *rep)
{
    drain_app *app = req->app;
    if (__atomic_exchange_n(&app->started, 1, __ATOMIC_ACQ_REL) == 0)
        report('s');
    nats_Sleep(50);
    bus_reply_json(rep, json_pack("{s:b}", "done", 1));
    return SW_OK;
}

static void *app_init(bus_actor *a, sw_status *err)
{
    (void)a;
    (void)err;
    return &the_app;
}

static void app_free(void *p)
{
    drain_app *app = p;
    __atomic_store_n(&app->freed, 1, __ATOMIC_RELEASE);
    report('f');
}

int main(int argc, char **argv)
{
    const char *fd = getenv("IT_DRAIN_FD");
    const char *subject = getenv("IT_DRAIN_SUBJECT");
    const char *mode = getenv("IT_DRAIN_MODE");
    if (!fd || !subject || !mode) {
        fprintf(stderr,
                "drain_actor: IT_DRAIN_FD, IT_DRAIN_SUBJECT and IT_DRAIN_MODE are needed\n");
        return 2;
    }
    the_app.fd = atoi(fd);
    bus_route routes[] = {{subject, strcmp(mode, "slow") == 0 ? slow : work, false}};
    bus_actor_def def = {
        .name = "sw-drain-test",
        .description = "test_drain's actor",
        .routes = routes,
        .nroutes = 1,
        .app_init = app_init,
        .app_free = app_free,
    };
    return bus_actor_main(argc, argv, &def);
}
