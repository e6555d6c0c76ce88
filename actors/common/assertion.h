/* Check assertions (issue 17): conditions on an HTTP answer that must all hold for a check to
 * pass. sw-endpoints validates them (assertion_validate, DRF-style errors per entry) and the
 * prober evaluates them (assertion_check); both use this one definition of the sources, the
 * comparisons and the JSONPath subset, so what is accepted is exactly what is understood.
 *
 * An assertion is {"source", "property", "comparison", "target"}:
 *   source      status_code | response_time_ms | body | json_body | header
 *   property    json_body: a JSONPath of members and indexes ($, $.a.b, $.items[0].id, $['a b']);
 *               header: a header name (case-insensitive); not allowed for the other sources
 *   comparison  equals | not_equals | greater_than | less_than | contains | not_contains |
 *               matches | not_matches (POSIX extended regular expressions) | exists |
 *               not_exists | is_empty | not_empty
 *   target      a string or number; required except for exists, not_exists, is_empty, not_empty
 * A value is compared as text: a JSON string as itself, any other JSON value as its compact
 * JSON; equals compares numerically when both sides are numbers; greater_than and less_than
 * need numbers on both sides. A value that is not there (a missing JSON path or header, a body
 * that is not JSON) fails every comparison except not_exists, is_empty, not_equals,
 * not_contains and not_matches. */
#ifndef SW_ASSERTION_H
#define SW_ASSERTION_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define ASSERTIONS_MAX 10
#define ASSERTION_TARGET_MAX 1024
#define ASSERTION_PROPERTY_MAX 256

/* Validates the request's assertions value v. Returns the normalised list to store (owned:
 * each entry exactly {source, property, comparison, target}), or NULL with *errors set (owned):
 * a list of messages for the field as a whole, or a list with one object per entry ({} for a
 * valid one), DRF-style. */
json_t *assertion_validate(const json_t *v, json_t **errors);

/* What a check saw; borrowed. headers: the final response's header block ("Name: value\r\n"
 * lines, as libcurl hands them over), may be NULL. */
typedef struct assertion_response {
    int status;
    double response_time_ms;
    const char *body;
    size_t body_len;
    const char *headers;
} assertion_response;

/* Evaluates list (as assertion_validate returns it) against r. True when every assertion
 * holds; else false with err = "assertion N failed: <source> [<property>] <comparison>
 * [<target>] (got <value>)" (N 1-based; values shortened). */
bool assertion_check(const json_t *list, const assertion_response *r, char *err, size_t errlen);

/* The value at path in root (borrowed from root), NULL when absent or the path is invalid. */
json_t *assertion_json_path(json_t *root, const char *path);
/* Whether path is of the JSONPath subset. */
bool assertion_path_valid(const char *path);

#endif
