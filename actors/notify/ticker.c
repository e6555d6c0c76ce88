/* sw-notify's ticker (once a second): sends the outages held in public.notify_pending once
 * their tenant has been quiet for SW_NOTIFY_ROLLUP_HOLD_S (or the first has waited 60 s):
 * when 5 or more endpoints of the tenant went down, each channel gets one roll-up listing its
 * share instead of one message each; fewer go out one by one. Then the reminders that are due
 * (public.notify_reminders): one `reminder` per channel while the incident is open and not
 * acknowledged, every reminder_minutes. Rows are taken with DELETE ... RETURNING or
 * FOR UPDATE SKIP LOCKED, so any number of sw-notify instances can tick at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/notify/notify.h"
#include "bus/ids.h"
#include "bus/log.h"
#include "store/store.h"

#define ROLLUP_MIN 5
#define ROLLUP_WINDOW_S 60
#define TICK_MS 1000

/* The tenants with held outages ready to go (owned array of {tenant_id}). */
static sw_status ready_tenants(notify_app *app, json_t **rows)
{
    char hold[16];
    snprintf(hold, sizeof(hold), "%ld", app->rollup_hold_s);
    store_conn *c = store_acquire(app->common->db);
    if (!c)
        return SW_EUNAVAILABLE;
    const char *p[] = {hold};
    sw_status st = store_query(c, rows, NULL,
                               "SELECT tenant_id FROM public.notify_pending GROUP BY tenant_id"
                               " HAVING max(at) <= now() - $1::int * interval '1 second'"
                               "  OR min(at) <= now() - interval '" "60" " seconds'"
                               " LIMIT 100",
                               1, p);
    store_release(app->common->db, c);
    return st;
}

/* Sends one tenant's held outages. */
static sw_status flush_tenant(bus_actor *a, notify_app *app, const char *tenant)
{
    json_t *held = NULL, *ids = json_array(), *per_channel = json_object();
    store_conn *c = store_acquire_tenant(app->common->db, tenant);
    sw_status st = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
    const char *p[] = {tenant};
    if (st == SW_OK)
        st = store_query(c, &held, NULL,
                         "DELETE FROM public.notify_pending WHERE tenant_id = $1"
                         " RETURNING incident_id::text AS incident_id, endpoint_id::text AS"
                         " endpoint_id, data, at",
                         1, p);
    size_t n = json_array_size(held), i;
    json_t *h;
    /* Which channel hears about which outages. */
    json_array_foreach(held, i, h)
    {
        json_t *targets = NULL;
        if (st != SW_OK)
            break;
        st = notify_targets(c, json_string_value(json_object_get(h, "endpoint_id")), &targets);
        size_t j;
        json_t *t;
        json_array_foreach(targets, j, t)
        {
            const char *cid = json_string_value(json_object_get(t, "id"));
            json_t *slot = json_object_get(per_channel, cid);
            if (!slot) {
                slot = json_pack("{s:O,s:[]}", "channel", t, "held");
                json_object_set_new(per_channel, cid, slot);
            }
            json_array_append(json_object_get(slot, "held"), h);
        }
        json_decref(targets);
    }
    const char *cid;
    json_t *slot;
    json_object_foreach(per_channel, cid, slot)
    {
        json_t *mine = json_object_get(slot, "held");
        json_t *one = json_pack("[O]", json_object_get(slot, "channel"));
        if (st != SW_OK) {
            json_decref(one);
            break;
        }
        if (n >= ROLLUP_MIN && json_array_size(mine) > 1) {
            char dedup[200];
            json_t *list = json_array(), *x;
            size_t k;
            json_array_foreach(mine, k, x) json_array_append(list, json_object_get(x, "data"));
            json_t *data = json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(list),
                                     "incidents", list);
            snprintf(dedup, sizeof(dedup), "rollup:%s",
                     json_string_value(json_object_get(json_array_get(mine, 0), "incident_id")));
            st = notify_queue(c, ids, one, "rollup", NULL, NULL, dedup, data);
            json_decref(data);
        } else {
            size_t k;
            json_t *x;
            json_array_foreach(mine, k, x)
            {
                char dedup[200];
                const char *inc = json_string_value(json_object_get(x, "incident_id"));
                snprintf(dedup, sizeof(dedup), "%s:opened", inc);
                if (st == SW_OK)
                    st = notify_queue(c, ids, one, "incident.opened", inc,
                                      json_string_value(json_object_get(x, "endpoint_id")), dedup,
                                      json_object_get(x, "data"));
            }
        }
        json_decref(one);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (c)
        store_release(app->common->db, c);
    if (st == SW_OK) {
        char nn[16];
        snprintf(nn, sizeof(nn), "%zu", n);
        if (n >= ROLLUP_MIN)
            sw_log(SW_LOG_INFO, "outages rolled up", "tenant_id", tenant, "endpoints", nn, NULL);
        notify_publish_jobs(a, tenant, ids, NULL);
    }
    json_decref(per_channel);
    json_decref(held);
    json_decref(ids);
    return st;
}

/* Sends the reminders that are due. */
static void reminders(bus_actor *a, notify_app *app)
{
    json_t *due = NULL;
    store_conn *pc = store_acquire(app->common->db);
    if (!pc)
        return;
    sw_status st = store_tx_begin(pc);
    if (st == SW_OK)
        st = store_query(pc, &due, NULL,
                         "SELECT incident_id::text AS incident_id, tenant_id,"
                         " endpoint_id::text AS endpoint_id, data, sent FROM public.notify_reminders"
                         " WHERE due_at <= now() ORDER BY due_at LIMIT 50 FOR UPDATE SKIP LOCKED",
                         0, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(due, i, r)
    {
        const char *tenant = json_string_value(json_object_get(r, "tenant_id"));
        const char *inc = json_string_value(json_object_get(r, "incident_id"));
        const char *ep = json_string_value(json_object_get(r, "endpoint_id"));
        json_t *row = NULL, *targets = NULL, *ids = json_array();
        bool keep = false;
        if (st != SW_OK || !sw_tenant_id_valid(tenant))
            break;
        store_conn *c = store_acquire_tenant(app->common->db, tenant);
        sw_status ts = c ? store_tx_begin_tenant(c, tenant) : SW_EUNAVAILABLE;
        const char *p[] = {inc};
        if (ts == SW_OK)
            ts = store_query_one(c, &row,
                                 "SELECT (i.closed_at IS NULL AND NOT EXISTS (SELECT 1 FROM"
                                 " incident_acks a WHERE a.incident_id = i.id)) AS open"
                                 " FROM incidents i WHERE i.id = $1::uuid",
                                 1, p);
        keep = ts == SW_OK && json_is_true(json_object_get(row, "open"));
        if (ts == SW_ENOTFOUND)
            ts = SW_OK;
        if (ts == SW_OK && keep) {
            char dedup[200];
            snprintf(dedup, sizeof(dedup), "%s:reminder:%lld", inc,
                     (long long)json_integer_value(json_object_get(r, "sent")) + 1);
            ts = notify_targets(c, ep, &targets);
            if (ts == SW_OK)
                ts = notify_queue(c, ids, targets, "reminder", inc, ep, dedup,
                                  json_object_get(r, "data"));
            if (ts == SW_OK)
                ts = store_query(c, NULL, NULL,
                                 "INSERT INTO incident_events (incident_id, type, detail)"
                                 " VALUES ($1::uuid, 'reminder', '{}')",
                                 1, p);
        }
        if (ts == SW_OK)
            ts = store_tx_commit(c);
        if (c)
            store_release(app->common->db, c);
        if (ts == SW_OK) {
            notify_publish_jobs(a, tenant, ids, NULL);
            st = keep ? store_query(pc, NULL, NULL,
                                    "UPDATE public.notify_reminders SET sent = sent + 1,"
                                    " due_at = now() + every_minutes * interval '1 minute'"
                                    " WHERE incident_id = $1::uuid",
                                    1, p)
                      : store_query(pc, NULL, NULL,
                                    "DELETE FROM public.notify_reminders"
                                    " WHERE incident_id = $1::uuid",
                                    1, p);
        }
        json_decref(ids);
        json_decref(targets);
        json_decref(row);
    }
    if (st == SW_OK)
        store_tx_commit(pc);
    store_release(app->common->db, pc);
    json_decref(due);
}

void notify_tick(bus_actor *a, void *p, natsMsg **msgs, int n)
{
    notify_app *app = p;
    json_t *tenants = NULL;
    (void)msgs;
    (void)n;
    if (ready_tenants(app, &tenants) == SW_OK) {
        size_t i;
        json_t *t;
        json_array_foreach(tenants, i, t)
        {
            const char *tenant = json_string_value(json_object_get(t, "tenant_id"));
            if (sw_tenant_id_valid(tenant) && flush_tenant(a, app, tenant) != SW_OK)
                sw_log(SW_LOG_WARN, "held outage notifications not sent yet; will retry",
                       "tenant_id", tenant, NULL);
        }
    }
    json_decref(tenants);
    reminders(a, app);
    for (int waited = 0; waited < TICK_MS && !bus_actor_stopping(a); waited += 100)
        nats_Sleep(100);
}
