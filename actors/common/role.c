/* Roles and the minimum-role check of every route (role.h). */
#include "actors/common/role.h"

#include <stdio.h>
#include <string.h>

#include "bus/log.h"

static const char *const names[] = {NULL, "viewer", "member", "admin", "owner"};

sw_role sw_role_parse(const char *name)
{
    if (!name)
        return SW_ROLE_NONE;
    for (int r = SW_ROLE_VIEWER; r <= SW_ROLE_OWNER; r++)
        if (strcmp(name, names[r]) == 0)
            return (sw_role)r;
    return SW_ROLE_NONE;
}

const char *sw_role_name(sw_role r)
{
    return r >= SW_ROLE_VIEWER && r <= SW_ROLE_OWNER ? names[r] : NULL;
}

sw_role actor_role(const bus_req *req)
{
    if (!req || !req->tenant || !req->user)
        return SW_ROLE_NONE;
    return sw_role_parse(req->role);
}

sw_status actor_require_role(const bus_req *req, bus_reply *rep, sw_role min)
{
    sw_role have = actor_role(req);
    if (have != SW_ROLE_NONE && have >= min)
        return SW_OK;
    char detail[96];
    snprintf(detail, sizeof(detail), "This action needs the %s role or higher.",
             sw_role_name(min) ? sw_role_name(min) : "viewer");
    sw_log(SW_LOG_INFO, "role too low", "subject", req && req->subject ? req->subject : "", "role",
           sw_role_name(have) ? sw_role_name(have) : "none", "needs",
           sw_role_name(min) ? sw_role_name(min) : "none", NULL);
    bus_reply_clear(rep);
    return bus_reply_error(rep, SW_EFORBIDDEN, "role_required", detail);
}
