/* Roles inside an organization and the one check every route makes. The edge puts the caller's
 * role in header Sw-Role (from the access token, or from the API token it verified); each
 * actor requires the minimum role a route needs at the top of its handler:
 *
 *     if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
 *         return SW_EFORBIDDEN; // rep holds 403 {"detail": ..., "code": "role_required"}
 *
 * Check the role before looking anything up, so a viewer learns nothing from a write route;
 * other tenants' objects stay 404 because every query runs in the caller's tenant schema.
 *
 * Ranks: viewer (reads) < member (endpoints, maintenance, acknowledging incidents) < admin
 * (team except the owner, channels, status pages, API tokens) < owner (billing, the
 * organization itself; exactly one per organization). */
#ifndef SW_ACTOR_ROLE_H
#define SW_ACTOR_ROLE_H

#include <stdbool.h>

#include "bus/bus.h"

typedef enum sw_role {
    SW_ROLE_NONE = 0, /* absent or not a role: below every requirement */
    SW_ROLE_VIEWER = 1,
    SW_ROLE_MEMBER = 2,
    SW_ROLE_ADMIN = 3,
    SW_ROLE_OWNER = 4,
} sw_role;

/* "owner" -> SW_ROLE_OWNER ...; NULL or anything else -> SW_ROLE_NONE. */
sw_role sw_role_parse(const char *name);
/* The role's name ("viewer"), static; NULL for SW_ROLE_NONE. */
const char *sw_role_name(sw_role r);
/* The caller's role from the request (header Sw-Role). SW_ROLE_NONE without a tenant. */
sw_role actor_role(const bus_req *req);
/* SW_OK when the caller is authenticated with at least min; else sets rep to
 * 403 {"detail": "This action needs the <min> role or higher.", "code": "role_required"}
 * and returns SW_EFORBIDDEN. */
sw_status actor_require_role(const bus_req *req, bus_reply *rep, sw_role min);

#endif
