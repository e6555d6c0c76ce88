/* The one NATS connection of a swctl run, and the translation of NATS and JetStream failures
 * into messages that say what to check. Unlike the actors' bus_connect, a tool fails fast: an
 * operator wants "cannot reach NATS" in two seconds, not a silent retry loop. */
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "ops/swctl/swctl.h"

static volatile int async_failed;

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *arg)
{
    const char *text = NULL;
    natsConnection_GetLastError(nc, &text);
    if (err == NATS_NOT_PERMITTED || (text && strstr(text, "Permissions Violation")))
        ctl_err("NATS refused: %s (the user's permissions in the server config do not allow "
                "it; use an admin login, see ops/nats/README.md)",
                text && *text ? text : natsStatus_GetText(err));
    else if (err == NATS_SLOW_CONSUMER)
        ctl_err("messages were dropped: swctl could not print them as fast as they arrived "
                "(subscribe to a narrower subject)");
    else
        ctl_err("NATS: %s", text && *text ? text : natsStatus_GetText(err));
    async_failed = 1;
}

bool ctl_async_failed(void)
{
    return async_failed != 0;
}

int ctl_connect(ctl *c)
{
    natsOptions *opts = NULL;
    natsStatus s;
    char inbox[128];
    int rc = CTL_FAIL;

    if (c->nc)
        return CTL_OK;
    if (!c->server)
        c->server = env_or("NATS_URL", "nats://127.0.0.1:4222");
    if (!c->user) {
        c->user = env_or("SW_NATS_USER", NULL);
        if (c->user && !c->password)
            c->password = env_or("SW_NATS_PASSWORD", NULL);
    }
    if (!c->user) {
        /* What `set -a; . $SW_VAR/env` gives a shell. */
        c->user = env_or("SW_ADMIN_NATS_USER", NULL);
        if (c->user && !c->password)
            c->password = env_or("SW_ADMIN_NATS_PASSWORD", NULL);
    }

    s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = bus_nats_set_servers(opts, c->server);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, "swctl");
    if (s == NATS_OK && c->user)
        s = natsOptions_SetUserInfo(opts, c->user, c->password ? c->password : "");
    snprintf(c->inbox_prefix, sizeof(c->inbox_prefix), "_INBOX");
    if (s == NATS_OK && c->user) {
        /* Every StatusWatch user may read replies under _INBOX_<user> only (ops/nats). */
        snprintf(inbox, sizeof(inbox), "%s", env_or("SW_NATS_INBOX_PREFIX", ""));
        if (!inbox[0])
            snprintf(inbox, sizeof(inbox), "_INBOX_%s", c->user);
        s = natsOptions_SetCustomInboxPrefix(opts, inbox);
        snprintf(c->inbox_prefix, sizeof(c->inbox_prefix), "%s", inbox);
    }
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, 120);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 500);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(opts, on_async_error, NULL);
    if (s != NATS_OK) {
        ctl_err("bad connection settings for %s: %s (check NATS_URL or --server: "
                "nats://host:port[,nats://host2:port])",
                c->server, natsStatus_GetText(s));
        goto out;
    }
    s = natsConnection_Connect(&c->nc, opts);
    if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
        ctl_err("NATS at %s refused %s%s%s: wrong or missing user/password (set SW_NATS_USER and "
                "SW_NATS_PASSWORD, or --user/--password; a local instance's are in $SW_VAR/env)",
                c->server, c->user ? "user '" : "an anonymous login", c->user ? c->user : "",
                c->user ? "'" : "");
        goto out;
    }
    if (s != NATS_OK) {
        ctl_err("cannot reach NATS at %s: %s (is nats-server running? set NATS_URL or --server)",
                c->server, natsStatus_GetText(s));
        goto out;
    }
    rc = CTL_OK;
out:
    natsOptions_Destroy(opts);
    return rc;
}

int ctl_js(ctl *c)
{
    if (c->js)
        return CTL_OK;
    if (ctl_connect(c) != CTL_OK)
        return CTL_FAIL;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Domain = env_or("SW_JS_DOMAIN", NULL);
    jo.Wait = 5000;
    natsStatus s = natsConnection_JetStream(&c->js, c->nc, &jo);
    if (s != NATS_OK) {
        ctl_err("cannot use JetStream: %s", natsStatus_GetText(s));
        return CTL_FAIL;
    }
    return CTL_OK;
}

void ctl_close(ctl *c)
{
    jsCtx_Destroy(c->js);
    c->js = NULL;
    if (c->nc) {
        natsConnection_FlushTimeout(c->nc, 1000);
        natsConnection_Destroy(c->nc);
    }
    c->nc = NULL;
}

int ctl_request(natsMsg **reply, ctl *c, natsMsg *req, int timeout_ms)
{
    *reply = NULL;
    if (ctl_connect(c) != CTL_OK)
        return CTL_FAIL;
    natsStatus s = natsConnection_RequestMsg(reply, c->nc, req, timeout_ms);
    if (s == NATS_OK)
        return CTL_OK;
    const char *subj = natsMsg_GetSubject(req);
    if (s == NATS_NO_RESPONDERS)
        ctl_err("no responders on \"%s\": nothing subscribes to that subject (is the actor "
                "running? 'swctl micro ls' lists the services that answer)",
                subj);
    else if (s == NATS_TIMEOUT && !async_failed)
        ctl_err("no reply on \"%s\" within %d ms (the service may be busy or hung: see its log; "
                "a longer --timeout may help)",
                subj, timeout_ms);
    else if (!async_failed)
        ctl_err("request on \"%s\" failed: %s", subj, natsStatus_GetText(s));
    return CTL_FAIL;
}

void ctl_js_error(const char *what, natsStatus s, jsErrCode jerr)
{
    if (async_failed)
        return; /* the server's own reason (a permissions violation) is already printed */
    if (jerr == JSStreamNotFoundErr)
        ctl_err("%s: stream not found ('swctl streams' lists them; sw-migrate creates them)", what);
    else if (jerr == JSConsumerNotFoundErr)
        ctl_err("%s: consumer not found ('swctl consumers' lists them; sw-migrate creates them)",
                what);
    else if (jerr == JSNoMessageFoundErr || s == NATS_NOT_FOUND)
        ctl_err("%s: no such message (it may have been deleted or aged out)", what);
    else if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT)
        ctl_err("%s: JetStream did not answer (%s): is JetStream enabled on the server, and may "
                "this user call $JS.API (ops/nats/README.md)? Behind a leaf node set SW_JS_DOMAIN",
                what, natsStatus_GetText(s));
    else if (jerr)
        ctl_err("%s: %s (JetStream error %d)", what, nats_GetLastError(NULL), (int)jerr);
    else
        ctl_err("%s: %s", what, natsStatus_GetText(s));
}
