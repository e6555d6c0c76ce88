/* API tokens (issue 21): GET/POST /api/tokens/, DELETE /api/tokens/{id}/ (admin), and the
 * edge's "token in use" reports. A token is "swt_" + 32 random bytes (bus/apitoken.h); the
 * reply that creates it is the only place it ever appears. The table keeps its SHA-256; the
 * edges learn it from stream SW_API_TOKENS, and a revocation reaches them the same way. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "actors/auth/auth.h"
#include "actors/common/app.h"
#include "actors/common/role.h"
#include "actors/common/validate.h"
#include "bus/apitoken.h"
#include "bus/log.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define TOKEN_COLUMNS                                                                              \
    "t.id::text AS id, t.name, t.role, t.prefix,"                                                  \
    " json_build_object('id', t.created_by, 'email', u.email) AS created_by,"                      \
    " " TS("t.created_at") " AS created_at, " TS("t.last_used_at") " AS last_used_at,"             \
    " " TS("t.expires_at") " AS expires_at"

static sw_status unavailable(bus_reply *rep, sw_status st)
{
    bus_reply_clear(rep);
    return bus_reply_error(rep, st == SW_EUNAVAILABLE ? SW_EUNAVAILABLE : SW_EINTERNAL, NULL, NULL);
}

sw_status auth_apitoken_publish(const bus_req *req, const char *id, const char *user,
                                const char *role, const char *hash_hex, long long expires_at,
                                bool revoked)
{
    sw_apitoken t = {.expires_at = expires_at, .revoked = revoked};
    char subject[160], msg_id[200];
    json_t *body = NULL;
    size_t n = 0;
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.tenant, sizeof(t.tenant), "%s", req->tenant);
    snprintf(t.user, sizeof(t.user), "%s", user);
    snprintf(t.role, sizeof(t.role), "%s", role);
    if (!hash_hex || sodium_hex2bin(t.hash, sizeof(t.hash), hash_hex, strlen(hash_hex), NULL, &n,
                                    NULL) != 0 ||
        n != sizeof(t.hash) || !sw_apitoken_encode(subject, sizeof(subject), &body, &t))
        return SW_EINTERNAL;
    snprintf(msg_id, sizeof(msg_id), "apitoken:%s:%s", id, revoked ? "revoked" : "created");
    jsCtx *js = bus_actor_js(req->actor);
    sw_status st = js ? bus_js_publish(js, subject, body, msg_id, req->request_id)
                      : SW_EUNAVAILABLE;
    json_decref(body);
    if (st != SW_OK)
        sw_log(SW_LOG_ERROR, "API token record not published", "token_id", id, "revoked",
               revoked ? "true" : "false", NULL);
    return st;
}

sw_status auth_apitokens_revoke_where(const bus_req *req, store_conn *c, const char *user,
                                      const char *above_role)
{
    json_t *rows = NULL;
    const char *p[] = {user, above_role};
    sw_status st = store_query(
        c, &rows, NULL,
        "UPDATE api_tokens SET revoked_at = now()"
        " WHERE created_by = $1::uuid AND revoked_at IS NULL"
        " AND ($2::text IS NULL OR array_position(ARRAY['viewer','member','admin','owner'], role)"
        "      > array_position(ARRAY['viewer','member','admin','owner'], $2::text))"
        " RETURNING id::text AS id, role, created_by::text AS user,"
        "  encode(token_hash, 'hex') AS hash",
        2, p);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (st == SW_OK)
            st = auth_apitoken_publish(req, json_string_value(json_object_get(row, "id")),
                                       json_string_value(json_object_get(row, "user")),
                                       json_string_value(json_object_get(row, "role")),
                                       json_string_value(json_object_get(row, "hash")), 0, true);
    }
    json_decref(rows);
    return st;
}

sw_status auth_tokens_list(const bus_req *req, bus_reply *rep)
{
    long page, size;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!auth_page(req, &page, &size))
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Invalid page.");
    return auth_list_page(req, rep, "/api/tokens/",
                          "SELECT count(*) OVER () AS total_count, " TOKEN_COLUMNS
                          " FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by"
                          " WHERE t.revoked_at IS NULL"
                          "   AND (t.expires_at IS NULL OR t.expires_at > now())"
                          " ORDER BY t.created_at DESC, t.id LIMIT $1::int OFFSET $2::int",
                          0, NULL, page, size);
}

/* An ISO 8601 date-time as the dashboard and DRF write it ("2027-01-31T12:00:00Z", with
 * optional fractions and offset); PostgreSQL then parses it. */
static bool iso_datetime(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 16 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool digit_pos = i < 16 && i != 4 && i != 7 && i != 10 && i != 13;
        if (digit_pos ? !isdigit((unsigned char)ch)
                      : !(isdigit((unsigned char)ch) || strchr("-:T.Z+ ", ch)))
            return false;
    }
    return s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':';
}

sw_status auth_tokens_create(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    char name[128], token[SW_APITOKEN_LEN + 1], hex[2 * SW_APITOKEN_HASH_BYTES + 1];
    char bytea[2 * SW_APITOKEN_HASH_BYTES + 4], prefix[16];
    unsigned char hash[SW_APITOKEN_HASH_BYTES];
    json_t *row = NULL;
    store_conn *c = NULL;
    sw_status st;

    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    const char *name_in = json_string_value(json_object_get(req->body, "name"));
    json_t *role_j = json_object_get(req->body, "role");
    json_t *exp_j = json_object_get(req->body, "expires_at");
    const char *role = json_string_value(role_j);
    const char *expires = json_string_value(exp_j);
    bool bad = false;
    if (!name_in || !*name_in) {
        bus_reply_field_error(rep, "name", "This field is required.");
        bad = true;
    } else if (!validate_name(name, sizeof(name), name_in, 100)) {
        bus_reply_field_error(rep, "name", "Enter a name of 1 to 100 characters.");
        bad = true;
    }
    if (!role_j) {
        bus_reply_field_error(rep, "role", "This field is required.");
        bad = true;
    } else if (sw_role_parse(role) == SW_ROLE_NONE) {
        bus_reply_field_error(rep, "role", "Choose one of owner, admin, member, viewer.");
        bad = true;
    } else if (sw_role_parse(role) > actor_role(req)) {
        bus_reply_field_error(rep, "role", "A token cannot have a role above your own.");
        bad = true;
    }
    if (exp_j && !json_is_null(exp_j) && !iso_datetime(expires)) {
        bus_reply_field_error(rep, "expires_at",
                              "Enter a date and time as YYYY-MM-DDThh:mm[:ss][Z], or null.");
        bad = true;
    }
    if (bad)
        return SW_EINVAL;

    sw_apitoken_generate(token, hash);
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    snprintf(bytea, sizeof(bytea), "\\x%s", hex);
    snprintf(prefix, sizeof(prefix), "%.12s", token);

    c = store_acquire_tenant(app->db, req->tenant);
    if (!c) {
        st = unavailable(rep, SW_EUNAVAILABLE);
        goto out;
    }
    st = store_tx_begin_tenant(c, req->tenant);
    if (st != SW_OK)
        goto fail;
    const char *p[] = {name, role, prefix, bytea, req->user, exp_j && !json_is_null(exp_j) ? expires : NULL};
    st = store_query_one(c, &row,
                         "WITH t AS (INSERT INTO api_tokens (name, role, prefix, token_hash,"
                         "  created_by, expires_at)"
                         " SELECT $1, $2, $3, $4::bytea, $5::uuid, $6::timestamptz"
                         " WHERE $6::timestamptz IS NULL OR $6::timestamptz > now()"
                         " RETURNING *)"
                         " SELECT " TOKEN_COLUMNS ","
                         "  coalesce(extract(epoch FROM t.expires_at)::bigint, 0) AS expires_epoch"
                         " FROM t LEFT JOIN users u ON u.id = t.created_by",
                         6, p);
    if (st == SW_ENOTFOUND) {
        bus_reply_field_error(rep, "expires_at", "The expiry must lie in the future.");
        st = SW_EINVAL;
        goto out;
    }
    if (st == SW_EINVAL) {
        bus_reply_clear(rep);
        bus_reply_field_error(rep, "expires_at", "Enter a valid date and time.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *id = json_string_value(json_object_get(row, "id"));
    json_t *detail = json_pack("{s:s}", "role", role);
    st = auth_audit(c, req, NULL, "token.created", "token", id, name, detail);
    json_decref(detail);
    /* The edges learn it before the client does: a token works as soon as it is shown. */
    if (st == SW_OK)
        st = auth_apitoken_publish(req, id, req->user, role, hex,
                                   (long long)json_integer_value(
                                       json_object_get(row, "expires_epoch")),
                                   false);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK) {
        /* Published but not stored: withdraw it from the edges (nobody has seen it). */
        auth_apitoken_publish(req, id, req->user, role, hex, 0, true);
        goto fail;
    }
    json_object_del(row, "expires_epoch");
    json_object_set_new(row, "token", json_string(token));
    sw_log(SW_LOG_INFO, "security: API token created", "event", "token_created", "token_id", id,
           "role", role, "user_id", req->user, NULL);
    bus_reply_json(rep, row);
    row = NULL;
    st = SW_CREATED;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    sodium_memzero(token, sizeof(token));
    json_decref(row);
    store_release(app->db, c);
    return st;
}

sw_status auth_tokens_revoke(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    json_t *row = NULL;
    sw_status st;
    if (actor_require_role(req, rep, SW_ROLE_ADMIN) != SW_OK)
        return SW_EFORBIDDEN;
    if (!req->param_id || strlen(req->param_id) != 36)
        return bus_reply_error(rep, SW_ENOTFOUND, NULL, "Not found.");
    store_conn *c = store_acquire_tenant(app->db, req->tenant);
    if (!c)
        return unavailable(rep, SW_EUNAVAILABLE);
    st = store_tx_begin_tenant(c, req->tenant);
    if (st != SW_OK)
        goto fail;
    const char *p[] = {req->param_id};
    st = store_query_one(c, &row,
                         "UPDATE api_tokens SET revoked_at = now()"
                         " WHERE id::text = $1 AND revoked_at IS NULL"
                         " RETURNING id::text AS id, name, role, created_by::text AS user,"
                         "  encode(token_hash, 'hex') AS hash",
                         1, p);
    if (st == SW_ENOTFOUND) {
        st = bus_reply_error(rep, SW_ENOTFOUND, NULL, "Not found.");
        goto out;
    }
    if (st != SW_OK)
        goto fail;
    const char *id = json_string_value(json_object_get(row, "id"));
    st = auth_audit(c, req, NULL, "token.revoked", "token", id,
                    json_string_value(json_object_get(row, "name")), NULL);
    if (st == SW_OK)
        st = auth_apitoken_publish(req, id, json_string_value(json_object_get(row, "user")),
                                   json_string_value(json_object_get(row, "role")),
                                   json_string_value(json_object_get(row, "hash")), 0, true);
    if (st == SW_OK)
        st = store_tx_commit(c);
    if (st != SW_OK)
        goto fail;
    sw_log(SW_LOG_INFO, "security: API token revoked", "event", "token_revoked", "token_id", id,
           "user_id", req->user, NULL);
    st = SW_NO_CONTENT;
    goto out;
fail:
    st = unavailable(rep, st);
out:
    json_decref(row);
    store_release(app->db, c);
    return st;
}

sw_status auth_token_used(const bus_req *req, bus_reply *rep)
{
    actor_app *app = req->app;
    const char *id = json_string_value(json_object_get(req->body, "id"));
    (void)rep;
    if (!req->tenant || !id || strlen(id) != 36)
        return SW_EINVAL;
    store_conn *c = store_acquire_tenant(app->db, req->tenant);
    if (!c)
        return SW_EUNAVAILABLE;
    sw_status st = store_tx_begin_tenant(c, req->tenant);
    const char *p[] = {id};
    if (st == SW_OK)
        st = store_query(c, NULL, NULL,
                         "UPDATE api_tokens SET last_used_at = now() WHERE id::text = $1", 1, p);
    if (st == SW_OK)
        st = store_tx_commit(c);
    store_release(app->db, c);
    return st;
}
