/* POST /api/auth/register/: a new organization with its owner. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/mail.h"
#include "actors/common/password.h"
#include "actors/common/ratelimit.h"
#include "actors/common/tenant.h"
#include "actors/common/validate.h"
#include "bus/config.h"
#include "bus/log.h"
#include "store/migrate.h"

static const char *required = "This field is required.";

/* Reads a string field; records "required" / "not a string" errors. Returns NULL then. */
static const char *field(const bus_req *req, bus_reply *rep, const char *name)
{
    json_t *v = json_object_get(req->body, name);
    if (!v || json_is_null(v)) {
        bus_reply_field_error(rep, name, required);
        return NULL;
    }
    if (!json_is_string(v)) {
        bus_reply_field_error(rep, name, "Not a valid string.");
        return NULL;
    }
    if (json_string_length(v) == 0) {
        bus_reply_field_error(rep, name, "This field may not be blank.");
        return NULL;
    }
    return json_string_value(v);
}

void *auth_app_init(bus_actor *a, sw_status *err)
{
    actor_app *app = actor_app_init(a, err);
    if (app && !app->have_jwt_key) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SECRET_KEY", "reason",
               "SECRET_KEY must be set to at least 32 bytes to sign tokens", NULL);
        actor_app_free(app);
        *err = SW_EINVAL;
        return NULL;
    }
    return app;
}

sw_status auth_send_verification(const bus_req *req, const char *email, const char *org,
                                 const char *tenant_id, const char *token)
{
    actor_app *app = req->app;
    char link[1024], msg_id[96], hash[80];
    /* The link carries "<tenant>.<secret>" so verification knows which schema to look in. */
    snprintf(link, sizeof(link), "%s/verify-email?token=%s.%s", app->frontend_url, tenant_id,
             token);
    token_hash_bytea(hash, sizeof(hash), token);
    snprintf(msg_id, sizeof(msg_id), "verify:%.40s", hash + 2);
    json_t *vars = json_pack("{s:s,s:s,s:i}", "organization", org, "link", link,
                             "expires_hours", 48);
    sw_status st = mail_enqueue(bus_actor_js(req->actor), "verify_email", email, vars, msg_id,
                                req->request_id);
    json_decref(vars);
    sodium_memzero(link, sizeof(link));
    return st;
}

sw_status auth_register(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    store_conn *c = NULL;
    char key[96], addr[72], org[256], email[256], hash[PASSWORD_HASH_LEN], token[64], token_hash[80];
    tenant_created made;
    int retry_after = 0;
    sw_status st;

    c = store_acquire(app->db);
    if (!c)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);

    /* Every attempt counts, valid or not, as the original system's throttle did. */
    rate_limit_addr(addr, sizeof(addr), req->client_ip); /* IPv6 by /64 */
    snprintf(key, sizeof(key), "register:ip:%s", addr);
    st = rate_limit_hit(c, key, app->rate_register, &retry_after);
    if (st == SW_ETHROTTLED) {
        st = rate_limit_reply(rep, req, "register", retry_after);
        goto out;
    }
    if (st != SW_OK) {
        st = bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
        goto out;
    }

    const char *org_in = field(req, rep, "organization_name");
    const char *email_in = field(req, rep, "email");
    const char *pw = field(req, rep, "password");
    const char *pw2 = field(req, rep, "password_confirm");
    if (org_in && !validate_name(org, sizeof(org), org_in, 100))
        bus_reply_field_error(rep, "organization_name",
                              "Enter an organization name of 1 to 100 characters.");
    if (email_in && !validate_email(email, sizeof(email), email_in))
        bus_reply_field_error(rep, "email", "Enter a valid email address.");
    if (pw) {
        json_t *errs = json_array(), *m;
        size_t i;
        password_check(pw, email_in ? email : NULL, errs);
        json_array_foreach(errs, i, m) bus_reply_field_error(rep, "password", json_string_value(m));
        json_decref(errs);
    }
    if (pw && pw2 && strcmp(pw, pw2) != 0)
        bus_reply_field_error(rep, "password_confirm", "Passwords do not match.");
    if (rep->body) {
        st = SW_EINVAL;
        goto out;
    }

    if (!password_hash(hash, pw)) {
        st = bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
        goto out;
    }
    token_new(token, sizeof(token));
    token_hash_bytea(token_hash, sizeof(token_hash), token);
    tenant_new in = {.name = org,
                     .email = email,
                     .password_hash = hash,
                     .domain_base = app->tenant_domain,
                     .token_hash = token_hash};
    st = tenant_create(c, &in, store_tenant_migrations, store_tenant_migrations_len, &made);
    if (st == SW_ECONFLICT) {
        bus_reply_field_error(rep, "email", "A user with this email already exists.");
        st = SW_EINVAL;
        goto out;
    }
    if (st != SW_OK) {
        st = bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL,
                             NULL);
        goto out;
    }
    sw_log(SW_LOG_INFO, "security: organization registered", "event", "register",
           "tenant_id", made.tenant_id, "user_id", made.user_id, "client_ip", req->client_ip,
           NULL);

    /* After commit, never inside the transaction. If the publish fails the account stands and
     * "resend verification" sends a fresh link. */
    bool mailed = auth_send_verification(req, email, org, made.tenant_id, token) == SW_OK;
    if (!mailed)
        sw_log(SW_LOG_ERROR, "verification email not queued", "tenant_id", made.tenant_id,
               NULL);

    json_t *body = json_pack(
        "{s:s,s:{s:s,s:s,s:s,s:b},s:{s:s,s:s,s:s,s:s,s:s}}", "detail",
        mailed ? "Account created. Check your email to verify your address."
               : "Account created. The verification email is delayed; request a new one "
                 "from the login page if it does not arrive.",
        "user", "id", made.user_id, "email", email, "role", "owner", "is_verified", 0, "tenant",
        "id", made.tenant_id, "name", org, "slug", made.slug, "domain", made.domain, "plan",
        "free");
    bus_reply_json(rep, body);
    st = SW_CREATED;
out:
    sodium_memzero(token, sizeof(token));
    store_release(app->db, c);
    return st;
}
