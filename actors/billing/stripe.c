/* One HTTP call to the Stripe API (or the test double at STRIPE_API_BASE): hard timeouts, no
 * proxy, no redirects, the secret key in one header and nowhere else (not a log line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <sodium.h>

#include "actors/billing/billing.h"
#include "bus/log.h"

#define STRIPE_MAX_RESPONSE (256 * 1024)

typedef struct response {
    char *data;
    size_t len;
} response;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    response *r = arg;
    size_t add = size * n;
    if (r->len + add > STRIPE_MAX_RESPONSE)
        return 0; /* aborts the transfer: no Stripe reply is this large */
    char *d = realloc(r->data, r->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + r->len, p, add);
    r->data = d;
    r->len += add;
    r->data[r->len] = '\0';
    return add;
}

sw_status billing_stripe_call(const billing_app *app, const char *path, const char *form,
                              const char *idem, long *http, json_t **body)
{
    char auth[512], idem_h[300], url[600], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL;
    response resp = {0};
    sw_status st = SW_EUNAVAILABLE;

    *http = 0;
    *body = NULL;
    CURL *curl = curl_easy_init();
    if (!curl)
        return SW_EINTERNAL;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", app->secret_key);
    snprintf(url, sizeof(url), "%s%s", app->api_base, path);
    headers = curl_slist_append(headers, auth);
    sodium_memzero(auth, sizeof(auth));
    if (idem) {
        snprintf(idem_h, sizeof(idem_h), "Idempotency-Key: %s", idem);
        headers = curl_slist_append(headers, idem_h);
    }
    if (form)
        headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Stripe-Version: 2024-06-20");
    headers = curl_slist_append(headers, "Expect:");
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, app->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, app->total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (form) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "StatusWatch/0.1 sw-billing");

    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        /* The curl error text names the host at most; the key is only in a header. */
        sw_log(SW_LOG_WARN, "Stripe unreachable", "curl", curl_easy_strerror(rc), "detail", errbuf,
               "idempotency_key", idem ? idem : "", NULL);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http);
    *body = resp.data ? json_loadb(resp.data, resp.len, 0, NULL) : NULL;
    st = SW_OK;
out:
    curl_slist_free_all(headers); /* holds the Authorization line */
    curl_easy_cleanup(curl);
    free(resp.data);
    return st;
}

void billing_stripe_log_error(const char *what, long http, const json_t *body)
{
    char code[8];
    json_t *err = json_object_get(body, "error");
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *ecode = json_string_value(json_object_get(err, "code"));
    const char *param = json_string_value(json_object_get(err, "param"));
    snprintf(code, sizeof(code), "%ld", http);
    sw_log(SW_LOG_WARN, what, "http_status", code, "type", type ? type : "", "code",
           ecode ? ecode : "", "param", param ? param : "", NULL);
}
