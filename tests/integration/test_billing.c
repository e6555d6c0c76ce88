/* Billing through the real edge, against the Stripe test double that ops/sw runs
 * (tests/fakes/stripe_fake.py): the plans; the Checkout Session request exactly as the double
 * received it; paying on the hosted page makes the organization Pro; owner only; webhook
 * signatures (missing, wrong secret, stale, tampered, v0 only); replayed and out-of-order
 * events; a downgrade pauses the endpoints past the Free limit and deletes none; a failed
 * payment mails the owner; Stripe unreachable is a quick 503. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>

#include "bus/jwt.h"

typedef struct owner {
    char email[160];
    char *tenant;
    char auth[4200]; /* "Authorization: Bearer <access>" */
} owner;

static void owner_new(owner *o, const char *org)
{
    o->tenant = it_signup_verified(o->email, sizeof(o->email), org);
    it_resp *r = it_login(o->email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    snprintf(o->auth, sizeof(o->auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
}

static void owner_free(owner *o)
{
    free(o->tenant);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set: run through `ops/sw test` (Stripe test mode)", name);
    return v;
}

/* A column of the tenant's row in sw-billing's public.subscriptions ("plan" is "free" without
 * a row, as every reader takes it); owned, NULL when unset. */
static char *tenant_col(const char *tenant, const char *col)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "SELECT %s%s%s AS v FROM public.tenants t"
             " LEFT JOIN public.subscriptions s ON s.tenant_id = t.id WHERE t.id = $1",
             strcmp(col, "plan") == 0 ? "coalesce(s." : "s.", col,
             strcmp(col, "plan") == 0 ? ", 'free')" : "");
    const char *p[] = {tenant};
    json_t *rows = it_sql(sql, 1, p);
    const char *v = json_string_value(json_object_get(json_array_get(rows, 0), "v"));
    char *out = v ? strdup(v) : NULL;
    json_decref(rows);
    return out;
}

static void assert_plan(const char *tenant, const char *plan)
{
    char *v = tenant_col(tenant, "plan");
    assert_non_null(v);
    assert_string_equal(v, plan);
    free(v);
}

/* POST /api/endpoints/ with url; the status (404 while the endpoints API is not routed). */
static long create_endpoint(const owner *o, const char *url)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"url\": \"%s\"}", url);
    it_resp *r =
        it_http("POST", "/api/endpoints/", body, "Content-Type: application/json", o->auth, NULL);
    long st = r->status;
    it_resp_free(r);
    return st;
}

static it_resp *checkout(const owner *o)
{
    return it_http("POST", "/api/billing/create-checkout-session/", "{}",
                   "Content-Type: application/json", o->auth, NULL);
}

/* ---------------------------------------------------------------- the Stripe double */

typedef struct fbuf {
    char *data;
    size_t len;
} fbuf;

static size_t fcollect(char *p, size_t size, size_t n, void *arg)
{
    fbuf *b = arg;
    size_t add = size * n;
    b->data = realloc(b->data, b->len + add + 1);
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* A request to the double (url absolute, or a path under STRIPE_API_BASE); no redirects
 * followed. Returns the body (owned); *status and, when asked, the Location header. */
static char *fake(const char *method, const char *url_or_path, const char *body, long *status,
                  char *location, size_t loclen)
{
    char url[600];
    fbuf rb = {0};
    if (strncmp(url_or_path, "http", 4) == 0)
        snprintf(url, sizeof(url), "%s", url_or_path);
    else
        snprintf(url, sizeof(url), "%s%s", env("STRIPE_API_BASE"), url_or_path);
    CURL *c = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fcollect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (location) {
        char *loc = NULL;
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
        snprintf(location, loclen, "%s", loc ? loc : "");
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    return rb.data ? rb.data : strdup("");
}

/* Asks the double to sign and deliver an event; returns the webhook's HTTP status. */
static long fake_send_event(json_t *event /* stolen */)
{
    char *text = json_dumps(event, JSON_COMPACT);
    long st = 0;
    json_decref(event);
    char *out = fake("POST", "/__send_event", text, &st, NULL, 0);
    assert_int_equal(st, 200);
    json_t *o = json_loads(out, 0, NULL);
    long webhook = (long)json_integer_value(json_object_get(o, "status"));
    json_decref(o);
    free(out);
    free(text);
    return webhook;
}

/* ---------------------------------------------------------------- signed webhooks */

static void random_id(char *out, size_t len, const char *prefix)
{
    unsigned char b[10];
    char hex[21];
    randombytes_buf(b, sizeof(b));
    sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
    snprintf(out, len, "%s%s", prefix, hex);
}

/* hex HMAC-SHA256 of "<t>.<body>" keyed with secret: computed here independently of the
 * actor's code. */
static void hmac_hex(char out[65], long t, const char *body, const char *secret)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char prefix[32];
    crypto_auth_hmacsha256_state st;
    snprintf(prefix, sizeof(prefix), "%ld.", t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, strlen(prefix));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof(mac));
}

/* An event body: {"id","object":"event","type","created","data":{"object":obj}}. */
static char *event_body(const char *id, const char *type, long created, json_t *obj /* stolen */)
{
    json_t *e =
        json_pack("{s:s,s:s,s:s,s:I,s:b,s:{s:o}}", "id", id, "object", "event", "type", type,
                  "created", (json_int_t)created, "livemode", 0, "data", "object", obj);
    char *text = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return text;
}

/* POSTs body to the webhook with the given Stripe-Signature (NULL: no header). */
static long post_webhook(const char *body, const char *sig)
{
    char h[400];
    it_resp *r;
    if (sig) {
        snprintf(h, sizeof(h), "Stripe-Signature: %s", sig);
        r = it_http("POST", "/api/billing/webhook/", body, "Content-Type: application/json", h,
                    NULL);
    } else {
        r = it_http("POST", "/api/billing/webhook/", body, "Content-Type: application/json", NULL);
    }
    long st = r->status;
    if (st == 200)
        assert_true(json_is_true(json_object_get(r->body, "received")));
    it_resp_free(r);
    return st;
}

static long post_signed(const char *body)
{
    char sig[65], h[200];
    long t = (long)time(NULL);
    hmac_hex(sig, t, body, env("STRIPE_WEBHOOK_SECRET"));
    snprintf(h, sizeof(h), "t=%ld,v1=%s", t, sig);
    return post_webhook(body, h);
}

static long stripe_events(const char *id)
{
    const char *p[] = {id};
    return it_sql_long("SELECT count(*) FROM public.stripe_events WHERE id = $1", 1, p);
}

/* A Checkout Session for price created at the double through its API, as sw-billing creates
 * them (so the double can answer for its line items); its id goes into out. */
static void fake_session(char *out, size_t len, const char *tenant, const char *price)
{
    char form[600], bearer[300], url[300];
    fbuf rb = {0};
    long status = 0;
    snprintf(form, sizeof(form),
             "mode=subscription&line_items%%5B0%%5D%%5Bprice%%5D=%s&line_items%%5B0%%5D%%5B"
             "quantity%%5D=1&client_reference_id=%s&metadata%%5Btenant_id%%5D=%s"
             "&success_url=http%%3A%%2F%%2F127.0.0.1%%2Fok&cancel_url=http%%3A%%2F%%2F127.0.0.1",
             price, tenant, tenant);
    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", env("STRIPE_SECRET_KEY"));
    snprintf(url, sizeof(url), "%s/v1/checkout/sessions", env("STRIPE_API_BASE"));
    CURL *c = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, bearer);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fcollect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    json_t *o = json_loads(rb.data, 0, NULL);
    snprintf(out, len, "%s", json_string_value(json_object_get(o, "id")));
    json_decref(o);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    free(rb.data);
}

/* A checkout.session object as Stripe sends it in events, for session sid. */
static json_t *session_obj(const char *sid, const char *tenant, const char *cus, const char *sub,
                           const char *payment_status)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s},s:I,s:s}", "id", sid, "object",
                     "checkout.session", "mode", "subscription", "status", "complete",
                     "payment_status", payment_status, "customer", cus, "subscription", sub,
                     "client_reference_id", tenant, "metadata", "tenant_id", tenant, "amount_total",
                     (json_int_t)1900, "currency", "usd");
}

/* checkout.session.completed (paid, Pro price) for the tenant, signed by the test, created at
 * `created`. */
static void complete_checkout(const char *tenant, const char *cus, const char *sub, long created)
{
    char id[64], sid[120];
    random_id(id, sizeof(id), "evt_test_");
    fake_session(sid, sizeof(sid), tenant, env("STRIPE_PRICE_PRO"));
    char *body = event_body(id, "checkout.session.completed", created,
                            session_obj(sid, tenant, cus, sub, "paid"));
    assert_int_equal(post_signed(body), 200);
    free(body);
    assert_plan(tenant, "pro");
}

static json_t *subscription(const char *sub, const char *cus, const char *tenant,
                            const char *status)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:{s:[{s:{s:s}}]}}", "id", sub, "object",
                     "subscription", "customer", cus, "status", status, "metadata", "tenant_id",
                     tenant, "items", "data", "price", "id", env("STRIPE_PRICE_PRO"));
}

/* ---------------------------------------------------------------- tests */

static void test_plans(void **state)
{
    it_resp *r = it_http("GET", "/api/billing/plans/", NULL, NULL);
    assert_int_equal(r->status, 200);
    json_t *plans = json_object_get(r->body, "plans");
    assert_int_equal(json_array_size(plans), 2);
    json_t *free_p = json_array_get(plans, 0), *pro = json_array_get(plans, 1);
    assert_string_equal(json_string_value(json_object_get(free_p, "id")), "free");
    assert_int_equal(json_integer_value(json_object_get(free_p, "endpoint_limit")), 3);
    assert_int_equal(json_integer_value(json_object_get(free_p, "history_days")), 7);
    assert_string_equal(json_string_value(json_object_get(pro, "id")), "pro");
    assert_true(json_is_null(json_object_get(pro, "endpoint_limit"))); /* unlimited */
    assert_int_equal(json_integer_value(json_object_get(pro, "history_days")), 90);
    assert_true(json_is_true(json_object_get(pro, "multi_region")));
    assert_true(json_array_size(json_object_get(pro, "features")) >= 3);
    assert_null(json_object_get(free_p, "current")); /* public: nobody's plan in it */
    it_resp_free(r);
}

/* The request as the double received it: exactly DESIGN §7's fields. */
static void assert_checkout_request(const owner *o)
{
    long st = 0;
    char *out = fake("GET", "/__requests", NULL, &st, NULL, 0);
    assert_int_equal(st, 200);
    json_t *root = json_loads(out, 0, NULL);
    json_t *all = json_object_get(root, "requests");
    json_t *req = NULL, *r;
    size_t i;
    json_array_foreach(all, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), "/v1/checkout/sessions") == 0)
            req = r; /* the last one */
    }
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "method")), "POST");

    char success[400], cancel[400], bearer[200];
    const char *front = env("FRONTEND_URL");
    snprintf(success, sizeof(success), "%s/billing/success?session_id={CHECKOUT_SESSION_ID}",
             front);
    snprintf(cancel, sizeof(cancel), "%s/billing", front);
    const char *want[][2] = {
        {"mode", "subscription"},
        {"line_items[0][price]", env("STRIPE_PRICE_PRO")},
        {"line_items[0][quantity]", "1"},
        {"customer_email", o->email},
        {"client_reference_id", o->tenant},
        {"metadata[tenant_id]", o->tenant},
        {"subscription_data[metadata][tenant_id]", o->tenant},
        {"success_url", success},
        {"cancel_url", cancel},
    };
    json_t *form = json_object_get(req, "form");
    assert_int_equal(json_array_size(form), ARRAY_LEN(want));
    for (size_t k = 0; k < ARRAY_LEN(want); k++) {
        bool found = false;
        json_array_foreach(form, i, r)
        {
            if (strcmp(json_string_value(json_array_get(r, 0)), want[k][0]) == 0) {
                assert_string_equal(json_string_value(json_array_get(r, 1)), want[k][1]);
                found = true;
            }
        }
        if (!found)
            fail_msg("form field %s missing", want[k][0]);
    }
    json_t *headers = json_object_get(req, "headers");
    snprintf(bearer, sizeof(bearer), "Bearer %s", env("STRIPE_SECRET_KEY"));
    assert_string_equal(json_string_value(json_object_get(headers, "Authorization")), bearer);
    const char *idem = json_string_value(json_object_get(headers, "Idempotency-Key"));
    assert_non_null(idem);
    /* A version 4 UUID. */
    assert_int_equal(strlen(idem), 36);
    assert_true(idem[8] == '-' && idem[13] == '-' && idem[14] == '4' && idem[18] == '-' &&
                idem[23] == '-' && strchr("89ab", idem[19]));
    assert_non_null(strstr(json_string_value(json_object_get(headers, "Content-Type")),
                           "application/x-www-form-urlencoded"));
    json_decref(root);
    free(out);
}

static void test_checkout_and_pay(void **state)
{
    owner o;
    char location[600], want[600];
    long st = 0;
    owner_new(&o, "Billing Co");

    it_resp *me = it_http("GET", "/api/auth/me/", NULL, o.auth, NULL);
    assert_string_equal(json_string_value(json_object_get(me->body, "plan")), "free");
    assert_int_equal(json_integer_value(json_object_get(me->body, "endpoint_limit")), 3);
    it_resp_free(me);
    /* Free: three endpoints, not a fourth (when the endpoints API is there). */
    bool have_api = create_endpoint(&o, "http://1.1.1.1/billing/0") == 201;
    if (have_api) {
        assert_int_equal(create_endpoint(&o, "http://1.1.1.1/billing/1"), 201);
        assert_int_equal(create_endpoint(&o, "http://1.1.1.1/billing/2"), 201);
        assert_int_equal(create_endpoint(&o, "http://1.1.1.1/billing/3"), 403);
    }

    it_resp *r = checkout(&o);
    assert_int_equal(r->status, 200);
    const char *url = json_string_value(json_object_get(r->body, "url"));
    assert_non_null(url);
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s/checkout/cs_test_", env("STRIPE_API_BASE"));
    assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
    assert_int_equal(json_object_size(r->body), 1);
    assert_null(strstr(r->raw, env("STRIPE_SECRET_KEY")));
    assert_checkout_request(&o);

    /* The hosted page: a form with a Pay button and no script. */
    char *page = fake("GET", url, NULL, &st, NULL, 0);
    assert_int_equal(st, 200);
    assert_non_null(strstr(page, "<form method=\"post\""));
    assert_non_null(strstr(page, ">Pay<"));
    assert_null(strstr(page, "<script"));
    free(page);

    /* Pay: the double signs checkout.session.completed to the edge, then redirects. */
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/pay", url);
    free(fake("POST", pay, "", &st, location, sizeof(location)));
    assert_int_equal(st, 303);
    snprintf(want, sizeof(want), "%s/billing/success?session_id=%s", env("FRONTEND_URL"),
             strrchr(url, '/') + 1);
    assert_string_equal(location, want);

    me = it_http("GET", "/api/auth/me/", NULL, o.auth, NULL);
    assert_int_equal(me->status, 200);
    assert_string_equal(json_string_value(json_object_get(me->body, "plan")), "pro");
    assert_true(json_is_null(json_object_get(me->body, "endpoint_limit"))); /* lifted */
    it_resp_free(me);
    if (have_api)
        assert_int_equal(create_endpoint(&o, "http://1.1.1.1/billing/3"), 201);
    char *cus = tenant_col(o.tenant, "stripe_customer_id");
    char *sub = tenant_col(o.tenant, "stripe_subscription_id");
    assert_true(cus && strncmp(cus, "cus_", 4) == 0);
    assert_true(sub && strncmp(sub, "sub_", 4) == 0);
    free(cus);
    free(sub);
    const char *p[] = {o.tenant};
    assert_int_equal(it_sql_long("SELECT count(*) FROM public.stripe_events WHERE tenant_id = $1"
                                 " AND type = 'checkout.session.completed'",
                                 1, p),
                     1);

    /* Already Pro: no second subscription. */
    it_resp_free(r);
    r = checkout(&o);
    assert_int_equal(r->status, 400);
    assert_string_equal(json_string_value(json_object_get(r->body, "code")), "already_pro");
    it_resp_free(r);

    /* The secret key and the webhook secret appear in no log of the instance. */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "grep -rqF -e '%s' -e '%s' %s/log/", env("STRIPE_SECRET_KEY"),
             env("STRIPE_WEBHOOK_SECRET"), env("SW_VAR"));
    assert_int_not_equal(system(cmd), 0);
    owner_free(&o);
}

static void test_checkout_owner_only(void **state)
{
    owner o;
    owner_new(&o, "Members Co");
    /* No token at all. */
    it_resp *r = it_http("POST", "/api/billing/create-checkout-session/", "{}",
                         "Content-Type: application/json", NULL);
    assert_int_equal(r->status, 401);
    it_resp_free(r);

    /* A member of the organization with a valid access token. */
    char sql[300], email[160];
    snprintf(email, sizeof(email), "%s", it_fresh_email("member"));
    snprintf(sql, sizeof(sql),
             "INSERT INTO \"%s\".users (email, password_hash, role, verified_at)"
             " VALUES ($1, 'x', 'member', now()) RETURNING id::text AS id",
             o.tenant);
    const char *p[] = {email};
    json_t *rows = it_sql(sql, 1, p);
    const char *uid = json_string_value(json_object_get(json_array_get(rows, 0), "id"));
    unsigned char key[SW_JWT_KEY_BYTES];
    sw_jwt_claims claims = {0};
    char *token = NULL, auth[4200];
    sw_jwt_derive_key(key, env("SECRET_KEY"));
    snprintf(claims.tenant, sizeof(claims.tenant), "%s", o.tenant);
    snprintf(claims.user, sizeof(claims.user), "%s", uid);
    snprintf(claims.role, sizeof(claims.role), "member");
    assert_int_equal(sw_jwt_issue(&token, &claims, key, (int64_t)time(NULL)), SW_OK);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    r = it_http("POST", "/api/billing/create-checkout-session/", "{}",
                "Content-Type: application/json", auth, NULL);
    assert_int_equal(r->status, 403);
    assert_non_null(json_object_get(r->body, "detail"));
    it_resp_free(r);
    assert_plan(o.tenant, "free");
    free(token);
    json_decref(rows);
    owner_free(&o);
}

static void test_webhook_signatures(void **state)
{
    owner o;
    char id[64], sig[65], h[400], other[65], sid[120];
    owner_new(&o, "Signed Co");
    random_id(id, sizeof(id), "evt_test_");
    long now = (long)time(NULL);
    fake_session(sid, sizeof(sid), o.tenant, env("STRIPE_PRICE_PRO"));
    char *body = event_body(id, "checkout.session.completed", now,
                            session_obj(sid, o.tenant, "cus_sig", "sub_sig", "paid"));
    const char *secret = env("STRIPE_WEBHOOK_SECRET");

    /* Missing header. */
    assert_int_equal(post_webhook(body, NULL), 400);
    /* Signed with another secret. */
    hmac_hex(sig, now, body, "whsec_not_the_right_one");
    snprintf(h, sizeof(h), "t=%ld,v1=%s", now, sig);
    assert_int_equal(post_webhook(body, h), 400);
    /* Stale: correctly signed 400 s ago. */
    hmac_hex(sig, now - 400, body, secret);
    snprintf(h, sizeof(h), "t=%ld,v1=%s", now - 400, sig);
    assert_int_equal(post_webhook(body, h), 400);
    /* Tampered: the signature of another body. */
    hmac_hex(sig, now, "{\"id\":\"evt_other\"}", secret);
    snprintf(h, sizeof(h), "t=%ld,v1=%s", now, sig);
    assert_int_equal(post_webhook(body, h), 400);
    /* The right HMAC, but only as v0. */
    hmac_hex(sig, now, body, secret);
    snprintf(h, sizeof(h), "t=%ld,v0=%s", now, sig);
    assert_int_equal(post_webhook(body, h), 400);
    /* Malformed. */
    assert_int_equal(post_webhook(body, "nonsense"), 400);
    /* Nothing changed, nothing recorded. */
    assert_plan(o.tenant, "free");
    assert_int_equal(stripe_events(id), 0);

    /* Two v1 (a secret roll), one of them right: applied. */
    hmac_hex(other, now, body, "whsec_old_secret");
    snprintf(h, sizeof(h), "t=%ld,v1=%s,v1=%s,v0=%s", now, other, sig, other);
    assert_int_equal(post_webhook(body, h), 200);
    assert_plan(o.tenant, "pro");
    assert_int_equal(stripe_events(id), 1);

    /* Replayed (a fresh, valid signature on the same event): 200 and no effect. */
    const char *p[] = {o.tenant};
    json_decref(it_sql("UPDATE public.subscriptions SET stripe_customer_id = 'cus_moved'"
                       " WHERE tenant_id = $1",
                       1, p));
    assert_int_equal(post_signed(body), 200);
    char *cus = tenant_col(o.tenant, "stripe_customer_id");
    assert_string_equal(cus, "cus_moved");
    assert_int_equal(stripe_events(id), 1);
    free(cus);
    free(body);
    owner_free(&o);
}

/* Pro only for a paid (or no-payment-required) checkout of the Pro price; a delayed payment
 * waits for async_payment_succeeded, and async_payment_failed tells the owner. */
static void test_checkout_must_be_paid_for_pro(void **state)
{
    owner o;
    char id[64], sid[120], other[120];
    owner_new(&o, "Paid Co");
    long now = (long)time(NULL);

    /* Completed but unpaid (a bank debit under way): recorded, still Free. */
    fake_session(sid, sizeof(sid), o.tenant, env("STRIPE_PRICE_PRO"));
    random_id(id, sizeof(id), "evt_test_");
    char *body = event_body(id, "checkout.session.completed", now,
                            session_obj(sid, o.tenant, "cus_async", "sub_async", "unpaid"));
    assert_int_equal(post_signed(body), 200);
    free(body);
    assert_int_equal(stripe_events(id), 1);
    assert_plan(o.tenant, "free");
    /* The debit fails: still Free, and the owner gets the payment-failed mail (only that one
     * is waited for: the verification mail goes first). */
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "grep -l 'To: <%s>' %s/*.eml | xargs -r rm -f", o.email,
             env("SW_MAIL_DIR"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(fake_send_event(json_pack(
                         "{s:s,s:I,s:{s:o}}", "type", "checkout.session.async_payment_failed",
                         "created", (json_int_t)(now + 1), "data", "object",
                         session_obj(sid, o.tenant, "cus_async", "sub_async", "unpaid"))),
                     200);
    assert_plan(o.tenant, "free");
    char *mail = it_mail_wait(o.email, 15000);
    assert_non_null(mail);
    assert_non_null(strstr(mail, "Payment failed"));
    assert_non_null(strstr(mail, "19.00 USD"));
    free(mail);
    /* Another checkout whose debit goes through: async_payment_succeeded grants Pro. */
    fake_session(sid, sizeof(sid), o.tenant, env("STRIPE_PRICE_PRO"));
    assert_int_equal(fake_send_event(json_pack(
                         "{s:s,s:I,s:{s:o}}", "type", "checkout.session.async_payment_succeeded",
                         "created", (json_int_t)(now + 2), "data", "object",
                         session_obj(sid, o.tenant, "cus_async", "sub_async", "paid"))),
                     200);
    assert_plan(o.tenant, "pro");
    owner_free(&o);

    /* Paid, but for another price of the same Stripe account: no Pro. */
    owner_new(&o, "Other Price Co");
    fake_session(other, sizeof(other), o.tenant, "price_something_else");
    assert_int_equal(fake_send_event(json_pack(
                         "{s:s,s:{s:o}}", "type", "checkout.session.completed", "data", "object",
                         session_obj(other, o.tenant, "cus_o", "sub_o", "paid"))),
                     200);
    assert_plan(o.tenant, "free");
    /* A session Stripe does not know (made-up id): no Pro. */
    assert_int_equal(fake_send_event(json_pack(
                         "{s:s,s:{s:o}}", "type", "checkout.session.completed", "data", "object",
                         session_obj("cs_test_unknown", o.tenant, "cus_o", "sub_o", "paid"))),
                     200);
    assert_plan(o.tenant, "free");
    /* no_payment_required (a 100 % coupon) for the Pro price: Pro. */
    fake_session(sid, sizeof(sid), o.tenant, env("STRIPE_PRICE_PRO"));
    assert_int_equal(fake_send_event(json_pack(
                         "{s:s,s:{s:o}}", "type", "checkout.session.completed", "data", "object",
                         session_obj(sid, o.tenant, "cus_o", "sub_o", "no_payment_required"))),
                     200);
    assert_plan(o.tenant, "pro");
    owner_free(&o);
}

static void test_out_of_order_events(void **state)
{
    owner o;
    char id[64], sub[48], cus[48];
    owner_new(&o, "Order Co");
    random_id(sub, sizeof(sub), "sub_");
    random_id(cus, sizeof(cus), "cus_");
    long now = (long)time(NULL);
    complete_checkout(o.tenant, cus, sub, now);

    /* An update from before the completion (incomplete_expired then) arrives late. */
    random_id(id, sizeof(id), "evt_test_");
    char *body = event_body(id, "customer.subscription.updated", now - 100,
                            subscription(sub, cus, o.tenant, "incomplete_expired"));
    assert_int_equal(post_signed(body), 200);
    free(body);
    assert_plan(o.tenant, "pro");
    assert_int_equal(stripe_events(id), 1); /* recorded, ignored */

    /* An event about another (old) subscription never moves the plan. */
    random_id(id, sizeof(id), "evt_test_");
    body = event_body(id, "customer.subscription.deleted", now + 5,
                      subscription("sub_someoldone", cus, o.tenant, "canceled"));
    assert_int_equal(post_signed(body), 200);
    free(body);
    assert_plan(o.tenant, "pro");

    /* past_due: Stripe is still collecting; the plan stays. */
    assert_int_equal(
        fake_send_event(json_pack("{s:s,s:I,s:{s:o}}", "type", "customer.subscription.updated",
                                  "created", (json_int_t)(now + 10), "data", "object",
                                  subscription(sub, cus, o.tenant, "past_due"))),
        200);
    assert_plan(o.tenant, "pro");

    /* A newer update to unpaid downgrades... */
    assert_int_equal(
        fake_send_event(json_pack("{s:s,s:I,s:{s:o}}", "type", "customer.subscription.updated",
                                  "created", (json_int_t)(now + 20), "data", "object",
                                  subscription(sub, cus, o.tenant, "unpaid"))),
        200);
    assert_plan(o.tenant, "free");
    /* ...and an older "active" that arrives after it does not undo that. */
    assert_int_equal(
        fake_send_event(json_pack("{s:s,s:I,s:{s:o}}", "type", "customer.subscription.updated",
                                  "created", (json_int_t)(now + 15), "data", "object",
                                  subscription(sub, cus, o.tenant, "active"))),
        200);
    assert_plan(o.tenant, "free");
    /* A newer "active" with the Pro price upgrades again. */
    assert_int_equal(
        fake_send_event(json_pack("{s:s,s:I,s:{s:o}}", "type", "customer.subscription.updated",
                                  "created", (json_int_t)(now + 30), "data", "object",
                                  subscription(sub, cus, o.tenant, "active"))),
        200);
    assert_plan(o.tenant, "pro");
    owner_free(&o);
}

/* The tenant's endpoints as "name:paused" in age order, and how many have a schedule row. */
static char *endpoint_pauses(const char *tenant, long *scheduled)
{
    char sql[400], *out = calloc(1, 256);
    snprintf(sql, sizeof(sql),
             "SELECT name, paused::text AS paused FROM \"%s\".endpoints ORDER BY created_at",
             tenant);
    json_t *rows = it_sql(sql, 0, NULL), *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        size_t l = strlen(out);
        snprintf(out + l, 256 - l, "%s%c", i ? "," : "",
                 strcmp(json_string_value(json_object_get(r, "paused")), "true") == 0 ? 'P' : 'A');
    }
    json_decref(rows);
    const char *p[] = {tenant};
    *scheduled = it_sql_long("SELECT count(*) FROM public.schedule WHERE tenant_id = $1", 1, p);
    return out;
}

/* Polls until the tenant's endpoints read want ("A,A,A,P,P": active/paused, oldest first) with
 * nscheduled schedule rows, or 15 s pass. */
static void wait_pauses(const char *tenant, const char *want, long nscheduled)
{
    char *got = NULL;
    long scheduled = -1;
    for (int i = 0; i < 75; i++) {
        free(got);
        got = endpoint_pauses(tenant, &scheduled);
        if (strcmp(got, want) == 0 && scheduled == nscheduled)
            break;
        usleep(200 * 1000);
    }
    if (strcmp(got, want) != 0 || scheduled != nscheduled)
        fail_msg("endpoints %s with %ld scheduled, want %s with %ld", got, scheduled, want,
                 nscheduled);
    free(got);
}

/* A downgrade: billing changes the plan and publishes plan.changed; sw-endpoints, which owns
 * the endpoints and their schedule, pauses those past the Free limit (the oldest stay, nothing
 * is deleted). An upgrade resumes exactly those, not one the tenant paused itself. */
static void test_downgrade_pauses_extra_endpoints(void **state)
{
    owner o;
    char sub[48], cus[48], subject[128];
    owner_new(&o, "Downgrade Co");
    random_id(sub, sizeof(sub), "sub_");
    random_id(cus, sizeof(cus), "cus_");
    complete_checkout(o.tenant, cus, sub, (long)time(NULL));

    /* Five endpoints through the API while Pro (the sandboxed prober contacts none of these
     * hosts), the youngest then paused by the tenant itself. */
    it_resp *r = it_login(o.email, IT_PASSWORD);
    assert_int_equal(r->status, 200);
    char access[1024], ids[5][64];
    snprintf(access, sizeof(access), "%s", json_string_value(json_object_get(r->body, "access")));
    it_resp_free(r);
    for (int i = 0; i < 5; i++) {
        char url[96];
        snprintf(url, sizeof(url), "http://1.1.1.%d/", 10 + i);
        r = it_auth(
            "POST", "/api/endpoints/", access,
            json_pack("{s:s,s:s,s:i}", "url", url, "name", "site", "interval_seconds", 3600));
        if (r->status != 201)
            fail_msg("create: %ld %s", r->status, r->raw);
        snprintf(ids[i], sizeof(ids[i]), "%s", json_string_value(json_object_get(r->body, "id")));
        it_resp_free(r);
    }
    char path[128];
    snprintf(path, sizeof(path), "/api/endpoints/%s/", ids[4]);
    r = it_auth("PATCH", path, access, json_pack("{s:b}", "paused", 1));
    assert_int_equal(r->status, 200);
    it_resp_free(r);
    wait_pauses(o.tenant, "A,A,A,A,P", 4);

    natsConnection *nc = it_nats();
    natsSubscription *evsub = NULL;
    snprintf(subject, sizeof(subject), "sw.v1.evt.%s.plan.changed", o.tenant);
    assert_int_equal(natsConnection_SubscribeSync(&evsub, nc, subject), NATS_OK);
    natsConnection_Flush(nc);

    /* The subscription ends: a signed event from the double. */
    assert_int_equal(
        fake_send_event(json_pack("{s:s,s:I,s:{s:o}}", "type", "customer.subscription.deleted",
                                  "created", (json_int_t)time(NULL) + 1, "data", "object",
                                  subscription(sub, cus, o.tenant, "canceled"))),
        200);
    assert_plan(o.tenant, "free");

    natsMsg *m = NULL;
    assert_int_equal(natsSubscription_NextMsg(&m, evsub, 5000), NATS_OK);
    json_t *evt = json_loads(natsMsg_GetData(m), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(evt, "plan")), "free");
    assert_string_equal(json_string_value(json_object_get(evt, "previous_plan")), "pro");
    json_decref(evt);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(evsub);
    natsConnection_Destroy(nc);

    /* Three stay active (the oldest), the fourth is paused by the plan; nothing deleted. */
    wait_pauses(o.tenant, "A,A,A,P,P", 3);
    snprintf(path, sizeof(path), "/api/endpoints/%s/", ids[3]);
    r = it_auth("GET", path, access, NULL);
    assert_string_equal(json_string_value(json_object_get(r->body, "last_status")), "paused");
    it_resp_free(r);

    /* Pro again: the plan's pause is lifted, the tenant's own stays. */
    random_id(sub, sizeof(sub), "sub_");
    complete_checkout(o.tenant, cus, sub, (long)time(NULL) + 2);
    wait_pauses(o.tenant, "A,A,A,A,P", 4);
    owner_free(&o);
}

static void test_payment_failed_mails_owner(void **state)
{
    owner o;
    char sub[48], cus[48];
    owner_new(&o, "Unpaid Co");
    random_id(sub, sizeof(sub), "sub_");
    random_id(cus, sizeof(cus), "cus_");
    complete_checkout(o.tenant, cus, sub, (long)time(NULL));

    /* Only the mail this test waits for: drop the owner's verification mail. */
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "grep -l 'To: <%s>' %s/*.eml | xargs -r rm -f", o.email,
             env("SW_MAIL_DIR"));
    assert_int_equal(system(cmd), 0);

    /* The invoice names no tenant: it is found by the customer on file. */
    assert_int_equal(
        fake_send_event(json_pack("{s:s,s:{s:{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i}}}", "type",
                                  "invoice.payment_failed", "data", "object", "id", "in_test_1",
                                  "object", "invoice", "customer", cus, "subscription", sub,
                                  "amount_due", 1900, "currency", "usd", "hosted_invoice_url",
                                  "https://invoice.stripe.com/i/test_1", "attempt_count", 1)),
        200);
    char *mail = it_mail_wait(o.email, 15000);
    assert_non_null(mail);
    assert_non_null(strstr(mail, "Payment failed"));
    assert_non_null(strstr(mail, "19.00 USD"));
    assert_non_null(strstr(mail, "/billing"));
    free(mail);
    assert_plan(o.tenant, "pro"); /* a failed payment alone changes no plan */
    owner_free(&o);
}

/* Stripe answers with an error (a declined card, an outage on its side): a clean 502. */
static void test_stripe_error_is_502(void **state)
{
    owner o;
    long st = 0;
    owner_new(&o, "Declined Co");
    const int codes[] = {402, 500};
    for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
        char body[80];
        snprintf(body, sizeof(body), "{\"status\": %d, \"type\": \"%s\"}", codes[i],
                 codes[i] == 402 ? "card_error" : "api_error");
        free(fake("POST", "/__fail_next", body, &st, NULL, 0));
        assert_int_equal(st, 200);
        it_resp *r = checkout(&o);
        assert_int_equal(r->status, 502);
        assert_non_null(json_object_get(r->body, "detail"));
        assert_null(strstr(r->raw, "Simulated")); /* Stripe's words stay in the log */
        assert_null(strstr(r->raw, env("STRIPE_SECRET_KEY")));
        it_resp_free(r);
    }
    assert_plan(o.tenant, "free");
    owner_free(&o);
}

static int restart_stripe(void **state)
{
    it_ops("actor start stripe");
    return 0;
}

static void test_stripe_unreachable(void **state)
{
    owner o;
    owner_new(&o, "Offline Co");
    assert_int_equal(it_ops("actor stop stripe"), 0);
    it_resp *r = checkout(&o);
    assert_int_equal(r->status, 503);
    assert_true(r->seconds < 3.0); /* refused at once, never a hang */
    assert_non_null(json_object_get(r->body, "detail"));
    assert_null(strstr(r->raw, env("STRIPE_SECRET_KEY")));
    assert_null(strstr(r->raw, "127.0.0.1")); /* nothing internal either */
    it_resp_free(r);
    assert_int_equal(it_ops("actor start stripe"), 0);
    r = checkout(&o);
    assert_int_equal(r->status, 200);
    it_resp_free(r);

    /* Stripe too slow: our own 503 before the edge would give up with a 504. */
    long st = 0;
    free(fake("POST", "/__fail_next", "{\"delay\": 12}", &st, NULL, 0));
    assert_int_equal(st, 200);
    r = checkout(&o);
    assert_int_equal(r->status, 503);
    assert_true(r->seconds < 10.0);
    assert_non_null(json_object_get(r->body, "detail"));
    it_resp_free(r);
    owner_free(&o);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_checkout_and_pay),
        cmocka_unit_test(test_checkout_owner_only),
        cmocka_unit_test(test_webhook_signatures),
        cmocka_unit_test(test_checkout_must_be_paid_for_pro),
        cmocka_unit_test(test_out_of_order_events),
        cmocka_unit_test(test_downgrade_pauses_extra_endpoints),
        cmocka_unit_test(test_payment_failed_mails_owner),
        cmocka_unit_test(test_stripe_error_is_502),
        cmocka_unit_test_teardown(test_stripe_unreachable, restart_stripe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
