/* bus/jetstream against the stack's nats-server: a pull consumer that keeps its request open
 * hands every message over exactly once and never more than it was given room for, naks come
 * back with their delivery count, asynchronous publishes report each PubAck (and the missing
 * ones), and the ack subject's metadata is read in both of its formats. */
#include "tests/support/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/jetstream.h"

#define N_MSGS 1000

typedef struct fixture {
    natsConnection *nc;
    jsCtx *js;
    char stream[64];
    char subject[96];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char hex[12];
    jsStreamConfig sc;
    jsConsumerConfig cc;
    jsErrCode jerr = 0;

    f->nc = it_nats();
    assert_int_equal(natsConnection_JetStream(&f->js, f->nc, NULL), NATS_OK);
    sw_random_hex(hex, 4);
    snprintf(f->stream, sizeof(f->stream), "SW_TEST_%s", hex);
    snprintf(f->subject, sizeof(f->subject), "sw.test.%s.work", hex);
    jsStreamConfig_Init(&sc);
    sc.Name = f->stream;
    const char *subjects[] = {f->subject};
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_MemoryStorage;
    assert_int_equal(js_AddStream(NULL, f->js, &sc, NULL, &jerr), NATS_OK);
    jsConsumerConfig_Init(&cc);
    cc.Durable = "workers";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 30LL * 1000000000LL;
    assert_int_equal(js_AddConsumer(NULL, f->js, f->stream, &cc, NULL, &jerr), NATS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    jsErrCode jerr = 0;
    js_DeleteStream(f->js, f->stream, NULL, &jerr);
    jsCtx_Destroy(f->js);
    natsConnection_Destroy(f->nc);
    free(f);
    return 0;
}

static uint64_t stream_msgs(fixture *f)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetStreamInfo(&si, f->js, f->stream, NULL, &jerr), NATS_OK);
    uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

static void count_done(void *tag, sw_status st, void *arg)
{
    int *counts = arg; /* [ok, failed] */
    (void)tag;
    counts[st == SW_OK ? 0 : 1]++;
}

static void test_publish_async_then_pull_each_message_once(void **state)
{
    fixture *f = *state;
    bus_apub *pub = NULL;
    bus_pull *pull = NULL;
    char id[32];
    static char seen[N_MSGS];

    /* 1,000 publishes in flight at once: more than the PubAck ring starts with. */
    assert_int_equal(bus_apub_new(&pub, f->nc, "_INBOX", 5000), SW_OK);
    for (int i = 0; i < N_MSGS; i++) {
        json_t *o = json_pack("{s:i}", "n", i);
        snprintf(id, sizeof(id), "m-%d", i);
        assert_int_equal(bus_apub_publish(pub, f->subject, o, id, NULL), SW_OK);
        json_decref(o);
    }
    assert_int_equal(bus_apub_pending(pub), N_MSGS);
    assert_int_equal(bus_apub_flush(pub), SW_OK);
    assert_int_equal(bus_apub_pending(pub), 0);
    assert_int_equal(stream_msgs(f), N_MSGS);

    /* The same ids again: deduplicated by the stream, and still acknowledged. */
    int counts[2] = {0, 0};
    for (int i = 0; i < 10; i++) {
        json_t *o = json_pack("{s:i}", "n", i);
        snprintf(id, sizeof(id), "m-%d", i);
        assert_int_equal(bus_apub_publish(pub, f->subject, o, id, NULL), SW_OK);
        json_decref(o);
    }
    while (bus_apub_poll(pub, 100, count_done, counts) > 0)
        ;
    assert_int_equal(counts[0], 10);
    assert_int_equal(counts[1], 0);
    assert_int_equal(stream_msgs(f), N_MSGS);

    /* Pull with room for 64 at a time; ack all. */
    assert_int_equal(bus_pull_new(&pull, f->nc, "_INBOX", "$JS.API", f->stream, "workers"), SW_OK);
    natsMsg *msgs[64];
    int got = 0, idle = 0;
    while (got < N_MSGS && idle < 20) {
        int n = bus_pull_take(pull, 64, msgs, 64, 250);
        assert_true(n <= 64);
        idle = n == 0 ? idle + 1 : 0;
        for (int i = 0; i < n; i++) {
            json_t *o = json_loadb(natsMsg_GetData(msgs[i]), (size_t)natsMsg_GetDataLength(msgs[i]),
                                   0, NULL);
            int k = (int)json_integer_value(json_object_get(o, "n"));
            assert_true(k >= 0 && k < N_MSGS);
            assert_int_equal(seen[k], 0); /* never twice */
            seen[k] = 1;
            uint64_t delivered = 0, seq = 0;
            assert_true(bus_msg_meta(msgs[i], &delivered, &seq));
            assert_int_equal(delivered, 1);
            assert_true(seq >= 1 && seq <= N_MSGS);
            assert_int_equal(bus_msg_ack(f->nc, msgs[i]), SW_OK);
            json_decref(o);
            natsMsg_Destroy(msgs[i]);
            got++;
        }
    }
    assert_int_equal(got, N_MSGS);
    natsConnection_Flush(f->nc);
    /* Acked on a work queue: gone from the stream. */
    for (int i = 0; i < 20 && stream_msgs(f) > 0; i++)
        nats_Sleep(100);
    assert_int_equal(stream_msgs(f), 0);
    /* Nothing more arrives. */
    assert_int_equal(bus_pull_take(pull, 64, msgs, 64, 300), 0);
    bus_pull_free(pull);
    bus_apub_free(pub);
}

static void test_nak_redelivers_with_the_delivery_count(void **state)
{
    fixture *f = *state;
    bus_pull *pull = NULL;
    natsMsg *m[4];
    jsErrCode jerr = 0;

    assert_int_equal(js_Publish(NULL, f->js, f->subject, "x", 1, NULL, &jerr), NATS_OK);
    assert_int_equal(bus_pull_new(&pull, f->nc, "_INBOX", "$JS.API", f->stream, "workers"), SW_OK);
    assert_int_equal(bus_pull_take(pull, 1, m, 4, 2000), 1);
    uint64_t delivered = 0;
    assert_true(bus_msg_meta(m[0], &delivered, NULL));
    assert_int_equal(delivered, 1);
    assert_int_equal(bus_msg_nak(f->nc, m[0], 300), SW_OK);
    natsMsg_Destroy(m[0]);

    /* Not before the delay (the open request of room 1 is already used up: ask again). */
    assert_int_equal(bus_pull_take(pull, 1, m, 4, 100), 0);
    int n = 0;
    for (int i = 0; i < 20 && n == 0; i++)
        n = bus_pull_take(pull, 1, m, 4, 200);
    assert_int_equal(n, 1);
    assert_true(bus_msg_meta(m[0], &delivered, NULL));
    assert_int_equal(delivered, 2);
    assert_int_equal(bus_msg_term(f->nc, m[0]), SW_OK);
    natsMsg_Destroy(m[0]);
    bus_pull_free(pull);
}

static void test_publish_nobody_stores_is_reported(void **state)
{
    fixture *f = *state;
    bus_apub *pub = NULL;
    int counts[2] = {0, 0};
    (void)f;
    /* No stream listens on this subject: no PubAck ever comes. */
    assert_int_equal(bus_apub_new(&pub, f->nc, "_INBOX", 300), SW_OK);
    json_t *o = json_pack("{s:i}", "n", 1);
    assert_int_equal(bus_apub_publish(pub, "sw.test.nobody.listens", o, "x-1", NULL), SW_OK);
    json_decref(o);
    while (bus_apub_poll(pub, 100, count_done, counts) > 0)
        ;
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 1);
    assert_int_equal(bus_apub_flush(pub), SW_OK); /* nothing pending any more */
    bus_apub_free(pub);
}

static void test_ack_subject_metadata(void **state)
{
    natsMsg *m = NULL;
    uint64_t delivered = 0, seq = 0;
    (void)state;
    /* The classic form and the one with a domain and account hash. */
    assert_int_equal(natsMsg_Create(&m, "s",
                                    "$JS.ACK.SW_JOBS.probers-local.3.1234.77.1700000000000000000.9",
                                    "", 0),
                     NATS_OK);
    assert_true(bus_msg_meta(m, &delivered, &seq));
    assert_int_equal(delivered, 3);
    assert_int_equal(seq, 1234);
    natsMsg_Destroy(m);
    assert_int_equal(natsMsg_Create(&m, "s",
                                    "$JS.ACK.hub.ACCHASH.SW_JOBS.probers-eu.2.55.7."
                                    "1700000000000000000.0.rnd",
                                    "", 0),
                     NATS_OK);
    assert_true(bus_msg_meta(m, &delivered, &seq));
    assert_int_equal(delivered, 2);
    assert_int_equal(seq, 55);
    natsMsg_Destroy(m);
    /* Not a JetStream delivery: no metadata, and no ack is sent anywhere. */
    assert_int_equal(natsMsg_Create(&m, "s", "_INBOX.abc", "", 0), NATS_OK);
    assert_false(bus_msg_meta(m, &delivered, &seq));
    assert_int_equal(bus_msg_ack(NULL, m), SW_EINVAL);
    natsMsg_Destroy(m);
    assert_int_equal(natsMsg_Create(&m, "s", "$JS.ACK.too.few", "", 0), NATS_OK);
    assert_false(bus_msg_meta(m, &delivered, &seq));
    natsMsg_Destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_async_then_pull_each_message_once),
        cmocka_unit_test(test_nak_redelivers_with_the_delivery_count),
        cmocka_unit_test(test_publish_nobody_stores_is_reported),
        cmocka_unit_test(test_ack_subject_metadata),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
