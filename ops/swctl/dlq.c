/* swctl dlq ls|show|replay: the dead-letter stream SW_DLQ. sw-deadletter (and a prober, for a
 * malformed job) copies a job there with Sw-Dlq-Reason, Sw-Dlq-Subject and usually Sw-Dlq-Seq.
 *
 * A replay republishes the job once. "Once" must hold without a database and against two
 * operators racing, so each replay is first claimed in SW_DLQ itself: a record on
 * sw.v1.dlq.replays.<dlq_seq> published with Nats-Expected-Last-Subject-Sequence: 0, which the
 * server accepts only when no record for that sequence exists yet. The job goes out after the
 * claim (and the claim is withdrawn if it cannot); public.dead_letters.replayed_at is set when
 * DATABASE_URL is available. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "bus/bus.h"
#include "bus/config.h"
#include "bus/contract.h"
#include "ops/swctl/swctl.h"
#include "store/store.h"

#define DLQ_STREAM BUS_STREAM_DLQ
#define DLQ_PREFIX BUS_SUBJ_DLQ_PREFIX
#define REPLAY_PREFIX BUS_SUBJ_DLQ_REPLAYS_PREFIX
#define H_REPLAY_OF BUS_H_DLQ_REPLAY_OF
#define H_REPLAY_MSG_ID "Sw-Replay-Msg-Id"
/* How far back `dlq ls` walks the stream looking for dead letters. */
#define LS_MAX_SCAN 100000

static const char dlq_help[] =
    "usage: swctl dlq ls [--limit N] | show SEQ [--raw] | replay SEQ [--force]\n"
    "\n"
    "The dead-letter stream SW_DLQ: jobs that failed MAX DELIVER times or could not be read.\n"
    "SEQ is the message's sequence in SW_DLQ (the first column of `dlq ls`).\n"
    "\n"
    "  ls [--limit N]      the newest N dead letters (default 20): time, original subject\n"
    "                      and sequence, reason, whether it was replayed\n"
    "  show SEQ [--raw]    one dead letter: subject, headers, body (indented unless --raw)\n"
    "  replay SEQ          republishes the job to its original subject (Sw-Dlq-Subject, which\n"
    "                      must be a job subject a consumer of SW_JOBS takes) with\n"
    "                      a new Nats-Msg-Id replay:<seq>:<epoch_ms>, once; records the replay\n"
    "                      in SW_DLQ and, with DATABASE_URL set, in public.dead_letters\n"
    "    --force           replay a dead letter that was replayed before\n"
    "\n"
    "Exit status: 0 done, 1 failed or refused (already replayed), 2 bad usage.\n";

/* ---- helpers ---- */

static const char *header(natsMsg *m, const char *key)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, key, &v) != NATS_OK)
        return NULL;
    return v;
}

static int get_msg(natsMsg **m, ctl *c, uint64_t seq)
{
    jsErrCode jerr = 0;
    char what[96];
    *m = NULL;
    natsStatus s = js_GetMsg(m, c->js, DLQ_STREAM, seq, NULL, &jerr);
    if (s == NATS_OK)
        return CTL_OK;
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
        ctl_err("there is no message #%llu in %s ('swctl dlq ls' lists the dead letters)",
                (unsigned long long)seq, DLQ_STREAM);
    else {
        snprintf(what, sizeof(what), "reading %s #%llu", DLQ_STREAM, (unsigned long long)seq);
        ctl_js_error(what, s, jerr);
    }
    return CTL_FAIL;
}

static bool is_replay_record(natsMsg *m)
{
    return strncmp(natsMsg_GetSubject(m), REPLAY_PREFIX, strlen(REPLAY_PREFIX)) == 0;
}

/* The original job's stream and sequence: the stream from sw.v1.dlq.<stream>, the sequence
 * from Sw-Dlq-Seq or else from the Nats-Msg-Id dlq:<stream>:<seq> every dead letter carries.
 * seq is "" when unknown. */
static void job_ref(natsMsg *m, char *stream, size_t slen, char *seq, size_t qlen)
{
    const char *subj = natsMsg_GetSubject(m);
    const char *s = header(m, BUS_H_DLQ_SEQ);
    const char *id = header(m, BUS_H_MSG_ID);
    snprintf(stream, slen, "%s",
             strncmp(subj, DLQ_PREFIX, strlen(DLQ_PREFIX)) == 0 ? subj + strlen(DLQ_PREFIX) : subj);
    seq[0] = '\0';
    if (s && *s)
        snprintf(seq, qlen, "%s", s);
    else if (id && strncmp(id, "dlq:", 4) == 0 && strrchr(id, ':') > id + 3)
        snprintf(seq, qlen, "%s", strrchr(id, ':') + 1);
    if (seq[0] && strspn(seq, "0123456789") != strlen(seq))
        seq[0] = '\0';
}

static bool parse_seq(const char *text, uint64_t *seq)
{
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || v == 0 || text[0] == '-')
        return false;
    *seq = v;
    return true;
}

/* The newest replay record of a dead letter, or NULL (owned). */
static natsMsg *last_replay(ctl *c, uint64_t seq)
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    char subj[64];
    snprintf(subj, sizeof(subj), REPLAY_PREFIX "%llu", (unsigned long long)seq);
    if (js_GetLastMsg(&m, c->js, DLQ_STREAM, subj, NULL, &jerr) != NATS_OK)
        return NULL;
    return m;
}

/* ---- ls ---- */

typedef struct replayed_set {
    uint64_t *seqs;
    int n, cap;
} replayed_set;

static void set_add(replayed_set *r, uint64_t seq)
{
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 32;
        uint64_t *v = realloc(r->seqs, sizeof(*v) * (size_t)cap);
        if (!v)
            return;
        r->seqs = v;
        r->cap = cap;
    }
    r->seqs[r->n++] = seq;
}

static bool set_has(const replayed_set *r, uint64_t seq)
{
    for (int i = 0; i < r->n; i++)
        if (r->seqs[i] == seq)
            return true;
    return false;
}

static int dlq_ls(ctl *c, long limit)
{
    static const char *const hdr[] = {"SEQ",     "RECEIVED", "SUBJECT",
                                      "JOB SEQ", "REASON",   "REPLAYED"};
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    replayed_set replayed = {0};
    natsMsg **found = calloc((size_t)limit, sizeof(*found));
    int nfound = 0, rc = CTL_FAIL;

    if (!found) {
        ctl_err("out of memory");
        goto out;
    }
    natsStatus s = js_GetStreamInfo(&si, c->js, DLQ_STREAM, NULL, &jerr);
    if (s != NATS_OK) {
        ctl_js_error("reading " DLQ_STREAM, s, jerr);
        goto out;
    }
    /* Newest first, so every replay record is seen before the dead letter it names. */
    uint64_t scanned = 0;
    for (uint64_t seq = si->State.LastSeq; si->State.Msgs > 0 && seq >= si->State.FirstSeq &&
                                           seq > 0 && nfound < limit && scanned < LS_MAX_SCAN;
         seq--, scanned++) {
        natsMsg *m = NULL;
        jerr = 0;
        s = js_GetMsg(&m, c->js, DLQ_STREAM, seq, NULL, &jerr);
        if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
            continue; /* deleted or aged out */
        if (s != NATS_OK) {
            ctl_js_error("reading " DLQ_STREAM, s, jerr);
            goto out;
        }
        uint64_t of = 0;
        if (is_replay_record(m)) {
            if (header(m, H_REPLAY_OF) && parse_seq(header(m, H_REPLAY_OF), &of))
                set_add(&replayed, of);
            natsMsg_Destroy(m);
            continue;
        }
        found[nfound++] = m;
    }
    if (nfound == 0) {
        printf("%s holds no dead letters\n", DLQ_STREAM);
        rc = CTL_OK;
        goto out;
    }
    ctl_table *t = ctl_table_new(6, hdr);
    for (int i = nfound - 1; i >= 0; i--) {
        natsMsg *m = found[i];
        char seq[24], when[32], stream[64], jseq[24], job[96];
        uint64_t q = natsMsg_GetSequence(m);
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)q);
        ctl_fmt_time(when, sizeof(when), natsMsg_GetTime(m));
        job_ref(m, stream, sizeof(stream), jseq, sizeof(jseq));
        snprintf(job, sizeof(job), "%s%s%s", stream, jseq[0] ? " #" : "", jseq);
        ctl_table_row(t, seq, when, header(m, BUS_H_DLQ_SUBJECT), job, header(m, BUS_H_DLQ_REASON),
                      set_has(&replayed, q) ? "yes" : "no");
    }
    ctl_table_print(t, stdout);
    ctl_table_free(t);
    if (nfound == limit)
        fprintf(stderr, "(the newest %ld; --limit N shows more)\n", limit);
    rc = CTL_OK;
out:
    for (int i = 0; i < nfound; i++)
        natsMsg_Destroy(found[i]);
    free(found);
    free(replayed.seqs);
    jsStreamInfo_Destroy(si);
    return rc;
}

/* ---- show ---- */

static int dlq_show(ctl *c, uint64_t seq, bool raw)
{
    natsMsg *m = NULL, *rec = NULL;
    char when[32];
    if (get_msg(&m, c, seq) != CTL_OK)
        return CTL_FAIL;
    ctl_fmt_time(when, sizeof(when), natsMsg_GetTime(m));
    printf("[%s #%llu] Received on \"%s\" at %s\n", DLQ_STREAM, (unsigned long long)seq,
           natsMsg_GetSubject(m), when);
    if (ctl_print_headers(stdout, m) > 0)
        putchar('\n');
    ctl_print_body(stdout, natsMsg_GetData(m), natsMsg_GetDataLength(m), !raw);
    putchar('\n');
    if (!is_replay_record(m))
        rec = last_replay(c, seq);
    if (is_replay_record(m)) {
        printf("This is the record of a replay of #%s, not a dead letter.\n",
               header(m, H_REPLAY_OF) ? header(m, H_REPLAY_OF) : "?");
    } else if (rec) {
        ctl_fmt_time(when, sizeof(when), natsMsg_GetTime(rec));
        printf("Replayed: yes, at %s as Nats-Msg-Id %s (record #%llu)\n", when,
               header(rec, H_REPLAY_MSG_ID) ? header(rec, H_REPLAY_MSG_ID) : "?",
               (unsigned long long)natsMsg_GetSequence(rec));
    } else {
        printf("Replayed: no ('swctl dlq replay %llu' republishes it to %s)\n",
               (unsigned long long)seq,
               header(m, BUS_H_DLQ_SUBJECT) ? header(m, BUS_H_DLQ_SUBJECT) : "?");
    }
    natsMsg_Destroy(rec);
    natsMsg_Destroy(m);
    return CTL_OK;
}

/* ---- replay ---- */

/* With DATABASE_URL: refuses (CTL_FAIL) when public.dead_letters says the job was replayed and
 * force is off. *db: owned (store_pool_free), NULL without DATABASE_URL. */
static int db_check(store_pool **db, const char *stream, const char *jseq, bool force)
{
    const char *url = sw_config_str("DATABASE_URL", NULL);
    json_t *row = NULL;
    int rc = CTL_FAIL;
    *db = NULL;
    if (!url || !jseq[0])
        return CTL_OK;
    if (store_pool_new(db, url, 1) != SW_OK) {
        ctl_err("out of memory");
        return CTL_FAIL;
    }
    store_conn *conn = store_acquire(*db);
    if (!conn) {
        ctl_err("cannot reach the database in DATABASE_URL to check public.dead_letters (is "
                "PostgreSQL up? unset DATABASE_URL to replay without recording it there)");
        return CTL_FAIL;
    }
    const char *p[] = {stream, jseq};
    sw_status st = store_query_one(
        conn, &row,
        "SELECT to_char(replayed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at"
        " FROM public.dead_letters WHERE stream = $1 AND stream_seq = $2::bigint",
        2, p);
    if (st != SW_OK && st != SW_ENOTFOUND) {
        ctl_err("cannot read public.dead_letters: %s", store_last_error(conn));
        goto out;
    }
    const char *at = json_string_value(json_object_get(row, "at"));
    if (at && !force) {
        ctl_err("%s #%s was already replayed at %s (public.dead_letters.replayed_at); --force "
                "replays it again",
                stream, jseq, at);
        goto out;
    }
    rc = CTL_OK;
out:
    json_decref(row);
    store_release(*db, conn);
    return rc;
}

static void db_mark(store_pool *db, const char *stream, const char *jseq)
{
    long affected = 0;
    if (!db) {
        printf("public.dead_letters not updated (DATABASE_URL is not set)\n");
        return;
    }
    store_conn *conn = store_acquire(db);
    const char *p[] = {stream, jseq};
    sw_status st = conn ? store_query(conn, NULL, &affected,
                                      "UPDATE public.dead_letters SET replayed_at = now()"
                                      " WHERE stream = $1 AND stream_seq = $2::bigint",
                                      2, p)
                        : SW_EUNAVAILABLE;
    if (st != SW_OK)
        ctl_err("the job was replayed, but public.dead_letters could not be updated: %s "
                "(set replayed_at by hand)",
                conn ? store_last_error(conn) : "database unreachable");
    else if (affected == 0)
        printf("public.dead_letters has no row for %s #%s (a malformed job dead-lettered by a "
               "prober is only in SW_DLQ)\n",
               stream, jseq);
    else
        printf("public.dead_letters: replayed_at set for %s #%s\n", stream, jseq);
    store_release(db, conn);
}

/* Publishes the claim; on a second replay without force, says when the first one was. */
static int claim(uint64_t *rec_seq, ctl *c, uint64_t seq, const char *subject, const char *id,
                 bool force)
{
    natsMsg *rec = NULL, *prev = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    char subj[64], seq_s[24], when[32];
    int rc = CTL_FAIL;
    json_t *body = json_pack("{s:I,s:s,s:s,s:I}", "dlq_seq", (json_int_t)seq, "subject", subject,
                             "msg_id", id, "replayed_at_ms", (json_int_t)sw_epoch_ms());
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    snprintf(subj, sizeof(subj), REPLAY_PREFIX "%llu", (unsigned long long)seq);
    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
    if (!text || natsMsg_Create(&rec, subj, NULL, text, (int)strlen(text)) != NATS_OK) {
        ctl_err("out of memory");
        goto out;
    }
    natsMsgHeader_Set(rec, "Content-Type", "application/json");
    natsMsgHeader_Set(rec, H_REPLAY_OF, seq_s);
    natsMsgHeader_Set(rec, H_REPLAY_MSG_ID, id);
    if (!force) /* accepted only while no record for this sequence exists */
        natsMsgHeader_Set(rec, "Nats-Expected-Last-Subject-Sequence", "0");
    natsStatus s = js_PublishMsg(&pa, c->js, rec, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamWrongLastSequenceErr) {
        prev = last_replay(c, seq);
        if (prev)
            ctl_fmt_time(when, sizeof(when), natsMsg_GetTime(prev));
        ctl_err("%s #%llu was already replayed%s%s (as %s); --force replays it again", DLQ_STREAM,
                (unsigned long long)seq, prev ? " at " : "", prev ? when : "",
                prev && header(prev, H_REPLAY_MSG_ID) ? header(prev, H_REPLAY_MSG_ID) : "?");
        goto out;
    }
    if (s != NATS_OK) {
        ctl_js_error("recording the replay in " DLQ_STREAM, s, jerr);
        goto out;
    }
    *rec_seq = pa->Sequence;
    rc = CTL_OK;
out:
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(prev);
    natsMsg_Destroy(rec);
    free(text);
    json_decref(body);
    return rc;
}

/* Where a replay may go. Sw-Dlq-Subject is only a header inside the stored message: whoever
 * may write to SW_DLQ could name any subject there (a request subject, another region's
 * jobs), and swctl publishes as the admin user. So the subject must be a job subject of the
 * bus contract (DESIGN §3: sw.v1.jobs.probe.<region>, sw.v1.jobs.mail) that a consumer of the
 * stream the dead letter came from (its own subject: sw.v1.dlq.SW_JOBS) consumes: the
 * subject the job was consumed from. A probe job's body names its region, and it must be
 * the subject's. Anything else is refused, and nothing is published. */
static int replay_target_check(ctl *c, natsMsg *m, const char *stream, const char *subject)
{
    static const char probe[] = "sw.v1.jobs.probe.";
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char consumer[64] = "";
    const char *region = NULL;
    int rc = CTL_FAIL;

    if (strcmp(stream, "SW_JOBS") != 0) {
        ctl_err("this dead letter came from stream \"%s\"; only SW_JOBS jobs are replayed", stream);
        return CTL_FAIL;
    }
    if (strcmp(subject, "sw.v1.jobs.mail") == 0) {
        snprintf(consumer, sizeof(consumer), "mailer");
    } else if (strncmp(subject, probe, sizeof(probe) - 1) == 0) {
        region = subject + sizeof(probe) - 1;
        size_t n = strlen(region);
        if (n >= 1 && n <= 32 && strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == n)
            snprintf(consumer, sizeof(consumer), "probers-%s", region);
    }
    if (!consumer[0]) {
        ctl_err("refusing to replay to \"%s\": not a job subject (sw.v1.jobs.probe.<region> or "
                "sw.v1.jobs.mail)",
                subject);
        return CTL_FAIL;
    }
    natsStatus s = js_GetConsumerInfo(&ci, c->js, "SW_JOBS", consumer, NULL, &jerr);
    if (s != NATS_OK || !ci || !ci->Config || !ci->Config->FilterSubject ||
        strcmp(ci->Config->FilterSubject, subject) != 0) {
        ctl_err("refusing to replay to \"%s\": no consumer of SW_JOBS consumes it (%s)", subject,
                s == NATS_OK ? "its filter differs" : "no such consumer");
        goto out;
    }
    if (region) {
        json_t *body = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
        const char *said = json_string_value(json_object_get(body, "region"));
        bool differs = said && strcmp(said, region) != 0;
        json_decref(body);
        if (differs) {
            ctl_err("refusing to replay to \"%s\": the job is for another region", subject);
            goto out;
        }
    }
    rc = CTL_OK;
out:
    jsConsumerInfo_Destroy(ci);
    return rc;
}

static int dlq_replay(ctl *c, uint64_t seq, bool force)
{
    natsMsg *m = NULL, *job = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    store_pool *db = NULL;
    char stream[64], jseq[24], id[96], seq_s[24];
    uint64_t rec_seq = 0;
    int rc = CTL_FAIL;

    if (get_msg(&m, c, seq) != CTL_OK)
        goto out;
    if (is_replay_record(m)) {
        ctl_err("%s #%llu is the record of a replay, not a dead letter ('swctl dlq ls' lists "
                "the dead letters)",
                DLQ_STREAM, (unsigned long long)seq);
        goto out;
    }
    const char *subject = header(m, BUS_H_DLQ_SUBJECT);
    if (!subject || !*subject || strncmp(subject, DLQ_PREFIX, strlen(DLQ_PREFIX)) == 0) {
        ctl_err("%s #%llu has no usable Sw-Dlq-Subject header, so where the job came from is "
                "unknown; publish it by hand if you know ('swctl dlq show %llu')",
                DLQ_STREAM, (unsigned long long)seq, (unsigned long long)seq);
        goto out;
    }
    job_ref(m, stream, sizeof(stream), jseq, sizeof(jseq));
    if (replay_target_check(c, m, stream, subject) != CTL_OK)
        goto out;
    if (db_check(&db, stream, jseq, force) != CTL_OK)
        goto out;

    snprintf(id, sizeof(id), BUS_ID_REPLAY_FMT, (unsigned long long)seq, (long long)sw_epoch_ms());
    if (claim(&rec_seq, c, seq, subject, id, force) != CTL_OK)
        goto out;

    snprintf(seq_s, sizeof(seq_s), "%llu", (unsigned long long)seq);
    if (natsMsg_Create(&job, subject, NULL, natsMsg_GetData(m), natsMsg_GetDataLength(m)) !=
        NATS_OK) {
        ctl_err("out of memory");
        goto withdraw;
    }
    natsMsgHeader_Set(job, "Content-Type", "application/json");
    natsMsgHeader_Set(job, BUS_H_MSG_ID, id);
    natsMsgHeader_Set(job, H_REPLAY_OF, seq_s);
    natsStatus s = js_PublishMsg(&pa, c->js, job, NULL, &jerr);
    if (s != NATS_OK) {
        char what[160];
        snprintf(what, sizeof(what), "republishing the job to \"%s\"%s", subject,
                 s == NATS_NO_RESPONDERS ? " (no stream takes that subject)" : "");
        ctl_js_error(what, s, jerr);
        goto withdraw;
    }
    printf("Replayed %s #%llu to \"%s\": %s #%llu, Nats-Msg-Id %s\n", DLQ_STREAM,
           (unsigned long long)seq, subject, pa->Stream, (unsigned long long)pa->Sequence, id);
    db_mark(db, stream, jseq);
    rc = CTL_OK;
    goto out;
withdraw:
    /* The job did not go out: withdraw the claim so a plain retry works. */
    if (js_DeleteMsg(c->js, DLQ_STREAM, rec_seq, NULL, &jerr) != NATS_OK)
        ctl_err("the replay record %s #%llu could not be withdrawn: retry with --force", DLQ_STREAM,
                (unsigned long long)rec_seq);
out:
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(job);
    natsMsg_Destroy(m);
    store_pool_free(db);
    return rc;
}

int ctl_dlq(ctl *c, int argc, char **argv)
{
    const char *pos[2];
    long limit = 20;
    bool force = false, raw = false;
    int npos, rc;
    uint64_t seq = 0;
    const ctl_opt opts[] = {
        {"--limit", CTL_OPT_LONG, &limit, 1, 10000},
        {"--force", CTL_OPT_FLAG, &force, 0, 0},
        {"--raw", CTL_OPT_FLAG, &raw, 0, 0},
    };

    if (!ctl_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 0, 2, &npos, dlq_help,
                   &rc))
        return rc;
    if (npos == 0)
        return ctl_usage_err(dlq_help, "dlq needs ls, show SEQ or replay SEQ");
    const char *sub = pos[0];
    if (strcmp(sub, "ls") == 0) {
        if (npos != 1)
            return ctl_usage_err(dlq_help, "dlq ls takes no SEQ (did you mean dlq show?)");
    } else if (strcmp(sub, "show") == 0 || strcmp(sub, "replay") == 0) {
        if (npos != 2)
            return ctl_usage_err(dlq_help, "dlq %s needs the SW_DLQ sequence (see 'swctl dlq ls')",
                                 sub);
        if (!parse_seq(pos[1], &seq))
            return ctl_usage_err(dlq_help, "'%s' is not a sequence number (a whole number ≥ 1)",
                                 pos[1]);
    } else {
        return ctl_usage_err(dlq_help, "unknown dlq command '%s' (ls, show or replay)", sub);
    }
    if (ctl_js(c) != CTL_OK)
        return CTL_FAIL;
    if (strcmp(sub, "ls") == 0)
        return dlq_ls(c, limit);
    if (strcmp(sub, "show") == 0)
        return dlq_show(c, seq, raw);
    return dlq_replay(c, seq, force);
}
