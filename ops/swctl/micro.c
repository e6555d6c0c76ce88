/* swctl micro ls|info|stats: the NATS micro v1 discovery protocol. One request on
 * $SRV.<VERB>[.<name>] is answered by every running instance, so replies are gathered for a
 * fixed window instead of taking the first one (bus_gather, as the edge's health and metrics
 * do). */
#include <stdlib.h>
#include <string.h>

#include "bus/gather.h"
#include "ops/swctl/swctl.h"

static const char micro_help[] =
    "usage: swctl micro ls|info|stats [NAME] [--wait MS]\n"
    "\n"
    "Asks every service instance on the bus (NATS micro v1, $SRV.INFO / $SRV.STATS) and\n"
    "prints what answered within the wait window:\n"
    "\n"
    "  ls [NAME]      one line per instance: name, id, version, description, endpoints\n"
    "  info [NAME]    each instance's endpoints: name, subject, queue group\n"
    "  stats [NAME]   each endpoint's requests, errors, average processing time, last error\n"
    "\n"
    "  --wait MS      how long to gather replies (default 500)\n"
    "\n"
    "Example: swctl micro stats sw-auth\n";

static int cmp_service(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *nx = json_string_value(json_object_get(x, "name"));
    const char *ny = json_string_value(json_object_get(y, "name"));
    int r = strcmp(nx ? nx : "", ny ? ny : "");
    if (r)
        return r;
    const char *ix = json_string_value(json_object_get(x, "id"));
    const char *iy = json_string_value(json_object_get(y, "id"));
    return strcmp(ix ? ix : "", iy ? iy : "");
}

/* Publishes an empty request on subject and collects JSON replies for wait_ms (bus_gather).
 * *out: owned array sorted by name then id. */
static int gather(json_t **out, ctl *c, const char *subject, int wait_ms)
{
    json_t *replies = NULL;
    *out = NULL;
    if (bus_gather(&replies, c->nc, c->inbox_prefix, subject, NULL, wait_ms, 0) != SW_OK) {
        ctl_err("cannot ask %s: not connected to NATS", subject);
        return CTL_FAIL;
    }
    if (ctl_async_failed()) {
        json_decref(replies);
        return CTL_FAIL;
    }
    size_t n = json_array_size(replies);
    json_t **items = calloc(n ? n : 1, sizeof(*items));
    if (!items) {
        json_decref(replies);
        return CTL_FAIL;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(replies, i));
    qsort(items, n, sizeof(*items), cmp_service);
    json_array_clear(replies);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(replies, items[i]);
    free(items);
    *out = replies;
    return CTL_OK;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void print_ls(json_t *svcs)
{
    static const char *const hdr[] = {"NAME", "ID", "VERSION", "DESCRIPTION", "ENDPOINTS"};
    ctl_table *t = ctl_table_new(5, hdr);
    size_t i;
    json_t *s;
    json_array_foreach(svcs, i, s)
    {
        char eps[16];
        snprintf(eps, sizeof(eps), "%zu", json_array_size(json_object_get(s, "endpoints")));
        ctl_table_row(t, str(s, "name"), str(s, "id"), str(s, "version"), str(s, "description"),
                      eps);
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
}

static void print_info(json_t *svcs)
{
    static const char *const hdr[] = {"  ENDPOINT", "SUBJECT", "QUEUE GROUP"};
    size_t i, j;
    json_t *s, *ep;
    json_array_foreach(svcs, i, s)
    {
        const char *region = str(json_object_get(s, "metadata"), "region");
        printf("%s%s %s (version %s%s%s): %s\n", i ? "\n" : "", str(s, "name"), str(s, "id"),
               str(s, "version"), region ? ", region " : "", region ? region : "",
               str(s, "description") ? str(s, "description") : "");
        ctl_table *t = ctl_table_new(3, hdr);
        json_array_foreach(json_object_get(s, "endpoints"), j, ep)
        {
            char name[160];
            snprintf(name, sizeof(name), "  %s", str(ep, "name") ? str(ep, "name") : "-");
            ctl_table_row(t, name, str(ep, "subject"), str(ep, "queue_group"));
        }
        ctl_table_print(t, stdout);
        ctl_table_free(t);
    }
}

static void print_stats(json_t *svcs)
{
    static const char *const hdr[] = {"SERVICE", "ID",      "ENDPOINT",  "REQUESTS",
                                      "ERRORS",  "AVERAGE", "LAST ERROR"};
    ctl_table *t = ctl_table_new(7, hdr);
    size_t i, j;
    json_t *s, *ep;
    json_array_foreach(svcs, i, s)
    {
        json_array_foreach(json_object_get(s, "endpoints"), j, ep)
        {
            char req[24], errs[24], avg[32];
            snprintf(req, sizeof(req), "%lld",
                     (long long)json_integer_value(json_object_get(ep, "num_requests")));
            snprintf(errs, sizeof(errs), "%lld",
                     (long long)json_integer_value(json_object_get(ep, "num_errors")));
            if (json_integer_value(json_object_get(ep, "num_requests")) > 0)
                ctl_fmt_duration(
                    avg, sizeof(avg),
                    json_integer_value(json_object_get(ep, "average_processing_time")));
            else
                snprintf(avg, sizeof(avg), "-");
            ctl_table_row(t, str(s, "name"), str(s, "id"), str(ep, "name"), req, errs, avg,
                          str(ep, "last_error"));
        }
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
}

int ctl_micro(ctl *c, int argc, char **argv)
{
    const char *pos[2];
    long wait = 500;
    int npos, rc;
    const ctl_opt opts[] = {{"--wait", CTL_OPT_LONG, &wait, 10, 60000}};
    json_t *svcs = NULL;
    char subject[256];

    if (!ctl_parse(argc, argv, opts, 1, pos, 0, 2, &npos, micro_help, &rc))
        return rc;
    if (npos == 0)
        return ctl_usage_err(micro_help, "micro needs ls, info or stats");
    const char *verb = strcmp(pos[0], "ls") == 0      ? "INFO"
                       : strcmp(pos[0], "info") == 0  ? "INFO"
                       : strcmp(pos[0], "stats") == 0 ? "STATS"
                                                      : NULL;
    if (!verb)
        return ctl_usage_err(micro_help, "unknown micro command '%s' (ls, info or stats)", pos[0]);
    const char *name = npos > 1 ? pos[1] : NULL;
    if (name && strpbrk(name, ".*> \t"))
        return ctl_usage_err(micro_help, "'%s' is not a service name (like sw-auth)", name);
    snprintf(subject, sizeof(subject), "$SRV.%s%s%s", verb, name ? "." : "", name ? name : "");
    if (ctl_connect(c) != CTL_OK)
        return CTL_FAIL;
    if (gather(&svcs, c, subject, (int)wait) != CTL_OK)
        return CTL_FAIL;
    if (json_array_size(svcs) == 0) {
        if (name)
            ctl_err("no instance of '%s' answered %s within %ld ms (is it running? 'swctl micro "
                    "ls' lists what is)",
                    name, subject, wait);
        else
            ctl_err("no service answered %s within %ld ms (are the actors running, and may this "
                    "user publish $SRV.>?)",
                    subject, wait);
        json_decref(svcs);
        return CTL_FAIL;
    }
    if (strcmp(pos[0], "ls") == 0)
        print_ls(svcs);
    else if (strcmp(pos[0], "info") == 0)
        print_info(svcs);
    else
        print_stats(svcs);
    json_decref(svcs);
    return CTL_OK;
}
