/* sw-endpoints' side of a plan change: it consumes sw.v1.evt.<tenant>.plan.changed (durable
 * BUS_CONSUMER_ENDPOINTS_PLAN on SW_EVENTS) that sw-billing publishes after its commit, and
 * brings its own tables in line with the tenant's plan as it stands now (not as the event
 * says, so a redelivered or reordered event does no harm): past the plan's endpoint limit the
 * newest active endpoints are paused (paused_by_plan, schedule row removed; the oldest stay
 * active, nothing is deleted); with no limit every endpoint a downgrade paused is resumed and
 * due at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/plans.h"
#include "actors/endpoints/endpoints.h"
#include "bus/jetstream.h"
#include "bus/ids.h"
#include "bus/log.h"
#include "bus/messages.h"
#include "store/store.h"

sw_status endpoints_lock_plan(store_conn *c, const char *tenant, const sw_plan **plan)
{
    json_t *row = NULL;
    const char *p[] = {tenant};
    /* The two-key advisory space (class 'SW', the tenant's hash) never meets the recorder's
     * one-key locks per endpoint. The plan itself is sw-billing's row, read after the lock. */
    sw_status st = store_query_one(c, &row,
                                   "SELECT coalesce(s.plan, 'free') AS plan"
                                   " FROM (SELECT pg_advisory_xact_lock(" ENDPOINTS_PLAN_LOCK_CLASS
                                   ", hashtext($1))) AS l"
                                   " LEFT JOIN public.subscriptions s ON s.tenant_id = $1",
                                   1, p);
    *plan = st == SW_OK ? sw_plan_find(json_string_value(json_object_get(row, "plan"))) : NULL;
    json_decref(row);
    return st;
}

/* Applies the tenant's plan to its endpoints in one transaction. *paused, *resumed: counts. */
static sw_status apply_plan(store_conn *c, const char *tenant, long *paused, long *resumed)
{
    const sw_plan *plan = NULL;
    char limit[16];
    const char *p[] = {tenant, limit};
    *paused = *resumed = 0;
    sw_status st = store_tx_begin_tenant(c, tenant);
    if (st == SW_OK)
        st = endpoints_lock_plan(c, tenant, &plan);
    if (st != SW_OK || !plan)
        goto out;
    if (plan->endpoint_limit >= 0) {
        snprintf(limit, sizeof(limit), "%d", plan->endpoint_limit);
        st = store_query(c, NULL, paused,
                         "WITH p AS (UPDATE endpoints SET paused = true, paused_by_plan = true,"
                         "   updated_at = clock_timestamp() WHERE id IN (SELECT id FROM endpoints"
                         "   WHERE NOT paused ORDER BY created_at, id OFFSET $2::int)"
                         "   RETURNING id),"
                         /* a paused heartbeat has no public.heartbeats row: it never lapses */
                         " h AS (DELETE FROM public.heartbeats hb USING p"
                         "   WHERE hb.endpoint_id = p.id AND hb.tenant_id = $1)"
                         " DELETE FROM public.schedule s USING p"
                         " WHERE s.endpoint_id = p.id AND s.tenant_id = $1",
                         2, p);
    } else {
        /* A paused endpoint has no schedule row (schema/public/0003_schedule.sql): resumed
         * ones get theirs back, due now, as after an update. */
        st = store_query(c, NULL, resumed,
                         "WITH r AS (UPDATE endpoints SET paused = false, paused_by_plan = false,"
                         "   updated_at = clock_timestamp() WHERE paused_by_plan"
                         "   RETURNING id, name, url, interval_seconds, timeout_seconds,"
                         "   expected_status, regions, failure_threshold, recovery_threshold,"
                         "   name AS hb_name, ping_key, period_seconds, cron, tz, grace_seconds),"
                         /* a heartbeat gets its public.heartbeats row back, never a schedule */
                         " h AS (INSERT INTO public.heartbeats (endpoint_id, tenant_id, name,"
                         "   period_seconds, cron, tz, grace_seconds)"
                         "   SELECT r.id, $1, r.hb_name, r.period_seconds, r.cron,"
                         "   coalesce(r.tz, 'UTC'), coalesce(r.grace_seconds, 300) FROM r"
                         "   WHERE r.ping_key IS NOT NULL ON CONFLICT (endpoint_id) DO NOTHING)"
                         " INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds,"
                         "  regions, next_due_at, url, name, timeout_seconds, expected_status,"
                         "  failure_threshold, recovery_threshold)"
                         " SELECT r.id, $1, r.interval_seconds, r.regions, now(), r.url, r.name,"
                         "  r.timeout_seconds, r.expected_status, r.failure_threshold,"
                         "  r.recovery_threshold FROM r WHERE r.ping_key IS NULL"
                         " ON CONFLICT (endpoint_id) DO NOTHING",
                         1, p);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
out:
    if (st != SW_OK)
        store_tx_rollback(c);
    return st;
}

void endpoints_plan_batch(bus_actor *a, void *app_arg, natsMsg **msgs, int n)
{
    endpoints_app *app = app_arg;
    natsConnection *nc = bus_actor_conn(a);
    for (int i = 0; i < n; i++) {
        char tenant[BUS_TENANT_MAX];
        long paused = 0, resumed = 0;
        /* The tenant is the subject's, the plan public.subscriptions': an event says only "look
         * again", so a forged or stale one changes nothing. */
        if (!bus_subject_event_tenant(natsMsg_GetSubject(msgs[i]), tenant) ||
            !sw_tenant_id_valid(tenant)) {
            sw_log(SW_LOG_ERROR, "plan.changed with no tenant in its subject: terminated",
                   "subject", natsMsg_GetSubject(msgs[i]), NULL);
            bus_msg_term(nc, msgs[i]);
            natsMsg_Destroy(msgs[i]);
            continue;
        }
        store_conn *c = store_acquire_tenant(app->common->db, tenant);
        sw_status st = c ? apply_plan(c, tenant, &paused, &resumed) : SW_EUNAVAILABLE;
        store_release(app->common->db, c);
        if (st == SW_OK || st == SW_ENOTFOUND) { /* a tenant deleted since has nothing left */
            char np[24], nr[24];
            snprintf(np, sizeof(np), "%ld", paused);
            snprintf(nr, sizeof(nr), "%ld", resumed);
            sw_log(SW_LOG_INFO, "plan applied to endpoints", "tenant_id", tenant, "paused", np,
                   "resumed", nr, NULL);
            bus_actor_count(a, "plan_endpoints_paused", paused);
            bus_actor_count(a, "plan_endpoints_resumed", resumed);
            bus_msg_ack(nc, msgs[i]);
        } else {
            sw_log(SW_LOG_WARN, "plan change not applied yet; will retry", "tenant_id", tenant,
                   "status", sw_status_name(st), NULL);
            bus_msg_nak(nc, msgs[i], BUS_PLAN_RETRY_MS);
        }
        natsMsg_Destroy(msgs[i]);
    }
}
