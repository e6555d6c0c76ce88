/* Passwords: the original system's rule (12+ characters with upper, lower, digit and special
 * character), at most 128, not a common password nor the user's email, hashed with Argon2id
 * (libsodium crypto_pwhash_str, INTERACTIVE limits). Hashing is memory-hard (64 MiB each), so
 * at most SW_PWHASH_CONCURRENCY hashes run at once in a process. */
#ifndef SW_PASSWORD_H
#define SW_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_LEN 128 /* crypto_pwhash_STRBYTES */

/* Checks the rule; appends each failed rule's message to errors (a JSON array, borrowed).
 * email may be NULL. Returns true when the password is acceptable. */
#include <jansson.h>
bool password_check(const char *password, const char *email, json_t *errors);

/* Hashes into out (PASSWORD_HASH_LEN bytes). Returns false when out of memory. */
bool password_hash(char out[PASSWORD_HASH_LEN], const char *password);

/* Verifies against a stored hash. With stored == NULL, hashes anyway and returns false, so an
 * unknown account costs the same time as a wrong password. */
bool password_verify(const char *stored, const char *password);

#endif
