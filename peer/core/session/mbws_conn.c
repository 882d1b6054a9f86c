/* The connection object: creation, the action queue, timers, and what
 * happens to the session when the connection ends (RES-2). */
#include <stdlib.h>
#include <string.h>

#include "mbws_conn_internal.h"
#include "mbws_fault.h"

void mbws_conn_config_default(mbws_conn_config *cfg, enum mbws_role role)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = role;
    cfg->subprotocol = MBWS_SP_MBWS;
    cfg->encoding = MBWS_ENC_BINARY;
    cfg->credit = 16;
    cfg->max_frame = 65536;
    cfg->session_expiry_s = 30;
}

int conn_is_client(const mbws_conn *c)
{
    return c->cfg.role == MBWS_ROLE_CLIENT;
}

mbws_conn *mbws_conn_new(const mbws_conn_config *cfg, mbws_session *session, void *user)
{
    if (cfg->max_frame < MBWS_MAX_FRAME_MIN || cfg->ack_delay_ms >= MBWS_ACK_DEADLINE_MS)
        return NULL;
    if (cfg->role == MBWS_ROLE_CLIENT) {
        if (session == NULL || session->conn != NULL ||
            (session->state != MBWS_SS_NEW && session->state != MBWS_SS_DETACHED))
            return NULL;
    } else if (cfg->role == MBWS_ROLE_BROKER) {
        if (session != NULL || cfg->credit == 0)
            return NULL;
        if (cfg->subprotocol == MBWS_SP_MBWS && (cfg->new_token == NULL || cfg->session_expiry_s == 0))
            return NULL;
    } else {
        return NULL;
    }
    mbws_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->cfg = *cfg;
    c->user = user;
    c->s = session;
    c->state = MBWS_CS_NEW;
    c->window = cfg->window ? cfg->window : (cfg->credit ? cfg->credit : 1);
    c->own_max_frame = cfg->max_frame;
    if (session && session->own_max_frame > c->own_max_frame)
        c->own_max_frame = session->own_max_frame; /* RES-3: never smaller */
    if (cfg->role == MBWS_ROLE_CLIENT) {
        c->enc_known = 1; /* SES-6: the client picks it with its CONNECT */
        c->enc = cfg->encoding;
    }
    c->t_connect = c->t_ack = c->t_close = NO_DEADLINE;
    return c;
}

void mbws_conn_free(mbws_conn *c)
{
    if (c == NULL)
        return;
    if (c->s && c->s->conn == c) {
        c->s->conn = NULL;
        if (c->s->state == MBWS_SS_ATTACHED)
            c->s->state = MBWS_SS_DETACHED;
    }
    for (size_t i = c->qhead; i < c->qlen; i++)
        free(c->q[i].buf);
    free(c->q);
    free(c->cur_buf);
    free(c);
}

mbws_action *conn_push(mbws_conn *c, enum mbws_action_kind kind, size_t bufsize, uint8_t **buf)
{
    if (c->qhead == c->qlen)
        c->qhead = c->qlen = 0;
    if (c->qlen == c->qcap) {
        size_t cap = c->qcap ? c->qcap * 2 : 4; /* small: an idle session holds it */
        struct act_item *n = realloc(c->q, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        c->q = n;
        c->qcap = cap;
    }
    uint8_t *b = NULL;
    if (bufsize) {
        b = malloc(bufsize);
        if (b == NULL)
            return NULL;
    }
    struct act_item *it = &c->q[c->qlen++];
    memset(it, 0, sizeof(*it));
    it->a.kind = kind;
    it->a.session = c->s;
    it->buf = b;
    if (buf)
        *buf = b;
    return &it->a;
}

int mbws_conn_next_action(mbws_conn *c, mbws_action *out)
{
    free(c->cur_buf);
    c->cur_buf = NULL;
    if (c->qhead == c->qlen) {
        c->qhead = c->qlen = 0;
        return 0;
    }
    struct act_item *it = &c->q[c->qhead++];
    *out = it->a;
    c->cur_buf = it->buf;
    return 1;
}

void conn_end_session(mbws_conn *c, enum mbws_end_reason why)
{
    mbws_session *s = c->s;
    if (s == NULL)
        return;
    s->state = MBWS_SS_ENDED;
    if (s->conn == c)
        s->conn = NULL;
    mbws_action *a = conn_push(c, MBWS_ACT_SESSION_END, 0, NULL);
    if (a)
        a->end_reason = why;
    c->s = NULL;
}

void conn_detach_session(mbws_conn *c, uint64_t now)
{
    mbws_session *s = c->s;
    if (s == NULL)
        return;
    s->state = MBWS_SS_DETACHED;
    if (s->conn == c)
        s->conn = NULL;
    /* RES-2, RES-8; a client that learnt no session-expiry still tries 1 s */
    s->expires_at = now + (s->expiry_s ? s->expiry_s : 1) * 1000u;
    if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_EXPIRY_LATE)) /* breaks RES-2's 1000 ms */
        s->expires_at += 2000;
    mbws_action *a = conn_push(c, MBWS_ACT_DETACHED, 0, NULL);
    if (a)
        a->expires_at = s->expires_at;
    c->s = NULL;
}

/* RES-2: the connection is over; does the session live on? peer_code is
 * the close code the other side sent (0 when we closed). */
static void conn_finalize(mbws_conn *c, int peer_code, uint64_t now)
{
    if (c->session_final)
        return;
    c->session_final = 1;
    mbws_session *s = c->s;
    if (s == NULL)
        return;
    if (s->state == MBWS_SS_NEW) { /* client: CONNECTED never came */
        conn_end_session(c, c->error_seen ? MBWS_END_ERROR : MBWS_END_CLOSED);
        return;
    }
    if (s->state == MBWS_SS_DETACHED) { /* client: a resume that did not complete */
        if (c->refused)
            conn_end_session(c, MBWS_END_REFUSED);
        else
            conn_detach_session(c, now);
        return;
    }
    if (!conn_is_client(c) && c->state == MBWS_CS_DISC_SENT && !c->error_seen &&
        mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_DISCONNECT_RESUMABLE)) {
        s->disconnecting = 0; /* fault: as if no DISCONNECT had been sent */
        conn_detach_session(c, now);
        return;
    }
    if (c->error_seen)
        conn_end_session(c, MBWS_END_ERROR); /* ERR-2 */
    else if (c->disc_seen || s->disconnecting)
        conn_end_session(c, MBWS_END_DISCONNECT); /* SES-7 */
    else if (conn_is_client(c) && peer_code == MBWS_CLOSE_TAKEOVER &&
             !mbws_fault_on(c->cfg.fault, MBWS_FAULT_CLIENT_RESUME_AFTER_TAKEOVER))
        conn_end_session(c, MBWS_END_TAKEOVER); /* RES-7 */
    else if (c->cfg.subprotocol == MBWS_SP_MBLWS ||
             (!conn_is_client(c) && mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_DROP_ON_LOSS)))
        conn_end_session(c, MBWS_END_CLOSED); /* RES-9 */
    else
        conn_detach_session(c, now);
}

static void timers_off(mbws_conn *c)
{
    c->t_connect = c->t_ack = c->t_close = NO_DEADLINE;
}

void conn_close(mbws_conn *c, int code, uint64_t now)
{
    if (c->state == MBWS_CS_CLOSING || c->state == MBWS_CS_CLOSED ||
        c->state == MBWS_CS_TAKEN_OVER)
        return;
    mbws_action *a = conn_push(c, MBWS_ACT_CLOSE, 0, NULL);
    if (a)
        a->close_code = code;
    c->state = MBWS_CS_CLOSING;
    timers_off(c);
    conn_finalize(c, 0, now);
}

void mbws_conn_start(mbws_conn *c, uint64_t now)
{
    if (c->state != MBWS_CS_NEW)
        return;
    if (conn_is_client(c)) {
        conn_send_connect(c, now);
    } else {
        c->state = MBWS_CS_AWAIT_CONNECT;
        c->t_connect = now + MBWS_CONNECT_TIMEOUT_MS;
        if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_NO_CONNECT_TIMEOUT))
            c->t_connect = NO_DEADLINE;
    }
}

void mbws_conn_closed(mbws_conn *c, int close_code, uint64_t now)
{
    if (c->state == MBWS_CS_CLOSED)
        return;
    timers_off(c);
    if (c->state != MBWS_CS_TAKEN_OVER)
        conn_finalize(c, close_code, now);
    c->state = MBWS_CS_CLOSED;
}

void mbws_conn_tick(mbws_conn *c, uint64_t now)
{
    if (now >= c->t_connect) {
        c->t_connect = NO_DEADLINE;
        if (c->state == MBWS_CS_AWAIT_CONNECT) /* SES-2: binary, nothing caused it (SES-6) */
            conn_fail(c, MBWS_E_CONNECT_TIMEOUT, "no CONNECT within 5 seconds", 0, 0,
                      MBWS_ENC_BINARY, now);
    }
    if (now >= c->t_ack)
        conn_ack_now(c, now);
    if (now >= c->t_close) {
        c->t_close = NO_DEADLINE;
        conn_close(c, c->close_code_at_t, now);
    }
}

uint64_t mbws_conn_deadline(const mbws_conn *c)
{
    uint64_t d = c->t_connect;
    if (c->t_ack < d)
        d = c->t_ack;
    if (c->t_close < d)
        d = c->t_close;
    return d;
}

void mbws_conn_flush(mbws_conn *c, uint64_t now)
{
    if (c->t_ack != NO_DEADLINE && conn_ack_delay(c) == c->cfg.ack_delay_ms)
        conn_ack_now(c, now); /* not when a fault holds ACKs back */
}

enum mbws_conn_state mbws_conn_state(const mbws_conn *c)
{
    return c->state;
}

mbws_session *mbws_conn_session(const mbws_conn *c)
{
    return c->s;
}

void *mbws_conn_user(const mbws_conn *c)
{
    return c->user;
}

int mbws_conn_encoding(const mbws_conn *c)
{
    return c->enc_known ? (int)c->enc : -1;
}

uint64_t mbws_conn_peer_max_frame(const mbws_conn *c)
{
    return c->peer_max_frame;
}
