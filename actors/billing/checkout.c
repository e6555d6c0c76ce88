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

#define STRIPE_MAX_RESPONSE (256 * 1024)

typedef struct response {
    char *data;
    size_t len;
} response;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    response *r = arg;
    size_t add = size * n;
    if (r->len + add > STRIPE_MAX_RESPONSE)
        return 0; /* aborts the transfer: no Stripe reply is this large */
    char *d = realloc(r->data, r->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + r->len, p, add);
    r->data = d;
    r->len += add;
    r->data[r->len] = '\0';
    return add;
}

/* A random (version 4) UUID, as Stripe's own libraries use for idempotency keys. */
static void uuid_v4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

/* Appends key=value, both percent-encoded, to the form. */
static bool form_add(CURL *curl, FILE *f, const char *key, const char *value)
{
    char *k = curl_easy_escape(curl, key, 0);
    char *v = curl_easy_escape(curl, value, 0);
    bool ok = k && v;
    if (ok)
        fprintf(f, "%s%s=%s", ftell(f) > 0 ? "&" : "", k, v);
    curl_free(k);
    curl_free(v);
    return ok;
}

/* The form body of DESIGN §7. *out: owned (free). */
static bool build_form(char **out, CURL *curl, const billing_app *app, const char *tenant,
                       const char *email)
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
    bool ok = form_add(curl, f, "mode", "subscription") &&
              form_add(curl, f, "line_items[0][price]", app->price_pro) &&
              form_add(curl, f, "line_items[0][quantity]", "1") &&
              form_add(curl, f, "customer_email", email) &&
              form_add(curl, f, "client_reference_id", tenant) &&
              form_add(curl, f, "metadata[tenant_id]", tenant) &&
              form_add(curl, f, "subscription_data[metadata][tenant_id]", tenant) &&
              form_add(curl, f, "success_url", success) &&
              form_add(curl, f, "cancel_url", cancel);
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
        st = store_query_one(c, row,
                             "SELECT u.email, u.role, t.plan FROM users u"
                             " JOIN public.tenants t ON t.id = $2 WHERE u.id = $1::uuid",
                             2, p);
        store_tx_rollback(c);
    }
    store_release(app->common->db, c);
    return st;
}

/* Logs what Stripe said about a refused request: status and the error's type, code and
 * param (never the message, which may quote what we sent). */
static void log_stripe_error(long http, const response *r)
{
    char code[8];
    json_t *body = r->data ? json_loadb(r->data, r->len, 0, NULL) : NULL;
    json_t *err = json_object_get(body, "error");
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *ecode = json_string_value(json_object_get(err, "code"));
    const char *param = json_string_value(json_object_get(err, "param"));
    snprintf(code, sizeof(code), "%ld", http);
    sw_log(SW_LOG_WARN, "Stripe refused the checkout session", "http_status", code, "type",
           type ? type : "", "code", ecode ? ecode : "", "param", param ? param : "", NULL);
    json_decref(body);
}

sw_status billing_checkout(const bus_req *req, bus_reply *rep)
{
    billing_app *app = req->app;
    json_t *caller = NULL, *session = NULL;
    char *form = NULL, auth[512], idem[37], idem_h[64], url[400], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL;
    response resp = {0};
    CURL *curl = NULL;
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

    curl = curl_easy_init();
    if (!curl || !build_form(&form, curl, app, req->tenant,
                             json_string_value(json_object_get(caller, "email")))) {
        st = bus_reply_error(rep, SW_EINTERNAL, NULL, NULL);
        goto out;
    }
    uuid_v4(idem);
    snprintf(idem_h, sizeof(idem_h), "Idempotency-Key: %s", idem);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", app->secret_key);
    snprintf(url, sizeof(url), "%s/v1/checkout/sessions", app->api_base);
    headers = curl_slist_append(headers, auth);
    sodium_memzero(auth, sizeof(auth));
    headers = curl_slist_append(headers, idem_h);
    headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Stripe-Version: 2024-06-20");
    headers = curl_slist_append(headers, "Expect:");
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, app->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, app->total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "StatusWatch/0.1 sw-billing");

    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        /* The curl error text names the host at most; the key is only in a header. */
        sw_log(SW_LOG_WARN, "Stripe unreachable", "curl", curl_easy_strerror(rc), "detail",
               errbuf, "idempotency_key", idem, NULL);
        bus_reply_header(rep, "Retry-After", "30");
        st = bus_reply_error(rep, SW_EUNAVAILABLE, "payment_provider_unavailable",
                             "The payment provider could not be reached. Try again shortly.");
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
    if (http < 200 || http >= 300) {
        log_stripe_error(http, &resp);
        st = bus_reply_error(rep, SW_EUPSTREAM, "payment_provider_error",
                             "The payment provider could not start a checkout. Try again "
                             "later.");
        goto out;
    }
    session = resp.data ? json_loadb(resp.data, resp.len, 0, NULL) : NULL;
    const char *session_url = json_string_value(json_object_get(session, "url"));
    const char *session_id = json_string_value(json_object_get(session, "id"));
    if (!session_url || (strncmp(session_url, "https://", 8) != 0 &&
                         strncmp(session_url, "http://", 7) != 0)) {
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
    curl_slist_free_all(headers); /* holds the Authorization line */
    curl_easy_cleanup(curl);
    free(form);
    free(resp.data);
    return st;
}
