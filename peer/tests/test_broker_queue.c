/* Broker model: FIFO queues, delivery contents, no-subscriber queueing and
 * bounded queues (BRK-1, BRK-3, BRK-6). */
#include "broker_fake.h"
#include "mbws_test.h"

static void fifo_order(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c;
    fake_init(&p, b);
    fake_init(&c, b);
    pub(&p, "q", "1");
    pub(&p, "q", "2");
    pub(&p, "q", "3");
    mbws_broker_subscribe(c.s, 7, "q", 1);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-1", c.n, 3);
    CHECK("BRK-1", !strcmp(c.body[0], "1") && !strcmp(c.body[1], "2") && !strcmp(c.body[2], "3"));
    CHECK_EQ("BRK-3", c.seq[0], 1);
    CHECK_EQ("BRK-3", c.seq[2], 3);
    mbws_broker_free(b);
}

static void delivery_fields(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c;
    fake_init(&p, b);
    fake_init(&c, b);
    mbws_broker_subscribe(c.s, 42, "orders", 6);
    mbws_broker_publish(p.s, "orders", 6, "text/plain", 10, "hello", 5);
    mbws_broker_publish(p.s, "orders", 6, NULL, 0, "", 0);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-3", c.n, 2);
    CHECK_EQ("BRK-3", c.sub[0], 42);
    CHECK("BRK-3", !strcmp(c.addr[0], "orders"));
    CHECK("BRK-3", !strcmp(c.body[0], "hello"));
    CHECK("BRK-3", !strcmp(c.ctype[0], "text/plain"));
    CHECK("BRK-3", c.ctype[1][0] == 0 && c.body[1][0] == 0);
    CHECK_EQ("BRK-3", c.seq[1], 2);
    mbws_broker_free(b);
}

static void addresses_are_separate(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c;
    fake_init(&p, b);
    fake_init(&c, b);
    pub(&p, "a", "x");
    pub(&p, "b", "y");
    mbws_broker_subscribe(c.s, 1, "b", 1);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-1", c.n, 1);
    CHECK("BRK-1", !strcmp(c.body[0], "y"));
    CHECK_EQ("BRK-1", mbws_broker_queued(b, "a", 1), 1);
    mbws_broker_free(b);
}

static void no_subscriber_stays_queued(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c;
    fake_init(&p, b);
    for (int i = 0; i < 100; i++)
        pub(&p, "late", "m");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-6", mbws_broker_queued(b, "late", 4), 100);
    mbws_broker_session_end(p.s); /* the publisher leaving drops nothing */
    mbws_broker_pump(b);
    CHECK_EQ("BRK-6", mbws_broker_queued(b, "late", 4), 100);
    fake_init(&c, b);
    mbws_broker_subscribe(c.s, 1, "late", 4);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-6", c.n, 100);
    mbws_broker_ack(c.s, 100);
    CHECK_EQ("BRK-1", mbws_broker_total_messages(b), 0);
    mbws_broker_pump(b);
    mbws_broker_session_end(c.s);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-1", mbws_broker_address_count(b), 0);
    mbws_broker_free(b);
}

static void bounded_queue_holds_publisher(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 3);
    fake p, other, c;
    fake_init(&p, b);
    fake_init(&other, b);
    fake_init(&c, b);
    CHECK("BRK-6", mbws_broker_may_grant(p.s));
    pub(&p, "q", "1");
    pub(&p, "q", "2");
    CHECK("BRK-6", mbws_broker_may_grant(p.s));
    pub(&p, "q", "3");
    CHECK("BRK-6", !mbws_broker_may_grant(p.s));
    CHECK("BRK-6", mbws_broker_may_grant(other.s)); /* never published to q */
    /* Messages beyond the bound are still accepted: acknowledged messages
     * are never dropped. */
    CHECK_EQ("BRK-6", pub(&p, "q", "4"), 0);
    CHECK_EQ("BRK-6", mbws_broker_queued(b, "q", 1), 4);
    /* Delivered but unacknowledged messages still count. */
    mbws_broker_subscribe(c.s, 1, "q", 1);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-6", c.n, 4);
    CHECK("BRK-6", !mbws_broker_may_grant(p.s));
    mbws_broker_ack(c.s, 1);
    CHECK("BRK-6", !mbws_broker_may_grant(p.s));
    CHECK_EQ("BRK-6", p.unblocked, 0);
    mbws_broker_ack(c.s, 2);
    CHECK("BRK-6", mbws_broker_may_grant(p.s));
    CHECK_EQ("BRK-6", p.unblocked, 1);
    CHECK_EQ("BRK-6", other.unblocked, 0);
    mbws_broker_free(b);
}

/* --memory-bound: past it, every address holding a message is at its bound
 * (BRK-6), whatever its count; nothing accepted is dropped; ACKs that bring
 * the total below it let every publisher go on. */
static void memory_bound_holds_publishers(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, q, idle, c;
    fake_init(&p, b);
    fake_init(&q, b);
    fake_init(&idle, b);
    fake_init(&c, b);
    pub(&p, "a", "1");
    size_t one = mbws_broker_bytes(b);
    CHECK("BRK-6", one > 0);
    mbws_broker_set_memory_bound(b, 3 * one);
    pub(&q, "b", "2");
    CHECK("BRK-6", mbws_broker_may_grant(p.s) && mbws_broker_may_grant(q.s));
    pub(&q, "fresh", "3"); /* a fresh address each time: the count bound never bites */
    CHECK("BRK-6", !mbws_broker_may_grant(p.s));
    CHECK("BRK-6", !mbws_broker_may_grant(q.s));
    CHECK("BRK-6", mbws_broker_may_grant(idle.s)); /* published nothing */
    CHECK_EQ("BRK-6", pub(&p, "a", "4"), 0);     /* still accepted, never dropped */
    CHECK_EQ("BRK-6", mbws_broker_total_messages(b), 4);
    mbws_broker_subscribe(c.s, 1, "a", 1);
    mbws_broker_pump(b);
    mbws_broker_ack(c.s, 1);
    CHECK("BRK-6", !mbws_broker_may_grant(p.s)); /* 3 held: still at the bound */
    CHECK_EQ("BRK-6", p.unblocked, 0);
    mbws_broker_ack(c.s, 2);
    CHECK("BRK-6", mbws_broker_may_grant(p.s) && mbws_broker_may_grant(q.s));
    CHECK_EQ("BRK-6", p.unblocked, 1);
    CHECK_EQ("BRK-6", q.unblocked, 1);
    CHECK_EQ("BRK-6", idle.unblocked, 0);
    mbws_broker_free(b);
}

int main(void)
{
    TEST_RUN(fifo_order);
    TEST_RUN(delivery_fields);
    TEST_RUN(addresses_are_separate);
    TEST_RUN(no_subscriber_stays_queued);
    TEST_RUN(bounded_queue_holds_publisher);
    TEST_RUN(memory_bound_holds_publishers);
    return TEST_DONE();
}
