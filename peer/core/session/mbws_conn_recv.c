/* The receive path: size (SES-9), WS-6, decoding (ERR-4 steps 1-8, the
 * codec), then the state rules of step 9: session order (SES-5),
 * duplicates (SEQ-3), gap (SEQ-2), limit (FLOW-3), acks (ACK-3/4), flow
 * (FLOW-2), subscriptions (BRK-2/5), and ERROR (ERR-3). */
#include <string.h>

#include "mbws_conn_internal.h"
#include "mbws_limits.h"
#include "mbws_fault.h"

/* States in which every frame is dropped unread. */
static int ignoring(const mbws_conn *c)
{
    return c->state == MBWS_CS_NEW || c->state == MBWS_CS_CLOSING ||
           c->state == MBWS_CS_CLOSED || c->state == MBWS_CS_TAKEN_OVER ||
           c->state == MBWS_CS_ERROR_RECEIVED;
}

/* ERR-1: the offending MESSAGE's or ACK's seq, unless that seq field is
 * itself ill-formed (0 on a MESSAGE here; a repeated or mis-sized one the
 * caller rules out): then the ERROR carries none. */
static int frame_seq(const mbws_conn *c, const mbws_frame *f, uint64_t *seq)
{
    if (f->type == MBWS_MESSAGE && mbws_frame_has(f, MBWS_F_SEQ) && f->num[MBWS_F_SEQ] == 0 &&
        !mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_SEQ_ILL_FORMED))
        return 0;
    if ((f->type == MBWS_MESSAGE || f->type == MBWS_ACK) && mbws_frame_has(f, MBWS_F_SEQ)) {
        *seq = f->num[MBWS_F_SEQ];
        return 1;
    }
    return 0;
}

/* ERR-1 for a decoded frame: seq when it is a MESSAGE or an ACK. */
static void fail_on(mbws_conn *c, const mbws_frame *f, int code, const char *text,
                    enum mbws_encoding enc, uint64_t now)
{
    uint64_t seq = 0;
    int has = frame_seq(c, f, &seq);
    conn_fail(c, code, text, has, seq, enc, now);
}

int mbws_conn_check_size(mbws_conn *c, uint64_t octets_so_far, int is_text, uint64_t now)
{
    if (ignoring(c))
        return 1;
    if (octets_so_far <= c->own_max_frame || mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_MAX_FRAME_UNENFORCED))
        return 0;
    /* SES-9; after a DISCONNECT exchange it is just ignored (SES-7). */
    if (c->state != MBWS_CS_DISC_DONE)
        conn_fail(c, MBWS_E_TOO_LARGE, "frame larger than max-frame", 0, 0,
                  is_text ? MBWS_ENC_TEXT : MBWS_ENC_BINARY, now);
    return 1;
}

static void on_error(mbws_conn *c, const mbws_frame *f, uint64_t now)
{
    if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_ANSWER_ERROR)) { /* breaks ERR-3 */
        conn_fail(c, MBWS_E_UNEXPECTED, "ERROR received", 0, 0, c->enc, now);
        return;
    }
    uint64_t code = f->num[MBWS_F_CODE];
    const mbws_bytes *t = &f->str[MBWS_F_TEXT];
    size_t tlen = mbws_frame_has(f, MBWS_F_TEXT) ? t->len : 0;
    uint8_t *buf;
    mbws_action *a = conn_push(c, MBWS_ACT_ERROR, tlen + 1, &buf);
    if (a) {
        if (tlen)
            memcpy(buf, t->ptr, tlen);
        buf[tlen] = 0;
        a->error_code = code > 0x7fffffff ? 0x7fffffff : (int)code;
        a->text.ptr = buf;
        a->text.len = tlen;
        a->seq = mbws_frame_has(f, MBWS_F_SEQ) ? f->num[MBWS_F_SEQ] : 0;
    }
    c->error_seen = 1;
    if (conn_is_client(c) && c->state == MBWS_CS_AWAIT_CONNECTED && c->resuming &&
        (code == MBWS_E_UNKNOWN_SESSION || code == MBWS_E_RESUME_NOT_SUPPORTED))
        c->refused = 1;
    /* ERR-3: silent from now on; close 1002 if the sender has not closed. */
    c->state = MBWS_CS_ERROR_RECEIVED;
    c->t_connect = c->t_ack = NO_DEADLINE;
    c->t_close = now + MBWS_ERROR_WAIT_CLOSE_MS;
    c->close_code_at_t = MBWS_CLOSE_PROTOCOL;
}

static void deliver(mbws_conn *c, const mbws_frame *f)
{
    size_t alen = f->str[MBWS_F_ADDRESS].len;
    int has_ct = mbws_frame_has(f, MBWS_F_CONTENT_TYPE);
    size_t clen = has_ct ? f->str[MBWS_F_CONTENT_TYPE].len : 0;
    uint8_t *buf;
    mbws_action *a = conn_push(c, MBWS_ACT_DELIVER, alen + clen + f->body.len + 1, &buf);
    if (a == NULL)
        return;
    memcpy(buf, f->str[MBWS_F_ADDRESS].ptr, alen);
    if (clen)
        memcpy(buf + alen, f->str[MBWS_F_CONTENT_TYPE].ptr, clen);
    if (f->body.len)
        memcpy(buf + alen + clen, f->body.ptr, f->body.len);
    a->seq = f->num[MBWS_F_SEQ];
    a->has_sub = mbws_frame_has(f, MBWS_F_SUB);
    a->sub = a->has_sub ? f->num[MBWS_F_SUB] : 0;
    a->address.ptr = buf;
    a->address.len = alen;
    a->has_content_type = has_ct;
    a->content_type.ptr = buf + alen;
    a->content_type.len = clen;
    a->body.ptr = buf + alen + clen;
    a->body.len = f->body.len;
}

static void on_message(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, uint64_t now)
{
    mbws_session *s = c->s;
    uint64_t seq = f->num[MBWS_F_SEQ];
    if (seq <= s->in_last_seq) { /* SEQ-3: not delivered again, re-ACKed */
        if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_CLIENT_REDELIVER_RESENT) && c->resuming)
            deliver(c, f); /* RES-8 broken: the resent copy is delivered again */
        if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_SEQ_DUPLICATE_REDELIVERED)) {
            deliver(c, f);
            return;
        }
        c->force_ack = 1;
        conn_want_ack(c, now);
        return;
    }
    if (seq > s->in_last_seq + 1 && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_SEQ_GAP_ACCEPTED)) {
        if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_ACT_ON_OFFENDING))
            deliver(c, f); /* ERR-1 broken: acted on before the ERROR */
        fail_on(c, f, MBWS_E_SEQUENCE, "gap in MESSAGE seq (SEQ-2)", enc, now);
        return;
    }
    if (mbws_seq_over_limit(seq, s->in_limit) && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_FLOW_LIMIT_UNCHECKED)) {
        if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_ACT_ON_OFFENDING))
            deliver(c, f);
        fail_on(c, f, MBWS_E_CREDIT_EXCEEDED, "MESSAGE above the limit (FLOW-3)", enc, now);
        return;
    }
    s->in_last_seq = seq;
    if (!c->cfg.manual_accept)
        s->in_accepted = seq;
    deliver(c, f);
    conn_want_ack(c, now);
}

/* ACK-3, ACK-4. quiet: after a DISCONNECT exchange nothing is sent, so an
 * invalid ACK is ignored rather than answered. */
static void on_ack(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, int quiet,
                   uint64_t now)
{
    mbws_session *s = c->s;
    uint64_t seq = f->num[MBWS_F_SEQ];
    if (seq > s->out_sent_max) {
        if (!quiet && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_ACK_BEYOND_UNCHECKED))
            fail_on(c, f, MBWS_E_INVALID_ACK, "ACK beyond the highest seq sent (ACK-3)", enc, now);
        return;
    }
    if (seq <= s->out_acked) { /* stale */
        if (!quiet && mbws_fault_on(c->cfg.fault, MBWS_FAULT_ACK_STALE_ERROR))
            fail_on(c, f, MBWS_E_INVALID_ACK, "stale ACK", enc, now);
        return;
    }
    session_ack_upto(s, c, seq);
    conn_disc_check_done(c, now);
}

static void on_flow(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, uint64_t now)
{
    mbws_session *s = c->s;
    uint64_t limit = f->num[MBWS_F_LIMIT];
    if (limit < s->out_limit && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_FLOW_LOWER_ACCEPTED)) {
        fail_on(c, f, MBWS_E_FLOW, "FLOW lowers the limit (FLOW-2)", enc, now);
        return;
    }
    if (limit == s->out_limit)
        return;
    s->out_limit = limit;
    conn_flush_out(c, now);
    conn_push_writable(c);
}

static void on_subscription(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc,
                            uint64_t now)
{
    uint64_t sub = f->num[MBWS_F_SUB];
    int subscribe = f->type == MBWS_SUBSCRIBE;
    int rc = subscribe ? session_sub_add(c->s, sub) : session_sub_remove(c->s, sub);
    if (rc == MBWS_CMD_SUB) {
        fail_on(c, f, MBWS_E_INVALID_SUB,
                subscribe ? "sub id already active (BRK-2)" : "unknown sub id (BRK-5)", enc, now);
        return;
    }
    if (rc != MBWS_CMD_OK)
        return;
    size_t alen = subscribe ? f->str[MBWS_F_ADDRESS].len : 0;
    uint8_t *buf;
    mbws_action *a = conn_push(c, subscribe ? MBWS_ACT_SUBSCRIBE : MBWS_ACT_UNSUBSCRIBE,
                               alen + 1, &buf);
    if (a == NULL)
        return;
    if (alen)
        memcpy(buf, f->str[MBWS_F_ADDRESS].ptr, alen);
    a->sub = sub;
    a->has_sub = 1;
    a->address.ptr = buf;
    a->address.len = alen;
}

static void dispatch_open(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, uint64_t now)
{
    switch (f->type) {
    case MBWS_MESSAGE:
        on_message(c, f, enc, now);
        break;
    case MBWS_ACK:
        on_ack(c, f, enc, 0, now);
        break;
    case MBWS_FLOW:
        on_flow(c, f, enc, now);
        break;
    case MBWS_SUBSCRIBE:
    case MBWS_UNSUBSCRIBE:
        on_subscription(c, f, enc, now);
        break;
    case MBWS_DISCONNECT:
        conn_on_disconnect(c, now);
        break;
    case MBWS_ERROR:
        on_error(c, f, now);
        break;
    default: /* a second CONNECT, or CONNECTED after CONNECTED (SES-5) */
        if (f->type == MBWS_CONNECT && mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_SECOND_CONNECT_IGNORED))
            break;
        if ((f->type == MBWS_CONNECT || f->type == MBWS_CONNECTED) &&
            mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_VERSION_BEFORE_ORDER) &&
            f->num[MBWS_F_VERSION] != MBWS_PROFILE_VERSION) {
            fail_on(c, f, MBWS_E_VERSION, "unsupported version (SES-3)", enc, now);
            break;
        }
        fail_on(c, f, MBWS_E_UNEXPECTED, "frame not allowed after the session started (SES-5)",
                enc, now);
        break;
    }
}

void mbws_conn_recv(mbws_conn *c, const uint8_t *data, size_t len, int is_text, uint64_t now)
{
    if (ignoring(c))
        return;
    enum mbws_encoding enc = is_text ? MBWS_ENC_TEXT : MBWS_ENC_BINARY;
    int after_exchange = c->state == MBWS_CS_DISC_DONE;
    if (len > c->own_max_frame && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_MAX_FRAME_UNENFORCED)) {
        /* ERR-4 step 0: size */
        mbws_conn_check_size(c, len, is_text, now);
        return;
    }
    mbws_decode_ctx ctx = {.sender = conn_is_client(c) ? MBWS_ROLE_BROKER : MBWS_ROLE_CLIENT,
                           .subprotocol = c->cfg.subprotocol,
                           .fault = c->cfg.fault};
    mbws_frame f;
    mbws_frame_init(&f, 0);
    mbws_error_info ei;
    int rc = mbws_decode(data, len, enc, &ctx, &f, &ei);
    if (after_exchange) { /* SES-7: only ACKs count */
        if (rc == MBWS_OK && f.type == MBWS_ACK) /* quiet: an invalid one is ignored too */
            on_ack(c, &f, enc, !mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_ACK_AFTER_EXCHANGE_ERROR), now);
        return;
    }
    if (rc == MBWS_E_WS_INVALID_UTF8) { /* WS-6: no ERROR frame */
        conn_close(c, MBWS_CLOSE_INVALID_UTF8, now);
        return;
    }
    if (rc != MBWS_OK && mbws_fault_drops(c->cfg.fault, ei.rule))
        return; /* fault injection (docs/faults.md) */
    if (rc != MBWS_OK) {
        if (ei.field == MBWS_F_SEQ && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_SEQ_ILL_FORMED))
            conn_fail(c, rc, ei.message, 0, 0, enc, now); /* ERR-1: the seq field is bad */
        else
            fail_on(c, &f, rc, ei.message, enc, now);
        return;
    }
    switch (c->state) {
    case MBWS_CS_AWAIT_CONNECT:
        if (f.type == MBWS_CONNECT)
            conn_on_connect(c, &f, enc, now);
        else if (f.type == MBWS_ERROR)
            on_error(c, &f, now);
        else
            fail_on(c, &f, MBWS_E_UNEXPECTED, "first frame must be CONNECT (SES-5)", enc, now);
        break;
    case MBWS_CS_AWAIT_CONNECTED:
        if (f.type == MBWS_CONNECTED)
            conn_on_connected(c, &f, now);
        else if (f.type == MBWS_ERROR)
            on_error(c, &f, now);
        else
            fail_on(c, &f, MBWS_E_UNEXPECTED, "frame before CONNECTED (SES-5)", enc, now);
        break;
    case MBWS_CS_OPEN:
    case MBWS_CS_DISC_SENT:
        dispatch_open(c, &f, enc, now);
        break;
    default:
        break;
    }
}
