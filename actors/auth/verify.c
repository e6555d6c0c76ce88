/* POST /api/auth/verify-email/ and /api/auth/resend-verification/. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/ratelimit.h"
#include "actors/common/validate.h"
#include "bus/log.h"

/* Splits "<tenant>.<secret>" into its parts; false when malformed. */
static bool split_token(const char *in, char *tenant, size_t tlen, char *secret, size_t slen)
{
    const char *dot = in ? strchr(in, '.') : NULL;
    if (!dot || (size_t)(dot - in) >= tlen || strlen(dot + 1) >= slen || strlen(dot + 1) < 32)
        return false;
    memcpy(tenant, in, (size_t)(dot - in));
    tenant[dot - in] = '\0';
    snprintf(secret, slen, "%s", dot + 1);
    return store_schema_name_valid(tenant);
}

sw_status auth_verify_email(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char tenant[64], secret[128], hash[80];
    json_t *row = NULL;
    sw_status st;
    const char *token = json_string_value(json_object_get(req->body, "token"));

    if (!token || !*token) {
        bus_reply_field_error(rep, "token", "This field is required.");
        return SW_EINVAL;
    }
    if (!split_token(token, tenant, sizeof(tenant), secret, sizeof(secret)))
        return bus_reply_error(rep, SW_EINVAL, "token_invalid",
                               "This verification link is invalid.");
    token_hash_bytea(hash, sizeof(hash), secret);
    sodium_memzero(secret, sizeof(secret));

    store_conn *c = store_acquire_tenant(app->db, tenant);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    st = store_tx_begin_tenant(c, tenant);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        st = bus_reply_error(rep, SW_EINVAL, "token_invalid", "This verification link is invalid.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;

    /* Redeem atomically: exactly one request can turn an unused, unexpired token into a used
     * one. */
    const char *p[] = {hash};
    st = store_query_one(c, &row,
                         "UPDATE email_tokens SET used_at = now()"
                         " WHERE token_hash = $1::bytea AND purpose = 'verify_email'"
                         "   AND used_at IS NULL AND expires_at > now()"
                         " RETURNING user_id::text",
                         1, p);
    if (st == SW_ENOTFOUND) {
        json_decref(row);
        row = NULL;
        st = store_query_one(c, &row,
                             "SELECT used_at IS NOT NULL AS used FROM email_tokens"
                             " WHERE token_hash = $1::bytea AND purpose = 'verify_email'",
                             1, p);
        if (st == SW_OK && json_is_true(json_object_get(row, "used")))
            st = bus_reply_error(rep, SW_EINVAL, "token_used",
                                 "This verification link has already been used.");
        else if (st == SW_OK)
            st = bus_reply_error(rep, SW_EINVAL, "token_expired",
                                 "This verification link has expired. Request a new one.");
        else if (st == SW_ENOTFOUND)
            st = bus_reply_error(rep, SW_EINVAL, "token_invalid",
                                 "This verification link is invalid.");
        else
            goto fail;
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *pu[] = {json_string_value(json_object_get(row, "user_id"))};
    st = store_query(c, NULL, NULL,
                     "UPDATE users SET verified_at = coalesce(verified_at, now())"
                     " WHERE id = $1::uuid",
                     1, pu);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "security: email verified", "event", "email_verified", "user_id", pu[0],
           "client_ip", req->client_ip, NULL);
    bus_reply_json(rep, json_pack("{s:s}", "detail", "Email verified. You can now log in."));
    st = SW_OK;
    goto out;
fail:
    st = bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
out:
    json_decref(row);
    store_release(app->db, c);
    return st;
}

sw_status auth_resend_verification(const bus_req *req, bus_reply *rep)
{
    static const char *answer = "If an account with this email exists and is not verified yet, "
                                "a new verification email has been sent.";
    actor_app *app = req->app;
    char email[256], key[320], addr[72], token[64], hash[80];
    json_t *who = NULL, *user = NULL;
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
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    rate_limit_addr(addr, sizeof(addr), req->client_ip); /* IPv6 by /64 */
    snprintf(key, sizeof(key), "sensitive:ip:%s", addr);
    st = rate_limit_hit(c, key, app->rate_sensitive, &retry_after);
    if (st == SW_OK) {
        snprintf(key, sizeof(key), "sensitive:acct:%s", email);
        st = rate_limit_hit(c, key, app->rate_sensitive, &retry_after);
    }
    if (st == SW_ETHROTTLED) {
        st = rate_limit_reply(rep, req, "resend_verification", retry_after);
        goto out;
    }
    if (st != SW_OK)
        goto fail;

    const char *pe[] = {email};
    st = store_query_one(c, &who,
                         "SELECT d.tenant_id, d.user_id::text AS user_id, t.name"
                         " FROM public.user_directory d JOIN public.tenants t ON t.id = d.tenant_id"
                         " WHERE d.email = $1",
                         1, pe);
    if (st == SW_ENOTFOUND)
        goto done; /* same answer whether or not the account exists */
    if (st != SW_OK)
        goto fail;
    const char *tenant = json_string_value(json_object_get(who, "tenant_id"));
    const char *uid = json_string_value(json_object_get(who, "user_id"));
    st = store_tx_begin_tenant(c, tenant);
    if (st != SW_OK)
        goto fail;
    const char *pu[] = {uid};
    st = store_query_one(c, &user,
                         "SELECT verified_at IS NOT NULL AS verified FROM users"
                         " WHERE id = $1::uuid FOR UPDATE",
                         1, pu);
    if (st == SW_ENOTFOUND || (st == SW_OK && json_is_true(json_object_get(user, "verified")))) {
        store_tx_rollback(c);
        goto done;
    }
    if (st != SW_OK)
        goto fail;
    /* A new link replaces the old ones: they stop working now. */
    token_new(token, sizeof(token));
    token_hash_bytea(hash, sizeof(hash), token);
    const char *pt[] = {hash, uid};
    st = store_query(c, NULL, NULL,
                     "UPDATE email_tokens SET expires_at = least(expires_at, now())"
                     " WHERE user_id = $2::uuid"
                     " AND purpose = 'verify_email' AND used_at IS NULL"
                     " AND token_hash <> $1::bytea",
                     2, pt);
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at)"
                         " VALUES ($1::bytea, $2::uuid, 'verify_email', now() + interval '48 hours')",
                         2, pt);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    if (auth_send_verification(req, email, json_string_value(json_object_get(who, "name")), tenant,
                               token) != SW_OK)
        sw_log(SW_LOG_ERROR, "verification email not queued", "tenant_id", tenant, NULL);
    sodium_memzero(token, sizeof(token));
done:
    bus_reply_json(rep, json_pack("{s:s}", "detail", answer));
    st = SW_OK;
    goto out;
fail:
    st = bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
out:
    json_decref(user);
    json_decref(who);
    store_release(app->db, c);
    return st;
}
