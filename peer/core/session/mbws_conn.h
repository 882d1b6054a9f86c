/* MBWS session core (profile sections 6 to 9 and 11): a pure state machine
 * for either role. No sockets, no clock: the transport feeds events (a
 * WebSocket message arrived, the WebSocket closed, time passed) and
 * application commands (publish, subscribe, accept, disconnect, ...), each
 * with the current time in milliseconds, and then drains the actions the
 * core emitted (send these bytes, close with this code, deliver this
 * message, ...) with mbws_conn_next_action().
 *
 * Two objects:
 *  - mbws_conn: one WebSocket connection, from the end of the handshake to
 *    the close. Created by the transport, one per connection.
 *  - mbws_session: what survives connections on MBWS.huawei.com (RES-2):
 *    token, sequence numbers, limits, unacknowledged outgoing messages
 *    (with copies of their content, ACK-5, RES-4) and active subscription
 *    ids. On MBLWS.huawei.com it ends with its connection.
 * The application OWNS every mbws_session (it frees it with
 * mbws_session_free after MBWS_ACT_SESSION_END or expiry); a conn only
 * borrows the session it is attached to. A client creates its session with
 * mbws_session_new() and hands it to each connection; a broker's conn
 * creates the session on a fresh CONNECT and hands it over in the
 * MBWS_ACT_CONNECTED action (resumed == 0): the broker puts it in its
 * session table then, and finds it again through find_session() on a
 * resuming CONNECT.
 *
 * This header declares the connection (mbws_conn_*); mbws_session.h the
 * session (mbws_session_*). See docs/session-core.md for the state machines
 * and a transport sketch. */
#ifndef MBWS_CONN_H
#define MBWS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_frame.h"
#include "mbws_layout.h"
#include "mbws_session.h"

typedef struct mbws_conn mbws_conn;

/* ---------------------------------------------------------------- config */

typedef struct mbws_conn_config {
    enum mbws_role role;               /* MBWS_ROLE_CLIENT or MBWS_ROLE_BROKER */
    enum mbws_subprotocol subprotocol; /* as negotiated in the handshake */
    /* Client: the session encoding (SES-6), used for CONNECT. A broker
     * learns it from the CONNECT and ignores this. */
    enum mbws_encoding encoding;
    /* credit advertised in CONNECT / CONNECTED (FLOW-1). A broker's must be
     * at least 1; a client may advertise 0 (it then grants with
     * mbws_conn_grant()). */
    uint64_t credit;
    /* FLOW-5 policy: after each ACK N the core grants limit N + window
     * (when that raises it). 0 means: use credit (at least 1). */
    uint64_t window;
    /* max-frame advertised (SES-8, >= 1024), and the size limit applied to
     * every frame received on this connection (SES-9). */
    uint64_t max_frame;
    /* Broker on MBWS: session-expiry advertised in CONNECTED (RES-1, >= 1). */
    uint64_t session_expiry_s;
    /* ACK-2: 0 acks every MESSAGE in the call that received it; otherwise
     * ACKs are coalesced and sent at most ack_delay_ms (< 1000) after the
     * first uncovered MESSAGE, or at mbws_conn_flush(). */
    uint32_t ack_delay_ms;
    /* ACK-1: 0 means a MESSAGE counts as accepted (broker: in its queue;
     * client: handed to the application) when MBWS_ACT_DELIVER is emitted.
     * 1 means the application accepts with mbws_conn_accept(seq); ACKs
     * cover only accepted messages. The application must accept every
     * delivered message soon: a DISCONNECT or resume reports everything
     * received as acknowledged (SES-7, RES-3). */
    int manual_accept;
    const char *name; /* optional `name` field in CONNECT / CONNECTED; NULL: none */
    /* This connection's fault switch (mbws_fault.h), also handed to the
     * decoder of the frames it receives; MBWS_FAULT_NONE: correct. */
    enum mbws_fault_id fault;

    /* Broker only, called during mbws_conn_recv() of a CONNECT. */
    void *app;
    /* Resume (RES-3): the session with this token, or NULL when unknown or
     * expired (-> ERROR 12). The broker owns the table. */
    mbws_session *(*find_session)(void *app, const char *token, size_t len);
    /* Fresh session on MBWS (RES-1): write a new unique token of 1 to 64
     * characters of A-Z a-z 0-9 _ - into buf and return its length (0 on
     * failure). Randomness stays outside the core. */
    size_t (*new_token)(void *app, char *buf, size_t cap);
} mbws_conn_config;

/* Fills a config with the defaults: credit 16, window 0, max_frame 65536,
 * session_expiry_s 30, ack_delay_ms 0, auto accept, binary, MBWS. */
void mbws_conn_config_default(mbws_conn_config *cfg, enum mbws_role role);

/* --------------------------------------------------------------- actions */

enum mbws_action_kind {
    /* Send data[0..len) as one WebSocket message, text when is_text.
     * frame_type names the MBWS frame (for logs). */
    MBWS_ACT_SEND = 1,
    /* Close the WebSocket with close_code. Nothing more will be sent. */
    MBWS_ACT_CLOSE,
    /* Broker: close the OTHER connection whose user pointer is old_user with
     * 4100 and no MBWS frame (RES-7). Emitted before the CONNECTED send. The
     * old conn is already inert: feed it its closed event and free it. */
    MBWS_ACT_TAKEOVER,
    /* The session is up: client got CONNECTED, broker sent it. session,
     * resumed (0: new session; a broker adds it to its table now). */
    MBWS_ACT_CONNECTED,
    /* A MESSAGE for the application: seq, address, sub/has_sub,
     * content_type/has_content_type, body. */
    MBWS_ACT_DELIVER,
    /* The other side acknowledged our MESSAGE seq, published with tag
     * (ACK-1, or RES-4 on resume). One action per message, in seq order. */
    MBWS_ACT_ACKED,
    /* Broker: the client subscribed sub to address / unsubscribed sub. */
    MBWS_ACT_SUBSCRIBE,
    MBWS_ACT_UNSUBSCRIBE,
    /* The send window opened (after CONNECTED, FLOW or resend): the session
     * can take another MESSAGE now (broker: a chance to pump queues). */
    MBWS_ACT_WRITABLE,
    /* An ERROR frame was sent (error_sent 1) or received (0): error_code,
     * text (may be empty). For logs and exit statuses (ECHO-3). */
    MBWS_ACT_ERROR,
    /* The connection was lost abnormally (RES-2) on MBWS: the session is
     * kept. Broker: until expires_at (check mbws_session_expired()).
     * Client: it may resume with a new conn on the same session (RES-8). */
    MBWS_ACT_DETACHED,
    /* The session ended for good (end_reason). Its unacknowledged and
     * unsent outgoing messages are still in it: take them with
     * mbws_session_pop_unacked() (broker: requeue, BRK-4), then free it. */
    MBWS_ACT_SESSION_END
};

enum mbws_end_reason {
    MBWS_END_DISCONNECT = 1, /* SES-7 */
    MBWS_END_ERROR,          /* ERROR sent or received (ERR-2) */
    MBWS_END_TAKEOVER,       /* client: closed with 4100, must not resume (RES-7) */
    MBWS_END_CLOSED,         /* MBLWS connection ended, or never got CONNECTED */
    MBWS_END_REFUSED         /* client: resume refused with ERROR 12 or 13 */
};

typedef struct mbws_action {
    enum mbws_action_kind kind;
    mbws_session *session;   /* the session concerned, or NULL */
    /* SEND */
    const uint8_t *data;
    size_t len;
    int is_text;
    uint8_t frame_type;
    /* CLOSE */
    int close_code;
    /* TAKEOVER */
    void *old_user;
    /* CONNECTED */
    int resumed;
    /* DELIVER, ACKED, SUBSCRIBE, UNSUBSCRIBE */
    uint64_t seq;
    uint64_t tag;
    uint64_t sub;
    int has_sub;
    mbws_bytes address;
    mbws_bytes content_type;
    int has_content_type;
    mbws_bytes body;
    /* ERROR */
    int error_code;
    int error_sent;
    mbws_bytes text;
    /* DETACHED */
    uint64_t expires_at;
    /* SESSION_END */
    enum mbws_end_reason end_reason;
} mbws_action;

/* Takes the next action; returns 1 (out filled) or 0 when there is none.
 * Pointers in out stay valid until the next call of this function on c or
 * mbws_conn_free(c). Drain after every event or command. */
int mbws_conn_next_action(mbws_conn *c, mbws_action *out);

/* ------------------------------------------------------------ connection */

enum mbws_conn_state {
    MBWS_CS_NEW = 0,        /* created, mbws_conn_start() not called yet */
    MBWS_CS_AWAIT_CONNECT,  /* broker: waiting for CONNECT (SES-2 timer) */
    MBWS_CS_AWAIT_CONNECTED,/* client: CONNECT sent */
    MBWS_CS_OPEN,
    MBWS_CS_DISC_SENT,      /* we sent DISCONNECT, waiting for the reply */
    MBWS_CS_DISC_DONE,      /* exchange complete: only ACKs count */
    MBWS_CS_ERROR_RECEIVED, /* got ERROR: silent, close 1002 after 2000 ms */
    MBWS_CS_CLOSING,        /* we emitted CLOSE: everything is ignored */
    MBWS_CS_TAKEN_OVER,     /* broker: session moved to another conn */
    MBWS_CS_CLOSED          /* mbws_conn_closed() was called */
};

/* A new connection whose WebSocket handshake just completed. cfg is copied
 * (the callbacks' app pointer and the name string must outlive c).
 * session: client, the session to start (new) or resume (detached, with a
 * token); broker, NULL. user: the transport's pointer for this connection
 * (named by MBWS_ACT_TAKEOVER). Returns NULL on bad config or memory. */
mbws_conn *mbws_conn_new(const mbws_conn_config *cfg, mbws_session *session, void *user);
/* Frees c. If still attached, the session is detached silently: call
 * mbws_conn_closed() first. */
void mbws_conn_free(mbws_conn *c);

/* Handshake done: client sends CONNECT (SES-1, resuming when its session
 * has a token, RES-3); broker starts the 5000 ms CONNECT timer (SES-2). */
void mbws_conn_start(mbws_conn *c, uint64_t now);

/* One whole WebSocket message (after reassembly). Enforces size (SES-9),
 * WS-6 (close 1007), decoding (ERR-4 steps 1-8) and the session rules. */
void mbws_conn_recv(mbws_conn *c, const uint8_t *data, size_t len, int is_text, uint64_t now);
/* For a message still arriving: octets_so_far is what arrived (or what a
 * WebSocket frame header announced) so far. Returns 0 to keep reading, 1
 * when the transport must discard the rest of this message and not call
 * mbws_conn_recv() for it: either it is too large (ERROR 3 was raised,
 * SES-9, without buffering more) or the conn ignores frames now. */
int mbws_conn_check_size(mbws_conn *c, uint64_t octets_so_far, int is_text, uint64_t now);

/* The WebSocket closed (close frame sent and/or received, or the TCP
 * connection dropped: use 1006 then). close_code is the code the peer sent
 * (or 1006). Decides RES-2: ends or detaches the session. */
void mbws_conn_closed(mbws_conn *c, int close_code, uint64_t now);

/* Time passed: fires due timers (SES-2, SES-7, ERR-3, delayed ACKs). */
void mbws_conn_tick(mbws_conn *c, uint64_t now);
/* The next time mbws_conn_tick() must be called; UINT64_MAX when none. */
uint64_t mbws_conn_deadline(const mbws_conn *c);
/* End of a received batch: send any coalesced ACK (and FLOW) now. */
void mbws_conn_flush(mbws_conn *c, uint64_t now);

/* Results of application commands. */
enum mbws_cmd_result {
    MBWS_CMD_OK = 0,
    MBWS_CMD_STATE = -1,     /* not allowed in this state (e.g. before CONNECTED, after DISCONNECT) */
    MBWS_CMD_TOO_LARGE = -2, /* the frame would exceed the peer's max-frame (SES-8); no seq used */
    MBWS_CMD_SUB = -3,       /* subscribe an active sub id / unsubscribe an unknown one (BRK-2/5) */
    MBWS_CMD_NOMEM = -4,
    MBWS_CMD_INVALID = -5    /* bad argument (empty address, lowering a limit, ...) */
};

typedef struct mbws_msg {
    const char *address;
    size_t address_len;
    const void *content_type; /* NULL: no content-type */
    size_t content_type_len;
    const void *body;
    size_t body_len;
    uint64_t sub; /* broker: the subscription delivered to (BRK-3) */
    int has_sub;  /* broker: must be 1; client: normally 0 */
} mbws_msg;

/* Publish (client) or deliver (broker) a MESSAGE. It gets the next seq
 * (SEQ-1, returned in *seq_out if not NULL) and is kept until ACKed
 * (ACK-5); if the window is closed it waits in the session until FLOW
 * opens it (FLOW-4). tag is returned in MBWS_ACT_ACKED and by
 * mbws_session_pop_unacked(). Allowed in MBWS_CS_OPEN only. */
int mbws_conn_publish(mbws_conn *c, const mbws_msg *m, uint64_t tag, uint64_t now,
                      uint64_t *seq_out);
/* 1 when a MESSAGE published now would go out at once (open, nothing
 * waiting, seq within the limit): BRK-2's "window is open". */
int mbws_conn_writable(const mbws_conn *c);
/* 1 when m would fit the peer's max-frame if published now (BRK-2). */
int mbws_conn_fits(const mbws_conn *c, const mbws_msg *m);

/* Client: SUBSCRIBE / UNSUBSCRIBE (MBWS_CS_OPEN only). */
int mbws_conn_subscribe(mbws_conn *c, uint64_t sub, const char *address, size_t address_len,
                        uint64_t now);
int mbws_conn_unsubscribe(mbws_conn *c, uint64_t sub, uint64_t now);
/* Start a DISCONNECT exchange (SES-7; MBWS_CS_OPEN only). */
int mbws_conn_disconnect(mbws_conn *c, uint64_t now);
/* manual_accept: every delivered MESSAGE with seq <= seq is accepted now. */
int mbws_conn_accept(mbws_conn *c, uint64_t seq, uint64_t now);
/* Send FLOW limit (must not be lower than the current one, FLOW-2). */
int mbws_conn_grant(mbws_conn *c, uint64_t limit, uint64_t now);
/* Broker: hold the window (1) while a queue this session published to is
 * at its bound (FLOW-5 exception, BRK-6); release (0) grants again. A
 * transport may also hold it for its own reasons (e.g. no FLOW until what
 * has arrived is read), for at most MBWS_WINDOW_HOLD_MAX_MS. */
int mbws_conn_hold_window(mbws_conn *c, int held, uint64_t now);
/* FLOW-5 gives a receiver 1000 ms after an ACK to grant beyond it; a hold
 * that is not BRK-6's ends within half that, leaving the rest to the loop. */
#define MBWS_WINDOW_HOLD_MAX_MS 500

enum mbws_conn_state mbws_conn_state(const mbws_conn *c);
mbws_session *mbws_conn_session(const mbws_conn *c);
void *mbws_conn_user(const mbws_conn *c);
/* The encoding frames are sent in now (SES-6); -1 while not known. */
int mbws_conn_encoding(const mbws_conn *c);
/* The max-frame the other side advertised (0 before CONNECT/CONNECTED). */
uint64_t mbws_conn_peer_max_frame(const mbws_conn *c);

#endif
