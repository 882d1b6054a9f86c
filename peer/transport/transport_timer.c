/* Timers on the transport's loop. See transport_timer.h. */
#include "transport_timer.h"

#include <stdlib.h>
#include <string.h>

static int before(const tp_timer *a, const tp_timer *b)
{
    return a->due_us < b->due_us || (a->due_us == b->due_us && a->seq < b->seq);
}

static void place(tp_timers *ts, size_t i, tp_timer *tm)
{
    ts->heap[i] = tm;
    tm->slot = i + 1;
}

static void sift_up(tp_timers *ts, size_t i)
{
    tp_timer *tm = ts->heap[i];
    while (i > 0 && before(tm, ts->heap[(i - 1) / 2])) {
        place(ts, i, ts->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(ts, i, tm);
}

static void sift_down(tp_timers *ts, size_t i)
{
    tp_timer *tm = ts->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ts->n)
            break;
        if (c + 1 < ts->n && before(ts->heap[c + 1], ts->heap[c]))
            c++;
        if (!before(ts->heap[c], tm))
            break;
        place(ts, i, ts->heap[c]);
        i = c;
    }
    place(ts, i, tm);
}

static void heap_remove(tp_timers *ts, tp_timer *tm)
{
    size_t i = tm->slot - 1;
    tm->slot = 0;
    tp_timer *last = ts->heap[--ts->n];
    if (i == ts->n)
        return;
    place(ts, i, last);
    sift_down(ts, i);
    sift_up(ts, last->slot - 1);
}

static void fire_ripe(lws_sorted_usec_list_t *sul);
void tp_timers_run_ripe(tp_timers *ts);

/* One lws timer for the earliest of ours. */
static void rearm(tp_timers *ts)
{
    if (ts->dispatching || ts->own_wait)
        return; /* fire_ripe() rearms when done; own_wait: tp_service() fires them */
    if (!ts->n) {
        lws_sul_cancel(&ts->sul);
        return;
    }
    lws_usec_t now = lws_now_usecs();
    uint64_t due = ts->heap[0]->due_us;
    lws_sul_schedule(ts->lws, 0, &ts->sul, fire_ripe,
                     due > (uint64_t)now ? (lws_usec_t)(due - (uint64_t)now) : 0);
}

static void fire_ripe(lws_sorted_usec_list_t *sul)
{
    tp_timers_run_ripe(lws_container_of(sul, tp_timers, sul));
}

void tp_timers_run_ripe(tp_timers *ts)
{
    uint64_t now = (uint64_t)lws_now_usecs();
    ts->dispatching = 1;
    while (ts->n && ts->heap[0]->due_us <= now) {
        tp_timer *tm = ts->heap[0];
        heap_remove(ts, tm);
        tm->fn(tm); /* may arm or cancel timers, this one too */
    }
    ts->dispatching = 0;
    rearm(ts);
}

int tp_timers_wait_ms(tp_timers *ts, int timeout_ms)
{
    if (ts->poke) /* lws armed its own timers outside its callbacks */
        lws_cancel_service(ts->lws);
    ts->poke = 0;
    uint64_t now = (uint64_t)lws_now_usecs() / 1000;
    uint64_t due = ts->n ? (ts->heap[0]->due_us + 999) / 1000 : 0;
    if (ts->n && due < now + (uint64_t)timeout_ms)
        timeout_ms = due > now ? (int)(due - now) : 0;
    return timeout_ms;
}

void tp_timers_init(tp_timers *ts, struct lws_context *lws)
{
    memset(ts, 0, sizeof *ts);
    ts->lws = lws;
}

void tp_timers_free(tp_timers *ts)
{
    while (ts->n)
        ts->heap[--ts->n]->slot = 0;
    free(ts->heap);
    ts->heap = NULL;
    ts->cap = 0;
}

void tp_timer_init(tp_timer *tm, tp_ctx *t, tp_timer_fn fn, void *user)
{
    memset(tm, 0, sizeof *tm);
    tm->t = t;
    tm->fn = fn;
    tm->user = user;
}

void tp_timer_in(tp_timer *tm, uint64_t ms)
{
    tp_timers *ts = tp_ctx_timers(tm->t);
    int was_first = tm->slot == 1;
    if (tm->slot)
        heap_remove(ts, tm);
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        tp_timer **h = realloc(ts->heap, cap * sizeof *h);
        if (!h)
            abort();
        ts->heap = h;
        ts->cap = cap;
    }
    tm->due_us = (uint64_t)lws_now_usecs() + ms * 1000u;
    tm->seq = ts->next_seq++;
    ts->heap[ts->n++] = tm;
    sift_up(ts, ts->n - 1);
    if (was_first || tm->slot == 1)
        rearm(ts);
}

void tp_timer_cancel(tp_timer *tm)
{
    if (!tm->slot || !tm->t)
        return;
    tp_timers *ts = tp_ctx_timers(tm->t);
    int was_first = tm->slot == 1;
    heap_remove(ts, tm);
    if (was_first)
        rearm(ts);
}
