/* The DISCONNECT exchange (SES-7, WS-7's 1000), from either side,
 * crossing, with its timers and what happens to the session. */
#include "test_session_pair.h"

static peer cl, br, cl2, br2;
static mbws_session *cs;
static mbws_conn_config cc, bc;

static void setup(uint32_t client_ack_delay, uint32_t broker_ack_delay)
{
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cc.ack_delay_ms = client_ack_delay;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.ack_delay_ms = broker_ack_delay;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
}

static void teardown(void)
{
    free_all(&cl, &br, &cl2, &br2, cs);
}

static long idx_sent(peer *p, uint8_t type)
{
    return ev_index(p, nth_sent(p, type, 0));
}

static void test_client_initiates(void)
{
    setup(300, 300);
    pub(&br, "q", "b1", 1, 10);  /* the client's ACK for it is pending */
    pub(&cl, "q", "c1", 2, 10);  /* the broker's ACK for it is pending */
    pump(&cl, &br, 10);
    CHECK_EQ("ACK-2", count_sent(&cl, MBWS_ACK) + count_sent(&br, MBWS_ACK), 0);
    CHECK_EQ("SES-7", mbws_conn_disconnect(cl.c, 20), MBWS_CMD_OK);
    pump(&cl, &br, 20);
    /* Initiator: what it owed goes out before its DISCONNECT. */
    CHECK("ACK-2", idx_sent(&cl, MBWS_ACK) >= 0 && idx_sent(&cl, MBWS_ACK) < idx_sent(&cl, MBWS_DISCONNECT));
    /* Receiver: ACK covering everything, then the reply. */
    ev *ack = nth_sent(&br, MBWS_ACK, 0);
    CHECK_EQ("SES-7", ev_int(ack, MBWS_F_SEQ), 1);
    CHECK("SES-7", ev_index(&br, ack) < idx_sent(&br, MBWS_DISCONNECT));
    CHECK_EQ("SES-7", count_sent(&br, MBWS_DISCONNECT), 1);
    CHECK_EQ("SES-7", count_sent(&cl, MBWS_DISCONNECT), 1);
    /* Everything the broker sent is acknowledged: it closes with 1000. */
    CHECK_EQ("WS-7", close_code(&br), 1000);
    CHECK("SES-7", idx_sent(&br, MBWS_DISCONNECT) < ev_index(&br, nth_ev(&br, MBWS_ACT_CLOSE, 0)));
    ev *e1 = nth_ev(&cl, MBWS_ACT_SESSION_END, 0), *e2 = nth_ev(&br, MBWS_ACT_SESSION_END, 0);
    CHECK("SES-7", e1 && e1->a.end_reason == MBWS_END_DISCONNECT);
    CHECK("SES-7", e2 && e2->a.end_reason == MBWS_END_DISCONNECT);
    CHECK_EQ("SES-7", count_ev(&cl, MBWS_ACT_DETACHED) + count_ev(&br, MBWS_ACT_DETACHED), 0);
    CHECK_EQ("SES-7", ntable, 0);
    teardown();
}

static void test_broker_initiates(void)
{
    setup(300, 0);
    pub(&br, "q", "b1", 1, 10);
    pump(&cl, &br, 10);
    CHECK_EQ("ACK-2", count_sent(&cl, MBWS_ACK), 0);
    mbws_conn_disconnect(br.c, 20);
    pump(&cl, &br, 20);
    ev *ack = nth_sent(&cl, MBWS_ACK, 0);
    CHECK_EQ("SES-7", ev_int(ack, MBWS_F_SEQ), 1);
    CHECK("SES-7", ev_index(&cl, ack) < idx_sent(&cl, MBWS_DISCONNECT));
    CHECK_EQ("SES-7", close_code(&br), 1000);
    CHECK_EQ("SES-7", mbws_conn_state(cl.c), MBWS_CS_CLOSED);
    ev *end = nth_ev(&cl, MBWS_ACT_SESSION_END, 0);
    CHECK("SES-7", end && end->a.end_reason == MBWS_END_DISCONNECT);
    CHECK_EQ("BRK-4", br.nreturned, 0);
    teardown();
}

static void test_after_exchange(void)
{
    /* The broker waits for the ACK of what it sent; only ACKs count. */
    setup(0, 0);
    cl.link = 0; /* the client's frames are hand-made */
    pub(&br, "q", "b1", 1, 10);
    pub(&br, "q", "b2", 2, 10);
    pump(&cl, &br, 10);
    mbws_conn_disconnect(br.c, 20);
    pump(&cl, &br, 20);
    br.link = 0;
    mbws_frame d;
    mbws_frame_init(&d, MBWS_DISCONNECT);
    feed(&br, &d, MBWS_ENC_BINARY, 30);
    CHECK_EQ("SES-7", mbws_conn_state(br.c), MBWS_CS_DISC_DONE);
    CHECK_EQ("SES-7", count_sent(&br, MBWS_DISCONNECT), 1);
    CHECK_EQ("SES-7", mbws_conn_deadline(br.c), 30 + 2000);
    int sends = count_ev(&br, MBWS_ACT_SEND);
    mbws_frame m = fr_message(1, "q", "late", 0), f = fr_int(MBWS_FLOW, MBWS_F_LIMIT, 0),
               bad = fr_int(MBWS_ACK, MBWS_F_SEQ, 9), a1 = fr_int(MBWS_ACK, MBWS_F_SEQ, 1),
               a2 = fr_int(MBWS_ACK, MBWS_F_SEQ, 2);
    feed(&br, &m, MBWS_ENC_BINARY, 31);
    feed(&br, &f, MBWS_ENC_BINARY, 31);  /* would be code 8 */
    feed(&br, &bad, MBWS_ENC_BINARY, 31); /* would be code 6 */
    feed_raw(&br, "\x01\x02", 2, 0, 31);  /* would be malformed */
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_SEND), sends);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_DELIVER), 0);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_CLOSE), 0);
    feed(&br, &a1, MBWS_ENC_TEXT, 32);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_ACKED), 1);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_CLOSE), 0);
    feed(&br, &a2, MBWS_ENC_BINARY, 33);
    CHECK_EQ("SES-7", close_code(&br), 1000);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_SEND), sends);
    teardown();

    /* No ACK: the broker closes 2000 ms after the exchange, no earlier. */
    setup(0, 0);
    cl.link = 0;
    pub(&br, "q", "b1", 11, 10);
    pump(&cl, &br, 10);
    mbws_conn_disconnect(br.c, 20);
    pump(&cl, &br, 20);
    br.link = 0;
    feed(&br, &d, MBWS_ENC_BINARY, 100);
    tick(&br, NULL, 2099);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_CLOSE), 0);
    tick(&br, NULL, 2100);
    CHECK_EQ("SES-7", close_code(&br), 1000);
    /* SES-7 / BRK-4: the session ends at the close, b1 goes back. */
    CHECK_EQ("BRK-4", br.nreturned, 1);
    CHECK_EQ("BRK-4", br.returned[0], 11);
    teardown();
}

static void test_no_reply(void)
{
    setup(0, 0);
    cl.link = 0;
    mbws_conn_disconnect(br.c, 50);
    pump(&cl, &br, 50);
    CHECK_EQ("SES-7", mbws_conn_state(br.c), MBWS_CS_DISC_SENT);
    CHECK_EQ("SES-7", mbws_conn_deadline(br.c), 50 + 2000);
    tick(&br, &cl, 2049);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_CLOSE), 0);
    tick(&br, &cl, 2050);
    CHECK_EQ("WS-7", close_code(&br), 1000);
    teardown();

    /* Client after the exchange: broker does not close within 2000 ms. */
    setup(0, 0);
    br.link = 0;
    mbws_conn_disconnect(cl.c, 50);
    pump(&cl, &br, 50);
    mbws_frame d;
    mbws_frame_init(&d, MBWS_DISCONNECT);
    cl.link = 0;
    feed(&cl, &d, MBWS_ENC_BINARY, 60);
    CHECK_EQ("SES-7", mbws_conn_state(cl.c), MBWS_CS_DISC_DONE);
    CHECK_EQ("SES-7", count_ev(&cl, MBWS_ACT_CLOSE), 0);
    tick(&cl, NULL, 2059);
    CHECK_EQ("SES-7", count_ev(&cl, MBWS_ACT_CLOSE), 0);
    tick(&cl, NULL, 2060);
    CHECK_EQ("SES-7", close_code(&cl), 1000);
    teardown();
}

static void test_crossing(void)
{
    setup(0, 0);
    cl.link = br.link = 0;
    pub(&br, "q", "b1", 1, 10); /* crosses the client's DISCONNECT */
    pump(&cl, &br, 10);
    ev *b1 = nth_sent(&br, MBWS_MESSAGE, 0);
    CHECK_EQ("SES-7", mbws_conn_disconnect(cl.c, 11), MBWS_CMD_OK);
    CHECK_EQ("SES-7", mbws_conn_disconnect(br.c, 11), MBWS_CMD_OK);
    pump(&cl, &br, 11);
    /* The initiator sends no MESSAGE, FLOW, SUBSCRIBE or UNSUBSCRIBE. */
    CHECK_EQ("SES-7", pub(&cl, "q", "no", 2, 11), MBWS_CMD_STATE);
    CHECK_EQ("SES-7", mbws_conn_subscribe(cl.c, 1, "q", 1, 11), MBWS_CMD_STATE);
    CHECK_EQ("SES-7", mbws_conn_grant(cl.c, 100, 11), MBWS_CMD_STATE);
    int flows = count_sent(&cl, MBWS_FLOW);
    /* b1 reaches the client after its DISCONNECT: accepted and ACKed. */
    feed_raw(&cl, b1->a.data, b1->a.len, b1->a.is_text, 12);
    CHECK_EQ("SES-7", count_ev(&cl, MBWS_ACT_DELIVER), 1);
    CHECK_EQ("SES-7", ev_int(last_sent(&cl, MBWS_ACK), MBWS_F_SEQ), 1);
    CHECK_EQ("SES-7", count_sent(&cl, MBWS_FLOW), flows);
    /* Each DISCONNECT is the other's reply. */
    ev *dc = nth_sent(&cl, MBWS_DISCONNECT, 0), *db = nth_sent(&br, MBWS_DISCONNECT, 0);
    feed_raw(&cl, db->a.data, db->a.len, 0, 13);
    feed_raw(&br, dc->a.data, dc->a.len, 0, 13);
    CHECK_EQ("SES-7", count_sent(&cl, MBWS_DISCONNECT), 1);
    CHECK_EQ("SES-7", count_sent(&br, MBWS_DISCONNECT), 1);
    CHECK_EQ("SES-7", mbws_conn_state(cl.c), MBWS_CS_DISC_DONE);
    CHECK_EQ("SES-7", mbws_conn_state(br.c), MBWS_CS_DISC_DONE);
    /* The client's ACK arrives: the broker closes with 1000. */
    ev *ack = last_sent(&cl, MBWS_ACK);
    feed_raw(&br, ack->a.data, ack->a.len, 0, 14);
    CHECK_EQ("SES-7", close_code(&br), 1000);
    CHECK_EQ("ERR-1", count_sent(&cl, MBWS_ERROR) + count_sent(&br, MBWS_ERROR), 0);
    teardown();
}

static void test_violation_during_exchange(void)
{
    setup(0, 0);
    mbws_conn_disconnect(br.c, 10);
    br.link = 0;
    cl.link = 0;
    pump(&cl, &br, 10);
    mbws_frame f = fr_int(MBWS_FLOW, MBWS_F_LIMIT, 0);
    feed(&br, &f, MBWS_ENC_BINARY, 11);
    CHECK_EQ("SES-7", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 8);
    CHECK_EQ("SES-7", close_code(&br), 4008);
    teardown();
}

static void test_no_resume_after_disconnect(void)
{
    /* A session in a DISCONNECT exchange cannot be resumed (RES-6). */
    setup(0, 0);
    cl.link = 0;
    pub(&br, "q", "b1", 1, 10); /* stays unacked: the exchange waits */
    pump(&cl, &br, 10);
    br.link = 0;
    mbws_frame d;
    mbws_frame_init(&d, MBWS_DISCONNECT);
    feed(&br, &d, MBWS_ENC_BINARY, 11);
    CHECK_EQ("SES-7", mbws_conn_state(br.c), MBWS_CS_DISC_DONE);
    CHECK_EQ("SES-7", ntable, 1);
    peer_init(&br2, "broker", &bc, NULL);
    mbws_conn_start(br2.c, 12);
    size_t tl;
    const char *tok = mbws_session_token(table[0], &tl);
    mbws_frame c = fr_connect(4, 65536);
    mbws_frame_set_str(&c, MBWS_F_SESSION, tok, tl);
    mbws_frame_set_int(&c, MBWS_F_LAST_SEQ, 0);
    feed(&br2, &c, MBWS_ENC_BINARY, 12);
    CHECK_EQ("RES-6", ev_int(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_CODE), 12);
    CHECK_EQ("RES-6", count_ev(&br2, MBWS_ACT_TAKEOVER), 0);
    /* Lost before the close: the session ends all the same. */
    br.closed = 1;
    mbws_conn_closed(br.c, 1006, 13);
    pump(&br, NULL, 13);
    CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_DETACHED), 0);
    ev *end = nth_ev(&br, MBWS_ACT_SESSION_END, 0);
    CHECK("SES-7", end && end->a.end_reason == MBWS_END_DISCONNECT);
    CHECK_EQ("BRK-4", br.nreturned, 1);
    teardown();

    /* Client side: DISCONNECT sent, connection lost: no resume. */
    setup(0, 0);
    br.link = 0;
    mbws_conn_disconnect(cl.c, 10);
    pump(&cl, &br, 10);
    cl.closed = 1;
    mbws_conn_closed(cl.c, 1006, 11);
    pump(&cl, NULL, 11);
    CHECK_EQ("SES-7", mbws_session_state(cs), MBWS_SS_ENDED);
    CHECK("SES-7", mbws_conn_new(&cc, cs, NULL) == NULL);
    teardown();
}

int main(void)
{
    TEST_RUN(test_client_initiates);
    TEST_RUN(test_broker_initiates);
    TEST_RUN(test_after_exchange);
    TEST_RUN(test_no_reply);
    TEST_RUN(test_crossing);
    TEST_RUN(test_violation_during_exchange);
    TEST_RUN(test_no_resume_after_disconnect);
    return TEST_DONE();
}
