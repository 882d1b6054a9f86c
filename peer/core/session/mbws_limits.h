/* The limit arithmetic of profile section 8 and RES-5, one place for the
 * session core and the engine (which tracks the limits a target granted):
 * FLOW-1's last-seq + credit taken as 2^64-1 above it (revision 4), RES-5's
 * larger-of on resume, FLOW-3's test. Pure functions. */
#ifndef MBWS_LIMITS_H
#define MBWS_LIMITS_H

#include <stdint.h>

#include "mbws_fault.h"

/* a + b, or 2^64-1 when the sum is above it (FLOW-1, RES-5, FLOW-5).
 * fault: the caller's switch (flow-limit-wraps); the engine passes
 * MBWS_FAULT_NONE. */
uint64_t mbws_limit_add(enum mbws_fault_id fault, uint64_t a, uint64_t b);
/* The limit after a CONNECT or CONNECTED that advertised credit with
 * last_seq the highest seq its sender received (0 for a new session):
 * last_seq + credit (FLOW-1); on a resume the larger of that and the
 * old limit (RES-5). */
uint64_t mbws_limit_on_connect(enum mbws_fault_id fault, uint64_t old_limit, int resumed,
                               uint64_t last_seq, uint64_t credit);
/* FLOW-3: 1 when a MESSAGE with seq is above limit (credit-exceeded);
 * seq equal to the limit is allowed. */
int mbws_seq_over_limit(uint64_t seq, uint64_t limit);

#endif
