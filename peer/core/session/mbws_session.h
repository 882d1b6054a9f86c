/* MBWS session core: the session, what survives connections on
 * MBWS.huawei.com (RES-2): token, sequence numbers, limits, unacknowledged
 * outgoing messages (with copies of their content, ACK-5, RES-4) and active
 * subscription ids. On MBLWS.huawei.com it ends with its connection. The
 * application OWNS every mbws_session; a connection (mbws_conn.h) only
 * borrows the session it is attached to. */
#ifndef MBWS_SESSION_H
#define MBWS_SESSION_H

#include <stddef.h>
#include <stdint.h>

typedef struct mbws_session mbws_session;

/* --------------------------------------------------------------- session */

enum mbws_session_state {
    MBWS_SS_NEW = 0,  /* client: never connected */
    MBWS_SS_ATTACHED, /* on a live connection */
    MBWS_SS_DETACHED, /* connection lost abnormally, resumable (MBWS) */
    MBWS_SS_ENDED
};

/* A client's session, before its first connection. */
mbws_session *mbws_session_new(void);
/* Frees s and whatever it still holds. s must not be attached. */
void mbws_session_free(mbws_session *s);

enum mbws_session_state mbws_session_state(const mbws_session *s);
/* The token, NUL-terminated, "" if none (MBLWS, or not connected yet). */
const char *mbws_session_token(const mbws_session *s, size_t *len);
/* Broker: 1 when s is detached and now is at or past its expiry (RES-2).
 * The application then ends it with mbws_session_end(), pops its
 * unacknowledged messages and frees it. */
int mbws_session_expired(const mbws_session *s, uint64_t now);
uint64_t mbws_session_expires_at(const mbws_session *s);
/* RES-8: a client whose connection was lost abnormally (its session is
 * detached) resumes within session-expiry (at least 1 s) of that loss:
 * 1 while a resume attempt is still worth making at now, 0 once the
 * session expired or when it is not detached. */
int mbws_session_may_resume(const mbws_session *s, uint64_t now);
/* Marks a detached session ended (expiry). No-op if attached. */
void mbws_session_end(mbws_session *s);
/* Takes the oldest outgoing message not acknowledged (sent or waiting to
 * be sent), in seq order; returns 1, or 0 when none is left (BRK-4). */
int mbws_session_pop_unacked(mbws_session *s, uint64_t *tag, uint64_t *seq);
/* Outgoing messages held (unacknowledged or waiting). */
size_t mbws_session_unacked_count(const mbws_session *s);
/* 1 when sub is an active subscription id (BRK-2, BRK-5). */
int mbws_session_has_sub(const mbws_session *s, uint64_t sub);
/* The application's pointer for the session (e.g. its mbws_bsess). */
void mbws_session_set_user(mbws_session *s, void *user);
void *mbws_session_user(const mbws_session *s);

/* Counters, for logs and tests. */
typedef struct mbws_session_info {
    uint64_t out_next_seq;  /* seq the next published MESSAGE gets */
    uint64_t out_sent_max;  /* highest seq sent, on any connection (ACK-3) */
    uint64_t out_acked;     /* highest seq the other side acknowledged */
    uint64_t out_limit;     /* highest seq we may send (FLOW) */
    uint64_t in_last_seq;   /* highest in-order seq received */
    uint64_t in_acked;      /* highest seq we acknowledged */
    uint64_t in_limit;      /* highest seq we granted */
    uint64_t expiry_s;      /* session-expiry (MBWS) */
} mbws_session_info;
void mbws_session_get_info(const mbws_session *s, mbws_session_info *out);

#endif
