/* The reference broker. See broker_server.h.
 *
 * Three layers meet here: transport connections (tp_conn), the session
 * core's per-connection machines (mbws_conn) and sessions (mbws_session),
 * and the queue model (mbws_broker). Every entry from the loop (message,
 * close, timer) feeds the core, drains its actions, then pumps the queues;
 * deliveries made by the pump are drained in turn, until nothing is left. */
#define _POSIX_C_SOURCE 200809L
#include "broker_control.h"
#include "broker_token.h"
#include "broker_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_glue.h"
#include "mbws_broker.h"
#include "mbws_fault.h"
#include "mbws_frame.h"
#include "mbws_conn.h"
#include "transport_lws.h"

typedef struct bconn bconn;
typedef struct bsession bsession;

struct bconn {
    broker *b;
    bconn *prev, *next; /* broker's connections */
    tp_conn *tp;        /* NULL once the transport closed */
    mbws_conn *mc;      /* NULL once inert (closed or taken over) */
    bsession *bs;       /* the session on this connection, once CONNECTED */
    tp_timer timer;     /* the core's deadline */
    int drain_pending;
    bconn *drain_next;
    int closing_code;   /* our CLOSE code, 0 if none */
    char peer[64];      /* for logs, kept after the transport is gone */
    bsession *held;     /* the session this conn's mc borrows (freed after mc) */
    mbws_session *orphan; /* a session that ended before CONNECTED */
};

struct bsession {
    broker *b;
    bsession *prev, *next; /* broker's sessions */
    mbws_session *s;
    mbws_bsess *q;
    bconn *conn; /* attached connection, NULL while detached */
    bconn *holder; /* the conn whose mc borrows s, NULL when none */
    tp_timer expiry;
    int ended;
};

struct broker {
    broker_config cfg;
    mbws_conn_config ccfg;
    tp_ctx *tp;
    mbws_broker *model;
    bconn *conns;
    size_t nconns;
    bsession *sessions;
    bsession *graveyard; /* ended and let go by their conn: to be freed */
    bconn *drain_list;
    int pump_pending;
    int in_pump;
};

static void blog(const bconn *c, const char *fmt, const char *a, long long n)
{
    fprintf(stderr, "conn %s: ", c ? c->peer : "-");
    fprintf(stderr, fmt, a, n);
    fputc('\n', stderr);
}

/* ---------------------------------------------------------------- model */

static int model_can_take(void *user, uint64_t sub, const mbws_bmsg *m)
{
    bsession *bs = user;
    if (!bs->conn || !bs->conn->mc || mbws_conn_state(bs->conn->mc) != MBWS_CS_OPEN)
        return 0;
    if (!mbws_conn_writable(bs->conn->mc))
        return 0;
    mbws_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.address = mbws_bmsg_address(m, &msg.address_len);
    msg.content_type = mbws_bmsg_ctype(m, &msg.content_type_len);
    msg.body = mbws_bmsg_body(m, &msg.body_len);
    msg.sub = sub;
    msg.has_sub = 1;
    if (mbws_conn_fits(bs->conn->mc, &msg))
        return 1;
    return mbws_fault_on(bs->b->cfg.fault, MBWS_FAULT_BRK_DROP_TOO_LARGE) ? -1 : 0;
}

static void want_drain(bconn *c)
{
    if (c->drain_pending)
        return;
    c->drain_pending = 1;
    c->drain_next = c->b->drain_list;
    c->b->drain_list = c;
}

static uint64_t model_deliver(void *user, uint64_t sub, const mbws_bmsg *m)
{
    bsession *bs = user;
    mbws_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.address = mbws_bmsg_address(m, &msg.address_len);
    msg.content_type = mbws_bmsg_ctype(m, &msg.content_type_len);
    if (mbws_fault_on(bs->b->cfg.fault, MBWS_FAULT_BRK_DROP_CONTENT_TYPE))
        msg.content_type = NULL;
    msg.body = mbws_bmsg_body(m, &msg.body_len);
    msg.sub = sub;
    msg.has_sub = 1;
    uint64_t seq = 0;
    if (mbws_conn_publish(bs->conn->mc, &msg, 0, tp_now_ms(), &seq) != MBWS_CMD_OK)
        return 0;
    want_drain(bs->conn); /* its SEND goes out after the pump */
    return seq;
}

static void model_unblocked(void *user)
{
    bsession *bs = user;
    if (bs->conn && bs->conn->mc && mbws_broker_may_grant(bs->q)) {
        mbws_conn_hold_window(bs->conn->mc, 0, tp_now_ms());
        want_drain(bs->conn);
    }
}

static const mbws_broker_ops model_ops = {model_can_take, model_deliver, model_unblocked};

/* ------------------------------------------------------------- sessions */

/* An ended session no conn borrows: bury() frees it. Only those are listed,
 * so that bury() costs nothing per event with thousands of sessions. */
static void graveyard_push(broker *b, bsession *bs)
{
    bs->prev = NULL;
    bs->next = b->graveyard;
    if (b->graveyard)
        b->graveyard->prev = bs;
    b->graveyard = bs;
}

/* The session ended for good: requeue its deliveries (BRK-4), forget it. */
static void session_end(bsession *bs)
{
    broker *b = bs->b;
    if (bs->ended)
        return;
    bs->ended = 1;
    if (bs->q)
        mbws_broker_session_end(bs->q);
    bs->q = NULL;
    b->pump_pending = 1;
    tp_timer_cancel(&bs->expiry);
    if (bs->conn && bs->conn->bs == bs)
        bs->conn->bs = NULL;
    bs->conn = NULL;
    /* Out of the table (RES-6: no resume); freed once no conn borrows it. */
    if (bs->prev)
        bs->prev->next = bs->next;
    else
        b->sessions = bs->next;
    if (bs->next)
        bs->next->prev = bs->prev;
    bs->prev = bs->next = NULL;
    if (!bs->holder)
        graveyard_push(b, bs);
}

/* Free the ended sessions that no conn borrows any more. */
static void bury(broker *b)
{
    while (b->graveyard) {
        bsession *bs = b->graveyard;
        b->graveyard = bs->next;
        mbws_session_free(bs->s);
        free(bs);
    }
}

/* The conn's mc is freed: the sessions it borrowed can go. */
static void conn_let_go(bconn *c)
{
    if (c->held && c->held->holder == c) {
        c->held->holder = NULL;
        if (c->held->ended)
            graveyard_push(c->b, c->held);
    }
    c->held = NULL;
    if (c->orphan)
        mbws_session_free(c->orphan);
    c->orphan = NULL;
}

static void after_event(broker *b);

static void expiry_fire(tp_timer *tm)
{
    bsession *bs = tm->user;
    uint64_t now = tp_now_ms();
    if (bs->conn || bs->ended)
        return;
    if (!mbws_session_expired(bs->s, now)) {
        uint64_t at = mbws_session_expires_at(bs->s);
        tp_timer_in(&bs->expiry, at > now ? at - now : 1);
        return;
    }
    fprintf(stderr, "session %s: expired, %zu deliveries requeued\n",
            mbws_session_token(bs->s, NULL), mbws_broker_unacked(bs->q));
    mbws_session_end(bs->s);
    session_end(bs);
    after_event(bs->b);
}

static mbws_session *find_session(void *app, const char *token, size_t len)
{
    broker *b = app;
    for (bsession *bs = b->sessions; bs; bs = bs->next) {
        size_t tl;
        const char *t = mbws_session_token(bs->s, &tl);
        if (!bs->ended && tl == len && !memcmp(t, token, len))
            return bs->s;
    }
    return NULL;
}

/* ---------------------------------------------------------- connections */

static void log_frame(const bconn *c, const char *dir, const uint8_t *p, size_t len, int text)
{
    char line[512];
    conn_glue_frame_text(p, len, text, line, sizeof line);
    fprintf(stderr, "conn %s: %s %s %s\n", c->peer, dir,
            text ? "text" : "binary", line);
}

static void arm_timer(bconn *c)
{
    if (c->mc)
        conn_glue_arm_timer(&c->timer, c->mc);
}

static void conn_inert(bconn *c, int code)
{
    if (!c->mc)
        return;
    mbws_action a;
    mbws_conn_closed(c->mc, code, tp_now_ms());
    while (mbws_conn_next_action(c->mc, &a)) {
        if (a.kind == MBWS_ACT_DETACHED && c->bs) {
            c->bs->conn = NULL;
        }
    }
    mbws_conn_free(c->mc);
    c->mc = NULL;
    conn_let_go(c);
    tp_timer_cancel(&c->timer);
}

/* The res-connected-before-close fault: the taken-over connection is
 * closed 300 ms late, after CONNECTED went out on the new one. */
static void takeover_close_fire(tp_timer *tm)
{
    bconn *c = tm->user;
    if (c->tp)
        tp_close(c->tp, MBWS_CLOSE_TAKEOVER);
}

/* MBWS_ACT_TAKEOVER: a new connection took the session of old (RES-6). */
static void act_takeover(bconn *old)
{
    blog(old, "session taken over by a new connection: closing with %s%lld", "",
         MBWS_CLOSE_TAKEOVER);
    if (old->bs) {
        old->bs->conn = NULL;
        old->bs = NULL;
    }
    old->closing_code = MBWS_CLOSE_TAKEOVER;
    enum mbws_fault_id fault = old->b->cfg.fault;
    int late = mbws_fault_on(fault, MBWS_FAULT_RES_CONNECTED_BEFORE_CLOSE);
    if (old->tp && !late && !mbws_fault_on(fault, MBWS_FAULT_RES_NO_TAKEOVER_CLOSE))
        tp_close(old->tp, MBWS_CLOSE_TAKEOVER);
    conn_inert(old, MBWS_CLOSE_TAKEOVER);
    if (old->tp && late) {
        tp_timer_init(&old->timer, old->b->tp, takeover_close_fire, old);
        tp_timer_in(&old->timer, 300);
    }
}

/* MBWS_ACT_CONNECTED: a new session gets its queues, a resumed one is
 * attached again. -1 when the connection was aborted (out of memory). */
static int act_connected(bconn *c, const mbws_action *a, uint64_t now)
{
    broker *b = c->b;
    bsession *bs;
    if (!a->resumed) {
        bs = calloc(1, sizeof *bs);
        if (!bs) {
            tp_abort(c->tp);
            return -1;
        }
        bs->b = b;
        bs->s = a->session;
        bs->q = mbws_broker_session_new(b->model, bs);
        tp_timer_init(&bs->expiry, b->tp, expiry_fire, bs);
        bs->next = b->sessions;
        if (b->sessions)
            b->sessions->prev = bs;
        b->sessions = bs;
        mbws_session_set_user(a->session, bs);
    } else {
        bs = mbws_session_user(a->session);
        tp_timer_cancel(&bs->expiry);
    }
    bs->conn = c;
    bs->holder = c;
    c->bs = bs;
    c->held = bs;
    const char *tok = mbws_session_token(a->session, NULL);
    blog(c, a->resumed ? "CONNECTED, session %s resumed (%lld unacked)"
                       : "CONNECTED, session %s new%.0lld",
         *tok ? tok : "(MBLWS)",
         a->resumed ? (long long)mbws_session_unacked_count(a->session) : 0);
    if (bs->q && !mbws_broker_may_grant(bs->q))
        mbws_conn_hold_window(c->mc, 1, now);
    if (bs->q)
        mbws_broker_session_ready(bs->q);
    b->pump_pending = 1;
    return 0;
}

/* MBWS_ACT_SESSION_END: requeue its deliveries, free it when unborrowed. */
static void act_session_end(bconn *c, const mbws_action *a)
{
    static const char *why[] = {"", "DISCONNECT", "ERROR", "takeover", "closed", "refused"};
    bsession *es = a->session ? mbws_session_user(a->session) : NULL;
    if (es) {
        fprintf(stderr, "session %s: ended (%s), %zu deliveries requeued\n",
                *mbws_session_token(es->s, NULL) ? mbws_session_token(es->s, NULL) : "(MBLWS)",
                why[a->end_reason <= MBWS_END_REFUSED ? a->end_reason : 0],
                es->q ? mbws_broker_unacked(es->q) : (size_t)0);
        session_end(es); /* freed by bury() once no conn borrows it */
    } else if (a->session && c->orphan != a->session) {
        /* Never reached CONNECTED: freed with the conn. */
        if (c->orphan)
            mbws_session_free(c->orphan);
        c->orphan = a->session;
    }
}

/* --control-address (broker_control.h): SES-7 DISCONNECT of the subscribers of addr */
static void control_disconnect(broker *b, const char *addr, size_t alen, uint64_t now)
{
    for (bconn *o = b->conns; o; o = o->next)
        if (o->mc && o->bs && o->bs->q && mbws_broker_subscribed(o->bs->q, addr, alen) &&
            mbws_conn_disconnect(o->mc, now) == MBWS_CMD_OK)
            want_drain(o);
}

static void drain(bconn *c)
{
    broker *b = c->b;
    mbws_action a;
    uint64_t now = tp_now_ms();
    while (c->mc && mbws_conn_next_action(c->mc, &a)) {
        bsession *bs = c->bs;
        switch (a.kind) {
        case MBWS_ACT_SEND:
            if (b->cfg.verbose)
                log_frame(c, ">", a.data, a.len, a.is_text);
            if (c->tp)
                tp_send(c->tp, a.is_text, a.data, a.len);
            break;
        case MBWS_ACT_CLOSE:
            blog(c, "closing with %s%lld", "", a.close_code);
            c->closing_code = a.close_code;
            if (c->tp)
                tp_close(c->tp, a.close_code);
            break;
        case MBWS_ACT_TAKEOVER:
            act_takeover(a.old_user);
            break;
        case MBWS_ACT_CONNECTED:
            if (act_connected(c, &a, now) < 0)
                return;
            break;
        case MBWS_ACT_DELIVER:
            /* A client's MESSAGE: into its address's queue (ACK-1, BRK-1). */
            if (bs && bs->q && broker_control_to(b->cfg.control_address, &a)) {
                const char *ca;
                size_t cl;
                if (broker_control_parse(&a, &ca, &cl) == 0)
                    control_disconnect(b, ca, cl, now);
            } else if (bs && bs->q) {
                if (mbws_broker_publish(bs->q, (const char *)a.address.ptr, a.address.len,
                                        a.has_content_type ? a.content_type.ptr : NULL,
                                        a.content_type.len, a.body.ptr, a.body.len)) {
                    fprintf(stderr, "out of memory: aborting connection\n");
                    tp_abort(c->tp);
                    return;
                }
                if (!mbws_broker_may_grant(bs->q))
                    mbws_conn_hold_window(c->mc, 1, now);
                b->pump_pending = 1;
            }
            break;
        case MBWS_ACT_ACKED:
            if (bs && bs->q) {
                mbws_broker_ack(bs->q, a.seq);
                b->pump_pending = 1;
            }
            break;
        case MBWS_ACT_SUBSCRIBE:
            if (bs && bs->q) {
                mbws_broker_subscribe(bs->q, a.sub, (const char *)a.address.ptr, a.address.len);
                b->pump_pending = 1;
            }
            break;
        case MBWS_ACT_UNSUBSCRIBE:
            if (bs && bs->q && !mbws_fault_on(b->cfg.fault, MBWS_FAULT_BRK_UNSUBSCRIBE_IGNORED))
                mbws_broker_unsubscribe(bs->q, a.sub);
            break;
        case MBWS_ACT_WRITABLE:
            if (bs && bs->q) {
                mbws_broker_session_ready(bs->q);
                b->pump_pending = 1;
            }
            break;
        case MBWS_ACT_ERROR:
            fprintf(stderr, "conn %s: ERROR %s code %d (%s) %.*s\n",
                    c->peer, a.error_sent ? "sent" : "received",
                    a.error_code, mbws_error_name((unsigned)a.error_code), (int)a.text.len,
                    a.text.len ? (const char *)a.text.ptr : "");
            break;
        case MBWS_ACT_SESSION_END:
            act_session_end(c, &a);
            break;
        case MBWS_ACT_DETACHED:
            if (bs) {
                blog(c, "connection lost: session %s detached, kept %lld s",
                     mbws_session_token(bs->s, NULL), (long long)b->cfg.session_expiry_s);
                bs->conn = NULL;
                c->bs = NULL;
                uint64_t at = a.expires_at;
                tp_timer_in(&bs->expiry, at > now ? at - now : 0);
            }
            break;
        }
    }
    arm_timer(c);
}

static void after_event(broker *b)
{
    if (b->in_pump)
        return;
    b->in_pump = 1;
    for (int guard = 0; guard < 1000000 && (b->pump_pending || b->drain_list); guard++) {
        if (b->pump_pending) {
            b->pump_pending = 0;
            mbws_broker_pump(b->model);
        }
        while (b->drain_list) {
            bconn *c = b->drain_list;
            b->drain_list = c->drain_next;
            c->drain_pending = 0;
            drain(c);
        }
    }
    if (b->graveyard)
        bury(b);
    b->in_pump = 0;
}

static void conn_timer_fire(tp_timer *tm)
{
    bconn *c = tm->user;
    if (!c->mc)
        return;
    mbws_conn_tick(c->mc, tp_now_ms());
    drain(c);
    after_event(c->b);
}

static void ev_open(tp_conn *t)
{
    broker *b = tp_user(tp_conn_ctx(t));
    bconn *c = calloc(1, sizeof *c);
    if (!c) {
        tp_abort(t);
        return;
    }
    c->b = b;
    c->tp = t;
    snprintf(c->peer, sizeof c->peer, "%s", tp_conn_peer(t));
    tp_conn_set_user(t, c);
    tp_timer_init(&c->timer, b->tp, conn_timer_fire, c);
    mbws_conn_config cfg = b->ccfg;
    cfg.subprotocol =
        !strcmp(tp_conn_subprotocol(t), MBWS_SUBPROTOCOL_MBLWS) ? MBWS_SP_MBLWS : MBWS_SP_MBWS;
    c->mc = mbws_conn_new(&cfg, NULL, c);
    if (!c->mc) {
        free(c);
        tp_conn_set_user(t, NULL);
        tp_abort(t);
        return;
    }
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    if (!mbws_fault_on(b->cfg.fault, MBWS_FAULT_SES_MAX_FRAME_UNENFORCED)) /* else: no limit */
        tp_set_max_message(t, (size_t)b->cfg.max_frame);
    blog(c, "open (%s)", tp_conn_subprotocol(t), 0);
    mbws_conn_start(c->mc, tp_now_ms());
    drain(c);
    after_event(b);
}

static void ev_message(tp_conn *t, int text, const uint8_t *p, size_t len)
{
    bconn *c = tp_conn_user(t);
    if (!c || !c->mc)
        return;
    if (c->b->cfg.verbose)
        log_frame(c, "<", p, len, text);
    mbws_conn_recv(c->mc, p, len, text, tp_now_ms());
    drain(c);
    after_event(c->b);
}

static void ev_too_large(tp_conn *t, int text)
{
    bconn *c = tp_conn_user(t);
    if (!c || !c->mc)
        return;
    blog(c, "frame larger than max-frame %s%lld", "", (long long)c->b->cfg.max_frame);
    mbws_conn_check_size(c->mc, c->b->cfg.max_frame + 1, text, tp_now_ms());
    drain(c);
    after_event(c->b);
}

static void ev_closed(tp_conn *t, int opened, int peer_code)
{
    bconn *c = tp_conn_user(t);
    (void)opened;
    if (!c)
        return;
    broker *b = c->b;
    int code = peer_code ? peer_code : (c->closing_code ? c->closing_code : 1006);
    blog(c, "closed (%s%lld)", peer_code ? "peer sent " : "no close frame from peer, ",
         peer_code ? peer_code : code);
    c->tp = NULL;
    if (c->mc) {
        mbws_conn_closed(c->mc, code, tp_now_ms());
        drain(c);
        mbws_conn_free(c->mc);
        c->mc = NULL;
    }
    conn_let_go(c);
    tp_timer_cancel(&c->timer);
    if (c->bs && c->bs->conn == c)
        c->bs->conn = NULL;
    if (c->drain_pending) { /* unlink from the drain list */
        bconn **pp = &b->drain_list;
        while (*pp && *pp != c)
            pp = &(*pp)->drain_next;
        if (*pp)
            *pp = c->drain_next;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    free(c);
    after_event(b);
}

/* End of a read batch: coalesced ACKs (and FLOW) go now (ACK-2). */
static void ev_batch_end(tp_conn *t)
{
    bconn *c = tp_conn_user(t);
    if (!c || !c->mc)
        return;
    mbws_conn_flush(c->mc, tp_now_ms());
    drain(c);
    after_event(c->b);
}

static const tp_events broker_events = {ev_open, ev_message, ev_too_large, ev_closed,
                                        ev_batch_end};

static const char *const broker_subprotocols[] = {MBWS_SUBPROTOCOL_MBWS, MBWS_SUBPROTOCOL_MBLWS,
                                                  NULL};

broker *broker_new(const broker_config *cfg)
{
    broker *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cfg = *cfg;
    mbws_conn_config_default(&b->ccfg, MBWS_ROLE_BROKER);
    b->ccfg.credit = cfg->credit;
    b->ccfg.window = cfg->window;
    b->ccfg.max_frame = cfg->max_frame;
    b->ccfg.session_expiry_s = cfg->session_expiry_s;
    b->ccfg.ack_delay_ms = cfg->ack_delay_ms;
    b->ccfg.name = "mbws-peer broker";
    b->ccfg.app = b;
    b->ccfg.find_session = find_session;
    b->ccfg.new_token = broker_new_token;
    b->ccfg.fault = cfg->fault; /* --fault: every part of this broker gets it */
    b->model = mbws_broker_new(&model_ops, cfg->queue_bound);
    if (b->model) {
        mbws_broker_set_memory_bound(b->model, cfg->memory_bound);
        mbws_broker_set_fault(b->model, cfg->fault);
    }
    tp_options o = {.listen_host = cfg->host, .listen_port = cfg->port, .cert = cfg->cert,
                    .key = cfg->key, .subprotocols = broker_subprotocols,
                    .quiet_lws = !cfg->verbose, .event_loop = cfg->event_loop,
                    .fault = cfg->fault};
    b->tp = b->model ? tp_new(&o, &broker_events, b) : NULL;
    if (!b->tp || tp_port(b->tp) <= 0) {
        fprintf(stderr, "broker: cannot listen on %s:%d\n", cfg->host, cfg->port);
        broker_free(b);
        return NULL;
    }
    return b;
}

int broker_port(const broker *b) { return tp_port(b->tp); }
enum mbws_fault_id broker_fault(const broker *b) { return b->cfg.fault; }
int broker_is_tls(const broker *b) { return tp_is_tls(b->tp); }
size_t broker_connection_count(const broker *b) { return b->nconns; }
void broker_wake(broker *b) { tp_wake(b->tp); }

int broker_service(broker *b, int timeout_ms)
{
    return tp_service(b->tp, timeout_ms);
}

void broker_disconnect_all(broker *b)
{
    uint64_t now = tp_now_ms();
    for (bconn *c = b->conns; c; c = c->next) {
        if (!c->mc)
            continue;
        if (mbws_conn_state(c->mc) == MBWS_CS_OPEN)
            mbws_conn_disconnect(c->mc, now);
        else if (mbws_conn_state(c->mc) == MBWS_CS_AWAIT_CONNECT && c->tp)
            tp_close(c->tp, MBWS_CLOSE_NORMAL);
        drain(c);
    }
    after_event(b);
}

void broker_free(broker *b)
{
    if (!b)
        return;
    /* Connections first: their conns borrow sessions. */
    for (bconn *c = b->conns, *nx; c; c = nx) {
        nx = c->next;
        if (c->mc) {
            mbws_conn_free(c->mc); /* detaches silently */
            c->mc = NULL;
        }
        conn_let_go(c);
        tp_timer_cancel(&c->timer);
        if (c->tp)
            tp_conn_set_user(c->tp, NULL);
        free(c);
    }
    b->conns = NULL;
    while (b->sessions) {
        bsession *bs = b->sessions;
        bs->conn = NULL;
        session_end(bs);
    }
    bury(b);
    if (b->tp)
        tp_free(b->tp);
    mbws_broker_free(b->model);
    free(b);
}
