/* Check assertions: validation and evaluation; see assertion.h. */
#include "actors/common/assertion.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sources[] = {"status_code", "response_time_ms", "body", "json_body",
                                      "header"};
static const char *const comparisons[] = {
    "equals",      "not_equals", "greater_than", "less_than", "contains",  "not_contains",
    "matches",     "not_matches", "exists",      "not_exists", "is_empty", "not_empty"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool no_target(const char *cmp)
{
    return strcmp(cmp, "exists") == 0 || strcmp(cmp, "not_exists") == 0 ||
           strcmp(cmp, "is_empty") == 0 || strcmp(cmp, "not_empty") == 0;
}

static bool numeric_cmp(const char *cmp)
{
    return strcmp(cmp, "greater_than") == 0 || strcmp(cmp, "less_than") == 0;
}

static bool regex_cmp(const char *cmp)
{
    return strcmp(cmp, "matches") == 0 || strcmp(cmp, "not_matches") == 0;
}

/* ---- JSONPath subset ------------------------------------------------------------------ */

/* One step of a path: a member name (into name) or an index; advances *p. 0: end, 1: a step,
 * -1: malformed. */
static int path_step(const char **p, char *name, size_t len, long *index)
{
    const char *s = *p;
    *index = -1;
    name[0] = '\0';
    if (*s == '\0')
        return 0;
    if (*s == '.') {
        s++;
        size_t n = 0;
        while (s[n] && (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-' ||
                        (unsigned char)s[n] >= 0x80))
            n++;
        if (n == 0 || n >= len)
            return -1;
        memcpy(name, s, n);
        name[n] = '\0';
        *p = s + n;
        return 1;
    }
    if (*s == '[') {
        s++;
        if (*s == '\'' || *s == '"') {
            char q = *s++;
            size_t n = 0;
            while (s[n] && s[n] != q)
                n++;
            if (s[n] != q || s[n + 1] != ']' || n >= len)
                return -1;
            memcpy(name, s, n);
            name[n] = '\0';
            *p = s + n + 2;
            return 1;
        }
        size_t n = 0;
        while (isdigit((unsigned char)s[n]))
            n++;
        if (n == 0 || n > 9 || s[n] != ']')
            return -1;
        *index = strtol(s, NULL, 10);
        *p = s + n + 1;
        return 1;
    }
    return -1;
}

bool assertion_path_valid(const char *path)
{
    char name[ASSERTION_PROPERTY_MAX + 1];
    long index;
    int r;
    if (!path || path[0] != '$' || strlen(path) > ASSERTION_PROPERTY_MAX)
        return false;
    const char *p = path + 1;
    while ((r = path_step(&p, name, sizeof(name), &index)) == 1)
        ;
    return r == 0;
}

json_t *assertion_json_path(json_t *root, const char *path)
{
    char name[ASSERTION_PROPERTY_MAX + 1];
    long index;
    int r;
    if (!root || !assertion_path_valid(path))
        return NULL;
    const char *p = path + 1;
    json_t *cur = root;
    while (cur && (r = path_step(&p, name, sizeof(name), &index)) == 1) {
        if (index >= 0)
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)index) : NULL;
        else
            cur = json_is_object(cur) ? json_object_get(cur, name) : NULL;
    }
    return cur;
}

/* ---- validation ----------------------------------------------------------------------- */

static bool header_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~", s[i]))
            return false;
    return true;
}

static void add_error(json_t *obj, const char *field, const char *msg)
{
    json_t *list = json_object_get(obj, field);
    if (!list) {
        list = json_array();
        json_object_set_new(obj, field, list);
    }
    json_array_append_new(list, json_string(msg));
}

static bool number_text(const char *s, double *out)
{
    char *end = NULL;
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* One entry; its errors go into errs (an object). Returns the normalised entry or NULL. */
static json_t *validate_one(const json_t *a, json_t *errs)
{
    char msg[96];
    if (!json_is_object(a)) {
        add_error(errs, "non_field_errors", "Invalid data. Expected a dictionary.");
        return NULL;
    }
    const json_t *src = json_object_get(a, "source"), *prop = json_object_get(a, "property"),
                 *cmp = json_object_get(a, "comparison"), *tgt = json_object_get(a, "target");
    const char *s = json_string_value(src), *c = json_string_value(cmp);
    if (!src || json_is_null(src)) {
        add_error(errs, "source", "This field is required.");
    } else if (!in_list(s, sources, sizeof(sources) / sizeof(sources[0]))) {
        snprintf(msg, sizeof(msg), "\"%.40s\" is not a valid choice.", s ? s : "");
        add_error(errs, "source", msg);
        s = NULL;
    }
    if (!cmp || json_is_null(cmp)) {
        add_error(errs, "comparison", "This field is required.");
    } else if (!in_list(c, comparisons, sizeof(comparisons) / sizeof(comparisons[0]))) {
        snprintf(msg, sizeof(msg), "\"%.40s\" is not a valid choice.", c ? c : "");
        add_error(errs, "comparison", msg);
        c = NULL;
    }
    bool has_prop = prop && !json_is_null(prop);
    const char *pv = json_string_value(prop);
    if (has_prop && !json_is_string(prop)) {
        add_error(errs, "property", "Not a valid string.");
    } else if (s && strcmp(s, "json_body") == 0) {
        if (!has_prop || !*pv)
            add_error(errs, "property", "This field is required.");
        else if (!assertion_path_valid(pv))
            add_error(errs, "property", "Enter a JSONPath like $.status or $.items[0].id.");
    } else if (s && strcmp(s, "header") == 0) {
        if (!has_prop || !*pv)
            add_error(errs, "property", "This field is required.");
        else if (!header_name_valid(pv))
            add_error(errs, "property", "Enter a valid header name.");
    } else if (s && has_prop && *pv) {
        add_error(errs, "property", "Only the json_body and header sources take a property.");
    }
    bool has_tgt = tgt && !json_is_null(tgt);
    char tbuf[64];
    const char *tv = json_string_value(tgt);
    if (json_is_number(tgt)) {
        snprintf(tbuf, sizeof(tbuf), "%.17g", json_number_value(tgt));
        tv = tbuf;
    }
    if (has_tgt && !json_is_string(tgt) && !json_is_number(tgt)) {
        add_error(errs, "target", "Enter a string or a number.");
    } else if (has_tgt && json_is_string(tgt) && json_string_length(tgt) > ASSERTION_TARGET_MAX) {
        add_error(errs, "target", "Ensure this field has no more than 1024 characters.");
    } else if (c && !no_target(c) && !has_tgt) {
        add_error(errs, "target", "This field is required.");
    } else if (c && no_target(c) && has_tgt) {
        snprintf(msg, sizeof(msg), "The %s comparison takes no target.", c);
        add_error(errs, "target", msg);
    } else if (c && numeric_cmp(c)) {
        double d;
        if (!number_text(tv, &d))
            add_error(errs, "target", "A valid number is required.");
    } else if (c && regex_cmp(c)) {
        regex_t re;
        if (regcomp(&re, tv, REG_EXTENDED | REG_NOSUB) != 0)
            add_error(errs, "target", "Not a valid regular expression.");
        else
            regfree(&re);
    }
    if (json_object_size(errs) > 0)
        return NULL;
    bool keep_prop = strcmp(s, "json_body") == 0 || strcmp(s, "header") == 0;
    return json_pack("{s:s,s:o,s:s,s:O}", "source", s, "property",
                     keep_prop ? json_string(pv) : json_null(), "comparison", c, "target",
                     has_tgt ? (json_t *)tgt : json_null());
}

json_t *assertion_validate(const json_t *v, json_t **errors)
{
    *errors = NULL;
    if (!json_is_array(v)) {
        *errors = json_pack("[s]", "Expected a list of items.");
        return NULL;
    }
    if (json_array_size(v) > ASSERTIONS_MAX) {
        *errors = json_pack("[s]", "Ensure this field has no more than 10 elements.");
        return NULL;
    }
    json_t *out = json_array(), *errs = json_array();
    bool bad = false;
    size_t i;
    json_t *a;
    json_array_foreach(v, i, a)
    {
        json_t *e = json_object();
        json_t *norm = validate_one(a, e);
        bad |= norm == NULL;
        if (norm)
            json_array_append_new(out, norm);
        json_array_append_new(errs, e);
    }
    if (bad) {
        json_decref(out);
        *errors = errs;
        return NULL;
    }
    json_decref(errs);
    return out;
}

/* ---- evaluation ----------------------------------------------------------------------- */

/* A value as seen: present or not, its text (owned), whether it is "empty". */
typedef struct seen {
    bool present;
    bool empty;
    bool quoted; /* show with quotes (a string) */
    char *text;
} seen;

/* The header's value in the last response of the block (redirects send several). */
static char *header_value(const char *block, const char *name)
{
    char *found = NULL;
    size_t n = strlen(name);
    for (const char *p = block; p && *p;) {
        const char *eol = strstr(p, "\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
            free(found); /* a new response starts: only the last one counts */
            found = NULL;
        } else if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            size_t vl = len - n - 1;
            while (vl && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            free(found);
            found = strndup(v, vl);
        }
        p = eol ? eol + 1 : NULL;
    }
    return found;
}

static void see(seen *out, const char *src, const char *prop, const assertion_response *r,
                json_t **doc, bool *parsed)
{
    char buf[64];
    memset(out, 0, sizeof(*out));
    if (strcmp(src, "status_code") == 0) {
        out->present = r->status > 0;
        snprintf(buf, sizeof(buf), "%d", r->status);
        out->text = strdup(buf);
    } else if (strcmp(src, "response_time_ms") == 0) {
        out->present = true;
        snprintf(buf, sizeof(buf), "%.0f", r->response_time_ms);
        out->text = strdup(buf);
    } else if (strcmp(src, "body") == 0) {
        out->present = true;
        out->quoted = true;
        out->text = strndup(r->body ? r->body : "", r->body ? r->body_len : 0);
        out->empty = r->body_len == 0;
    } else if (strcmp(src, "header") == 0) {
        out->text = header_value(r->headers, prop ? prop : "");
        out->present = out->text != NULL;
        out->quoted = true;
        out->empty = !out->text || !*out->text;
    } else { /* json_body */
        if (!*parsed) {
            *doc = r->body ? json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL) : NULL;
            *parsed = true;
        }
        json_t *v = assertion_json_path(*doc, prop);
        out->present = v != NULL;
        if (json_is_string(v)) {
            out->text = strdup(json_string_value(v));
            out->quoted = true;
            out->empty = json_string_length(v) == 0;
        } else if (v) {
            out->text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            out->empty = json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
                         (json_is_object(v) && json_object_size(v) == 0);
        }
    }
    if (!out->present)
        out->empty = true;
    if (!out->text)
        out->text = strdup("");
}

/* Text for an error message: quoted and shortened. */
static void shown(char *out, size_t len, const char *s, bool quoted)
{
    char buf[64];
    size_t n = strlen(s);
    snprintf(buf, sizeof(buf), "%.*s%s", n > 40 ? 40 : (int)n, s, n > 40 ? "..." : "");
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    snprintf(out, len, quoted ? "\"%s\"" : "%s", buf);
}

static bool holds(const char *cmp, const seen *v, const char *target)
{
    double a, b;
    if (strcmp(cmp, "exists") == 0)
        return v->present;
    if (strcmp(cmp, "not_exists") == 0)
        return !v->present;
    if (strcmp(cmp, "is_empty") == 0)
        return v->empty;
    if (strcmp(cmp, "not_empty") == 0)
        return !v->empty;
    bool negated = strncmp(cmp, "not_", 4) == 0;
    if (!v->present)
        return negated;
    const char *op = negated ? cmp + 4 : cmp;
    bool r;
    if (strcmp(op, "equals") == 0) {
        r = number_text(v->text, &a) && number_text(target, &b) ? a == b
                                                                : strcmp(v->text, target) == 0;
    } else if (strcmp(op, "greater_than") == 0) {
        r = number_text(v->text, &a) && number_text(target, &b) && a > b;
    } else if (strcmp(op, "less_than") == 0) {
        r = number_text(v->text, &a) && number_text(target, &b) && a < b;
    } else if (strcmp(op, "contains") == 0) {
        r = strstr(v->text, target) != NULL;
    } else { /* matches */
        regex_t re;
        if (regcomp(&re, target, REG_EXTENDED | REG_NOSUB) != 0)
            return false;
        r = regexec(&re, v->text, 0, NULL, 0) == 0;
        regfree(&re);
    }
    return negated ? !r : r;
}

bool assertion_check(const json_t *list, const assertion_response *r, char *err, size_t errlen)
{
    json_t *doc = NULL;
    bool parsed = false, ok = true;
    size_t i;
    json_t *a;
    if (err && errlen)
        err[0] = '\0';
    json_array_foreach(list, i, a)
    {
        const char *src = json_string_value(json_object_get(a, "source"));
        const char *prop = json_string_value(json_object_get(a, "property"));
        const char *cmp = json_string_value(json_object_get(a, "comparison"));
        const json_t *tj = json_object_get(a, "target");
        char tbuf[64];
        const char *target = json_string_value(tj);
        if (json_is_number(tj)) {
            snprintf(tbuf, sizeof(tbuf), "%.17g", json_number_value(tj));
            target = tbuf;
        }
        if (!src || !cmp)
            continue;
        seen v;
        see(&v, src, prop, r, &doc, &parsed);
        bool h = holds(cmp, &v, target ? target : "");
        if (!h) {
            char got[80], want[80] = "";
            if (v.present)
                shown(got, sizeof(got), v.text, v.quoted);
            else
                snprintf(got, sizeof(got), "%s",
                         strcmp(src, "json_body") == 0 && !doc ? "a body that is not JSON"
                                                               : "nothing");
            if (target && !no_target(cmp))
                shown(want, sizeof(want), target, json_is_string(tj));
            snprintf(err, errlen, "assertion %zu failed: %s%s%s %s%s%s (got %s)", i + 1, src,
                     prop ? " " : "", prop ? prop : "", cmp, want[0] ? " " : "", want, got);
            ok = false;
        }
        free(v.text);
        if (!ok)
            break;
    }
    json_decref(doc);
    return ok;
}
