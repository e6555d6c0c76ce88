/* swctl sub and swctl req: core NATS messages as an operator sees them, in the layout of the
 * official `nats sub`, so either tool's output reads the same. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "ops/swctl/swctl.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static const char sub_help[] =
    "usage: swctl sub SUBJECT [--count N] [--pretty] [--headers-only]\n"
    "\n"
    "Prints every message published on SUBJECT (wildcards * and > allowed) the way\n"
    "`nats sub` does: [#n] Received on \"subject\" (with reply \"…\"), the headers as\n"
    "Key: value lines, a blank line, the body, a blank line.\n"
    "\n"
    "  --count N        stop after N messages (default: until Ctrl-C)\n"
    "  --pretty         indent JSON bodies\n"
    "  --headers-only   print the headers, not the bodies\n"
    "\n"
    "Examples: swctl sub 'sw.v1.evt.>' --pretty     swctl sub 'sw.v1.jobs.probe.*' --count 5\n"
    "JetStream keeps events in SW_EVENTS; sub shows only what is published from now on.\n";

int ctl_sub(ctl *c, int argc, char **argv)
{
    bool pretty = false, headers_only = false;
    long count = 0;
    const char *pos[1];
    int npos, rc;
    const ctl_opt opts[] = {
        {"--count", CTL_OPT_LONG, &count, 1, 1000000000L},
        {"--pretty", CTL_OPT_FLAG, &pretty, 0, 0},
        {"--headers-only", CTL_OPT_FLAG, &headers_only, 0, 0},
    };
    natsSubscription *sub = NULL;
    uint64_t n = 0;

    if (!ctl_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 0, 1, &npos, sub_help,
                   &rc))
        return rc;
    if (npos == 0)
        return ctl_usage_err(sub_help, "sub needs a SUBJECT, e.g. 'sw.v1.evt.>'");
    if (ctl_connect(c) != CTL_OK)
        return CTL_FAIL;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the wait below returns on Ctrl-C */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    natsStatus s = natsConnection_SubscribeSync(&sub, c->nc, pos[0]);
    if (s == NATS_OK)
        s = natsConnection_FlushTimeout(c->nc, 2000);
    if (s != NATS_OK) {
        ctl_err("cannot subscribe to \"%s\": %s (a subject is dot-separated tokens; * matches "
                "one token, > the rest)",
                pos[0], natsStatus_GetText(s));
        rc = CTL_FAIL;
        goto out;
    }
    nats_Sleep(50); /* a refused subscription is reported asynchronously, right after Flush */
    if (ctl_async_failed()) {
        rc = CTL_FAIL;
        goto out;
    }
    /* On stderr, so stdout holds messages only; a script can wait for this line. */
    fprintf(stderr, "Listening on \"%s\" as %s (Ctrl-C stops)\n", pos[0],
            c->user ? c->user : "anonymous");
    rc = CTL_OK;
    while (!interrupted && (count == 0 || n < (uint64_t)count)) {
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, 200);
        if (s == NATS_TIMEOUT)
            continue;
        if (s != NATS_OK) {
            if (interrupted)
                break;
            ctl_err("subscription on \"%s\" ended: %s", pos[0], natsStatus_GetText(s));
            rc = CTL_FAIL;
            break;
        }
        ctl_print_msg(stdout, m, ++n, pretty, headers_only);
        natsMsg_Destroy(m);
        if (ctl_async_failed()) {
            rc = CTL_FAIL;
            break;
        }
    }
out:
    natsSubscription_Destroy(sub);
    return rc;
}

static const char req_help[] =
    "usage: swctl req SUBJECT JSON [--timeout MS] [--header K:V]... [--pretty]\n"
    "\n"
    "Sends JSON as a request on SUBJECT and prints the reply: its headers as Key: value\n"
    "lines, a blank line, the body. Adds Content-Type: application/json and a fresh\n"
    "Sw-Request-Id (printed on stderr, to find the request in the actors' logs) unless\n"
    "--header sets them.\n"
    "\n"
    "  --timeout MS     how long to wait for the reply (default 5000)\n"
    "  --header K:V     a request header; repeat for more (Sw-Tenant:t_…)\n"
    "  --pretty         indent a JSON reply\n"
    "\n"
    "Exit status: 0 for a reply, 1 when nobody answers (no responders), none came in time,\n"
    "or the reply is an error (Nats-Service-Error, or Sw-Status 400 and up), 2 for bad usage.\n"
    "Example: swctl req sw.v1.tenancy.list '{\"page\":1}' --pretty\n";

int ctl_req(ctl *c, int argc, char **argv)
{
    long timeout = 5000;
    bool pretty = false;
    ctl_list headers = {0};
    const char *pos[2];
    int npos, rc;
    const ctl_opt opts[] = {
        {"--timeout", CTL_OPT_LONG, &timeout, 1, 3600000L},
        {"--header", CTL_OPT_LIST, &headers, 0, 0},
        {"--pretty", CTL_OPT_FLAG, &pretty, 0, 0},
    };
    natsMsg *req = NULL, *reply = NULL;
    json_error_t jerr;
    char rid[48];

    if (!ctl_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 0, 2, &npos, req_help,
                   &rc))
        return rc;
    if (npos < 2)
        return ctl_usage_err(req_help, "req needs a SUBJECT and a JSON body (use '{}' for none)");
    json_t *body = json_loads(pos[1], JSON_DECODE_ANY, &jerr);
    if (!body)
        return ctl_usage_err(req_help,
                             "the request body is not JSON (%s at column %d); quote it for the "
                             "shell: '{\"page\":1}'",
                             jerr.text, jerr.column);
    json_decref(body);
    if (natsMsg_Create(&req, pos[0], NULL, pos[1], (int)strlen(pos[1])) != NATS_OK)
        return ctl_usage_err(req_help, "\"%s\" is not a subject you can publish to", pos[0]);
    natsMsgHeader_Set(req, "Content-Type", "application/json");
    char hex[17];
    sw_random_hex(hex, 8);
    snprintf(rid, sizeof(rid), "swctl-%s", hex);
    natsMsgHeader_Set(req, "Sw-Request-Id", rid);
    for (int i = 0; i < headers.n; i++) {
        const char *colon = strchr(headers.v[i], ':');
        if (!colon || colon == headers.v[i]) {
            natsMsg_Destroy(req);
            return ctl_usage_err(req_help, "--header wants Key:value, not '%s'", headers.v[i]);
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(colon - headers.v[i]), headers.v[i]);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        natsMsgHeader_Set(req, key, v);
    }
    rc = ctl_request(&reply, c, req, (int)timeout);
    if (rc != CTL_OK)
        goto out;
    const char *used_rid = NULL;
    natsMsgHeader_Get(req, "Sw-Request-Id", &used_rid);
    fprintf(stderr, "Sw-Request-Id %s\n", used_rid ? used_rid : rid);
    if (ctl_print_headers(stdout, reply) > 0)
        fputc('\n', stdout);
    ctl_print_body(stdout, natsMsg_GetData(reply), natsMsg_GetDataLength(reply), pretty);
    const char *svc_err = NULL, *status = NULL;
    natsMsgHeader_Get(reply, "Nats-Service-Error", &svc_err);
    natsMsgHeader_Get(reply, "Sw-Status", &status);
    if (svc_err || (status && atoi(status) >= 400)) {
        ctl_err("the service answered with an error (Sw-Status %s%s%s)", status ? status : "-",
                svc_err ? ", " : "", svc_err ? svc_err : "");
        rc = CTL_FAIL;
    }
out:
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
    return rc;
}
