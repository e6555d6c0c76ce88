/* Input rules shared by actors: emails, names, opaque tokens. */
#ifndef SW_VALIDATE_H
#define SW_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Checks an email address and writes its normalised (lowercased, trimmed) form to out. */
bool validate_email(char *out, size_t len, const char *email);

/* Trims a display name into out; false when empty, over max characters, or holding control
 * characters. */
bool validate_name(char *out, size_t len, const char *name, size_t max_chars);

/* Lowercase ASCII slug of a name ("Acme Corp." -> "acme-corp"), at most 40 characters;
 * "org" when nothing is left. */
void slugify(char *out, size_t len, const char *name);

/* A new random secret token: 32 bytes, base64url without padding (43 characters). */
void token_new(char *out, size_t len);

/* Hex SHA-256 of a token as a PostgreSQL bytea literal ("\\x…"), for storing and lookups. */
void token_hash_bytea(char *out, size_t len, const char *token);

/* Random lowercase [a-z0-9] identifier characters (n of them) into out. */
void random_ident(char *out, size_t n);

#endif
