/* libFuzzer target for the session core: a client conn and a broker conn
 * driven against each other through two frame queues that the input
 * controls. Each input octet is one step: deliver, drop or duplicate the
 * next queued frame, publish, subscribe, let time pass, inject raw octets
 * from the input as a frame, disconnect. Whatever happens, neither side may
 * deliver a MESSAGE out of sequence (a gap or a repeat), acknowledge a seq
 * it did not deliver, or report ACKED for a seq it never sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbws_conn.h"
#include "mbws_session.h"

#define QMAX 64

typedef struct qframe {
    uint8_t *data;
    size_t len;
    int is_text;
} qframe;

typedef struct side {
    const char *name;
    mbws_conn *c;
    mbws_session *own;      /* client: its session; broker: the one it made */
    qframe q[QMAX];         /* frames this side sent, not yet delivered */
    size_t nq;
    int closed;
    uint64_t delivered;     /* seq of the last MESSAGE delivered to the app */
    uint64_t sent_max;      /* highest MESSAGE seq this side sent */
    uint64_t next_tag;
} side;

static mbws_session *g_broker_session;

static mbws_session *find_session(void *app, const char *tok, size_t len)
{
    (void)app, (void)tok, (void)len;
    return NULL; /* no resume across connections in this target */
}

static size_t new_token(void *app, char *buf, size_t cap)
{
    (void)app;
    return (size_t)snprintf(buf, cap, "fuzz-token");
}

static void die(const side *s, const char *what, uint64_t a, uint64_t b)
{
    fprintf(stderr, "fuzz_session_pair: %s: %s (%llu vs %llu)\n", s->name, what,
            (unsigned long long)a, (unsigned long long)b);
    abort();
}

/* The seq of a MESSAGE or ACK frame this side sent, 0 when none. */
static uint64_t frame_seq(const mbws_action *a, uint8_t type)
{
    if (a->frame_type != type)
        return 0;
    mbws_decode_ctx ctx = {.sender = MBWS_ROLE_ANY, .subprotocol = MBWS_SP_MBWS};
    mbws_frame f;
    if (mbws_decode(a->data, a->len, a->is_text ? MBWS_ENC_TEXT : MBWS_ENC_BINARY, &ctx, &f, NULL))
        return 0;
    return mbws_frame_has(&f, MBWS_F_SEQ) ? f.num[MBWS_F_SEQ] : 0;
}

static void on_action(side *s, side *other, const mbws_action *a, uint64_t now)
{
    switch (a->kind) {
    case MBWS_ACT_SEND: {
        uint64_t m = frame_seq(a, MBWS_MESSAGE), k = frame_seq(a, MBWS_ACK);
        if (m > s->sent_max)
            s->sent_max = m;
        if (k > s->delivered)
            die(s, "acknowledged a seq it did not deliver", k, s->delivered);
        if (s->nq < QMAX && !other->closed) {
            qframe *f = &s->q[s->nq++];
            f->data = malloc(a->len ? a->len : 1);
            if (!f->data)
                abort();
            memcpy(f->data, a->data, a->len);
            f->len = a->len;
            f->is_text = a->is_text;
        }
        break;
    }
    case MBWS_ACT_DELIVER:
        if (a->seq != s->delivered + 1)
            die(s, "delivered a MESSAGE out of sequence", a->seq, s->delivered);
        s->delivered = a->seq;
        break;
    case MBWS_ACT_ACKED:
        if (a->seq > s->sent_max)
            die(s, "ACKED a seq it never sent", a->seq, s->sent_max);
        break;
    case MBWS_ACT_CONNECTED:
        if (!s->own && !a->resumed)
            s->own = g_broker_session = a->session;
        break;
    case MBWS_ACT_CLOSE:
        if (!s->closed) {
            s->closed = 1;
            mbws_conn_closed(s->c, a->close_code, now);
        }
        if (!other->closed) {
            other->closed = 1;
            mbws_conn_closed(other->c, a->close_code, now);
        }
        break;
    default:
        break;
    }
}

static void drain(side *a, side *b, uint64_t now)
{
    for (int round = 0; round < 64; round++) {
        int any = 0;
        mbws_action act;
        while (mbws_conn_next_action(a->c, &act))
            any = 1, on_action(a, b, &act, now);
        while (mbws_conn_next_action(b->c, &act))
            any = 1, on_action(b, a, &act, now);
        if (!any)
            return;
    }
}

static void pop(side *s)
{
    if (!s->nq)
        return;
    free(s->q[0].data);
    memmove(s->q, s->q + 1, (s->nq - 1) * sizeof s->q[0]);
    s->nq--;
}

/* Delivers the next frame from -> to (dup: leaves it queued as well). */
static void deliver(side *from, side *to, int dup, uint64_t now)
{
    if (!from->nq || to->closed)
        return;
    qframe f = from->q[0];
    mbws_conn_recv(to->c, f.data, f.len, f.is_text, now);
    if (!dup)
        pop(from);
}

static void publish(side *s, uint64_t now)
{
    mbws_msg m;
    memset(&m, 0, sizeof m);
    m.address = "fuzz/a";
    m.address_len = 6;
    m.body = "body";
    m.body_len = 4;
    if (s->own && s->name[0] == 'b')
        m.sub = 1, m.has_sub = 1;
    mbws_conn_publish(s->c, &m, ++s->next_tag, now, NULL);
}

static void step(side *cl, side *br, const uint8_t **p, const uint8_t *end, uint64_t *now)
{
    uint8_t op = *(*p)++;
    side *s = op & 0x80 ? br : cl, *o = s == cl ? br : cl;
    switch ((op >> 4) & 7) {
    case 0:
    case 1:
        deliver(s, o, 0, *now);
        break;
    case 2:
        if (op & 1)
            deliver(s, o, 1, *now);
        else
            pop(s); /* a lost frame */
        break;
    case 3:
        if (!s->closed)
            publish(s, *now);
        break;
    case 4:
        if (!cl->closed)
            mbws_conn_subscribe(cl->c, 1, "fuzz/a", 6, *now);
        break;
    case 5:
        *now += (uint64_t)(op & 15) * 100;
        if (!cl->closed)
            mbws_conn_tick(cl->c, *now);
        if (!br->closed)
            mbws_conn_tick(br->c, *now);
        break;
    case 6: {
        size_t n = (size_t)(op & 15) * 4;
        if (n > (size_t)(end - *p))
            n = (size_t)(end - *p);
        if (!o->closed)
            mbws_conn_recv(o->c, *p, n, op & 1, *now);
        *p += n;
        break;
    }
    default:
        if (!s->closed && (op & 15) == 15)
            mbws_conn_disconnect(s->c, *now);
        else if (!s->closed && (op & 15) == 14)
            mbws_conn_grant(s->c, (op & 1) ? 1000 : 2, *now);
        break;
    }
    drain(cl, br, *now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum mbws_subprotocol sp = data[0] & 1 ? MBWS_SP_MBLWS : MBWS_SP_MBWS;
    mbws_conn_config cc, bc;
    mbws_conn_config_default(&cc, MBWS_ROLE_CLIENT);
    cc.subprotocol = sp;
    cc.encoding = data[0] & 2 ? MBWS_ENC_TEXT : MBWS_ENC_BINARY;
    cc.credit = (data[0] >> 2) & 3;
    mbws_conn_config_default(&bc, MBWS_ROLE_BROKER);
    bc.subprotocol = sp;
    bc.credit = 1 + ((data[0] >> 4) & 3);
    bc.find_session = find_session;
    bc.new_token = new_token;
    side cl, br;
    memset(&cl, 0, sizeof cl);
    memset(&br, 0, sizeof br);
    cl.name = "client";
    br.name = "broker";
    g_broker_session = NULL;
    cl.own = mbws_session_new();
    cl.c = mbws_conn_new(&cc, cl.own, &cl);
    br.c = mbws_conn_new(&bc, NULL, &br);
    if (!cl.own || !cl.c || !br.c)
        abort();
    uint64_t now = 0;
    mbws_conn_start(br.c, now);
    mbws_conn_start(cl.c, now);
    drain(&cl, &br, now);
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end && !(cl.closed && br.closed))
        step(&cl, &br, &p, end, &now);
    if (!cl.closed)
        mbws_conn_closed(cl.c, 1006, now);
    if (!br.closed)
        mbws_conn_closed(br.c, 1006, now);
    drain(&cl, &br, now);
    while (cl.nq)
        pop(&cl);
    while (br.nq)
        pop(&br);
    mbws_conn_free(cl.c);
    mbws_conn_free(br.c);
    mbws_session_free(cl.own);
    if (g_broker_session)
        mbws_session_free(g_broker_session);
    return 0;
}
