/* The writable fields of an endpoint and their bounds (field-level 400s, DRF wording), and
 * the actor's start-up settings: the URL policy and the probe regions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actors/common/assertion.h"
#include "actors/endpoints/endpoints.h"
#include "bus/config.h"
#include "bus/log.h"

static const char *required = "This field is required.";
static const char *not_integer = "A valid integer is required.";

/* A region name: 1-32 of [a-z0-9-]; it becomes a subject token. */
static bool region_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

/* True when name is one of the comma-separated regions in list. */
static bool region_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && len && strncmp(p, name, n) == 0)
            return true;
        p += len;
    }
    return false;
}

static bool regions_setting_valid(const char *list)
{
    bool any = false;
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (len && !region_name_valid(p, len))
            return false;
        any |= len > 0;
        p += len;
    }
    return any;
}

void *endpoints_app_init(bus_actor *a, sw_status *err)
{
    char why[256] = "";
    endpoints_app *app = calloc(1, sizeof(*app));
    if (!app) {
        *err = SW_EINTERNAL;
        return NULL;
    }
    pthread_mutex_init(&app->lookups_lock, NULL);
    app->common = actor_app_init(a, err);
    if (!app->common)
        goto fail;

    const char *home = sw_config_str("SW_REGION", "local");
    const char *regions = sw_config_str("SW_REGIONS", home);
    if (!region_name_valid(home, strlen(home)) || strlen(home) >= sizeof(app->home_region)) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_REGION", "reason",
               "expected 1-32 characters of [a-z0-9-]", NULL);
        goto einval;
    }
    if (!regions_setting_valid(regions) || strlen(regions) >= sizeof(app->regions) ||
        !region_in_list(regions, home)) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_REGIONS", "reason",
               "expected a comma-separated list of region names that includes SW_REGION", NULL);
        goto einval;
    }
    snprintf(app->home_region, sizeof(app->home_region), "%s", home);
    snprintf(app->regions, sizeof(app->regions), "%s", regions);

    const char *allow = sw_config_str("SW_PROBE_ALLOW_CIDRS", "");
    if (url_policy_new(&app->policy, allow, sw_config_is_production(), why, sizeof(why)) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_PROBE_ALLOW_CIDRS", "reason", why,
               NULL);
        goto einval;
    }
    if (*allow)
        sw_log(SW_LOG_WARN,
               "SW_PROBE_ALLOW_CIDRS is set: endpoints may point at these private addresses "
               "(meant for tests only)",
               "setting", "SW_PROBE_ALLOW_CIDRS", "value", allow, NULL);
    /* Name lookups of new URLs: the system's name servers unless SW_DNS_SERVERS names others,
     * each lookup cut off at SW_DNS_TIMEOUT_MS (a create answers within the edge's 5 s). */
    bool ok = true;
    long dns_ms = sw_config_long("SW_DNS_TIMEOUT_MS", 4000, 100, 4500, &ok);
    const char *dns = sw_config_str("SW_DNS_SERVERS", "");
    if (!ok || url_policy_set_resolver(app->policy, dns, (int)dns_ms, why, sizeof(why)) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting",
               ok ? "SW_DNS_SERVERS" : "SW_DNS_TIMEOUT_MS", "reason",
               ok ? why : "expected 100-4500 (milliseconds)", NULL);
        goto einval;
    }
    app->lookups_per_tenant = (int)sw_config_long("SW_DNS_TENANT_LOOKUPS", 4, 1, 64, &ok);
    if (!ok) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_DNS_TENANT_LOOKUPS", "reason",
               "expected 1-64", NULL);
        goto einval;
    }
    /* Request header values are sealed with SW_SEAL_KEY (only sw-endpoints and the probers have
     * it). Without it, endpoints cannot carry headers (a field error says so); production
     * refuses to start. */
    const char *seal = sw_config_str("SW_SEAL_KEY", "");
    if (*seal && seal_key_new(&app->seal, seal) != SW_OK) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_SEAL_KEY", "reason",
               "expected 64 hex digits", NULL);
        goto einval;
    }
    if (!*seal && sw_config_is_production()) {
        sw_log(SW_LOG_ERROR, "refusing to start", "setting", "SW_SEAL_KEY", "reason",
               "required in production (seals request header values)", NULL);
        goto einval;
    }
    if (!*seal)
        sw_log(SW_LOG_WARN, "SW_SEAL_KEY is not set: endpoints cannot carry request headers",
               NULL);
    return app;
einval:
    *err = SW_EINVAL;
fail:
    endpoints_app_free(app);
    return NULL;
}

void endpoints_app_free(void *p)
{
    endpoints_app *app = p;
    if (!app)
        return;
    url_policy_free(app->policy);
    seal_key_free(app->seal);
    actor_app_free(app->common);
    pthread_mutex_destroy(&app->lookups_lock);
    free(app);
}

/* Reads an integer field in [min, max]; false (with a field error) when present and bad. */
static bool read_int(const json_t *body, bus_reply *rep, const char *name, long min, long max,
                     bool *has, long *out)
{
    char msg[96];
    json_t *v = json_object_get(body, name);
    *has = false;
    if (!v)
        return true;
    if (json_is_null(v)) {
        bus_reply_field_error(rep, name, "This field may not be null.");
        return false;
    }
    if (!json_is_integer(v)) {
        bus_reply_field_error(rep, name, not_integer);
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (n < min) {
        snprintf(msg, sizeof(msg), "Ensure this value is greater than or equal to %ld.", min);
        bus_reply_field_error(rep, name, msg);
        return false;
    }
    if (n > max) {
        snprintf(msg, sizeof(msg), "Ensure this value is less than or equal to %ld.", max);
        bus_reply_field_error(rep, name, msg);
        return false;
    }
    *has = true;
    *out = (long)n;
    return true;
}

/* "2xx", "2xx-3xx" (classes 1-5, ascending), one code, or a list of 1-20 codes in 100-599.
 * Returns the stored form (owned) or NULL. */
static json_t *expected_status_parse(const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        bool one = n == 3, two = n == 7 && s[3] == '-';
        if (!one && !two)
            return NULL;
        if (s[0] < '1' || s[0] > '5' || strncmp(s + 1, "xx", 2) != 0)
            return NULL;
        if (two && (s[4] < s[0] || s[4] > '5' || strncmp(s + 5, "xx", 2) != 0))
            return NULL;
        return json_string(s);
    }
    if (json_is_integer(v)) {
        json_int_t c = json_integer_value(v);
        return (c >= 100 && c <= 599) ? json_pack("[I]", c) : NULL;
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 20)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        json_int_t c = json_is_integer(item) ? json_integer_value(item) : 0;
        if (c < 100 || c > 599) {
            json_decref(out);
            return NULL;
        }
        bool dup = false;
        for (size_t j = 0; j < json_array_size(out); j++)
            dup |= json_integer_value(json_array_get(out, j)) == c;
        if (!dup)
            json_array_append_new(out, json_integer(c));
    }
    return out;
}

static json_t *regions_parse(const endpoints_app *app, const json_t *v, bus_reply *rep)
{
    char msg[96];
    if (!json_is_array(v)) {
        bus_reply_field_error(rep, "regions", "Expected a list of region names.");
        return NULL;
    }
    if (json_array_size(v) == 0) {
        bus_reply_field_error(rep, "regions", "This list may not be empty.");
        return NULL;
    }
    if (json_array_size(v) > ENDPOINTS_MAX_REGIONS) {
        bus_reply_field_error(rep, "regions", "Ensure this field has no more than 16 elements.");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        const char *r = json_string_value(item);
        if (!r || !region_name_valid(r, strlen(r)) || !region_in_list(app->regions, r)) {
            if (r && strlen(r) <= 32 && region_name_valid(r, strlen(r)))
                snprintf(msg, sizeof(msg), "\"%s\" is not a valid choice.", r);
            else
                snprintf(msg, sizeof(msg), "Not a valid region name.");
            bus_reply_field_error(rep, "regions", msg);
            json_decref(out);
            return NULL;
        }
        bool dup = false;
        for (size_t j = 0; j < json_array_size(out); j++)
            dup |= strcmp(json_string_value(json_array_get(out, j)), r) == 0;
        if (!dup)
            json_array_append_new(out, json_string(r));
    }
    return out;
}

/* Trims s into out; the error message when it is blank, too long or has control chars. */
static const char *text_field(char *out, size_t len, const char *s, size_t max_chars)
{
    size_t chars = 0;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0)
        return "This field may not be blank.";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return "Control characters are not allowed.";
        if ((ch & 0xC0) != 0x80)
            chars++;
    }
    if (chars > max_chars || n >= len)
        return max_chars == 200 ? "Ensure this field has no more than 200 characters."
                                : "Ensure this field has no more than 2048 characters.";
    memcpy(out, s, n);
    out[n] = '\0';
    return NULL;
}

/* Takes one of the tenant's lookup places (false: all in use, or no free slot). */
static bool lookup_enter(endpoints_app *app, const char *tenant)
{
    bool ok = false;
    int free_slot = -1;
    pthread_mutex_lock(&app->lookups_lock);
    for (int i = 0; i < ENDPOINTS_LOOKUP_SLOTS; i++) {
        lookup_slot *s = &app->lookups[i];
        if (s->n > 0 && strcmp(s->tenant, tenant) == 0) {
            ok = s->n < app->lookups_per_tenant;
            if (ok)
                s->n++;
            free_slot = -2;
            break;
        }
        if (s->n == 0 && free_slot == -1)
            free_slot = i;
    }
    if (free_slot >= 0) {
        snprintf(app->lookups[free_slot].tenant, sizeof(app->lookups[0].tenant), "%s", tenant);
        app->lookups[free_slot].n = 1;
        ok = true;
    }
    pthread_mutex_unlock(&app->lookups_lock);
    return ok;
}

static void lookup_leave(endpoints_app *app, const char *tenant)
{
    pthread_mutex_lock(&app->lookups_lock);
    for (int i = 0; i < ENDPOINTS_LOOKUP_SLOTS; i++) {
        lookup_slot *s = &app->lookups[i];
        if (s->n > 0 && strcmp(s->tenant, tenant) == 0) {
            s->n--;
            break;
        }
    }
    pthread_mutex_unlock(&app->lookups_lock);
}

/* The URL policy's verdict, with at most lookups_per_tenant checks of one tenant at a time
 * (each may wait for a name server until its deadline): one tenant's unanswered lookups never
 * take the threads other tenants' creates run on. */
static const char *check_url(endpoints_app *app, const bus_req *req, const char *url)
{
    char reason[256];
    const char *tenant = req->tenant ? req->tenant : "";
    if (!lookup_enter(app, tenant))
        return "Too many addresses are being looked up for your organization right now. Try "
               "again in a few seconds.";
    url_verdict verdict = url_policy_check(app->policy, url, reason, sizeof(reason));
    lookup_leave(app, tenant);
    if (verdict == URL_OK)
        return NULL;
    /* The reason (addresses, resolver errors) is for the log, not the client. */
    sw_log(SW_LOG_INFO, "endpoint url refused", "reason", reason, NULL);
    return url_verdict_message(verdict);
}

/* tcp://host:port (a port is required; nothing after it but an optional "/"): the same
 * policy as an http URL of that host and port. */
static const char *check_tcp_url(endpoints_app *app, const bus_req *req, char *url)
{
    char http[2100];
    const char *hp = url + 6;
    size_t n = strcspn(hp, "/?#");
    if (hp[n] == '/' && hp[n + 1] == '\0')
        url[6 + n] = '\0';
    else if (hp[n] != '\0')
        return "Enter a URL like tcp://host:port.";
    const char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
    if (colon && hp[0] == '[')
        colon++;
    if (!colon || colon == hp || strlen(colon + 1) == 0 || strlen(colon + 1) > 5 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
        atoi(colon + 1) > 65535 || strchr(hp, '@'))
        return "Enter a URL like tcp://host:port.";
    for (size_t i = 0; i < 6; i++)
        url[i] = (char)tolower((unsigned char)url[i]);
    snprintf(http, sizeof(http), "http://%s/", hp);
    return check_url(app, req, http);
}

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
/* Headers libcurl sets from the request itself: a user value would contradict it. */
static const char *const reserved_headers[] = {"host", "content-length", "transfer-encoding",
                                               "connection"};
#define HEADERS_MAX 20
#define HEADER_VALUE_MAX 1024
#define BODY_MAX 16384

static bool header_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~", s[i]))
            return false;
    return true;
}

/* headers: an object of at most 20 name -> value strings; errors per name (DRF DictField). */
static json_t *headers_parse(const json_t *v, bus_reply *rep)
{
    if (!json_is_object(v)) {
        bus_reply_field_error(rep, "headers", "Expected a dictionary of items.");
        return NULL;
    }
    if (json_object_size(v) > HEADERS_MAX) {
        bus_reply_field_error(rep, "headers", "Ensure this field has no more than 20 elements.");
        return NULL;
    }
    json_t *errs = json_object(), *out = json_object();
    const char *name;
    json_t *val;
    json_object_foreach((json_t *)v, name, val)
    {
        const char *msg = NULL;
        const char *s = json_string_value(val);
        bool reserved = false;
        for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
            reserved |= strcasecmp(name, reserved_headers[i]) == 0;
        if (!header_name_ok(name))
            msg = "Enter a valid header name.";
        else if (reserved)
            msg = "This header is set by the check itself.";
        else if (!s)
            msg = "Not a valid string.";
        else if (json_string_length(val) > HEADER_VALUE_MAX)
            msg = "Ensure this value has no more than 1024 characters.";
        else if (strpbrk(s, "\r\n") || strlen(s) != json_string_length(val))
            msg = "Header values may not contain line breaks.";
        bool dup = false;
        const char *other;
        json_t *ov;
        json_object_foreach(out, other, ov) dup |= strcasecmp(other, name) == 0;
        if (!msg && dup)
            msg = "This header is given twice.";
        if (msg)
            json_object_set_new(errs, name, json_pack("[s]", msg));
        else
            json_object_set(out, name, val);
    }
    if (json_object_size(errs) > 0) {
        if (!json_is_object(rep->body))
            bus_reply_json(rep, json_object());
        json_object_set_new(rep->body, "headers", errs);
        json_decref(out);
        return NULL;
    }
    json_decref(errs);
    return out;
}

static json_t *alert_days_parse(const json_t *v, bus_reply *rep)
{
    if (!json_is_array(v) || json_array_size(v) > 10) {
        bus_reply_field_error(rep, "tls_expiry_alert_days",
                              json_is_array(v) ? "Ensure this field has no more than 10 elements."
                                               : "Expected a list of items.");
        return NULL;
    }
    int days[10];
    size_t n = 0, i;
    json_t *d;
    json_array_foreach(v, i, d)
    {
        json_int_t x = json_is_integer(d) ? json_integer_value(d) : 0;
        if (x < 1 || x > 365) {
            bus_reply_field_error(rep, "tls_expiry_alert_days",
                                  "Enter whole numbers of days between 1 and 365.");
            return NULL;
        }
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= days[k] == (int)x;
        if (!dup)
            days[n++] = (int)x;
    }
    /* Descending: the order thresholds are crossed in. */
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            if (days[b] > days[a]) {
                int t = days[a];
                days[a] = days[b];
                days[b] = t;
            }
    json_t *out = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(out, json_integer(days[k]));
    return out;
}

static bool read_bool(const json_t *body, bus_reply *rep, const char *name, bool *has, bool *out)
{
    json_t *v = json_object_get(body, name);
    *has = false;
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        bus_reply_field_error(rep, name, "Must be a valid boolean.");
        return false;
    }
    *has = true;
    *out = json_is_true(v);
    return true;
}

/* The fields of issue 17 (kind, method, headers, body, follow_redirects, tls_verify, assertions,
 * degraded_threshold_ms, tls_expiry_alert_days). */
static bool check_fields_read(endpoint_input *in, const json_t *body, bus_reply *rep)
{
    bool ok = true;
    json_t *v = json_object_get(body, "kind");
    if (v) {
        const char *k = json_string_value(v);
        if (k && (strcmp(k, "http") == 0 || strcmp(k, "tcp") == 0)) {
            in->has_kind = true;
            snprintf(in->kind, sizeof(in->kind), "%s", k);
        } else {
            char msg[80];
            snprintf(msg, sizeof(msg), "\"%.20s\" is not a valid choice.", k ? k : "");
            bus_reply_field_error(rep, "kind", msg);
            ok = false;
        }
    }
    v = json_object_get(body, "method");
    if (v) {
        const char *m = json_string_value(v);
        for (size_t i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
            if (strcmp(m, methods[i]) == 0) {
                in->has_method = true;
                snprintf(in->method, sizeof(in->method), "%s", m);
            }
        if (!in->has_method) {
            char msg[80];
            snprintf(msg, sizeof(msg), "\"%.20s\" is not a valid choice.", m ? m : "");
            bus_reply_field_error(rep, "method", msg);
            ok = false;
        }
    }
    v = json_object_get(body, "headers");
    if (v) {
        in->headers = json_is_null(v) ? json_object() : headers_parse(v, rep);
        in->has_headers = in->headers != NULL;
        ok &= in->has_headers;
    }
    v = json_object_get(body, "body");
    if (v) {
        if (json_is_null(v)) {
            in->has_body = true;
        } else if (!json_is_string(v)) {
            bus_reply_field_error(rep, "body", "Not a valid string.");
            ok = false;
        } else if (json_string_length(v) > BODY_MAX) {
            bus_reply_field_error(rep, "body", "Ensure this field has no more than 16384 bytes.");
            ok = false;
        } else if (strlen(json_string_value(v)) != json_string_length(v)) {
            bus_reply_field_error(rep, "body", "Null characters are not allowed.");
            ok = false;
        } else {
            in->has_body = true;
            in->body = strdup(json_string_value(v));
        }
    }
    ok &= read_bool(body, rep, "follow_redirects", &in->has_follow, &in->follow_redirects);
    ok &= read_bool(body, rep, "tls_verify", &in->has_tls_verify, &in->tls_verify);
    v = json_object_get(body, "assertions");
    if (v) {
        json_t *errors = NULL;
        in->assertions = json_is_null(v) ? json_array() : assertion_validate(v, &errors);
        if (!in->assertions) {
            if (!json_is_object(rep->body))
                bus_reply_json(rep, json_object());
            json_object_set_new(rep->body, "assertions", errors);
            ok = false;
        } else {
            in->has_assertions = true;
        }
    }
    v = json_object_get(body, "degraded_threshold_ms");
    if (v && json_is_null(v)) {
        in->has_degraded = true;
        in->degraded_threshold_ms = 0;
    } else {
        ok &= read_int(body, rep, "degraded_threshold_ms", 1, 60000, &in->has_degraded,
                       &in->degraded_threshold_ms);
    }
    v = json_object_get(body, "tls_expiry_alert_days");
    if (v) {
        in->alert_days = alert_days_parse(v, rep);
        in->has_alert_days = in->alert_days != NULL;
        ok &= in->has_alert_days;
    }
    return ok;
}

bool endpoint_input_read(endpoint_input *in, const bus_req *req, bus_reply *rep, bool url_required)
{
    endpoints_app *app = req->app;
    const json_t *body = req->body;
    bool ok = true;
    json_t *v;

    memset(in, 0, sizeof(*in));

    v = json_object_get(body, "url");
    if (!v || json_is_null(v)) {
        if (url_required) {
            bus_reply_field_error(rep, "url", required);
            ok = false;
        }
    } else if (!json_is_string(v)) {
        bus_reply_field_error(rep, "url", "Not a valid string.");
        ok = false;
    } else {
        const char *bad = text_field(in->url, sizeof(in->url), json_string_value(v), 2048);
        if (!bad && strncasecmp(in->url, "tcp://", 6) == 0)
            bad = check_tcp_url(app, req, in->url);
        else if (!bad)
            bad = check_url(app, req, in->url);
        if (bad) {
            bus_reply_field_error(rep, "url", bad);
            ok = false;
        } else {
            in->has_url = true;
        }
    }

    v = json_object_get(body, "name");
    if (v && !json_is_null(v)) {
        const char *bad = json_is_string(v)
                              ? text_field(in->name, sizeof(in->name), json_string_value(v), 200)
                              : "Not a valid string.";
        if (bad) {
            bus_reply_field_error(rep, "name", bad);
            ok = false;
        } else {
            in->has_name = true;
        }
    }

    ok &= read_int(body, rep, "interval_seconds", 30, 86400, &in->has_interval,
                   &in->interval_seconds);
    ok &= read_int(body, rep, "timeout_seconds", 1, 60, &in->has_timeout, &in->timeout_seconds);
    ok &= read_int(body, rep, "failure_threshold", 1, 10, &in->has_failure, &in->failure_threshold);
    ok &= read_int(body, rep, "recovery_threshold", 1, 10, &in->has_recovery,
                   &in->recovery_threshold);

    v = json_object_get(body, "expected_status");
    if (v) {
        in->expected_status = json_is_null(v) ? NULL : expected_status_parse(v);
        if (!in->expected_status) {
            bus_reply_field_error(rep, "expected_status",
                                  "Enter a status class range like \"2xx-3xx\" or a list of "
                                  "status codes between 100 and 599.");
            ok = false;
        } else {
            in->has_expected = true;
        }
    }

    v = json_object_get(body, "regions");
    if (v) {
        in->regions = regions_parse(app, v, rep);
        ok &= in->regions != NULL;
        in->has_regions = in->regions != NULL;
    }

    v = json_object_get(body, "paused");
    if (v) {
        if (json_is_boolean(v)) {
            in->has_paused = true;
            in->paused = json_is_true(v);
        } else {
            bus_reply_field_error(rep, "paused", "Must be a valid boolean.");
            ok = false;
        }
    }
    ok &= check_fields_read(in, body, rep);
    return ok;
}

void endpoint_input_free(endpoint_input *in)
{
    if (!in)
        return;
    json_decref(in->expected_status);
    json_decref(in->regions);
    json_decref(in->headers);
    json_decref(in->assertions);
    json_decref(in->alert_days);
    free(in->body);
    in->expected_status = in->regions = in->headers = in->assertions = in->alert_days = NULL;
    in->body = NULL;
}

bool endpoint_check_params_make(endpoint_check_params *cp, const bus_req *req,
                                const endpoint_input *in, const char *cur_sealed, bus_reply *rep)
{
    endpoints_app *app = req->app;
    memset(cp, 0, sizeof(*cp));
    cp->p[0] = in->has_kind ? in->kind : NULL;
    cp->p[1] = in->has_method ? in->method : NULL;
    if (in->has_headers) {
        json_t *merged = json_object(), *names = json_array(), *stored = NULL;
        const char *name;
        json_t *val;
        bool missing = false;
        if (cur_sealed && app->seal) {
            char *plain = seal_open(app->seal, cur_sealed);
            stored = plain ? json_loads(plain, 0, NULL) : NULL;
            seal_wipe(plain);
        }
        json_object_foreach(in->headers, name, val)
        {
            const char *s = json_string_value(val);
            if (strcmp(s, "********") == 0) {
                const char *sn;
                json_t *sv, *keep = NULL;
                json_object_foreach(stored, sn, sv) if (strcasecmp(sn, name) == 0) keep = sv;
                if (!keep) {
                    missing = true;
                    continue;
                }
                json_object_set(merged, name, keep);
            } else {
                json_object_set(merged, name, val);
            }
            json_array_append_new(names, json_string(name));
        }
        json_decref(stored);
        if (missing) {
            bus_reply_field_error(rep, "headers",
                                  "\"********\" keeps a stored value: this header has none.");
            json_decref(merged);
            json_decref(names);
            return false;
        }
        if (json_object_size(merged) > 0 && !app->seal) {
            bus_reply_field_error(rep, "headers",
                                  "Request headers cannot be stored on this server (no seal key).");
            json_decref(merged);
            json_decref(names);
            return false;
        }
        char *plain = json_object_size(merged) ? json_dumps(merged, JSON_COMPACT) : NULL;
        cp->owned[0] = json_dumps(names, JSON_COMPACT);
        cp->owned[1] = plain ? seal_text(app->seal, plain, strlen(plain)) : NULL;
        seal_wipe(plain);
        json_decref(merged);
        json_decref(names);
        cp->p[2] = cp->owned[0];
        cp->p[3] = cp->owned[1] ? cp->owned[1] : ""; /* "": none (nullif in SQL) */
    }
    cp->set_body = in->has_body;
    cp->p[4] = in->body;
    cp->p[5] = in->has_follow ? (in->follow_redirects ? "true" : "false") : NULL;
    cp->p[6] = in->has_tls_verify ? (in->tls_verify ? "true" : "false") : NULL;
    if (in->has_assertions)
        cp->p[7] = cp->owned[2] = json_dumps(in->assertions, JSON_COMPACT);
    cp->set_degraded = in->has_degraded;
    if (in->has_degraded && in->degraded_threshold_ms > 0) {
        snprintf(cp->num, sizeof(cp->num), "%ld", in->degraded_threshold_ms);
        cp->p[8] = cp->num;
    }
    if (in->has_alert_days)
        cp->p[9] = cp->owned[3] = json_dumps(in->alert_days, JSON_COMPACT);
    return true;
}

void endpoint_check_params_free(endpoint_check_params *cp)
{
    for (size_t i = 0; i < sizeof(cp->owned) / sizeof(cp->owned[0]); i++)
        free(cp->owned[i]);
    memset(cp, 0, sizeof(*cp));
}
