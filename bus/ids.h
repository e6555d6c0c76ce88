/* Identifiers of the base layer: random hex ids (request ids, token ids, message ids) and the
 * tenant-id rule. A tenant id is also the name of its PostgreSQL schema, so this one rule is
 * what makes a tenant id safe to put in a subject, a header, a token and a quoted identifier. */
#ifndef SW_IDS_H
#define SW_IDS_H

#include <stdbool.h>
#include <stddef.h>

/* Longest tenant id ("t_" + 40) plus its NUL, rounded up: the size of a tenant id buffer. */
#define SW_TENANT_ID_MAX 48

/* Writes 2*n lowercase hex characters of randomness plus a NUL into out (n at most 64). */
void sw_random_hex(char *out, size_t n);

/* True for a tenant id StatusWatch creates: "t_" followed by 10 to 40 of [a-z0-9]. */
bool sw_tenant_id_valid(const char *id);

#endif
