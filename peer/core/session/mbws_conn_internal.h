/* Private to the session core: the two objects' insides and the helpers
 * the mbws_conn_*.c / mbws_session*.c files share. */
#ifndef MBWS_CONN_INTERNAL_H
#define MBWS_CONN_INTERNAL_H

#include "mbws_conn.h"

#define NO_DEADLINE UINT64_MAX

/* One outgoing MESSAGE kept until acknowledged (ACK-5): buf holds
 * address, content-type and body back to back. */
struct mbws_out_msg {
    struct mbws_out_msg *next;
    uint64_t seq, tag, sub;
    int has_sub, has_ct;
    size_t alen, clen, blen;
    uint8_t *buf;
};

struct mbws_session {
    enum mbws_session_state state;
    enum mbws_role role;
    enum mbws_subprotocol sp;
    char token[MBWS_SESSION_TOKEN_MAX + 1];
    size_t token_len;
    int disconnecting;      /* a DISCONNECT was sent or received (SES-7, RES-6) */
    mbws_conn *conn;        /* attached connection, or NULL */
    uint64_t expiry_s, expires_at;
    void *user;
    enum mbws_encoding enc; /* session encoding (SES-6) */
    /* RES-3: the largest max-frame each side advertised in the session. */
    uint64_t own_max_frame, peer_max_frame;

    /* Outgoing direction. */
    uint64_t out_next_seq; /* next seq to assign (SEQ-1) */
    uint64_t out_sent_max; /* highest seq sent on any connection (ACK-3) */
    uint64_t out_acked;    /* ACK-4 */
    uint64_t out_limit;    /* FLOW */
    uint64_t out_wire;     /* highest seq sent on the current connection (RES-4) */
    struct mbws_out_msg *out_head, *out_tail;
    size_t out_count;

    /* Incoming direction. */
    uint64_t in_last_seq;  /* SEQ-2, SEQ-3 */
    uint64_t in_accepted;  /* ACK-1 (manual accept) */
    uint64_t in_acked;     /* highest seq we sent an ACK for */
    uint64_t in_limit;     /* FLOW-3 */
    int window_held;       /* FLOW-5 exception (broker) */

    uint64_t *subs;        /* active subscription ids */
    size_t nsubs, subs_cap;
};

struct act_item {
    mbws_action a;
    uint8_t *buf; /* owns what a's pointers point to */
};

struct mbws_conn {
    mbws_conn_config cfg;
    void *user;
    mbws_session *s;        /* attached session, or NULL */
    enum mbws_conn_state state;
    int enc_known;
    enum mbws_encoding enc; /* session encoding once known */
    uint64_t own_max_frame; /* what we advertised (SES-9 limit) */
    uint64_t peer_max_frame;
    uint64_t window;        /* FLOW-5 policy */
    int resuming;           /* CONNECT carried a session (client sent / broker got) */
    int session_final;      /* RES-2 decided for this conn */
    int error_seen;         /* an ERROR was sent or received on this conn */
    int disc_seen;          /* a DISCONNECT was sent or received */
    int refused;            /* client: resume answered with ERROR 12 or 13 */

    /* Timers (absolute ms, NO_DEADLINE when off). */
    uint64_t t_connect;     /* SES-2 */
    uint64_t t_ack;         /* ACK-2 / SEQ-3 coalesced ACK */
    uint64_t t_close;       /* SES-7 and ERR-3 close timers */
    int close_code_at_t;    /* close code when t_close fires */
    int force_ack;          /* SEQ-3: re-ACK current last-seq */

    /* Action queue. */
    struct act_item *q;
    size_t qhead, qlen, qcap;
    uint8_t *cur_buf;       /* buffer of the action last returned */
};

/* mbws_conn.c: action queue and lifecycle helpers. */
mbws_action *conn_push(mbws_conn *c, enum mbws_action_kind kind, size_t bufsize, uint8_t **buf);
void conn_close(mbws_conn *c, int code, uint64_t now);
void conn_end_session(mbws_conn *c, enum mbws_end_reason why);
void conn_detach_session(mbws_conn *c, uint64_t now);
int conn_is_client(const mbws_conn *c);

/* mbws_conn_send.c: frames out. */
int conn_send_frame(mbws_conn *c, const mbws_frame *f);
int conn_send_frame_enc(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc);
/* ERR-1: ERROR (seq if has_seq), CLOSE 4000+code, session ends (unless the
 * conn is answering a resuming CONNECT: ERR-2). enc: encoding for the
 * ERROR when the session encoding is not known yet. */
void conn_fail(mbws_conn *c, int code, const char *text, int has_seq, uint64_t seq,
               enum mbws_encoding enc, uint64_t now);
void conn_send_ack(mbws_conn *c, uint64_t seq);
uint64_t conn_ack_value(const mbws_conn *c);
void conn_ack_now(mbws_conn *c, uint64_t now);
void conn_want_ack(mbws_conn *c, uint64_t now);
uint32_t conn_ack_delay(const mbws_conn *c); /* cfg.ack_delay_ms unless a fault changes it */
void conn_keep_window(mbws_conn *c, uint64_t now);
void conn_flush_out(mbws_conn *c, uint64_t now);
int conn_grant(mbws_conn *c, uint64_t limit);
void conn_push_writable(mbws_conn *c);

/* mbws_conn_connect.c: CONNECT / CONNECTED. */
void conn_send_connect(mbws_conn *c, uint64_t now);
void conn_on_connect(mbws_conn *c, const mbws_frame *f, enum mbws_encoding enc, uint64_t now);
void conn_on_connected(mbws_conn *c, const mbws_frame *f, uint64_t now);

/* mbws_conn_disconnect.c: SES-7. */
void conn_on_disconnect(mbws_conn *c, uint64_t now);
void conn_disc_check_done(mbws_conn *c, uint64_t now);

/* mbws_session.c: the session's own bookkeeping. */
mbws_session *session_create(enum mbws_role role, enum mbws_subprotocol sp);
int session_sub_add(mbws_session *s, uint64_t sub);
int session_sub_remove(mbws_session *s, uint64_t sub);
/* Drops every held message with seq <= upto, emitting ACKED on c. */
void session_ack_upto(mbws_session *s, mbws_conn *c, uint64_t upto);
/* fault: the publishing conn's (seq-skip) */
struct mbws_out_msg *session_out_add(mbws_session *s, const mbws_msg *m, uint64_t tag,
                                     enum mbws_fault_id fault);
void session_frame_of(const struct mbws_out_msg *m, mbws_frame *f);

#endif
