/* Frames out: encoding (SES-6), ERROR and close (ERR-1), ACK timing
 * (ACK-2, SEQ-3), keeping the window open (FLOW-5), and sending held
 * MESSAGEs within the limit (FLOW-3, FLOW-4, RES-4). */
#include <stdio.h>
#include <string.h>

#include "mbws_conn_internal.h"
#include "mbws_limits.h"
#include "mbws_fault.h"

static int frame_allowed(const mbws_conn *c)
{
    return c->state != MBWS_CS_CLOSING && c->state != MBWS_CS_CLOSED &&
           c->state != MBWS_CS_TAKEN_OVER && c->state != MBWS_CS_ERROR_RECEIVED;
}

int conn_send_frame_enc(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc)
{
    if (!frame_allowed(c))
        return -1;
    uint8_t small[256];
    size_t n = mbws_encode(f, enc, small, sizeof(small));
    uint8_t *buf;
    mbws_action *a = conn_push(c, MBWS_ACT_SEND, n ? n : 1, &buf);
    if (a == NULL)
        return -1;
    if (n <= sizeof(small))
        memcpy(buf, small, n);
    else
        mbws_encode(f, enc, buf, n);
    a->data = buf;
    a->len = n;
    a->is_text = enc == MBWS_ENC_TEXT;
    a->frame_type = f->type;
    return 0;
}

/* SES-6: the session encoding, except a MESSAGE whose body is not UTF-8. */
static enum mbws_encoding frame_encoding(const mbws_conn *c, const mbws_frame *f)
{
    if (f->type == MBWS_MESSAGE && !mbws_utf8_valid(f->body.ptr, f->body.len))
        return MBWS_ENC_BINARY;
    if (f->type == MBWS_MESSAGE && !conn_is_client(c) && mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_ALWAYS_BINARY))
        return MBWS_ENC_BINARY;
    return c->enc;
}

int conn_send_frame(mbws_conn *c, const mbws_frame *f)
{
    return conn_send_frame_enc(c, f, frame_encoding(c, f));
}

/* Octets f takes in the encoding it would be sent in now. */
static size_t frame_size(const mbws_conn *c, const mbws_frame *f, enum mbws_encoding *enc)
{
    uint8_t dummy[1];
    *enc = frame_encoding(c, f);
    return mbws_encode(f, *enc, dummy, 0);
}

void conn_fail(mbws_conn *c, int code, const char *text, int has_seq, uint64_t seq,
               enum mbws_encoding enc, uint64_t now)
{
    if (!frame_allowed(c) ||
        (c->state == MBWS_CS_DISC_DONE && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_ACK_AFTER_EXCHANGE_ERROR)))
        return; /* ERR-3 / SES-7: nothing is sent any more */
    /* The text must be a valid string field (BIN-6): printable ASCII only. */
    char t[160];
    size_t n = 0;
    for (; text && text[n] && n < sizeof(t) - 1; n++) {
        unsigned char ch = (unsigned char)text[n];
        t[n] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    t[n] = '\0';
    mbws_frame f;
    mbws_frame_init(&f, MBWS_ERROR);
    mbws_frame_set_int(&f, MBWS_F_CODE, (uint64_t)code);
    if (n)
        mbws_frame_set_str(&f, MBWS_F_TEXT, t, n);
    if (has_seq)
        mbws_frame_set_int(&f, MBWS_F_SEQ, seq);
    conn_send_frame_enc(c, &f, c->enc_known ? c->enc : enc);
    uint8_t *buf;
    mbws_action *a = conn_push(c, MBWS_ACT_ERROR, n + 1, &buf);
    if (a) {
        memcpy(buf, t, n + 1);
        a->error_code = code;
        a->error_sent = 1;
        a->text.ptr = buf;
        a->text.len = n;
        a->seq = seq;
    }
    c->error_seen = 1;
    conn_close(c, mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_CLOSE_1000) ? MBWS_CLOSE_NORMAL : MBWS_CLOSE_ERROR_BASE + code,
               now); /* ERR-1: at once */
}

uint64_t conn_ack_value(const mbws_conn *c)
{
    const mbws_session *s = c->s;
    if (c->cfg.manual_accept && s->in_accepted < s->in_last_seq)
        return s->in_accepted;
    return s->in_last_seq;
}

void conn_send_ack(mbws_conn *c, uint64_t seq)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_ACK);
    mbws_frame_set_int(&f, MBWS_F_SEQ, seq);
    if (conn_send_frame(c, &f) == 0 && seq > c->s->in_acked)
        c->s->in_acked = seq;
}

void conn_ack_now(mbws_conn *c, uint64_t now)
{
    c->t_ack = NO_DEADLINE;
    if (c->s == NULL || (c->state != MBWS_CS_OPEN && c->state != MBWS_CS_DISC_SENT)) {
        c->force_ack = 0;
        return;
    }
    uint64_t v = conn_ack_value(c);
    if (v > c->s->in_acked || (c->force_ack && v > 0))
        conn_send_ack(c, v);
    c->force_ack = 0;
    conn_keep_window(c, now);
}

uint32_t conn_ack_delay(const mbws_conn *c)
{
    if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_ACK_LATE) && !c->force_ack)
        return 2500; /* breaks ACK-2 beyond the cases' 500 ms tolerance; SEQ-3 re-ACKs keep their time */
    if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_DISCONNECT_WITHOUT_ACK) && !conn_is_client(c))
        return 500; /* within ACK-2: leaves room for a DISCONNECT to find ACKs owed */
    return c->cfg.ack_delay_ms;
}

void conn_want_ack(mbws_conn *c, uint64_t now)
{
    uint32_t delay = conn_ack_delay(c);
    if (delay == 0)
        conn_ack_now(c, now);
    else if (c->t_ack == NO_DEADLINE || now + delay < c->t_ack)
        c->t_ack = now + delay;
}

static void send_flow(mbws_conn *c, uint64_t limit)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_FLOW);
    mbws_frame_set_int(&f, MBWS_F_LIMIT, limit);
    if (conn_send_frame(c, &f) == 0)
        c->s->in_limit = limit;
}

int conn_grant(mbws_conn *c, uint64_t limit)
{
    if (limit < c->s->in_limit)
        return MBWS_CMD_INVALID; /* we never break FLOW-2 ourselves */
    if (limit > c->s->in_limit)
        send_flow(c, limit);
    return MBWS_CMD_OK;
}

void conn_keep_window(mbws_conn *c, uint64_t now)
{
    (void)now;
    /* SES-7: the DISCONNECT initiator sends no FLOW; the receiver of one
     * sends nothing after its reply. */
    int open = c->state == MBWS_CS_OPEN ||
               (c->state == MBWS_CS_DISC_SENT && mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_INITIATOR_FLOW));
    if (c->s == NULL || !open || c->s->window_held || mbws_fault_on(c->cfg.fault, MBWS_FAULT_FLOW_WINDOW_FROZEN))
        return;
    uint64_t target = mbws_limit_add(c->cfg.fault, c->s->in_acked, c->window);
    if (c->s->in_acked > 0 || c->cfg.credit > 0)
        if (target > c->s->in_limit)
            send_flow(c, target);
}

static void send_held(mbws_conn *c, const struct mbws_out_msg *m)
{
    mbws_frame f;
    session_frame_of(m, &f);
    enum mbws_encoding enc;
    size_t n = frame_size(c, &f, &enc);
    /* SES-6 after a resume in another encoding: a resent MESSAGE that no
     * longer fits goes in the encoding it was first sent in (the other one;
     * fault ses-resend-session-encoding keeps the session encoding). */
    if (n > c->peer_max_frame && enc == c->enc &&
        !mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_RESEND_SESSION_ENCODING)) {
        enum mbws_encoding other = enc == MBWS_ENC_TEXT ? MBWS_ENC_BINARY : MBWS_ENC_TEXT;
        uint8_t dummy[1];
        if (mbws_encode(&f, other, dummy, 0) <= c->peer_max_frame)
            enc = other;
    }
    conn_send_frame_enc(c, &f, enc);
}

void conn_flush_out(mbws_conn *c, uint64_t now)
{
    (void)now;
    mbws_session *s = c->s;
    if (s == NULL || c->state != MBWS_CS_OPEN)
        return;
    for (const struct mbws_out_msg *m = s->out_head; m; m = m->next) {
        if (m->seq <= s->out_wire)
            continue;
        if (m->seq > s->out_limit)
            break; /* FLOW-3 / FLOW-4: wait for FLOW */
        send_held(c, m);
        s->out_wire = m->seq;
        if (m->seq > s->out_sent_max)
            s->out_sent_max = m->seq;
    }
}

int mbws_conn_writable(const mbws_conn *c)
{
    const mbws_session *s = c->s;
    return s && c->state == MBWS_CS_OPEN && s->out_wire + 1 == s->out_next_seq &&
           s->out_next_seq <= s->out_limit;
}

void conn_push_writable(mbws_conn *c)
{
    if (mbws_conn_writable(c))
        conn_push(c, MBWS_ACT_WRITABLE, 0, NULL);
}

static void msg_frame(const mbws_conn *c, const mbws_msg *m, mbws_frame *f)
{
    mbws_frame_init(f, MBWS_MESSAGE);
    mbws_frame_set_int(f, MBWS_F_SEQ, c->s ? c->s->out_next_seq : 1);
    mbws_frame_set_str(f, MBWS_F_ADDRESS, m->address, m->address_len);
    if (m->has_sub)
        mbws_frame_set_int(f, MBWS_F_SUB, m->sub);
    if (m->content_type)
        mbws_frame_set_str(f, MBWS_F_CONTENT_TYPE, m->content_type, m->content_type_len);
    f->body.ptr = m->body;
    f->body.len = m->body_len;
}

int mbws_conn_fits(const mbws_conn *c, const mbws_msg *m)
{
    if (c->peer_max_frame == 0)
        return 0;
    if (!conn_is_client(c) && mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_SEND_ABOVE_MAX_FRAME))
        return 1;
    mbws_frame f;
    msg_frame(c, m, &f);
    enum mbws_encoding enc;
    return frame_size(c, &f, &enc) <= c->peer_max_frame;
}

int mbws_conn_publish(mbws_conn *c, const mbws_msg *m, uint64_t tag, uint64_t now,
                      uint64_t *seq_out)
{
    if (c->state != MBWS_CS_OPEN || c->s == NULL)
        return MBWS_CMD_STATE;
    if (m->address == NULL || m->address_len == 0 || m->address_len > MBWS_ADDRESS_MAX ||
        (m->content_type && m->content_type_len == 0) || (m->body_len && m->body == NULL) ||
        (!conn_is_client(c) && !m->has_sub))
        return MBWS_CMD_INVALID;
    if (!mbws_conn_fits(c, m))
        return MBWS_CMD_TOO_LARGE; /* SES-8, ECHO-1: no seq used */
    struct mbws_out_msg *o = session_out_add(c->s, m, tag, c->cfg.fault);
    if (o == NULL)
        return MBWS_CMD_NOMEM;
    if (seq_out)
        *seq_out = o->seq;
    conn_flush_out(c, now);
    return MBWS_CMD_OK;
}
