/* Fault switches are per instance (mbws_fault.h): one process holds a
 * faulty and a correct decoder, connection and broker model at the same
 * time, each behaves as its own switch says, and nothing is reset between
 * steps. */
#define pub fake_pub /* broker_fake.h and test_session_pair.h both have pub() */
#include "broker_fake.h"
#undef pub
#include "mbws_fault.h"
#include "test_session_pair.h"

/* Two decode contexts, used in turn on the same frames. */
static void test_codec(void)
{
    static const char dup[] = "ACK\nseq:1\nseq:2\n\n";
    static const char zero[] = "ACK\nseq:01\n\n";
    mbws_decode_ctx good = {.sender = MBWS_ROLE_CLIENT, .subprotocol = MBWS_SP_MBWS};
    mbws_decode_ctx dups = {.sender = MBWS_ROLE_CLIENT,
                            .subprotocol = MBWS_SP_MBWS,
                            .fault = MBWS_FAULT_FLD_DUPLICATES};
    mbws_decode_ctx zeros = {.sender = MBWS_ROLE_CLIENT,
                             .subprotocol = MBWS_SP_MBWS,
                             .fault = MBWS_FAULT_TXT_LEADING_ZEROS};
    mbws_frame f;
    for (int round = 0; round < 2; round++) { /* the order of use changes nothing */
        CHECK_EQ("FLD-2", mbws_decode((const uint8_t *)dup, sizeof dup - 1, MBWS_ENC_TEXT, &good,
                                      &f, NULL),
                 MBWS_E_MALFORMED);
        CHECK_EQ("FLD-2", mbws_decode((const uint8_t *)dup, sizeof dup - 1, MBWS_ENC_TEXT, &dups,
                                      &f, NULL),
                 MBWS_OK);
        CHECK_EQ("TXT-5", mbws_decode((const uint8_t *)zero, sizeof zero - 1, MBWS_ENC_TEXT,
                                      &dups, &f, NULL),
                 MBWS_E_MALFORMED); /* another instance's fault is not this one's */
        CHECK_EQ("TXT-5", mbws_decode((const uint8_t *)zero, sizeof zero - 1, MBWS_ENC_TEXT,
                                      &zeros, &f, NULL),
                 MBWS_OK);
        CHECK_EQ("TXT-5", f.num[MBWS_F_SEQ], 1);
        CHECK_EQ("TXT-5", mbws_decode((const uint8_t *)zero, sizeof zero - 1, MBWS_ENC_TEXT, &good,
                                      &f, NULL),
                 MBWS_E_MALFORMED);
    }
}

/* Two broker connections open side by side, one with seq-gap-accepted:
 * the same out-of-order MESSAGE is accepted by one and refused by the
 * other, and each frame each receives is decoded with its own switch. */
static void test_sessions(void)
{
    peer cl1, br1, cl2, br2;
    mbws_conn_config cc, good, gap;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cfg_broker(&good, MBWS_SP_MBWS);
    cfg_broker(&gap, MBWS_SP_MBWS);
    gap.fault = MBWS_FAULT_SEQ_GAP_ACCEPTED;
    mbws_session *s1 = mbws_session_new(), *s2 = mbws_session_new();
    pair_start(&cl1, &br1, &cc, &gap, s1, 0);
    pair_start(&cl2, &br2, &cc, &good, s2, 0);
    br1.link = br2.link = 0;
    mbws_frame m = fr_message(3, "q", "x", 0); /* seq 1 and 2 never came */
    feed(&br1, &m, MBWS_ENC_BINARY, 1);
    feed(&br2, &m, MBWS_ENC_BINARY, 1);
    CHECK_EQ("SEQ-2", count_sent(&br1, MBWS_ERROR), 0);
    CHECK_EQ("SEQ-2", count_ev(&br1, MBWS_ACT_DELIVER), 1);
    CHECK_EQ("SEQ-2", count_sent(&br2, MBWS_ERROR), 1);
    CHECK_EQ("SEQ-2", count_ev(&br2, MBWS_ACT_DELIVER), 0);
    CHECK_EQ("SEQ-2", close_code(&br2), 4000 + MBWS_E_SEQUENCE);
    CHECK_EQ("SEQ-2", mbws_conn_state(br1.c), MBWS_CS_OPEN);
    free_all(&cl1, &br1, &cl2, &br2, NULL);
    mbws_session_free(s1);
    mbws_session_free(s2);
}

/* Two broker models fed the same publishes: the LIFO one serves the last
 * message first, the correct one the first (BRK-1). */
static void test_broker_models(void)
{
    mbws_broker *lifo = mbws_broker_new(&fake_ops, 0), *fifo = mbws_broker_new(&fake_ops, 0);
    mbws_broker_set_fault(lifo, MBWS_FAULT_BRK_LIFO);
    fake p1, c1, p2, c2;
    fakes_init(lifo, &p1, &c1, NULL);
    fakes_init(fifo, &p2, &c2, NULL);
    const char *bodies[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        fake_pub(&p1, "q", bodies[i]);
        fake_pub(&p2, "q", bodies[i]);
    }
    mbws_broker_subscribe(c1.s, 1, "q", 1);
    mbws_broker_subscribe(c2.s, 1, "q", 1);
    mbws_broker_pump(lifo);
    mbws_broker_pump(fifo);
    CHECK("BRK-1", c1.n == 3 && !strcmp(c1.body[0], "c") && !strcmp(c1.body[2], "a"));
    CHECK("BRK-1", c2.n == 3 && !strcmp(c2.body[0], "a") && !strcmp(c2.body[2], "c"));
    mbws_broker_free(lifo);
    mbws_broker_free(fifo);
}

int main(void)
{
    TEST_RUN(test_codec);
    TEST_RUN(test_sessions);
    TEST_RUN(test_broker_models);
    return TEST_DONE();
}
