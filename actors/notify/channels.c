/* GET/POST /api/channels/, GET/PATCH/DELETE /api/channels/{id}/, POST /api/channels/{id}/test/:
 * where an organization is notified. A channel's config is split on write: the fields that are
 * not secret stay in channels.config, the secret ones (webhook secret, the Slack/Discord/Teams
 * URL, PagerDuty routing key, ntfy token, Telegram bot token) are sealed with libsodium
 * secretbox under SW_NOTIFY_KEY into channels.sealed and answered as "********" (in clear only
 * in the reply that created the channel). Every URL passes the URL policy. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/common/role.h"
#include "actors/common/validate.h"
#include "actors/notify/notify.h"
#include "bus/clock.h"
#include "bus/log.h"
#include "bus/messages.h"
#include "store/store.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define MASK "********"
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define MAX_ADDRESSES 20

static const char *required = "This field is required.";

#define CHANNEL_COLS                                                                               \
    "id::text AS id, name, kind, config, sealed, is_default, " TS("created_at") " AS created_at, " \
    TS("updated_at") " AS updated_at"

#define NOTIFICATION_SELECT                                                                        \
    "SELECT id::text AS id, channel_id::text AS channel_id, channel_name, channel_kind, kind,"    \
    " incident_id::text AS incident_id, endpoint_id::text AS endpoint_id, status, attempts,"      \
    " last_error, " TS("created_at") " AS created_at, " TS("updated_at") " AS updated_at, "       \
    TS("delivered_at") " AS delivered_at FROM notifications"

/* ---- kinds and their fields ------------------------------------------------------------ */

typedef struct kind_def {
    const char *kind;
    const char *secret; /* the one secret field, NULL for none */
} kind_def;

static const kind_def kinds[] = {
    {"email", NULL},           {"webhook", "secret"},        {"slack", "url"},
    {"discord", "url"},        {"teams", "url"},             {"pagerduty", "routing_key"},
    {"ntfy", "token"},         {"telegram", "bot_token"},
};

static const kind_def *kind_find(const char *k)
{
    for (size_t i = 0; k && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, k) == 0)
            return &kinds[i];
    return NULL;
}

/* ---- small helpers --------------------------------------------------------------------- */

static sw_status begin(store_conn *c, const bus_req *req, bus_reply *rep)
{
    char schema[64];
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    if (st == SW_OK)
        st = store_tenant_schema(c, req->tenant, schema, sizeof(schema));
    if (st == SW_ENOTFOUND || st == SW_EUNAUTH) {
        bus_reply_clear(rep);
        return bus_reply_error(rep, SW_EUNAUTH, "tenant_not_found", NULL);
    }
    if (st == SW_OK)
        st = channels_seed(c);
    return st == SW_OK ? SW_OK : bus_reply_failure(rep, st);
}

/* A query parameter: SW_OK and the value copied (url-decoding not needed: callers accept only
 * [A-Za-z0-9_.-]), SW_ENOTFOUND when absent, SW_EINVAL when malformed or too long. */
static sw_status query_param(char *out, size_t len, const char *query, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = seg - kl - 1;
            if (vl == 0 || vl >= len)
                return SW_EINVAL;
            for (size_t i = 0; i < vl; i++) {
                char ch = p[kl + 1 + i];
                if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_' && ch != '.')
                    return SW_EINVAL;
            }
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return SW_OK;
        }
        p += seg;
        while (*p == '&')
            p++;
    }
    return SW_ENOTFOUND;
}

static long query_long(const char *query, const char *key, long def)
{
    char v[16];
    sw_status st = query_param(v, sizeof(v), query, key);
    if (st == SW_ENOTFOUND)
        return def;
    if (st != SW_OK || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9)
        return -1;
    return strtol(v, NULL, 10);
}

static json_t *list_link(const bus_req *req, const char *path, const char *filters, long page,
                         long size)
{
    char link[768];
    const char *base = bus_req_header(req, BUS_H_BASE_URL);
    if (!base || strlen(base) > 300 || strpbrk(base, "\"\\ \r\n"))
        base = "";
    snprintf(link, sizeof(link), "%s%s?page=%ld&page_size=%ld%s", base, path, page, size,
             filters);
    return json_string(link);
}

/* Paginates: count_sql counts, rows_sql (with $n+1 = limit, $n+2 = offset after the filter
 * params) selects; replies with the DRF page. */
static sw_status paginate(store_conn *c, const bus_req *req, bus_reply *rep, const char *path,
                          const char *filters, const char *count_sql, const char *rows_sql,
                          int nparams, const char **params, json_t *(*shape)(json_t *rows))
{
    json_t *row = NULL, *rows = NULL;
    char lim[16], off[24];
    const char *p[8];
    long size = query_long(req->query, "page_size", PAGE_SIZE_DEFAULT);
    long page = query_long(req->query, "page", 1);
    if (size < 1)
        size = PAGE_SIZE_DEFAULT;
    if (size > PAGE_SIZE_MAX)
        size = PAGE_SIZE_MAX;
    if (page < 1)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    sw_status st = store_query_one(c, &row, count_sql, nparams, params);
    long count = st == SW_OK ? (long)json_integer_value(json_object_get(row, "n")) : 0;
    json_decref(row);
    if (st != SW_OK)
        return bus_reply_failure(rep, st);
    long pages = count == 0 ? 1 : (count + size - 1) / size;
    if (page > pages)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    snprintf(lim, sizeof(lim), "%ld", size);
    snprintf(off, sizeof(off), "%ld", (page - 1) * size);
    for (int i = 0; i < nparams; i++)
        p[i] = params[i];
    p[nparams] = lim;
    p[nparams + 1] = off;
    st = store_query(c, &rows, NULL, rows_sql, nparams + 2, p);
    if (st != SW_OK)
        return bus_reply_failure(rep, st);
    if (shape)
        rows = shape(rows);
    bus_reply_json(rep, json_pack("{s:I,s:o,s:o,s:o}", "count", (json_int_t)count, "next",
                                  page < pages ? list_link(req, path, filters, page + 1, size)
                                               : json_null(),
                                  "previous",
                                  page > 1 ? list_link(req, path, filters, page - 1, size)
                                           : json_null(),
                                  "results", rows));
    return SW_OK;
}

/* ---- sealing --------------------------------------------------------------------------- */

/* *out: owned base64(nonce || secretbox(json)). */
static sw_status seal(char **out, const notify_app *app, const json_t *secrets)
{
    *out = NULL;
    char *plain = json_dumps(secrets, JSON_COMPACT);
    if (!plain)
        return SW_EINTERNAL;
    size_t pl = strlen(plain);
    size_t bl = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + pl;
    unsigned char *box = malloc(bl);
    size_t b64l = sodium_base64_ENCODED_LEN(bl, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64l);
    if (!box || !b64) {
        free(box);
        free(b64);
        sodium_memzero(plain, pl);
        free(plain);
        return SW_EINTERNAL;
    }
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (unsigned char *)plain, pl, box,
                          app->key);
    sodium_bin2base64(b64, b64l, box, bl, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(plain, pl);
    free(plain);
    free(box);
    *out = b64;
    return SW_OK;
}

sw_status channels_unseal(json_t **out, const notify_app *app, const char *sealed)
{
    *out = NULL;
    if (!sealed || !*sealed) {
        *out = json_object();
        return SW_OK;
    }
    size_t sl = strlen(sealed), bl = 0;
    unsigned char *box = malloc(sl);
    if (!box)
        return SW_EINTERNAL;
    if (sodium_base642bin(box, sl, sealed, sl, NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        bl < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(box);
        return SW_EINTERNAL;
    }
    size_t pl = bl - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    unsigned char *plain = malloc(pl + 1);
    if (!plain || crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
                                             bl - crypto_secretbox_NONCEBYTES, box, app->key) != 0) {
        sw_log(SW_LOG_ERROR, "a channel's secrets cannot be opened (SW_NOTIFY_KEY changed?)",
               NULL);
        free(plain);
        free(box);
        return SW_EINTERNAL;
    }
    free(box);
    *out = json_loadb((const char *)plain, pl, 0, NULL);
    sodium_memzero(plain, pl);
    free(plain);
    return *out ? SW_OK : SW_EINTERNAL;
}

/* The API shape of a channel row: config with the secret masked (or in clear when full is the
 * unsealed secret object and show is true). Takes ownership of row. */
static json_t *shape_channel(json_t *row, const json_t *secrets)
{
    const kind_def *k = kind_find(json_string_value(json_object_get(row, "kind")));
    json_t *cfg = json_deep_copy(json_object_get(row, "config"));
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        cfg = json_object();
    }
    if (k && k->secret) {
        json_t *v = secrets ? json_object_get(secrets, k->secret) : NULL;
        bool present = secrets ? json_is_string(v) : json_string_value(json_object_get(row, "sealed")) != NULL;
        if (secrets && present)
            json_object_set(cfg, k->secret, v);
        else if (present)
            json_object_set_new(cfg, k->secret, json_string(MASK));
        else if (strcmp(k->kind, "ntfy") == 0)
            json_object_set_new(cfg, k->secret, json_null());
    }
    json_object_set_new(row, "config", cfg);
    json_object_del(row, "sealed");
    return row;
}

static json_t *shape_channels(json_t *rows)
{
    size_t i;
    json_t *r, *out = json_array();
    json_array_foreach(rows, i, r) json_array_append_new(out, shape_channel(json_incref(r), NULL));
    json_decref(rows);
    return out;
}

/* ---- validation ------------------------------------------------------------------------ */

static bool url_ok(const notify_app *app, bus_reply *rep, const char *field, const json_t *v)
{
    char reason[200];
    const char *u = json_string_value(v);
    if (!u || !*u) {
        bus_reply_field_error(rep, field, u ? "This field may not be blank." : "Not a valid string.");
        return false;
    }
    if (strlen(u) > 2048) {
        bus_reply_field_error(rep, field, "Ensure this field has no more than 2048 characters.");
        return false;
    }
    url_verdict vd = url_policy_check(app->policy, u, reason, sizeof(reason));
    if (vd != URL_OK) {
        bus_reply_field_error(rep, field, reason[0] ? reason : url_verdict_message(vd));
        return false;
    }
    return true;
}

static bool token_ok(const char *s, size_t max, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
            return false;
    return true;
}

/* A Standard Webhooks secret: whsec_ + base64 of 24-64 bytes. */
static bool whsec_ok(const char *s)
{
    unsigned char key[128];
    size_t kl = 0;
    if (!s || strncmp(s, "whsec_", 6) != 0 || strlen(s) > 200)
        return false;
    if (sodium_base642bin(key, sizeof(key), s + 6, strlen(s + 6), NULL, &kl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    sodium_memzero(key, sizeof(key));
    return kl >= 24 && kl <= 64;
}

static void whsec_new(char *out, size_t len)
{
    unsigned char key[32];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    randombytes_buf(key, sizeof(key));
    sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
    snprintf(out, len, "whsec_%s", b64);
}

/* Checks cfg (the whole config of kind) and splits it: *pub gets the public fields, *sec the
 * secret one. Field errors go under "config" as "<key>: message". */
static bool config_split(const notify_app *app, bus_reply *rep, const kind_def *k, json_t *cfg,
                         json_t **pub, json_t **sec)
{
    char msg[300];
    bus_reply errs = {0};
    bool ok = true;
    const char *key;
    json_t *v;
    *pub = json_object();
    *sec = json_object();
#define CFG_ERR(field, text)                                                                       \
    do {                                                                                           \
        snprintf(msg, sizeof(msg), "%.60s: %.230s", field, text);                                  \
        bus_reply_field_error(rep, "config", msg);                                                 \
        ok = false;                                                                                \
    } while (0)
    json_object_foreach(cfg, key, v)
    {
        bool known = false;
        if (strcmp(k->kind, "email") == 0)
            known = strcmp(key, "addresses") == 0;
        else if (strcmp(k->kind, "webhook") == 0)
            known = strcmp(key, "url") == 0 || strcmp(key, "secret") == 0;
        else if (strcmp(k->kind, "ntfy") == 0)
            known = strcmp(key, "url") == 0 || strcmp(key, "token") == 0;
        else if (strcmp(k->kind, "telegram") == 0)
            known = strcmp(key, "bot_token") == 0 || strcmp(key, "chat_id") == 0;
        else if (strcmp(k->kind, "pagerduty") == 0)
            known = strcmp(key, "routing_key") == 0;
        else
            known = strcmp(key, "url") == 0;
        if (!known)
            CFG_ERR(key, "Unknown field for this kind.");
    }
    if (strcmp(k->kind, "email") == 0) {
        json_t *a = json_object_get(cfg, "addresses"), *item, *clean = json_array();
        size_t i;
        if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_ADDRESSES) {
            CFG_ERR("addresses", "Expected a list of 1 to 20 email addresses.");
        } else {
            json_array_foreach(a, i, item)
            {
                char e[256], item_msg[64];
                if (!validate_email(e, sizeof(e), json_string_value(item))) {
                    snprintf(item_msg, sizeof(item_msg), "Item %zu is not a valid email address.",
                             i + 1);
                    CFG_ERR("addresses", item_msg);
                } else {
                    json_array_append_new(clean, json_string(e));
                }
            }
        }
        json_object_set_new(*pub, "addresses", clean);
    } else if (strcmp(k->kind, "pagerduty") == 0) {
        const char *rk = json_string_value(json_object_get(cfg, "routing_key"));
        if (!token_ok(rk, 64, "_-"))
            CFG_ERR("routing_key", rk ? "Expected the integration key (letters and digits)."
                                      : required);
        else
            json_object_set_new(*sec, "routing_key", json_string(rk));
    } else if (strcmp(k->kind, "telegram") == 0) {
        const char *bt = json_string_value(json_object_get(cfg, "bot_token"));
        json_t *cv = json_object_get(cfg, "chat_id");
        char chat[80] = "";
        if (json_is_integer(cv))
            snprintf(chat, sizeof(chat), "%lld", (long long)json_integer_value(cv));
        else if (json_is_string(cv) && strlen(json_string_value(cv)) < sizeof(chat))
            snprintf(chat, sizeof(chat), "%s", json_string_value(cv));
        if (!bt || !strchr(bt, ':') || !token_ok(bt, 128, ":_-"))
            CFG_ERR("bot_token", bt ? "Expected a bot token (123456:ABC...)." : required);
        else
            json_object_set_new(*sec, "bot_token", json_string(bt));
        bool chat_ok = chat[0] && ((chat[0] == '@' && token_ok(chat + 1, 63, "_")) ||
                                   strspn(chat + (chat[0] == '-'), "0123456789") ==
                                       strlen(chat + (chat[0] == '-')));
        if (!chat_ok || strlen(chat) > 64 || (chat[0] == '-' && !chat[1]))
            CFG_ERR("chat_id", cv ? "Expected a chat id (-100...) or @channelname." : required);
        else
            json_object_set_new(*pub, "chat_id", json_string(chat));
    } else {
        /* webhook, slack, discord, teams, ntfy: a URL */
        json_t *u = json_object_get(cfg, "url");
        if (!u) {
            CFG_ERR("url", required);
        } else if (!url_ok(app, &errs, "url", u)) {
            json_t *m = json_array_get(json_object_get(errs.body, "url"), 0);
            CFG_ERR("url", json_string_value(m) ? json_string_value(m) : "Not a valid URL.");
        } else {
            json_object_set_new(strcmp(k->secret ? k->secret : "", "url") == 0 ? *sec : *pub, "url",
                                json_string(json_string_value(u)));
        }
        bus_reply_clear(&errs);
        if (strcmp(k->kind, "webhook") == 0) {
            json_t *sv = json_object_get(cfg, "secret");
            char gen[128];
            if (!sv || json_is_null(sv)) {
                whsec_new(gen, sizeof(gen));
                json_object_set_new(*sec, "secret", json_string(gen));
                sodium_memzero(gen, sizeof(gen));
            } else if (!whsec_ok(json_string_value(sv))) {
                CFG_ERR("secret", "Expected whsec_ and the base64 of 24 to 64 bytes, or leave it "
                                  "out to have one generated.");
            } else {
                json_object_set(*sec, "secret", sv);
            }
        } else if (strcmp(k->kind, "ntfy") == 0) {
            json_t *tv = json_object_get(cfg, "token");
            if (tv && !json_is_null(tv)) {
                if (!token_ok(json_string_value(tv), 200, "_-.~+/="))
                    CFG_ERR("token", "Expected an access token.");
                else
                    json_object_set(*sec, "token", tv);
            }
        }
    }
#undef CFG_ERR
    return ok;
}

typedef struct channel_input {
    bool has_name, has_kind, has_config, has_default;
    char name[808];
    const kind_def *kind;
    json_t *config; /* borrowed from the body */
    bool is_default;
} channel_input;

static bool input_read(channel_input *in, const bus_req *req, bus_reply *rep, bool create)
{
    json_t *b = req->body, *v;
    bool ok = true;
    memset(in, 0, sizeof(*in));
    if (!json_is_object(b)) {
        bus_reply_field_error(rep, "non_field_errors", "Invalid data. Expected a dictionary.");
        return false;
    }
    const char *key;
    json_object_foreach(b, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "kind") && strcmp(key, "config") &&
            strcmp(key, "is_default") && strcmp(key, "id") && strcmp(key, "created_at") &&
            strcmp(key, "updated_at")) {
            bus_reply_field_error(rep, key, "Unknown field.");
            ok = false;
        }
    }
    if ((v = json_object_get(b, "name"))) {
        in->has_name = true;
        if (!json_is_string(v) || !validate_name(in->name, sizeof(in->name), json_string_value(v), 200)) {
            bus_reply_field_error(rep, "name",
                                  json_is_string(v) ? "Ensure this field has 1 to 200 characters "
                                                      "and no control characters."
                                                    : "Not a valid string.");
            ok = false;
        }
    } else if (create) {
        bus_reply_field_error(rep, "name", required);
        ok = false;
    }
    if ((v = json_object_get(b, "kind"))) {
        in->has_kind = true;
        in->kind = kind_find(json_string_value(v));
        if (!in->kind) {
            bus_reply_field_error(rep, "kind",
                                  "Expected one of email, webhook, slack, discord, teams, "
                                  "pagerduty, ntfy, telegram.");
            ok = false;
        }
    } else if (create) {
        bus_reply_field_error(rep, "kind", required);
        ok = false;
    }
    if ((v = json_object_get(b, "config"))) {
        in->has_config = true;
        in->config = v;
        if (!json_is_object(v)) {
            bus_reply_field_error(rep, "config", "Expected an object.");
            ok = false;
        }
    } else if (create) {
        bus_reply_field_error(rep, "config", required);
        ok = false;
    }
    if ((v = json_object_get(b, "is_default"))) {
        in->has_default = true;
        in->is_default = json_is_true(v);
        if (!json_is_boolean(v)) {
            bus_reply_field_error(rep, "is_default", "Must be a valid boolean.");
            ok = false;
        }
    }
    return ok;
}

/* channel.changed after the commit, with the audit object sw-auth writes into the audit log
 * once per msg id (bus_audit_put, issue 21): who did what to which channel; never the config.
 * Best effort, logged. */
static void publish_changed(const bus_req *req, const char *id, const char *action,
                            const char *kind, const char *name)
{
    jsCtx *js = bus_actor_js(req->actor);
    char subject[BUS_SUBJECT_MAX], msg_id[200], now_ms[24], audit_action[40];
    bus_audit au;
    snprintf(now_ms, sizeof(now_ms), "%lld", (long long)sw_epoch_ms());
    if (!bus_subject_event(subject, sizeof(subject), req->tenant, BUS_EVT_CHANNEL_CHANGED))
        return;
    snprintf(msg_id, sizeof(msg_id), BUS_ID_CHANNEL_EVT_FMT, id,
             req->request_id && *req->request_id ? req->request_id : now_ms);
    snprintf(audit_action, sizeof(audit_action), "channel.%s", action);
    json_t *evt = json_pack("{s:s,s:s,s:s,s:s*,s:s*,s:I}", "tenant_id", req->tenant, "channel_id",
                            id, "action", action, "kind", kind, "name", name, "at_ms",
                            (json_int_t)sw_epoch_ms());
    json_t *detail = json_pack("{s:s*}", "kind", kind);
    bus_audit_from_req(&au, req);
    au.action = audit_action;
    au.target_type = "channel";
    au.target_id = id;
    au.target_label = name;
    au.detail = detail;
    if (evt && !bus_audit_put(evt, &au))
        sw_log(SW_LOG_WARN, "channel event without its audit entry", "channel_id", id, NULL);
    sw_status st =
        (js && evt) ? bus_js_publish(js, subject, evt, msg_id, req->request_id) : SW_EUNAVAILABLE;
    if (st != SW_OK)
        sw_log(SW_LOG_WARN, "channel event not published", "channel_id", id, "status",
               sw_status_name(st), NULL);
    json_decref(detail);
    json_decref(evt);
}

/* ---- seed ------------------------------------------------------------------------------- */

sw_status channels_seed(store_conn *c)
{
    json_t *row = NULL;
    sw_status st = store_query_one(c, &row, "SELECT done FROM channel_seed", 0, NULL);
    json_decref(row);
    if (st != SW_ENOTFOUND)
        return st;
    return store_query(c, NULL, NULL,
                       "WITH o AS (SELECT email FROM users WHERE role = 'owner'"
                       "           ORDER BY created_at LIMIT 1),"
                       " s AS (INSERT INTO channel_seed SELECT true FROM o"
                       "       ON CONFLICT DO NOTHING RETURNING done)"
                       " INSERT INTO channels (name, kind, config, is_default)"
                       " SELECT 'Email to the owner', 'email',"
                       "        jsonb_build_object('addresses', jsonb_build_array(o.email)), true"
                       " FROM o, s",
                       0, NULL);
}

/* ---- routes ------------------------------------------------------------------------------ */

sw_status channels_list(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st == SW_OK)
        st = paginate(c, req, rep, "/api/channels/", "", "SELECT count(*) AS n FROM channels",
                      "SELECT " CHANNEL_COLS " FROM channels ORDER BY created_at, id"
                      " LIMIT $1::int OFFSET $2::int",
                      0, NULL, shape_channels);
    if (st == SW_OK)
        store_tx_commit(c);
    store_release(app->common->db, c);
    return st;
}

static sw_status fetch(store_conn *c, json_t **row, const char *id, bool lock)
{
    *row = NULL;
    if (!bus_uuid_valid(id))
        return SW_ENOTFOUND;
    const char *p[] = {id};
    return store_query_one(c, row,
                           lock ? "SELECT " CHANNEL_COLS " FROM channels WHERE id = $1::uuid"
                                  " FOR UPDATE"
                                : "SELECT " CHANNEL_COLS " FROM channels WHERE id = $1::uuid",
                           1, p);
}

sw_status channels_get(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    json_t *row = NULL;
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st == SW_OK) {
        st = fetch(c, &row, req->param_id, false);
        if (st == SW_OK) {
            store_tx_commit(c);
            bus_reply_json(rep, shape_channel(row, NULL));
        } else {
            st = st == SW_ENOTFOUND ? bus_reply_not_found(rep) : bus_reply_failure(rep, st);
        }
    }
    store_release(app->common->db, c);
    return st;
}

/* Writes a channel: create when id is NULL. The reply is the row, with secrets in clear when
 * show_secrets. */
static sw_status write_channel(const bus_req *req, bus_reply *rep, const char *id)
{
    notify_app *app = req->app;
    channel_input in;
    json_t *row = NULL, *old_sec = NULL, *merged = NULL, *pub = NULL, *sec = NULL;
    char *sealed = NULL, *pub_text = NULL;
    store_conn *c = NULL;
    sw_status st;
    bool create = id == NULL;

    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!input_read(&in, req, rep, create))
        return SW_EINVAL;
    c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    const kind_def *k = in.kind;
    if (!create) {
        st = fetch(c, &row, id, true);
        if (st != SW_OK) {
            st = st == SW_ENOTFOUND ? bus_reply_not_found(rep) : bus_reply_failure(rep, st);
            goto out;
        }
        const kind_def *was = kind_find(json_string_value(json_object_get(row, "kind")));
        if (in.has_kind && in.kind != was) {
            bus_reply_field_error(rep, "kind", "The kind of a channel cannot change.");
            st = SW_EINVAL;
            goto out;
        }
        k = was;
        st = channels_unseal(&old_sec, app, json_string_value(json_object_get(row, "sealed")));
        if (st != SW_OK) {
            st = bus_reply_failure(rep, st);
            goto out;
        }
    }
    if (!k) {
        st = bus_reply_failure(rep, SW_EINTERNAL);
        goto out;
    }
    /* The config to check: the stored one, overlaid with what was sent; a secret sent masked
     * (or left out) keeps its stored value. */
    merged = row ? json_deep_copy(json_object_get(row, "config")) : json_object();
    if (!json_is_object(merged)) {
        json_decref(merged);
        merged = json_object();
    }
    if (old_sec)
        json_object_update(merged, old_sec);
    if (in.config) {
        const char *key;
        json_t *v;
        json_object_foreach(in.config, key, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), MASK) == 0 &&
                json_object_get(merged, key))
                continue;
            json_object_set(merged, key, v);
        }
    }
    if (!config_split(app, rep, k, merged, &pub, &sec)) {
        st = SW_EINVAL;
        goto out;
    }
    if (json_object_size(sec) && seal(&sealed, app, sec) != SW_OK) {
        st = bus_reply_failure(rep, SW_EINTERNAL);
        goto out;
    }
    pub_text = json_dumps(pub, JSON_COMPACT);
    json_decref(row);
    row = NULL;
    if (create) {
        const char *p[] = {in.name, k->kind, pub_text, sealed,
                           in.has_default && in.is_default ? "true" : "false"};
        st = store_query_one(c, &row,
                             "INSERT INTO channels (name, kind, config, sealed, is_default)"
                             " VALUES ($1, $2, $3::jsonb, $4, $5::boolean) RETURNING " CHANNEL_COLS,
                             5, p);
    } else {
        const char *p[] = {id, in.has_name ? in.name : NULL, pub_text, sealed,
                           in.has_default ? (in.is_default ? "true" : "false") : NULL};
        st = store_query_one(c, &row,
                             "UPDATE channels SET name = coalesce($2, name), config = $3::jsonb,"
                             " sealed = $4, is_default = coalesce($5::boolean, is_default),"
                             " updated_at = now() WHERE id = $1::uuid RETURNING " CHANNEL_COLS,
                             5, p);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    char cid[40];
    snprintf(cid, sizeof(cid), "%s", json_string_value(json_object_get(row, "id")));
    publish_changed(req, cid, create ? "created" : "updated", k->kind,
                    json_string_value(json_object_get(row, "name")));
    bus_reply_json(rep, shape_channel(row, create ? sec : NULL));
    row = NULL;
    st = SW_OK;
out:
    json_decref(row);
    json_decref(old_sec);
    json_decref(merged);
    json_decref(pub);
    json_decref(sec);
    if (sealed) {
        sodium_memzero(sealed, strlen(sealed));
        free(sealed);
    }
    free(pub_text);
    store_release(app->common->db, c);
    return st;
}

sw_status channels_create(const bus_req *req, bus_reply *rep)
{
    sw_status st = write_channel(req, rep, NULL);
    return st == SW_OK ? SW_CREATED : st;
}

sw_status channels_patch(const bus_req *req, bus_reply *rep)
{
    if (!bus_uuid_valid(req->param_id)) {
        if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
            return SW_EFORBIDDEN;
        return bus_reply_not_found(rep);
    }
    return write_channel(req, rep, req->param_id);
}

sw_status channels_delete(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    json_t *row = NULL;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!bus_uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st == SW_OK) {
        const char *p[] = {req->param_id};
        st = store_query_one(c, &row,
                             "DELETE FROM channels WHERE id = $1::uuid RETURNING kind, name", 1, p);
        if (st == SW_OK)
            st = store_tx_commit(c);
        if (st == SW_OK) {
            publish_changed(req, req->param_id, "deleted",
                            json_string_value(json_object_get(row, "kind")),
                            json_string_value(json_object_get(row, "name")));
            st = SW_NO_CONTENT;
        } else {
            st = st == SW_ENOTFOUND ? bus_reply_not_found(rep) : bus_reply_failure(rep, st);
        }
    }
    json_decref(row);
    store_release(app->common->db, c);
    return st;
}

sw_status channels_test(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    json_t *row = NULL, *ids = json_array(), *rows = NULL, *n = NULL;
    char dedup[160], rnd[33];
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK) {
        json_decref(ids);
        return SW_EFORBIDDEN;
    }
    if (!bus_uuid_valid(req->param_id)) {
        json_decref(ids);
        return bus_reply_not_found(rep);
    }
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c) {
        json_decref(ids);
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    }
    sw_status st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    st = fetch(c, &row, req->param_id, false);
    if (st != SW_OK) {
        st = st == SW_ENOTFOUND ? bus_reply_not_found(rep) : bus_reply_failure(rep, st);
        goto out;
    }
    sw_random_hex(rnd, sizeof(rnd));
    snprintf(dedup, sizeof(dedup), "test:%s", rnd);
    rows = json_pack("[O]", row);
    json_t *data = json_pack("{s:s}", "message", "This is a test notification from StatusWatch.");
    st = notify_queue(c, ids, rows, "test", NULL, NULL, dedup, data);
    json_decref(data);
    if (st == SW_OK) {
        const char *p[] = {json_string_value(json_array_get(ids, 0))};
        st = store_query_one(c, &n, NOTIFICATION_SELECT " WHERE id = $1::uuid", 1, p);
    }
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    notify_publish_jobs(req->actor, req->tenant, ids, req->request_id);
    publish_changed(req, req->param_id, "tested", json_string_value(json_object_get(row, "kind")),
                    json_string_value(json_object_get(row, "name")));
    bus_reply_json(rep, n);
    n = NULL;
out:
    json_decref(n);
    json_decref(rows);
    json_decref(row);
    json_decref(ids);
    store_release(app->common->db, c);
    return st;
}

/* ---- the delivery log ------------------------------------------------------------------- */

sw_status notifications_list(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    char channel[64] = "", incident[64] = "", status[16] = "", filters[200] = "";
    char count_sql[600], rows_sql[1400];
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    sw_status a = query_param(channel, sizeof(channel), req->query, "channel");
    sw_status b = query_param(incident, sizeof(incident), req->query, "incident");
    sw_status s = query_param(status, sizeof(status), req->query, "status");
    bool ok = true;
    if (a == SW_EINVAL || (a == SW_OK && !bus_uuid_valid(channel))) {
        bus_reply_field_error(rep, "channel", "Must be a valid UUID.");
        ok = false;
    }
    if (b == SW_EINVAL || (b == SW_OK && !bus_uuid_valid(incident))) {
        bus_reply_field_error(rep, "incident", "Must be a valid UUID.");
        ok = false;
    }
    if (s == SW_EINVAL || (s == SW_OK && strcmp(status, "pending") && strcmp(status, "delivered") &&
                           strcmp(status, "failed"))) {
        bus_reply_field_error(rep, "status", "Select a valid choice: pending, delivered, failed.");
        ok = false;
    }
    if (!ok)
        return SW_EINVAL;
    const char *where = " WHERE ($1 = '' OR channel_id = nullif($1, '')::uuid)"
                        " AND ($2 = '' OR incident_id = nullif($2, '')::uuid)"
                        " AND ($3 = '' OR status = $3)";
    snprintf(count_sql, sizeof(count_sql), "SELECT count(*) AS n FROM notifications%s", where);
    snprintf(rows_sql, sizeof(rows_sql),
             NOTIFICATION_SELECT "%s ORDER BY created_at DESC, id LIMIT $4::int OFFSET $5::int",
             where);
    snprintf(filters, sizeof(filters), "%s%s%s%s%s%s", *channel ? "&channel=" : "", channel,
             *incident ? "&incident=" : "", incident, *status ? "&status=" : "", status);
    const char *p[] = {channel, incident, status};
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st == SW_OK)
        st = paginate(c, req, rep, "/api/notifications/", filters, count_sql, rows_sql, 3, p,
                      NULL);
    if (st == SW_OK)
        store_tx_commit(c);
    store_release(app->common->db, c);
    return st;
}

/* ---- incidents --------------------------------------------------------------------------- */

#define INCIDENT_SELECT                                                                            \
    "SELECT i.id::text AS id, i.endpoint_id::text AS endpoint_id, e.name AS endpoint_name,"       \
    " CASE WHEN i.closed_at IS NULL THEN 'open' ELSE 'resolved' END AS status, i.cause,"          \
    " " TS("i.opened_at") " AS opened_at, " TS("i.closed_at") " AS resolved_at,"                   \
    " greatest(0, extract(epoch FROM coalesce(i.closed_at, now()) - i.opened_at))::bigint"        \
    "   AS duration_seconds,"                                                                      \
    " " TS("a.at") " AS acknowledged_at, a.user_id::text AS acknowledged_by"                       \
    " FROM incidents i LEFT JOIN endpoints e ON e.id = i.endpoint_id"                             \
    " LEFT JOIN incident_acks a ON a.incident_id = i.id"

sw_status incidents_list(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    char endpoint[64] = "", open[8] = "", filters[160] = "";
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    sw_status a = query_param(endpoint, sizeof(endpoint), req->query, "endpoint");
    sw_status b = query_param(open, sizeof(open), req->query, "open");
    bool ok = true;
    if (a == SW_EINVAL || (a == SW_OK && !bus_uuid_valid(endpoint))) {
        bus_reply_field_error(rep, "endpoint", "Must be a valid UUID.");
        ok = false;
    }
    if (b == SW_EINVAL || (b == SW_OK && strcmp(open, "true") && strcmp(open, "false"))) {
        bus_reply_field_error(rep, "open", "Must be a valid boolean.");
        ok = false;
    }
    if (!ok)
        return SW_EINVAL;
    snprintf(filters, sizeof(filters), "%s%s%s%s", *endpoint ? "&endpoint=" : "", endpoint,
             *open ? "&open=" : "", open);
    const char *where = " WHERE ($1 = '' OR i.endpoint_id = nullif($1, '')::uuid)"
                        " AND ($2 = '' OR (i.closed_at IS NULL) = ($2 = 'true'))";
    char count_sql[400], rows_sql[1600];
    snprintf(count_sql, sizeof(count_sql), "SELECT count(*) AS n FROM incidents i%s", where);
    snprintf(rows_sql, sizeof(rows_sql),
             INCIDENT_SELECT "%s ORDER BY i.opened_at DESC, i.id LIMIT $3::int OFFSET $4::int",
             where);
    const char *p[] = {endpoint, open};
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st == SW_OK)
        st = paginate(c, req, rep, "/api/incidents/", filters, count_sql, rows_sql, 2, p, NULL);
    if (st == SW_OK)
        store_tx_commit(c);
    store_release(app->common->db, c);
    return st;
}

/* The incident with its timeline: opened, then incident_events, then resolved, by time. */
static sw_status incident_detail(store_conn *c, const char *id, json_t **out)
{
    json_t *rows = NULL;
    *out = NULL;
    const char *p[] = {id};
    sw_status st = store_query_one(c, out, INCIDENT_SELECT " WHERE i.id = $1::uuid", 1, p);
    if (st != SW_OK)
        return st;
    st = store_query(c, &rows, NULL,
                     "SELECT " TS("at") " AS at, type, detail FROM ("
                     " SELECT opened_at AS at, 'opened' AS type, '{}'::jsonb AS detail, 0 AS o"
                     "  FROM incidents WHERE id = $1::uuid"
                     " UNION ALL SELECT at, type, detail, 1 FROM incident_events"
                     "  WHERE incident_id = $1::uuid"
                     " UNION ALL SELECT closed_at, 'resolved', '{}'::jsonb, 2 FROM incidents"
                     "  WHERE id = $1::uuid AND closed_at IS NOT NULL) t ORDER BY t.at, t.o",
                     1, p);
    if (st != SW_OK) {
        json_decref(*out);
        *out = NULL;
        return st;
    }
    json_object_set_new(*out, "timeline", rows);
    return SW_OK;
}

sw_status incidents_get(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    json_t *row = NULL;
    if (actor_require_role(req, rep, SW_ROLE_VIEWER) != SW_OK)
        return SW_EFORBIDDEN;
    if (!bus_uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st == SW_OK) {
        st = incident_detail(c, req->param_id, &row);
        if (st == SW_OK) {
            store_tx_commit(c);
            bus_reply_json(rep, row);
        } else {
            st = st == SW_ENOTFOUND ? bus_reply_not_found(rep) : bus_reply_failure(rep, st);
        }
    }
    store_release(app->common->db, c);
    return st;
}

sw_status incidents_acknowledge(const bus_req *req, bus_reply *rep)
{
    notify_app *app = req->app;
    json_t *row = NULL;
    long added = 0;
    if (actor_require_role(req, rep, SW_ROLE_MEMBER) != SW_OK)
        return SW_EFORBIDDEN;
    if (!bus_uuid_valid(req->param_id))
        return bus_reply_not_found(rep);
    store_conn *c = store_acquire_tenant(app->common->db, req->tenant);
    if (!c)
        return bus_reply_failure(rep, SW_EUNAVAILABLE);
    sw_status st = begin(c, req, rep);
    if (st != SW_OK)
        goto out;
    const char *p[] = {req->param_id};
    st = store_query_one(c, &row, "SELECT closed_at IS NOT NULL AS closed FROM incidents"
                                  " WHERE id = $1::uuid", 1, p);
    if (st != SW_OK) {
        st = st == SW_ENOTFOUND ? bus_reply_not_found(rep) : bus_reply_failure(rep, st);
        goto out;
    }
    if (json_is_true(json_object_get(row, "closed"))) {
        st = bus_reply_error(rep, SW_EINVAL, "incident_resolved", "The incident is resolved.");
        goto out;
    }
    {
        const char *q[] = {req->param_id, bus_uuid_valid(req->user) ? req->user : NULL};
        st = store_query(c, NULL, &added,
                         "INSERT INTO incident_acks (incident_id, user_id) VALUES ($1::uuid,"
                         " $2::uuid) ON CONFLICT DO NOTHING",
                         2, q);
        if (st == SW_OK && added > 0)
            st = store_query(c, NULL, NULL,
                             "INSERT INTO incident_events (incident_id, type, detail)"
                             " VALUES ($1::uuid, 'acknowledged', jsonb_build_object('user_id', $2::text))",
                             2, q);
        /* Acknowledged: no more reminders. */
        if (st == SW_OK)
            st = store_query(c, NULL, NULL,
                             "DELETE FROM public.notify_reminders WHERE incident_id = $1::uuid",
                             1, q);
    }
    json_decref(row);
    row = NULL;
    if (st == SW_OK)
        st = incident_detail(c, req->param_id, &row);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        st = bus_reply_failure(rep, st);
        goto out;
    }
    bus_reply_json(rep, row);
    row = NULL;
out:
    json_decref(row);
    store_release(app->common->db, c);
    return st;
}
