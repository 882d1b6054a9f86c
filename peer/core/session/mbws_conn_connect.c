/* CONNECT and CONNECTED, both roles: new sessions (SES-1..3, RES-1,
 * FLOW-1), resume (RES-3..7, RES-9) and takeover (RES-7). */
#include <string.h>

#include "mbws_conn_internal.h"
#include "mbws_limits.h"
#include "mbws_fault.h"

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static void set_name(const mbws_conn *c, mbws_frame *f)
{
    static char long_name[1100];
    if (f->type == MBWS_CONNECT && mbws_fault_on(c->cfg.fault, MBWS_FAULT_CLIENT_CONNECT_OVER_1024)) {
        memset(long_name, 'n', sizeof long_name); /* SES-8 broken: a CONNECT over 1024 octets */
        mbws_frame_set_str(f, MBWS_F_NAME, long_name, sizeof long_name);
        return;
    }
    if (c->cfg.name && c->cfg.name[0])
        mbws_frame_set_cstr(f, MBWS_F_NAME, c->cfg.name);
}

static void attach(mbws_conn *c, mbws_session *s)
{
    c->s = s;
    s->conn = c;
    s->state = MBWS_SS_ATTACHED;
    s->enc = c->enc; /* SES-6: the (resuming) CONNECT's encoding */
    if (c->own_max_frame > s->own_max_frame)
        s->own_max_frame = c->own_max_frame;
    if (c->peer_max_frame > s->peer_max_frame)
        s->peer_max_frame = c->peer_max_frame;
}

/* RES-4 and RES-5, the same on both sides: what the other side reported
 * as received counts as acknowledged; limits take the larger value. */
static void resume_counters(mbws_conn *c, uint64_t peer_last_seq, uint64_t peer_credit)
{
    mbws_session *s = c->s;
    session_ack_upto(s, c, peer_last_seq);
    s->out_wire = s->out_acked; /* everything above is resent */
    if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_NO_RESEND))
        s->out_wire = s->out_sent_max;
    /* the res-limit-reset fault forgets the old limits */
    int res5 = !mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_LIMIT_RESET);
    s->out_limit = mbws_limit_on_connect(c->cfg.fault, s->out_limit, res5, peer_last_seq, peer_credit);
    s->in_limit = mbws_limit_on_connect(c->cfg.fault, s->in_limit, res5, s->in_last_seq, c->cfg.credit);
    s->in_acked = max64(s->in_acked, s->in_last_seq); /* our last-seq acknowledged them */
}

/* Session up: tell the application, then resend / send what waits. */
static void opened(mbws_conn *c, int resumed, uint64_t now)
{
    c->state = MBWS_CS_OPEN;
    c->t_connect = NO_DEADLINE;
    mbws_action *a = conn_push(c, MBWS_ACT_CONNECTED, 0, NULL);
    if (a)
        a->resumed = resumed;
    conn_flush_out(c, now);
    conn_push_writable(c);
}

/* ------------------------------------------------------------- client */

void conn_send_connect(mbws_conn *c, uint64_t now)
{
    (void)now;
    mbws_session *s = c->s;
    mbws_frame f;
    mbws_frame_init(&f, MBWS_CONNECT);
    mbws_frame_set_int(&f, MBWS_F_VERSION, mbws_fault_on(c->cfg.fault, MBWS_FAULT_CLIENT_CONNECT_VERSION_2)
                                               ? 2 : MBWS_PROFILE_VERSION);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, c->cfg.credit);
    mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, c->own_max_frame);
    if (s->state == MBWS_SS_DETACHED && s->token_len > 0 &&
        c->cfg.subprotocol == MBWS_SP_MBWS) { /* RES-3 */
        mbws_frame_set_str(&f, MBWS_F_SESSION, s->token, s->token_len);
        mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, s->in_last_seq);
        c->resuming = 1;
    }
    set_name(c, &f);
    conn_send_frame(c, &f);
    if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_CLIENT_SEND_BEFORE_CONNECTED)) { /* a FLOW that changes nothing */
        mbws_frame fl;
        mbws_frame_init(&fl, MBWS_FLOW);
        mbws_frame_set_int(&fl, MBWS_F_LIMIT,
                           mbws_limit_on_connect(c->cfg.fault, s->in_limit, 1, s->in_last_seq, c->cfg.credit));
        conn_send_frame(c, &fl);
    }
    c->state = MBWS_CS_AWAIT_CONNECTED;
}

void conn_on_connected(mbws_conn *c, const mbws_frame *f, uint64_t now)
{
    mbws_session *s = c->s;
    enum mbws_encoding enc = c->enc;
    int mbws = c->cfg.subprotocol == MBWS_SP_MBWS;
    uint64_t max_frame = f->num[MBWS_F_MAX_FRAME];
    /* ERR-4 step 6 (RES-3): max-frame below the one advertised before. */
    if (c->resuming && max_frame < s->peer_max_frame) {
        conn_fail(c, MBWS_E_MALFORMED, "max-frame below the session's earlier one (RES-3)", 0, 0,
                  enc, now);
        return;
    }
    int version_first = !mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_RESUME_BEFORE_VERSION);
    if (version_first && f->num[MBWS_F_VERSION] != MBWS_PROFILE_VERSION) { /* SES-3 */
        conn_fail(c, MBWS_E_VERSION, "unsupported version", 0, 0, enc, now);
        return;
    }
    uint64_t resumed = mbws ? f->num[MBWS_F_RESUMED] : 0;
    uint64_t last_seq = resumed ? f->num[MBWS_F_LAST_SEQ] : 0;
    if (c->resuming) {
        if (resumed == 1 && last_seq > s->out_sent_max) { /* RES-3: code 6 */
            conn_fail(c, MBWS_E_INVALID_ACK, "last-seq beyond the highest seq sent (RES-3)", 0, 0,
                      enc, now);
            return;
        }
        const mbws_bytes *t = &f->str[MBWS_F_SESSION];
        if (resumed != 1 || t->len != s->token_len || memcmp(t->ptr, s->token, t->len) != 0) {
            conn_fail(c, MBWS_E_UNEXPECTED, "resume answered with resumed 0 or another token (RES-3)",
                      0, 0, enc, now);
            return;
        }
    } else if (resumed == 1 && !mbws_fault_on(c->cfg.fault, MBWS_FAULT_CLIENT_ACCEPT_RESUMED_NEW)) { /* RES-3 */
        conn_fail(c, MBWS_E_UNEXPECTED, "resumed 1 in answer to a new session", 0, 0, enc, now);
        return;
    }
    if (!version_first && f->num[MBWS_F_VERSION] != MBWS_PROFILE_VERSION) { /* the fault */
        conn_fail(c, MBWS_E_VERSION, "unsupported version", 0, 0, enc, now);
        return;
    }
    c->peer_max_frame = max_frame;
    uint64_t credit = f->num[MBWS_F_CREDIT];
    if (mbws)
        s->expiry_s = f->num[MBWS_F_SESSION_EXPIRY];
    s->role = MBWS_ROLE_CLIENT;
    s->sp = c->cfg.subprotocol;
    attach(c, s);
    if (c->resuming) {
        resume_counters(c, last_seq, credit);
    } else {
        if (mbws) {
            const mbws_bytes *t = &f->str[MBWS_F_SESSION];
            memcpy(s->token, t->ptr, t->len);
            s->token[t->len] = 0;
            s->token_len = t->len;
        }
        s->out_limit = credit; /* FLOW-1 */
        s->in_limit = c->cfg.credit;
    }
    opened(c, c->resuming, now);
}

/* ------------------------------------------------------------- broker */

static void send_connected(mbws_conn *c, int resumed)
{
    mbws_session *s = c->s;
    mbws_frame f;
    mbws_frame_init(&f, MBWS_CONNECTED);
    mbws_frame_set_int(&f, MBWS_F_VERSION, MBWS_PROFILE_VERSION);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, c->cfg.credit);
    mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, c->own_max_frame);
    if (c->cfg.subprotocol == MBWS_SP_MBWS) { /* RES-1, RES-3 */
        mbws_frame_set_str(&f, MBWS_F_SESSION, s->token, s->token_len);
        mbws_frame_set_int(&f, MBWS_F_SESSION_EXPIRY, s->expiry_s);
        mbws_frame_set_int(&f, MBWS_F_RESUMED, (uint64_t)resumed);
        if (resumed)
            mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, s->in_last_seq);
    } else if (mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_MBLWS_SESSION_FIELDS)) { /* breaks RES-9 */
        mbws_frame_set_cstr(&f, MBWS_F_SESSION, "mblws");
        mbws_frame_set_int(&f, MBWS_F_SESSION_EXPIRY,
                           c->cfg.session_expiry_s ? c->cfg.session_expiry_s : 60);
        mbws_frame_set_int(&f, MBWS_F_RESUMED, 0);
    }
    set_name(c, &f);
    conn_send_frame(c, &f);
}

/* RES-7: the session leaves its old connection, which says nothing more. */
static void take_over(mbws_conn *c, mbws_session *s)
{
    mbws_conn *old = s->conn;
    if (old == NULL || old == c)
        return;
    old->s = NULL;
    old->session_final = 1;
    old->state = MBWS_CS_TAKEN_OVER;
    old->t_connect = old->t_ack = old->t_close = NO_DEADLINE;
    s->conn = NULL;
    mbws_action *a = conn_push(c, MBWS_ACT_TAKEOVER, 0, NULL);
    if (a) {
        a->old_user = old->user;
        a->session = s;
    }
}

static void resume(mbws_conn *c, mbws_session *s, const mbws_frame *f, uint64_t now)
{
    take_over(c, s);
    c->resuming = 1;
    if (s->own_max_frame > c->own_max_frame)
        c->own_max_frame = s->own_max_frame; /* RES-3 for our CONNECTED */
    attach(c, s);
    resume_counters(c, f->num[MBWS_F_LAST_SEQ], f->num[MBWS_F_CREDIT]);
    send_connected(c, 1);
    opened(c, 1, now);
}

static void fresh(mbws_conn *c, const mbws_frame *f, uint64_t now)
{
    mbws_session *s = session_create(MBWS_ROLE_BROKER, c->cfg.subprotocol);
    if (s == NULL) {
        conn_close(c, 1011, now);
        return;
    }
    if (c->cfg.subprotocol == MBWS_SP_MBWS) {
        char tok[MBWS_SESSION_TOKEN_MAX + 1];
        size_t n = c->cfg.new_token(c->cfg.app, tok, sizeof(tok));
        if (n == 0 || n > MBWS_SESSION_TOKEN_MAX) {
            mbws_session_free(s);
            conn_close(c, 1011, now);
            return;
        }
        memcpy(s->token, tok, n);
        s->token[n] = 0;
        s->token_len = n;
        s->expiry_s = c->cfg.session_expiry_s;
    }
    s->out_limit = f->num[MBWS_F_CREDIT]; /* FLOW-1: client's last-seq is 0 */
    if (s->out_limit == 0 && mbws_fault_on(c->cfg.fault, MBWS_FAULT_FLOW_IGNORE_CREDIT))
        s->out_limit = c->cfg.credit;
    s->in_limit = c->cfg.credit;
    attach(c, s);
    send_connected(c, 0);
    opened(c, 0, now);
}

/* SES-3: a CONNECT of another version is code 11. */
static int version_ok(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, uint64_t now)
{
    if (f->num[MBWS_F_VERSION] == MBWS_PROFILE_VERSION ||
        mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_ACCEPT_ANY_VERSION))
        return 1;
    conn_fail(c, MBWS_E_VERSION, "unsupported version (SES-3)", 0, 0, enc, now);
    return 0;
}

void conn_on_connect(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, uint64_t now)
{
    c->enc_known = 1; /* SES-6: the session encoding is the CONNECT's */
    c->enc = enc;
    int has_session = mbws_frame_has(f, MBWS_F_SESSION);
    int mbws = c->cfg.subprotocol == MBWS_SP_MBWS;
    mbws_session *found = NULL;
    if (mbws && has_session && c->cfg.find_session)
        found = c->cfg.find_session(c->cfg.app, (const char *)f->str[MBWS_F_SESSION].ptr,
                                    f->str[MBWS_F_SESSION].len);
    /* ERR-4 step 6 (RES-3): max-frame below the session's earlier one. */
    if (found && f->num[MBWS_F_MAX_FRAME] < found->peer_max_frame) {
        conn_fail(c, MBWS_E_MALFORMED, "max-frame below the session's earlier one (RES-3)", 0, 0,
                  enc, now);
        return;
    }
    /* Step 9, in ERR-4's order: version, then resume 13, 12, 6 (the fault
     * err-resume-before-version checks the version after them). */
    int version_first = !mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_RESUME_BEFORE_VERSION);
    if (version_first && !version_ok(c, f, enc, now))
        return;
    if (!mbws && mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_MBLWS_SESSION_ACCEPTED))
        has_session = 0;
    if (has_session && !mbws) {
        conn_fail(c, MBWS_E_RESUME_NOT_SUPPORTED, "no sessions on MBLWS.huawei.com (RES-9)", 0, 0,
                  enc, now);
        return;
    }
    if (found == NULL && mbws_fault_on(c->cfg.fault, MBWS_FAULT_RES_UNKNOWN_TOKEN_NEW_SESSION))
        has_session = 0;
    if (has_session && mbws_fault_on(c->cfg.fault, MBWS_FAULT_ERR_LAST_SEQ_BEFORE_SESSION) &&
        f->num[MBWS_F_LAST_SEQ] > (found ? found->out_sent_max : 0)) {
        conn_fail(c, MBWS_E_INVALID_ACK, "last-seq beyond the highest seq sent (RES-3)", 0, 0, enc,
                  now); /* fault: 6 before 12 */
        return;
    }
    if (has_session) {
        if (found == NULL || found->state == MBWS_SS_ENDED || found->disconnecting ||
            found->role != MBWS_ROLE_BROKER || (found->conn && found->conn->error_seen)) {
            conn_fail(c, MBWS_E_UNKNOWN_SESSION, "unknown session (RES-6)", 0, 0, enc, now);
            return;
        }
        if (f->num[MBWS_F_LAST_SEQ] > found->out_sent_max) {
            conn_fail(c, MBWS_E_INVALID_ACK, "last-seq beyond the highest seq sent (RES-3)", 0, 0,
                      enc, now);
            return;
        }
    }
    if (!version_first && !version_ok(c, f, enc, now))
        return;
    c->peer_max_frame = f->num[MBWS_F_MAX_FRAME];
    if (has_session)
        resume(c, found, f, now);
    else
        fresh(c, f, now);
}
