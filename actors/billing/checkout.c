/* POST /api/billing/create-checkout-session/: the owner of a Free organization gets the URL
 * of a Stripe Checkout Session for the Pro price. The call to Stripe is form-encoded exactly
 * as DESIGN §7 lists it, carries an Idempotency-Key, has hard timeouts and no proxy, and its
 * failures become a clean 502 (Stripe said no) or 503 (Stripe unreachable or slow). The
 * secret key goes into one header and nowhere else: not a log line, not a reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <sodium.h>

#include "actors/billing/billing.h"
#include "bus/log.h"

/* A random (version 4) UUID, as Stripe's own libraries use for idempotency keys. */
static void uuid_v4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Appends key=value, both percent-encoded, to the form. */
static bool form_add(FILE *f, const char *key, const char *value)
{
    char *k = curl_easy_escape(NULL, key, 0); /* no handle needed since curl 7.82 */
    char *v = curl_easy_escape(NULL, value, 0);
    bool ok = k && v;
    if (ok)
        fprintf(f, "%s%s=%s", ftell(f) > 0 ? "&" : "", k, v);
    curl_free(k);
    curl_free(v);
    return ok;
}

/* The form body of DESIGN §7. *out: owned (free). */
static bool build_form(char **out, const billing_app *app, const char *tenant, const char *email)
{
    char success[600], cancel[600];
    size_t len = 0;
    const char *front = app->common->frontend_url;
    size_t fl = strlen(front);
    while (fl && front[fl - 1] == '/')
        fl--;
    snprintf(success, sizeof(success), "%.*s/billing/success?session_id={CHECKOUT_SESSION_ID}",
             (int)fl, front);
    snprintf(cancel, sizeof(cancel), "%.*s/billing", (int)fl, front);
    FILE *f = open_memstream(out, &len);
    if (!f)
        return false;
    bool ok = form_add(f, "mode", "subscription") &&
              form_add(f, "line_items[0][price]", app->price_pro) &&
              form_add(f, "line_items[0][quantity]", "1") && form_add(f, "customer_email", email) &&
              form_add(f, "client_reference_id", tenant) &&
              form_add(f, "metadata[tenant_id]", tenant) &&
              form_add(f, "subscription_data[metadata][tenant_id]", tenant) &&
              form_add(f, "success_url", success) && form_add(f, "cancel_url", cancel);
    fclose(f);
    if (!ok) {
        free(*out);
        *out = NULL;
    }
    return ok;
}

/* The tenant's plan and the caller's email and role, from the database. */
static sw_status load_caller(const billing_app *app, const bus_req *req, json_t **row)
{
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return SW_EUNAVAILABLE;
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_OK) {
        const char *p[] = {req->user, req->tenant};
        st = store_query_one(
            c, row,
            "SELECT u.email, u.role, coalesce(sub.plan, 'free') AS plan FROM users u"
            " LEFT JOIN public.subscriptions sub ON sub.tenant_id = $2"
            " WHERE u.id = $1::uuid",
            2, p);
        store_tx_rollback(c);
    }
    store_release(app->common->db, c);
    return st;
}

sw_status billing_checkout(const bus_req *req, bus_reply *rep)
{
    billing_app *app = req->app;
    json_t *caller = NULL, *session = NULL;
    char *form = NULL, idem[37];
    sw_status st;
    long http = 0;

    if (!req->tenant || !req->user || !req->role || strcmp(req->role, "owner") != 0)
        return bus_reply_error(rep, SW_EFORBIDDEN, "owner_required",
                               "Only the organization's owner can change its plan.");
    st = load_caller(app, req, &caller);
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH)
        return bus_reply_error(rep, SW_EFORBIDDEN, "owner_required",
                               "Only the organization's owner can change its plan.");
    if (st != SW_OK)
        return bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
    /* The token's role may be older than a change of owner: the database has the last word. */
    if (strcmp(json_string_value(json_object_get(caller, "role")), "owner") != 0) {
        st = bus_reply_error(rep, SW_EFORBIDDEN, "owner_required",
                             "Only the organization's owner can change its plan.");
        goto out;
    }
    if (strcmp(json_string_value(json_object_get(caller, "plan")), "pro") == 0) {
        st = bus_reply_error(rep, SW_EINVAL, "already_pro",
                             "This organization is already on the Pro plan.");
        goto out;
    }
    if (!app->secret_key || !*app->secret_key || !app->price_pro || !*app->price_pro) {
        sw_log(SW_LOG_ERROR, "checkout unavailable: Stripe is not configured", NULL);
        st = bus_reply_error(rep, SW_EUNAVAILABLE, "billing_unavailable",
                             "Billing is not available right now. Try again later.");
        goto out;
    }

    if (!build_form(&form, app, req->tenant, json_string_value(json_object_get(caller, "email")))) {
        st = bus_reply_error(rep, SW_EINTERNAL, NULL, NULL);
        goto out;
    }
    uuid_v4(idem);
    st = billing_stripe_call(app, "/v1/checkout/sessions", form, idem, &http, &session);
    if (st != SW_OK) {
        bus_reply_header(rep, "Retry-After", "30");
        st = bus_reply_error(rep, SW_EUNAVAILABLE, "payment_provider_unavailable",
                             "The payment provider could not be reached. Try again shortly.");
        goto out;
    }
    if (http < 200 || http >= 300) {
        billing_stripe_log_error("Stripe refused the checkout session", http, session);
        st = bus_reply_error(rep, SW_EUPSTREAM, "payment_provider_error",
                             "The payment provider could not start a checkout. Try again "
                             "later.");
        goto out;
    }
    const char *session_url = json_string_value(json_object_get(session, "url"));
    const char *session_id = json_string_value(json_object_get(session, "id"));
    if (!session_url ||
        (strncmp(session_url, "https://", 8) != 0 && strncmp(session_url, "http://", 7) != 0)) {
        sw_log(SW_LOG_WARN, "Stripe answered without a checkout URL", NULL);
        st = bus_reply_error(rep, SW_EUPSTREAM, "payment_provider_error",
                             "The payment provider could not start a checkout. Try again "
                             "later.");
        goto out;
    }
    sw_log(SW_LOG_INFO, "checkout session created", "session", session_id ? session_id : "",
           "idempotency_key", idem, NULL);
    bus_reply_json(rep, json_pack("{s:s}", "url", session_url));
    st = SW_OK;
out:
    json_decref(session);
    json_decref(caller);
    free(form);
    return st;
}
