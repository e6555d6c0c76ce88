/* Sealed secrets (actors/common/seal.h): a round trip, a box that was tampered with or sealed
 * under another key opens to nothing, and a bad key is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "actors/common/seal.h"

#define KEY1 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static void test_round_trip(void **state)
{
    (void)state;
    seal_key *k = NULL, *other = NULL;
    assert_int_equal(seal_key_new(&k, KEY1), SW_OK);
    assert_int_equal(seal_key_new(&other, KEY2), SW_OK);
    const char *plain = "{\"Authorization\":\"Bearer s3cr3t-value\"}";
    char *box = seal_text(k, plain, strlen(plain));
    assert_non_null(box);
    assert_null(strstr(box, "s3cr3t")); /* not readable */
    char *again = seal_text(k, plain, strlen(plain));
    assert_string_not_equal(box, again); /* a fresh nonce each time */
    char *open = seal_open(k, box);
    assert_string_equal(open, plain);
    assert_null(seal_open(other, box));
    box[strlen(box) - 3] ^= 1; /* tampered */
    assert_null(seal_open(k, box));
    assert_null(seal_open(k, "v1.AAAA"));
    assert_null(seal_open(k, "plain text"));
    seal_wipe(open);
    free(box);
    free(again);
    seal_key_free(k);
    seal_key_free(other);
}

static void test_bad_keys(void **state)
{
    (void)state;
    seal_key *k = NULL;
    assert_int_equal(seal_key_new(&k, ""), SW_EINVAL);
    assert_int_equal(seal_key_new(&k, "0011"), SW_EINVAL);
    assert_int_equal(seal_key_new(&k, NULL), SW_EINVAL);
    assert_int_equal(
        seal_key_new(&k, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        SW_EINVAL);
    assert_null(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip),
                                       cmocka_unit_test(test_bad_keys)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
