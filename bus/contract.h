/* The bus contract, written once: every subject, stream, durable consumer, header name, msg-id
 * format, delivery limit and latency bucket the actors, sw-migrate (bus/topology.c), swctl and
 * the edge agree on. Change one here and every side follows; nothing else spells them out.
 *
 * Subjects are versioned (sw.v1.); a token in angle brackets is filled in by the bus_subject_*
 * helpers of bus/messages.h. NATS permissions (ops/nats/accounts.conf.tmpl) bind the region of
 * sw.v1.results.<region>.<tenant> and sw.v1.jobs.probe.<region> to the region's prober user. */
#ifndef SW_BUS_CONTRACT_H
#define SW_BUS_CONTRACT_H

/* ---- request/reply (queue group BUS_QUEUE_GROUP) ---------------------------------------- */

#define BUS_QUEUE_GROUP "q"
#define BUS_SUBJECT_PREFIX "sw.v1."

/* Headers the edge sets on every request and actors trust (NATS permissions make them
 * unforgeable: only the edge may publish API requests). */
#define BUS_H_REQUEST_ID "Sw-Request-Id"
#define BUS_H_TENANT "Sw-Tenant"
#define BUS_H_USER "Sw-User"
#define BUS_H_ROLE "Sw-Role"
#define BUS_H_CLIENT_IP "Sw-Client-Ip"
#define BUS_H_PARAM_ID "Sw-Param-Id"
#define BUS_H_QUERY "Sw-Query"
/* The scheme and host the client used ("https://status.example.com"), for absolute URLs in
 * replies (pagination links); see edge_request_base() in http/edge.h. */
#define BUS_H_BASE_URL "Sw-Base-Url"
#define BUS_H_STATUS "Sw-Status"
/* Reply headers named Sw-Http-<Name> become HTTP response header <Name> at the edge (for an
 * allow-listed set of names: Retry-After, Set-Cookie, WWW-Authenticate, Location). */
#define BUS_H_HTTP_PREFIX "Sw-Http-"
/* Set (with the token's uuid) when the caller authenticated with an API token rather than an
 * access token; Sw-User is then the token's creator and Sw-Role the token's role. */
#define BUS_H_API_TOKEN "Sw-Api-Token"
/* Published (no reply) by the edge at most once a minute per API token in use: {"id"} with
 * Sw-Tenant; sw-auth records it as the token's last use. */
#define BUS_SUBJ_AUTH_TOKEN_USED "sw.v1.auth.token_used"

/* ---- JetStream: headers ----------------------------------------------------------------- */

#define BUS_H_MSG_ID "Nats-Msg-Id" /* JetStream drops a repeat within BUS_DUPLICATE_WINDOW_S */
#define BUS_H_CONTENT_TYPE "Content-Type"
/* A dead letter's reason, the subject it was consumed from and its SW_JOBS sequence. */
#define BUS_H_DLQ_REASON "Sw-Dlq-Reason"
#define BUS_H_DLQ_SUBJECT "Sw-Dlq-Subject"
#define BUS_H_DLQ_SEQ "Sw-Dlq-Seq"
/* On a replay record (swctl dlq replay): the SW_DLQ sequence replayed. */
#define BUS_H_DLQ_REPLAY_OF "Sw-Dlq-Replay-Of"

/* ---- JetStream: streams and their subjects ---------------------------------------------- */

#define BUS_STREAM_JOBS "SW_JOBS"       /* work queue: probe and mail jobs */
#define BUS_STREAM_RESULTS "SW_RESULTS" /* work queue: probe results for the recorder */
#define BUS_STREAM_EVENTS "SW_EVENTS"   /* limits, 7 days: what happened, for whoever listens */
#define BUS_STREAM_DLQ "SW_DLQ"         /* limits, 30 days: jobs that used up their deliveries */
#define BUS_STREAM_ADVISORIES "SW_ADVISORIES" /* limits, 30 days: SW_JOBS delivery advisories */
/* limits, the last message per subject, no age limit: API-token records (bus/apitoken.h) */
#define BUS_STREAM_API_TOKENS "SW_API_TOKENS"
#define BUS_SUBJ_API_TOKENS "sw.v1.apitokens.>"

#define BUS_EVENTS_MAX_AGE_S (7 * 86400)
#define BUS_DLQ_MAX_AGE_S (30 * 86400)
#define BUS_DUPLICATE_WINDOW_S 120

#define BUS_SUBJ_JOBS "sw.v1.jobs.>"
#define BUS_SUBJ_PROBE_JOB_PREFIX "sw.v1.jobs.probe." /* + <region> */
#define BUS_SUBJ_MAIL_JOB "sw.v1.jobs.mail"
#define BUS_SUBJ_RESULTS "sw.v1.results.>"
#define BUS_SUBJ_RESULT_PREFIX "sw.v1.results." /* + <region>.<tenant> */
#define BUS_SUBJ_EVENTS "sw.v1.evt.>"
#define BUS_SUBJ_EVENT_PREFIX "sw.v1.evt." /* + <tenant>.<kind> */
#define BUS_SUBJ_DLQ "sw.v1.dlq.>"
#define BUS_SUBJ_DLQ_PREFIX "sw.v1.dlq."
#define BUS_SUBJ_DLQ_JOBS "sw.v1.dlq.SW_JOBS"
#define BUS_SUBJ_DLQ_REPLAYS_PREFIX "sw.v1.dlq.replays." /* + <dlq seq> */
#define BUS_SUBJ_ADVISORY_MAX_DELIVERIES "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.SW_JOBS.>"
#define BUS_SUBJ_ADVISORY_TERMINATED "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.SW_JOBS.>"

/* Event kinds: sw.v1.evt.<tenant>.<kind>. */
#define BUS_EVT_ENDPOINT_PREFIX "endpoint." /* created|updated|deleted|up|down|dead_lettered */
#define BUS_EVT_ENDPOINT_UP "endpoint.up"
#define BUS_EVT_ENDPOINT_DOWN "endpoint.down"
/* Passing, but slower than the endpoint's degraded_threshold_ms (the thresholds of down); an
 * endpoint.up follows with "recovered_from": "degraded". No outage mail. */
#define BUS_EVT_ENDPOINT_DEGRADED "endpoint.degraded"
/* The certificate of an endpoint's HTTPS checks has crossed one of its tls_expiry_alert_days:
 * once per threshold per certificate ({endpoint_id, threshold_days, days_left, expires_at,
 * issuer, subject, endpoint_name, url}); msg id BUS_ID_TLS_EXPIRING_FMT. */
#define BUS_EVT_TLS_EXPIRING "tls.expiring"
#define BUS_EVT_ENDPOINT_DEAD_LETTERED "endpoint.dead_lettered"
#define BUS_EVT_PLAN_CHANGED "plan.changed"
/* A status page was created, changed or deleted (sw-endpoints): edges drop their cache of the
 * tenant's public pages. */
#define BUS_EVT_STATUS_PAGE_CHANGED "status_page.changed"
/* Filters of the durable event consumers (any tenant). */
#define BUS_SUBJ_EVT_PLAN_CHANGED "sw.v1.evt.*.plan.changed"

/* What the edge's public status cache listens to (core subscriptions, no durable: a missed
 * event only means an entry lives out its SW_STATUS_CACHE_TTL_MS). */
#define BUS_SUBJ_EVT_ENDPOINT_ANY "sw.v1.evt.*.endpoint.>"
#define BUS_SUBJ_EVT_STATUS_PAGE "sw.v1.evt.*.status_page.>"
/* The edge asks sw-endpoints for one public document of a status page (edge cache miss). */
#define BUS_SUBJ_STATUS_PUBLIC "sw.v1.endpoints.status_public"

/* ---- JetStream: durable consumers and their delivery limits ----------------------------- */

/* Probe jobs: one durable per region, filtered on BUS_SUBJ_PROBE_JOB_PREFIX<region>. A failed
 * check is nak'd with BUS_PROBE_RETRY_BASE_MS × BUS_PROBE_RETRY_FACTOR^(attempt-1) (5 s, 15 s);
 * after BUS_PROBE_MAX_DELIVER deliveries JetStream raises a max-deliveries advisory. No
 * consumer BackOff: with one, nats-server 2.9.10 ignored a second NakWithDelay. */
#define BUS_CONSUMER_PROBERS_PREFIX "probers-" /* + <region> */
#define BUS_PROBE_MAX_DELIVER 3
#define BUS_PROBE_ACK_WAIT_S 30
#define BUS_PROBE_RETRY_BASE_MS 5000
#define BUS_PROBE_RETRY_FACTOR 3
#define BUS_PROBE_MAX_ACK_PENDING 20000
/* A check may take up to BUS_PROBE_TIMEOUT_MAX_S; past BUS_PROBE_EXTEND_S the prober sends
 * InProgress once so the ack wait does not run out. */
#define BUS_PROBE_TIMEOUT_MAX_S 60
#define BUS_PROBE_TIMEOUT_DEFAULT_S 10
#define BUS_PROBE_EXTEND_S 20

/* Mail jobs: sw-notify naks with its own growing delay while SMTP fails. */
#define BUS_CONSUMER_MAILER "mailer"
#define BUS_MAIL_MAX_DELIVER 20
#define BUS_MAIL_ACK_WAIT_S 60
#define BUS_MAIL_MAX_ACK_PENDING 256

/* Results: the recorder writes batches; a failed batch is nak'd after BUS_RESULT_RETRY_MS. */
#define BUS_CONSUMER_RECORDER "recorder"
#define BUS_RESULT_ACK_WAIT_S 60
#define BUS_RESULT_MAX_ACK_PENDING 20000
#define BUS_RESULT_RETRY_MS 1000

/* Advisories of SW_JOBS, for sw-deadletter. */
#define BUS_CONSUMER_DEADLETTER "deadletter"
#define BUS_DEADLETTER_ACK_WAIT_S 60
#define BUS_DEADLETTER_RETRY_MS 2000

/* plan.changed events, for sw-endpoints (pauses or resumes its own endpoints). */
#define BUS_CONSUMER_ENDPOINTS_PLAN "endpoints-plan"
#define BUS_PLAN_ACK_WAIT_S 30
#define BUS_PLAN_RETRY_MS 2000

/* endpoint.down|up events, for sw-auth (the owner of the users decides whom to mail). Only new
 * events: a consumer created on an existing stream must not mail past incidents again. */
#define BUS_CONSUMER_AUTH_ALERTS "auth-alerts"
/* tls.expiring events, for sw-auth's mail to the owner (issue 17); only new events too. */
#define BUS_CONSUMER_AUTH_TLS "auth-tls"
#define BUS_SUBJ_EVT_TLS_EXPIRING "sw.v1.evt.*.tls.expiring"
#define BUS_SUBJ_EVT_ENDPOINT "sw.v1.evt.*.endpoint.*"
#define BUS_ALERT_ACK_WAIT_S 30
#define BUS_ALERT_RETRY_MS 2000

/* The audit trail of changes made outside sw-auth (issue 21). audit_log is sw-auth's table, so
 * an actor whose change belongs in an organization's audit log does not write it: it adds one
 * "audit" object to the payload of the event it publishes after its commit anyway, and sw-auth
 * pulls every event of SW_EVENTS (durable BUS_CONSUMER_AUTH_AUDIT, new events only) and writes
 * one audit_log row per event that carries one, in the tenant of the SUBJECT (never of the
 * payload), keyed by the event's Nats-Msg-Id (unique in audit_log.event_id): a redelivered or
 * re-published event writes nothing. Events without "audit" (endpoint.up|down, ...) are acked.
 * Encoder bus_audit_put(), decoder bus_audit_decode() (bus/messages.h); an actor serving a
 * request fills the actor part with bus_audit_from_req() (bus/bus.h):
 *
 *   "audit": {
 *     "action":  "endpoint.created",   <entity>.<verb>, [a-z_.], 3..64 characters
 *     "target":  {"type": "endpoint", "id": "<uuid or other id>", "label": "<name>"},
 *                type [a-z_] 1..32; id at most 64 characters; label optional, cut to 200
 *     "actor":   {"user_id": "<uuid>",      Sw-User of the request (absent: none)
 *                 "token_id": "<uuid>",     Sw-Api-Token, when an API token was used
 *                 "client_ip": "<address>", Sw-Client-Ip (the edge's view of the client)
 *                 "label": "Stripe"},       only without user and token: who else acted
 *     "request_id": "<Sw-Request-Id>",     optional
 *     "at_ms":   1733112000123,           when the change was committed (epoch ms)
 *     "detail":  {...}                    optional object, at most BUS_AUDIT_DETAIL_MAX bytes
 *   }
 *
 * sw-auth resolves the actor's label (the user's email, "token <name>") when it writes the
 * row. Published today: endpoint.created|updated|deleted (sw-endpoints: actions
 * endpoint.created|updated|deleted, target endpoint + its name, detail.fields on an update),
 * status_page.changed (status_page.created|updated|deleted, target status_page + its name),
 * plan.changed (sw-billing: action plan.changed, target organization, actor label "Stripe",
 * detail {plan, previous_plan, stripe_event}). Notification channels do the same on
 * sw.v1.evt.<tenant>.channel.changed (BUS_EVT_CHANNEL_CHANGED): actions
 * channel.created|updated|deleted, target {"type": "channel", "id", "label": <name>}. */
#define BUS_CONSUMER_AUTH_AUDIT "auth-audit"
#define BUS_AUDIT_ACK_WAIT_S 30
#define BUS_AUDIT_RETRY_MS 2000
#define BUS_AUDIT_DETAIL_MAX 2048
#define BUS_EVT_CHANNEL_CHANGED "channel.changed"

/* ---- alerting (sw-notify, issue 19) ------------------------------------------------------ */

/* endpoint.down|up (and degraded, tls.expiring) events for sw-notify, which turns each into one
 * notification per channel of the endpoint. Only new events, like BUS_CONSUMER_AUTH_ALERTS. */
#define BUS_CONSUMER_NOTIFY_ALERTS "notify-alerts"
#define BUS_EVT_ENDPOINT_DEGRADED "endpoint.degraded"
#define BUS_EVT_TLS_EXPIRING "tls.expiring"
/* channel.changed (BUS_EVT_CHANNEL_CHANGED, above): {"channel_id", "action", "kind", "name",
 * "audit"} after each create, update, delete and test; never the config. */
/* tls.expiring events (the recorder, issue 17) for sw-notify: one tls.expiring notification
 * per channel of the endpoint. */
#define BUS_CONSUMER_NOTIFY_TLS "notify-tls"
#define BUS_SUBJ_EVT_TLS_EXPIRING "sw.v1.evt.*.tls.expiring"
#define BUS_ID_CHANNEL_EVT_FMT "evt:%s:channel.changed:%s" /* <channel>:<request id | ms> */
/* Deliveries: one job per (notification, channel) on sw.v1.jobs.deliver.<tenant> (SW_JOBS,
 * durable BUS_CONSUMER_DELIVERER): {"tenant_id", "notification_id"}; the row holds the rest.
 * A failed attempt (transport error, timeout, 5xx, 429) is nak'd with the delay
 * BUS_DELIVERY_BACKOFF_S[attempt-1] (their sum is past 2 hours); after the last one sw-notify
 * marks the delivery failed, copies the job to sw.v1.dlq.SW_JOBS and terminates it. A 4xx
 * other than 408/429 fails at once. */
#define BUS_SUBJ_DELIVER_JOB_PREFIX "sw.v1.jobs.deliver." /* + <tenant> */
#define BUS_SUBJ_DELIVER_JOBS "sw.v1.jobs.deliver.>"
#define BUS_CONSUMER_DELIVERER "deliverer"
#define BUS_DELIVERY_BACKOFF_S 2, 10, 30, 60, 120, 300, 600, 900, 1200, 1800, 1800, 1800
#define BUS_DELIVERY_NBACKOFF 12
#define BUS_DELIVERY_MAX_DELIVER (BUS_DELIVERY_NBACKOFF + 1)
#define BUS_DELIVERY_ACK_WAIT_S 60 /* > the longest attempt (SW_NOTIFY_TIMEOUT_S, at most 30) */
#define BUS_DELIVERY_MAX_ACK_PENDING 1024
#define BUS_ID_DELIVER_JOB_FMT "deliver:%s" /* <notification id> */

/* endpoint.deleted events, for the recorder (forgets the endpoint's state rows). */
#define BUS_CONSUMER_RECORDER_DELETES "recorder-deletes"
#define BUS_SUBJ_EVT_ENDPOINT_DELETED "sw.v1.evt.*.endpoint.deleted"

/* ---- heartbeats ----------------------------------------------------------------------- */

/* Pings: the edge publishes each ping it answers 200 on sw.v1.pings.<tenant> (only the edge
 * may: NATS permissions) and answers once JetStream has stored it, so a ping sent while the
 * recorder is stopped waits in the stream. The recorder pulls them (durable recorder-pings),
 * stores them and moves the heartbeat's state; its deadline ticker marks lapsed ones down. */
#define BUS_STREAM_PINGS "SW_PINGS" /* work queue: heartbeat pings for the recorder */
#define BUS_SUBJ_PINGS "sw.v1.pings.>"
#define BUS_SUBJ_PING_PREFIX "sw.v1.pings." /* + <tenant> */
#define BUS_CONSUMER_RECORDER_PINGS "recorder-pings"
#define BUS_PING_ACK_WAIT_S 60
#define BUS_PING_MAX_ACK_PENDING 20000
#define BUS_PING_RETRY_MS 1000
#define BUS_PING_BODY_MAX 10240 /* bytes of a POST body kept with the ping */
#define BUS_PING_RATE_PER_S 5   /* pings per second per heartbeat; more are refused (429) */
/* Ping keys: which endpoint a ping URL's secret uuid names, for the edge, which holds no
 * database. sw-endpoints publishes sw.v1.pingkeys.<key hash> (the hash of the uuid, never the
 * uuid: subjects show in logs and monitoring) when a heartbeat is created, its URL rotated or
 * it is deleted; the stream keeps the last message per subject and every edge watches it. */
#define BUS_STREAM_PING_KEYS "SW_PING_KEYS" /* limits, last per subject */
#define BUS_SUBJ_PING_KEYS "sw.v1.pingkeys.>"
#define BUS_SUBJ_PING_KEY_PREFIX "sw.v1.pingkeys." /* + <key hash> */
#define BUS_PING_KEY_HASH_HEX 32                   /* hex digits of the key hash */

/* ---- msg-id formats (Nats-Msg-Id) ------------------------------------------------------- */

/* A probe job: <endpoint>:<due_epoch>:<region>; the scheduler and sw-endpoints' first check
 * publish the same id for the same slot, so whichever comes second is dropped. It is also the
 * job's job_id. */
#define BUS_ID_PROBE_JOB_FMT "%s:%lld:%s"
/* A result: <job_id>:<attempt>. */
#define BUS_ID_RESULT_FMT "%s:%d"
/* A dead letter: dlq:<stream>:<stream seq>. */
#define BUS_ID_DLQ_FMT "dlq:%s:%llu"
/* A replayed dead letter: replay:<dlq seq>:<epoch ms>. */
#define BUS_ID_REPLAY_FMT "replay:%llu:%lld"
/* An endpoint event: evt:<endpoint>:<kind>:<request id | incident id | epoch ms>. */
#define BUS_ID_ENDPOINT_EVT_FMT "evt:%s:%s:%s"
/* tls.expiring: endpoint id, certificate expiry (epoch s), threshold (days). */
#define BUS_ID_TLS_EXPIRING_FMT "evt:%s:tls.expiring:%lld:%d"
/* A status page event: evt:<page>:status_page.changed:<request id | epoch ms>. */
#define BUS_ID_STATUS_PAGE_EVT_FMT "evt:%s:status_page.changed:%s"
/* A plan change: plan.changed:<stripe event id>. */
#define BUS_ID_PLAN_CHANGED_FMT "plan.changed:%s"
/* The mail about an incident: incident:<incident id>:<up|down>. */
#define BUS_ID_INCIDENT_MAIL_FMT "incident:%s:%s"
/* The mail of a tls.expiring event: endpoint, certificate expiry (epoch s), threshold (days). */
#define BUS_ID_TLS_MAIL_FMT "tls:%s:%lld:%d"

/* A ping: ping:<the edge's request id>. */
#define BUS_ID_PING_FMT "ping:%s"

/* ---- latency buckets --------------------------------------------------------------------- */

/* Check durations the prober counts in $SRV.STATS as check_ms_le_<bound> (and check_ms_le_inf,
 * check_ms_sum); the edge's /metrics turns them into sw_check_duration_seconds. */
#define BUS_CHECK_MS_BUCKETS 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
#define BUS_CHECK_MS_NBUCKETS 9
#define BUS_CHECK_MS_COUNTER_FMT "check_ms_le_%d"
#define BUS_CHECK_MS_COUNTER_INF "check_ms_le_inf"
#define BUS_CHECK_MS_COUNTER_SUM "check_ms_sum"

/* The hourly roll-ups' 14-bucket latency histogram (public.check_rollups_hourly.buckets): the
 * recorder counts a successful check's total_ms with width_bucket over these 13 bounds, the
 * uptime route reads percentiles as bucket upper bounds (schema/public/0005_probing.sql). */
#define BUS_ROLLUP_MS_BOUNDS_SQL "'{1,2,5,10,20,50,100,200,500,1000,2000,5000,10000}'::real[]"

/* ---- sizes ------------------------------------------------------------------------------ */

#define BUS_REGION_MAX 64  /* a region name and its NUL: [a-z0-9-], at most 63 */
#define BUS_TENANT_MAX 48  /* a tenant id and its NUL (t_ + 24) */
#define BUS_UUID_LEN 36    /* an endpoint id, without the NUL */
#define BUS_JOB_ID_MAX 160 /* a job id and its NUL */
#define BUS_SUBJECT_MAX 192

#endif
