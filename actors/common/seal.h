/* Sealed secrets at rest and on the bus: an endpoint's request header values (issue 17) are
 * stored and sent to the probers only as libsodium secretbox (XSalsa20-Poly1305) boxes under the
 * key SW_SEAL_KEY (64 hex digits, generated into secrets.env by ops/sw), which only sw-endpoints
 * and the probers receive. The sealed form is text: "v1." + base64url(nonce || box). */
#ifndef SW_SEAL_H
#define SW_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bus/status.h"

typedef struct seal_key seal_key;

/* The key from hex (SW_SEAL_KEY). SW_EINVAL when it is not 64 hex digits. *out owned (free with
 * seal_key_free), NULL on error. */
sw_status seal_key_new(seal_key **out, const char *hex);
/* NULL ok; wipes the key. */
void seal_key_free(seal_key *k);

/* Seals len bytes of plain. Returns owned text (free), NULL when out of memory or k is NULL. */
char *seal_text(const seal_key *k, const char *plain, size_t len);

/* Opens sealed text. Returns owned NUL-terminated plain text (free; wipe it first with
 * seal_wipe), NULL when the box is malformed, forged or sealed under another key. */
char *seal_open(const seal_key *k, const char *sealed);

/* Zeroes and frees s (NULL ok). */
void seal_wipe(char *s);

#endif
