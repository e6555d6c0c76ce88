/* Login, refresh rotation with reuse detection, logout and the current user
 * (djangorestframework-simplejwt's shapes). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "actors/common/plans.h"
#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/password.h"
#include "actors/common/ratelimit.h"
#include "actors/common/role.h"
#include "actors/common/validate.h"
#include "bus/log.h"
#include "bus/jwt.h"

#define REFRESH_TTL_DAYS 30 /* from the login, whatever the refreshes */
#define STR_(x) #x
#define STR(x) STR_(x)
#define REFRESH_COOKIE "sw_refresh"

static const char *bad_credentials = "No active account found with the given credentials";
static const char *bad_refresh = "Token is invalid or expired";

/* A short, stable pseudonym for an email in security logs (never the address itself). */
static void account_tag(char out[17], const char *email)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)email, strlen(email));
    sodium_bin2hex(out, 17, h, 8);
}

/* The refresh cookie, living ttl seconds (token NULL: the cookie is removed). */
static void set_refresh_cookie(bus_reply *rep, const actor_app *app, const char *token, long ttl)
{
    char cookie[256];
    snprintf(cookie, sizeof(cookie),
             "%s=%s; Path=/api/auth/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", REFRESH_COOKIE,
             token ? token : "", token ? ttl : 0L, app->secure_cookies ? "; Secure" : "");
    bus_reply_header(rep, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof(cookie));
}

/* Inserts a refresh token of family (NULL: a new family, a login) and returns it in token,
 * with the family's id and the seconds it has left. A family ends REFRESH_TTL_DAYS after its
 * login whatever the refreshes: a child token expires when its parent does (parent_expiry, a
 * unix time; NULL for a login). */
static sw_status refresh_insert(store_conn *c, char token[64], char family_out[40], long *ttl_out,
                                const char *family, const char *parent_hash,
                                const char *parent_expiry, const char *tenant, const char *user)
{
    char hash[80];
    json_t *row = NULL;
    token_new(token, 64);
    token_hash_bytea(hash, sizeof(hash), token);
    const char *p[] = {hash, family, parent_hash, tenant, user, parent_expiry};
    sw_status st =
        store_query_one(c, &row,
                        "INSERT INTO public.refresh_tokens"
                        " (token_hash, family_id, parent_hash, tenant_id, user_id, expires_at)"
                        " VALUES ($1::bytea, coalesce($2::uuid, gen_random_uuid()), $3::bytea,"
                        "  $4, $5::uuid,"
                        "  coalesce(to_timestamp($6::bigint), now() + make_interval(days => " STR(
                            REFRESH_TTL_DAYS) ")))"
                                              " RETURNING family_id::text AS family_id,"
                                              "  greatest(0, floor(extract(epoch FROM expires_at - "
                                              "now())))::bigint AS ttl",
                        6, p);
    if (st == SW_OK) {
        snprintf(family_out, 40, "%s", json_string_value(json_object_get(row, "family_id")));
        *ttl_out = (long)json_integer_value(json_object_get(row, "ttl"));
    }
    json_decref(row);
    return st;
}

/* Replies {access, refresh} and sets the refresh cookie (for the family's remaining ttl). */
static sw_status reply_tokens(bus_reply *rep, const actor_app *app, const char *tenant,
                              const char *user, const char *role, const char *family,
                              const char *refresh, long ttl)
{
    sw_jwt_claims claims = {0};
    char *access = NULL;
    snprintf(claims.tenant, sizeof(claims.tenant), "%s", tenant);
    snprintf(claims.user, sizeof(claims.user), "%s", user);
    snprintf(claims.role, sizeof(claims.role), "%s", role);
    snprintf(claims.sid, sizeof(claims.sid), "%s", family);
    if (sw_jwt_issue(&access, &claims, app->jwt_key, sw_epoch_ms() / 1000) != SW_OK)
        return bus_reply_error(rep, SW_EINTERNAL, NULL, NULL);
    bus_reply_json(rep, json_pack("{s:s,s:s}", "access", access, "refresh", refresh));
    set_refresh_cookie(rep, app, refresh, ttl);
    free(access);
    return SW_OK;
}

static sw_status unavailable(bus_reply *rep, sw_status st)
{
    return bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
}

/* The audit entry of a login or a failed one (in a transaction of its own; a failure to
 * write it is logged and does not change the login's answer). */
static void audit_login(store_conn *c, const bus_req *req, const char *tenant, const char *uid,
                        const char *action)
{
    bus_req as = *req;
    as.tenant = tenant;
    sw_status st = store_tx_begin_tenant(c, tenant);
    if (st == SW_OK)
        st = auth_audit(c, &as, uid, action, "user", uid, NULL, NULL);
    if (st == SW_OK)
        st = store_tx_commit(c);
    else
        store_tx_rollback(c);
}

/* Whether email has logged in from addr (a rate_limit_addr key) in the last 90 days. */
static sw_status address_known(store_conn *c, const char *email, const char *addr, bool *known)
{
    json_t *row = NULL;
    const char *p[] = {email, addr};
    *known = false;
    sw_status st = store_query_one(c, &row,
                                   "SELECT 1 AS known FROM public.login_known_addresses"
                                   " WHERE email = $1 AND addr = $2"
                                   " AND last_login > now() - interval '90 days'",
                                   2, p);
    json_decref(row);
    if (st == SW_ENOTFOUND)
        return SW_OK;
    *known = st == SW_OK;
    return st;
}

static sw_status address_remember(store_conn *c, const char *email, const char *addr)
{
    const char *p[] = {email, addr};
    sw_status st = store_query(c, NULL, NULL,
                               "INSERT INTO public.login_known_addresses (email, addr)"
                               " VALUES ($1, $2)"
                               " ON CONFLICT (email, addr) DO UPDATE SET last_login = now()",
                               2, p);
    /* Now and then, forget addresses not used for 90 days; any instance may do it. */
    if (st == SW_OK && (randombytes_random() % 64) == 0)
        store_query(c, NULL, NULL,
                    "DELETE FROM public.login_known_addresses"
                    " WHERE last_login < now() - interval '90 days'",
                    0, NULL);
    return st;
}

/* Login throttles count failures: every attempt takes a hit on its address's bucket
 * ("login:ip:<addr>", IPv6 by /64) and on an account bucket, and a success gives both back.
 * The account bucket is the account-wide one ("login:acct:<email>") unless the account has
 * logged in from this address before; then it is that address's own ("login:acct:<email>:
 * from:<addr>"), so failures from anywhere else never lock the owner out of a known place. */
typedef struct login_buckets {
    char ip[96];
    char acct[400];
} login_buckets;

static sw_status login_throttle(store_conn *c, const actor_app *app, login_buckets *b,
                                const char *email, const char *addr, int *retry_after)
{
    bool known = false;
    snprintf(b->ip, sizeof(b->ip), "login:ip:%s", addr);
    sw_status st = rate_limit_hit(c, b->ip, app->rate_login, retry_after);
    if (st == SW_OK)
        st = address_known(c, email, addr, &known);
    if (st == SW_OK) {
        if (known)
            snprintf(b->acct, sizeof(b->acct), "login:acct:%s:from:%s", email, addr);
        else
            snprintf(b->acct, sizeof(b->acct), "login:acct:%s", email);
        st = rate_limit_hit(c, b->acct, app->rate_login, retry_after);
    }
    return st;
}

sw_status auth_token(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char email[256], addr[72], tag[17], refresh[64], family[40];
    long ttl = 0;
    login_buckets buckets;
    json_t *who = NULL, *user = NULL;
    int retry_after = 0;
    sw_status st;
    const char *email_in = json_string_value(json_object_get(req->body, "email"));
    const char *pw = json_string_value(json_object_get(req->body, "password"));

    if (!email_in || !*email_in)
        bus_reply_field_error(rep, "email", "This field is required.");
    if (!pw || !*pw)
        bus_reply_field_error(rep, "password", "This field is required.");
    if (rep->body)
        return SW_EINVAL;
    bool email_ok = validate_email(email, sizeof(email), email_in);
    if (!email_ok)
        snprintf(email, sizeof(email), "%.200s", email_in); /* still counted per account */
    account_tag(tag, email);
    rate_limit_addr(addr, sizeof(addr), req->client_ip);

    store_conn *c = store_acquire(app->db);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    st = login_throttle(c, app, &buckets, email, addr, &retry_after);
    if (st == SW_ETHROTTLED) {
        st = rate_limit_reply(rep, req, "login", retry_after);
        goto out;
    }
    if (st != SW_OK)
        goto fail;

    const char *pe[] = {email};
    st = email_ok ? store_query_one(c, &who,
                                    "SELECT tenant_id, user_id::text AS user_id"
                                    " FROM public.user_directory WHERE email = $1",
                                    1, pe)
                  : SW_ENOTFOUND;
    const char *stored = NULL, *tenant = NULL, *uid = NULL;
    if (st == SW_OK) {
        tenant = json_string_value(json_object_get(who, "tenant_id"));
        uid = json_string_value(json_object_get(who, "user_id"));
        st = store_tx_begin_tenant(c, tenant);
        if (st == SW_OK) {
            const char *pu[] = {uid};
            st = store_query_one(c, &user,
                                 "SELECT password_hash, role, verified_at IS NOT NULL AS verified"
                                 " FROM users WHERE id = $1::uuid",
                                 1, pu);
            store_tx_rollback(c);
        }
        if (st == SW_OK)
            stored = json_string_value(json_object_get(user, "password_hash"));
    }
    if (st != SW_OK && st != SW_ENOTFOUND)
        goto fail;

    /* Unknown account or wrong password: the same body, and the same Argon2 work. */
    if (!password_verify(stored, pw)) {
        sw_log(SW_LOG_WARN, "security: login failed", "event", "login_failed", "account", tag,
               "client_ip", req->client_ip, NULL);
        if (stored)
            audit_login(c, req, tenant, uid, "login.failed");
        st = bus_reply_error(rep, SW_EUNAUTH, "no_active_account", bad_credentials);
        goto out;
    }
    /* The right password is no failure: both buckets get their hit back. */
    st = rate_limit_refund(c, buckets.ip, app->rate_login);
    if (st == SW_OK)
        st = rate_limit_refund(c, buckets.acct, app->rate_login);
    if (st != SW_OK)
        goto fail;
    if (!json_is_true(json_object_get(user, "verified"))) {
        sw_log(SW_LOG_WARN, "security: login refused, email not verified", "event",
               "login_unverified", "user_id", uid, "client_ip", req->client_ip, NULL);
        st = bus_reply_error(rep, SW_EFORBIDDEN, "email_not_verified",
                             "Email address is not verified. Check your inbox for the link.");
        goto out;
    }
    const char *role = json_string_value(json_object_get(user, "role"));
    st = address_remember(c, email, addr);
    if (st == SW_OK)
        st = refresh_insert(c, refresh, family, &ttl, NULL, NULL, NULL, tenant, uid);
    if (st != SW_OK)
        goto fail;
    st = reply_tokens(rep, app, tenant, uid, role, family, refresh, ttl);
    sodium_memzero(refresh, sizeof(refresh));
    if (st == SW_OK) {
        audit_login(c, req, tenant, uid, "login");
        sw_log(SW_LOG_INFO, "security: login succeeded", "event", "login_success", "user_id", uid,
               "tenant_id", tenant, "client_ip", req->client_ip, NULL);
    }
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(user);
    json_decref(who);
    store_release(app->db, c);
    return st;
}

/* The refresh token from the body, or else from the cookie the edge passed on. */
static const char *presented_refresh(const bus_req *req)
{
    const char *t = json_string_value(json_object_get(req->body, "refresh"));
    if (t && *t)
        return t;
    t = bus_req_header(req, "Sw-Refresh-Cookie");
    return (t && *t) ? t : NULL;
}

sw_status auth_refresh(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char hash[80], refresh[64], family_out[40];
    long ttl = 0;
    json_t *tok = NULL, *user = NULL;
    sw_status st;
    const char *presented = presented_refresh(req);

    if (!presented) {
        bus_reply_field_error(rep, "refresh", "This field is required.");
        return SW_EINVAL;
    }
    if (strlen(presented) > 128)
        return bus_reply_error(rep, SW_EUNAUTH, "token_not_valid", bad_refresh);
    token_hash_bytea(hash, sizeof(hash), presented);
    store_conn *c = store_acquire(app->db);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    st = store_tx_begin(c);
    if (st != SW_OK)
        goto fail;
    const char *ph[] = {hash};
    /* FOR UPDATE: two refreshes racing with one token are serialised; the second sees it used. */
    st = store_query_one(c, &tok,
                         "SELECT family_id::text AS family_id, tenant_id, user_id::text AS user_id,"
                         " used_at IS NOT NULL OR revoked_at IS NOT NULL AS spent,"
                         " expires_at <= now() AS expired,"
                         " floor(extract(epoch FROM expires_at))::bigint::text AS expiry"
                         " FROM public.refresh_tokens WHERE token_hash = $1::bytea FOR UPDATE",
                         1, ph);
    if (st == SW_ENOTFOUND) {
        store_tx_rollback(c);
        st = bus_reply_error(rep, SW_EUNAUTH, "token_not_valid", bad_refresh);
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *family = json_string_value(json_object_get(tok, "family_id"));
    const char *tenant = json_string_value(json_object_get(tok, "tenant_id"));
    const char *uid = json_string_value(json_object_get(tok, "user_id"));
    if (json_is_true(json_object_get(tok, "spent"))) {
        /* Reuse: someone holds a copy of an old token. Every session of this login ends. */
        const char *pf[] = {family};
        st = store_query(c, NULL, NULL,
                         "UPDATE public.refresh_tokens SET revoked_at = now()"
                         " WHERE family_id = $1::uuid AND revoked_at IS NULL",
                         1, pf);
        if (st == SW_OK)
            st = store_tx_commit(c);
        if (st != SW_OK)
            goto fail;
        sw_log(SW_LOG_WARN, "security: refresh token reuse, session family revoked", "event",
               "refresh_reuse", "user_id", uid, "tenant_id", tenant, "client_ip", req->client_ip,
               NULL);
        /* Its access tokens too, at every edge (a failed publish is logged; the refresh
         * tokens are gone either way and the client gets its 401). */
        auth_revoke_session(req, family);
        st = bus_reply_error(rep, SW_EUNAUTH, "token_not_valid", bad_refresh);
        goto out;
    }
    if (json_is_true(json_object_get(tok, "expired"))) {
        store_tx_rollback(c);
        st = bus_reply_error(rep, SW_EUNAUTH, "token_not_valid", bad_refresh);
        goto out;
    }
    st = store_query(
        c, NULL, NULL,
        "UPDATE public.refresh_tokens SET used_at = now() WHERE token_hash = $1::bytea", 1, ph);
    if (st == SW_OK)
        st = refresh_insert(c, refresh, family_out, &ttl, family, hash,
                            json_string_value(json_object_get(tok, "expiry")), tenant, uid);
    if (st == SW_OK)
        st = store_tx_set_tenant(c, tenant);
    if (st == SW_OK) {
        const char *pu[] = {uid};
        st = store_query_one(c, &user, "SELECT role FROM users WHERE id = $1::uuid", 1, pu);
    }
    if (st == SW_ENOTFOUND) { /* the user was removed: the session ends */
        store_tx_rollback(c);
        st = bus_reply_error(rep, SW_EUNAUTH, "token_not_valid", bad_refresh);
        goto out;
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    st = reply_tokens(rep, app, tenant, uid, json_string_value(json_object_get(user, "role")),
                      family, refresh, ttl);
    sodium_memzero(refresh, sizeof(refresh));
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(user);
    json_decref(tok);
    store_release(app->db, c);
    return st;
}

sw_status auth_logout(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char hash[80], family[40] = "";
    json_t *row = NULL;
    const char *presented = presented_refresh(req);

    if (!presented) {
        bus_reply_field_error(rep, "refresh", "This field is required.");
        return SW_EINVAL;
    }
    token_hash_bytea(hash, sizeof(hash), strlen(presented) <= 128 ? presented : "");
    store_conn *c = store_acquire(app->db);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    /* Only the caller's own sessions: the token must belong to the authenticated user. A
     * repeated logout (say, after a 503) finds the family revoked already and publishes the
     * revocation again, so it is safe to retry. */
    const char *p[] = {hash, req->tenant, req->user};
    sw_status st = store_query_one(c, &row,
                                   "WITH f AS (SELECT family_id FROM public.refresh_tokens"
                                   "   WHERE token_hash = $1::bytea AND tenant_id = $2"
                                   "   AND user_id = $3::uuid),"
                                   " r AS (UPDATE public.refresh_tokens SET revoked_at = now()"
                                   "   WHERE family_id = (SELECT family_id FROM f)"
                                   "   AND revoked_at IS NULL)"
                                   " SELECT family_id::text AS family_id FROM f",
                                   3, p);
    store_release(app->db, c);
    if (st == SW_OK)
        snprintf(family, sizeof(family), "%s",
                 json_string_value(json_object_get(row, "family_id")));
    json_decref(row);
    if (st == SW_ENOTFOUND)
        return bus_reply_error(rep, SW_EINVAL, "token_not_valid", bad_refresh);
    if (st != SW_OK)
        return unavailable(rep, st);
    /* The session's access tokens stop working at every edge. */
    st = auth_revoke_session(req, family);
    if (st != SW_OK)
        return unavailable(rep, SW_EUNAVAILABLE);
    sw_log(SW_LOG_INFO, "security: logout", "event", "logout", "user_id", req->user, "client_ip",
           req->client_ip, NULL);
    set_refresh_cookie(rep, app, NULL, 0);
    return SW_RESET_CONTENT;
}

sw_status auth_me(const bus_req *req, bus_reply *rep)
{
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    actor_app *app = req->app;
    json_t *row = NULL;
    char schema[64], sql[1024];
    store_conn *c = store_acquire_tenant(app->db, req->tenant);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    /* One statement on the tenant's schema named outright (the schema from the verified
     * Sw-Tenant header, cached per process): no transaction, no search_path. */
    sw_status st = store_tenant_schema(c, req->tenant, schema, sizeof(schema));
    if (st == SW_OK) {
        snprintf(
            sql, sizeof(sql),
            "SELECT u.id::text AS id, u.email, u.role, u.verified_at IS NOT NULL AS is_verified,"
            " to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            "   AS date_joined,"
            " json_build_object('id', t.id, 'name', t.name, 'slug', t.slug, 'plan', "
            "coalesce(sub.plan, 'free'),"
            "   'domain', (SELECT host FROM public.domains d WHERE d.tenant_id = t.id"
            "              ORDER BY is_primary DESC, host LIMIT 1)) AS tenant,"
            " coalesce(sub.plan, 'free') AS plan"
            " FROM %s.users u JOIN public.tenants t ON t.id = $2"
            " LEFT JOIN public.subscriptions sub ON sub.tenant_id = t.id WHERE u.id = $1::uuid",
            schema);
        const char *p[] = {req->user, req->tenant};
        st = store_query_one(c, &row, sql, 2, p);
        if (st != SW_OK && st != SW_ENOTFOUND)
            store_tenant_schema_forget(req->tenant); /* in case the schema is gone */
    }
    store_release(app->db, c);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH)
        return bus_reply_error(rep, SW_EUNAUTH, "user_not_found", "User not found.");
    if (st != SW_OK)
        return unavailable(rep, st);
    /* The caller's endpoint limit, from the one plan table (null: unlimited). */
    const sw_plan *plan = sw_plan_find(json_string_value(json_object_get(row, "plan")));
    json_object_set_new(row, "endpoint_limit",
                        plan && plan->endpoint_limit >= 0 ? json_integer(plan->endpoint_limit)
                                                          : json_null());
    bus_reply_json(rep, row);
    return SW_OK;
}

sw_status auth_session_reply(bus_reply *rep, store_conn *c, const actor_app *app,
                             const char *tenant, const char *user, const char *role)
{
    char refresh[64], family[40];
    long ttl = 0;
    sw_status st = refresh_insert(c, refresh, family, &ttl, NULL, NULL, NULL, tenant, user);
    if (st == SW_OK)
        st = reply_tokens(rep, app, tenant, user, role, family, refresh, ttl);
    sodium_memzero(refresh, sizeof(refresh));
    return st;
}
