/* Session continuation (profile section 9): RES-2..9 from both sides:
 * resume with retransmission both ways, limits, takeover, refusals. */
#include "test_session_pair.h"

static peer cl, br, cl2, br2;
static mbws_session *cs;
static mbws_conn_config cc, bc;

static void setup(enum mbws_encoding enc)
{
    cfg_client(&cc, MBWS_SP_MBWS, enc);
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.session_expiry_s = 10;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
}

static void resume_pair(uint64_t now)
{
    pair_start(&cl2, &br2, &cc, &bc, cs, now);
}

static void teardown(void)
{
    free_all(&cl, &br, &cl2, &br2, cs);
}

static mbws_session *broker_session(void)
{
    return ntable ? table[0] : NULL;
}

static void test_resume_both_ways(void)
{
    setup(MBWS_ENC_BINARY);
    /* c1 arrives but its ACK is lost; c2, b1, b2 are lost. */
    br.link = 0;
    pub(&cl, "q", "c1", 101, 1);
    pump(&cl, &br, 1);
    cl.link = 0;
    pub(&cl, "q", "c2", 102, 2);
    pub(&br, "q", "b1", 201, 2);
    pub(&br, "q", "b2", 202, 2);
    pump(&cl, &br, 2);
    CHECK_EQ("RES-4", count_ev(&br, MBWS_ACT_DELIVER), 1);
    CHECK_EQ("RES-4", count_ev(&cl, MBWS_ACT_DELIVER), 0);
    pair_lose(&cl, &br, 3);
    CHECK_EQ("RES-2", count_ev(&cl, MBWS_ACT_DETACHED), 1);
    CHECK_EQ("RES-2", count_ev(&br, MBWS_ACT_DETACHED), 1);
    CHECK_EQ("RES-2", mbws_session_state(cs), MBWS_SS_DETACHED);
    mbws_session *bs = broker_session();
    CHECK("RES-2", bs && mbws_session_state(bs) == MBWS_SS_DETACHED);
    CHECK_EQ("RES-2", mbws_session_expires_at(bs), 3 + 10000);
    CHECK_EQ("ACK-5", mbws_session_unacked_count(bs), 2);

    resume_pair(500);
    ev *c = nth_sent(&cl2, MBWS_CONNECT, 0);
    size_t tl;
    const char *tok = mbws_session_token(cs, &tl);
    CHECK("RES-3", ev_has(c, MBWS_F_SESSION) && c->f.str[MBWS_F_SESSION].len == tl &&
                       memcmp(c->f.str[MBWS_F_SESSION].ptr, tok, tl) == 0);
    CHECK_EQ("RES-3", ev_int(c, MBWS_F_LAST_SEQ), 0);
    ev *cd = nth_sent(&br2, MBWS_CONNECTED, 0);
    CHECK_EQ("RES-3", ev_int(cd, MBWS_F_RESUMED), 1);
    CHECK_EQ("RES-3", ev_int(cd, MBWS_F_LAST_SEQ), 1);
    CHECK("RES-3", ev_has(cd, MBWS_F_SESSION) && cd->f.str[MBWS_F_SESSION].len == tl);
    CHECK_EQ("RES-7", count_ev(&br2, MBWS_ACT_TAKEOVER), 0);
    CHECK("RES-3", nth_ev(&cl2, MBWS_ACT_CONNECTED, 0) && nth_ev(&cl2, MBWS_ACT_CONNECTED, 0)->a.resumed);
    /* RES-4: c1 counts as acknowledged, c2 resent with its seq. */
    ev *ak = nth_ev(&cl2, MBWS_ACT_ACKED, 0);
    CHECK("RES-4", ak && ak->a.tag == 101 && ak->a.seq == 1);
    CHECK_EQ("RES-4", count_sent(&cl2, MBWS_MESSAGE), 1);
    CHECK_EQ("RES-4", ev_int(nth_sent(&cl2, MBWS_MESSAGE, 0), MBWS_F_SEQ), 2);
    CHECK("RES-4", ev_index(&cl2, nth_sent(&cl2, MBWS_MESSAGE, 0)) > ev_index(&cl2, nth_sent(&cl2, MBWS_CONNECT, 0)));
    /* Broker: b1, b2 resent in order with their seq, after CONNECTED. */
    ev *r1 = nth_sent(&br2, MBWS_MESSAGE, 0), *r2 = nth_sent(&br2, MBWS_MESSAGE, 1);
    CHECK_EQ("RES-4", ev_int(r1, MBWS_F_SEQ), 1);
    CHECK_EQ("RES-4", ev_int(r2, MBWS_F_SEQ), 2);
    CHECK("RES-4", ev_index(&br2, r1) > ev_index(&br2, cd));
    CHECK("RES-4", r2 && r2->f.body.len == 2 && memcmp(r2->f.body.ptr, "b2", 2) == 0);
    /* RES-8: nothing delivered twice; everything acknowledged. */
    CHECK_EQ("RES-8", count_ev(&br, MBWS_ACT_DELIVER) + count_ev(&br2, MBWS_ACT_DELIVER), 2);
    CHECK_EQ("RES-8", count_ev(&cl2, MBWS_ACT_DELIVER), 2);
    CHECK_EQ("RES-4", mbws_session_unacked_count(cs), 0);
    CHECK_EQ("RES-4", mbws_session_unacked_count(bs), 0);
    /* SEQ-1: numbering continues. */
    uint64_t seq = 0;
    mbws_msg m = {.address = "q", .address_len = 1, .body = "c3", .body_len = 2};
    mbws_conn_publish(cl2.c, &m, 103, 600, &seq);
    CHECK_EQ("SEQ-1", seq, 3);
    CHECK_EQ("ERR-1", count_sent(&cl2, MBWS_ERROR) + count_sent(&br2, MBWS_ERROR), 0);
    teardown();
}

static void test_resume_limits_and_subs(void)
{
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_TEXT);
    cc.credit = 2;
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.credit = 3;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    CHECK_EQ("BRK-2", mbws_conn_subscribe(cl.c, 5, "q", 1, 1), MBWS_CMD_OK);
    pump(&cl, &br, 1);
    mbws_session *bs = broker_session();
    CHECK_EQ("RES-2", mbws_session_has_sub(bs, 5), 1);
    /* The broker sends 2 (limit 2 from credit 2); the client grants 40. */
    pub(&br, "q", "1", 1, 1);
    pub(&br, "q", "2", 2, 1);
    pump(&cl, &br, 1);
    mbws_conn_grant(cl.c, 40, 2);
    pump(&cl, &br, 2);
    pair_lose(&cl, &br, 3);
    /* RES-5: old limit 40 beats last-seq 2 + credit 2; the broker's old
     * limit toward the client (3 + acked) vs client last-seq 0 + 3. */
    cc.credit = 2;
    resume_pair(4);
    mbws_session_info bi, ci;
    mbws_session_get_info(bs, &bi);
    mbws_session_get_info(cs, &ci);
    CHECK_EQ("RES-5", bi.out_limit, 40);
    CHECK_EQ("RES-5", ci.in_limit, 40);
    CHECK_EQ("RES-5", ci.out_limit, bi.in_limit);
    CHECK("RES-5", bi.in_limit >= 0 + 3);
    teardown();

    /* last-seq + credit beats a small old limit. */
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_TEXT);
    cc.credit = 1;
    cc.manual_accept = 1; /* no FLOW from the client */
    cfg_broker(&bc, MBWS_SP_MBWS);
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    pub(&br, "q", "1", 1, 1);
    pump(&cl, &br, 1);
    mbws_conn_subscribe(cl.c, 5, "q", 1, 1);
    pump(&cl, &br, 1);
    pair_lose(&cl, &br, 2);
    bs = broker_session();
    cc.credit = 10;
    resume_pair(3);
    mbws_session_get_info(bs, &bi);
    CHECK_EQ("RES-5", bi.out_limit, 1 + 10);
    /* RES-2: subscriptions survive: sub 5 is still active (code 10). */
    mbws_frame s;
    mbws_frame_init(&s, MBWS_SUBSCRIBE);
    mbws_frame_set_int(&s, MBWS_F_SUB, 5);
    mbws_frame_set_cstr(&s, MBWS_F_ADDRESS, "q");
    br2.link = 0;
    feed(&br2, &s, MBWS_ENC_TEXT, 4);
    CHECK_EQ("BRK-2", ev_int(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_CODE), 10);
    CHECK_EQ("BRK-2", close_code(&br2), 4010);
    teardown();
}

static void test_takeover(void)
{
    setup(MBWS_ENC_BINARY);
    mbws_session *bs = broker_session();
    /* The client believes its connection is dead; the broker's is alive. */
    cl.closed = 1;
    mbws_conn_closed(cl.c, 1006, 5);
    pump(&cl, NULL, 5);
    CHECK_EQ("RES-2", mbws_session_state(cs), MBWS_SS_DETACHED);
    resume_pair(6);
    ev *tk = nth_ev(&br2, MBWS_ACT_TAKEOVER, 0);
    CHECK("RES-7", tk && tk->a.old_user == (void *)&br);
    CHECK("RES-7", tk && tk->a.session == bs);
    CHECK("RES-7", ev_index(&br2, tk) < ev_index(&br2, nth_sent(&br2, MBWS_CONNECTED, 0)));
    CHECK_EQ("RES-7", mbws_conn_state(br.c), MBWS_CS_TAKEN_OVER);
    CHECK("RES-7", mbws_conn_session(br.c) == NULL && mbws_conn_session(br2.c) == bs);
    /* The old conn says nothing more, whatever arrives, and its close
     * leaves the session alone. */
    mbws_frame m = fr_message(1, "q", "x", 0);
    br.link = 0;
    feed(&br, &m, MBWS_ENC_BINARY, 7);
    mbws_conn_tick(br.c, 100000);
    mbws_conn_closed(br.c, MBWS_CLOSE_TAKEOVER, 8);
    pump(&br, NULL, 8);
    CHECK_EQ("RES-7", count_ev(&br, MBWS_ACT_SEND), 1); /* only its CONNECTED */
    CHECK_EQ("RES-7", count_ev(&br, MBWS_ACT_SESSION_END) + count_ev(&br, MBWS_ACT_DETACHED), 0);
    CHECK_EQ("RES-7", mbws_session_state(bs), MBWS_SS_ATTACHED);
    CHECK_EQ("RES-7", mbws_conn_state(cl2.c), MBWS_CS_OPEN);
    teardown();

    /* Client: closed with 4100 must not resume. */
    setup(MBWS_ENC_BINARY);
    cl.closed = br.closed = 1;
    mbws_conn_closed(cl.c, MBWS_CLOSE_TAKEOVER, 5);
    pump(&cl, NULL, 5);
    ev *end = nth_ev(&cl, MBWS_ACT_SESSION_END, 0);
    CHECK("RES-7", end && end->a.end_reason == MBWS_END_TAKEOVER);
    CHECK_EQ("RES-7", mbws_session_state(cs), MBWS_SS_ENDED);
    CHECK("RES-7", mbws_conn_new(&cc, cs, NULL) == NULL);
    CHECK_EQ("RES-7", count_ev(&cl, MBWS_ACT_DETACHED), 0);
    teardown();
}

static mbws_frame resuming_connect(const char *token, uint64_t last_seq, uint64_t max_frame)
{
    mbws_frame f = fr_connect(4, max_frame);
    mbws_frame_set_cstr(&f, MBWS_F_SESSION, token);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, last_seq);
    return f;
}

static void test_broker_refusals(void)
{
    /* RES-9: MBLWS and a session field, whatever the token: 13. */
    cfg_broker(&bc, MBWS_SP_MBLWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    mbws_frame f = resuming_connect("nosuch", 0, 4096);
    feed(&br, &f, MBWS_ENC_BINARY, 1);
    CHECK_EQ("RES-9", ev_int(nth_sent(&br, MBWS_ERROR, 0), MBWS_F_CODE), 13);
    CHECK_EQ("RES-9", close_code(&br), 4013);
    peer_fini(&br);
    /* RES-9: last-seq without session has no effect. */
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    f = fr_connect(4, 4096);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 77);
    feed(&br, &f, MBWS_ENC_BINARY, 1);
    CHECK_EQ("RES-9", count_sent(&br, MBWS_CONNECTED), 1);
    CHECK_EQ("RES-9", count_sent(&br, MBWS_ERROR), 0);
    peer_fini(&br);
    table_clear();

    /* RES-6: unknown token: 12. */
    cfg_broker(&bc, MBWS_SP_MBWS);
    peer_init(&br, "broker", &bc, NULL);
    mbws_conn_start(br.c, 0);
    f = resuming_connect("nosuch", 0, 4096);
    feed(&br, &f, MBWS_ENC_TEXT, 1);
    ev *e = nth_sent(&br, MBWS_ERROR, 0);
    CHECK_EQ("RES-6", ev_int(e, MBWS_F_CODE), 12);
    CHECK_EQ("SES-6", e ? e->a.is_text : 0, 1);
    CHECK_EQ("RES-6", close_code(&br), 4012);
    peer_fini(&br);
}

static void test_resume_errors_keep_session(void)
{
    setup(MBWS_ENC_BINARY);
    pub(&br, "q", "b1", 1, 1);
    pump(&cl, &br, 1);
    pair_lose(&cl, &br, 2);
    mbws_session *bs = broker_session();
    size_t tl;
    const char *tok = mbws_session_token(bs, &tl);
    /* RES-3: last-seq above the highest seq sent (1): 6. */
    peer_init(&br2, "broker", &bc, NULL);
    mbws_conn_start(br2.c, 3);
    mbws_frame f = resuming_connect(tok, 2, 65536);
    feed(&br2, &f, MBWS_ENC_BINARY, 3);
    CHECK_EQ("RES-3", ev_int(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_CODE), 6);
    CHECK("ERR-1", !ev_has(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_SEQ));
    /* ERR-2: only that connection ended. */
    CHECK_EQ("ERR-2", mbws_session_state(bs), MBWS_SS_DETACHED);
    CHECK_EQ("ERR-2", count_ev(&br2, MBWS_ACT_SESSION_END), 0);
    peer_fini(&br2);
    /* RES-3: a smaller max-frame than before (65536) is malformed. */
    peer_init(&br2, "broker", &bc, NULL);
    mbws_conn_start(br2.c, 4);
    f = resuming_connect(tok, 1, 4096);
    feed(&br2, &f, MBWS_ENC_BINARY, 4);
    CHECK_EQ("RES-3", ev_int(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_CODE), 1);
    CHECK_EQ("ERR-2", mbws_session_state(bs), MBWS_SS_DETACHED);
    peer_fini(&br2);
    /* A proper resume still works, in a new encoding (SES-6). */
    cc.encoding = MBWS_ENC_TEXT;
    resume_pair(5);
    CHECK_EQ("ERR-2", mbws_session_state(bs), MBWS_SS_ATTACHED);
    ev *cd = nth_sent(&br2, MBWS_CONNECTED, 0);
    CHECK_EQ("SES-6", cd ? cd->a.is_text : 0, 1);
    CHECK_EQ("SES-6", mbws_conn_encoding(br2.c), MBWS_ENC_TEXT);
    /* ACK-3 counts seqs sent on any connection of the session. */
    br2.link = 0;
    mbws_frame a1 = fr_int(MBWS_ACK, MBWS_F_SEQ, 1);
    feed(&br2, &a1, MBWS_ENC_TEXT, 6);
    CHECK_EQ("ACK-3", count_sent(&br2, MBWS_ERROR), 0);
    mbws_frame a2 = fr_int(MBWS_ACK, MBWS_F_SEQ, 2);
    feed(&br2, &a2, MBWS_ENC_TEXT, 6);
    CHECK_EQ("ACK-3", ev_int(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_CODE), 6);
    teardown();
}

static void test_expiry(void)
{
    setup(MBWS_ENC_BINARY);
    pub(&br, "q", "b1", 77, 1);
    br.link = 0; /* nothing reaches the broker: b1 stays unacked */
    pump(&cl, &br, 1);
    pair_lose(&cl, &br, 1000);
    mbws_session *bs = broker_session();
    CHECK_EQ("RES-2", mbws_session_expired(bs, 1000 + 9999), 0);
    CHECK_EQ("RES-2", mbws_session_expired(bs, 1000 + 10000), 1);
    /* the client side: it resumes until the expiry it learnt (RES-8) */
    CHECK_EQ("RES-8", mbws_session_may_resume(cs, 1000 + 9999), 1);
    CHECK_EQ("RES-8", mbws_session_may_resume(cs, 1000 + 10000), 0);
    /* Expired: the application ends it, takes the deliveries back, and
     * a resume with the token is refused (RES-6). */
    mbws_session_end(bs);
    uint64_t tag = 0, seq = 0;
    CHECK_EQ("BRK-4", mbws_session_pop_unacked(bs, &tag, &seq), 1);
    CHECK("BRK-4", tag == 77 && seq == 1);
    resume_pair(20000);
    CHECK_EQ("RES-6", ev_int(nth_sent(&br2, MBWS_ERROR, 0), MBWS_F_CODE), 12);
    teardown();
}

static mbws_frame connected_frame(const char *token, uint64_t resumed, uint64_t last_seq,
                                  uint64_t max_frame)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_CONNECTED);
    mbws_frame_set_int(&f, MBWS_F_VERSION, 1);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, 4);
    mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, max_frame);
    mbws_frame_set_cstr(&f, MBWS_F_SESSION, token);
    mbws_frame_set_int(&f, MBWS_F_SESSION_EXPIRY, 10);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, resumed);
    if (resumed)
        mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, last_seq);
    return f;
}

/* The client checks the CONNECTED that answers its resume (RES-3). */
static void client_case(const mbws_frame *answer, int want_code, const char *req)
{
    setup(MBWS_ENC_BINARY);
    pub(&cl, "q", "c1", 1, 1);
    pump(&cl, &br, 1);
    pair_lose(&cl, &br, 2);
    peer_init(&cl2, "client", &cc, cs);
    mbws_conn_start(cl2.c, 3);
    pump(&cl2, NULL, 3);
    feed(&cl2, answer, MBWS_ENC_BINARY, 4);
    ev *e = nth_sent(&cl2, MBWS_ERROR, 0);
    CHECK_EQ(req, ev_int(e, MBWS_F_CODE), (uint64_t)want_code);
    CHECK_EQ(req, close_code(&cl2), 4000 + want_code);
    CHECK_EQ(req, count_ev(&cl2, MBWS_ACT_CONNECTED), 0);
    teardown();
}

static void test_client_checks(void)
{
    mbws_frame f = connected_frame("tok-x", 1, 0, 65536);
    client_case(&f, 4, "RES-3"); /* another token */
    char tok[16];
    snprintf(tok, sizeof(tok), "tok-%d", token_counter + 1);
    f = connected_frame(tok, 0, 0, 65536);
    client_case(&f, 4, "RES-3"); /* resumed 0 */
    snprintf(tok, sizeof(tok), "tok-%d", token_counter + 1);
    f = connected_frame(tok, 1, 2, 65536);
    client_case(&f, 6, "RES-3"); /* last-seq 2 > highest sent 1 */
    snprintf(tok, sizeof(tok), "tok-%d", token_counter + 1);
    f = connected_frame(tok, 1, 1, 2048);
    client_case(&f, 1, "RES-3"); /* max-frame below 65536 */
}

static void test_client_refused(void)
{
    for (int code = 12; code <= 14; code++) {
        setup(MBWS_ENC_BINARY);
        pair_lose(&cl, &br, 1);
        peer_init(&cl2, "client", &cc, cs);
        mbws_conn_start(cl2.c, 2);
        pump(&cl2, NULL, 2);
        mbws_frame e = fr_int(MBWS_ERROR, MBWS_F_CODE, (uint64_t)code);
        feed(&cl2, &e, MBWS_ENC_BINARY, 3);
        CHECK_EQ("ERR-3", count_sent(&cl2, MBWS_ERROR), 0);
        cl2.closed = 1;
        mbws_conn_closed(cl2.c, 4000 + code, 4);
        pump(&cl2, NULL, 4);
        if (code == 14) { /* ERR-2: the session named stays as it was */
            CHECK_EQ("ERR-2", mbws_session_state(cs), MBWS_SS_DETACHED);
            CHECK_EQ("ERR-2", count_ev(&cl2, MBWS_ACT_DETACHED), 1);
        } else {
            ev *end = nth_ev(&cl2, MBWS_ACT_SESSION_END, 0);
            CHECK("RES-6", end && end->a.end_reason == MBWS_END_REFUSED);
            CHECK_EQ("RES-6", mbws_session_state(cs), MBWS_SS_ENDED);
        }
        teardown();
    }
}

static void test_abnormal_judgement(void)
{
    /* A close code of 4005 without an ERROR frame is still abnormal. */
    setup(MBWS_ENC_BINARY);
    cl.closed = br.closed = 1;
    mbws_conn_closed(cl.c, 4005, 1);
    mbws_conn_closed(br.c, 1000, 1);
    pump(&cl, &br, 1);
    CHECK_EQ("RES-2", count_ev(&cl, MBWS_ACT_DETACHED), 1);
    CHECK_EQ("RES-2", count_ev(&br, MBWS_ACT_DETACHED), 1);
    teardown();
    /* WS-6 close (1007) is not after DISCONNECT or ERROR: abnormal. */
    setup(MBWS_ENC_TEXT);
    static const uint8_t bad[] = {'A', 'C', 'K', '\n', 0xff, '\n'};
    br.link = 0;
    feed_raw(&br, bad, sizeof(bad), 1, 1);
    CHECK_EQ("WS-6", close_code(&br), 1007);
    CHECK_EQ("WS-6", count_sent(&br, MBWS_ERROR), 0);
    CHECK_EQ("RES-2", count_ev(&br, MBWS_ACT_DETACHED), 1);
    cl.closed = 1;
    mbws_conn_closed(cl.c, 1007, 2);
    pump(&cl, NULL, 2);
    CHECK_EQ("RES-2", count_ev(&cl, MBWS_ACT_DETACHED), 1);
    teardown();
}

int main(void)
{
    TEST_RUN(test_resume_both_ways);
    TEST_RUN(test_resume_limits_and_subs);
    TEST_RUN(test_takeover);
    TEST_RUN(test_broker_refusals);
    TEST_RUN(test_resume_errors_keep_session);
    TEST_RUN(test_expiry);
    TEST_RUN(test_client_checks);
    TEST_RUN(test_client_refused);
    TEST_RUN(test_abnormal_judgement);
    return TEST_DONE();
}
