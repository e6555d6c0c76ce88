/* swctl streams and swctl consumers: JetStream state at a glance, the numbers an operator
 * checks first when work piles up (pending, waiting for an ack, redelivered). */
#include <stdlib.h>
#include <string.h>

#include "ops/swctl/swctl.h"

static const char streams_help[] =
    "usage: swctl streams\n"
    "\n"
    "One line per JetStream stream: retention, replicas, messages, bytes, first and last\n"
    "sequence, consumers. StatusWatch has SW_JOBS, SW_RESULTS (work queues), SW_EVENTS,\n"
    "SW_DLQ and SW_ADVISORIES (limits); sw-migrate creates them.\n";

static const char consumers_help[] =
    "usage: swctl consumers [STREAM]\n"
    "\n"
    "One line per durable consumer of STREAM (default: of every stream):\n"
    "  PENDING      messages not yet delivered (work waiting)\n"
    "  ACK PENDING  delivered, not yet acked (in flight)\n"
    "  REDELIVERED  delivered more than once\n"
    "  WAITING      pull requests waiting for messages (idle workers)\n"
    "  MAX DELIVER, ACK WAIT: after MAX DELIVER attempts a job is dead-lettered (swctl dlq)\n"
    "Example: swctl consumers SW_JOBS\n";

static const char *retention_name(jsRetentionPolicy r)
{
    switch (r) {
    case js_LimitsPolicy:
        return "limits";
    case js_InterestPolicy:
        return "interest";
    case js_WorkQueuePolicy:
        return "workqueue";
    }
    return "-";
}

static int cmp_stream(const void *a, const void *b)
{
    const jsStreamInfo *x = *(jsStreamInfo *const *)a, *y = *(jsStreamInfo *const *)b;
    return strcmp(x->Config->Name, y->Config->Name);
}

int ctl_streams(ctl *c, int argc, char **argv)
{
    static const char *const hdr[] = {"STREAM", "RETENTION", "REPLICAS", "MESSAGES",
                                      "BYTES",  "FIRST",     "LAST",     "CONSUMERS"};
    jsStreamInfoList *list = NULL;
    jsErrCode jerr = 0;
    const char *pos[1];
    int npos, rc;

    if (!ctl_parse(argc, argv, NULL, 0, pos, 0, 0, &npos, streams_help, &rc))
        return rc;
    if (ctl_js(c) != CTL_OK)
        return CTL_FAIL;
    natsStatus s = js_Streams(&list, c->js, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        printf("no streams (run sw-migrate to create them)\n");
        return CTL_OK;
    }
    if (s != NATS_OK) {
        ctl_js_error("listing streams", s, jerr);
        return CTL_FAIL;
    }
    qsort(list->List, (size_t)list->Count, sizeof(*list->List), cmp_stream);
    ctl_table *t = ctl_table_new(8, hdr);
    for (int i = 0; i < list->Count; i++) {
        jsStreamInfo *si = list->List[i];
        char reps[16], msgs[24], bytes[32], first[24], last[24], cons[16];
        snprintf(reps, sizeof(reps), "%lld", (long long)si->Config->Replicas);
        snprintf(msgs, sizeof(msgs), "%llu", (unsigned long long)si->State.Msgs);
        ctl_fmt_bytes(bytes, sizeof(bytes), si->State.Bytes);
        snprintf(first, sizeof(first), "%llu", (unsigned long long)si->State.FirstSeq);
        snprintf(last, sizeof(last), "%llu", (unsigned long long)si->State.LastSeq);
        snprintf(cons, sizeof(cons), "%lld", (long long)si->State.Consumers);
        ctl_table_row(t, si->Config->Name, retention_name(si->Config->Retention), reps, msgs, bytes,
                      first, last, cons);
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    jsStreamInfoList_Destroy(list);
    return CTL_OK;
}

static void consumer_row(ctl_table *t, const jsConsumerInfo *ci)
{
    char pend[24], ackp[24], redel[24], wait[24], maxd[24], ackw[32];
    snprintf(pend, sizeof(pend), "%llu", (unsigned long long)ci->NumPending);
    snprintf(ackp, sizeof(ackp), "%lld", (long long)ci->NumAckPending);
    snprintf(redel, sizeof(redel), "%lld", (long long)ci->NumRedelivered);
    snprintf(wait, sizeof(wait), "%lld", (long long)ci->NumWaiting);
    if (ci->Config->MaxDeliver > 0)
        snprintf(maxd, sizeof(maxd), "%lld", (long long)ci->Config->MaxDeliver);
    else
        snprintf(maxd, sizeof(maxd), "unlimited");
    ctl_fmt_duration(ackw, sizeof(ackw), ci->Config->AckWait);
    ctl_table_row(t, ci->Stream, ci->Name, ci->Config->FilterSubject, pend, ackp, redel, wait, maxd,
                  ackw);
}

static int cmp_consumer(const void *a, const void *b)
{
    const jsConsumerInfo *x = *(jsConsumerInfo *const *)a, *y = *(jsConsumerInfo *const *)b;
    return strcmp(x->Name, y->Name);
}

/* Adds the rows of one stream's consumers; CTL_FAIL with the error printed. */
static int stream_consumers(ctl *c, ctl_table *t, const char *stream)
{
    jsConsumerInfoList *list = NULL;
    jsErrCode jerr = 0;
    char what[160];
    natsStatus s = js_Consumers(&list, c->js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
        return CTL_OK; /* a stream without consumers */
    if (s != NATS_OK) {
        snprintf(what, sizeof(what), "listing the consumers of %s", stream);
        ctl_js_error(what, s, jerr);
        return CTL_FAIL;
    }
    qsort(list->List, (size_t)list->Count, sizeof(*list->List), cmp_consumer);
    for (int i = 0; i < list->Count; i++)
        consumer_row(t, list->List[i]);
    jsConsumerInfoList_Destroy(list);
    return CTL_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctl_consumers(ctl *c, int argc, char **argv)
{
    static const char *const hdr[] = {"STREAM",  "CONSUMER",    "FILTER",
                                      "PENDING", "ACK PENDING", "REDELIVERED",
                                      "WAITING", "MAX DELIVER", "ACK WAIT"};
    const char *pos[1];
    int npos, rc = CTL_OK;
    jsStreamNamesList *names = NULL;
    jsErrCode jerr = 0;

    if (!ctl_parse(argc, argv, NULL, 0, pos, 0, 1, &npos, consumers_help, &rc))
        return rc;
    if (ctl_js(c) != CTL_OK)
        return CTL_FAIL;
    ctl_table *t = ctl_table_new(9, hdr);
    if (npos == 1) {
        rc = stream_consumers(c, t, pos[0]);
    } else {
        natsStatus s = js_StreamNames(&names, c->js, NULL, &jerr);
        if (s != NATS_OK && s != NATS_NOT_FOUND) {
            ctl_js_error("listing streams", s, jerr);
            rc = CTL_FAIL;
        }
        if (names)
            qsort(names->List, (size_t)names->Count, sizeof(*names->List), cmp_name);
        for (int i = 0; names && i < names->Count && rc == CTL_OK; i++)
            rc = stream_consumers(c, t, names->List[i]);
    }
    if (rc == CTL_OK) {
        if (ctl_table_rows(t) == 0)
            printf("no consumers%s%s (sw-migrate creates them)\n", npos ? " on " : "",
                   npos ? pos[0] : "");
        else
            ctl_table_print(t, stdout);
    }
    ctl_table_free(t);
    jsStreamNamesList_Destroy(names);
    return rc;
}
