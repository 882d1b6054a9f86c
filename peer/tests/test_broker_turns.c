/* Broker model: subscriptions take messages in turn among the eligible
 * ones, in cyclic subscription order, with FIFO blocking (BRK-2). */
#include "broker_fake.h"
#include "mbws_test.h"

static void round_robin(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2, c3;
    fakes_init(b, &p, &c1, &c2, &c3, NULL);
    sub(&c1, 1, "q");
    sub(&c2, 1, "q");
    sub(&c3, 1, "q");
    const char *bodies[] = {"a", "b", "c", "d", "e", "f", "g"};
    for (int i = 0; i < 7; i++)
        pub(&p, "q", bodies[i]);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c1.n, 3);
    CHECK_EQ("BRK-2", c2.n, 2);
    CHECK_EQ("BRK-2", c3.n, 2);
    CHECK("BRK-2", !strcmp(c1.body[0], "a") && !strcmp(c2.body[0], "b") && !strcmp(c3.body[0], "c"));
    CHECK("BRK-2", !strcmp(c1.body[1], "d") && !strcmp(c1.body[2], "g"));
    /* Continues after the last served (c1), across pumps. */
    pub(&p, "q", "h");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c2.n, 3);
    CHECK("BRK-2", !strcmp(c2.body[2], "h"));
    mbws_broker_free(b);
}

static void skips_closed_window(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2;
    fakes_init(b, &p, &c1, &c2, NULL);
    c1.window = 1;
    sub(&c1, 1, "q");
    sub(&c2, 9, "q");
    for (int i = 0; i < 4; i++)
        pub(&p, "q", "m");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c1.n, 1);
    CHECK_EQ("BRK-2", c2.n, 3);
    /* Nobody eligible: the messages wait, nothing is lost. */
    c2.window = 0;
    pub(&p, "q", "w1");
    pub(&p, "q", "w2");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", mbws_broker_queued(b, "q", 1), 2);
    c1.window = 5;
    mbws_broker_session_ready(c1.s);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c1.n, 3);
    CHECK("BRK-2", !strcmp(c1.body[1], "w1") && !strcmp(c1.body[2], "w2"));
    mbws_broker_free(b);
}

static void skips_detached(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c1, c2;
    fakes_init(b, &p, &c1, &c2, NULL);
    sub(&c1, 1, "q");
    sub(&c2, 1, "q");
    c1.attached = 0;
    pub(&p, "q", "x");
    pub(&p, "q", "y");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c1.n, 0);
    CHECK_EQ("BRK-2", c2.n, 2);
    mbws_broker_free(b);
}

static void max_frame_fifo_blocking(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, small, big;
    fakes_init(b, &p, &small, &big, NULL);
    small.max_body = 4;
    big.attached = 0;
    sub(&small, 1, "q");
    sub(&big, 1, "q");
    pub(&p, "q", "tiny");
    pub(&p, "q", "too-long-for-small");
    pub(&p, "q", "ok");
    mbws_broker_pump(b);
    /* The long one fits nobody eligible: it stays in its place and "ok"
     * behind it waits too. */
    CHECK_EQ("BRK-2", small.n, 1);
    CHECK_EQ("BRK-2", mbws_broker_queued(b, "q", 1), 2);
    big.attached = 1;
    mbws_broker_session_ready(big.s);
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", big.n, 1);
    CHECK("BRK-2", !strcmp(big.body[0], "too-long-for-small"));
    /* In turn: after big comes small, which takes "ok". */
    CHECK_EQ("BRK-2", small.n, 2);
    CHECK("BRK-2", !strcmp(small.body[1], "ok"));
    mbws_broker_free(b);
}

static void duplicate_sub_id(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake c, d;
    fakes_init(b, &c, &d, NULL);
    CHECK_EQ("BRK-2", mbws_broker_subscribe(c.s, 5, "q", 1), 0);
    CHECK_EQ("BRK-2", mbws_broker_subscribe(c.s, 5, "r", 1), 10);
    CHECK_EQ("BRK-2", mbws_broker_subscribe(c.s, 6, "q", 1), 0);
    /* Sub ids belong to the session: another session may use 5. */
    CHECK_EQ("BRK-2", mbws_broker_subscribe(d.s, 5, "q", 1), 0);
    mbws_broker_free(b);
}

static void two_subs_one_session(void)
{
    mbws_broker *b = mbws_broker_new(&fake_ops, 0);
    fake p, c;
    fakes_init(b, &p, &c, NULL);
    sub(&c, 1, "q");
    sub(&c, 2, "q");
    pub(&p, "q", "a");
    pub(&p, "q", "b");
    pub(&p, "q", "c");
    mbws_broker_pump(b);
    CHECK_EQ("BRK-2", c.n, 3);
    CHECK_EQ("BRK-2", c.sub[0], 1);
    CHECK_EQ("BRK-2", c.sub[1], 2);
    CHECK_EQ("BRK-2", c.sub[2], 1);
    mbws_broker_free(b);
}

int main(void)
{
    TEST_RUN(round_robin);
    TEST_RUN(skips_closed_window);
    TEST_RUN(skips_detached);
    TEST_RUN(max_frame_fifo_blocking);
    TEST_RUN(duplicate_sub_id);
    TEST_RUN(two_subs_one_session);
    return TEST_DONE();
}
