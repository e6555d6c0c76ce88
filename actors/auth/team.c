/* The team of an organization (issue 21): members (list, role change, removal), invitations
 * (a single-use link by mail, 7 days, never above the inviter's role) and the transfer of
 * ownership. Every change writes its audit entry in its own transaction. A member whose role
 * changes keeps their sessions, but their access tokens stop at once (the next refresh carries
 * the new role) and their API tokens above the new role are revoked; a removed member's
 * sessions and API tokens all end at once. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/mail.h"
#include "actors/common/password.h"
#include "actors/common/role.h"
#include "actors/common/validate.h"
#include "bus/log.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define INVITE_DAYS 7
#define STR_(x) #x
#define STR(x) STR_(x)

static sw_status unavailable(bus_reply *rep, sw_status st)
{
    bus_reply_clear(rep);
    return bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
}

static sw_status not_found(bus_reply *rep)
{
    return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Not found.");
}

static bool uuid_shaped(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-'
                 : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

/* Opens a transaction in the caller's tenant on a new connection (*c). */
static sw_status begin(const bus_req *req, store_conn **c)
{
    actor_app *app = req->app;
    *c = store_acquire_tenant(app->db, req->tenant);
    if (!*c)
        return SW_EUNAVAILABLE;
    return store_tx_begin_tenant(*c, req->tenant);
}

/* ---------------------------------------------------------------- members */

sw_status auth_members_list(const bus_req *req, bus_reply *rep)
{
    long page, size;
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    if (!auth_page(req, &page, &size))
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    return auth_list_page(
        req, rep, "/api/team/members/",
        "SELECT count(*) OVER () AS total_count, id::text AS id, email, role,"
        " verified_at IS NOT NULL AS is_verified, " TS("created_at") " AS date_joined"
        " FROM users ORDER BY array_position(ARRAY['owner','admin','member','viewer'], role),"
        "  created_at, id LIMIT $1::int OFFSET $2::int",
        0, NULL, page, size);
}

/* The member {id} of the caller's organization, locked (FOR UPDATE), into *row. */
static sw_status load_member(store_conn *c, const char *id, json_t **row)
{
    const char *p[] = {id};
    return store_query_one(c, row,
                           "SELECT id::text AS id, email, role FROM users"
                           " WHERE id = $1::uuid FOR UPDATE",
                           1, p);
}

sw_status auth_members_patch(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    json_t *row = NULL, *detail = NULL;
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!uuid_shaped(req->param_id))
        return not_found(rep);
    json_t *role_j = json_object_get(req->body, "role");
    const char *role = json_string_value(role_j);
    sw_role want = sw_role_parse(role);
    if (!role_j) {
        bus_reply_field_error(rep, "role", "This field is required.");
        return SW_EINVAL;
    }
    if (want == SW_ROLE_NONE || want == SW_ROLE_OWNER) {
        bus_reply_field_error(rep, "role",
                              want == SW_ROLE_OWNER
                                  ? "Use the transfer of ownership to make someone the owner."
                                  : "Choose one of admin, member, viewer.");
        return SW_EINVAL;
    }
    if (want > actor_role(req)) {
        bus_reply_field_error(rep, "role", "You cannot grant a role above your own.");
        return SW_EINVAL;
    }
    st = begin(req, &c);
    if (st != SW_OK)
        goto fail;
    st = load_member(c, req->param_id, &row);
    if (st == SW_ENOTFOUND) {
        st = not_found(rep);
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *old = json_string_value(json_object_get(row, "role"));
    const char *email = json_string_value(json_object_get(row, "email"));
    if (strcmp(old, "owner") == 0) {
        st = bus_reply_error(rep, SW_EFORBIDDEN, "owner_protected",
                             "The owner's role changes only by a transfer of ownership.");
        goto out;
    }
    if (strcmp(req->param_id, req->user) == 0) {
        st = bus_reply_error(rep, SW_EFORBIDDEN, "own_role",
                             "You cannot change your own role; ask another admin or the owner.");
        goto out;
    }
    const char *p[] = {req->param_id, role};
    st = store_query(c, NULL, NULL, "UPDATE users SET role = $2 WHERE id = $1::uuid", 2, p);
    detail = json_pack("{s:s,s:s}", "from", old, "to", role);
    if (st == SW_OK)
        st = auth_audit(c, req, NULL, "member.role_changed", "user", req->param_id, email, detail);
    if (st == SW_OK)
        st = auth_apitokens_revoke_where(req, c, req->param_id, role);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    /* Their access tokens carry the old role: they stop now, the next refresh has the new. */
    if (auth_revoke_access(req, req->param_id) != SW_OK) {
        st = unavailable(rep, SW_EUNAVAILABLE);
        goto out;
    }
    sw_log(SW_LOG_INFO, "security: role changed", "event", "role_changed", "user_id",
           req->param_id, "from", old, "to", role, "by", req->user, NULL);
    json_object_set_new(row, "role", json_string(role));
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_OK;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(detail);
    json_decref(row);
    if (c)
        store_release(app->db, c);
    return st;
}

sw_status auth_members_delete(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    json_t *row = NULL;
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!uuid_shaped(req->param_id))
        return not_found(rep);
    st = begin(req, &c);
    if (st != SW_OK)
        goto fail;
    st = load_member(c, req->param_id, &row);
    if (st == SW_ENOTFOUND) {
        st = not_found(rep);
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *role = json_string_value(json_object_get(row, "role"));
    const char *email = json_string_value(json_object_get(row, "email"));
    if (strcmp(role, "owner") == 0) {
        st = bus_reply_error(rep, SW_EFORBIDDEN, "owner_protected",
                             "The owner cannot be removed; transfer the ownership first.");
        goto out;
    }
    if (strcmp(req->param_id, req->user) == 0) {
        st = bus_reply_error(rep, SW_EFORBIDDEN, "own_account",
                             "You cannot remove yourself; ask another admin or the owner.");
        goto out;
    }
    const char *p[] = {req->param_id, req->tenant};
    st = auth_apitokens_revoke_where(req, c, req->param_id, NULL);
    if (st == SW_OK)
        st = auth_audit(c, req, NULL, "member.removed", "user", req->param_id, email, NULL);
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "DELETE FROM public.user_directory WHERE user_id = $1::uuid"
                         " AND tenant_id = $2",
                         2, p);
    if (st == SW_OK)
        st = store_query(c, NULL, NULL, "DELETE FROM users WHERE id = $1::uuid", 1, p);
    /* Every session ends: refresh tokens revoked here, access tokens at every edge. */
    if (st == SW_OK)
        st = auth_revoke_user(req, c, req->tenant, req->param_id);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "security: member removed", "event", "member_removed", "user_id",
           req->param_id, "by", req->user, NULL);
    st = SW_NO_CONTENT;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(row);
    if (c)
        store_release(app->db, c);
    return st;
}

sw_status auth_transfer_ownership(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    json_t *me = NULL, *target = NULL;
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_OWNER) != SW_OK)
        return SW_EFORBIDDEN;
    const char *uid = json_string_value(json_object_get(req->body, "user_id"));
    const char *pw = json_string_value(json_object_get(req->body, "password"));
    if (!uid || !*uid)
        bus_reply_field_error(rep, "user_id", "This field is required.");
    if (!pw || !*pw)
        bus_reply_field_error(rep, "password", "This field is required.");
    if (rep->body)
        return SW_EINVAL;
    st = begin(req, &c);
    if (st != SW_OK)
        goto fail;
    const char *pm[] = {req->user};
    st = store_query_one(c, &me,
                         "SELECT email, role, password_hash FROM users WHERE id = $1::uuid"
                         " FOR UPDATE",
                         1, pm);
    if (st == SW_ENOTFOUND ||
        (st == SW_OK && strcmp(json_string_value(json_object_get(me, "role")), "owner") != 0)) {
        st = bus_reply_error(rep, SW_EFORBIDDEN, "owner_required",
                             "Only the organization's owner can transfer the ownership.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    if (!password_verify(json_string_value(json_object_get(me, "password_hash")), pw)) {
        bus_reply_field_error(rep, "password", "The password is not correct.");
        st = SW_EINVAL;
        goto out;
    }
    if (!uuid_shaped(uid) || strcmp(uid, req->user) == 0 ||
        (st = store_query_one(c, &target,
                              "SELECT id::text AS id, email, role FROM users"
                              " WHERE id = $1::uuid AND verified_at IS NOT NULL FOR UPDATE",
                              1, (const char *[]){uid})) == SW_ENOTFOUND) {
        bus_reply_field_error(rep, "user_id", "Choose another verified member of the organization.");
        st = SW_EINVAL;
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    /* The owner becomes an admin first: the unique index allows one owner at a time. */
    st = store_query(c, NULL, NULL, "UPDATE users SET role = 'admin' WHERE id = $1::uuid", 1, pm);
    if (st == SW_OK)
        st = store_query(c, NULL, NULL, "UPDATE users SET role = 'owner' WHERE id = $1::uuid", 1,
                         (const char *[]){uid});
    if (st == SW_OK)
        st = auth_audit(c, req, NULL, "ownership.transferred", "user", uid,
                        json_string_value(json_object_get(target, "email")), NULL);
    /* The old owner's owner-role tokens go above admin now. */
    if (st == SW_OK)
        st = auth_apitokens_revoke_where(req, c, req->user, "admin");
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    if (auth_revoke_access(req, req->user) != SW_OK || auth_revoke_access(req, uid) != SW_OK) {
        st = unavailable(rep, SW_EUNAVAILABLE);
        goto out;
    }
    sw_log(SW_LOG_INFO, "security: ownership transferred", "event", "ownership_transferred",
           "from", req->user, "to", uid, NULL);
    bus_reply_json(rep, json_pack("{s:s,s:s}", "detail", "Ownership transferred.", "owner", uid));
    st = SW_OK;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(me);
    json_decref(target);
    if (c)
        store_release(app->db, c);
    return st;
}

/* ---------------------------------------------------------------- invitations */

sw_status auth_invitations_list(const bus_req *req, bus_reply *rep)
{
    long page, size;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!auth_page(req, &page, &size))
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    return auth_list_page(
        req, rep, "/api/team/invitations/",
        "SELECT count(*) OVER () AS total_count, i.id::text AS id, i.email, i.role,"
        " json_build_object('id', i.invited_by, 'email', u.email) AS invited_by,"
        " " TS("i.created_at") " AS created_at, " TS("i.expires_at") " AS expires_at"
        " FROM invitations i LEFT JOIN users u ON u.id = i.invited_by"
        " WHERE i.accepted_at IS NULL AND i.withdrawn_at IS NULL AND i.expires_at > now()"
        " ORDER BY i.created_at DESC, i.id LIMIT $1::int OFFSET $2::int",
        0, NULL, page, size);
}

sw_status auth_invitations_create(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    json_t *row = NULL, *taken = NULL, *vars = NULL, *detail = NULL;
    char email[256], token[64], hash[80], link[1024], msg_id[96];
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    const char *email_in = json_string_value(json_object_get(req->body, "email"));
    json_t *role_j = json_object_get(req->body, "role");
    const char *role = json_string_value(role_j);
    sw_role want = sw_role_parse(role);
    if (!email_in || !*email_in)
        bus_reply_field_error(rep, "email", "This field is required.");
    else if (!validate_email(email, sizeof(email), email_in))
        bus_reply_field_error(rep, "email", "Enter a valid email address.");
    if (!role_j)
        bus_reply_field_error(rep, "role", "This field is required.");
    else if (want == SW_ROLE_NONE || want == SW_ROLE_OWNER)
        bus_reply_field_error(rep, "role", "Choose one of admin, member, viewer.");
    else if (want > actor_role(req))
        bus_reply_field_error(rep, "role", "You cannot invite with a role above your own.");
    if (rep->body)
        return SW_EINVAL;

    st = begin(req, &c);
    if (st != SW_OK)
        goto fail;
    const char *pe[] = {email};
    st = store_query_one(c, &taken, "SELECT 1 AS taken FROM public.user_directory WHERE email = $1",
                         1, pe);
    if (st == SW_OK) {
        bus_reply_field_error(rep, "email", "A user with this email already exists.");
        st = SW_EINVAL;
        goto out;
    }
    if (st != SW_ENOTFOUND)
        goto fail;
    token_new(token, sizeof(token));
    token_hash_bytea(hash, sizeof(hash), token);
    /* A new invitation to the same address replaces the pending one. */
    st = store_query(c, NULL, NULL,
                     "UPDATE invitations SET withdrawn_at = now() WHERE email = $1"
                     " AND accepted_at IS NULL AND withdrawn_at IS NULL",
                     1, pe);
    if (st == SW_OK)
        st = store_query_one(
            c, &row,
            "WITH i AS (INSERT INTO invitations (email, role, token_hash, invited_by, expires_at)"
            " VALUES ($1, $2, $3::bytea, $4::uuid, now() + interval '" STR(INVITE_DAYS) " days')"
            " RETURNING *)"
            " SELECT i.id::text AS id, i.email, i.role,"
            "  json_build_object('id', i.invited_by, 'email', u.email) AS invited_by,"
            "  " TS("i.created_at") " AS created_at, " TS("i.expires_at") " AS expires_at,"
            "  (SELECT name FROM public.tenants WHERE id = $5) AS org"
            " FROM i LEFT JOIN users u ON u.id = i.invited_by",
            5, (const char *[]){email, role, hash, req->user, req->tenant});
    if (st != SW_OK)
        goto fail;
    const char *id = json_string_value(json_object_get(row, "id"));
    detail = json_pack("{s:s}", "role", role);
    st = auth_audit(c, req, NULL, "invitation.created", "invitation", id, email, detail);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    snprintf(link, sizeof(link), "%s/accept-invitation?token=%s.%s", app->frontend_url,
             req->tenant, token);
    snprintf(msg_id, sizeof(msg_id), "invite:%.40s", hash + 2);
    const char *inviter = json_string_value(
        json_object_get(json_object_get(row, "invited_by"), "email"));
    vars = json_pack("{s:s,s:s,s:s,s:s,s:i}", "organization",
                     json_string_value(json_object_get(row, "org")), "link", link, "role", role,
                     "inviter", inviter ? inviter : "A colleague", "expires_hours",
                     INVITE_DAYS * 24);
    if (!vars || mail_enqueue(bus_actor_js(req->actor), "invitation", email, vars, msg_id,
                              req->request_id) != SW_OK)
        sw_log(SW_LOG_ERROR, "invitation mail not queued", "invitation_id", id, NULL);
    sodium_memzero(link, sizeof(link));
    sodium_memzero(token, sizeof(token));
    json_object_del(row, "org");
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_CREATED;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(vars);
    json_decref(detail);
    json_decref(taken);
    json_decref(row);
    if (c)
        store_release(app->db, c);
    return st;
}

sw_status auth_invitations_delete(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    json_t *row = NULL;
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!uuid_shaped(req->param_id))
        return not_found(rep);
    st = begin(req, &c);
    if (st != SW_OK)
        goto fail;
    st = store_query_one(c, &row,
                         "UPDATE invitations SET withdrawn_at = now() WHERE id = $1::uuid"
                         " AND accepted_at IS NULL AND withdrawn_at IS NULL RETURNING email",
                         1, (const char *[]){req->param_id});
    if (st == SW_ENOTFOUND) {
        st = not_found(rep);
        goto out;
    }
    if (st == SW_OK)
        st = auth_audit(c, req, NULL, "invitation.withdrawn", "invitation", req->param_id,
                        json_string_value(json_object_get(row, "email")), NULL);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    st = SW_NO_CONTENT;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(row);
    if (c)
        store_release(app->db, c);
    return st;
}

sw_status auth_accept_invitation(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    json_t *inv = NULL, *user = NULL;
    char tenant[64], secret[128], hash[80], pwhash[PASSWORD_HASH_LEN];
    sw_status st;
    const char *token = json_string_value(json_object_get(req->body, "token"));
    const char *pw = NULL;
    if (!token || !*token)
        bus_reply_field_error(rep, "token", "This field is required.");
    auth_password_fields(req, rep, NULL, &pw);
    if (rep->body)
        return SW_EINVAL;
    if (!auth_split_link_token(token, tenant, sizeof(tenant), secret, sizeof(secret)))
        return bus_reply_error(rep, SW_EINVAL, "token_invalid", "This invitation link is invalid.");
    token_hash_bytea(hash, sizeof(hash), secret);
    sodium_memzero(secret, sizeof(secret));
    c = store_acquire_tenant(app->db, tenant);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    st = store_tx_begin_tenant(c, tenant);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        st = bus_reply_error(rep, SW_EINVAL, "token_invalid", "This invitation link is invalid.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    st = store_query_one(c, &inv,
                         "SELECT id::text AS id, email, role, accepted_at IS NOT NULL AS used,"
                         " withdrawn_at IS NOT NULL AS withdrawn, expires_at <= now() AS expired"
                         " FROM invitations WHERE token_hash = $1::bytea FOR UPDATE",
                         1, (const char *[]){hash});
    if (st == SW_ENOTFOUND || (st == SW_OK && json_is_true(json_object_get(inv, "withdrawn")))) {
        st = bus_reply_error(rep, SW_EINVAL, "token_invalid", "This invitation link is invalid.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    if (json_is_true(json_object_get(inv, "used"))) {
        st = bus_reply_error(rep, SW_EINVAL, "token_used",
                             "This invitation has already been accepted.");
        goto out;
    }
    if (json_is_true(json_object_get(inv, "expired"))) {
        st = bus_reply_error(rep, SW_EINVAL, "token_expired",
                             "This invitation has expired. Ask for a new one.");
        goto out;
    }
    const char *email = json_string_value(json_object_get(inv, "email"));
    const char *role = json_string_value(json_object_get(inv, "role"));
    const char *inv_id = json_string_value(json_object_get(inv, "id"));
    json_t *errs = json_array(), *m;
    size_t i;
    password_check(pw, email, errs);
    json_array_foreach(errs, i, m) bus_reply_field_error(rep, "password", json_string_value(m));
    json_decref(errs);
    if (rep->body) {
        st = SW_EINVAL;
        goto out;
    }
    if (!password_hash(pwhash, pw)) {
        st = unavailable(rep, SW_EUNAVAILABLE);
        goto out;
    }
    /* One organization per email: the directory's primary key settles a race. */
    st = store_query_one(c, &user,
                         "WITH u AS (INSERT INTO users (email, password_hash, role, verified_at)"
                         " VALUES ($1, $2, $3, now()) RETURNING id, email, role),"
                         " d AS (INSERT INTO public.user_directory (email, tenant_id, user_id)"
                         " SELECT email, $4, id FROM u ON CONFLICT (email) DO NOTHING"
                         " RETURNING user_id)"
                         " SELECT u.id::text AS id, u.email, u.role,"
                         "  (SELECT count(*) FROM d) AS listed FROM u",
                         4, (const char *[]){email, pwhash, role, tenant});
    sodium_memzero(pwhash, sizeof(pwhash));
    if (st == SW_ECONFLICT || (st == SW_OK && json_integer_value(json_object_get(user, "listed")) == 0)) {
        store_tx_rollback(c);
        bus_reply_field_error(rep, "email", "A user with this email already exists.");
        st = SW_EINVAL;
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *uid = json_string_value(json_object_get(user, "id"));
    st = store_query(c, NULL, NULL,
                     "UPDATE invitations SET accepted_at = now() WHERE id = $1::uuid", 1,
                     (const char *[]){inv_id});
    if (st == SW_OK) {
        bus_req as = *req;
        as.tenant = tenant;
        st = auth_audit(c, &as, uid, "invitation.accepted", "invitation", inv_id, email, NULL);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "security: invitation accepted", "event", "invitation_accepted",
           "user_id", uid, "tenant_id", tenant, NULL);
    json_object_del(user, "listed");
    bus_reply_json(rep, json_pack("{s:s,s:O}", "detail", "Welcome aboard. You can now log in.",
                                  "user", user));
    st = SW_CREATED;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(inv);
    json_decref(user);
    if (c)
        store_release(app->db, c);
    return st;
}
