/* Session lifecycle (profile section 6): SES-1..6, SES-8, SES-9, RES-1,
 * RES-9's CONNECTED, FLOW-1's initial limits. Both sides driven in memory,
 * and hand-made frames. */
#include "test_session_pair.h"

static peer cl, br;

static void test_new_session_binary(void)
{
    mbws_conn_config cc, bc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cc.credit = 5;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.credit = 7;
    bc.session_expiry_s = 12;
    mbws_session *cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 100);

    ev *first = nth_ev(&cl, MBWS_ACT_SEND, 0);
    CHECK("SES-1", first && first->a.frame_type == MBWS_CONNECT);
    CHECK_EQ("SES-1", ev_int(first, MBWS_F_VERSION), 1);
    CHECK_EQ("SES-6", first ? first->a.is_text : 9, 0);
    CHECK("SES-1", !ev_has(first, MBWS_F_SESSION));
    ev *cd = nth_sent(&br, MBWS_CONNECTED, 0);
    CHECK("SES-3", cd != NULL && cd->decoded == 0);
    CHECK("RES-1", ev_has(cd, MBWS_F_SESSION));
    CHECK("RES-1", ev_int(cd, MBWS_F_SESSION_EXPIRY) == 12);
    CHECK_EQ("RES-1", ev_int(cd, MBWS_F_RESUMED), 0);
    CHECK_EQ("SES-3", ev_int(cd, MBWS_F_CREDIT), 7);
    CHECK_EQ("SES-6", cd ? cd->a.is_text : 9, 0);
    CHECK_EQ("SES-3", count_ev(&cl, MBWS_ACT_CONNECTED), 1);
    CHECK_EQ("SES-3", count_ev(&br, MBWS_ACT_CONNECTED), 1);
    CHECK_EQ("SES-3", mbws_conn_state(cl.c), MBWS_CS_OPEN);
    CHECK_EQ("SES-3", mbws_conn_state(br.c), MBWS_CS_OPEN);
    CHECK_EQ("RES-1", mbws_session_state(cs), MBWS_SS_ATTACHED);
    size_t l1, l2;
    const char *t1 = mbws_session_token(cs, &l1);
    const char *t2 = mbws_session_token(mbws_conn_session(br.c), &l2);
    CHECK_MEM("RES-1", t1, l1, t2, l2);
    CHECK("RES-1", l1 > 0);

    mbws_session_info ci, bi;
    mbws_session_get_info(cs, &ci);
    mbws_session_get_info(mbws_conn_session(br.c), &bi);
    CHECK_EQ("FLOW-1", ci.out_limit, 7);
    CHECK_EQ("FLOW-1", ci.in_limit, 5);
    CHECK_EQ("FLOW-1", bi.out_limit, 5);
    CHECK_EQ("FLOW-1", bi.in_limit, 7);
    CHECK_EQ("RES-1", ci.expiry_s, 12);
    CHECK_EQ("SES-8", mbws_conn_peer_max_frame(cl.c), 65536);
    CHECK_EQ("SES-2", mbws_conn_deadline(br.c), UINT64_MAX);
    pair_fini(&cl, &br);
    table_clear();
    mbws_session_free(cs);
}

static void test_text_encoding_rule(void)
{
    mbws_conn_config cc, bc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_TEXT);
    cfg_broker(&bc, MBWS_SP_MBWS);
    mbws_session *cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    CHECK_EQ("SES-6", mbws_conn_encoding(br.c), MBWS_ENC_TEXT);
    ev *cd = nth_sent(&br, MBWS_CONNECTED, 0);
    CHECK_EQ("SES-6", cd ? cd->a.is_text : 0, 1);

    /* A body that is not UTF-8 goes binary; UTF-8 ones stay text. */
    static const uint8_t bad[] = {0xff, 0xfe, 0x00, 0x41};
    mbws_msg m = {.address = "q", .address_len = 1, .body = bad, .body_len = sizeof(bad)};
    CHECK_EQ("SES-6", mbws_conn_publish(cl.c, &m, 1, 10, NULL), MBWS_CMD_OK);
    CHECK_EQ("SES-6", pub(&cl, "q", "hello", 2, 10), MBWS_CMD_OK);
    pump(&cl, &br, 10);
    ev *m1 = nth_sent(&cl, MBWS_MESSAGE, 0);
    ev *m2 = nth_sent(&cl, MBWS_MESSAGE, 1);
    CHECK_EQ("SES-6", m1 ? m1->a.is_text : 1, 0);
    CHECK_EQ("SES-6", m2 ? m2->a.is_text : 0, 1);
    ev *d1 = nth_ev(&br, MBWS_ACT_DELIVER, 0);
    CHECK("SES-6", d1 && d1->a.body.len == sizeof(bad) && memcmp(d1->a.body.ptr, bad, 4) == 0);
    CHECK_EQ("SES-6", count_ev(&br, MBWS_ACT_DELIVER), 2);
    /* The broker answers in the session encoding whatever it received. */
    ev *ack = nth_sent(&br, MBWS_ACK, 0);
    CHECK_EQ("SES-6", ack ? ack->a.is_text : 0, 1);
    /* The broker's MESSAGEs too: text for UTF-8, binary otherwise. */
    mbws_msg bm = {.address = "q", .address_len = 1, .body = bad, .body_len = 4, .sub = 1, .has_sub = 1};
    CHECK_EQ("SES-6", mbws_conn_publish(br.c, &bm, 9, 11, NULL), MBWS_CMD_OK);
    CHECK_EQ("SES-6", pub(&br, "q", "ok", 10, 11), MBWS_CMD_OK);
    pump(&cl, &br, 11);
    ev *b1 = nth_sent(&br, MBWS_MESSAGE, 0), *b2 = nth_sent(&br, MBWS_MESSAGE, 1);
    CHECK_EQ("SES-6", b1 ? b1->a.is_text : 1, 0);
    CHECK_EQ("SES-6", b2 ? b2->a.is_text : 0, 1);
    CHECK_EQ("SES-6", count_ev(&cl, MBWS_ACT_DELIVER), 2);

    /* Each peer accepts either encoding at any time: a binary FLOW. */
    mbws_frame fl = fr_int(MBWS_FLOW, MBWS_F_LIMIT, 100);
    feed(&cl, &fl, MBWS_ENC_BINARY, 12);
    mbws_session_info ci;
    mbws_session_get_info(cs, &ci);
    CHECK_EQ("SES-6", ci.out_limit, 100);
    CHECK_EQ("SES-6", count_ev(&cl, MBWS_ACT_CLOSE), 0);
    pair_fini(&cl, &br);
    table_clear();
    mbws_session_free(cs);
}

static void test_error_encoding_before_connect(void)
{
    mbws_conn_config bc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    for (int text = 0; text <= 1; text++) {
        peer_init(&br, "broker", &bc, NULL);
        mbws_conn_start(br.c, 0);
        mbws_frame m = fr_message(3, "q", "x", 0);
        feed(&br, &m, text ? MBWS_ENC_TEXT : MBWS_ENC_BINARY, 10);
        ev *e = nth_sent(&br, MBWS_ERROR, 0);
        CHECK_EQ("SES-5", ev_int(e, MBWS_F_CODE), 4);
        CHECK_EQ("SES-6", e ? e->a.is_text : 9, text);
        CHECK_EQ("ERR-1", ev_int(e, MBWS_F_SEQ), 3);
        CHECK_EQ("ERR-1", close_code(&br), 4004);
        peer_fini(&br);
    }
    table_clear();
}

static void test_connect_timeout(void)
{
    mbws_conn_config bc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.encoding = MBWS_ENC_TEXT; /* a broker's own setting must not matter */
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 1000);
    uint64_t d = mbws_conn_deadline(br.c);
    CHECK("SES-2", d >= 1000 + 5000 && d < 1000 + 6000);
    tick(&br, NULL, 5999);
    CHECK_EQ("SES-2", count_sent(&br, MBWS_ERROR), 0);
    tick(&br, NULL, d);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("SES-2", ev_int(e, MBWS_F_CODE), 14);
    CHECK_EQ("SES-6", e ? e->a.is_text : 9, 0);
    CHECK("ERR-1", !ev_has(e, MBWS_F_SEQ));
    CHECK_EQ("SES-2", close_code(&br), 4014);
    CHECK("ERR-1", ev_index(&br, e) < ev_index(&br, nth_ev(&br, MBWS_ACT_CLOSE, 0)));
    peer_fini(&br);
}

static void test_version(void)
{
    mbws_conn_config bc, cc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame f = fr_connect(4, 4096);
    mbws_frame_set_int(&f, MBWS_F_VERSION, 2);
    feed(&br, &f, MBWS_ENC_TEXT, 1);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("SES-3", ev_int(e, MBWS_F_CODE), 11);
    CHECK_EQ("SES-6", e ? e->a.is_text : 0, 1);
    CHECK_EQ("SES-3", close_code(&br), 4011);
    CHECK_EQ("SES-3", count_sent(&br, MBWS_CONNECTED), 0);
    CHECK_EQ("ERR-2", ntable, 0);
    peer_fini(&br);

    /* Client side: CONNECTED with version 2 is answered with ERROR 11. */
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    mbws_session *cs = mbws_session_new();
    peer_init(&cl, "client", &cc, cs);
    mbws_conn_start(cl.c, 0);
    pump(&cl, NULL, 0);
    mbws_frame cd;
    mbws_frame_init(&cd, MBWS_CONNECTED);
    mbws_frame_set_int(&cd, MBWS_F_VERSION, 2);
    mbws_frame_set_int(&cd, MBWS_F_CREDIT, 1);
    mbws_frame_set_int(&cd, MBWS_F_MAX_FRAME, 2048);
    mbws_frame_set_cstr(&cd, MBWS_F_SESSION, "abc");
    mbws_frame_set_int(&cd, MBWS_F_SESSION_EXPIRY, 5);
    mbws_frame_set_int(&cd, MBWS_F_RESUMED, 0);
    feed(&cl, &cd, MBWS_ENC_BINARY, 1);
    e = nth_sent(&cl, MBWS_ERROR, 0);
    CHECK_EQ("SES-3", ev_int(e, MBWS_F_CODE), 11);
    CHECK_EQ("SES-3", close_code(&cl), 4011);
    CHECK_EQ("ERR-2", mbws_session_state(cs), MBWS_SS_ENDED);
    peer_fini(&cl);
    mbws_session_free(cs);
}

/* SES-4: frames right behind CONNECT are handled after CONNECTED. */
static void test_frames_behind_connect(void)
{
    mbws_conn_config bc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame c = fr_connect(4, 4096), s, m = fr_message(1, "q", "a", 0);
    mbws_frame_init(&s, MBWS_SUBSCRIBE);
    mbws_frame_set_int(&s, MBWS_F_SUB, 5);
    mbws_frame_set_cstr(&s, MBWS_F_ADDRESS, "q");
    uint8_t b1[256], b2[256], b3[256];
    size_t n1 = mbws_encode(&c, MBWS_ENC_BINARY, b1, sizeof(b1));
    size_t n2 = mbws_encode(&s, MBWS_ENC_BINARY, b2, sizeof(b2));
    size_t n3 = mbws_encode(&m, MBWS_ENC_BINARY, b3, sizeof(b3));
    mbws_conn_recv(br.c, b1, n1, 0, 1);
    mbws_conn_recv(br.c, b2, n2, 0, 1);
    mbws_conn_recv(br.c, b3, n3, 0, 1);
    pump(&br, NULL, 1);
    long connected = ev_index(&br, nth_sent(&br, MBWS_CONNECTED, 0));
    long sub = ev_index(&br, nth_ev(&br, MBWS_ACT_SUBSCRIBE, 0));
    long del = ev_index(&br, nth_ev(&br, MBWS_ACT_DELIVER, 0));
    long ack = ev_index(&br, nth_sent(&br, MBWS_ACK, 0));
    CHECK("SES-4", connected >= 0 && sub > connected && del > sub && ack > del);
    CHECK_EQ("SES-4", count_sent(&br, MBWS_ERROR), 0);
    peer_fini(&br);
    table_clear();
}

static void test_order_errors(void)
{
    mbws_conn_config bc, cc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    mbws_session *cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    /* A second CONNECT. */
    mbws_frame c2 = fr_connect(4, 4096);
    br.link = 0;
    feed(&br, &c2, MBWS_ENC_BINARY, 1);
    CHECK_EQ("SES-5", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 4);
    CHECK("ERR-1", !ev_has(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_SEQ));
    CHECK_EQ("SES-5", close_code(&br), 4004);
    pair_fini(&cl, &br);
    table_clear();
    mbws_session_free(cs);

    /* Client: anything but CONNECTED / ERROR before CONNECTED; it also
     * sends nothing itself before CONNECTED (SES-4). */
    cs = mbws_session_new();
    peer_init(&cl, "client", &cc, cs);
    mbws_conn_start(cl.c, 0);
    CHECK_EQ("SES-4", pub(&cl, "q", "x", 1, 0), MBWS_CMD_STATE);
    CHECK_EQ("SES-4", mbws_conn_subscribe(cl.c, 1, "q", 1, 0), MBWS_CMD_STATE);
    pump(&cl, NULL, 0);
    CHECK_EQ("SES-4", count_ev(&cl, MBWS_ACT_SEND), 1);
    mbws_frame m = fr_message(1, "q", "x", 1);
    feed(&cl, &m, MBWS_ENC_BINARY, 1);
    ev *e = nth_sent(&cl, MBWS_ERROR, 0);
    CHECK_EQ("SES-5", ev_int(e, MBWS_F_CODE), 4);
    CHECK_EQ("ERR-1", ev_int(e, MBWS_F_SEQ), 1);
    CHECK_EQ("SES-5", count_ev(&cl, MBWS_ACT_DELIVER), 0);
    peer_fini(&cl);
    mbws_session_free(cs);

    /* Client: a CONNECTED after CONNECTED. */
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    cl.link = 0;
    ev *cd = nth_sent(&br, MBWS_CONNECTED, 0);
    feed_raw(&cl, cd->a.data, cd->a.len, 0, 2);
    CHECK_EQ("SES-5", ev_int(nth_sent(&cl, MBWS_ERROR, 0), MBWS_F_CODE), 4);
    pair_fini(&cl, &br);
    table_clear();
    mbws_session_free(cs);
}

static void test_max_frame(void)
{
    mbws_conn_config bc, cc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.max_frame = 1024;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    mbws_session *cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    /* SES-8: the client does not send a frame above the broker's 1024. */
    static char big[1100];
    memset(big, 'a', sizeof(big) - 1);
    CHECK_EQ("SES-8", pub(&cl, "q", big, 1, 1), MBWS_CMD_TOO_LARGE);
    big[1000] = 0;
    mbws_msg m = {.address = "q", .address_len = 1, .body = big, .body_len = 1000};
    CHECK_EQ("SES-8", mbws_conn_fits(cl.c, &m), 1);
    uint64_t seq = 0;
    CHECK_EQ("SES-8", mbws_conn_publish(cl.c, &m, 1, 1, &seq), MBWS_CMD_OK);
    CHECK_EQ("SEQ-1", seq, 1); /* the refused one used no seq */
    pump(&cl, &br, 1);
    CHECK_EQ("SES-8", count_ev(&br, MBWS_ACT_DELIVER), 1);
    CHECK_EQ("SES-9", count_sent(&br, MBWS_ERROR), 0);
    pair_fini(&cl, &br);
    table_clear();
    mbws_session_free(cs);

    /* A config below 1024 is refused. */
    cc.max_frame = 1023;
    cs = mbws_session_new();
    CHECK("SES-8", mbws_conn_new(&cc, cs, NULL) == NULL);
    mbws_session_free(cs);
}

static void test_too_large(void)
{
    mbws_conn_config bc;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.max_frame = 1024;
    /* The broker applies its own max-frame to CONNECT. */
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame c = fr_connect(4, 4096);
    static char name[1100];
    memset(name, 'n', sizeof(name) - 1);
    mbws_frame_set_cstr(&c, MBWS_F_NAME, name);
    feed(&br, &c, MBWS_ENC_TEXT, 1);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("SES-9", ev_int(e, MBWS_F_CODE), 3);
    CHECK_EQ("SES-6", e ? e->a.is_text : 0, 1);
    CHECK_EQ("SES-9", close_code(&br), 4003);
    peer_fini(&br);

    /* Announced size: refused before the message is complete. */
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    CHECK_EQ("SES-9", mbws_conn_check_size(br.c, 1024, 0, 1), 0);
    pump(&br, NULL, 1);
    CHECK_EQ("SES-9", count_ev(&br, MBWS_ACT_SEND), 0);
    CHECK_EQ("SES-9", mbws_conn_check_size(br.c, 1u << 30, 0, 1), 1);
    pump(&br, NULL, 1);
    CHECK_EQ("SES-9", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 3);
    CHECK_EQ("SES-6", nth_sent(&br, MBWS_ERROR, 0) ? nth_sent(&br, MBWS_ERROR, 0)->a.is_text : 1, 0);
    CHECK_EQ("SES-9", close_code(&br), 4003);
    /* Once failed, the conn ignores the rest (ERR-1). */
    CHECK_EQ("ERR-1", mbws_conn_check_size(br.c, 10, 0, 2), 1);
    peer_fini(&br);
}

static void test_mblws_connected(void)
{
    mbws_conn_config bc, cc;
    cfg_broker(&bc, MBWS_SP_MBLWS);
    bc.new_token = NULL; /* not needed without sessions */
    cfg_client(&cc, MBWS_SP_MBLWS, MBWS_ENC_BINARY);
    mbws_session *cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    ev *cd = nth_sent(&br, MBWS_CONNECTED, 0);
    CHECK("RES-9", cd && !ev_has(cd, MBWS_F_SESSION) && !ev_has(cd, MBWS_F_RESUMED) &&
                       !ev_has(cd, MBWS_F_SESSION_EXPIRY));
    CHECK_EQ("RES-9", mbws_conn_state(cl.c), MBWS_CS_OPEN);
    /* The session ends with its connection, however it ends. */
    cl.auto_close = br.auto_close = 0;
    mbws_conn_closed(cl.c, 1006, 5);
    mbws_conn_closed(br.c, 1006, 5);
    pump(&cl, &br, 5);
    CHECK_EQ("RES-9", count_ev(&cl, MBWS_ACT_DETACHED), 0);
    ev *end = nth_ev(&cl, MBWS_ACT_SESSION_END, 0);
    CHECK("RES-9", end && end->a.end_reason == MBWS_END_CLOSED);
    CHECK_EQ("RES-9", count_ev(&br, MBWS_ACT_SESSION_END), 1);
    CHECK_EQ("RES-9", mbws_session_state(cs), MBWS_SS_ENDED);
    pair_fini(&cl, &br);
    table_clear();
    mbws_session_free(cs);
}

int main(void)
{
    TEST_RUN(test_new_session_binary);
    TEST_RUN(test_text_encoding_rule);
    TEST_RUN(test_error_encoding_before_connect);
    TEST_RUN(test_connect_timeout);
    TEST_RUN(test_version);
    TEST_RUN(test_frames_behind_connect);
    TEST_RUN(test_order_errors);
    TEST_RUN(test_max_frame);
    TEST_RUN(test_too_large);
    TEST_RUN(test_mblws_connected);
    return TEST_DONE();
}
