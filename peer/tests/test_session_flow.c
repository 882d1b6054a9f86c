/* Sequencing, acknowledgement and flow control (profile sections 7 and
 * 8): SEQ-1..3, ACK-1..5, FLOW-1..5, from both sides. */
#include "test_session_pair.h"

static peer cl, br;
static mbws_session *cs;

static void open_pair(uint64_t client_credit, uint64_t broker_credit)
{
    mbws_conn_config cc, bc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cc.credit = client_credit;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.credit = broker_credit;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
}

static void close_pair(void)
{
    free_all(&cl, &br, NULL, NULL, cs);
}

static mbws_session_info info(peer *p)
{
    mbws_session_info i;
    memset(&i, 0, sizeof(i));
    if (mbws_conn_session(p->c))
        mbws_session_get_info(mbws_conn_session(p->c), &i);
    return i;
}

static void test_numbering(void)
{
    open_pair(8, 8);
    for (int i = 0; i < 3; i++)
        CHECK_EQ("SEQ-1", pub(&cl, "q", "m", 100 + (uint64_t)i, 1), MBWS_CMD_OK);
    for (int i = 0; i < 2; i++)
        CHECK_EQ("SEQ-1", pub(&br, "q", "b", 200 + (uint64_t)i, 1), MBWS_CMD_OK);
    pump(&cl, &br, 1);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ("SEQ-1", ev_int(nth_sent(&cl, MBWS_MESSAGE, i), MBWS_F_SEQ), (uint64_t)i + 1);
        ev *d = nth_ev(&br, MBWS_ACT_DELIVER, i);
        CHECK_EQ("SEQ-1", d ? d->a.seq : 0, (uint64_t)i + 1);
    }
    for (int i = 0; i < 2; i++)
        CHECK_EQ("SEQ-1", ev_int(nth_sent(&br, MBWS_MESSAGE, i), MBWS_F_SEQ), (uint64_t)i + 1);
    ev *d = nth_ev(&cl, MBWS_ACT_DELIVER, 0);
    CHECK("BRK-3", d && d->a.has_sub && d->a.sub == 1 && d->a.address.len == 1);
    /* ACK-1, ACK-5: each side dropped what the other acknowledged. */
    CHECK_EQ("ACK-5", mbws_session_unacked_count(cs), 0);
    CHECK_EQ("ACK-1", count_ev(&cl, MBWS_ACT_ACKED), 3);
    CHECK_EQ("ACK-1", count_ev(&br, MBWS_ACT_ACKED), 2);
    CHECK_EQ("ACK-1", nth_ev(&cl, MBWS_ACT_ACKED, 2) ? nth_ev(&cl, MBWS_ACT_ACKED, 2)->a.tag : 0, 102);
    CHECK_EQ("ERR-1", count_sent(&cl, MBWS_ERROR) + count_sent(&br, MBWS_ERROR), 0);
    close_pair();
}

static void test_gap(void)
{
    open_pair(8, 8);
    br.link = 0;
    mbws_frame m = fr_message(2, "q", "x", 0);
    feed(&br, &m, MBWS_ENC_BINARY, 1);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("SEQ-2", ev_int(e, MBWS_F_CODE), 5);
    CHECK_EQ("ERR-1", ev_int(e, MBWS_F_SEQ), 2);
    CHECK_EQ("SEQ-2", close_code(&br), 4005);
    CHECK_EQ("ERR-1", count_ev(&br, MBWS_ACT_DELIVER), 0);
    close_pair();
}

static void test_duplicate(void)
{
    mbws_conn_config cc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cc.ack_delay_ms = 300;
    cs = mbws_session_new();
    mbws_conn_config bc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    cl.link = 0;
    mbws_frame m = fr_message(1, "q", "x", 1);
    feed(&cl, &m, MBWS_ENC_BINARY, 10);
    CHECK_EQ("ACK-2", count_sent(&cl, MBWS_ACK), 0); /* coalescing delay */
    CHECK("ACK-2", mbws_conn_deadline(cl.c) <= 10 + 1000);
    tick(&cl, NULL, mbws_conn_deadline(cl.c));
    CHECK_EQ("ACK-2", ev_int(nth_sent(&cl, MBWS_ACK, 0), MBWS_F_SEQ), 1);
    /* The duplicate: not delivered, answered with ACK last-seq in time. */
    feed(&cl, &m, MBWS_ENC_BINARY, 2000);
    CHECK_EQ("SEQ-3", count_ev(&cl, MBWS_ACT_DELIVER), 1);
    uint64_t d = mbws_conn_deadline(cl.c);
    CHECK("SEQ-3", d >= 2000 && d <= 3000);
    tick(&cl, NULL, d);
    CHECK_EQ("SEQ-3", count_sent(&cl, MBWS_ACK), 2);
    CHECK_EQ("SEQ-3", ev_int(nth_sent(&cl, MBWS_ACK, 1), MBWS_F_SEQ), 1);
    CHECK_EQ("SEQ-3", count_sent(&cl, MBWS_ERROR), 0);
    /* A duplicate of an older seq is answered with the current last-seq. */
    mbws_frame m2 = fr_message(2, "q", "y", 1);
    feed(&cl, &m2, MBWS_ENC_BINARY, 4000);
    feed(&cl, &m, MBWS_ENC_BINARY, 4001);
    mbws_conn_flush(cl.c, 4002);
    pump(&cl, NULL, 4002);
    CHECK_EQ("SEQ-3", ev_int(last_sent(&cl, MBWS_ACK), MBWS_F_SEQ), 2);
    CHECK_EQ("SEQ-3", count_ev(&cl, MBWS_ACT_DELIVER), 2);
    close_pair();
}

static void test_acks(void)
{
    open_pair(8, 8);
    cl.link = 0; /* the client stays silent: ACKs are hand-made */
    for (int i = 0; i < 3; i++)
        pub(&br, "q", "b", 10 + (uint64_t)i, 1);
    pump(&br, NULL, 1);
    CHECK_EQ("ACK-5", mbws_session_unacked_count(mbws_conn_session(br.c)), 3);
    br.link = 0;
    mbws_frame a2 = fr_int(MBWS_ACK, MBWS_F_SEQ, 2);
    feed(&br, &a2, MBWS_ENC_BINARY, 2);
    CHECK_EQ("ACK-1", count_ev(&br, MBWS_ACT_ACKED), 2);
    CHECK("ACK-1", nth_ev(&br, MBWS_ACT_ACKED, 0)->a.tag == 10 && nth_ev(&br, MBWS_ACT_ACKED, 1)->a.tag == 11);
    CHECK_EQ("ACK-5", mbws_session_unacked_count(mbws_conn_session(br.c)), 1);
    /* Stale: seq 1, seq 2 again, seq 0 (docs/profile-notes.md). */
    mbws_frame a1 = fr_int(MBWS_ACK, MBWS_F_SEQ, 1), a0 = fr_int(MBWS_ACK, MBWS_F_SEQ, 0);
    feed(&br, &a1, MBWS_ENC_BINARY, 3);
    feed(&br, &a2, MBWS_ENC_TEXT, 3);
    feed(&br, &a0, MBWS_ENC_BINARY, 3);
    CHECK_EQ("ACK-4", count_ev(&br, MBWS_ACT_ACKED), 2);
    CHECK_EQ("ACK-4", count_sent(&br, MBWS_ERROR), 0);
    CHECK_EQ("ACK-4", mbws_conn_state(br.c), MBWS_CS_OPEN);
    /* Beyond the highest seq sent. */
    mbws_frame a4 = fr_int(MBWS_ACK, MBWS_F_SEQ, 4);
    feed(&br, &a4, MBWS_ENC_BINARY, 4);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("ACK-3", ev_int(e, MBWS_F_CODE), 6);
    CHECK_EQ("ERR-1", ev_int(e, MBWS_F_SEQ), 4);
    CHECK_EQ("ACK-3", close_code(&br), 4006);
    CHECK_EQ("ACK-3", count_ev(&br, MBWS_ACT_ACKED), 2);
    /* The session ended by ERROR: its unacked delivery goes back (BRK-4). */
    CHECK_EQ("BRK-4", br.nreturned, 1);
    CHECK_EQ("BRK-4", br.returned[0], 12);
    close_pair();
}

static void test_ack_waits_for_window(void)
{
    /* Client side: ACK-3 counts only what was actually sent, not what
     * waits for the window (FLOW-4). */
    open_pair(8, 1);
    br.link = 0; /* broker silent */
    pub(&cl, "q", "1", 1, 1);
    pub(&cl, "q", "2", 2, 1);
    pump(&cl, NULL, 1);
    CHECK_EQ("FLOW-3", count_sent(&cl, MBWS_MESSAGE), 1);
    CHECK_EQ("FLOW-4", mbws_conn_writable(cl.c), 0);
    cl.link = 0;
    mbws_frame a2 = fr_int(MBWS_ACK, MBWS_F_SEQ, 2);
    feed(&cl, &a2, MBWS_ENC_BINARY, 2);
    CHECK_EQ("ACK-3", ev_int(nth_sent(&cl, MBWS_ERROR, 0), MBWS_F_CODE), 6);
    close_pair();
}

static void test_limit_boundary(void)
{
    /* Broker side: window held, limit 2: seq 2 is fine, seq 3 is code 7. */
    open_pair(8, 2);
    mbws_conn_hold_window(br.c, 1, 0);
    br.link = 0;
    mbws_frame m1 = fr_message(1, "q", "a", 0), m2 = fr_message(2, "q", "b", 0),
               m3 = fr_message(3, "q", "c", 0);
    feed(&br, &m1, MBWS_ENC_BINARY, 1);
    feed(&br, &m2, MBWS_ENC_BINARY, 1);
    CHECK_EQ("FLOW-3", count_ev(&br, MBWS_ACT_DELIVER), 2);
    CHECK_EQ("FLOW-5", count_sent(&br, MBWS_FLOW), 0); /* BRK-6 exception */
    CHECK_EQ("FLOW-3", count_sent(&br, MBWS_ERROR), 0);
    feed(&br, &m3, MBWS_ENC_BINARY, 1);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("FLOW-3", ev_int(e, MBWS_F_CODE), 7);
    CHECK_EQ("ERR-1", ev_int(e, MBWS_F_SEQ), 3);
    CHECK_EQ("FLOW-3", close_code(&br), 4007);
    CHECK_EQ("FLOW-3", count_ev(&br, MBWS_ACT_DELIVER), 2);
    close_pair();

    /* Client side: manual accept keeps its window at the credit (2). */
    mbws_conn_config cc, bc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_TEXT);
    cc.credit = 2;
    cc.manual_accept = 1;
    cfg_broker(&bc, MBWS_SP_MBWS);
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    cl.link = 0;
    mbws_frame s1 = fr_message(1, "q", "a", 1), s2 = fr_message(2, "q", "b", 1),
               s3 = fr_message(3, "q", "c", 1);
    feed(&cl, &s1, MBWS_ENC_TEXT, 1);
    feed(&cl, &s2, MBWS_ENC_TEXT, 1);
    CHECK_EQ("ACK-1", count_sent(&cl, MBWS_ACK), 0); /* not accepted yet */
    CHECK_EQ("FLOW-3", count_sent(&cl, MBWS_ERROR), 0);
    feed(&cl, &s3, MBWS_ENC_TEXT, 1);
    CHECK_EQ("FLOW-3", ev_int(nth_sent(&cl, MBWS_ERROR, 0), MBWS_F_CODE), 7);
    CHECK_EQ("FLOW-3", close_code(&cl), 4007);
    close_pair();
}

static void test_manual_accept(void)
{
    mbws_conn_config cc, bc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.manual_accept = 1;
    bc.credit = 4;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    pub(&cl, "q", "a", 1, 1);
    pub(&cl, "q", "b", 2, 1);
    pump(&cl, &br, 1);
    CHECK_EQ("ACK-1", count_ev(&br, MBWS_ACT_DELIVER), 2);
    CHECK_EQ("ACK-1", count_sent(&br, MBWS_ACK), 0);
    CHECK_EQ("ACK-1", mbws_conn_accept(br.c, 1, 2), MBWS_CMD_OK);
    pump(&cl, &br, 2);
    CHECK_EQ("ACK-1", ev_int(last_sent(&br, MBWS_ACK), MBWS_F_SEQ), 1);
    CHECK_EQ("ACK-1", mbws_session_unacked_count(cs), 1);
    CHECK_EQ("ACK-1", mbws_conn_accept(br.c, 3, 2), MBWS_CMD_INVALID);
    mbws_conn_accept(br.c, 2, 3);
    pump(&cl, &br, 3);
    CHECK_EQ("ACK-1", mbws_session_unacked_count(cs), 0);
    /* FLOW-5 follows the ACK: limit above 2. */
    CHECK("FLOW-5", ev_int(last_sent(&br, MBWS_FLOW), MBWS_F_LIMIT) > 2);
    close_pair();
}

static void test_credit_zero(void)
{
    open_pair(0, 4);
    CHECK_EQ("FLOW-1", info(&br).out_limit, 0);
    CHECK_EQ("FLOW-1", pub(&br, "q", "x", 7, 1), MBWS_CMD_OK);
    pump(&cl, &br, 1);
    CHECK_EQ("FLOW-1", count_sent(&br, MBWS_MESSAGE), 0);
    CHECK_EQ("FLOW-4", mbws_conn_writable(br.c), 0);
    /* Window closed: the broker still ACKs (and grants) what it gets. */
    pub(&cl, "q", "c1", 1, 2);
    pump(&cl, &br, 2);
    CHECK_EQ("FLOW-4", count_sent(&br, MBWS_ACK), 1);
    CHECK_EQ("FLOW-4", count_sent(&br, MBWS_FLOW), 1);
    /* The client grants 1: the waiting MESSAGE goes out. */
    CHECK_EQ("FLOW-2", mbws_conn_grant(cl.c, 1, 3), MBWS_CMD_OK);
    pump(&cl, &br, 3);
    CHECK_EQ("FLOW-2", count_sent(&br, MBWS_MESSAGE), 1);
    CHECK_EQ("FLOW-2", count_ev(&cl, MBWS_ACT_DELIVER), 1);
    /* Our own FLOW never lowers the limit (FLOW-2). */
    CHECK_EQ("FLOW-2", mbws_conn_grant(cl.c, 0, 4), MBWS_CMD_INVALID);
    /* A broker may not advertise credit 0 (FLOW-1). */
    mbws_conn_config bc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.credit = 0;
    CHECK("FLOW-1", mbws_conn_new(&bc, NULL, NULL) == NULL);
    close_pair();
}

static void test_flow_frames(void)
{
    open_pair(4, 4);
    cl.link = 0;
    uint64_t limit = info(&cl).out_limit;
    mbws_frame same = fr_int(MBWS_FLOW, MBWS_F_LIMIT, limit);
    feed(&cl, &same, MBWS_ENC_BINARY, 1);
    CHECK_EQ("FLOW-2", count_sent(&cl, MBWS_ERROR), 0);
    CHECK_EQ("FLOW-2", info(&cl).out_limit, limit);
    CHECK_EQ("FLOW-2", count_ev(&cl, MBWS_ACT_WRITABLE), 1); /* only the one at CONNECTED */
    mbws_frame up = fr_int(MBWS_FLOW, MBWS_F_LIMIT, limit + 5);
    feed(&cl, &up, MBWS_ENC_TEXT, 2);
    CHECK_EQ("FLOW-2", info(&cl).out_limit, limit + 5);
    mbws_frame down = fr_int(MBWS_FLOW, MBWS_F_LIMIT, limit + 4);
    feed(&cl, &down, MBWS_ENC_BINARY, 3);
    ev *e = nth_sent(&cl, MBWS_ERROR, 0);
    CHECK_EQ("FLOW-2", ev_int(e, MBWS_F_CODE), 8);
    CHECK("ERR-1", !ev_has(e, MBWS_F_SEQ));
    CHECK_EQ("FLOW-2", close_code(&cl), 4008);
    close_pair();
}

static void test_window_kept_open(void)
{
    /* 20 messages through a window of 4, each ACK N followed by a limit
     * above N in the same step (FLOW-5). */
    open_pair(3, 4);
    for (int i = 0; i < 20; i++)
        CHECK_EQ("FLOW-4", pub(&cl, "q", "m", (uint64_t)i, 1), MBWS_CMD_OK);
    pump(&cl, &br, 1);
    CHECK_EQ("FLOW-5", count_ev(&br, MBWS_ACT_DELIVER), 20);
    CHECK_EQ("FLOW-5", mbws_session_unacked_count(cs), 0);
    int ok = 1;
    for (size_t i = 0; i < br.n; i++) {
        ev *e = &br.log[i];
        if (e->a.kind != MBWS_ACT_SEND || e->a.frame_type != MBWS_ACK)
            continue;
        uint64_t n = ev_int(e, MBWS_F_SEQ);
        /* the FLOW right behind it, if the limit was not already above N */
        ev *next = i + 1 < br.n ? &br.log[i + 1] : NULL;
        uint64_t granted = next && next->a.kind == MBWS_ACT_SEND && next->a.frame_type == MBWS_FLOW
                               ? ev_int(next, MBWS_F_LIMIT)
                               : 0;
        if (granted <= n)
            ok = 0;
    }
    CHECK("FLOW-5", ok);
    CHECK("FLOW-5", info(&br).in_limit > 20);
    /* Broker holding the window (BRK-6): no FLOW; released: FLOW. */
    mbws_conn_hold_window(br.c, 1, 2);
    int flows = count_sent(&br, MBWS_FLOW);
    for (int i = 0; i < 4; i++)
        pub(&cl, "q", "m", 50, 2);
    pump(&cl, &br, 2);
    CHECK_EQ("FLOW-5", count_sent(&br, MBWS_FLOW), flows);
    CHECK_EQ("FLOW-5", mbws_session_unacked_count(cs), 0); /* ACKs still go (FLOW-4) */
    mbws_conn_hold_window(br.c, 0, 3);
    pump(&cl, &br, 3);
    CHECK_EQ("FLOW-5", count_sent(&br, MBWS_FLOW), flows + 1);
    CHECK("FLOW-5", info(&br).in_limit > 24);
    close_pair();
}

int main(void)
{
    TEST_RUN(test_numbering);
    TEST_RUN(test_gap);
    TEST_RUN(test_duplicate);
    TEST_RUN(test_acks);
    TEST_RUN(test_ack_waits_for_window);
    TEST_RUN(test_limit_boundary);
    TEST_RUN(test_manual_accept);
    TEST_RUN(test_credit_zero);
    TEST_RUN(test_flow_frames);
    TEST_RUN(test_window_kept_open);
    return TEST_DONE();
}
