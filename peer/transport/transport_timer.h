/* The transport's timers (tp_timer, transport_lws.h): a binary min-heap per
 * context, behind one libwebsockets timer armed for the earliest. lws 4.1
 * keeps its timers in a sorted list, so thousands of connections with a
 * timer each would make every arming walk thousands of entries.
 * Internal to transport/. */
#ifndef TRANSPORT_TIMER_H
#define TRANSPORT_TIMER_H

#include <libwebsockets.h>

#include "transport_lws.h"

typedef struct tp_timers {
    struct lws_context *lws;
    lws_sorted_usec_list_t sul; /* armed for heap[0] */
    tp_timer **heap;
    size_t n, cap;
    uint64_t next_seq; /* equal deadlines fire in the order they were armed */
    int dispatching;
    /* On libev/libuv, lws applies timer changes made outside its callbacks
     * only at its next callback. So there (own_wait) tp_service() bounds
     * each wait by the earliest timer and fires the due ones itself, and
     * pokes lws (lws_cancel_service) after a call that arms lws's own
     * timers outside the loop (poke; in_loop: inside it). */
    int own_wait, in_loop, poke;
} tp_timers;

void tp_timers_init(tp_timers *ts, struct lws_context *lws);
/* own_wait: pokes lws if asked, and returns timeout_ms cut to the earliest
 * timer. */
int tp_timers_wait_ms(tp_timers *ts, int timeout_ms);
/* Fires the timers that are due (also done from lws's own timer). */
void tp_timers_run_ripe(tp_timers *ts);
/* After the context is destroyed: forgets whatever is armed. */
void tp_timers_free(tp_timers *ts);
/* The context's timers (defined in transport_lws.c). */
tp_timers *tp_ctx_timers(tp_ctx *t);

#endif
