/* The runtime's SIGTERM path against the stack's nats-server, on a real actor process
 * (drain_actor, bus_actor_main as the admin NATS user): a handler that outlives the drain keeps
 * the app until it has returned (app_free used to run under it: sw-auth's SIGSEGV when stopped
 * during a login backlog), and every request queued at the stop is answered, by its handler or
 * with 503 shutting_down, none dropped, and the process exits 0. */
#include "tests/support/it.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/ids.h"

#define N_QUEUED 100

typedef struct child {
    pid_t pid;
    int fd; /* read end of the actor's report pipe */
    char subject[96];
} child;

/* Starts drain_actor with its one route on a fresh subject; returns once it answers
 * $SRV.PING, so its route is subscribed. */
static void child_start(child *c, const char *mode, const char *drain_ms, const char *concurrency)
{
    int p[2];
    char hex[12], fdtxt[16], bin[512];
    const char *user = getenv("SW_ADMIN_NATS_USER"), *pass = getenv("SW_ADMIN_NATS_PASSWORD");

    assert_non_null(user);
    assert_non_null(pass);
    sw_random_hex(hex, 4);
    snprintf(c->subject, sizeof(c->subject), "sw.test.%s.drain", hex);
    snprintf(bin, sizeof(bin), "%s/it_drain_actor", SW_BIN_DIR);
    assert_int_equal(pipe(p), 0);
    snprintf(fdtxt, sizeof(fdtxt), "%d", p[1]);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the test */
        close(p[0]);
        setenv("IT_DRAIN_FD", fdtxt, 1);
        setenv("IT_DRAIN_SUBJECT", c->subject, 1);
        setenv("IT_DRAIN_MODE", mode, 1);
        setenv("SW_DRAIN_TIMEOUT_MS", drain_ms, 1);
        setenv("SW_CONCURRENCY", concurrency, 1);
        setenv("SW_NATS_USER", user, 1);
        setenv("SW_NATS_PASSWORD", pass, 1);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    c->fd = p[0];

    natsConnection *nc = it_nats();
    natsMsg *m = NULL;
    for (int i = 0; i < 100 && !m; i++) {
        if (natsConnection_RequestString(&m, nc, "$SRV.PING.sw-drain-test", "", 200) != NATS_OK) {
            m = NULL;
            nats_Sleep(200); /* no responders yet: answered at once */
        }
    }
    assert_non_null(m);
    natsMsg_Destroy(m);
    natsConnection_Destroy(nc);
}

/* The next byte the actor reported, or 0 when the pipe closed or timeout_ms passed. */
static char child_report(child *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    char b = 0;
    if (poll(&pfd, 1, timeout_ms) != 1 || read(c->fd, &b, 1) != 1)
        return 0;
    return b;
}

/* The actor's exit status; -1 when it was killed by a signal (or had to be, after 30 s). */
static int child_wait(child *c)
{
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 300 && r == 0; i++) {
        r = waitpid(c->pid, &status, WNOHANG);
        if (r == 0)
            usleep(100 * 1000);
    }
    if (r == 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
    }
    c->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup(void **state)
{
    child *c = calloc(1, sizeof(*c));
    c->fd = -1;
    *state = c;
    return 0;
}

/* A test that failed half-way leaves no actor behind. */
static int teardown(void **state)
{
    child *c = *state;
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    return 0;
}

static void test_handler_outliving_the_drain(void **state)
{
    child *c = *state;
    child_start(c, "slow", "300", "1");
    natsConnection *nc = it_nats();
    assert_int_equal(natsConnection_PublishRequestString(nc, c->subject, "_INBOX.it.drain", "{}"),
                     NATS_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);
    assert_int_equal(child_report(c, 20000), 's');

    /* nats.c gives up on the drain after 300 ms and closes the connection while the handler
     * runs. The handler returns ('r') and only then is the app freed ('f'); an app_free that
     * ran first makes the actor exit 3 from inside the handler. */
    assert_int_equal(kill(c->pid, SIGTERM), 0);
    assert_int_equal(child_report(c, 30000), 'r');
    assert_int_equal(child_report(c, 30000), 'f');
    assert_int_equal(child_wait(c), 0);
    natsConnection_Destroy(nc);
}

static void test_queued_requests_answered_or_refused(void **state)
{
    child *c = *state;
    char hex[12], inbox[64], reply[96];
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    int ok = 0, refused = 0;

    /* Two handlers of 50 ms each: 100 requests are 2.5 s of work, and the drain refuses what
     * has not started 1 s after SIGTERM (half of SW_DRAIN_TIMEOUT_MS). */
    child_start(c, "work", "2000", "2");
    natsConnection *nc = it_nats();
    sw_random_hex(hex, 4);
    snprintf(inbox, sizeof(inbox), "_INBOX.it.drain.%s.*", hex);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, inbox), NATS_OK);
    assert_int_equal(natsSubscription_SetPendingLimits(sub, -1, -1), NATS_OK);
    for (int i = 0; i < N_QUEUED; i++) {
        snprintf(reply, sizeof(reply), "_INBOX.it.drain.%s.%d", hex, i);
        assert_int_equal(natsConnection_PublishRequestString(nc, c->subject, reply, "{}"), NATS_OK);
    }
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);
    assert_int_equal(child_report(c, 20000), 's');
    assert_int_equal(kill(c->pid, SIGTERM), 0);

    for (int i = 0; i < N_QUEUED && natsSubscription_NextMsg(&m, sub, 15000) == NATS_OK; i++) {
        const char *status = NULL, *retry = NULL;
        natsMsgHeader_Get(m, BUS_H_STATUS, &status);
        if (status && strcmp(status, "200") == 0) {
            ok++;
        } else if (status && strcmp(status, "503") == 0) {
            json_t *body =
                json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
            assert_string_equal(json_string_value(json_object_get(body, "code")), "shutting_down");
            json_decref(body);
            assert_int_equal(natsMsgHeader_Get(m, BUS_H_HTTP_PREFIX "Retry-After", &retry),
                             NATS_OK);
            assert_string_equal(retry, "1");
            refused++;
        } else {
            fail_msg("reply %d has status %s", i, status ? status : "(none)");
        }
        natsMsg_Destroy(m);
    }
    /* Every request got an answer: none was dropped by the drain or lost with the process. */
    assert_int_equal(ok + refused, N_QUEUED);
    assert_true(ok > 0);      /* the ones in flight at SIGTERM were finished */
    assert_true(refused > 0); /* at most ~44 can start in the first second */
    assert_int_equal(child_report(c, 30000), 'f');
    assert_int_equal(child_wait(c), 0);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handler_outliving_the_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_requests_answered_or_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
