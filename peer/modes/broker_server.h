/* The reference broker: the transport's connections, each driven by the
 * session core (mbws_conn), sessions kept across connections (MBWS), and
 * the queue model (mbws_broker) behind them. */
#ifndef BROKER_SERVER_H
#define BROKER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "transport_lws.h"

typedef struct broker_config {
    const char *host;
    int port;
    const char *cert, *key;
    uint64_t credit;           /* CONNECTED credit (FLOW-1) */
    uint64_t window;           /* grant policy: limit = acked + window; 0: credit */
    uint64_t max_frame;        /* advertised and enforced (SES-8, SES-9) */
    uint64_t session_expiry_s; /* RES-1 */
    size_t queue_bound;        /* BRK-6; 0: unbounded */
    size_t memory_bound;       /* octets of held messages in all; 0: unbounded */
    uint32_t ack_delay_ms;     /* ACK coalescing (< 1000, ACK-2) */
    int verbose;               /* log every frame */
    const char *control_address; /* "disconnect ADDR" published here: SES-7 trigger; NULL: none */
    enum tp_event_loop event_loop;
    enum mbws_fault_id fault;  /* --fault: handed to the conns, the model and the transport */
} broker_config;

typedef struct broker broker;

/* Listens; NULL on failure (message on stderr). */
broker *broker_new(const broker_config *cfg);
int broker_port(const broker *b);
enum mbws_fault_id broker_fault(const broker *b); /* cfg.fault (the token maker reads it) */
int broker_is_tls(const broker *b);
/* One loop turn. */
int broker_service(broker *b, int timeout_ms);
/* Start a DISCONNECT on every open session (shutdown). */
void broker_disconnect_all(broker *b);
size_t broker_connection_count(const broker *b);
void broker_wake(broker *b);
void broker_free(broker *b);

#endif
