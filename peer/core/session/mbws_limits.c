/* Limit arithmetic (mbws_limits.h). */
#include "mbws_limits.h"

#include "mbws_fault.h"

uint64_t mbws_limit_add(enum mbws_fault_id fault, uint64_t a, uint64_t b)
{
    if (mbws_fault_on(fault, MBWS_FAULT_FLOW_LIMIT_WRAPS)) /* FLOW-1 broken: the old wrap-around */
        return a + b;
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t mbws_limit_on_connect(enum mbws_fault_id fault, uint64_t old_limit, int resumed,
                               uint64_t last_seq, uint64_t credit)
{
    uint64_t lim = mbws_limit_add(fault, last_seq, credit);
    return resumed && old_limit > lim ? old_limit : lim;
}

int mbws_seq_over_limit(uint64_t seq, uint64_t limit)
{
    return seq > limit;
}
