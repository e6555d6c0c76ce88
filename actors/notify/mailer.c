/* The mail worker: pull, render, send over SMTP, ack; on an SMTP failure nak with a growing
 * delay so the job comes back later (JetStream keeps it across restarts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "actors/common/mail.h"
#include "actors/common/validate.h"
#include "actors/notify/notify.h"
#include "bus/config.h"
#include "bus/jetstream.h"
#include "bus/log.h"

/* ------------------------------------------------------------------ rendering */

static void strip_crlf(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

sw_status notify_render(char **out, const json_t *job, const char *from, const char *msg_id)
{
    char date[64], subject[200], to[256], org[256];
    const char *kind = json_string_value(json_object_get(job, "kind"));
    const char *to_in = json_string_value(json_object_get(job, "to"));
    json_t *vars = json_object_get(job, "vars");
    char *body = NULL;
    size_t blen = 0;
    FILE *f = NULL;
    time_t now = time(NULL);
    struct tm tm;

    *out = NULL;
    if (!kind || !to_in || !json_is_object(vars) || !validate_email(to, sizeof(to), to_in))
        return SW_EINVAL;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

    if (strcmp(kind, "verify_email") == 0) {
        const char *link = json_string_value(json_object_get(vars, "link"));
        const char *o = json_string_value(json_object_get(vars, "organization"));
        json_int_t hours = json_integer_value(json_object_get(vars, "expires_hours"));
        if (!link || !o || hours <= 0 || strchr(link, '\r') || strchr(link, '\n'))
            return SW_EINVAL;
        snprintf(org, sizeof(org), "%s", o);
        strip_crlf(org);
        snprintf(subject, sizeof(subject), "Verify your email address for StatusWatch");
        f = open_memstream(&body, &blen);
        if (!f)
            return SW_EINTERNAL;
        fprintf(f,
                "Hello,\r\n\r\n"
                "Welcome to StatusWatch! Your organization \"%s\" is ready.\r\n\r\n"
                "Confirm your email address by opening this link:\r\n\r\n"
                "%s\r\n\r\n"
                "The link works once and expires in %d hours. If you did not sign up, ignore "
                "this message.\r\n\r\n"
                "-- \r\nStatusWatch\r\n",
                org, link, (int)hours);
        fclose(f);
    } else if (strcmp(kind, "endpoint_down") == 0 || strcmp(kind, "endpoint_up") == 0) {
        bool down = kind[9] == 'd';
        char name[256], url[600], cause[200];
        const char *n = json_string_value(json_object_get(vars, "endpoint_name"));
        const char *u = json_string_value(json_object_get(vars, "url"));
        const char *c = json_string_value(json_object_get(vars, "cause"));
        if (!n || !u)
            return SW_EINVAL;
        snprintf(name, sizeof(name), "%s", n);
        snprintf(url, sizeof(url), "%s", u);
        snprintf(cause, sizeof(cause), "%s", c ? c : "");
        strip_crlf(name);
        strip_crlf(url);
        strip_crlf(cause);
        snprintf(subject, sizeof(subject), "[StatusWatch] %.150s is %s", name,
                 down ? "DOWN" : "back UP");
        f = open_memstream(&body, &blen);
        if (!f)
            return SW_EINTERNAL;
        if (down)
            fprintf(f,
                    "Hello,\r\n\r\n%s (%s) is down: the checks failed from a majority of its "
                    "regions.\r\n\r\nLast error: %s\r\n\r\nWe will tell you once when it "
                    "recovers.\r\n\r\n-- \r\nStatusWatch\r\n",
                    name, url, cause[0] ? cause : "unknown");
        else
            fprintf(f,
                    "Hello,\r\n\r\n%s (%s) is up again.\r\n\r\n-- \r\nStatusWatch\r\n",
                    name, url);
        fclose(f);
    } else if (strcmp(kind, "tls_expiring") == 0) {
        /* From sw-auth on the recorder's tls.expiring (issue 17). */
        char name[256], url[600], when[64], issuer[256];
        const char *n = json_string_value(json_object_get(vars, "endpoint_name"));
        const char *u = json_string_value(json_object_get(vars, "url"));
        const char *w = json_string_value(json_object_get(vars, "expires_at"));
        const char *is = json_string_value(json_object_get(vars, "issuer"));
        json_int_t days = json_integer_value(json_object_get(vars, "days_left"));
        if (!n || !u || !w)
            return SW_EINVAL;
        snprintf(name, sizeof(name), "%s", n);
        snprintf(url, sizeof(url), "%s", u);
        snprintf(when, sizeof(when), "%s", w);
        snprintf(issuer, sizeof(issuer), "%s", is ? is : "");
        strip_crlf(name);
        strip_crlf(url);
        strip_crlf(when);
        strip_crlf(issuer);
        snprintf(subject, sizeof(subject), "[StatusWatch] The certificate of %.120s expires in %d days",
                 name, (int)days);
        f = open_memstream(&body, &blen);
        if (!f)
            return SW_EINTERNAL;
        fprintf(f,
                "Hello,\r\n\r\nThe TLS certificate of %s (%s) expires on %s, in %d day%s.\r\n"
                "Issuer: %s\r\n\r\nRenew it before then, or visitors will see a certificate "
                "error.\r\n\r\n-- \r\nStatusWatch\r\n",
                name, url, when, (int)days, days == 1 ? "" : "s", issuer[0] ? issuer : "unknown");
        fclose(f);
    } else if (strcmp(kind, "notification") == 0) {
        /* An email channel's notification (issue 19) that is not an outage mail: a test, a
         * reminder, a roll-up. title: one line; text: lines. */
        const char *t = json_string_value(json_object_get(vars, "title"));
        const char *x = json_string_value(json_object_get(vars, "text"));
        char title[200];
        if (!t || !x)
            return SW_EINVAL;
        snprintf(title, sizeof(title), "%s", t);
        strip_crlf(title);
        snprintf(subject, sizeof(subject), "[StatusWatch] %.180s", title);
        f = open_memstream(&body, &blen);
        if (!f)
            return SW_EINTERNAL;
        fputs("Hello,\r\n\r\n", f);
        for (const char *q = x; *q; q++) {
            if (*q == '\n')
                fputs("\r\n", f);
            else if (*q != '\r')
                fputc(*q, f);
        }
        fputs("\r\n\r\n-- \r\nStatusWatch\r\n", f);
        fclose(f);
    } else if (strcmp(kind, "payment_failed") == 0) {
        /* From sw-billing on Stripe's invoice.payment_failed. Links must be single-line;
         * amount and invoice_url are optional. */
        const char *o = json_string_value(json_object_get(vars, "organization"));
        const char *billing = json_string_value(json_object_get(vars, "billing_url"));
        const char *amount = json_string_value(json_object_get(vars, "amount"));
        const char *invoice = json_string_value(json_object_get(vars, "invoice_url"));
        char amt[64];
        if (!o || !billing || strpbrk(billing, "\r\n") || (invoice && strpbrk(invoice, "\r\n")))
            return SW_EINVAL;
        snprintf(org, sizeof(org), "%s", o);
        strip_crlf(org);
        snprintf(amt, sizeof(amt), "%s", amount ? amount : "");
        strip_crlf(amt);
        snprintf(subject, sizeof(subject), "[StatusWatch] Payment failed for %.150s", org);
        f = open_memstream(&body, &blen);
        if (!f)
            return SW_EINTERNAL;
        fprintf(f,
                "Hello,\r\n\r\n"
                "We could not collect the payment%s%s for the Pro plan of \"%s\".\r\n\r\n"
                "Please update your payment method so monitoring stays on the Pro plan. "
                "Stripe will retry the payment; if it keeps failing, the organization moves "
                "back to the Free plan and endpoints past the Free limit are paused.\r\n\r\n"
                "Billing: %s\r\n",
                amt[0] ? " of " : "", amt, org, billing);
        if (invoice)
            fprintf(f, "Invoice: %s\r\n", invoice);
        fprintf(f, "\r\n-- \r\nStatusWatch\r\n");
        fclose(f);
    } else if (strcmp(kind, "invitation") == 0 || strcmp(kind, "password_reset") == 0) {
        /* From sw-auth (issue 21): a single-use link, valid expires_hours. */
        bool invite = kind[0] == 'i';
        const char *link = json_string_value(json_object_get(vars, "link"));
        const char *o = json_string_value(json_object_get(vars, "organization"));
        const char *role = json_string_value(json_object_get(vars, "role"));
        const char *inviter = json_string_value(json_object_get(vars, "inviter"));
        json_int_t hours = json_integer_value(json_object_get(vars, "expires_hours"));
        char who[256], rl[32];
        if (!link || !o || hours <= 0 || strpbrk(link, "\r\n") || (invite && !role))
            return SW_EINVAL;
        snprintf(org, sizeof(org), "%s", o);
        strip_crlf(org);
        snprintf(who, sizeof(who), "%s", inviter ? inviter : "A colleague");
        strip_crlf(who);
        snprintf(rl, sizeof(rl), "%s", role ? role : "");
        strip_crlf(rl);
        if (invite)
            snprintf(subject, sizeof(subject), "You are invited to %.150s on StatusWatch", org);
        else
            snprintf(subject, sizeof(subject), "Reset your StatusWatch password");
        f = open_memstream(&body, &blen);
        if (!f)
            return SW_EINTERNAL;
        if (invite)
            fprintf(f,
                    "Hello,\r\n\r\n%s invites you to join \"%s\" on StatusWatch as %s.\r\n\r\n"
                    "Accept the invitation and choose your password here:\r\n\r\n%s\r\n\r\n"
                    "The link works once and expires in %d days. If you did not expect this, "
                    "ignore this message.\r\n\r\n-- \r\nStatusWatch\r\n",
                    who, org, rl, link, (int)(hours / 24));
        else
            fprintf(f,
                    "Hello,\r\n\r\nSomeone asked to reset the password of your StatusWatch "
                    "account in \"%s\".\r\n\r\nChoose a new password here:\r\n\r\n%s\r\n\r\n"
                    "The link works once and expires in %d hour%s. Every session of the account "
                    "ends when the password changes. If you did not ask for this, ignore this "
                    "message: your password stays as it is.\r\n\r\n-- \r\nStatusWatch\r\n",
                    org, link, (int)hours, hours == 1 ? "" : "s");
        fclose(f);
    } else {
        return SW_EINVAL;
    }

    f = open_memstream(out, &blen);
    if (!f) {
        free(body);
        return SW_EINTERNAL;
    }
    fprintf(f,
            "Date: %s\r\n"
            "From: %s\r\n"
            "To: <%s>\r\n"
            "Subject: %s\r\n"
            "Message-ID: <%s@statuswatch>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "Auto-Submitted: auto-generated\r\n"
            "\r\n"
            "%s",
            date, from, to, subject, msg_id, body);
    fclose(f);
    free(body);
    return SW_OK;
}

/* ------------------------------------------------------------------ SMTP */

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t left = u->len - u->off, want = size * n;
    if (want > left)
        want = left;
    memcpy(buf, u->data + u->off, want);
    u->off += want;
    return want;
}

/* Sends one message; returns a short reason on failure (NULL on success). */
static const char *smtp_send(const smtp_cfg *cfg, const char *to, const char *message,
                             char *errbuf)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    char rcpt_addr[300];
    upload u = {message, strlen(message), 0};
    if (!curl)
        return "curl init failed";
    snprintf(rcpt_addr, sizeof(rcpt_addr), "<%s>", to);
    rcpt = curl_slist_append(rcpt, rcpt_addr);
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, cfg->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, cfg->from_addr);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    if (cfg->tls)
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (cfg->user) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK)
        return NULL;
    return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

/* ------------------------------------------------------------------ worker */

static void handle(notify_app *app, natsConnection *nc, natsMsg *m)
{
    uint64_t seq = 0, ndelivered = 1;
    char *message = NULL;
    char errbuf[CURL_ERROR_SIZE + 1];
    char msg_id[64];
    json_t *job = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    const char *rid = NULL;

    natsMsgHeader_Get(m, BUS_H_REQUEST_ID, &rid);
    sw_log_ctx_set(rid, NULL);
    bus_msg_meta(m, &ndelivered, &seq);
    snprintf(msg_id, sizeof(msg_id), "%llu.%lld", (unsigned long long)seq,
             (long long)sw_epoch_ms());
    int delivered = ndelivered > 0 && ndelivered < 1000 ? (int)ndelivered : 1;

    if (notify_render(&message, job, app->smtp.from_header, msg_id) != SW_OK) {
        /* It can never be sent: stop redelivery, and say so. */
        sw_log(SW_LOG_ERROR, "mail job dropped: malformed", "subject", natsMsg_GetSubject(m),
               NULL);
        bus_msg_term(nc, m);
        goto out;
    }
    const char *kind = json_string_value(json_object_get(job, "kind"));
    char to[256];
    validate_email(to, sizeof(to), json_string_value(json_object_get(job, "to")));
    const char *err = smtp_send(&app->smtp, to, message, errbuf);
    if (!err) {
        bus_msg_ack(nc, m);
        sw_log(SW_LOG_INFO, "mail sent", "kind", kind, NULL);
        goto out;
    }
    /* 1x, 2x, 4x … the base delay, at most 10 minutes. */
    int64_t delay = app->smtp.retry_base_ms << (delivered > 9 ? 9 : delivered - 1);
    if (delay > 600000)
        delay = 600000;
    char d[24], n[16];
    snprintf(d, sizeof(d), "%lld", (long long)delay);
    snprintf(n, sizeof(n), "%d", delivered);
    sw_log(SW_LOG_WARN, "mail not sent; will retry", "kind", kind, "error", err, "attempt", n,
           "retry_in_ms", d, NULL);
    bus_msg_nak(nc, m, delay);
out:
    sw_log_ctx_clear();
    json_decref(job);
    free(message);
}

void notify_mail_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    /* Even when asked to stop, the taken batch is finished and acked first. */
    for (int i = 0; i < n; i++) {
        handle(app, bus_actor_conn(a), msgs[i]);
        natsMsg_Destroy(msgs[i]);
    }
}

/* ------------------------------------------------------------------ settings */

bool notify_load_smtp(smtp_cfg *c)
{
    const char *url = sw_config_str("EMAIL_URL", NULL);
    const char *from = sw_config_str("DEFAULT_FROM_EMAIL", "StatusWatch <noreply@statuswatch.local>");
    c->retry_base_ms = sw_config_long("SW_MAIL_RETRY_MS", 2000, 10, 600000, NULL);
    if (url) {
        /* smtp://user:pass@host:port or smtps://…; libcurl reads the credentials. */
        snprintf(c->url, sizeof(c->url), "%s", url);
    } else {
        const char *host = sw_config_str("EMAIL_HOST", "127.0.0.1");
        long port = sw_config_long("EMAIL_PORT", 25, 1, 65535, NULL);
        c->tls = sw_config_bool("EMAIL_USE_TLS", false);
        c->user = sw_config_str("EMAIL_HOST_USER", NULL);
        c->password = sw_config_str("EMAIL_HOST_PASSWORD", NULL);
        snprintf(c->url, sizeof(c->url), "smtp://%s:%ld", host, port);
    }
    snprintf(c->from_header, sizeof(c->from_header), "%s", from);
    strip_crlf(c->from_header);
    const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt)
        snprintf(c->from_addr, sizeof(c->from_addr), "%.*s", (int)(gt - lt + 1), lt);
    else
        snprintf(c->from_addr, sizeof(c->from_addr), "<%s>", from);
    return true;
}

