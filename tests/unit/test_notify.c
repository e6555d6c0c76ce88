/* Mail rendering (actors/notify/notify.h): a verify_email job becomes a complete RFC 5322
 * message with CRLF line ends and the link, and malformed jobs or hostile values never turn
 * into a message or an extra header. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "actors/notify/notify.h"

#define FROM "StatusWatch <noreply@statuswatch.local>"
#define LINK "https://app.statuswatch.local/verify-email?token=Zm9vYmFyYmF6cXV4"

static json_t *verify_job(const char *to, const char *org)
{
    json_t *job = json_pack("{s:s,s:s,s:{s:s,s:s,s:i}}", "kind", "verify_email", "to", to, "vars",
                            "organization", org, "link", LINK, "expires_hours", 48);
    assert_non_null(job);
    return job;
}

/* Every line ends in CRLF: no bare LF and no bare CR anywhere. */
static void assert_crlf_only(const char *msg)
{
    for (const char *p = msg; *p; p++) {
        if (*p == '\n' && (p == msg || p[-1] != '\r'))
            fail_msg("bare LF at offset %td", p - msg);
        if (*p == '\r' && p[1] != '\n')
            fail_msg("bare CR at offset %td", p - msg);
    }
    size_t n = strlen(msg);
    assert_true(n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n');
}

/* The header block (up to the first empty line), owned. */
static char *headers_of(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    return strndup(msg, (size_t)(end - msg) + 2);
}

/* The value of header name (first occurrence, at the start of a line), owned; NULL if absent. */
static char *header(const char *headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = headers; *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
            const char *v = p + n + 2;
            return strndup(v, strcspn(v, "\r"));
        }
        const char *nl = strstr(p, "\r\n");
        if (!nl)
            break;
        p = nl + 2;
    }
    return NULL;
}

/* How many lines of msg start with prefix. */
static int lines_starting_with(const char *msg, const char *prefix)
{
    int count = 0;
    size_t n = strlen(prefix);
    for (const char *p = msg; p && *p;) {
        if (strncasecmp(p, prefix, n) == 0)
            count++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return count;
}

static void verify_email_renders_a_complete_message(void **state)
{
    char *msg = NULL;
    json_t *job = verify_job("  Alice@Example.COM ", "Acme Corp");
    assert_int_equal(notify_render(&msg, job, FROM, "42.1700000000000"), SW_OK);
    assert_non_null(msg);
    assert_crlf_only(msg);

    char *h = headers_of(msg);
    char *from = header(h, "From"), *to = header(h, "To"), *subject = header(h, "Subject");
    char *date = header(h, "Date"), *mid = header(h, "Message-ID");
    assert_non_null(from);
    assert_non_null(to);
    assert_non_null(subject);
    assert_non_null(date);
    assert_non_null(mid);
    assert_string_equal(from, FROM);
    assert_string_equal(to, "<alice@example.com>");
    assert_non_null(strstr(subject, "Verify your email"));
    assert_string_equal(mid, "<42.1700000000000@statuswatch>");
    assert_non_null(strstr(h, "MIME-Version: 1.0\r\n"));
    assert_non_null(strstr(h, "Content-Type: text/plain; charset=utf-8\r\n"));

    /* Date is RFC 5322 and now. */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    assert_non_null(rest);
    assert_int_equal(*rest, '\0');
    time_t when = timegm(&tm);
    assert_true(llabs((long long)(when - time(NULL))) < 120);

    /* The body: the organization, the link on a line of its own, the expiry. */
    const char *body = strstr(msg, "\r\n\r\n") + 4;
    assert_non_null(strstr(body, "\"Acme Corp\""));
    assert_non_null(strstr(body, "\r\n" LINK "\r\n"));
    assert_non_null(strstr(body, "expires in 48 hours"));

    free(from);
    free(to);
    free(subject);
    free(date);
    free(mid);
    free(h);
    free(msg);
    json_decref(job);
}

static void assert_einval(json_t *job)
{
    char *msg = (char *)"sentinel";
    char *dump = job ? json_dumps(job, JSON_COMPACT) : NULL;
    sw_status st = notify_render(&msg, job, FROM, "1.1");
    if (st != SW_EINVAL) {
        if (st == SW_OK)
            free(msg);
        json_decref(job);
        fail_msg("job %s: status %d, expected SW_EINVAL", dump ? dump : "NULL", (int)st);
    }
    assert_null(msg);
    free(dump);
    json_decref(job);
}

static void unknown_kind_is_einval(void **state)
{
    json_t *job = verify_job("alice@example.com", "Acme");
    json_object_set_new(job, "kind", json_string("password_reminder"));
    assert_einval(job);
    job = verify_job("alice@example.com", "Acme");
    json_object_set_new(job, "kind", json_string(""));
    assert_einval(job);
    job = verify_job("alice@example.com", "Acme");
    json_object_del(job, "kind");
    assert_einval(job);
    assert_einval(NULL);
}

static void missing_values_are_einval(void **state)
{
    json_t *job = verify_job("alice@example.com", "Acme");
    json_object_del(job, "vars");
    assert_einval(job);

    job = verify_job("alice@example.com", "Acme");
    json_object_set_new(job, "vars", json_string("not an object"));
    assert_einval(job);

    job = verify_job("alice@example.com", "Acme");
    json_object_del(json_object_get(job, "vars"), "link");
    assert_einval(job);

    job = verify_job("alice@example.com", "Acme");
    json_object_del(json_object_get(job, "vars"), "organization");
    assert_einval(job);

    job = verify_job("alice@example.com", "Acme");
    json_object_set_new(json_object_get(job, "vars"), "link", json_integer(5));
    assert_einval(job);
}

/* Without expires_hours the mail would tell the user the link "expires in 0 hours". */
static void missing_expiry_is_einval(void **state)
{
    json_t *job = verify_job("alice@example.com", "Acme");
    json_object_del(json_object_get(job, "vars"), "expires_hours");
    assert_einval(job);

    job = verify_job("alice@example.com", "Acme");
    json_object_set_new(json_object_get(job, "vars"), "expires_hours", json_string("48"));
    assert_einval(job);
}

static void invalid_recipient_is_einval(void **state)
{
    assert_einval(verify_job("not-an-email", "Acme"));
    assert_einval(verify_job("", "Acme"));
    assert_einval(verify_job("alice@example.com\r\nBcc: x@y.z", "Acme"));
    assert_einval(verify_job("alice@example.com>, <eve@evil.example", "Acme"));

    json_t *job = verify_job("alice@example.com", "Acme");
    json_object_set_new(job, "to", json_pack("[s]", "alice@example.com"));
    assert_einval(job);
}

static void organization_name_cannot_inject_headers(void **state)
{
    static const char *orgs[] = {
        "Acme\r\nBcc: x@y.z",
        "Acme\nBcc: x@y.z",
        "Acme\rBcc: x@y.z",
        "Acme\r\n\r\nBcc: x@y.z",
        "\r\nBcc: x@y.z\r\nSubject: pwned",
    };
    for (size_t i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++) {
        char *msg = NULL;
        json_t *job = verify_job("alice@example.com", orgs[i]);
        assert_int_equal(notify_render(&msg, job, FROM, "1.1"), SW_OK);
        assert_crlf_only(msg);
        assert_int_equal(lines_starting_with(msg, "Bcc:"), 0);
        assert_int_equal(lines_starting_with(msg, "Subject:"), 1);
        /* The name is still shown, on one line. */
        assert_non_null(strstr(msg, "Bcc: x@y.z"));
        free(msg);
        json_decref(job);
    }
}

static void link_with_line_breaks_is_refused(void **state)
{
    json_t *job = verify_job("alice@example.com", "Acme");
    json_object_set_new(json_object_get(job, "vars"), "link",
                        json_string("https://x.example/\r\nBcc: x@y.z"));
    assert_einval(job);
}

/* sw-billing's payment_failed job: to the owner, with the billing link, one line each. */
/* Issue 21: the invitation and password-reset mails carry their link, and nothing an inviter
 * types can add a header. */
static void team_mails_render(void **state)
{
    (void)state;
    char *msg = NULL;
    json_t *job = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:i}}", "kind", "invitation", "to", "new@example.com", "vars",
        "organization", "Acme\r\nBcc: x@y.z", "link",
        "https://app.statuswatch.local/accept-invitation?token=t_x.abc", "role", "member",
        "inviter", "boss@example.com", "expires_hours", 168);
    assert_int_equal(notify_render(&msg, job, FROM, "inv.1"), SW_OK);
    assert_crlf_only(msg);
    assert_non_null(strstr(msg, "\r\nTo: <new@example.com>\r\n"));
    assert_int_equal(lines_starting_with(msg, "Bcc:"), 0);
    assert_non_null(strstr(msg, "https://app.statuswatch.local/accept-invitation?token=t_x.abc\r\n"));
    assert_non_null(strstr(msg, "as member"));
    assert_non_null(strstr(msg, "expires in 7 days"));
    free(msg);
    json_object_del(json_object_get(job, "vars"), "role");
    assert_einval(job);

    job = json_pack("{s:s,s:s,s:{s:s,s:s,s:i}}", "kind", "password_reset", "to", "a@example.com",
                    "vars", "organization", "Acme", "link",
                    "https://app.statuswatch.local/reset-password?token=t_x.def", "expires_hours",
                    1);
    assert_int_equal(notify_render(&msg, job, FROM, "rst.1"), SW_OK);
    assert_non_null(strstr(msg, "\r\nSubject: Reset your StatusWatch password\r\n"));
    assert_non_null(strstr(msg, "https://app.statuswatch.local/reset-password?token=t_x.def\r\n"));
    assert_non_null(strstr(msg, "expires in 1 hour."));
    free(msg);
    json_object_set_new(json_object_get(job, "vars"), "link", json_string("https://x/\r\nBcc: y"));
    assert_einval(job);
}

static void payment_failed_renders(void **state)
{
    char *msg = NULL;
    json_t *job = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "kind", "payment_failed", "to",
                            "owner@example.com", "vars", "organization", "Acme\r\nBcc: x@y.z",
                            "billing_url", "https://app.statuswatch.local/billing", "amount",
                            "19.00 USD", "invoice_url", "https://invoice.stripe.com/i/x");
    assert_int_equal(notify_render(&msg, job, FROM, "pf.1"), SW_OK);
    assert_crlf_only(msg);
    assert_non_null(strstr(msg, "\r\nTo: <owner@example.com>\r\n"));
    assert_non_null(strstr(msg, "\r\nSubject: [StatusWatch] Payment failed for Acme  Bcc: x@y.z"));
    assert_int_equal(lines_starting_with(msg, "Bcc:"), 0);
    assert_non_null(strstr(msg, "19.00 USD"));
    assert_non_null(strstr(msg, "Billing: https://app.statuswatch.local/billing\r\n"));
    assert_non_null(strstr(msg, "Invoice: https://invoice.stripe.com/i/x\r\n"));
    free(msg);
    json_decref(job);

    /* Optional values may be absent; the link may not break a line or be missing. */
    job = json_pack("{s:s,s:s,s:{s:s,s:s}}", "kind", "payment_failed", "to", "o@example.com",
                    "vars", "organization", "Acme", "billing_url", "https://x/billing");
    assert_int_equal(notify_render(&msg, job, FROM, "pf.2"), SW_OK);
    assert_null(strstr(msg, "Invoice:"));
    free(msg);
    json_object_set_new(json_object_get(job, "vars"), "billing_url",
                        json_string("https://x/\r\nBcc: x@y.z"));
    assert_einval(job);
    job = json_pack("{s:s,s:s,s:{s:s}}", "kind", "payment_failed", "to", "o@example.com", "vars",
                    "organization", "Acme");
    assert_einval(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_email_renders_a_complete_message),
        cmocka_unit_test(unknown_kind_is_einval),
        cmocka_unit_test(missing_values_are_einval),
        cmocka_unit_test(missing_expiry_is_einval),
        cmocka_unit_test(invalid_recipient_is_einval),
        cmocka_unit_test(organization_name_cannot_inject_headers),
        cmocka_unit_test(link_with_line_breaks_is_refused),
        cmocka_unit_test(payment_failed_renders),
        cmocka_unit_test(team_mails_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
