/* The session core's pure rule functions that the transport, the client
 * agent and the engine share: the Sec-WebSocket-Protocol token list, WS-2
 * selection, the WS-3 / WS-1 check (mbws_handshake.h), and the limit
 * arithmetic of FLOW-1, FLOW-3 and RES-5 (mbws_limits.h). */
#include <stdint.h>

#include "mbws_handshake.h"
#include "mbws_layout.h"
#include "mbws_limits.h"
#include "mbws_test.h"

static int add_len(const char *item, size_t len, void *arg)
{
    (void)item;
    *(size_t *)arg += len;
    return 0;
}

static int stop_at_first(const char *item, size_t len, void *arg)
{
    (void)item;
    (void)len;
    (void)arg;
    return 1;
}

static void test_token_list(void)
{
    size_t total = 0;
    CHECK_EQ("WS-1", mbws_token_list(" a, bb ,,\tccc\t", add_len, &total), 3);
    CHECK_EQ("WS-1", total, 6);
    CHECK_EQ("WS-1", mbws_token_list("a,b,c", stop_at_first, NULL), 1);
    CHECK_EQ("WS-1", mbws_token_list(NULL, add_len, &total), 0);
    CHECK_EQ("WS-1", mbws_token_list(" , ,", add_len, &total), 0);
}

static void test_listed(void)
{
    const char *offer = "MBLWS.huawei.com, MBWS.huawei.com";
    CHECK("WS-3", mbws_token_listed(offer, MBWS_SUBPROTOCOL_MBWS));
    CHECK("WS-3", mbws_token_listed(offer, MBWS_SUBPROTOCOL_MBLWS));
    CHECK("WS-3", !mbws_token_listed(offer, "mbws.huawei.com")); /* WS-1: case matters */
    CHECK("WS-3", !mbws_token_listed(offer, ""));                /* no subprotocol named */
    CHECK("WS-3", !mbws_token_listed(offer, "MBWS"));            /* a prefix is not an item */
    CHECK("WS-3", !mbws_token_listed(NULL, MBWS_SUBPROTOCOL_MBWS));
}

static void test_select(void)
{
    static const char *const served[] = {MBWS_SUBPROTOCOL_MBWS, MBWS_SUBPROTOCOL_MBLWS, NULL};
    /* WS-2: the first of the client's offer that the broker serves */
    CHECK("WS-2", mbws_select_subprotocol("x, MBLWS.huawei.com, MBWS.huawei.com", served) ==
                      served[1]);
    CHECK("WS-2", mbws_select_subprotocol("MBWS.huawei.com,MBLWS.huawei.com", served) == served[0]);
    CHECK("WS-2", mbws_select_subprotocol("mbws.huawei.com, chat", served) == NULL);
    CHECK("WS-2", mbws_select_subprotocol("", served) == NULL);
    CHECK("WS-2", mbws_supported_name("MBWS.huawei.comX", 15, served) == served[0]);
    CHECK("WS-2", mbws_supported_name("MBWS.huawei.co", 14, served) == NULL);
}

static void test_limits(void)
{
    CHECK_EQ("FLOW-1", mbws_limit_add(MBWS_FAULT_NONE, 5, 10), 15);
    CHECK_EQ("FLOW-1", mbws_limit_add(MBWS_FAULT_NONE, UINT64_MAX - 1, 1), UINT64_MAX);
    CHECK_EQ("FLOW-1", mbws_limit_add(MBWS_FAULT_NONE, UINT64_MAX - 1, 2), UINT64_MAX); /* taken as 2^64-1 */
    CHECK_EQ("FLOW-1", mbws_limit_on_connect(MBWS_FAULT_NONE, 0, 0, 0, 16), 16);
    CHECK_EQ("FLOW-1", mbws_limit_on_connect(MBWS_FAULT_NONE, 100, 0, 3, 16), 19); /* a new session: no old limit */
    CHECK_EQ("RES-5", mbws_limit_on_connect(MBWS_FAULT_NONE, 100, 1, 3, 16), 100);
    CHECK_EQ("RES-5", mbws_limit_on_connect(MBWS_FAULT_NONE, 10, 1, 3, 16), 19);
    CHECK_EQ("RES-5", mbws_limit_on_connect(MBWS_FAULT_NONE, 7, 1, UINT64_MAX, 1), UINT64_MAX);
    CHECK("FLOW-3", !mbws_seq_over_limit(19, 19));
    CHECK("FLOW-3", mbws_seq_over_limit(20, 19));
}

int main(void)
{
    TEST_RUN(test_token_list);
    TEST_RUN(test_listed);
    TEST_RUN(test_select);
    TEST_RUN(test_limits);
    return TEST_DONE();
}
