/* Each process holds only its own secrets, and each actor's database role only its own
 * tables (issue 13). Reads the environment of every running process of the test instance
 * (/proc/<pid>/environ of the pids in $SW_VAR/run) and every privilege of every actor role
 * (has_table_privilege over public and every tenant schema), and fails on anything that is not
 * in the two tables below, and on anything of them that is missing.
 *
 * The tables are the specification: to tighten a process or a role, change the line here and
 * in ops/sw (proc_env_keys) or in the migrations (schema/public/0006_actor_roles.sql,
 * schema/tenant/0004_grants.sql), and ops/README.md "Secrets per process" / "Database roles". */
#include "tests/support/it.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- environment */

/* Settings any actor or the edge may get (not secrets: where NATS is, the log level, ...). */
#define ENV_COMMON                                                                                 \
    "PATH LANG SW_ENV NATS_URL SW_LOG_LEVEL SW_REGION SW_CONCURRENCY SW_JS_DOMAIN "                \
    "SW_NATS_INBOX_PREFIX SW_DRAIN_TIMEOUT_MS ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS "            \
    "SW_NATS_USER SW_NATS_PASSWORD SENTRY_DSN SENTRY_ENVIRONMENT SENTRY_TRACES_SAMPLE_RATE "       \
    "SW_SENTRY_SPOOL_DIR SW_SENTRY_QUEUE SW_SENTRY_FLUSH_MS SW_SENTRY_TIMEOUT_MS"
/* What actor_app_init reads (the database actors built on it). */
#define ENV_APP                                                                                    \
    "FRONTEND_URL ENFORCE_HTTPS SW_COOKIE_SECURE SW_TENANT_DOMAIN SW_DB_POOL "                     \
    "SW_THROTTLE_REGISTER SW_THROTTLE_LOGIN SW_THROTTLE_SENSITIVE"

static const struct {
    const char *proc;    /* run/<proc>.pid */
    const char *allowed; /* besides ENV_COMMON */
    bool database;       /* has a DATABASE_URL, as role sw_<proc> */
} env_table[] = {
    {"edge",
     "SECRET_KEY SW_HTTP_LISTEN SW_HTTPS_LISTEN SW_WEB_ROOT SW_TRUSTED_PROXIES ENFORCE_HTTPS "
     "ALLOWED_HOSTS CORS_ALLOWED_ORIGINS FRONTEND_URL SW_METRICS_TOKEN SW_TLS_CERT SW_TLS_KEY "
     "SW_BUS_TIMEOUT_MS SW_HTTP_THREADS SW_HTTP_MAX_CONN_PER_CLIENT "
     "SW_HTTP_HEADER_TIMEOUT_MS SW_HTTP_BODY_TIMEOUT_MS SW_READY_ACTORS TMPDIR SW_WEB_SENTRY_DSN "
     "SW_STATUS_CACHE_TTL_MS SW_STATUS_CACHE_ENTRIES SW_STATUS_MAX_AGE_S SW_PING_MAX_PENDING "
     "SW_PING_ACK_WAIT_MS",
     false},
    {"auth", "SECRET_KEY " ENV_APP " SW_PWHASH_CONCURRENCY", true},
    {"tenancy", ENV_APP, true},
    {"endpoints",
     ENV_APP " SW_REGIONS SW_PROBE_ALLOW_CIDRS SW_DNS_SERVERS SW_DNS_TIMEOUT_MS"
             " SW_DNS_TENANT_LOOKUPS SW_SLOW_THREADS SW_SEAL_KEY",
     true},
    {"billing",
     ENV_APP " STRIPE_SECRET_KEY STRIPE_PUBLIC_KEY STRIPE_WEBHOOK_SECRET STRIPE_PRICE_PRO "
             "STRIPE_API_BASE SW_STRIPE_TIMEOUT_MS SW_BUS_TIMEOUT_MS SW_RETENTION_FREE_DAYS "
             "SW_RETENTION_PRO_DAYS",
     true},
    {"notify",
     "EMAIL_URL EMAIL_HOST EMAIL_PORT EMAIL_HOST_USER EMAIL_HOST_PASSWORD EMAIL_USE_TLS "
     "DEFAULT_FROM_EMAIL SW_MAIL_RETRY_MS " ENV_APP " SW_NOTIFY_KEY SW_PROBE_ALLOW_CIDRS "
     "SW_DNS_SERVERS SW_DNS_TIMEOUT_MS SW_NOTIFY_TIMEOUT_S SW_NOTIFY_ROLLUP_HOLD_S "
     "SW_PAGERDUTY_API_BASE "
     "SW_TELEGRAM_API_BASE",
     true},
    {"scheduler", "SW_SCHED_BATCH SW_SCHED_TICK_MS", true},
    {"prober",
     "SW_PROBE_ALLOW_CIDRS SW_PROBE_SANDBOX SW_PROBE_CONCURRENCY SW_PROBE_RETRY_MS "
     "SW_PROBE_CA_FILE SW_SEAL_KEY",
     false},
    {"recorder", "SW_RECORDER_BATCH SW_RETENTION_FREE_DAYS SW_RETENTION_PRO_DAYS", true},
    {"deadletter", "", true},
};

static bool word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* The environment of pid as "\nKEY=VALUE\n..." (owned), NULL when unreadable. */
static char *read_environ(long pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    /* A leading newline, so "\nKEY=" finds the first variable too. */
    char *buf = calloc(1, 1 << 20);
    buf[0] = '\n';
    size_t n = fread(buf + 1, 1, (1 << 20) - 2, f);
    fclose(f);
    for (size_t i = 1; i <= n; i++)
        if (buf[i] == '\0')
            buf[i] = '\n';
    return buf;
}

static long read_pid(const char *proc)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/run/%s.pid", getenv("SW_VAR"), proc);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

static void test_each_process_gets_only_its_settings(void **state)
{
    char problems[8192] = "";
    for (size_t i = 0; i < sizeof(env_table) / sizeof(env_table[0]); i++) {
        long pid = read_pid(env_table[i].proc);
        char *env = pid > 0 ? read_environ(pid) : NULL;
        if (!env)
            fail_msg("cannot read the environment of %s (pid %ld)", env_table[i].proc, pid);
        bool has_db = false;
        char want_user[64];
        snprintf(want_user, sizeof(want_user), "://sw_%s:", env_table[i].proc);
        for (char *save = NULL, *line = strtok_r(env, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char key[128];
            const char *eq = strchr(line, '=');
            snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - line) : (int)strlen(line), line);
            if (strcmp(key, "DATABASE_URL") == 0) {
                has_db = true;
                if (!env_table[i].database || !strstr(line, want_user)) {
                    char msg[160];
                    snprintf(msg, sizeof(msg), "\n  %s: DATABASE_URL %s", env_table[i].proc,
                             env_table[i].database ? "is not its own role" : "must not be set");
                    strncat(problems, msg, sizeof(problems) - strlen(problems) - 1);
                }
                continue;
            }
            if (!word_in(ENV_COMMON, key) && !word_in(env_table[i].allowed, key)) {
                char msg[200];
                snprintf(msg, sizeof(msg), "\n  %s: %s", env_table[i].proc, key);
                strncat(problems, msg, sizeof(problems) - strlen(problems) - 1);
            }
        }
        if (env_table[i].database && !has_db) {
            char msg[160];
            snprintf(msg, sizeof(msg), "\n  %s: no DATABASE_URL", env_table[i].proc);
            strncat(problems, msg, sizeof(problems) - strlen(problems) - 1);
        }
        free(env);
    }
    if (problems[0])
        fail_msg("settings a process should not have (or lacks):%s", problems);
}

/* The rule the table encodes, said outright: the signing key only where tokens are issued or
 * verified, the seal key only where headers are sealed and opened, Stripe only in billing, nothing of the database in a prober or the edge. */
static void test_the_secrets_rule(void **state)
{
    const char *procs[] = {"edge",   "auth",      "tenancy", "endpoints", "billing",
                           "notify", "scheduler", "prober",  "recorder",  "deadletter"};
    for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
        char *env = read_environ(read_pid(procs[i]));
        assert_non_null(env);
        bool tokens = strcmp(procs[i], "edge") == 0 || strcmp(procs[i], "auth") == 0;
        bool billing = strcmp(procs[i], "billing") == 0;
        bool no_db = strcmp(procs[i], "edge") == 0 || strcmp(procs[i], "prober") == 0;
        /* The key that seals notification channels' secrets: sw-notify's alone. */
        if ((strstr(env, "\nSW_NOTIFY_KEY=") != NULL) != (strcmp(procs[i], "notify") == 0))
            fail_msg("%s: SW_NOTIFY_KEY %s", procs[i],
                     strcmp(procs[i], "notify") == 0 ? "missing" : "present");
        if ((strstr(env, "\nSECRET_KEY=") != NULL) != tokens)
            fail_msg("%s: SECRET_KEY %s", procs[i], tokens ? "missing" : "present");
        /* The key of the sealed request headers (issue 17): who seals and who opens. */
        bool seals = strcmp(procs[i], "endpoints") == 0 || strcmp(procs[i], "prober") == 0;
        if ((strstr(env, "\nSW_SEAL_KEY=") != NULL) != seals)
            fail_msg("%s: SW_SEAL_KEY %s", procs[i], seals ? "missing" : "present");
        if (!billing &&
            (strstr(env, "STRIPE_") || strstr(env, "sk_test_") || strstr(env, "whsec_")))
            fail_msg("%s holds Stripe settings", procs[i]);
        if (no_db && (strstr(env, "DATABASE_URL") || strstr(env, "postgresql://")))
            fail_msg("%s holds a database URL", procs[i]);
        if (strstr(env, "NATS_PW_") || strstr(env, "SW_ADMIN_NATS") || strstr(env, "SW_PG_P"))
            fail_msg("%s holds another process's credentials", procs[i]);
        free(env);
    }
}

/* ---------------------------------------------------------------- database roles */

/* Every privilege an actor role has on a table. "tenant.X" is table X of every tenant schema.
 * One writer per table (README "Who owns what"): billing publishes plan.changed instead of
 * pausing endpoints, the recorder's events tell sw-auth whom to mail. */
static const struct {
    const char *role;
    const char *table;
    const char *privileges;
} grant_table[] = {
    {"sw_auth", "public.tenants", "SELECT INSERT"},
    {"sw_auth", "public.subscriptions", "SELECT"},
    {"sw_auth", "public.domains", "SELECT INSERT"},
    {"sw_auth", "public.user_directory", "SELECT INSERT DELETE"},
    {"sw_auth", "public.refresh_tokens", "SELECT INSERT UPDATE"},
    {"sw_auth", "public.rate_limits", "SELECT INSERT UPDATE DELETE"},
    {"sw_auth", "public.login_known_addresses", "SELECT INSERT UPDATE DELETE"},
    {"sw_auth", "tenant.users", "SELECT INSERT UPDATE DELETE"},
    {"sw_auth", "tenant.email_tokens", "SELECT INSERT UPDATE"},
    {"sw_auth", "tenant.invitations", "SELECT INSERT UPDATE"},
    {"sw_auth", "tenant.api_tokens", "SELECT INSERT UPDATE"},
    {"sw_auth", "tenant.audit_log", "SELECT INSERT"}, /* append-only: no UPDATE, no DELETE */

    {"sw_tenancy", "public.tenants", "SELECT"},
    {"sw_tenancy", "public.subscriptions", "SELECT"},
    {"sw_tenancy", "public.domains", "SELECT"},
    {"sw_tenancy", "public.user_directory", "SELECT"},
    {"sw_tenancy", "public.schema_migrations", "SELECT"},

    {"sw_endpoints", "public.tenants", "SELECT"},
    {"sw_endpoints", "public.subscriptions", "SELECT"},
    {"sw_endpoints", "public.schedule", "SELECT INSERT UPDATE DELETE"},
    {"sw_endpoints", "public.endpoint_state", "SELECT"},
    {"sw_endpoints", "public.endpoint_versions", "SELECT"},
    {"sw_endpoints", "public.check_results", "SELECT"},
    {"sw_endpoints", "public.check_runs", "SELECT"},
    {"sw_endpoints", "public.check_history", "SELECT"},
    {"sw_endpoints", "public.check_rollups_hourly", "SELECT"},
    {"sw_endpoints", "tenant.endpoints", "SELECT INSERT UPDATE DELETE"},
    {"sw_endpoints", "public.heartbeats", "SELECT INSERT UPDATE DELETE"},
    {"sw_endpoints", "public.heartbeat_state", "SELECT"},
    {"sw_endpoints", "public.heartbeat_pings", "SELECT"},
    {"sw_endpoints", "public.status_page_slugs", "SELECT INSERT UPDATE DELETE"},
    {"sw_endpoints", "tenant.status_pages", "SELECT INSERT UPDATE DELETE"},
    {"sw_endpoints", "tenant.status_page_components", "SELECT INSERT UPDATE DELETE"},
    {"sw_endpoints", "tenant.incidents", "SELECT"}, /* shown on status pages */
    {"sw_endpoints", "tenant.channels", "SELECT"},  /* an endpoint's channel_ids are checked */

    {"sw_billing", "public.tenants", "SELECT"},
    {"sw_billing", "public.subscriptions", "SELECT INSERT UPDATE"},
    {"sw_billing", "public.stripe_events", "SELECT INSERT"},
    {"sw_billing", "tenant.users", "SELECT"},

    {"sw_scheduler", "public.schedule", "SELECT UPDATE"},
    {"sw_scheduler", "public.tenants", "SELECT"},
    {"sw_scheduler", "public.subscriptions", "SELECT"},

    {"sw_recorder", "public.check_results", "SELECT INSERT"},
    {"sw_recorder", "public.check_runs", "SELECT INSERT UPDATE"},
    {"sw_recorder", "public.check_rollups_hourly", "SELECT INSERT UPDATE"},
    {"sw_recorder", "public.endpoint_region_state", "SELECT INSERT UPDATE DELETE"},
    {"sw_recorder", "public.endpoint_state", "SELECT INSERT UPDATE DELETE"},
    {"sw_recorder", "public.schedule", "SELECT"},
    {"sw_recorder", "public.tenants", "SELECT"},
    {"sw_recorder", "public.subscriptions", "SELECT"},
    {"sw_recorder", "tenant.incidents", "SELECT INSERT UPDATE"},
    {"sw_recorder", "public.heartbeats", "SELECT"},
    {"sw_recorder", "public.heartbeat_state", "SELECT INSERT UPDATE DELETE"},
    {"sw_recorder", "public.heartbeat_pings", "SELECT INSERT UPDATE DELETE"},

    {"sw_deadletter", "public.dead_letters", "SELECT INSERT"},

    /* sw-notify (issue 19): channels, deliveries and the incident timeline are its own; it
     * reads the owner (the first channel), endpoints and incidents (what a message says). */
    {"sw_notify", "public.tenants", "SELECT"},
    {"sw_notify", "public.notify_pending", "SELECT INSERT UPDATE DELETE"},
    {"sw_notify", "public.notify_reminders", "SELECT INSERT UPDATE DELETE"},
    {"sw_notify", "tenant.channels", "SELECT INSERT UPDATE DELETE"},
    {"sw_notify", "tenant.notifications", "SELECT INSERT UPDATE DELETE"},
    {"sw_notify", "tenant.channel_seed", "SELECT INSERT"},
    {"sw_notify", "tenant.incident_events", "SELECT INSERT"},
    {"sw_notify", "tenant.incident_acks", "SELECT INSERT"},
    {"sw_notify", "tenant.users", "SELECT"},
    {"sw_notify", "tenant.endpoints", "SELECT"},
    {"sw_notify", "tenant.incidents", "SELECT"},
};

static const char *roles_sql =
    "'sw_auth','sw_tenancy','sw_endpoints','sw_billing','sw_scheduler','sw_recorder',"
    "'sw_deadletter','sw_notify'";

/* Every (role, table, privilege) the database grants, with tenant schemas folded into
 * "tenant.<table>" (each must agree), one "role table PRIV" line each, sorted. */
static void test_each_role_has_only_its_grants(void **state)
{
    char sql[2048], email[160];
    /* A tenant signed up through the API now: its schema got its grants at creation. */
    free(it_signup_verified(email, sizeof(email), "Grants Co"));
    snprintf(sql, sizeof(sql),
             "WITH t AS (SELECT c.oid, CASE WHEN n.nspname = 'public' THEN 'public.' || c.relname"
             "                  ELSE 'tenant.' || c.relname END AS name, n.nspname"
             "           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
             "           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition"
             "             AND (n.nspname = 'public' OR n.nspname ~ '^t_[a-z0-9]{10,40}$')),"
             " r AS (SELECT rolname FROM pg_roles WHERE rolname IN (%s)),"
             " p AS (SELECT unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE',"
             "                           'REFERENCES','TRIGGER']) AS priv)"
             " SELECT r.rolname AS role, t.name AS tbl, p.priv,"
             "        count(DISTINCT t.nspname) AS schemas"
             " FROM r, t, p WHERE has_table_privilege(r.rolname, t.oid, p.priv)"
             " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
             roles_sql);
    json_t *rows = it_sql(sql, 0, NULL);
    long tenants = it_sql_long("SELECT count(*) FROM pg_namespace WHERE nspname ~ "
                               "'^t_[a-z0-9]{10,40}$'",
                               0, NULL);
    assert_true(tenants > 0);
    char problems[8192] = "";
    size_t i;
    json_t *row;
    /* Extra: granted but not in the table (or only in some tenant schemas). */
    json_array_foreach(rows, i, row)
    {
        const char *role = json_string_value(json_object_get(row, "role"));
        const char *tbl = json_string_value(json_object_get(row, "tbl"));
        const char *priv = json_string_value(json_object_get(row, "priv"));
        long schemas = atol(json_string_value(json_object_get(row, "schemas")));
        bool listed = false;
        for (size_t k = 0; k < sizeof(grant_table) / sizeof(grant_table[0]) && !listed; k++)
            listed = strcmp(grant_table[k].role, role) == 0 &&
                     strcmp(grant_table[k].table, tbl) == 0 &&
                     word_in(grant_table[k].privileges, priv);
        char msg[200] = "";
        if (!listed)
            snprintf(msg, sizeof(msg), "\n  extra: %s %s %s", role, tbl, priv);
        else if (strncmp(tbl, "tenant.", 7) == 0 && schemas != tenants)
            snprintf(msg, sizeof(msg), "\n  %s %s %s: in %ld of %ld tenant schemas", role, tbl,
                     priv, schemas, tenants);
        strncat(problems, msg, sizeof(problems) - strlen(problems) - 1);
    }
    /* Missing: in the table but not granted (the actor would fail at run time). */
    for (size_t k = 0; k < sizeof(grant_table) / sizeof(grant_table[0]); k++) {
        char privs[128], *save = NULL;
        snprintf(privs, sizeof(privs), "%s", grant_table[k].privileges);
        for (char *priv = strtok_r(privs, " ", &save); priv; priv = strtok_r(NULL, " ", &save)) {
            bool found = false;
            json_array_foreach(rows, i, row)
            {
                found |= strcmp(json_string_value(json_object_get(row, "role")),
                                grant_table[k].role) == 0 &&
                         strcmp(json_string_value(json_object_get(row, "tbl")),
                                grant_table[k].table) == 0 &&
                         strcmp(json_string_value(json_object_get(row, "priv")), priv) == 0;
            }
            if (!found) {
                char msg[200];
                snprintf(msg, sizeof(msg), "\n  missing: %s %s %s", grant_table[k].role,
                         grant_table[k].table, priv);
                strncat(problems, msg, sizeof(problems) - strlen(problems) - 1);
            }
        }
    }
    json_decref(rows);
    if (problems[0])
        fail_msg("actor role grants differ from the table:%s", problems);
}

/* No actor role can create anything, own anything, or act as another role, except sw-auth's
 * one membership (sw_tenant_owner, used inside a sign-up only; NOINHERIT). */
static void test_roles_have_no_other_powers(void **state)
{
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SELECT r.rolname AS role,"
             " (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls"
             "  OR r.rolreplication)::text AS powers,"
             " r.rolinherit::text AS inherit,"
             " has_database_privilege(r.rolname, current_database(), 'CREATE')::text AS db_create,"
             " has_schema_privilege(r.rolname, 'public', 'CREATE')::text AS public_create,"
             " (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)::text AS owns,"
             " (SELECT string_agg(g.rolname, ',') FROM pg_auth_members m"
             "  JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of,"
             " r.rolcanlogin::text AS login"
             " FROM pg_roles r WHERE r.rolname IN (%s) ORDER BY 1",
             roles_sql);
    json_t *rows = it_sql(sql, 0, NULL);
    assert_int_equal(json_array_size(rows), 8);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *role = json_string_value(json_object_get(row, "role"));
        const char *member_of = json_string_value(json_object_get(row, "member_of"));
        const char *want_member = strcmp(role, "sw_auth") == 0 ? "sw_tenant_owner" : NULL;
        if (strcmp(json_string_value(json_object_get(row, "powers")), "false") ||
            strcmp(json_string_value(json_object_get(row, "inherit")), "false") ||
            strcmp(json_string_value(json_object_get(row, "db_create")), "false") ||
            strcmp(json_string_value(json_object_get(row, "public_create")), "false") ||
            strcmp(json_string_value(json_object_get(row, "owns")), "0") ||
            strcmp(json_string_value(json_object_get(row, "login")), "true") ||
            (want_member ? !member_of || strcmp(member_of, want_member) : member_of != NULL))
            fail_msg("role %s: %s", role, json_dumps(row, JSON_COMPACT));
    }
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_process_gets_only_its_settings),
        cmocka_unit_test(test_the_secrets_rule),
        cmocka_unit_test(test_each_role_has_only_its_grants),
        cmocka_unit_test(test_roles_have_no_other_powers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
