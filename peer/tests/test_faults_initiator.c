/* SES-7 faults of the DISCONNECT initiator (peer/core/fault/
 * mbws_faults_session.def): each one, switched on, changes what the side
 * that started a DISCONNECT does, and only in the conn it is given to. Every check
 * names the requirement the fault breaks. */
#include "mbws_fault.h"
#include "test_session_pair.h"

static peer cl, br, cl2, br2;
static mbws_session *cs;
static mbws_conn_config cc, bc;

/* The fault under test into the configs of the side(s) it applies to (its
 * roles): the other side stays correct, as against a real peer. */
static void give(mbws_conn_config *c, mbws_conn_config *b, enum mbws_fault_id id)
{
    if (c && (mbws_fault_table[id].roles & MBWS_FAULT_CLIENT))
        c->fault = id;
    if (b && (mbws_fault_table[id].roles & MBWS_FAULT_BROKER))
        b->fault = id;
}

static void open_pair(enum mbws_fault_id fault)
{
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
    cfg_broker(&bc, MBWS_SP_MBWS);
    give(&cc, &bc, fault);
    bc.credit = 1;
    bc.session_expiry_s = 10;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
}

static void close_all(void)
{
    free_all(&cl, &br, &cl2, &br2, cs);
    cs = NULL;
}

/* SES-7, client as initiator: an unanswered DISCONNECT closes with 1000
 * after 2000 ms; the fault never closes. */
static void test_initiator_no_close(void)
{
    for (int on = 0; on < 2; on++) {
        open_pair(on ? MBWS_FAULT_SES_INITIATOR_NO_CLOSE : MBWS_FAULT_NONE);
        br.link = 0;
        mbws_conn_disconnect(cl.c, 50);
        pump(&cl, &br, 50);
        tick(&cl, NULL, 2100);
        CHECK_EQ("SES-7", count_ev(&cl, MBWS_ACT_CLOSE), on ? 0 : 1);
        close_all();
    }
}

/* SES-7: a session lost in the middle of the broker's DISCONNECT ends;
 * the fault keeps it resumable. */
static void test_disconnect_resumable(void)
{
    for (int on = 0; on < 2; on++) {
        open_pair(on ? MBWS_FAULT_SES_DISCONNECT_RESUMABLE : MBWS_FAULT_NONE);
        br.link = 0;
        mbws_conn_disconnect(br.c, 10);
        pair_lose(&cl, &br, 20);
        CHECK_EQ("SES-7", count_ev(&br, MBWS_ACT_DETACHED), on ? 1 : 0);
        close_all();
    }
}

/* SES-7: the initiator sends no FLOW after its DISCONNECT; the fault does. */
static void test_initiator_flow(void)
{
    for (int on = 0; on < 2; on++) {
        open_pair(on ? MBWS_FAULT_SES_INITIATOR_FLOW : MBWS_FAULT_NONE);
        br.link = 0; /* the client never sees the DISCONNECT: no reply */
        mbws_conn_disconnect(br.c, 10);
        pump(&cl, &br, 10);
        int before = count_sent(&br, MBWS_FLOW);
        pub(&cl, "q", "crossed", 1, 11);
        pump(&cl, &br, 11);
        tick(&br, NULL, 50);
        CHECK_EQ("SES-7", count_sent(&br, MBWS_FLOW) - before, on ? 1 : 0);
        close_all();
    }
}

/* SES-7, client as initiator: on the reply it ACKs what it received; the
 * fault does not. */
static void test_initiator_no_ack(void)
{
    for (int on = 0; on < 2; on++) {
        cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_BINARY);
        cc.manual_accept = 1; /* like the echo client: no ACK before the application takes it */
        cfg_broker(&bc, MBWS_SP_MBWS);
        cs = mbws_session_new();
        give(&cc, &bc, on ? MBWS_FAULT_SES_INITIATOR_NO_ACK : MBWS_FAULT_NONE);
        pair_start(&cl, &br, &cc, &bc, cs, 0);
        mbws_conn_disconnect(cl.c, 10);
        cl.link = 0; /* the MESSAGE and the reply reach the client unanswered */
        pub(&br, "q", "crossed", 1, 11);
        pump(&cl, &br, 11);
        int before = count_sent(&cl, MBWS_ACK);
        mbws_frame d;
        mbws_frame_init(&d, MBWS_DISCONNECT);
        feed(&cl, &d, MBWS_ENC_BINARY, 12);
        CHECK_EQ("SES-7", count_sent(&cl, MBWS_ACK) - before, on ? 0 : 1);
        close_all();
    }
}

int main(void)
{
    TEST_RUN(test_initiator_no_close);
    TEST_RUN(test_initiator_flow);
    TEST_RUN(test_disconnect_resumable);
    TEST_RUN(test_initiator_no_ack);
    return TEST_DONE();
}
