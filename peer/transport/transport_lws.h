/* The reference peer's WebSocket transport, on libwebsockets 4.1: one
 * event loop serving a listening vhost (ws:// or wss://), outgoing client
 * connections, whole messages reassembled from fragments with a size limit
 * enforced while they arrive, queued sends, closes with a code, and timers.
 * Single-threaded: every callback runs inside tp_service(). */
#ifndef TRANSPORT_LWS_H
#define TRANSPORT_LWS_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_fault.h"

typedef struct tp_ctx tp_ctx;
typedef struct tp_conn tp_conn;

typedef struct tp_events {
    /* The WebSocket handshake completed (both roles). */
    void (*open)(tp_conn *c);
    /* One whole WebSocket message (WS-4). */
    void (*message)(tp_conn *c, int text, const uint8_t *p, size_t len);
    /* The message arriving is larger than the limit (SES-9). Called once,
     * as soon as the announced or received length passes it; the rest of
     * that message is discarded unbuffered. */
    void (*too_large)(tp_conn *c, int text);
    /* The connection is gone; c is freed right after this returns.
     * opened: 0 when the handshake never completed (refused, unreachable).
     * peer_code: the close code the peer sent, 1005 for a close without
     * code, 0 when the peer sent no close frame at all. */
    void (*closed)(tp_conn *c, int opened, int peer_code);
    /* Optional: the end of a loop turn in which c received messages; the
     * place to send coalesced ACKs (mbws_conn_flush). */
    void (*batch_end)(tp_conn *c);
} tp_events;

/* The event loop under libwebsockets (transport_loop.h). */
enum tp_event_loop {
    TP_LOOP_DEFAULT = 0, /* the fast one: libev */
    TP_LOOP_POLL,        /* lws's own poll() loop */
    TP_LOOP_UV,          /* libuv (epoll) */
    TP_LOOP_EV,          /* libev (epoll) */
};
#define TP_EVENT_LOOP_NAMES "libev (default), libuv or poll"
/* "poll", "libuv"/"uv", "libev"/"ev". Returns 0, or -1 for another name. */
int tp_event_loop_parse(const char *name, enum tp_event_loop *out);
const char *tp_event_loop_name(enum tp_event_loop kind);

typedef struct tp_options {
    const char *listen_host; /* NULL: no listening socket */
    int listen_port;         /* 0: any free port */
    const char *cert, *key;  /* both set: wss:// */
    /* Client connections to wss:// verify the broker's certificate (and host
     * name) against this CA file; NULL: any certificate is accepted. */
    const char *ca_file;
    /* Subprotocols the server accepts, in our order of preference (the
     * client's order decides, WS-2). NULL-terminated. */
    const char *const *subprotocols;
    size_t rx_chunk;         /* libwebsockets receive buffer; 0: 16384 */
    int quiet_lws;           /* only libwebsockets errors on stderr */
    int client_tls;          /* wss:// connections will be made (TLS is set up
                                only when needed: it costs ~20 ms of CPU) */
    enum tp_event_loop event_loop;
    /* This context's fault switch (mbws_fault.h): the transport's own
     * faults (ws-select-last); MBWS_FAULT_NONE: correct. */
    enum mbws_fault_id fault;
} tp_options;

tp_ctx *tp_new(const tp_options *o, const tp_events *ev, void *user);
void tp_free(tp_ctx *t); /* closes every connection, no events */
void *tp_user(tp_ctx *t);
int tp_port(tp_ctx *t);  /* the listening port, or -1 */
int tp_is_tls(tp_ctx *t);
/* Run the loop once, waiting at most timeout_ms. Returns <0 on failure. */
int tp_service(tp_ctx *t, int timeout_ms);
/* Makes a tp_service() waiting in another thread or a signal handler's
 * loop return soon (async-signal-safe enough: writes a pipe). */
void tp_wake(tp_ctx *t);

/* Open a client connection to ws://host:port/path or wss://...; offers the
 * comma-separated subprotocols (WS-1). ev: this connection's events (NULL:
 * the context's). Returns NULL on a bad URL; failures to connect come later
 * as closed(opened=0). */
tp_conn *tp_connect(tp_ctx *t, const char *url, const char *subprotocols, const tp_events *ev,
                    void *user);

void tp_conn_set_user(tp_conn *c, void *user);
void *tp_conn_user(const tp_conn *c);
tp_ctx *tp_conn_ctx(const tp_conn *c);
int tp_conn_is_client(const tp_conn *c);
/* The negotiated subprotocol; "" when the handshake response named none. */
const char *tp_conn_subprotocol(const tp_conn *c);
/* "127.0.0.1:54321", for logs. */
const char *tp_conn_peer(const tp_conn *c);
unsigned long tp_conn_id(const tp_conn *c);

/* Largest message accepted (SES-9); 0 means no limit. */
void tp_set_max_message(tp_conn *c, size_t max);
/* Queue one message (copied). Returns 0, or -1 when closing or out of memory. */
int tp_send(tp_conn *c, int text, const void *p, size_t len);
size_t tp_queued_bytes(const tp_conn *c);
/* Octets that have arrived on the socket but are not read yet (FIONREAD;
 * under TLS, the encrypted ones): 0 when nothing more is waiting. */
size_t tp_conn_unread(const tp_conn *c);
/* Close with code once the queued messages are written. */
void tp_close(tp_conn *c, int code);
/* Drop the TCP connection at once, no close frame (tests, timeouts). */
void tp_abort(tp_conn *c);

/* Timers on the loop. A timer lives inside its owner's struct. */
typedef struct tp_timer tp_timer;
typedef void (*tp_timer_fn)(tp_timer *tm);
struct tp_timer {
    uint64_t due_us, seq; /* when armed (lws_now_usecs()), and in what order */
    size_t slot;          /* 1 + place in the context's timer heap; 0: not armed */
    tp_ctx *t;
    tp_timer_fn fn;
    void *user;
};
void tp_timer_init(tp_timer *tm, tp_ctx *t, tp_timer_fn fn, void *user);
void tp_timer_in(tp_timer *tm, uint64_t ms); /* (re)arm: fire ms from now */
void tp_timer_cancel(tp_timer *tm);

/* Monotonic milliseconds: the time the session core is given. */
uint64_t tp_now_ms(void);

#endif
