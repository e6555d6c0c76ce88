/* Passwords (issue 21): POST /api/auth/password-reset/ (the same 200 whether or not the
 * account exists, throttled by SW_THROTTLE_SENSITIVE per address and per account), .../confirm/
 * (a single-use link valid 1 hour; every session and every API token of the user ends), and
 * /api/auth/password-change/ for a logged-in user (every other session ends: all of the user's
 * sessions are revoked and the caller gets a new one in the reply; API tokens stay). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/mail.h"
#include "actors/common/password.h"
#include "actors/common/ratelimit.h"
#include "actors/common/role.h"
#include "actors/common/validate.h"
#include "bus/log.h"

#define RESET_HOURS 1

static sw_status unavailable(bus_reply *rep, sw_status st)
{
    bus_reply_clear(rep);
    return bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
}

bool auth_split_link_token(const char *in, char *tenant, size_t tlen, char *secret, size_t slen)
{
    const char *dot = in ? strchr(in, '.') : NULL;
    if (!dot || (size_t)(dot - in) >= tlen || strlen(dot + 1) >= slen || strlen(dot + 1) < 32)
        return false;
    memcpy(tenant, in, (size_t)(dot - in));
    tenant[dot - in] = '\0';
    snprintf(secret, slen, "%s", dot + 1);
    return store_schema_name_valid(tenant);
}

void auth_password_fields(const bus_req *req, bus_reply *rep, const char *email, const char **pw)
{
    const char *p1 = json_string_value(json_object_get(req->body, "password"));
    const char *p2 = json_string_value(json_object_get(req->body, "password_confirm"));
    *pw = p1;
    if (!p1 || !*p1)
        bus_reply_field_error(rep, "password", "This field is required.");
    if (!p2 || !*p2)
        bus_reply_field_error(rep, "password_confirm", "This field is required.");
    if (p1 && *p1 && email) {
        json_t *errs = json_array(), *m;
        size_t i;
        password_check(p1, email, errs);
        json_array_foreach(errs, i, m) bus_reply_field_error(rep, "password", json_string_value(m));
        json_decref(errs);
    }
    if (p1 && p2 && *p1 && *p2 && strcmp(p1, p2) != 0)
        bus_reply_field_error(rep, "password_confirm", "Passwords do not match.");
}

sw_status auth_password_reset(const bus_req *req, bus_reply *rep)
{
    static const char *answer =
        "If an account with this email exists, a link to reset its password has been sent.";
    actor_app *app = req->app;
    char email[256], key[320], addr[72], token[64], hash[80], link[1024], msg_id[96];
    json_t *who = NULL, *vars = NULL;
    int retry_after = 0;
    sw_status st;
    const char *email_in = json_string_value(json_object_get(req->body, "email"));

    if (!email_in || !*email_in) {
        bus_reply_field_error(rep, "email", "This field is required.");
        return SW_EINVAL;
    }
    if (!validate_email(email, sizeof(email), email_in)) {
        bus_reply_field_error(rep, "email", "Enter a valid email address.");
        return SW_EINVAL;
    }
    store_conn *c = store_acquire(app->db);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    rate_limit_addr(addr, sizeof(addr), req->client_ip);
    snprintf(key, sizeof(key), "reset:ip:%s", addr);
    st = rate_limit_hit(c, key, app->rate_sensitive, &retry_after);
    if (st == SW_OK) {
        snprintf(key, sizeof(key), "reset:acct:%s", email);
        st = rate_limit_hit(c, key, app->rate_sensitive, &retry_after);
    }
    if (st == SW_ETHROTTLED) {
        st = rate_limit_reply(rep, req, "password_reset", retry_after);
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    st = store_query_one(c, &who,
                         "SELECT d.tenant_id, d.user_id::text AS user_id, t.name"
                         " FROM public.user_directory d JOIN public.tenants t ON t.id = d.tenant_id"
                         " WHERE d.email = $1",
                         1, (const char *[]){email});
    if (st == SW_ENOTFOUND)
        goto done; /* the same answer whether or not the account exists */
    if (st != SW_OK)
        goto fail;
    const char *tenant = json_string_value(json_object_get(who, "tenant_id"));
    const char *uid = json_string_value(json_object_get(who, "user_id"));
    st = store_tx_begin_tenant(c, tenant);
    if (st != SW_OK)
        goto fail;
    token_new(token, sizeof(token));
    token_hash_bytea(hash, sizeof(hash), token);
    /* A new link replaces the older ones. */
    st = store_query(c, NULL, NULL,
                     "UPDATE email_tokens SET expires_at = least(expires_at, now())"
                     " WHERE user_id = $1::uuid AND purpose = 'password_reset' AND used_at IS NULL",
                     1, (const char *[]){uid});
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at)"
                         " SELECT $1::bytea, id, 'password_reset', now() + interval '1 hour'"
                         " FROM users WHERE id = $2::uuid",
                         2, (const char *[]){hash, uid});
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    snprintf(link, sizeof(link), "%s/reset-password?token=%s.%s", app->frontend_url, tenant, token);
    snprintf(msg_id, sizeof(msg_id), "reset:%.40s", hash + 2);
    vars =
        json_pack("{s:s,s:s,s:i}", "organization", json_string_value(json_object_get(who, "name")),
                  "link", link, "expires_hours", RESET_HOURS);
    if (!vars || mail_enqueue(bus_actor_js(req->actor), "password_reset", email, vars, msg_id,
                              req->request_id) != SW_OK)
        sw_log(SW_LOG_ERROR, "password reset mail not queued", "tenant_id", tenant, NULL);
    sodium_memzero(link, sizeof(link));
    sodium_memzero(token, sizeof(token));
    sw_log(SW_LOG_INFO, "security: password reset requested", "event", "password_reset_requested",
           "user_id", uid, "client_ip", req->client_ip, NULL);
done:
    bus_reply_json(rep, json_pack("{s:s}", "detail", answer));
    st = SW_OK;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(vars);
    json_decref(who);
    store_release(app->db, c);
    return st;
}

sw_status auth_password_reset_confirm(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char tenant[64], secret[128], hash[80], pwhash[PASSWORD_HASH_LEN];
    json_t *row = NULL;
    store_conn *c = NULL;
    sw_status st;
    const char *token = json_string_value(json_object_get(req->body, "token"));
    const char *pw = NULL;
    if (!token || !*token)
        bus_reply_field_error(rep, "token", "This field is required.");
    auth_password_fields(req, rep, NULL, &pw);
    if (rep->body)
        return SW_EINVAL;
    if (!auth_split_link_token(token, tenant, sizeof(tenant), secret, sizeof(secret)))
        return bus_reply_error(rep, SW_EINVAL, "token_invalid", "This reset link is invalid.");
    token_hash_bytea(hash, sizeof(hash), secret);
    sodium_memzero(secret, sizeof(secret));
    c = store_acquire_tenant(app->db, tenant);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    st = store_tx_begin_tenant(c, tenant);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        st = bus_reply_error(rep, SW_EINVAL, "token_invalid", "This reset link is invalid.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    st =
        store_query_one(c, &row,
                        "SELECT t.user_id::text AS user_id, u.email, t.used_at IS NOT NULL AS used,"
                        " t.expires_at <= now() AS expired"
                        " FROM email_tokens t JOIN users u ON u.id = t.user_id"
                        " WHERE t.token_hash = $1::bytea AND t.purpose = 'password_reset'"
                        " FOR UPDATE OF t",
                        1, (const char *[]){hash});
    if (st == SW_ENOTFOUND) {
        st = bus_reply_error(rep, SW_EINVAL, "token_invalid", "This reset link is invalid.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    if (json_is_true(json_object_get(row, "used"))) {
        st =
            bus_reply_error(rep, SW_EINVAL, "token_used", "This reset link has already been used.");
        goto out;
    }
    if (json_is_true(json_object_get(row, "expired"))) {
        st = bus_reply_error(rep, SW_EINVAL, "token_expired",
                             "This reset link has expired. Request a new one.");
        goto out;
    }
    const char *uid = json_string_value(json_object_get(row, "user_id"));
    json_t *errs = json_array(), *m;
    size_t i;
    password_check(pw, json_string_value(json_object_get(row, "email")), errs);
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
    st = store_query(c, NULL, NULL,
                     "UPDATE email_tokens SET used_at = now() WHERE token_hash = $1::bytea", 1,
                     (const char *[]){hash});
    /* A reset proves the mailbox: the account counts as verified from now on. */
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "UPDATE users SET password_hash = $2,"
                         " verified_at = coalesce(verified_at, now()) WHERE id = $1::uuid",
                         2, (const char *[]){uid, pwhash});
    sodium_memzero(pwhash, sizeof(pwhash));
    if (st == SW_OK) {
        bus_req as = *req;
        as.tenant = tenant;
        st = auth_audit(c, &as, uid, "password.reset", "user", uid,
                        json_string_value(json_object_get(row, "email")), NULL);
        if (st == SW_OK)
            st = auth_revoke_user(&as, c, tenant, uid);
        /* A reset is how an account is taken back: whoever knew the old password may have
         * made API tokens with it, so the user's tokens end too (a password change, made
         * by someone who knows the current one, keeps them: README "Passwords"). */
        if (st == SW_OK)
            st = auth_apitokens_revoke_where(&as, c, uid, NULL);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "security: password reset", "event", "password_reset", "user_id", uid,
           "client_ip", req->client_ip, NULL);
    bus_reply_json(rep, json_pack("{s:s}", "detail",
                                  "Your password has been changed. Log in with the new one."));
    st = SW_OK;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(row);
    if (c)
        store_release(app->db, c);
    return st;
}

sw_status auth_password_change(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char pwhash[PASSWORD_HASH_LEN];
    json_t *row = NULL;
    store_conn *c = NULL;
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    const char *current = json_string_value(json_object_get(req->body, "current_password"));
    const char *pw = NULL;
    if (!current || !*current)
        bus_reply_field_error(rep, "current_password", "This field is required.");
    auth_password_fields(req, rep, NULL, &pw);
    if (rep->body)
        return SW_EINVAL;
    st = (c = store_acquire_tenant(app->db, req->tenant)) ? store_tx_begin_tenant(c, req->tenant)
                                                          : SW_EUNAVAILABLE;
    if (st != SW_OK)
        goto fail;
    st = store_query_one(c, &row,
                         "SELECT email, role, password_hash FROM users WHERE id = $1::uuid"
                         " FOR UPDATE",
                         1, (const char *[]){req->user});
    if (st == SW_ENOTFOUND) {
        st = bus_reply_error(rep, SW_EUNAUTH, "user_not_found", "User not found.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    if (!password_verify(json_string_value(json_object_get(row, "password_hash")), current)) {
        bus_reply_field_error(rep, "current_password", "The password is not correct.");
        st = SW_EINVAL;
        goto out;
    }
    const char *email = json_string_value(json_object_get(row, "email"));
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
    st = store_query(c, NULL, NULL, "UPDATE users SET password_hash = $2 WHERE id = $1::uuid", 2,
                     (const char *[]){req->user, pwhash});
    sodium_memzero(pwhash, sizeof(pwhash));
    if (st == SW_OK)
        st = auth_audit(c, req, NULL, "password.changed", "user", req->user, email, NULL);
    /* Every session ends (this one too) ... */
    if (st == SW_OK)
        st = auth_revoke_user(req, c, req->tenant, req->user);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "security: password changed", "event", "password_changed", "user_id",
           req->user, "client_ip", req->client_ip, NULL);
    /* ... and the caller goes on in a new one. */
    st = auth_session_reply(rep, c, app, req->tenant, req->user,
                            json_string_value(json_object_get(row, "role")));
    if (st != SW_OK)
        goto fail;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(row);
    if (c)
        store_release(app->db, c);
    return st;
}
