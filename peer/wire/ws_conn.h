/* One WebSocket connection of the conformance engine over a non-blocking
 * POSIX socket: the opening handshake in either role, a write queue, and a
 * reader that reassembles messages, answers Pings and records what arrives
 * as a queue of events, over TCP (ws://) or TLS (wss://, ws_tls.h). The
 * engine decides what to send,
 * byte for byte; this layer never refuses to send anything. */
#ifndef WS_CONN_H
#define WS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "ws_frame.h"
#include "ws_handshake.h"
#include "ws_tls.h"

enum ws_event_kind {
    WS_EV_MESSAGE = 1, /* a complete text or binary message */
    WS_EV_PONG,        /* kept apart from the others, in the pong queue */
    WS_EV_CLOSE,       /* the peer's Close frame: code (1005 when none) */
    WS_EV_EOF,         /* TCP closed (or reset) without a Close frame first */
    WS_EV_VIOLATION    /* the peer broke RFC 6455; the connection is dropped */
};

typedef struct ws_event {
    enum ws_event_kind kind;
    int opcode;      /* message: WS_OP_TEXT or WS_OP_BINARY */
    uint8_t *data;   /* message or pong payload, close reason (NUL-terminated) */
    size_t len;
    int code;        /* close code */
    int fragments;   /* WebSocket frames the message came in */
    double t_ms;     /* arrival time (ws_clock_ms) */
    char note[160];  /* EOF / violation: what happened */
    struct ws_event *next;
} ws_event;

typedef struct ws_queue {
    ws_event *head, *tail;
    size_t n; /* events queued */
} ws_queue;

/* What one connection may hold, so that a hostile peer cannot take the
 * engine's memory or time: beyond a bound the connection is failed with a
 * WS_EV_VIOLATION whose note begins "target flooded". */
typedef struct ws_limits {
    size_t max_buffered; /* octets: a frame or message received, the write queue */
    size_t max_events;   /* events and pongs queued and not yet consumed */
    uint64_t max_frames; /* frames received on the connection in all */
} ws_limits;

#define WS_DEFAULT_MAX_BUFFERED (16u << 20)
#define WS_DEFAULT_MAX_EVENTS 2000u
#define WS_DEFAULT_MAX_FRAMES 100000u

/* Called for every WebSocket frame that goes out or comes in. msg/msg_len
 * is the whole message when this frame completes a data message (NULL
 * otherwise), for the log to decode. */
struct ws_conn;
typedef void (*ws_log_fn)(void *arg, struct ws_conn *c, int out, int fin, int opcode,
                          const uint8_t *payload, size_t len, uint64_t announced,
                          const uint8_t *msg, size_t msg_len);

typedef struct ws_conn {
    int fd;             /* -1 once closed */
    int id;             /* connection number for the log */
    int server;         /* 1: we accepted (unmasked out, masked in) */
    int auto_pong;      /* answer Pings (default 1) */
    int close_sent, close_received, eof, write_broken;
    int close_code;     /* the peer's close code */
    char end_note[160]; /* why reading or writing ended ("" while it goes on) */
    char sel_protocol[256]; /* negotiated subprotocol ("" when none) */
    int sel_present;    /* a Sec-WebSocket-Protocol header was in the answer */
    char offered[1024]; /* server role: the client's offer, as sent */
    int offered_present;
    int http_status;    /* client role: the upgrade answer's status */
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint8_t *frag;      /* message being reassembled */
    size_t flen, fcap;
    int frag_op, nfrag;
    int out_op;         /* opcode of the message being sent */
    ws_queue events, pongs;
    ws_log_fn log;
    void *arg;
    ws_limits lim;
    uint64_t frames_in; /* frames received */
    uint64_t pings_in;  /* of which Pings */
    double t_open;      /* when the connection was set up (ws_clock_ms) */
    double deadline;    /* ws_pump's: reading and parsing stop there */
    ws_tls_ctx *tls_ctx; /* set before open/accept for wss:// (not owned) */
    void *tls;           /* the connection's SSL, NULL on ws:// */
} ws_conn;

/* WS_TLS_FAIL: the TLS handshake failed, or one side spoke TLS and the
 * other did not (err says which and what to fix). */
enum { WS_OK = 0, WS_TIMEOUT = -1, WS_FAIL = -2, WS_TLS_FAIL = -3 };

/* lim NULL: the WS_DEFAULT_* bounds. */
void ws_conn_init(ws_conn *c, int id, ws_log_fn log, void *arg, const ws_limits *lim);
void ws_conn_free(ws_conn *c);
/* Abrupt end: close the socket without a Close frame (nor a TLS
 * close_notify). rst sends a TCP RST. */
void ws_conn_drop(ws_conn *c, int rst);

/* Client role. TCP connect to host:port (then TLS when tls_ctx is set, with
 * host as SNI and the name to verify) and send the upgrade request
 * offering offers (NULL: no Sec-WebSocket-Protocol header), then read the
 * answer. WS_OK when an answer arrived (see http_status, sel_*), WS_FAIL
 * with err filled when TCP or HTTP failed, WS_TIMEOUT at deadline. */
int ws_client_open(ws_conn *c, const char *host, int port, const char *path,
                   const char *offers, double deadline, char *err, size_t errlen);

/* TCP connect and the TLS handshake only (c->tls_ctx set): how a target's
 * TLS is checked before a run. WS_TLS_FAIL when TLS was refused. */
int ws_tls_probe(ws_conn *c, const char *host, int port, double deadline, char *err,
                 size_t errlen);

/* Server role. Listening socket; WS_OK with the accepted socket in c (its
 * request read, by head_deadline: offered*), WS_TIMEOUT when no connection
 * came by deadline, or WS_FAIL. */
int ws_listen(const char *host, int port, int *fd_out, int *port_out, char *err, size_t errlen);
int ws_server_accept(ws_conn *c, int lfd, double deadline, double head_deadline, char *err,
                     size_t errlen);
/* Answers the request: 101 with protocol (NULL: no header), or status >= 400. */
int ws_server_respond(ws_conn *c, int status, const char *protocol);

/* Queue one WebSocket frame (masked in client role). announced, when
 * not 0, is the length written in the header whatever len is (for headers
 * that announce more than is ever sent). */
void ws_send_frame(ws_conn *c, int fin, int rsv, int opcode, const uint8_t *payload, size_t len,
                   uint64_t announced, const uint8_t *whole_msg, size_t whole_len);
void ws_send_close(ws_conn *c, int code, const char *reason);
void ws_send_raw(ws_conn *c, const uint8_t *p, size_t len);

/* Polls the given connections once, up to deadline: writes what is queued,
 * reads and parses what arrived. Returns when something happened or at the
 * deadline; reading and parsing stop at the deadline too (what is left
 * stays buffered for the next call). */
void ws_pump(ws_conn **cs, size_t n, double deadline);
/* Takes octets as if read from the socket: parses, reassembles, queues
 * events (ws_reader.c). ws_pump calls it; the fuzzer calls it directly. */
void ws_conn_feed(ws_conn *c, const uint8_t *p, size_t n);
/* CLOCK_MONOTONIC in milliseconds: every deadline is on this clock. */
double ws_clock_ms(void);
/* Milliseconds from now to deadline for poll(): 0 once it has passed. */
int ws_ms_until(double deadline);

ws_event *ws_queue_pop(ws_queue *q);
void ws_event_free(ws_event *e);
int ws_conn_open(const ws_conn *c); /* socket still usable for reading */

#endif
