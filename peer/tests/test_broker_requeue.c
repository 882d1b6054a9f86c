/* Broker model: ACK removes, session end requeues at the front in original
 * order, detached sessions keep their deliveries, UNSUBSCRIBE (BRK-4, BRK-5). */
#include "broker_fake.h"
#include "mbws_test.h"

static void ack_removes(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c;
    fakes_init(b, &p, &c, NULL);
    sub(&c, 1, "q");
    for (int i = 0; i < 5; i++)
        pub(&p, "q", "m");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-4", mbws_broker_unacked(c.s), 5);
    mbws_broker_ack(c.s, 3);
    CHECK_EQ("BRK-4", mbws_broker_unacked(c.s), 2);
    CHECK_EQ("BRK-4", mbws_broker_total_messages(b), 2);
    mbws_broker_ack(c.s, 2); /* stale: nothing changes */
    CHECK_EQ("BRK-4", mbws_broker_unacked(c.s), 2);
    mbws_broker_free(b);
}

static void requeue_front_in_order(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2;
    fakes_init(b, &p, &c1, &c2, NULL);
    c1.window = 3;
    sub(&c1, 1, "q");
    sub(&c1, 2, "r");
    const char *q[] = {"q1", "q2", "q3", "q4", "q5"};
    pub(&p, "q", q[0]);
    pub(&p, "r", "r1");
    pub(&p, "q", q[1]);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-4", c1.n, 3);
    mbws_broker_ack(c1.s, c1.seq[0]); /* the first delivery is ACKed, the rest is not */
    for (int i = 2; i < 5; i++)
        pub(&p, "q", q[i]);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-4", mbws_broker_queued(b, "q", 1), 3);
    mbws_broker_session_end(c1.s);
    size_t unacked_q = 1 + 3; /* one q message delivered and not ACKed, plus three queued */
    CHECK_EQ("BRK-4", mbws_broker_queued(b, "q", 1), unacked_q);
    CHECK_EQ("BRK-4", mbws_broker_queued(b, "r", 1), 1);
    sub(&c2, 1, "q");
    sub(&c2, 2, "r");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-4", c2.n, 5);
    /* q's order: the requeued one first, then the rest as published. */
    int qi = 0;
    const char *want[] = {"q2", "q3", "q4", "q5"};
    for (size_t i = 0; i < c2.n; i++) {
        if (!strcmp(c2.addr[i], "q")) {
            CHECK("BRK-4", qi < 4 && !strcmp(c2.body[i], want[qi]));
            qi++;
        } else {
            CHECK("BRK-4", !strcmp(c2.body[i], "r1"));
        }
    }
    CHECK_EQ("BRK-4", qi, 4);
    mbws_broker_free(b);
}

static void requeue_before_undelivered(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2;
    fakes_init(b, &p, &c1, &c2, NULL);
    c1.window = 2;
    sub(&c1, 1, "q");
    const char *m[] = {"1", "2", "3", "4"};
    for (int i = 0; i < 4; i++)
        pub(&p, "q", m[i]);
    mbws_broker_pump(b);
    mbws_broker_session_end(c1.s);
    sub(&c2, 1, "q");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-4", c2.n, 4);
    for (int i = 0; i < 4; i++)
        CHECK("BRK-4", !strcmp(c2.body[i], m[i]));
    mbws_broker_free(b);
}

static void detached_keeps_deliveries(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2;
    fakes_init(b, &p, &c1, &c2, NULL);
    sub(&c1, 1, "q");
    pub(&p, "q", "a");
    mbws_broker_pump(b);
    c1.attached = 0; /* connection lost, session resumable */
    sub(&c2, 1, "q");
    pub(&p, "q", "b");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-4", mbws_broker_unacked(c1.s), 1);
    CHECK_EQ("BRK-4", c2.n, 1);
    CHECK("BRK-4", !strcmp(c2.body[0], "b"));
    /* Resumed: the delivery can still be ACKed by c1. */
    c1.attached = 1;
    mbws_broker_ack(c1.s, 1);
    CHECK_EQ("BRK-4", mbws_broker_unacked(c1.s), 0);
    mbws_broker_free(b);
}

static void unsubscribe(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2;
    fakes_init(b, &p, &c1, &c2, NULL);
    sub(&c1, 1, "q");
    sub(&c2, 1, "q");
    pub(&p, "q", "a");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-5", c1.n, 1);
    CHECK_EQ("BRK-5", mbws_broker_unsubscribe(c1.s, 1), 0);
    pub(&p, "q", "b");
    pub(&p, "q", "c");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-5", c1.n, 1);
    CHECK_EQ("BRK-5", c2.n, 2);
    /* Earlier deliveries can still be acknowledged. */
    mbws_broker_ack(c1.s, 1);
    CHECK_EQ("BRK-5", mbws_broker_unacked(c1.s), 0);
    CHECK_EQ("BRK-5", mbws_broker_unsubscribe(c1.s, 1), 10);
    CHECK_EQ("BRK-5", mbws_broker_unsubscribe(c1.s, 99), 10);
    /* The id is free again. */
    CHECK_EQ("BRK-5", mbws_broker_subscribe(c1.s, 1, "q", 1), 0);
    mbws_broker_free(b);
}

static void unsubscribe_last_served_keeps_turn(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2, c3;
    fakes_init(b, &p, &c1, &c2, &c3, NULL);
    sub(&c1, 1, "q");
    sub(&c2, 1, "q");
    sub(&c3, 1, "q");
    pub(&p, "q", "a");
    pub(&p, "q", "b");
    mbws_broker_pump(b); /* c1 then c2 served */
    mbws_broker_unsubscribe(c2.s, 1);
    pub(&p, "q", "c");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c3.n, 1); /* the turn after c2 was c3 */
    mbws_broker_free(b);
}

int main(void)
{
    TEST_RUN(ack_removes);
    TEST_RUN(requeue_front_in_order);
    TEST_RUN(requeue_before_undelivered);
    TEST_RUN(detached_keeps_deliveries);
    TEST_RUN(unsubscribe);
    TEST_RUN(unsubscribe_last_served_keeps_turn);
    return TEST_DONE();
}
