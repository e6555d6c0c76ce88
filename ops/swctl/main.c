/* swctl: watch and operate a StatusWatch bus from a shell. A command table and the connection
 * flags; each command group lives in its own file. */
#include <string.h>

#include "bus/log.h"
#include "ops/swctl/swctl.h"

static const ctl_cmd cmds[] = {
    {"sub", "print the messages on a subject, like `nats sub`", ctl_sub},
    {"req", "send a JSON request and print the reply", ctl_req},
    {"micro", "ls|info|stats [NAME]: the services on the bus ($SRV)", ctl_micro},
    {"streams", "JetStream streams: messages, bytes, sequences, consumers", ctl_streams},
    {"consumers", "[STREAM]: durable consumers: pending, ack pending, redelivered", ctl_consumers},
    {"dlq", "ls|show|replay SEQ: the dead-letter stream SW_DLQ", ctl_dlq},
    {"tenants", "the organizations, with plans, domains and users", ctl_tenants},
};

static void help(FILE *f)
{
    fputs("usage: swctl [--server URL] [--user NAME] [--password PW] COMMAND [ARGS]\n"
          "\n"
          "Commands (swctl COMMAND --help for each):\n",
          f);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
    fputs("\n"
          "Connection: --server or NATS_URL (default nats://127.0.0.1:4222); --user/--password\n"
          "or SW_NATS_USER/SW_NATS_PASSWORD, else SW_ADMIN_NATS_USER/SW_ADMIN_NATS_PASSWORD\n"
          "(what `set -a; . $SW_VAR/env` gives a shell; `ops/sw tail` does this for you).\n"
          "Prefer the environment to --password, which other users can see in ps.\n"
          "SW_JS_DOMAIN reaches JetStream through a leaf node; DATABASE_URL lets `dlq replay`\n"
          "record replayed_at in public.dead_letters.\n"
          "\n"
          "Exit status: 0 ok, 1 failure (printed on stderr), 2 bad usage.\n",
          f);
}

/* Takes --server/--user/--password (anywhere before "--") out of argv; returns the new argc,
 * or -1 after a usage error. */
static int global_flags(ctl *c, int argc, char **argv)
{
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {{"--server", offsetof(ctl, server)},
                 {"--user", offsetof(ctl, user)},
                 {"--password", offsetof(ctl, password)}};
    int out = 1;
    for (int i = 1; i < argc; i++) {
        bool taken = false;
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]) && !taken; f++) {
            size_t n = strlen(flags[f].name);
            const char **dst = (const char **)((char *)c + flags[f].off);
            if (strcmp(argv[i], flags[f].name) == 0) {
                if (i + 1 >= argc) {
                    ctl_err("%s needs a value", flags[f].name);
                    return -1;
                }
                *dst = argv[++i];
                taken = true;
            } else if (strncmp(argv[i], flags[f].name, n) == 0 && argv[i][n] == '=') {
                *dst = argv[i] + n + 1;
                taken = true;
            }
        }
        if (!taken)
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    ctl c = {0};
    int rc;

    /* Library code linked in (store, bus) logs JSON lines; a tool wants only real errors. */
    sw_log_init("swctl", "error");
    argc = global_flags(&c, argc, argv);
    if (argc < 0) {
        help(stderr);
        return CTL_USAGE;
    }
    if (argc < 2) {
        help(stderr);
        return CTL_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        help(stdout);
        return CTL_OK;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            rc = cmds[i].run(&c, argc - 1, argv + 1);
            ctl_close(&c);
            nats_CloseAndWait(1000);
            return rc;
        }
    }
    ctl_err("unknown command '%s' (swctl --help lists them)", argv[1]);
    return CTL_USAGE;
}
