/* A reference MBWS client session. See client_agent.h. */
#define _POSIX_C_SOURCE 200809L
#include "client_agent.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_glue.h"
#include "mbws_handshake.h"
#include "mbws_fault.h"

struct cl_agent {
    tp_ctx *t;
    cl_config cfg;
    cl_handlers h;
    void *user;
    mbws_session *s;
    mbws_conn *mc;
    tp_conn *tc;
    tp_timer timer;     /* the core's deadline */
    tp_timer reconnect; /* resume attempts */
    tp_timer read_hold_end; /* flow_after_read: bound on the hold */
    int read_hold;      /* FLOW held until what has arrived is read */
    int app_hold;       /* cl_hold_window() */
    int status;
    int our_close;      /* close code we asked for */
    int ws3;            /* WS-3 violation seen on this connection */
    int connected_once;
    int resumes;
    enum mbws_end_reason end_reason;
    int ended;
    int error_seen;
};

static void alog(const cl_agent *a, const char *fmt, const char *s, long long n)
{
    if (a->cfg.quiet)
        return;
    fprintf(stderr, "%s: ", a->cfg.label ? a->cfg.label : "client");
    fprintf(stderr, fmt, s, n);
    fputc('\n', stderr);
}

static void finish(cl_agent *a, int status)
{
    if (a->status != CL_RUNNING)
        return;
    a->status = status;
    tp_timer_cancel(&a->timer);
    tp_timer_cancel(&a->reconnect);
    if (a->h.finished)
        a->h.finished(a);
}

static void arm(cl_agent *a)
{
    if (a->mc)
        conn_glue_arm_timer(&a->timer, a->mc);
}

static void log_frame(const cl_agent *a, const char *dir, const uint8_t *p, size_t len, int text)
{
    char line[512];
    conn_glue_frame_text(p, len, text, line, sizeof line);
    fprintf(stderr, "%s: %s %s %s\n", a->cfg.label ? a->cfg.label : "client", dir,
            text ? "text" : "binary", line);
}

static void drain(cl_agent *a)
{
    mbws_action act;
    while (a->mc && mbws_conn_next_action(a->mc, &act)) {
        switch (act.kind) {
        case MBWS_ACT_SEND:
            if (a->cfg.verbose)
                log_frame(a, ">", act.data, act.len, act.is_text);
            if (a->tc)
                tp_send(a->tc, act.is_text, act.data, act.len);
            break;
        case MBWS_ACT_CLOSE:
            a->our_close = act.close_code;
            if (a->tc)
                tp_close(a->tc, act.close_code);
            break;
        case MBWS_ACT_CONNECTED:
            if (act.resumed)
                a->resumes++;
            a->connected_once = 1;
            alog(a, act.resumed ? "session %s resumed%.0lld" : "connected, session %s%.0lld",
                 *mbws_session_token(a->s, NULL) ? mbws_session_token(a->s, NULL) : "(MBLWS)", 0);
            if (a->h.connected)
                a->h.connected(a, act.resumed);
            break;
        case MBWS_ACT_DELIVER:
            if (a->h.deliver)
                a->h.deliver(a, &act);
            break;
        case MBWS_ACT_ACKED:
            if (a->h.acked)
                a->h.acked(a, act.tag, act.seq);
            break;
        case MBWS_ACT_WRITABLE:
            if (a->h.writable)
                a->h.writable(a);
            break;
        case MBWS_ACT_ERROR:
            a->error_seen = 1;
            fprintf(stderr, "%s: ERROR %s: code %d (%s) %.*s\n",
                    a->cfg.label ? a->cfg.label : "client", act.error_sent ? "sent" : "received",
                    act.error_code, mbws_error_name((unsigned)act.error_code), (int)act.text.len,
                    act.text.len ? (const char *)act.text.ptr : "");
            break;
        case MBWS_ACT_DETACHED:
            alog(a, "connection lost, session %s kept: resuming%.0lld",
                 mbws_session_token(a->s, NULL), 0);
            break;
        case MBWS_ACT_SESSION_END:
            a->ended = 1;
            a->end_reason = act.end_reason;
            break;
        case MBWS_ACT_TAKEOVER:
        case MBWS_ACT_SUBSCRIBE:
        case MBWS_ACT_UNSUBSCRIBE:
            break;
        }
    }
    arm(a);
}

/* The window is held while the application holds it (cl_hold_window) or
 * a read is still in progress (flow_after_read). */
static int apply_window_hold(cl_agent *a)
{
    return mbws_conn_hold_window(a->mc, a->app_hold || a->read_hold, tp_now_ms());
}

/* flow_after_read: hold or release the window for the read in progress. */
static void set_read_hold(cl_agent *a, int on)
{
    a->read_hold = on;
    if (on)
        tp_timer_in(&a->read_hold_end, MBWS_WINDOW_HOLD_MAX_MS);
    else
        tp_timer_cancel(&a->read_hold_end);
    if (a->mc)
        apply_window_hold(a);
}

static void read_hold_fire(tp_timer *tm)
{
    cl_agent *a = tm->user;
    if (!a->read_hold)
        return;
    set_read_hold(a, 0);
    drain(a);
}

static void timer_fire(tp_timer *tm)
{
    cl_agent *a = tm->user;
    if (!a->mc)
        return;
    mbws_conn_tick(a->mc, tp_now_ms());
    drain(a);
}

static void ev_open(tp_conn *c);
static void ev_message(tp_conn *c, int text, const uint8_t *p, size_t len);
static void ev_too_large(tp_conn *c, int text);
static void ev_closed(tp_conn *c, int opened, int peer_code);
static void ev_batch_end(tp_conn *c);
static const tp_events agent_events = {ev_open, ev_message, ev_too_large, ev_closed, ev_batch_end};

static const char *lower_copy(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = 0;
    return buf;
}

static int connect_now(cl_agent *a)
{
    a->ws3 = 0;
    a->our_close = 0;
    char low[256]; /* client-offer-wrong-case fault: offer the names in lower case */
    const char *sp = a->cfg.subprotocols;
    if (mbws_fault_on(a->cfg.fault, MBWS_FAULT_WS_OFFER_WRONG_CASE))
        sp = lower_copy(sp, low, sizeof low);
    a->tc = tp_connect(a->t, a->cfg.url, sp, &agent_events, a);
    return a->tc ? 0 : -1;
}

static void reconnect_fire(tp_timer *tm)
{
    cl_agent *a = tm->user;
    if (a->status != CL_RUNNING || a->tc)
        return;
    if (connect_now(a))
        finish(a, CL_CONNECT_FAILED);
}

static void ev_open(tp_conn *c)
{
    cl_agent *a = tp_conn_user(c);
    const char *sp = tp_conn_subprotocol(c);
    /* WS-3: the response must name one of the subprotocols we offered */
    if (!mbws_token_listed(a->cfg.subprotocols, sp) &&
        !(!*sp && mbws_fault_on(a->cfg.fault, MBWS_FAULT_WS_IGNORE_MISSING_SP))) {
        fprintf(stderr, "%s: handshake response names %s%s%s: closing with 1002 (WS-3)\n",
                a->cfg.label ? a->cfg.label : "client", *sp ? "subprotocol \"" : "no subprotocol",
                sp, *sp ? "\", which we did not offer" : "");
        a->ws3 = 1;
        a->our_close = MBWS_CLOSE_PROTOCOL;
        tp_close(c, MBWS_CLOSE_PROTOCOL);
        return;
    }
    mbws_conn_config cfg;
    mbws_conn_config_default(&cfg, MBWS_ROLE_CLIENT);
    cfg.subprotocol = !strcmp(sp, MBWS_SUBPROTOCOL_MBLWS) ? MBWS_SP_MBLWS : MBWS_SP_MBWS;
    cfg.encoding = a->cfg.encoding;
    cfg.credit = a->cfg.credit;
    cfg.window = a->cfg.window;
    cfg.max_frame = a->cfg.max_frame;
    cfg.ack_delay_ms = a->cfg.ack_delay_ms;
    cfg.manual_accept = a->cfg.manual_accept;
    cfg.name = "mbws-peer client";
    cfg.fault = a->cfg.fault;
    a->mc = mbws_conn_new(&cfg, a->s, a);
    if (!a->mc) {
        tp_abort(c);
        return;
    }
    tp_set_max_message(c, (size_t)a->cfg.max_frame);
    mbws_conn_start(a->mc, tp_now_ms());
    drain(a);
}

static void ev_message(tp_conn *c, int text, const uint8_t *p, size_t len)
{
    cl_agent *a = tp_conn_user(c);
    if (!a->mc)
        return;
    if (a->cfg.verbose)
        log_frame(a, "<", p, len, text);
    if (a->cfg.flow_after_read && !a->read_hold && tp_conn_unread(c) > 0)
        set_read_hold(a, 1); /* more of this read is waiting: no FLOW before it */
    mbws_conn_recv(a->mc, p, len, text, tp_now_ms());
    drain(a);
}

/* End of a read batch: coalesced ACKs (and FLOW) go now (ACK-2). */
static void ev_batch_end(tp_conn *c)
{
    cl_agent *a = tp_conn_user(c);
    if (!a || !a->mc)
        return;
    mbws_conn_flush(a->mc, tp_now_ms());
    if (a->read_hold && tp_conn_unread(c) == 0)
        set_read_hold(a, 0); /* all read: the FLOW goes now */
    drain(a);
}

static void ev_too_large(tp_conn *c, int text)
{
    cl_agent *a = tp_conn_user(c);
    if (!a->mc)
        return;
    mbws_conn_check_size(a->mc, a->cfg.max_frame + 1, text, tp_now_ms());
    drain(a);
}

static void ev_closed(tp_conn *c, int opened, int peer_code)
{
    cl_agent *a = tp_conn_user(c);
    uint64_t now = tp_now_ms();
    a->tc = NULL;
    if (a->read_hold)
        set_read_hold(a, 0); /* the session's window flag outlives this connection */
    if (a->mc) {
        int code = peer_code ? peer_code : (a->our_close ? a->our_close : 1006);
        if (peer_code || !a->our_close)
            alog(a, "connection closed (%s%lld)", peer_code ? "code " : "no close frame, ",
                 peer_code ? peer_code : 1006);
        mbws_conn_closed(a->mc, code, now);
        drain(a);
        mbws_conn_free(a->mc);
        a->mc = NULL;
        tp_timer_cancel(&a->timer);
    }
    if (a->status != CL_RUNNING)
        return;
    if (a->ws3) {
        finish(a, CL_WS3);
        return;
    }
    enum mbws_session_state st = mbws_session_state(a->s);
    /* ECHO-3: an ERROR sent or received ends the echo client, also one that
     * answered its resume (ERR-2 keeps the session, but the run is over) */
    if (a->error_seen && a->cfg.exit_on_error && !mbws_fault_on(a->cfg.fault, MBWS_FAULT_ECHO_RETRY_AFTER_ERROR)) {
        finish(a, CL_ERROR);
        return;
    }
    if (st == MBWS_SS_DETACHED && mbws_fault_on(a->cfg.fault, MBWS_FAULT_ECHO_NO_RESUME)) {
        finish(a, CL_LOST); /* ECHO-2 broken: gives up instead of resuming */
        return;
    }
    if (st == MBWS_SS_DETACHED) {
        /* RES-8: resume within session-expiry; first try soon (ECHO-2). */
        if (!mbws_session_may_resume(a->s, now)) {
            alog(a, "could not resume before the session expired%s%.0lld", "", 0);
            finish(a, CL_CONNECT_FAILED);
            return;
        }
        tp_timer_in(&a->reconnect, opened ? a->cfg.reconnect_ms : 200);
        return;
    }
    if (!opened && !a->connected_once) {
        finish(a, CL_CONNECT_FAILED);
        return;
    }
    if (a->ended || st == MBWS_SS_ENDED) {
        switch (a->end_reason) {
        case MBWS_END_DISCONNECT:
            finish(a, CL_OK);
            break;
        case MBWS_END_TAKEOVER:
            finish(a, CL_TAKEOVER);
            break;
        case MBWS_END_CLOSED:
            finish(a, a->error_seen ? CL_ERROR : CL_LOST);
            break;
        default:
            finish(a, CL_ERROR);
            break;
        }
        return;
    }
    finish(a, a->error_seen ? CL_ERROR : CL_LOST);
}

cl_agent *cl_new(tp_ctx *t, const cl_config *cfg, const cl_handlers *h, void *user)
{
    cl_agent *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->t = t;
    a->cfg = *cfg;
    if (!a->cfg.reconnect_ms)
        a->cfg.reconnect_ms = 100;
    if (h)
        a->h = *h;
    a->user = user;
    a->status = CL_RUNNING;
    a->s = mbws_session_new();
    if (!a->s) {
        free(a);
        return NULL;
    }
    tp_timer_init(&a->timer, t, timer_fire, a);
    tp_timer_init(&a->reconnect, t, reconnect_fire, a);
    tp_timer_init(&a->read_hold_end, t, read_hold_fire, a);
    return a;
}

int cl_start(cl_agent *a)
{
    return connect_now(a);
}

void cl_free(cl_agent *a)
{
    if (!a)
        return;
    tp_timer_cancel(&a->timer);
    tp_timer_cancel(&a->reconnect);
    tp_timer_cancel(&a->read_hold_end);
    if (a->tc) {
        tp_conn_set_user(a->tc, NULL);
        tp_abort(a->tc);
    }
    if (a->mc) {
        mbws_conn_closed(a->mc, 1006, tp_now_ms());
        mbws_conn_free(a->mc);
    }
    mbws_session_free(a->s);
    free(a);
}

void *cl_user(const cl_agent *a) { return a->user; }
int cl_status(const cl_agent *a) { return a->status; }
enum mbws_fault_id cl_fault(const cl_agent *a)
{
    return a->cfg.fault;
}

mbws_conn *cl_conn(const cl_agent *a) { return a->mc; }
int cl_resumes(const cl_agent *a) { return a->resumes; }

int cl_is_open(const cl_agent *a)
{
    return a->mc && mbws_conn_state(a->mc) == MBWS_CS_OPEN;
}

int cl_writable(const cl_agent *a)
{
    return cl_is_open(a) && mbws_conn_writable(a->mc);
}

int cl_publish(cl_agent *a, const char *address, const void *ctype, size_t clen, const void *body,
               size_t blen, uint64_t tag)
{
    if (!a->mc)
        return MBWS_CMD_STATE;
    mbws_msg m;
    memset(&m, 0, sizeof m);
    m.address = address;
    m.address_len = strlen(address);
    m.content_type = ctype;
    m.content_type_len = clen;
    m.body = body;
    m.body_len = blen;
    int rc = mbws_conn_publish(a->mc, &m, tag, tp_now_ms(), NULL);
    drain(a);
    return rc;
}

int cl_subscribe(cl_agent *a, uint64_t sub, const char *address)
{
    if (!a->mc)
        return MBWS_CMD_STATE;
    int rc = mbws_conn_subscribe(a->mc, sub, address, strlen(address), tp_now_ms());
    drain(a);
    return rc;
}

int cl_disconnect(cl_agent *a)
{
    if (!a->mc)
        return MBWS_CMD_STATE;
    int rc = mbws_conn_disconnect(a->mc, tp_now_ms());
    drain(a);
    return rc;
}

int cl_hold_window(cl_agent *a, int held)
{
    if (!a->mc)
        return MBWS_CMD_STATE;
    a->app_hold = held != 0;
    int rc = apply_window_hold(a);
    drain(a);
    return rc;
}

int cl_accept(cl_agent *a, uint64_t seq)
{
    if (!a->mc)
        return MBWS_CMD_STATE;
    int rc = mbws_conn_accept(a->mc, seq, tp_now_ms());
    drain(a);
    return rc;
}

int cl_grant(cl_agent *a, uint64_t limit)
{
    if (!a->mc)
        return MBWS_CMD_STATE;
    int rc = mbws_conn_grant(a->mc, limit, tp_now_ms());
    drain(a);
    return rc;
}
