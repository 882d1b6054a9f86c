/* A reference MBWS client session on the transport: connects, checks the
 * negotiated subprotocol (WS-3), drives the session core, and on
 * MBWS.huawei.com resumes after an abnormal loss (RES-8) until the session
 * expires. Used by `client`, `echo` and `bench`. */
#ifndef CLIENT_AGENT_H
#define CLIENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_conn.h"
#include "transport_lws.h"

typedef struct cl_agent cl_agent;

typedef struct cl_config {
    const char *url;
    const char *subprotocols; /* offered, comma-separated (WS-1) */
    enum mbws_encoding encoding;
    uint64_t credit, window, max_frame;
    uint32_t ack_delay_ms;
    int manual_accept;        /* see mbws_conn_config */
    uint32_t reconnect_ms;    /* first resume attempt after a loss (default 100) */
    int exit_on_error;        /* ECHO-3: finish after any ERROR, even one answering a resume */
    const char *label;        /* log prefix */
    int verbose;              /* log every frame */
    int quiet;                /* no connection-event lines */
    /* Raise the limit (FLOW) only once everything that has arrived is read:
     * no FLOW between the frames of one TCP read, held at most
     * MBWS_WINDOW_HOLD_MAX_MS (the core's bound, FLOW-5). The echo client uses it so that a burst
     * above its limit is judged against the limit it had (FLOW-3, C-FLOW-003). */
    int flow_after_read;
    /* --fault (mbws_fault.h): handed to each connection's session core;
     * the transport's tp_options take it from the command. */
    enum mbws_fault_id fault;
} cl_config;

typedef struct cl_handlers {
    void (*connected)(cl_agent *a, int resumed);
    void (*deliver)(cl_agent *a, const mbws_action *act); /* a MESSAGE for us */
    void (*acked)(cl_agent *a, uint64_t tag, uint64_t seq);
    void (*writable)(cl_agent *a);
    /* The session is over and the connection closed; see cl_status(). */
    void (*finished)(cl_agent *a);
} cl_handlers;

/* Outcome, usable as an exit status. */
enum cl_status {
    CL_RUNNING = -1,
    CL_OK = 0,              /* ended by a DISCONNECT exchange */
    CL_ERROR = 1,           /* ERROR sent or received, or resume refused */
    CL_WS3 = 2,             /* handshake response without an offered subprotocol */
    CL_LOST = 3,            /* connection lost abnormally, session gone (MBLWS) */
    CL_TAKEOVER = 4,        /* closed with 4100 */
    CL_CONNECT_FAILED = 5   /* could not connect (or resume before expiry) */
};

cl_agent *cl_new(tp_ctx *t, const cl_config *cfg, const cl_handlers *h, void *user);
int cl_start(cl_agent *a); /* 0, or -1 on a bad URL */
void cl_free(cl_agent *a);

void *cl_user(const cl_agent *a);
int cl_status(const cl_agent *a);
int cl_is_open(const cl_agent *a);  /* CONNECTED and not disconnecting */
int cl_writable(const cl_agent *a); /* a publish now goes out at once */
mbws_conn *cl_conn(const cl_agent *a);
enum mbws_fault_id cl_fault(const cl_agent *a); /* cl_config.fault */
int cl_resumes(const cl_agent *a);  /* successful resumes so far */

/* MBWS_CMD_* results of the session core. */
int cl_publish(cl_agent *a, const char *address, const void *ctype, size_t clen, const void *body,
               size_t blen, uint64_t tag);
int cl_subscribe(cl_agent *a, uint64_t sub, const char *address);
int cl_disconnect(cl_agent *a);
/* Stop raising our limit (1) or resume normal grants (0). */
int cl_hold_window(cl_agent *a, int held);
int cl_accept(cl_agent *a, uint64_t seq);
/* Send FLOW limit (FLOW-2: not below the current limit). */
int cl_grant(cl_agent *a, uint64_t limit);

#endif
