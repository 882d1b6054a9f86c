/* Errors (profile section 11): ERR-1..4, WS-6, WS-7, from both sides. */
#include "test_session_pair.h"

static peer cl, br, br2;
static mbws_session *cs;
static mbws_conn_config cc, bc;

static void setup(uint32_t client_ack_delay)
{
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cc.ack_delay_ms = client_ack_delay;
    cfg_broker(&bc, MBWS_SP_MBWS);
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
}

static void teardown(void)
{
    peer_fini(&cl);
    peer_fini(&br);
    peer_fini(&br2);
    table_clear();
    mbws_session_free(cs);
}

static void test_error_then_silence(void)
{
    /* ERR-1: ERROR, close 4000+code at once, nothing acted on later. */
    setup(0);
    br.link = 0;
    mbws_frame gap = fr_message(3, "q", "x", 0);
    feed(&br, &gap, MBWS_ENC_BINARY, 5);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("ERR-1", ev_int(e, MBWS_F_CODE), 5);
    CHECK("ERR-1", ev_has(e, MBWS_F_TEXT));
    ev *c = nth_ev(&br, MBWS_ACT_CLOSE, 0);
    CHECK("ERR-1", c && ev_index(&br, c) > ev_index(&br, e));
    CHECK_EQ("WS-7", c ? c->a.close_code : 0, 4005);
    ev *info = nth_ev(&br, MBWS_ACT_ERROR, 0);
    CHECK("ERR-1", info && info->a.error_sent && info->a.error_code == 5);
    size_t n = br.n;
    mbws_frame m1 = fr_message(1, "q", "x", 0);
    feed(&br, &m1, MBWS_ENC_BINARY, 6);
    mbws_conn_tick(br.c, 100000);
    pump(&br, NULL, 100000);
    CHECK_EQ("ERR-1", br.n, n);
    CHECK_EQ("ERR-1", mbws_conn_check_size(br.c, 5, 0, 7), 1);
    /* ERR-2: the session ended; its token is gone. */
    ev *end = nth_ev(&br, MBWS_ACT_SESSION_END, 0);
    CHECK("ERR-2", end && end->a.end_reason == MBWS_END_ERROR);
    CHECK_EQ("ERR-2", ntable, 0);
    teardown();
}

static void test_error_received(void)
{
    /* ERR-3: after ERROR nothing is sent (not even a due ACK); close 1002
     * after 2000 ms if the sender has not closed. */
    setup(300);
    cl.auto_close = 0;
    br.link = 0;
    cl.link = 0;
    mbws_frame m1 = fr_message(1, "q", "x", 1);
    feed(&cl, &m1, MBWS_ENC_BINARY, 10);
    CHECK_EQ("ACK-2", count_sent(&cl, MBWS_ACK), 0);
    mbws_frame err = fr_int(MBWS_ERROR, MBWS_F_CODE, 7);
    mbws_frame_set_cstr(&err, MBWS_F_TEXT, "credit");
    feed(&cl, &err, MBWS_ENC_TEXT, 20);
    ev *info = nth_ev(&cl, MBWS_ACT_ERROR, 0);
    CHECK("ERR-3", info && !info->a.error_sent && info->a.error_code == 7 && info->a.text.len == 6);
    CHECK_EQ("ERR-3", mbws_conn_state(cl.c), MBWS_CS_ERROR_RECEIVED);
    CHECK_EQ("ERR-3", mbws_conn_deadline(cl.c), 20 + 2000);
    mbws_frame m2 = fr_message(1, "q", "x", 1);
    feed(&cl, &m2, MBWS_ENC_BINARY, 21); /* a duplicate: no re-ACK now */
    feed(&cl, &err, MBWS_ENC_BINARY, 22); /* no ERROR for the ERROR */
    CHECK_EQ("ERR-3", mbws_conn_disconnect(cl.c, 23), MBWS_CMD_STATE);
    CHECK_EQ("ERR-3", pub(&cl, "q", "x", 1, 23), MBWS_CMD_STATE);
    tick(&cl, NULL, 2019);
    CHECK_EQ("ERR-3", count_ev(&cl, MBWS_ACT_CLOSE), 0);
    tick(&cl, NULL, 2020);
    CHECK_EQ("ERR-3", close_code(&cl), 1002);
    CHECK_EQ("ERR-3", count_ev(&cl, MBWS_ACT_SEND), 1); /* its CONNECT only */
    ev *end = nth_ev(&cl, MBWS_ACT_SESSION_END, 0);
    CHECK("ERR-2", end && end->a.end_reason == MBWS_END_ERROR);
    teardown();

    /* The sender closes first: no 1002, the session still ends. */
    setup(0);
    cl.link = br.link = 0;
    feed(&cl, &err, MBWS_ENC_BINARY, 5);
    cl.closed = 1;
    mbws_conn_closed(cl.c, 4007, 6);
    mbws_conn_tick(cl.c, 5000);
    pump(&cl, NULL, 5000);
    CHECK_EQ("ERR-3", count_ev(&cl, MBWS_ACT_CLOSE), 0);
    CHECK_EQ("ERR-2", mbws_session_state(cs), MBWS_SS_ENDED);
    teardown();

    /* A broker getting ERROR before CONNECT does not answer it either. */
    cfg_broker(&bc, MBWS_SP_MBWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    feed(&br, &err, MBWS_ENC_BINARY, 1);
    tick(&br, NULL, 2000);
    CHECK_EQ("ERR-3", count_sent(&br, MBWS_ERROR), 0);
    CHECK_EQ("ERR-3", count_ev(&br, MBWS_ACT_CLOSE), 0);
    tick(&br, NULL, 2001);
    CHECK_EQ("ERR-3", close_code(&br), 1002);
    CHECK_EQ("SES-2", count_sent(&br, MBWS_ERROR), 0); /* no connect-timeout either */
    peer_fini(&br);
}

static void test_undecodable_error(void)
{
    /* ERR-3: an ERROR frame that does not decode is not an ERROR. */
    setup(0);
    cl.link = br.link = 0;
    mbws_frame bad;
    mbws_frame_init(&bad, MBWS_ERROR); /* code missing (FLD-1) */
    mbws_frame_set_cstr(&bad, MBWS_F_TEXT, "x");
    feed(&cl, &bad, MBWS_ENC_BINARY, 5);
    CHECK_EQ("ERR-3", ev_int(nth_sent(&cl, MBWS_ERROR, 0), MBWS_F_CODE), 1);
    CHECK_EQ("ERR-3", close_code(&cl), 4001);
    teardown();
}

static void test_order_of_codes(void)
{
    /* ERR-4 step 9: a gap beats the limit (5 before 7). */
    setup(0);
    mbws_conn_hold_window(br.c, 1, 0);
    br.link = 0;
    mbws_frame m = fr_message(100, "q", "x", 0);
    feed(&br, &m, MBWS_ENC_BINARY, 1);
    CHECK_EQ("ERR-4", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 5);
    teardown();

    /* Version (11) before resume (13, 12); 13 before 12. */
    cfg_broker(&bc, MBWS_SP_MBLWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame c = fr_connect(4, 4096);
    mbws_frame_set_int(&c, MBWS_F_VERSION, 3);
    mbws_frame_set_cstr(&c, MBWS_F_SESSION, "nosuch");
    mbws_frame_set_int(&c, MBWS_F_LAST_SEQ, 0);
    feed(&br, &c, MBWS_ENC_BINARY, 1);
    CHECK_EQ("ERR-4", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 11);
    peer_fini(&br);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame_set_int(&c, MBWS_F_VERSION, 1);
    feed(&br, &c, MBWS_ENC_BINARY, 1);
    CHECK_EQ("ERR-4", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 13);
    peer_fini(&br);

    /* Steps 1-8 come from the codec: unknown type (2), no seq, in the
     * frame's encoding before CONNECT. */
    cfg_broker(&bc, MBWS_SP_MBWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    feed_raw(&br, "\x20\x00\x00\x00", 4, 0, 1);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("ERR-4", ev_int(e, MBWS_F_CODE), 2);
    CHECK("ERR-1", !ev_has(e, MBWS_F_SEQ));
    CHECK_EQ("ERR-4", close_code(&br), 4002);
    peer_fini(&br);
    /* Direction (8) before session order (9): CONNECTED to a broker. */
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame cd;
    mbws_frame_init(&cd, MBWS_CONNECTED);
    mbws_frame_set_int(&cd, MBWS_F_VERSION, 1);
    mbws_frame_set_int(&cd, MBWS_F_CREDIT, 1);
    mbws_frame_set_int(&cd, MBWS_F_MAX_FRAME, 2048);
    mbws_frame_set_cstr(&cd, MBWS_F_SESSION, "abc");
    mbws_frame_set_int(&cd, MBWS_F_SESSION_EXPIRY, 5);
    mbws_frame_set_int(&cd, MBWS_F_RESUMED, 0);
    feed(&br, &cd, MBWS_ENC_TEXT, 1);
    e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("FLD-5", ev_int(e, MBWS_F_CODE), 4);
    CHECK_EQ("SES-6", e ? e->a.is_text : 0, 1);
    peer_fini(&br);
    /* Address (9) on a MESSAGE carries its seq. */
    setup(0);
    br.link = 0;
    mbws_frame m9 = fr_message(1, "a\tb", "x", 0);
    feed(&br, &m9, MBWS_ENC_BINARY, 1);
    e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("FLD-7", ev_int(e, MBWS_F_CODE), 9);
    CHECK_EQ("ERR-1", ev_int(e, MBWS_F_SEQ), 1);
    teardown();
}

static void test_ws6(void)
{
    /* WS-6 on the client: close 1007, no ERROR frame. */
    setup(0);
    cl.link = 0;
    static const uint8_t bad[] = {'F', 'L', 'O', 'W', '\n', 'l', 'i', 'm', 'i', 't', ':', 0xc0,
                                  0x80, '\n', '\n'};
    feed_raw(&cl, bad, sizeof(bad), 1, 1);
    CHECK_EQ("WS-6", close_code(&cl), 1007);
    CHECK_EQ("WS-6", count_sent(&cl, MBWS_ERROR), 0);
    /* The same octets as a binary frame are just malformed MBWS. */
    teardown();
    setup(0);
    cl.link = 0;
    feed_raw(&cl, bad, sizeof(bad), 0, 1);
    CHECK_EQ("ERR-4", count_sent(&cl, MBWS_ERROR), 1);
    CHECK("WS-6", close_code(&cl) != 1007);
    teardown();
}

static void test_subscriptions(void)
{
    /* Code 10: SUBSCRIBE an active id, UNSUBSCRIBE an unknown one. */
    setup(0);
    CHECK_EQ("BRK-2", mbws_conn_subscribe(cl.c, 1, "q", 1, 1), MBWS_CMD_OK);
    CHECK_EQ("BRK-2", mbws_conn_subscribe(cl.c, 1, "r", 1, 1), MBWS_CMD_SUB); /* never sent */
    CHECK_EQ("BRK-5", mbws_conn_unsubscribe(cl.c, 2, 1), MBWS_CMD_SUB);
    pump(&cl, &br, 1);
    ev *s = nth_ev(&br, MBWS_ACT_SUBSCRIBE, 0);
    CHECK("BRK-2", s && s->a.sub == 1 && s->a.address.len == 1 && s->a.address.ptr[0] == 'q');
    CHECK_EQ("BRK-5", mbws_conn_unsubscribe(cl.c, 1, 2), MBWS_CMD_OK);
    pump(&cl, &br, 2);
    CHECK_EQ("BRK-5", count_ev(&br, MBWS_ACT_UNSUBSCRIBE), 1);
    CHECK_EQ("BRK-5", mbws_conn_subscribe(cl.c, 1, "r", 1, 3), MBWS_CMD_OK);
    pump(&cl, &br, 3);
    CHECK_EQ("BRK-5", count_ev(&br, MBWS_ACT_SUBSCRIBE), 2);
    br.link = 0;
    mbws_frame u = fr_int(MBWS_UNSUBSCRIBE, MBWS_F_SUB, 9);
    feed(&br, &u, MBWS_ENC_BINARY, 4);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("BRK-5", ev_int(e, MBWS_F_CODE), 10);
    CHECK("ERR-1", !ev_has(e, MBWS_F_SEQ));
    CHECK_EQ("BRK-5", close_code(&br), 4010);
    teardown();
}

int main(void)
{
    TEST_RUN(test_error_then_silence);
    TEST_RUN(test_error_received);
    TEST_RUN(test_undecodable_error);
    TEST_RUN(test_order_of_codes);
    TEST_RUN(test_ws6);
    TEST_RUN(test_subscriptions);
    return TEST_DONE();
}
