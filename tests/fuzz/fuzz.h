/* Shared by the libFuzzer harnesses and their replay driver: the entry point every harness
 * defines, and a reader that cuts the fuzzer's bytes into NUL-terminated fields. */
#ifndef SW_FUZZ_H
#define SW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A contract the code under test broke: say which, then abort so libFuzzer (or ctest) sees
 * a crash and keeps the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fuzz_in {
    const uint8_t *p;
    size_t left;
} fuzz_in;

/* One byte of the input, 0 once it is used up. */
static inline uint8_t fuzz_byte(fuzz_in *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

/* The next field, up to a NUL byte or the end, as a fresh NUL-terminated string of *len
 * bytes (len may be NULL). Returns owned (free). */
static inline char *fuzz_field(fuzz_in *in, size_t *len)
{
    const uint8_t *nul = memchr(in->p, 0, in->left);
    size_t n = nul ? (size_t)(nul - in->p) : in->left;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, in->p, n);
    s[n] = '\0';
    in->p += n;
    in->left -= n;
    if (nul) {
        in->p++;
        in->left--;
    }
    if (len)
        *len = n;
    return s;
}

#endif
