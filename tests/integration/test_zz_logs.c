/* Runs last (RUN_SERIAL, added at the end of the list): reads every log the run wrote in
 * $SW_VAR/log/ and fails, naming the file and line (never the secret), when one holds a secret
 * the run used: SECRET_KEY, every NATS_PW_*, SW_PG_PASSWORD, the Stripe secrets, the metrics
 * token, the tests' passwords, every heartbeat's ping key (its ping URL's uuid), a JWT, an
 * Argon2id hash, an API token ("swt_" + 43 characters, issue 21), or a 43-character token next
 * to the word "refresh" or "token" (refresh tokens and the links of verification, invitation and
 * password-reset mails), and every request header value of every endpoint (issue 17: stored
 * sealed, opened here with the instance's SW_SEAL_KEY). Every line of an actor's log (not PostgreSQL's, NATS's or the
 * fakes') must also be one JSON object with time, level, actor and msg; ops/sw's own
 * "===== … starting" marker lines are the only exception. What the Sentry ingest double received
 * (SW_SENTRY_DIR: every error event and crash the run sent) is held to the same secret checks. */
#include "tests/support/it.h"

#include <sodium.h>

#include <ctype.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/common/seal.h"

#define MAX_SECRETS 512

static char seal_hex[128];

typedef struct secret {
    char name[64];
    char value[256];
} secret;

static secret secrets[MAX_SECRETS];
static int nsecrets;

static void add_secret(const char *name, const char *value)
{
    /* Short values would match by chance; every secret of the run is longer. */
    if (!value || strlen(value) < 8 || nsecrets >= MAX_SECRETS)
        return;
    snprintf(secrets[nsecrets].name, sizeof(secrets[0].name), "%s", name);
    snprintf(secrets[nsecrets].value, sizeof(secrets[0].value), "%s", value);
    nsecrets++;
}

/* The request header values of the schema's endpoints (sealed with SW_SEAL_KEY). */
static void add_header_values(const char *schema)
{
    char sql[256];
    seal_key *k = NULL;
    if (!seal_hex[0] || seal_key_new(&k, seal_hex) != SW_OK)
        return;
    snprintf(sql, sizeof(sql),
             "SELECT headers_sealed AS s FROM \"%s\".endpoints WHERE headers_sealed IS NOT NULL",
             schema);
    json_t *rows = it_sql(sql, 0, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char *plain = seal_open(k, json_string_value(json_object_get(row, "s")));
        json_t *hdrs = plain ? json_loads(plain, 0, NULL) : NULL;
        if (!hdrs)
            fail_msg("a sealed header set of %s does not open with SW_SEAL_KEY", schema);
        const char *name;
        json_t *v;
        json_object_foreach(hdrs, name, v) add_secret("a request header value", json_string_value(v));
        json_decref(hdrs);
        seal_wipe(plain);
    }
    json_decref(rows);
    seal_key_free(k);
}

/* Every KEY='value' line of secrets.env that holds a secret we look for. */
static char notify_key[256];

/* A notification channel's secrets (issue 19): unsealed the way sw-notify seals them
 * (actors/notify/channels.c: secretbox under a key derived from SW_NOTIFY_KEY), each string a
 * secret of its own, and a webhook secret's base64 key without its whsec_ prefix too. */
static void add_channel_secrets(const char *sealed)
{
    unsigned char key[crypto_secretbox_KEYBYTES], box[4096], plain[4096];
    size_t bl = 0;
    if (!notify_key[0] || !sealed || strlen(sealed) > 5000)
        return;
    crypto_generichash(key, sizeof(key), (const unsigned char *)notify_key, strlen(notify_key),
                       (const unsigned char *)"sw-notify channel secrets", 25);
    if (sodium_base642bin(box, sizeof(box), sealed, strlen(sealed), NULL, &bl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        bl < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
        crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
                                   bl - crypto_secretbox_NONCEBYTES, box, key) != 0)
        fail_msg("a channel's sealed secrets do not open with SW_NOTIFY_KEY");
    size_t pl = bl - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    json_t *o = json_loadb((const char *)plain, pl, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        const char *val = json_string_value(v);
        if (!val)
            continue;
        add_secret("a notification channel's secret", val);
        if (strncmp(val, "whsec_", 6) == 0)
            add_secret("a webhook channel's signing key", val + 6);
        const char *colon = strchr(val, ':'); /* a Telegram bot token's secret half */
        if (colon && strlen(colon + 1) >= 8)
            add_secret("a Telegram bot token", colon + 1);
    }
    json_decref(o);
}

static void load_secrets(void)
{
    char path[512], line[1024];
    snprintf(path, sizeof(path), "%s/secrets.env", getenv("SW_VAR"));
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    while (fgets(line, sizeof(line), f)) {
        char *l = strncmp(line, "export ", 7) == 0 ? line + 7 : line;
        char *eq = strchr(l, '=');
        if (l[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *v = eq + 1;
        v[strcspn(v, "\n")] = '\0';
        if (*v == '\'') {
            v++;
            v[strcspn(v, "'")] = '\0';
        }
        if (strcmp(l, "SECRET_KEY") == 0 || strncmp(l, "NATS_PW_", 8) == 0 ||
            strcmp(l, "SW_PG_PASSWORD") == 0 || strcmp(l, "STRIPE_SECRET_KEY") == 0 ||
            strcmp(l, "STRIPE_WEBHOOK_SECRET") == 0 || strcmp(l, "SW_SEAL_KEY") == 0 ||
            strcmp(l, "SW_NOTIFY_KEY") == 0)
            add_secret(l, v);
        if (strcmp(l, "SW_SEAL_KEY") == 0)
            snprintf(seal_hex, sizeof(seal_hex), "%s", v);
        if (strcmp(l, "SW_NOTIFY_KEY") == 0)
            snprintf(notify_key, sizeof(notify_key), "%s", v);
    }
    fclose(f);
    add_secret("SW_METRICS_TOKEN", getenv("SW_METRICS_TOKEN"));
    add_secret("SW_ADMIN_NATS_PASSWORD", getenv("SW_ADMIN_NATS_PASSWORD"));
    add_secret("the test password", IT_PASSWORD);
    add_secret("the wrong test password", "Wrong-Password-99");
    add_secret("an Argon2id hash", "$argon2id$");
    /* The ping URL's uuid of every heartbeat the run made: a secret of its own. */
    json_t *schemas = it_sql("SELECT schema_name FROM public.tenants", 0, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(schemas, i, row)
    {
        char sql[256];
        const char *schema = json_string_value(json_object_get(row, "schema_name"));
        if (!schema || strchr(schema, '"'))
            continue;
        snprintf(sql, sizeof(sql),
                 "SELECT ping_key::text AS k FROM \"%s\".endpoints WHERE ping_key IS NOT NULL",
                 schema);
        json_t *keys = it_sql(sql, 0, NULL);
        size_t j;
        json_t *k;
        json_array_foreach(keys, j, k)
        {
            add_secret("a heartbeat's ping key", json_string_value(json_object_get(k, "k")));
        }
        json_decref(keys);
        add_header_values(schema);
        snprintf(sql, sizeof(sql),
                 "SELECT sealed FROM \"%s\".channels WHERE sealed IS NOT NULL", schema);
        json_t *sealed = it_sql(sql, 0, NULL);
        json_array_foreach(sealed, j, k)
        {
            add_channel_secrets(json_string_value(json_object_get(k, "sealed")));
        }
        json_decref(sealed);
    }
    json_decref(schemas);
}

static bool b64url(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* A refresh (or verification) token: exactly 43 base64url characters, standing alone, within
 * 40 characters after "refresh" or "token". */
static bool has_token_after_word(const char *line)
{
    const char *words[] = {"refresh", "token"};
    for (int w = 0; w < 2; w++) {
        for (const char *p = strcasestr(line, words[w]); p; p = strcasestr(p + 1, words[w])) {
            const char *s = p + strlen(words[w]);
            for (int off = 0; off < 40 && s[off]; off++) {
                if (!b64url(s[off]) || (off > 0 && b64url(s[off - 1])))
                    continue;
                size_t n = 0;
                while (b64url(s[off + n]))
                    n++;
                if (n == 43)
                    return true;
            }
        }
    }
    return false;
}

/* An API token: "swt_" and 43 base64url characters (bus/apitoken.h). */
static bool has_api_token(const char *line)
{
    for (const char *p = strstr(line, "swt_"); p; p = strstr(p + 1, "swt_")) {
        size_t n = 0;
        while (b64url(p[4 + n]))
            n++;
        if (n >= 43)
            return true;
    }
    return false;
}

/* Logs that are not an actor's: third-party servers and the test fakes write their own
 * formats. Everything else (actors, the edge, extra instances like prober-euw, edge-tls) is
 * held to one JSON object per line. */
static bool is_actor_log(const char *file)
{
    const char *others[] = {"postgres", "initdb",  "nats",    "smtp", "stripe",
                            "sentry",   "migrate", "targets", "build"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (strncmp(file, others[i], strlen(others[i])) == 0)
            return false;
    return true;
}

static int check_json_line(const char *file, int lineno, const char *line, char *why, size_t len)
{
    json_error_t err;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err);
    const char *keys[] = {"time", "level", "actor", "msg"};
    int bad = 0;
    if (!json_is_object(o)) {
        snprintf(why, len, "%s:%d is not one JSON object", file, lineno);
        bad = 1;
    }
    for (size_t k = 0; !bad && k < 4; k++) {
        if (!json_is_string(json_object_get(o, keys[k]))) {
            snprintf(why, len, "%s:%d has no string \"%s\"", file, lineno, keys[k]);
            bad = 1;
        }
    }
    json_decref(o);
    return bad;
}

/* The secrets, JWTs and tokens in one line, each reported (never the value); returns how many. */
static int secret_problems(const char *file, int lineno, const char *line, const regex_t *jwt)
{
    int problems = 0;
    for (int s = 0; s < nsecrets; s++) {
        if (strstr(line, secrets[s].value)) {
            print_error("%s:%d contains %s\n", file, lineno, secrets[s].name);
            problems++;
        }
    }
    if (regexec(jwt, line, 0, NULL, 0) == 0) {
        print_error("%s:%d contains a JWT\n", file, lineno);
        problems++;
    }
    if (has_api_token(line)) {
        print_error("%s:%d contains an API token (swt_...)\n", file, lineno);
        problems++;
    }
    if (has_token_after_word(line)) {
        print_error("%s:%d contains a 43-character token after \"refresh\"/\"token\"\n", file,
                    lineno);
        problems++;
    }
    return problems;
}

static void test_logs_hold_no_secrets_and_are_json(void **state)
{
    char dir[512], path[1024], why[512];
    regex_t jwt;
    int problems = 0, files = 0;
    long lines = 0;

    load_secrets();
    assert_true(nsecrets >= 10); /* SECRET_KEY, SW_PG_PASSWORD, the NATS passwords, … */
    assert_int_equal(regcomp(&jwt, "eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    snprintf(dir, sizeof(dir), "%s/log", getenv("SW_VAR"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".log") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r"); /* postgres.log may be a symlink: followed */
        if (!f)
            continue;
        files++;
        bool actor = is_actor_log(de->d_name);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int lineno = 0;
        while ((n = getline(&line, &cap, f)) >= 0) {
            lineno++;
            lines++;
            if (n > 0 && line[n - 1] == '\n')
                line[n - 1] = '\0';
            problems += secret_problems(de->d_name, lineno, line, &jwt);
            if (actor && strncmp(line, "===== ", 6) != 0 &&
                check_json_line(de->d_name, lineno, line, why, sizeof(why))) {
                print_error("%s\n", why);
                problems++;
            }
        }
        free(line);
        fclose(f);
    }
    closedir(d);
    regfree(&jwt);
    print_message("checked %d logs, %ld lines, for %d secrets\n", files, lines, nsecrets);
    assert_true(files >= 10); /* every actor, the edge, postgres, nats, … */
    assert_int_equal(problems, 0);
}

/* Every event the Sentry ingest double accepted (a .json file per envelope in SW_SENTRY_DIR) and
 * every refusal it logged: no secret of the run in any of them. */
static void test_sentry_events_hold_no_secrets(void **state)
{
    const char *dir = getenv("SW_SENTRY_DIR");
    char path[1024];
    regex_t jwt;
    int problems = 0, files = 0;

    if (!dir || !*dir) {
        print_message("no Sentry double in this run (SENTRY_DSN set by the caller): skipped\n");
        return;
    }
    if (nsecrets == 0)
        load_secrets();
    assert_int_equal(regcomp(&jwt, "eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        files++;
        char *line = NULL;
        size_t cap = 0;
        int lineno = 0;
        while (getline(&line, &cap, f) >= 0)
            problems += secret_problems(de->d_name, ++lineno, line, &jwt);
        free(line);
        fclose(f);
    }
    closedir(d);
    regfree(&jwt);
    print_message("checked %d files of the Sentry double for %d secrets\n", files, nsecrets);
    assert_true(files >= 1); /* test_sentry made the services send some */
    assert_int_equal(problems, 0);
}

/* The checker itself finds what it must (a test that cannot fail is a defect). */
static void test_checker_catches_leaks(void **state)
{
    char why[256];
    assert_true(has_token_after_word(
        "{\"msg\":\"x\",\"refresh\":\"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWp\"}"));
    assert_true(has_token_after_word("token=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"));
    assert_false(has_token_after_word("{\"refresh\":\"[redacted]\"}"));
    assert_true(has_api_token("Authorization: Bearer swt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"));
    assert_false(has_api_token("{\"prefix\":\"swt_AbCdEfGh\"}"));
    assert_false(has_token_after_word("{\"request_id\":\"9ec0245fa6815074345545c89471419c\"}"));
    assert_int_equal(check_json_line("t", 1,
                                     "{\"time\":\"t\",\"level\":\"info\",\"actor\":\"sw-x\","
                                     "\"msg\":\"m\"}",
                                     why, sizeof(why)),
                     0);
    assert_int_equal(check_json_line("t", 1, "plain text", why, sizeof(why)), 1);
    assert_int_equal(
        check_json_line("t", 1, "{\"time\":\"t\",\"level\":\"info\"}", why, sizeof(why)), 1);
    assert_false(is_actor_log("postgres.log"));
    assert_false(is_actor_log("sentry.log"));
    assert_false(is_actor_log("nats-leaf-euw.log"));
    assert_true(is_actor_log("prober-euw.log"));
    assert_true(is_actor_log("edge.log"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_catches_leaks),
        cmocka_unit_test(test_logs_hold_no_secrets_and_are_json),
        cmocka_unit_test(test_sentry_events_hold_no_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
