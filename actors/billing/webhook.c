/* POST /api/billing/webhook/: Stripe's events, raw bytes as Stripe signed them. A bad, stale or
 * missing signature is a 400 and changes nothing. Each event id is recorded in
 * public.stripe_events in the same transaction as what the event changes, so a redelivery is
 * a 200 that does nothing. The plan and the Stripe ids are public.subscriptions', which only
 * this actor writes. Plan changes are ordered by the event's own `created`: the row keeps
 * plan_changed_at, and an event older than the last applied change is recorded and
 * otherwise ignored (Stripe delivers unordered). A checkout grants Pro only when it is paid (or
 * needs no payment) and its line items hold the configured Pro price; a delayed payment's
 * checkout.session.async_payment_succeeded grants it then, and _failed mails the owner. A
 * plan change is announced as sw.v1.evt.<tenant>.plan.changed after the commit; sw-endpoints
 * pauses (or resumes) its own endpoints from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/billing/billing.h"
#include "actors/common/mail.h"
#include "bus/log.h"
#include "bus/messages.h"

typedef struct event {
    const char *id;
    const char *type;
    json_int_t created;
    json_t *object; /* borrowed from the parsed event: data.object */
} event;

/* What an event asks of the tenant's plan. */
typedef struct plan_change {
    const char *plan;         /* "pro", "free", or NULL: leave the plan alone */
    const char *customer;     /* stored when not NULL */
    const char *subscription; /* stored when not NULL */
    bool clear_subscription;
    bool only_subscription; /* ignore when the tenant has another subscription on file */
} plan_change;

/* A Stripe reference that is either an id string or an expanded object with an id. */
static const char *ref_id(const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    return json_string_value(json_object_get(v, "id"));
}

static const char *meta_tenant(const json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), "tenant_id"));
}

/* The tenant the event names (our own metadata), when it does. */
static const char *event_tenant_hint(const event *ev)
{
    const json_t *o = ev->object;
    if (strncmp(ev->type, "checkout.session.", 17) == 0) {
        const char *t = json_string_value(json_object_get(o, "client_reference_id"));
        return t ? t : meta_tenant(o);
    }
    if (strcmp(ev->type, "invoice.payment_failed") == 0) {
        const char *t = meta_tenant(json_object_get(o, "subscription_details"));
        if (!t)
            t = meta_tenant(/* API versions from 2025 move it under parent */
                            json_object_get(json_object_get(o, "parent"), "subscription_details"));
        return t ? t : meta_tenant(o);
    }
    return meta_tenant(o);
}

static const char *event_subscription(const event *ev)
{
    const json_t *o = ev->object;
    if (strncmp(ev->type, "customer.subscription.", 22) == 0)
        return ref_id(json_object_get(o, "id"));
    return ref_id(json_object_get(o, "subscription"));
}

/* Finds the tenant an event is about (by the id in our metadata, else by the Stripe
 * subscription or customer on file) and locks its row of public.subscriptions, made first when
 * the tenant has none (a Free tenant that never paid). *row owned: the tenant's id, name and
 * schema with its plan, Stripe ids and "stale"; SW_ENOTFOUND when the event is about no tenant
 * of ours. */
static sw_status lock_tenant(store_conn *c, const event *ev, json_t **row)
{
    const char *hint = event_tenant_hint(ev);
    const char *sub = event_subscription(ev);
    const char *cus = ref_id(json_object_get(ev->object, "customer"));
    json_t *found = NULL;
    char created[24];
    sw_status st = SW_ENOTFOUND;

    if (hint && store_schema_name_valid(hint)) {
        const char *p[] = {hint};
        st = store_query_one(c, &found, "SELECT id FROM public.tenants WHERE id = $1", 1, p);
    }
    if (st == SW_ENOTFOUND && sub) {
        const char *p[] = {sub};
        st = store_query_one(c, &found,
                             "SELECT tenant_id AS id FROM public.subscriptions"
                             " WHERE stripe_subscription_id = $1 LIMIT 1",
                             1, p);
    }
    if (st == SW_ENOTFOUND && cus) {
        const char *p[] = {cus};
        st = store_query_one(c, &found,
                             "SELECT tenant_id AS id FROM public.subscriptions"
                             " WHERE stripe_customer_id = $1 LIMIT 1",
                             1, p);
    }
    if (st != SW_OK)
        goto out;
    const char *id = json_string_value(json_object_get(found, "id"));
    snprintf(created, sizeof(created), "%lld", (long long)ev->created);
    const char *p1[] = {id};
    st = store_query(c, NULL, NULL,
                     "INSERT INTO public.subscriptions (tenant_id) VALUES ($1)"
                     " ON CONFLICT (tenant_id) DO NOTHING",
                     1, p1);
    if (st != SW_OK)
        goto out;
    const char *p2[] = {id, created};
    st = store_query_one(
        c, row,
        "SELECT t.id, t.name, s.plan, t.schema_name, s.stripe_customer_id,"
        " s.stripe_subscription_id,"
        " (s.plan_changed_at IS NOT NULL AND s.plan_changed_at > to_timestamp($2::bigint))"
        "   AS stale"
        " FROM public.tenants t JOIN public.subscriptions s ON s.tenant_id = t.id"
        " WHERE t.id = $1 FOR UPDATE OF s",
        2, p2);
out:
    json_decref(found);
    return st;
}

/* customer.subscription.updated: the plan follows the status and the price. */
static const char *plan_for_subscription(const billing_app *app, const json_t *sub)
{
    const char *status = json_string_value(json_object_get(sub, "status"));
    const json_t *item = json_array_get(json_object_get(json_object_get(sub, "items"), "data"), 0);
    const char *price = ref_id(json_object_get(item, "price"));
    if (!price) /* older API versions: a single plan */
        price = ref_id(json_object_get(sub, "plan"));
    if (!status)
        return NULL;
    if (strcmp(status, "canceled") == 0 || strcmp(status, "unpaid") == 0 ||
        strcmp(status, "incomplete_expired") == 0)
        return "free";
    if (strcmp(status, "active") == 0 || strcmp(status, "trialing") == 0) {
        if (price && app->price_pro && strcmp(price, app->price_pro) == 0)
            return "pro";
        return price ? "free" : NULL; /* a price that is not Pro buys nothing here */
    }
    return NULL; /* past_due, incomplete, paused: Stripe is still collecting; keep the plan */
}

typedef struct applied {
    char previous[8];
    char plan[8];
} applied;

/* Applies a plan change to the tenant's locked subscription row. *out->plan stays "" when nothing
 * changed. */
static sw_status apply_plan(store_conn *c, const event *ev, const json_t *tenant,
                            const plan_change *ch, applied *out)
{
    const char *tid = json_string_value(json_object_get(tenant, "id"));
    const char *plan = json_string_value(json_object_get(tenant, "plan"));
    const char *sub_on_file = json_string_value(json_object_get(tenant, "stripe_subscription_id"));
    char created[24];

    if (json_is_true(json_object_get(tenant, "stale"))) {
        sw_log(SW_LOG_INFO, "stripe event older than the last plan change: ignored", "event",
               ev->id, "type", ev->type, NULL);
        return SW_OK;
    }
    if (ch->only_subscription && sub_on_file && ch->subscription &&
        strcmp(sub_on_file, ch->subscription) != 0) {
        sw_log(SW_LOG_INFO, "stripe event about another subscription: ignored", "event", ev->id,
               "type", ev->type, NULL);
        return SW_OK;
    }
    if (!ch->plan)
        return SW_OK;
    snprintf(created, sizeof(created), "%lld", (long long)ev->created);
    const char *p[] = {
        tid,    ch->plan, ch->customer, ch->subscription, ch->clear_subscription ? "true" : "false",
        created};
    sw_status st =
        store_query(c, NULL, NULL,
                    "UPDATE public.subscriptions SET plan = $2,"
                    " stripe_customer_id = coalesce($3, stripe_customer_id),"
                    " stripe_subscription_id = CASE WHEN $5::boolean THEN NULL"
                    "   ELSE coalesce($4, stripe_subscription_id) END,"
                    " plan_changed_at = greatest(plan_changed_at, to_timestamp($6::bigint)),"
                    " updated_at = now()"
                    " WHERE tenant_id = $1",
                    6, p);
    if (st != SW_OK)
        return st;
    if (strcmp(plan, ch->plan) == 0)
        return SW_OK;
    /* What the new plan means for the tenant's endpoints is sw-endpoints' to decide: it
     * consumes the plan.changed event published after the commit. */
    snprintf(out->previous, sizeof(out->previous), "%s", plan);
    snprintf(out->plan, sizeof(out->plan), "%s", ch->plan);
    return st;
}

/* invoice.payment_failed: a mail job to the owner (deduplicated on the event id). */
static sw_status notify_payment_failed(store_conn *c, const bus_req *req, const event *ev,
                                       const json_t *tenant)
{
    billing_app *app = req->app;
    const char *schema = json_string_value(json_object_get(tenant, "schema_name"));
    json_t *owner = NULL, *vars = NULL;
    char sql[256], link[600], amount[64] = "", msg_id[300];

    if (!store_schema_name_valid(schema))
        return SW_EINTERNAL;
    snprintf(sql, sizeof(sql),
             "SELECT email FROM \"%s\".users WHERE role = 'owner' ORDER BY created_at LIMIT 1",
             schema);
    sw_status st = store_query_one(c, &owner, sql, 0, NULL);
    if (st == SW_ENOTFOUND) {
        sw_log(SW_LOG_WARN, "payment failed but the organization has no owner to tell", "event",
               ev->id, NULL);
        return SW_OK;
    }
    if (st != SW_OK)
        return st;
    const char *front = app->common->frontend_url;
    size_t fl = strlen(front);
    while (fl && front[fl - 1] == '/')
        fl--;
    snprintf(link, sizeof(link), "%.*s/billing", (int)fl, front);
    json_t *due = json_object_get(ev->object, "amount_due");
    if (!due) /* a checkout session (async_payment_failed) */
        due = json_object_get(ev->object, "amount_total");
    const char *cur = json_string_value(json_object_get(ev->object, "currency"));
    if (json_is_integer(due) && cur && strlen(cur) == 3) {
        json_int_t v = json_integer_value(due);
        snprintf(amount, sizeof(amount), "%lld.%02lld %c%c%c", (long long)(v / 100),
                 (long long)(v % 100 < 0 ? -(v % 100) : v % 100), cur[0] & ~0x20, cur[1] & ~0x20,
                 cur[2] & ~0x20);
    }
    vars = json_pack("{s:s,s:s,s:s}", "organization",
                     json_string_value(json_object_get(tenant, "name")), "billing_url", link,
                     "amount", amount);
    const char *invoice_url = json_string_value(json_object_get(ev->object, "hosted_invoice_url"));
    if (vars && invoice_url && strncmp(invoice_url, "https://", 8) == 0 &&
        strlen(invoice_url) < 500)
        json_object_set_new(vars, "invoice_url", json_string(invoice_url));
    snprintf(msg_id, sizeof(msg_id), "payment_failed:%s", ev->id);
    jsCtx *js = bus_actor_js(req->actor);
    st = vars && js ? mail_enqueue(js, "payment_failed",
                                   json_string_value(json_object_get(owner, "email")), vars, msg_id,
                                   req->request_id)
                    : SW_EUNAVAILABLE;
    json_decref(vars);
    json_decref(owner);
    return st;
}

static void publish_plan_changed(const bus_req *req, const char *tenant, const event *ev,
                                 const applied *ap)
{
    char subject[128], msg_id[300];
    jsCtx *js = bus_actor_js(req->actor);
    bus_subject_event(subject, sizeof(subject), tenant, BUS_EVT_PLAN_CHANGED);
    snprintf(msg_id, sizeof(msg_id), BUS_ID_PLAN_CHANGED_FMT, ev->id);
    json_t *evt =
        json_pack("{s:s,s:s,s:s,s:s,s:I}", "tenant_id", tenant, "plan", ap->plan, "previous_plan",
                  ap->previous, "stripe_event", ev->id, "stripe_created", ev->created);
    /* The audit log's entry (bus/contract.h): Stripe changed the plan, nobody signed in. */
    json_t *detail = json_pack("{s:s,s:s,s:s,s:s}", "plan", ap->plan, "previous_plan", ap->previous,
                               "stripe_event", ev->id, "stripe_type", ev->type);
    bus_audit a;
    bus_audit_from_req(&a, req);
    a.user_id = a.token_id = NULL;
    a.actor_label = "Stripe";
    a.action = BUS_EVT_PLAN_CHANGED;
    a.target_type = "organization";
    a.target_id = tenant;
    a.detail = detail;
    if (evt && !bus_audit_put(evt, &a))
        sw_log(SW_LOG_WARN, "plan.changed without its audit entry (out of shape)", NULL);
    json_decref(detail);
    sw_status st = SW_EUNAVAILABLE;
    for (int attempt = 0; js && evt && attempt < 3 && st != SW_OK; attempt++)
        st = bus_js_publish(js, subject, evt, msg_id, req->request_id);
    if (st != SW_OK)
        sw_log(SW_LOG_WARN, "plan.changed not published", "status", sw_status_name(st), NULL);
    json_decref(evt);
}

/* What a checkout session event buys, decided before the transaction (it may ask Stripe). */
typedef enum checkout_verdict {
    CHECKOUT_NONE,   /* not a checkout event we act on */
    CHECKOUT_PRO,    /* paid (or nothing to pay) for the Pro price: Pro */
    CHECKOUT_NOTHING /* recorded, plan left alone: unpaid yet, not a subscription, other price */
} checkout_verdict;

/* Whether the session's line items include the configured Pro price. Webhook payloads carry
 * no line items (Stripe leaves the expandable field out), so they are read from Stripe:
 * GET /v1/checkout/sessions/{id}/line_items. SW_EUNAVAILABLE when Stripe did not answer (the
 * event is not recorded and Stripe delivers it again). */
static sw_status session_buys_pro(const billing_app *app, const char *session_id, bool *pro)
{
    char path[400];
    json_t *list = NULL;
    long http = 0;
    *pro = false;
    if (!session_id || strlen(session_id) > 255 ||
        strspn(session_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
            strlen(session_id))
        return SW_OK; /* not a Stripe id: nothing to buy */
    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/line_items?limit=100", session_id);
    sw_status st = billing_stripe_call(app, path, NULL, NULL, &http, &list);
    if (st == SW_OK && http == 404) {
        billing_stripe_log_error("checkout session unknown to Stripe: no plan change", http, list);
    } else if (st == SW_OK && (http < 200 || http >= 300)) {
        billing_stripe_log_error("Stripe refused the line items of a checkout session", http, list);
        st = SW_EUNAVAILABLE;
    } else if (st == SW_OK) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(list, "data"), i, item)
        {
            const char *price = ref_id(json_object_get(item, "price"));
            if (price && app->price_pro && strcmp(price, app->price_pro) == 0)
                *pro = true;
        }
    }
    json_decref(list);
    return st;
}

/* checkout.session.completed and .async_payment_succeeded: Pro only for a subscription
 * checkout that is paid (or needs no payment: a 100 % coupon, a trial) and buys the Pro
 * price. A completed session still "unpaid" (a bank debit on its way) waits for
 * async_payment_succeeded. */
static sw_status checkout_decide(const billing_app *app, const event *ev, checkout_verdict *v)
{
    const json_t *o = ev->object;
    bool pro = false;
    *v = CHECKOUT_NONE;
    if (strcmp(ev->type, "checkout.session.completed") != 0 &&
        strcmp(ev->type, "checkout.session.async_payment_succeeded") != 0)
        return SW_OK;
    *v = CHECKOUT_NOTHING;
    const char *mode = json_string_value(json_object_get(o, "mode"));
    const char *paid = json_string_value(json_object_get(o, "payment_status"));
    if (!mode || strcmp(mode, "subscription") != 0)
        return SW_OK; /* a one-off payment buys no plan */
    if (!paid || (strcmp(paid, "paid") != 0 && strcmp(paid, "no_payment_required") != 0)) {
        sw_log(SW_LOG_INFO, "checkout not paid yet: plan unchanged", "event", ev->id,
               "payment_status", paid ? paid : "", NULL);
        return SW_OK;
    }
    sw_status st = session_buys_pro(app, ref_id(json_object_get(o, "id")), &pro);
    if (st == SW_OK && !pro)
        sw_log(SW_LOG_WARN, "checkout of another price than Pro: plan unchanged", "event", ev->id,
               NULL);
    if (st == SW_OK && pro)
        *v = CHECKOUT_PRO;
    return st;
}

/* Reads the parts of an event we use; false when it is not a Stripe event. */
static bool parse_event(json_t *root, event *ev)
{
    ev->id = json_string_value(json_object_get(root, "id"));
    ev->type = json_string_value(json_object_get(root, "type"));
    json_t *created = json_object_get(root, "created");
    ev->created = json_is_integer(created) ? json_integer_value(created) : 0;
    ev->object = json_object_get(json_object_get(root, "data"), "object");
    return ev->id && *ev->id && strlen(ev->id) <= 255 && ev->type && strlen(ev->type) <= 100 &&
           ev->created > 0 && json_is_object(ev->object);
}

sw_status billing_webhook(const bus_req *req, bus_reply *rep)
{
    billing_app *app = req->app;
    const char *why = NULL;
    json_t *root = NULL, *tenant = NULL;
    store_conn *c = NULL;
    event ev = {0};
    applied ap = {.previous = "", .plan = ""};
    char created[24];
    long inserted = 0;
    sw_status st;

    st = billing_signature_verify(bus_req_header(req, "Stripe-Signature"), req->raw,
                                  req->raw_len > 0 ? (size_t)req->raw_len : 0, app->webhook_secret,
                                  sw_epoch_ms() / 1000, BILLING_SIG_TOLERANCE_S, &why);
    if (st != SW_OK) {
        sw_log(SW_LOG_WARN, "stripe webhook refused", "reason", why, "client_ip",
               req->client_ip ? req->client_ip : "", NULL);
        return bus_reply_error(rep, SW_EINVAL, "invalid_signature",
                               "Invalid or missing Stripe signature.");
    }
    root = json_loadb(req->raw, (size_t)req->raw_len, 0, NULL);
    if (!json_is_object(root) || !parse_event(root, &ev)) {
        st = bus_reply_error(rep, SW_EINVAL, "invalid_event", "Malformed Stripe event.");
        goto out;
    }

    /* Before any lock: a checkout's line items may have to come from Stripe. */
    checkout_verdict verdict = CHECKOUT_NONE;
    st = checkout_decide(app, &ev, &verdict);
    if (st != SW_OK) {
        st = bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
        goto out;
    }
    c = store_acquire(app->common->db);
    if (!c) {
        st = bus_reply_error(rep, SW_EUNAVAILABLE, NULL, NULL);
        goto out;
    }
    st = store_tx_begin(c);
    if (st != SW_OK)
        goto fail;
    st = lock_tenant(c, &ev, &tenant);
    if (st != SW_OK && st != SW_ENOTFOUND)
        goto fail;
    const char *tid = json_string_value(json_object_get(tenant, "id"));
    snprintf(created, sizeof(created), "%lld", (long long)ev.created);
    const char *p[] = {ev.id, ev.type, created, tid};
    st = store_query(c, NULL, &inserted,
                     "INSERT INTO public.stripe_events (id, type, created, tenant_id)"
                     " VALUES ($1, $2, to_timestamp($3::bigint), $4) ON CONFLICT (id) DO NOTHING",
                     4, p);
    if (st != SW_OK)
        goto fail;
    if (inserted == 0) {
        store_tx_rollback(c);
        sw_log(SW_LOG_INFO, "stripe event already applied", "event", ev.id, "type", ev.type, NULL);
        bus_reply_json(rep, json_pack("{s:b,s:b}", "received", 1, "duplicate", 1));
        st = SW_OK;
        goto out;
    }
    if (!tenant) {
        /* Recorded, so Stripe stops retrying; there is nothing of ours to change. */
        sw_log(SW_LOG_WARN, "stripe event for no known organization", "event", ev.id, "type",
               ev.type, NULL);
    } else if (verdict != CHECKOUT_NONE) {
        plan_change ch = {.plan = verdict == CHECKOUT_PRO ? "pro" : NULL,
                          .customer = ref_id(json_object_get(ev.object, "customer")),
                          .subscription = ref_id(json_object_get(ev.object, "subscription"))};
        st = apply_plan(c, &ev, tenant, &ch, &ap);
    } else if (strcmp(ev.type, "checkout.session.async_payment_failed") == 0) {
        /* The bank debit of a checkout failed: no Pro (it was never granted); the owner is
         * told, as for a failed invoice. */
        st = notify_payment_failed(c, req, &ev, tenant);
    } else if (strcmp(ev.type, "customer.subscription.updated") == 0 ||
               strcmp(ev.type, "customer.subscription.created") == 0) {
        plan_change ch = {.plan = plan_for_subscription(app, ev.object),
                          .customer = ref_id(json_object_get(ev.object, "customer")),
                          .subscription = ref_id(json_object_get(ev.object, "id")),
                          .only_subscription = true};
        st = apply_plan(c, &ev, tenant, &ch, &ap);
    } else if (strcmp(ev.type, "customer.subscription.deleted") == 0) {
        plan_change ch = {.plan = "free",
                          .subscription = ref_id(json_object_get(ev.object, "id")),
                          .clear_subscription = true,
                          .only_subscription = true};
        st = apply_plan(c, &ev, tenant, &ch, &ap);
    } else if (strcmp(ev.type, "invoice.payment_failed") == 0) {
        st = notify_payment_failed(c, req, &ev, tenant);
    }
    if (st != SW_OK)
        goto fail;
    st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "stripe event applied", "event", ev.id, "type", ev.type, "tenant_id",
           tid ? tid : "", "plan", ap.plan[0] ? ap.plan : "unchanged", NULL);
    if (ap.plan[0])
        publish_plan_changed(req, tid, &ev, &ap);
    bus_reply_json(rep, json_pack("{s:b}", "received", 1));
    st = SW_OK;
    goto out;
fail:
    /* Nothing was recorded: Stripe retries the event later. */
    if (c)
        store_tx_rollback(c);
    sw_log(SW_LOG_ERROR, "stripe event not applied", "event", ev.id ? ev.id : "", "status",
           sw_status_name(st), "db", c ? store_last_error(c) : "", NULL);
    st = bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
out:
    if (c)
        store_release(app->common->db, c);
    json_decref(tenant);
    json_decref(root);
    return st;
}
