/* The broker's queue model (profile section 10). See mbws_broker.h.
 *
 * A message lives in exactly one place: its address's queue, or the
 * delivery list of the session it was sent to. Moving it is moving a
 * pointer; it is freed when an ACK covers it. */
#include "mbws_broker.h"

#include <stdlib.h>
#include <string.h>

#include "mbws_fault.h"
#include "mbws_layout.h"

struct baddr;

struct mbws_bmsg {
    mbws_bmsg *next; /* next in the queue, or in the session's delivery list */
    struct baddr *addr;
    uint64_t seq; /* while delivered */
    size_t body_len, ctype_len;
    int has_ctype;
    uint8_t data[]; /* content-type, then body */
};

/* One subscription: on its address's ring (subscription order) and on its
 * session's list. */
struct bsub {
    struct bsub *prev, *next; /* address's subscriptions, in order made */
    struct bsub *snext;       /* session's subscriptions */
    mbws_bsess *sess;
    struct baddr *addr;
    uint64_t id;
};

/* "This session has published to this address" (BRK-6, FLOW-5). */
struct bpub {
    struct bpub *snext;         /* session's list */
    struct bpub *aprev, *anext; /* address's list */
    mbws_bsess *sess;
    struct baddr *addr;
};

struct baddr {
    struct baddr *hnext; /* hash chain */
    struct baddr *dnext; /* dirty list */
    int dirty;
    mbws_bmsg *head, *tail;
    size_t queued; /* in the queue */
    size_t held;   /* queued + delivered and not yet ACKed: what the bound counts */
    struct bsub *subs_head, *subs_tail, *last; /* last: the one served last */
    size_t nsubs;
    struct bpub *pubs;
    uint64_t hash;
    size_t len;
    char name[]; /* NUL-terminated */
};

struct mbws_bsess {
    mbws_broker *b;
    mbws_bsess *prev, *next; /* broker's sessions */
    void *user;
    struct bsub *subs;
    mbws_bmsg *dhead, *dtail; /* deliveries, in seq order */
    size_t ndeliv;
    struct bpub *pubs;
};

struct mbws_broker {
    mbws_broker_ops ops;
    size_t bound;
    size_t mem_bound; /* octets of held messages before publishers are held; 0: none */
    size_t bytes;     /* octets of held messages (queued + delivered, not ACKed) */
    struct baddr **tab;
    size_t tabsize, naddr;
    struct baddr *dirty, *dirty_tail; /* FIFO: addresses pumped in the order touched */
    mbws_bsess *sessions;
    size_t nmsgs;
    enum mbws_fault_id fault; /* this model's fault switch (mbws_broker_set_fault) */
};

/* What a held message costs, as the memory bound counts it. */
static size_t msg_bytes(const mbws_bmsg *m)
{
    return sizeof *m + m->ctype_len + m->body_len;
}

/* The held messages reached the memory bound. */
static int mem_full(const mbws_broker *b)
{
    return b->mem_bound && b->bytes >= b->mem_bound;
}

static uint64_t hash_name(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct baddr *addr_find(const mbws_broker *b, const char *name, size_t len, uint64_t h)
{
    for (struct baddr *a = b->tab[h & (b->tabsize - 1)]; a; a = a->hnext)
        if (a->hash == h && a->len == len && !memcmp(a->name, name, len))
            return a;
    return NULL;
}

static int tab_grow(mbws_broker *b)
{
    size_t n = b->tabsize * 2;
    struct baddr **t = calloc(n, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < b->tabsize; i++) {
        struct baddr *a = b->tab[i], *nx;
        for (; a; a = nx) {
            nx = a->hnext;
            a->hnext = t[a->hash & (n - 1)];
            t[a->hash & (n - 1)] = a;
        }
    }
    free(b->tab);
    b->tab = t;
    b->tabsize = n;
    return 0;
}

static struct baddr *addr_get(mbws_broker *b, const char *name, size_t len)
{
    uint64_t h = hash_name(name, len);
    struct baddr *a = addr_find(b, name, len, h);
    if (a)
        return a;
    if (b->naddr >= b->tabsize && tab_grow(b))
        return NULL;
    a = calloc(1, sizeof *a + len + 1);
    if (!a)
        return NULL;
    memcpy(a->name, name, len);
    a->len = len;
    a->hash = h;
    a->hnext = b->tab[h & (b->tabsize - 1)];
    b->tab[h & (b->tabsize - 1)] = a;
    b->naddr++;
    return a;
}

/* An address with nothing in it and nobody on it is forgotten, so that a
 * long run over many addresses keeps its memory flat. */
static void addr_maybe_free(mbws_broker *b, struct baddr *a)
{
    if (a->dirty || a->held || a->nsubs || a->pubs)
        return;
    struct baddr **pp = &b->tab[a->hash & (b->tabsize - 1)];
    while (*pp != a)
        pp = &(*pp)->hnext;
    *pp = a->hnext;
    b->naddr--;
    free(a);
}

static void addr_mark(mbws_broker *b, struct baddr *a)
{
    if (a->dirty)
        return;
    a->dirty = 1;
    a->dnext = NULL;
    if (b->dirty_tail)
        b->dirty_tail->dnext = a;
    else
        b->dirty = a;
    b->dirty_tail = a;
}

mbws_broker *mbws_broker_new(const mbws_broker_ops *ops, size_t queue_bound)
{
    mbws_broker *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->ops = *ops;
    b->bound = queue_bound;
    b->tabsize = 64;
    b->tab = calloc(b->tabsize, sizeof *b->tab);
    if (!b->tab) {
        free(b);
        return NULL;
    }
    return b;
}

static void free_msgs(mbws_bmsg *m)
{
    while (m) {
        mbws_bmsg *nx = m->next;
        free(m);
        m = nx;
    }
}

void mbws_broker_set_fault(mbws_broker *b, enum mbws_fault_id fault)
{
    b->fault = fault;
}

void mbws_broker_free(mbws_broker *b)
{
    if (!b)
        return;
    while (b->sessions) {
        mbws_bsess *s = b->sessions;
        b->sessions = s->next;
        free_msgs(s->dhead);
        for (struct bsub *u = s->subs, *nx; u; u = nx) {
            nx = u->snext;
            free(u);
        }
        for (struct bpub *p = s->pubs, *nx; p; p = nx) {
            nx = p->snext;
            free(p);
        }
        free(s);
    }
    for (size_t i = 0; i < b->tabsize; i++) {
        struct baddr *a = b->tab[i], *nx;
        for (; a; a = nx) {
            nx = a->hnext;
            free_msgs(a->head);
            free(a);
        }
    }
    free(b->tab);
    free(b);
}

mbws_bsess *mbws_broker_session_new(mbws_broker *b, void *user)
{
    mbws_bsess *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->b = b;
    s->user = user;
    s->next = b->sessions;
    if (b->sessions)
        b->sessions->prev = s;
    b->sessions = s;
    return s;
}

/* The brk-turn-by-index fault: a turn kept as an index moves one place on
 * when an earlier subscription leaves, so the next one in turn is skipped. */
static void turn_by_index_fault(struct baddr *a, const struct bsub *u)
{
    const struct bsub *v = u->next;
    while (v && v != a->last)
        v = v->next;
    if (v && a->last != u)
        a->last = a->last->next ? a->last->next : a->subs_head;
}

static void sub_unlink(struct bsub *u)
{
    struct baddr *a = u->addr;
    if (mbws_fault_on(u->sess->b->fault, MBWS_FAULT_BRK_TURN_BY_INDEX))
        turn_by_index_fault(a, u);
    if (a->last == u) /* the next turn starts after u's place in the cycle */
        a->last = a->nsubs > 1 ? (u->prev ? u->prev : a->subs_tail) : NULL;
    if (u->prev)
        u->prev->next = u->next;
    else
        a->subs_head = u->next;
    if (u->next)
        u->next->prev = u->prev;
    else
        a->subs_tail = u->prev;
    a->nsubs--;
}

void mbws_broker_session_end(mbws_bsess *s)
{
    if (!s)
        return;
    mbws_broker *b = s->b;
    /* BRK-4: back to the front, in original order. Reversing the delivery
     * list and pushing each to its queue's front keeps that order. */
    mbws_bmsg *rev = NULL;
    for (mbws_bmsg *m = s->dhead, *nx; m; m = nx) {
        nx = m->next;
        m->next = rev;
        rev = m;
    }
    for (mbws_bmsg *m = rev, *nx; m; m = nx) {
        nx = m->next;
        struct baddr *a = m->addr;
        if (mbws_fault_on(b->fault, MBWS_FAULT_BRK_NO_REQUEUE)) { /* lost instead of requeued */
            a->held--;
            b->nmsgs--;
            b->bytes -= msg_bytes(m);
            addr_mark(b, a);
            free(m);
            continue;
        }
        m->seq = 0;
        m->next = a->head;
        a->head = m;
        if (!a->tail)
            a->tail = m;
        a->queued++;
        addr_mark(b, a);
    }
    for (struct bsub *u = s->subs, *nx; u; u = nx) {
        nx = u->snext;
        sub_unlink(u);
        addr_mark(b, u->addr);
        free(u);
    }
    for (struct bpub *p = s->pubs, *nx; p; p = nx) {
        nx = p->snext;
        if (p->aprev)
            p->aprev->anext = p->anext;
        else
            p->addr->pubs = p->anext;
        if (p->anext)
            p->anext->aprev = p->aprev;
        addr_mark(b, p->addr); /* checked for freeing on the next pump */
        free(p);
    }
    if (s->prev)
        s->prev->next = s->next;
    else
        b->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s);
}

static int note_publisher(mbws_bsess *s, struct baddr *a)
{
    for (struct bpub *p = s->pubs; p; p = p->snext)
        if (p->addr == a)
            return 0;
    struct bpub *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->sess = s;
    p->addr = a;
    p->snext = s->pubs;
    s->pubs = p;
    p->anext = a->pubs;
    if (a->pubs)
        a->pubs->aprev = p;
    a->pubs = p;
    return 0;
}

int mbws_broker_publish(mbws_bsess *s, const char *address, size_t alen, const void *ctype,
                        size_t clen, const void *body, size_t blen)
{
    mbws_broker *b = s->b;
    struct baddr *a = addr_get(b, address, alen);
    if (!a)
        return -1;
    if (a->nsubs == 0 && mbws_fault_on(b->fault, MBWS_FAULT_BRK_DROP_UNROUTED)) {
        addr_maybe_free(b, a);
        return 0;
    }
    mbws_bmsg *m = malloc(sizeof *m + clen + blen);
    if (!m || note_publisher(s, a)) {
        free(m);
        addr_maybe_free(b, a);
        return -1;
    }
    m->next = NULL;
    m->addr = a;
    m->seq = 0;
    m->has_ctype = ctype != NULL;
    m->ctype_len = ctype ? clen : 0;
    m->body_len = blen;
    if (m->ctype_len)
        memcpy(m->data, ctype, clen);
    if (blen)
        memcpy(m->data + m->ctype_len, body, blen);
    if (a->head && mbws_fault_on(b->fault, MBWS_FAULT_BRK_LIFO)) {
        m->next = a->head; /* pushed to the front */
        a->head = m;
    } else {
        if (a->tail)
            a->tail->next = m;
        else
            a->head = m;
        a->tail = m;
    }
    a->queued++;
    a->held++;
    b->nmsgs++;
    b->bytes += msg_bytes(m);
    addr_mark(b, a);
    return 0;
}

int mbws_broker_subscribe(mbws_bsess *s, uint64_t sub, const char *address, size_t alen)
{
    for (struct bsub *u = s->subs; u; u = u->snext)
        if (u->id == sub)
            return MBWS_E_INVALID_SUB;
    struct baddr *a = addr_get(s->b, address, alen);
    if (!a)
        return -1;
    struct bsub *u = calloc(1, sizeof *u);
    if (!u) {
        addr_maybe_free(s->b, a);
        return -1;
    }
    u->sess = s;
    u->addr = a;
    u->id = sub;
    u->snext = s->subs;
    s->subs = u;
    u->prev = a->subs_tail; /* appended: the cycle is the order subscriptions were made */
    if (a->subs_tail)
        a->subs_tail->next = u;
    else
        a->subs_head = u;
    a->subs_tail = u;
    a->nsubs++;
    addr_mark(s->b, a);
    return 0;
}

int mbws_broker_subscribed(const mbws_bsess *s, const char *address, size_t alen)
{
    for (const struct bsub *u = s->subs; u; u = u->snext)
        if (u->addr->len == alen && !memcmp(u->addr->name, address, alen))
            return 1;
    return 0;
}

int mbws_broker_unsubscribe(mbws_bsess *s, uint64_t sub)
{
    for (struct bsub **pp = &s->subs; *pp; pp = &(*pp)->snext) {
        struct bsub *u = *pp;
        if (u->id != sub)
            continue;
        *pp = u->snext;
        struct baddr *a = u->addr;
        sub_unlink(u);
        free(u);
        addr_maybe_free(s->b, a);
        return 0;
    }
    return MBWS_E_INVALID_SUB;
}

void mbws_broker_ack(mbws_bsess *s, uint64_t seq)
{
    mbws_broker *b = s->b;
    int crossed = 0, was_full = mem_full(b);
    while (s->dhead && s->dhead->seq <= seq) {
        mbws_bmsg *m = s->dhead;
        s->dhead = m->next;
        if (!s->dhead)
            s->dtail = NULL;
        s->ndeliv--;
        struct baddr *a = m->addr;
        a->held--;
        b->bytes -= msg_bytes(m);
        if (b->bound && a->held + 1 == b->bound) {
            crossed = 1; /* from full to not full: its publishers may go on */
            addr_mark(b, a);
        }
        b->nmsgs--;
        free(m);
        if (!a->dirty)
            addr_maybe_free(b, a);
    }
    if (was_full && !mem_full(b) && b->ops.unblocked) {
        /* below the memory bound again: every publisher may go on */
        for (mbws_bsess *p = b->sessions; p; p = p->next)
            if (p->pubs)
                b->ops.unblocked(p->user);
    }
    if (!crossed || !b->ops.unblocked)
        return;
    /* Tell each publisher of an address that is no longer full. The dirty
     * list holds exactly the addresses touched here (and maybe others). */
    for (struct baddr *a = b->dirty; a; a = a->dnext) {
        if (a->held + 1 != b->bound)
            continue;
        for (struct bpub *p = a->pubs; p; p = p->anext)
            b->ops.unblocked(p->sess->user);
    }
}

void mbws_broker_session_ready(mbws_bsess *s)
{
    for (struct bsub *u = s->subs; u; u = u->snext)
        addr_mark(s->b, u->addr);
}

int mbws_broker_may_grant(const mbws_bsess *s)
{
    int full = mem_full(s->b);
    if (!s->b->bound && !full)
        return 1;
    for (const struct bpub *p = s->pubs; p; p = p->snext)
        if ((s->b->bound && p->addr->held >= s->b->bound) || (full && p->addr->held))
            return 0; /* at its bound: by count, or any held message once memory is full */
    return 1;
}

static void drop_head(mbws_broker *b, struct baddr *a)
{
    mbws_bmsg *m = a->head;
    a->head = m->next;
    if (!a->head)
        a->tail = NULL;
    a->queued--;
    a->held--;
    b->nmsgs--;
    b->bytes -= msg_bytes(m);
    free(m);
}

void mbws_broker_set_memory_bound(mbws_broker *b, size_t bytes)
{
    b->mem_bound = bytes;
}

size_t mbws_broker_bytes(const mbws_broker *b)
{
    return b->bytes;
}

/* BRK-2: the head message goes to the next eligible subscription in the
 * cycle after the last one served; if none can take it, it stays in its
 * place and the queue waits (FIFO). */
static void pump_addr(mbws_broker *b, struct baddr *a)
{
    while (a->head && a->nsubs) {
        mbws_bmsg *m = a->head;
        struct bsub *u = a->last && a->last->next ? a->last->next : a->subs_head;
        if (mbws_fault_on(b->fault, MBWS_FAULT_BRK_FIRST_SUBSCRIPTION_ONLY))
            u = a->subs_head; /* no turns: the first eligible one always wins */
        struct bsub *served = NULL;
        uint64_t seq = 0;
        size_t too_large = 0; /* can_take -1: never fits (brk-drop-too-large only) */
        for (size_t i = 0; i < a->nsubs; i++) {
            int take = b->ops.can_take(u->sess->user, u->id, m);
            too_large += take < 0;
            if (take > 0) {
                seq = b->ops.deliver(u->sess->user, u->id, m);
                if (seq) {
                    served = u;
                    break;
                }
            }
            u = u->next ? u->next : a->subs_head;
        }
        if (!served && too_large == a->nsubs && mbws_fault_on(b->fault, MBWS_FAULT_BRK_DROP_TOO_LARGE)) {
            drop_head(b, a); /* BRK-2 broken: it should stay queued in its place */
            continue;
        }
        if (!served)
            return;
        a->head = m->next;
        if (!a->head)
            a->tail = NULL;
        a->queued--;
        a->last = served;
        mbws_bsess *s = served->sess;
        m->seq = seq;
        m->next = NULL;
        if (s->dtail)
            s->dtail->next = m;
        else
            s->dhead = m;
        s->dtail = m;
        s->ndeliv++;
    }
}

void mbws_broker_pump(mbws_broker *b)
{
    while (b->dirty) {
        struct baddr *a = b->dirty;
        b->dirty = a->dnext;
        if (!b->dirty)
            b->dirty_tail = NULL;
        a->dirty = 0;
        pump_addr(b, a);
        addr_maybe_free(b, a);
    }
}

const char *mbws_bmsg_address(const mbws_bmsg *m, size_t *len)
{
    if (len)
        *len = m->addr->len;
    return m->addr->name;
}

const uint8_t *mbws_bmsg_body(const mbws_bmsg *m, size_t *len)
{
    if (len)
        *len = m->body_len;
    return m->data + m->ctype_len;
}

const uint8_t *mbws_bmsg_ctype(const mbws_bmsg *m, size_t *len)
{
    if (len)
        *len = m->ctype_len;
    return m->has_ctype ? m->data : NULL;
}

size_t mbws_broker_queued(const mbws_broker *b, const char *address, size_t alen)
{
    const struct baddr *a = addr_find(b, address, alen, hash_name(address, alen));
    return a ? a->queued : 0;
}

size_t mbws_broker_unacked(const mbws_bsess *s)
{
    return s->ndeliv;
}

size_t mbws_broker_total_messages(const mbws_broker *b)
{
    return b->nmsgs;
}

size_t mbws_broker_address_count(const mbws_broker *b)
{
    return b->naddr;
}
