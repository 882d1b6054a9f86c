/* Event loops for libwebsockets 4.1. See transport_loop.h. */
#define _GNU_SOURCE /* uv.h needs pthread_rwlock_t */
#include "transport_loop.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct tp_loop {
    enum tp_event_loop kind;
    uv_loop_t uv;
    uv_timer_t uv_bound; /* ends a turn's wait */
    struct ev_loop *ev;
    ev_timer ev_bound;
    void *foreign[1];
};

/* The bound timers only end the wait; the turn returns after them. */
static void uv_bound_fire(uv_timer_t *t) { (void)t; }
static void ev_bound_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

const char *tp_event_loop_name(enum tp_event_loop kind)
{
    return kind == TP_LOOP_POLL ? "poll" : kind == TP_LOOP_UV ? "libuv" : "libev";
}

int tp_event_loop_parse(const char *name, enum tp_event_loop *out)
{
    static const struct {
        const char *name;
        enum tp_event_loop kind;
    } names[] = {{"poll", TP_LOOP_POLL}, {"libuv", TP_LOOP_UV}, {"uv", TP_LOOP_UV},
                 {"libev", TP_LOOP_EV},  {"ev", TP_LOOP_EV}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *out = names[i].kind;
            return 0;
        }
    return -1;
}

tp_loop *tp_loop_new(enum tp_event_loop kind, struct lws_context_creation_info *info)
{
    tp_loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->kind = kind;
    if (kind == TP_LOOP_UV) {
        if (uv_loop_init(&l->uv)) {
            free(l);
            return NULL;
        }
        uv_timer_init(&l->uv, &l->uv_bound);
        l->foreign[0] = &l->uv;
        info->options |= LWS_SERVER_OPTION_LIBUV;
    } else if (kind == TP_LOOP_EV) {
        l->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
        if (!l->ev) {
            free(l);
            return NULL;
        }
        ev_timer_init(&l->ev_bound, ev_bound_fire, 0., 0.);
        l->foreign[0] = l->ev;
        info->options |= LWS_SERVER_OPTION_LIBEV;
    }
    /* Our loop, not lws's: lws installs no signal handlers on it. */
    if (kind != TP_LOOP_POLL)
        info->foreign_loops = l->foreign;
    return l;
}

int tp_loop_is_foreign(const tp_loop *l) { return l->kind != TP_LOOP_POLL; }

int tp_loop_run_once(tp_loop *l, struct lws_context *ctx, int timeout_ms)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (l->kind == TP_LOOP_UV) {
        uv_timer_start(&l->uv_bound, uv_bound_fire, (uint64_t)timeout_ms, 0);
        uv_run(&l->uv, UV_RUN_ONCE);
        uv_timer_stop(&l->uv_bound);
        return 0;
    }
    if (l->kind == TP_LOOP_EV) {
        ev_timer_set(&l->ev_bound, timeout_ms / 1000.0, 0.);
        ev_timer_start(l->ev, &l->ev_bound);
        ev_run(l->ev, EVRUN_ONCE);
        ev_timer_stop(l->ev, &l->ev_bound);
        return 0;
    }
    return lws_service(ctx, 0);
}

void tp_loop_free(tp_loop *l, struct lws_context *ctx)
{
    if (ctx)
        lws_context_destroy(ctx);
    if (!l)
        return;
    if (l->kind == TP_LOOP_UV) {
        uv_close((uv_handle_t *)&l->uv_bound, NULL);
        /* lws closes its libuv handles asynchronously: let them finish */
        for (int i = 0; i < 100 && uv_run(&l->uv, UV_RUN_NOWAIT); i++)
            ;
        uv_loop_close(&l->uv);
    } else if (l->kind == TP_LOOP_EV) {
        ev_loop_destroy(l->ev);
    }
    free(l);
}
