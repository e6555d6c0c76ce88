/* swctl tenants: the organizations on this installation, asked of sw-tenancy over the bus
 * (sw.v1.tenancy.list), so the tool needs NATS credentials and no database access. */
#include <stdlib.h>
#include <string.h>

#include "ops/swctl/swctl.h"

static const char tenants_help[] =
    "usage: swctl tenants [--page N] [--page-size N] [--json]\n"
    "\n"
    "Lists tenants, oldest first, 100 to a page: id (also the schema name), name, plan,\n"
    "domains and users (the owner among them), via a request to sw.v1.tenancy.list, so\n"
    "sw-tenancy must be running.\n"
    "\n"
    "  --page N        which page (default 1)\n"
    "  --page-size N   tenants per page, 1 to 100 (default 100)\n"
    "  --json          print the reply as it came\n";

/* "a, b, c" from a JSON array of strings, into buf. */
static const char *join(char *buf, size_t len, json_t *arr)
{
    size_t i, used = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                         json_string_value(v) ? json_string_value(v) : "?");
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

int ctl_tenants(ctl *c, int argc, char **argv)
{
    static const char *const hdr[] = {"ID", "NAME", "PLAN", "DOMAINS", "USERS"};
    long page = 1, size = 100;
    bool raw = false;
    const char *pos[1];
    int npos, rc;
    const ctl_opt opts[] = {
        {"--page", CTL_OPT_LONG, &page, 1, 1000000},
        {"--page-size", CTL_OPT_LONG, &size, 1, 100},
        {"--json", CTL_OPT_FLAG, &raw, 0, 0},
    };
    natsMsg *req = NULL, *reply = NULL;
    json_t *body = NULL;
    char text[96];

    if (!ctl_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 0, 0, &npos, tenants_help,
                   &rc))
        return rc;
    snprintf(text, sizeof(text), "{\"page\":%ld,\"page_size\":%ld}", page, size);
    if (natsMsg_Create(&req, "sw.v1.tenancy.list", NULL, text, (int)strlen(text)) != NATS_OK) {
        ctl_err("out of memory");
        return CTL_FAIL;
    }
    natsMsgHeader_Set(req, "Content-Type", "application/json");
    rc = ctl_request(&reply, c, req, 5000);
    if (rc != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    const char *status = NULL;
    natsMsgHeader_Get(reply, "Sw-Status", &status);
    body = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    if (status && atoi(status) >= 400) {
        const char *detail = json_string_value(json_object_get(body, "detail"));
        ctl_err("sw-tenancy answered %s: %s (see its log)", status, detail ? detail : "no detail");
        goto out;
    }
    json_t *results = json_object_get(body, "results");
    if (!json_is_array(results)) {
        ctl_err("sw-tenancy's reply has no \"results\" list: is it a different version? "
                "('swctl micro ls' shows versions)");
        goto out;
    }
    if (raw) {
        ctl_print_body(stdout, natsMsg_GetData(reply), natsMsg_GetDataLength(reply), true);
        rc = CTL_OK;
        goto out;
    }
    long long count = json_integer_value(json_object_get(body, "count"));
    if (json_array_size(results) == 0) {
        if (count)
            printf("no tenants on page %ld (%lld in all)\n", page, count);
        else
            printf("no tenants yet\n");
        rc = CTL_OK;
        goto out;
    }
    ctl_table *t = ctl_table_new(5, hdr);
    size_t i;
    json_t *row;
    json_array_foreach(results, i, row)
    {
        char domains[1024], users[1024];
        ctl_table_row(t, json_string_value(json_object_get(row, "id")),
                      json_string_value(json_object_get(row, "name")),
                      json_string_value(json_object_get(row, "plan")),
                      join(domains, sizeof(domains), json_object_get(row, "domains")),
                      join(users, sizeof(users), json_object_get(row, "users")));
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    long pages = (long)((count + size - 1) / size);
    fprintf(stderr, "page %ld of %ld (%lld tenant%s)%s\n", page, pages ? pages : 1, count,
            count == 1 ? "" : "s", page < pages ? "; --page N for more" : "");
    rc = CTL_OK;
out:
    json_decref(body);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
    return rc;
}
