/* The broker's queue model (profile section 10): addresses as FIFO queues,
 * subscriptions served in turn, deliveries held until ACKed, requeue when a
 * session ends, bounded queues that hold back publishers' limits.
 * Pure: no I/O, no clock. The caller (the broker glue) owns the sessions'
 * wire state and answers the model's questions through mbws_broker_ops. */
#ifndef MBWS_BROKER_H
#define MBWS_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_fault.h"

typedef struct mbws_broker mbws_broker;
typedef struct mbws_bsess mbws_bsess; /* one MBWS session as the model sees it */
typedef struct mbws_bmsg mbws_bmsg;   /* one message held by the broker */

typedef struct mbws_broker_ops {
    /* 1 when subscription `sub` of the session can take m now (BRK-2): the
     * session is attached and not in a DISCONNECT exchange, its window is
     * open, and the delivered frame fits its max-frame. */
    int (*can_take)(void *user, uint64_t sub, const mbws_bmsg *m);
    /* (With the brk-drop-too-large fault only, can_take returns -1 for a
     * message that can never fit the session's max-frame.) */
    /* Send m to the session as a MESSAGE for `sub` (BRK-3) and return the
     * seq it got; 0 when it could not be sent (m stays at the queue head). */
    uint64_t (*deliver)(void *user, uint64_t sub, const mbws_bmsg *m);
    /* Optional. A queue the session has published to fell below its bound:
     * the session may raise its limit again (BRK-6, FLOW-5). */
    void (*unblocked)(void *user);
} mbws_broker_ops;

/* queue_bound: messages an address may hold (queued plus delivered but not
 * yet ACKed) before its publishers are held back; 0 means unbounded. */
mbws_broker *mbws_broker_new(const mbws_broker_ops *ops, size_t queue_bound);
/* A bound on the octets of all held messages (queued, or delivered and not
 * yet ACKed; content and bookkeeping), 0: none. While it is reached, every
 * address that holds a message counts as at its bound (BRK-6): the sessions
 * that published to one are held back (FLOW-5's exception) until ACKs bring
 * the total below it. Nothing accepted is ever dropped, so the total can
 * exceed the bound by what publishers were already granted. */
void mbws_broker_set_memory_bound(mbws_broker *b, size_t bytes);
size_t mbws_broker_bytes(const mbws_broker *b);
/* This model's fault switch (mbws_fault.h): the brk-* faults of the queue
 * model. A new model is correct (MBWS_FAULT_NONE). */
void mbws_broker_set_fault(mbws_broker *b, enum mbws_fault_id fault);
/* Frees everything, sessions and messages included. */
void mbws_broker_free(mbws_broker *b);

mbws_bsess *mbws_broker_session_new(mbws_broker *b, void *user);
/* The session ended (DISCONNECT, ERROR or expiry): its unacknowledged
 * deliveries go back to the front of their queues in their original order
 * (BRK-4), its subscriptions end, and s is freed. */
void mbws_broker_session_end(mbws_bsess *s);

/* An accepted MESSAGE joins the tail of its address's queue (BRK-1, BRK-6).
 * ctype may be NULL (no content-type). Returns 0, or -1 when out of memory. */
int mbws_broker_publish(mbws_bsess *s, const char *address, size_t alen, const void *ctype,
                        size_t clen, const void *body, size_t blen);
/* Returns 0, or 10 (invalid-subscription) when sub is active (BRK-2). */
int mbws_broker_subscribe(mbws_bsess *s, uint64_t sub, const char *address, size_t alen);
/* Returns 0, or 10 when sub is unknown (BRK-5). */
int mbws_broker_unsubscribe(mbws_bsess *s, uint64_t sub);
/* 1 when the session has a subscription to address, else 0. */
int mbws_broker_subscribed(const mbws_bsess *s, const char *address, size_t alen);
/* The client ACKed every delivery with seq <= seq: they leave the broker. */
void mbws_broker_ack(mbws_bsess *s, uint64_t seq);
/* The session may take more now (attached, window opened, max-frame grew):
 * its addresses are looked at again on the next pump. */
void mbws_broker_session_ready(mbws_bsess *s);
/* 0 while an address this session ever published to is at its bound
 * (BRK-6: the session's limit must not be raised; see the memory bound
 * above), else 1. */
int mbws_broker_may_grant(const mbws_bsess *s);
/* Start every delivery that can start now. */
void mbws_broker_pump(mbws_broker *b);

/* Message accessors (valid while the model holds m). */
const char *mbws_bmsg_address(const mbws_bmsg *m, size_t *len);
const uint8_t *mbws_bmsg_body(const mbws_bmsg *m, size_t *len);
/* NULL when the message had no content-type. */
const uint8_t *mbws_bmsg_ctype(const mbws_bmsg *m, size_t *len);

/* Introspection, for logs and tests. */
size_t mbws_broker_queued(const mbws_broker *b, const char *address, size_t alen);
size_t mbws_broker_unacked(const mbws_bsess *s);
size_t mbws_broker_total_messages(const mbws_broker *b);
size_t mbws_broker_address_count(const mbws_broker *b);

#endif
