/* Test harness for the session core: a client conn and a broker conn wired
 * together in memory (SEND actions become the other side's recv, CLOSE
 * closes both ends), a tiny broker session table, and a log of every
 * action each side emitted, with sent frames decoded for checks. Frames
 * can also be hand-made and fed to one side. Time is passed in. */
#ifndef TEST_SESSION_PAIR_H
#define TEST_SESSION_PAIR_H

#include <stdlib.h>
#include <string.h>

#include "mbws_conn.h"
#include "mbws_test.h"

#define EV_MAX 512

typedef struct ev {
    mbws_action a;   /* pointers redirected to copies below */
    uint8_t *copy;   /* data / address+ctype+body / text */
    mbws_frame f;    /* SEND: decoded frame (pointers into copy) */
    int decoded;     /* SEND: 0 when it decoded */
} ev;

typedef struct peer {
    const char *name;
    mbws_conn *c;
    ev log[EV_MAX];
    size_t n;
    struct peer *other;
    int link;         /* 1: SENDs go to other */
    int closed;
    int auto_close;   /* 1: a CLOSE closes both ends at once */
    uint64_t returned[256]; /* tags popped at SESSION_END */
    size_t nreturned;
    int free_on_end;  /* broker: free the session at SESSION_END */
} peer;

/* Broker session table (one per test binary is enough). */
static mbws_session *table[64];
static size_t ntable;
static int token_counter;

static inline mbws_session *tbl_find(void *app, const char *tok, size_t len)
{
    (void)app;
    for (size_t i = 0; i < ntable; i++) {
        size_t l;
        const char *t = mbws_session_token(table[i], &l);
        if (l == len && memcmp(t, tok, len) == 0)
            return table[i];
    }
    return NULL;
}

static inline void tbl_remove(mbws_session *s)
{
    for (size_t i = 0; i < ntable; i++)
        if (table[i] == s) {
            table[i] = table[--ntable];
            return;
        }
}

static inline size_t tbl_token(void *app, char *buf, size_t cap)
{
    (void)app;
    int n = snprintf(buf, cap, "tok-%d", ++token_counter);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static inline void cfg_broker(mbws_conn_config *cfg, enum mbws_subprotocol sp)
{
    mbws_conn_config_default(cfg, MBWS_ROLE_BROKER);
    cfg->subprotocol = sp;
    cfg->find_session = tbl_find;
    cfg->new_token = tbl_token;
}

static inline void cfg_client(mbws_conn_config *cfg, enum mbws_subprotocol sp, enum mbws_encoding enc)
{
    mbws_conn_config_default(cfg, MBWS_ROLE_CLIENT);
    cfg->subprotocol = sp;
    cfg->encoding = enc;
}

static inline void peer_clear_log(peer *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->log[i].copy);
    p->n = 0;
}

static inline void peer_init(peer *p, const char *name, const mbws_conn_config *cfg, mbws_session *s)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->c = mbws_conn_new(cfg, s, p);
    p->auto_close = 1;
    p->free_on_end = cfg->role == MBWS_ROLE_BROKER;
}

static inline void peer_fini(peer *p)
{
    peer_clear_log(p);
    mbws_conn_free(p->c);
    p->c = NULL;
}

static inline void link_peers(peer *a, peer *b)
{
    a->other = b;
    b->other = a;
    a->link = b->link = 1;
}

static inline uint8_t *dup_mem(const void *p, size_t n)
{
    uint8_t *d = malloc(n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = 0;
    return d;
}

/* Records one action; returns the entry. */
static inline ev *record(peer *p, const mbws_action *a)
{
    if (p->n == EV_MAX)
        abort();
    ev *e = &p->log[p->n++];
    memset(e, 0, sizeof(*e));
    e->a = *a;
    if (a->kind == MBWS_ACT_SEND) {
        e->copy = dup_mem(a->data, a->len);
        e->a.data = e->copy;
        mbws_decode_ctx ctx = {.sender = MBWS_ROLE_ANY, .subprotocol = MBWS_SP_MBWS};
        mbws_frame_init(&e->f, 0);
        e->decoded = mbws_decode(e->copy, a->len, a->is_text ? MBWS_ENC_TEXT : MBWS_ENC_BINARY,
                                 &ctx, &e->f, NULL);
    } else if (a->kind == MBWS_ACT_DELIVER) {
        size_t n = a->address.len + a->content_type.len + a->body.len;
        e->copy = malloc(n + 1);
        memcpy(e->copy, a->address.ptr, a->address.len);
        if (a->content_type.len)
            memcpy(e->copy + a->address.len, a->content_type.ptr, a->content_type.len);
        if (a->body.len)
            memcpy(e->copy + a->address.len + a->content_type.len, a->body.ptr, a->body.len);
        e->a.address.ptr = e->copy;
        e->a.content_type.ptr = e->copy + a->address.len;
        e->a.body.ptr = e->copy + a->address.len + a->content_type.len;
    } else if (a->kind == MBWS_ACT_ERROR || a->kind == MBWS_ACT_SUBSCRIBE) {
        const mbws_bytes *b = a->kind == MBWS_ACT_ERROR ? &a->text : &a->address;
        e->copy = dup_mem(b->ptr, b->len);
        if (a->kind == MBWS_ACT_ERROR)
            e->a.text.ptr = e->copy;
        else
            e->a.address.ptr = e->copy;
    }
    return e;
}

static inline void app_session_end(peer *p, mbws_session *s)
{
    uint64_t tag;
    while (mbws_session_pop_unacked(s, &tag, NULL))
        if (p->nreturned < 256)
            p->returned[p->nreturned++] = tag;
    if (p->free_on_end) {
        tbl_remove(s);
        mbws_session_free(s);
    }
}

/* Pops p's actions; SENDs go to the other side when linked. Returns the
 * number of actions taken. */
static inline size_t drain_one(peer *p, uint64_t now)
{
    size_t k = 0;
    mbws_action a;
    while (p->c && mbws_conn_next_action(p->c, &a)) {
        k++;
        ev *e = record(p, &a);
        if (a.kind == MBWS_ACT_SEND && p->link && p->other && !p->other->closed)
            mbws_conn_recv(p->other->c, e->copy, a.len, a.is_text, now);
        else if (a.kind == MBWS_ACT_CONNECTED && !a.resumed && p->free_on_end)
            table[ntable++] = a.session;
        else if (a.kind == MBWS_ACT_SESSION_END)
            app_session_end(p, a.session);
        else if (a.kind == MBWS_ACT_CLOSE && p->auto_close) {
            p->closed = 1;
            mbws_conn_closed(p->c, a.close_code, now);
            if (p->link && p->other && !p->other->closed) {
                p->other->closed = 1;
                mbws_conn_closed(p->other->c, a.close_code, now);
            }
        }
    }
    return k;
}

static inline void pump(peer *a, peer *b, uint64_t now)
{
    for (int i = 0; i < 100; i++) {
        size_t k = drain_one(a, now);
        if (b)
            k += drain_one(b, now);
        if (k == 0)
            return;
    }
}

/* The TCP connection drops under both ends (RES-2: abnormal). */
static inline void pair_lose(peer *a, peer *b, uint64_t now)
{
    a->closed = b->closed = 1;
    mbws_conn_closed(a->c, 1006, now);
    mbws_conn_closed(b->c, 1006, now);
    pump(a, b, now);
}

static inline void tick(peer *a, peer *b, uint64_t now)
{
    if (a && a->c && !a->closed)
        mbws_conn_tick(a->c, now);
    if (b && b->c && !b->closed)
        mbws_conn_tick(b->c, now);
    pump(a, b, now);
}

/* Hand-made frame to p (as if from its peer); then p's actions are drained
 * (and go to p->other if linked). */
static inline void feed(peer *p, const mbws_frame *f, enum mbws_encoding enc, uint64_t now)
{
    uint8_t buf[70000];
    size_t n = mbws_encode(f, enc, buf, sizeof(buf));
    mbws_conn_recv(p->c, buf, n, enc == MBWS_ENC_TEXT, now);
    pump(p, p->other, now);
}

static inline void feed_raw(peer *p, const void *data, size_t len, int is_text, uint64_t now)
{
    mbws_conn_recv(p->c, data, len, is_text, now);
    pump(p, p->other, now);
}

/* The nth (0-based) logged action of a kind, or NULL. */
static inline ev *nth_ev(peer *p, enum mbws_action_kind kind, int nth)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->log[i].a.kind == kind && nth-- == 0)
            return &p->log[i];
    return NULL;
}

static inline int count_ev(peer *p, enum mbws_action_kind kind)
{
    int k = 0;
    for (size_t i = 0; i < p->n; i++)
        k += p->log[i].a.kind == kind;
    return k;
}

/* The nth SEND of an MBWS frame type, or NULL. */
static inline ev *nth_sent(peer *p, uint8_t type, int nth)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->log[i].a.kind == MBWS_ACT_SEND && p->log[i].a.frame_type == type && nth-- == 0)
            return &p->log[i];
    return NULL;
}

static inline int count_sent(peer *p, uint8_t type)
{
    int k = 0;
    for (size_t i = 0; i < p->n; i++)
        k += p->log[i].a.kind == MBWS_ACT_SEND && p->log[i].a.frame_type == type;
    return k;
}

static inline ev *last_sent(peer *p, uint8_t type)
{
    ev *r = NULL;
    for (size_t i = 0; i < p->n; i++)
        if (p->log[i].a.kind == MBWS_ACT_SEND && p->log[i].a.frame_type == type)
            r = &p->log[i];
    return r;
}

/* Index of an entry in the log (for ordering checks). */
static inline long ev_index(peer *p, const ev *e)
{
    return e ? (long)(e - p->log) : -1;
}

static inline int close_code(peer *p)
{
    ev *e = nth_ev(p, MBWS_ACT_CLOSE, 0);
    return e ? e->a.close_code : 0;
}

/* Publish a small text message; returns the command result. */
static inline int pub(peer *p, const char *addr, const char *body, uint64_t tag, uint64_t now)
{
    mbws_msg m = {0};
    m.address = addr;
    m.address_len = strlen(addr);
    m.body = body;
    m.body_len = strlen(body);
    if (mbws_conn_session(p->c) && p->free_on_end) {
        m.sub = 1;
        m.has_sub = 1;
    }
    return mbws_conn_publish(p->c, &m, tag, now, NULL);
}

/* Frame builders for hand-made input. */
static inline mbws_frame fr_message(uint64_t seq, const char *addr, const char *body, int with_sub)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_MESSAGE);
    mbws_frame_set_int(&f, MBWS_F_SEQ, seq);
    mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, addr);
    if (with_sub)
        mbws_frame_set_int(&f, MBWS_F_SUB, 1);
    f.body.ptr = (const uint8_t *)body;
    f.body.len = strlen(body);
    return f;
}

static inline mbws_frame fr_int(uint8_t type, unsigned id, uint64_t v)
{
    mbws_frame f;
    mbws_frame_init(&f, type);
    mbws_frame_set_int(&f, id, v);
    return f;
}

static inline mbws_frame fr_connect(uint64_t credit, uint64_t max_frame)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_CONNECT);
    mbws_frame_set_int(&f, MBWS_F_VERSION, 1);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, credit);
    mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, max_frame);
    return f;
}

static inline uint64_t ev_int(const ev *e, unsigned id)
{
    return e && e->decoded == 0 && mbws_frame_has(&e->f, id) ? e->f.num[id] : (uint64_t)-1;
}

static inline int ev_has(const ev *e, unsigned id)
{
    return e && e->decoded == 0 && mbws_frame_has(&e->f, id);
}

/* A linked client and broker, both started, CONNECT/CONNECTED done. */
static inline void pair_start(peer *cl, peer *br, const mbws_conn_config *cc, const mbws_conn_config *bc,
                       mbws_session *cs, uint64_t now)
{
    peer_init(cl, "client", cc, cs);
    peer_init(br, "broker", bc, NULL);
    link_peers(cl, br);
    mbws_conn_start(br->c, now);
    mbws_conn_start(cl->c, now);
    pump(cl, br, now);
}

/* Frees both conns; broker sessions stay in the table (table_clear frees them). */
static inline void pair_fini(peer *cl, peer *br)
{
    peer_fini(cl);
    peer_fini(br);
}

static inline void table_clear(void)
{
    while (ntable) {
        mbws_session *s = table[--ntable];
        mbws_session_free(s);
    }
}

/* Ends a test: frees the conns of the given peers (cl2, br2: a second
 * pair after a resume, or NULL), every broker session left in the table
 * and the client's session. */
static inline void free_all(peer *cl, peer *br, peer *cl2, peer *br2, mbws_session *cs)
{
    peer *const peers[] = {cl, br, cl2, br2};
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++)
        if (peers[i])
            peer_fini(peers[i]);
    table_clear();
    mbws_session_free(cs);
}

#endif
