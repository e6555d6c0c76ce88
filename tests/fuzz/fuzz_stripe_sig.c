/* libFuzzer harness for the Stripe webhook signature check (actors/billing/billing.h,
 * billing_signature_verify). The first byte picks a mode: 0 verifies a Stripe-Signature header
 * and a payload from the input as they came off the wire; 1 wraps a correct "t=…,v1=…" for the
 * payload in fuzzed items, so the fuzzer reaches the timestamp and tolerance checks: items
 * without '=' around a correct signature within the tolerance must be accepted, and nothing
 * outside the tolerance ever is. */
#include <inttypes.h>
#include <stdbool.h>
#include <sodium.h>

#include "actors/billing/billing.h"
#include "tests/fuzz/fuzz.h"

#define NOW 1700000000LL
#define SECRET "whsec_fuzz_0123456789abcdef0123456789"

static sw_status verify(const char *header, const char *payload, size_t len)
{
    const char *why = "unset";
    sw_status st =
        billing_signature_verify(header, payload, len, SECRET, NOW, BILLING_SIG_TOLERANCE_S, &why);
    FUZZ_CHECK(st == SW_OK || st == SW_EINVAL);
    FUZZ_CHECK(st == SW_OK ? why == NULL : why != NULL);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t mode = fuzz_byte(&in) % 2;

    if (mode == 0) {
        char *header = fuzz_field(&in, NULL);
        size_t plen = in.left;
        verify(header, (const char *)in.p, plen);
        free(header);
        return 0;
    }

    /* t: a small signed offset from now most of the time, any 64-bit value otherwise. */
    uint8_t how = fuzz_byte(&in);
    int64_t t;
    if (how & 1) {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | fuzz_byte(&in);
        t = (int64_t)u;
    } else {
        int16_t off = (int16_t)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
        t = NOW + off;
    }
    char *prefix = fuzz_field(&in, NULL), *suffix = fuzz_field(&in, NULL);
    const char *payload = (const char *)in.p;
    size_t plen = in.left;

    char sig[65];
    billing_signature_compute(sig, t, payload, plen, SECRET);
    size_t cap = strlen(prefix) + strlen(suffix) + 128;
    char *header = malloc(cap);
    if (!header)
        abort();
    snprintf(header, cap, "%s,t=%" PRId64 ",v1=%s,%s", prefix, t, sig, suffix);

    sw_status st = verify(header, payload, plen);
    bool in_time = t > 0 && (t > NOW ? t - NOW : NOW - t) <= BILLING_SIG_TOLERANCE_S;
    if (st == SW_OK)
        FUZZ_CHECK(in_time);
    if (in_time && !strchr(prefix, '=') && !strchr(suffix, '='))
        FUZZ_CHECK(st == SW_OK);
    free(header);
    free(suffix);
    free(prefix);
    return 0;
}
