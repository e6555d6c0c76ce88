/* Due rows to jobs. The job carries everything a prober needs (URL, timeout, expected status;
 * bus/messages.h), so it never reads a tenant schema; thresholds and quorum are the recorder's
 * own data (public.schedule), never a message's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/app.h"
#include "actors/scheduler/scheduler.h"
#include "bus/config.h"
#include "bus/jetstream.h"
#include "bus/log.h"
#include "bus/messages.h"

typedef struct scheduler {
    store_pool *db;
    bus_apub *jobs;
    int batch;
    int tick_ms;
} scheduler;

/* Jobs published by this thread's last committed tick, for the actor's counters (kept out of
 * scheduler_tick's signature, which the probing tests call directly). */
static __thread int64_t tick_jobs;

sw_status scheduler_tick(store_conn *c, bus_apub *jobs_out, int batch, int *claimed,
                         int64_t *lateness_ms_max)
{
    int64_t jobs = 0;
    json_t *rows = NULL, *ids = json_array();
    char lim[16], subject[BUS_SUBJECT_MAX];
    sw_status st;

    *claimed = 0;
    *lateness_ms_max = 0;
    snprintf(lim, sizeof(lim), "%d", batch);
    const char *p[] = {lim};
    st = store_tx_begin(c);
    if (st != SW_OK)
        goto out;
    st = store_query(c, &rows, NULL,
                     "SELECT endpoint_id::text AS endpoint_id, tenant_id, url, timeout_seconds,"
                     " expected_status, regions, probe,"
                     " floor(extract(epoch FROM next_due_at))::bigint AS due_epoch,"
                     " (extract(epoch FROM now() - next_due_at) * 1000)::bigint AS late_ms"
                     " FROM public.schedule WHERE next_due_at <= now() AND url IS NOT NULL"
                     " ORDER BY next_due_at LIMIT $1::int FOR UPDATE SKIP LOCKED",
                     1, p);
    if (st != SW_OK)
        goto out;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        bus_probe_job job = {
            .endpoint_id = json_string_value(json_object_get(r, "endpoint_id")),
            .tenant_id = json_string_value(json_object_get(r, "tenant_id")),
            .url = json_string_value(json_object_get(r, "url")),
            .due_epoch = json_integer_value(json_object_get(r, "due_epoch")),
            .timeout_seconds = (int)json_integer_value(json_object_get(r, "timeout_seconds")),
            .expected_status = json_object_get(r, "expected_status"),
            .check = json_is_object(json_object_get(r, "probe")) ? json_object_get(r, "probe")
                                                                 : NULL,
        };
        /* regions arrives as a PostgreSQL array literal: {local,eu-west} */
        const char *regions = json_string_value(json_object_get(r, "regions"));
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", regions ? regions : "{}");
        char *save = NULL;
        for (char *reg = strtok_r(buf, "{},\"", &save); reg; reg = strtok_r(NULL, "{},\"", &save)) {
            job.region = reg;
            json_t *jobj =
                bus_probe_job_set_id(&job) && bus_subject_probe_job(subject, sizeof(subject), reg)
                    ? bus_probe_job_encode(&job)
                    : NULL;
            /* PubAcks are collected once for the whole batch, before the commit. */
            st = jobj ? bus_apub_publish(jobs_out, subject, jobj, job.job_id, NULL) : SW_EINTERNAL;
            json_decref(jobj);
            if (st != SW_OK)
                goto out; /* rolled back below: the rows stay due, the next tick retries */
            jobs++;
        }
        json_array_append(ids, json_object_get(r, "endpoint_id"));
        int64_t late = json_integer_value(json_object_get(r, "late_ms"));
        if (late > *lateness_ms_max)
            *lateness_ms_max = late;
    }
    /* Every job stored, or none of the claim stands (those stored are deduplicated by their
     * Nats-Msg-Id when the next tick publishes them again). */
    st = bus_apub_flush(jobs_out);
    if (st != SW_OK)
        goto out;
    if (json_array_size(ids) > 0) {
        char *idlist = json_dumps(ids, JSON_COMPACT);
        const char *pu[] = {idlist};
        /* Next due one interval later; an endpoint that fell behind (scheduler down) is not
         * checked for every missed slot, only once now and then on its interval again. */
        st = store_query(c, NULL, NULL,
                         "UPDATE public.schedule SET next_due_at = CASE"
                         " WHEN next_due_at + make_interval(secs => interval_seconds) > now()"
                         " THEN next_due_at + make_interval(secs => interval_seconds)"
                         " ELSE now() + make_interval(secs => interval_seconds) END"
                         " WHERE endpoint_id IN (SELECT json_array_elements_text($1::json)::uuid)",
                         1, pu);
        free(idlist);
        if (st != SW_OK)
            goto out;
    }
    st = store_tx_commit(c);
    if (st == SW_OK) {
        *claimed = (int)json_array_size(rows);
        tick_jobs = jobs;
    }
out:
    if (st != SW_OK) {
        bus_apub_flush(jobs_out); /* nothing of this tick may linger into the next */
        store_tx_rollback(c);
    }
    json_decref(ids);
    json_decref(rows);
    return st;
}

/* bus_worker.handle of a ticker: one tick per turn. */
void scheduler_turn(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    scheduler *s = app;
    static __thread int64_t last_warn;
    int claimed = 0;
    int64_t late = 0;
    (void)msgs;
    (void)n;
    store_conn *c = store_acquire(s->db);
    tick_jobs = 0;
    sw_status st = c ? scheduler_tick(c, s->jobs, s->batch, &claimed, &late) : SW_EUNAVAILABLE;
    store_release(s->db, c);
    if (st == SW_OK && claimed > 0) {
        bus_actor_count(a, "endpoints_claimed", claimed);
        bus_actor_count(a, "jobs_published", tick_jobs);
        bus_actor_count_max(a, "lateness_ms_max", late);
    } else if (st != SW_OK) {
        bus_actor_count(a, "tick_errors", 1);
    }
    if (st != SW_OK && sw_now_ns() - last_warn > 10000000000LL) {
        sw_log(SW_LOG_WARN, "scheduling paused: will retry", "status", sw_status_name(st), NULL);
        last_warn = sw_now_ns();
    }
    /* A full batch means more is due: go again at once. Otherwise wait a tick, but no later
     * than just past the next whole second: due times are whole seconds (a job is named by
     * its due second), so most of what falls due is claimed the moment it does. */
    if (st != SW_OK || claimed < s->batch) {
        int64_t to_second = 1000 - sw_epoch_ms() % 1000 + 2;
        nats_Sleep(st == SW_OK && to_second < s->tick_ms ? to_second : s->tick_ms);
    }
}

/* Before the runtime drains the connection (which would wait for its subscription). */
void scheduler_done(void *app)
{
    scheduler *s = app;
    bus_apub_free(s->jobs);
    s->jobs = NULL;
}

void *scheduler_app_init(bus_actor *a, sw_status *err)
{
    char inbox[96];
    scheduler *s = calloc(1, sizeof(*s));
    if (!s) {
        *err = SW_EINTERNAL;
        return NULL;
    }
    s->batch = (int)sw_config_long("SW_SCHED_BATCH", 500, 1, 10000, NULL);
    s->tick_ms = (int)sw_config_long("SW_SCHED_TICK_MS", 200, 10, 60000, NULL);
    bus_inbox_prefix(inbox, sizeof(inbox));
    if (bus_apub_new(&s->jobs, bus_actor_conn(a), inbox, 5000) != SW_OK ||
        store_pool_new(&s->db, sw_config_str("DATABASE_URL", ""), 2) != SW_OK) {
        scheduler_app_free(s);
        *err = SW_EINTERNAL;
        return NULL;
    }
    return s;
}

void scheduler_app_free(void *arg)
{
    scheduler *s = arg;
    if (!s)
        return;
    store_pool_free(s->db);
    bus_apub_free(s->jobs);
    free(s);
}

/* Two connections: the loop's, and one for these gauges so $SRV.STATS never waits for a tick. */
void scheduler_stats(bus_actor *a, json_t *data)
{
    scheduler *s = bus_actor_app(a);
    json_t *lag = NULL;
    store_conn *c = s ? store_acquire(s->db) : NULL;
    if (!c || actor_tx_bounded(c, 400) != SW_OK)
        goto out;
    actor_stats_by_plan(c, data, "endpoints_by_plan",
                        "SELECT coalesce(sub.plan, 'free') AS plan, count(*)::bigint AS n"
                        " FROM public.schedule s LEFT JOIN public.subscriptions sub"
                        "   ON sub.tenant_id = s.tenant_id GROUP BY 1");
    /* The index on next_due_at finds the oldest due row at once. */
    if (store_query_one(c, &lag,
                        "SELECT COALESCE(extract(epoch FROM now() - min(next_due_at)), 0)::float8"
                        " AS lag FROM public.schedule WHERE next_due_at <= now()"
                        " AND url IS NOT NULL",
                        0, NULL) == SW_OK) {
        double v = json_number_value(json_object_get(lag, "lag"));
        json_object_set_new(data, "lag_seconds", json_real(v > 0 ? v : 0.0));
    }
out:
    if (c)
        store_release(s->db, c);
    json_decref(lag);
}
