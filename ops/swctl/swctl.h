/* swctl: the operator's view of a StatusWatch bus. One file per command group (msg.c: sub and
 * req, micro.c, js.c: streams and consumers, dlq.c, tenants.c); this header is what they share:
 * the connection, argument parsing, error messages, and printing of messages and tables. */
#ifndef SW_SWCTL_H
#define SW_SWCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <nats/nats.h>

/* Exit codes of every command. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* Where and who to connect as: flags first, then the environment. */
typedef struct ctl {
    const char *server;     /* --server, else NATS_URL, else nats://127.0.0.1:4222 */
    const char *user;       /* --user, else SW_NATS_USER, else SW_ADMIN_NATS_USER */
    const char *password;   /* --password, else SW_NATS_PASSWORD, else SW_ADMIN_NATS_PASSWORD */
    natsConnection *nc;     /* owned, NULL until ctl_connect */
    char inbox_prefix[128]; /* where replies to this connection arrive (set by ctl_connect) */
    jsCtx *js;              /* owned, NULL until ctl_js */
} ctl;

/* A command: argv[0] is the command word itself. Returns an exit code. */
typedef struct ctl_cmd {
    const char *name;
    const char *summary;
    int (*run)(ctl *c, int argc, char **argv);
} ctl_cmd;

int ctl_sub(ctl *c, int argc, char **argv);
int ctl_req(ctl *c, int argc, char **argv);
int ctl_micro(ctl *c, int argc, char **argv);
int ctl_streams(ctl *c, int argc, char **argv);
int ctl_consumers(ctl *c, int argc, char **argv);
int ctl_dlq(ctl *c, int argc, char **argv);
int ctl_tenants(ctl *c, int argc, char **argv);

/* --- connection (conn.c) --- */

/* Connects (at most ~2 s) and prints an actionable error on failure. Returns CTL_OK/CTL_FAIL. */
int ctl_connect(ctl *c);
/* Connects if needed and creates the JetStream context. Returns CTL_OK/CTL_FAIL. */
int ctl_js(ctl *c);
void ctl_close(ctl *c);
/* True (once) when the server refused something asynchronously, e.g. a subscription the user
 * may not make; the message has been printed. */
bool ctl_async_failed(void);

/* Sends req (borrowed) and waits for the reply; *reply: owned (natsMsg_Destroy). On failure
 * prints why (no responders, timeout, permissions) and returns CTL_FAIL. */
int ctl_request(natsMsg **reply, ctl *c, natsMsg *req, int timeout_ms);

/* Prints "swctl: error: <what>: <reason>" for a failed JetStream call, with a hint for the
 * common causes (stream/consumer not found, JetStream not answering). */
void ctl_js_error(const char *what, natsStatus s, jsErrCode jerr);

/* --- messages and errors (print.c) --- */

void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the error and "usage: …" to stderr; returns CTL_USAGE. */
int ctl_usage_err(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Header lines "Key: value" of m, keys sorted, one line per value. Returns how many. */
int ctl_print_headers(FILE *f, natsMsg *m);
/* The body: pretty-printed when pretty and it parses as JSON, else as received ("nil body"
 * when empty). Always ends with a newline. */
void ctl_print_body(FILE *f, const char *data, int len, bool pretty);
/* One message the way `nats sub` prints it: [#n] Received on "subj" (with reply "r"), headers,
 * a blank line, the body, a blank line. */
void ctl_print_msg(FILE *f, natsMsg *m, uint64_t n, bool pretty, bool headers_only);

/* Formatting into caller buffers; each returns buf. */
char *ctl_fmt_duration(char *buf, size_t len, int64_t ns);   /* 30s, 1m30s, 250ms, 12.3µs */
char *ctl_fmt_bytes(char *buf, size_t len, uint64_t n);      /* 512 B, 1.5 KiB, 3.0 MiB */
char *ctl_fmt_time(char *buf, size_t len, int64_t epoch_ns); /* 2026-11-25T22:31:44Z */

/* A text table: columns sized to their widest cell, two spaces apart. */
typedef struct ctl_table ctl_table;
/* headers: ncols strings (borrowed; must outlive the table). Returns owned (ctl_table_free). */
ctl_table *ctl_table_new(int ncols, const char *const *headers);
/* Adds a row of ncols cells, each copied. NULL prints as "-". */
void ctl_table_row(ctl_table *t, ...);
int ctl_table_rows(const ctl_table *t);
void ctl_table_print(const ctl_table *t, FILE *f);
void ctl_table_free(ctl_table *t);

/* --- arguments (args.c) --- */

typedef enum ctl_opt_kind { CTL_OPT_FLAG, CTL_OPT_STR, CTL_OPT_LONG, CTL_OPT_LIST } ctl_opt_kind;

#define CTL_LIST_MAX 16
typedef struct ctl_list {
    const char *v[CTL_LIST_MAX];
    int n;
} ctl_list;

typedef struct ctl_opt {
    const char *name; /* "--count" */
    ctl_opt_kind kind;
    void *out;     /* bool*, const char**, long*, ctl_list* */
    long min, max; /* CTL_OPT_LONG */
} ctl_opt;

/* Parses argv[1..]: options (--name V or --name=V) into opts, everything else into pos
 * (borrowed from argv). --help prints help to stdout. Returns true to go on; false with *rc set
 * (CTL_OK after --help, CTL_USAGE after a message naming the problem). */
bool ctl_parse(int argc, char **argv, const ctl_opt *opts, size_t nopts, const char **pos,
               int minpos, int maxpos, int *npos, const char *help, int *rc);

#endif
