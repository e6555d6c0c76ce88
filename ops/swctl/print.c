/* Output of swctl: error lines, messages in the `nats sub` layout, tables, and the few units an
 * operator reads (durations, sizes, UTC times). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/swctl/swctl.h"

void ctl_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("swctl: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ctl_usage_err(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("swctl: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    /* The help text's first line is the usage line. */
    size_t n = strcspn(usage, "\n");
    fprintf(stderr, "%.*s\n(--help for details)\n", (int)n, usage);
    return CTL_USAGE;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ctl_print_headers(FILE *f, natsMsg *m)
{
    const char **keys = NULL;
    int nkeys = 0, printed = 0;
    if (natsMsgHeader_Keys(m, &keys, &nkeys) != NATS_OK || nkeys == 0) {
        free((void *)keys);
        return 0;
    }
    qsort(keys, (size_t)nkeys, sizeof(*keys), cmp_str);
    for (int i = 0; i < nkeys; i++) {
        const char **vals = NULL;
        int nvals = 0;
        if (natsMsgHeader_Values(m, keys[i], &vals, &nvals) != NATS_OK)
            continue;
        for (int j = 0; j < nvals; j++, printed++)
            fprintf(f, "%s: %s\n", keys[i], vals[j]);
        free((void *)vals);
    }
    free((void *)keys);
    return printed;
}

void ctl_print_body(FILE *f, const char *data, int len, bool pretty)
{
    if (!data || len <= 0) {
        fputs("nil body\n", f);
        return;
    }
    if (pretty) {
        json_t *j = json_loadb(data, (size_t)len, JSON_DECODE_ANY, NULL);
        char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (text) {
            fprintf(f, "%s\n", text);
            free(text);
            return;
        }
    }
    fwrite(data, 1, (size_t)len, f);
    if (data[len - 1] != '\n')
        fputc('\n', f);
}

void ctl_print_msg(FILE *f, natsMsg *m, uint64_t n, bool pretty, bool headers_only)
{
    const char *reply = natsMsg_GetReply(m);
    fprintf(f, "[#%llu] Received on \"%s\"", (unsigned long long)n, natsMsg_GetSubject(m));
    if (reply && *reply)
        fprintf(f, " with reply \"%s\"", reply);
    fputc('\n', f);
    if (ctl_print_headers(f, m) > 0)
        fputc('\n', f);
    if (!headers_only) {
        ctl_print_body(f, natsMsg_GetData(m), natsMsg_GetDataLength(m), pretty);
        fputc('\n', f);
    }
    fflush(f);
}

char *ctl_fmt_duration(char *buf, size_t len, int64_t ns)
{
    if (ns < 0)
        snprintf(buf, len, "-");
    else if (ns < 1000)
        snprintf(buf, len, "%lldns", (long long)ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1fµs", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else if (ns < 60 * 1000000000LL)
        snprintf(buf, len, "%gs", (double)(ns / 1000000) / 1e3);
    else if (ns < 3600 * 1000000000LL)
        snprintf(buf, len, "%lldm%llds", (long long)(ns / 60000000000LL),
                 (long long)(ns / 1000000000LL % 60));
    else
        snprintf(buf, len, "%lldh%lldm", (long long)(ns / 3600000000000LL),
                 (long long)(ns / 60000000000LL % 60));
    return buf;
}

char *ctl_fmt_bytes(char *buf, size_t len, uint64_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

char *ctl_fmt_time(char *buf, size_t len, int64_t epoch_ns)
{
    time_t t = (time_t)(epoch_ns / 1000000000LL);
    struct tm tm;
    if (epoch_ns <= 0 || !gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "-");
    return buf;
}

/* ---- tables ---- */

struct ctl_table {
    int ncols, nrows, cap;
    const char *const *headers;
    char **cells; /* nrows * ncols, owned */
};

ctl_table *ctl_table_new(int ncols, const char *const *headers)
{
    ctl_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->headers = headers;
    return t;
}

void ctl_table_row(ctl_table *t, ...)
{
    va_list ap;
    if (!t)
        return;
    if (t->nrows == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, sizeof(char *) * (size_t)cap * (size_t)t->ncols);
        if (!cells)
            return;
        t->cells = cells;
        t->cap = cap;
    }
    va_start(ap, t);
    for (int i = 0; i < t->ncols; i++) {
        const char *v = va_arg(ap, const char *);
        t->cells[t->nrows * t->ncols + i] = strdup(v && *v ? v : "-");
    }
    va_end(ap);
    t->nrows++;
}

int ctl_table_rows(const ctl_table *t)
{
    return t ? t->nrows : 0;
}

/* Display width of UTF-8 text: code points, not bytes (µ, ·). */
static int width(const char *s)
{
    int w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void ctl_table_print(const ctl_table *t, FILE *f)
{
    int *w = NULL;
    if (!t || !(w = calloc((size_t)t->ncols, sizeof(int))))
        return;
    for (int c = 0; c < t->ncols; c++) {
        w[c] = width(t->headers[c]);
        for (int r = 0; r < t->nrows; r++) {
            int cw = width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (int r = -1; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *v = r < 0 ? t->headers[c] : t->cells[r * t->ncols + c];
            bool last = c == t->ncols - 1;
            fputs(v ? v : "", f);
            if (!last)
                fprintf(f, "%*s", w[c] - width(v) + 2, "");
        }
        fputc('\n', f);
    }
    free(w);
}

void ctl_table_free(ctl_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
