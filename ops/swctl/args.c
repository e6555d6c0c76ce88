/* Argument parsing shared by every swctl command: long options with a value either as the next
 * word or after "=", positional words in order, --help anywhere. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops/swctl/swctl.h"

static const ctl_opt *find_opt(const ctl_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static bool set_value(const ctl_opt *o, const char *v, const char *help, int *rc)
{
    char *end = NULL;
    long n;
    switch (o->kind) {
    case CTL_OPT_STR:
        *(const char **)o->out = v;
        return true;
    case CTL_OPT_LIST: {
        ctl_list *l = o->out;
        if (l->n >= CTL_LIST_MAX) {
            *rc = ctl_usage_err(help, "%s given more than %d times", o->name, CTL_LIST_MAX);
            return false;
        }
        l->v[l->n++] = v;
        return true;
    }
    case CTL_OPT_LONG:
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < o->min || n > o->max) {
            *rc = ctl_usage_err(help, "%s wants a whole number from %ld to %ld, not '%s'", o->name,
                                o->min, o->max, v);
            return false;
        }
        *(long *)o->out = n;
        return true;
    case CTL_OPT_FLAG:
        break;
    }
    return false;
}

bool ctl_parse(int argc, char **argv, const ctl_opt *opts, size_t nopts, const char **pos,
               int minpos, int maxpos, int *npos, const char *help, int *rc)
{
    *npos = 0;
    *rc = CTL_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            *rc = CTL_OK;
            return false;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (*npos >= maxpos) {
                    *rc = ctl_usage_err(help, "unexpected argument '%s'", argv[i]);
                    return false;
                }
                pos[(*npos)++] = argv[i];
            }
            break;
        }
        if (strncmp(a, "--", 2) == 0) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            const ctl_opt *o = find_opt(opts, nopts, a, len);
            if (!o) {
                *rc = ctl_usage_err(help, "unknown option '%.*s'", (int)len, a);
                return false;
            }
            if (o->kind == CTL_OPT_FLAG) {
                if (eq) {
                    *rc = ctl_usage_err(help, "%s takes no value", o->name);
                    return false;
                }
                *(bool *)o->out = true;
                continue;
            }
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                *rc = ctl_usage_err(help, "%s needs a value", o->name);
                return false;
            }
            if (!set_value(o, v, help, rc))
                return false;
            continue;
        }
        if (*npos >= maxpos) {
            *rc = ctl_usage_err(help, "unexpected argument '%s'", a);
            return false;
        }
        pos[(*npos)++] = a;
    }
    if (*npos < minpos) {
        *rc = ctl_usage_err(help, "missing argument: the usage line below names it");
        return false;
    }
    return true;
}
