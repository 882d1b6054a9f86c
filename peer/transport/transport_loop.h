/* The event loop under libwebsockets: its own poll() loop, or libuv or libev
 * (both epoll on Linux), run by us as a "foreign" loop so that a turn of it
 * waits at most until the next lws timer, like lws_service(). poll() walks
 * every descriptor on every wake-up; with thousands of idle connections
 * that dominates, so the default is an epoll loop. Internal to transport/. */
#ifndef TRANSPORT_LOOP_H
#define TRANSPORT_LOOP_H

#include <libwebsockets.h>

#include "transport_lws.h"

typedef struct tp_loop tp_loop;

/* A loop of that kind; sets the lws context options and foreign loop it
 * needs in info. NULL when out of memory. */
tp_loop *tp_loop_new(enum tp_event_loop kind, struct lws_context_creation_info *info);
/* 1 for libev and libuv: lws on them re-reads its timer list only inside
 * its own callbacks, so tp_loop_run_once() bounds the wait itself. */
int tp_loop_is_foreign(const tp_loop *l);
/* One turn: runs what is ready, else waits for the next I/O, at most
 * timeout_ms on libev and libuv (poll: until lws's next timer). */
int tp_loop_run_once(tp_loop *l, struct lws_context *ctx, int timeout_ms);
/* Destroys the context (may be NULL), then the loop. */
void tp_loop_free(tp_loop *l, struct lws_context *ctx);

#endif
