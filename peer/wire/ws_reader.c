/* The engine's WebSocket reader: parses the frames buffered on a
 * connection, reassembles messages, answers Pings, and queues what arrived
 * as events. No socket calls here (sending only queues octets), so the
 * fuzzer drives it with arbitrary input (peer/fuzz/fuzz_ws_reader.c).
 * Every bound of ws_limits is enforced here: a peer that sends more frames
 * than the engine keeps, faster than it consumes them, is a flood. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_conn_int.h"

void *ws_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "mbws-peer: out of memory\n");
        abort();
    }
    return q;
}

void ws_buf_append(uint8_t **b, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < *len + n)
            nc *= 2;
        *b = ws_xrealloc(*b, nc);
        *cap = nc;
    }
    if (n)
        memcpy(*b + *len, p, n);
    *len += n;
}

ws_event *ws_queue_pop(ws_queue *q)
{
    ws_event *e = q->head;
    if (e) {
        q->head = e->next;
        if (!q->head)
            q->tail = NULL;
        e->next = NULL;
        q->n--;
    }
    return e;
}

void ws_event_free(ws_event *e)
{
    if (e) {
        free(e->data);
        free(e);
    }
}

static ws_event *push(ws_queue *q, enum ws_event_kind kind, const uint8_t *p, size_t len)
{
    ws_event *e = ws_xrealloc(NULL, sizeof *e);
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->data = ws_xrealloc(NULL, len + 1);
    if (len)
        memcpy(e->data, p, len);
    e->data[len] = 0;
    e->len = len;
    e->t_ms = ws_clock_ms();
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->n++;
    return e;
}

void ws_fail_conn(ws_conn *c, enum ws_event_kind kind, const char *fmt, const char *detail)
{
    if (c->eof)
        return;
    ws_event *e = push(&c->events, kind, NULL, 0);
    snprintf(e->note, sizeof e->note, fmt, detail ? detail : "");
    snprintf(c->end_note, sizeof c->end_note, "%s", e->note);
    c->eof = 1;
    ws_conn_drop(c, 0);
}

static void violation(ws_conn *c, const char *what)
{
    ws_fail_conn(c, WS_EV_VIOLATION, "RFC 6455 violation by the peer: %s", what);
}

/* The peer sent more than a bound of ws_limits allows. */
static void flooded(ws_conn *c, const char *what)
{
    char note[128];
    snprintf(note, sizeof note, "target flooded: %llu frames in %.0f ms (%s)",
             (unsigned long long)c->frames_in, ws_clock_ms() - c->t_open, what);
    ws_fail_conn(c, WS_EV_VIOLATION, "%s", note);
}

static void on_control(ws_conn *c, const ws_header *h, const uint8_t *pl, size_t len)
{
    if (!h->fin || len > WS_CONTROL_PAYLOAD_MAX) {
        violation(c, "fragmented or over-long control frame (5.5)");
        return;
    }
    if (h->opcode == WS_OP_PING) {
        c->pings_in++;
        if (c->auto_pong && !c->close_sent)
            ws_send_frame(c, 1, 0, WS_OP_PONG, pl, len, 0, NULL, 0);
        return;
    }
    if (h->opcode == WS_OP_PONG) {
        push(&c->pongs, WS_EV_PONG, pl, len);
        return;
    }
    if (len == 1) {
        violation(c, "close frame with a 1-octet payload (5.5.1)");
        return;
    }
    int code = len >= 2 ? (pl[0] << 8) | pl[1] : 1005;
    ws_event *e = push(&c->events, WS_EV_CLOSE, len > 2 ? pl + 2 : NULL, len > 2 ? len - 2 : 0);
    e->code = code;
    c->close_received = 1;
    c->close_code = code;
    if (!c->close_sent)
        ws_send_close(c, code == 1005 ? 1005 : code, NULL);
}

static void on_data(ws_conn *c, const ws_header *h, const uint8_t *pl, size_t len)
{
    if (h->opcode != WS_OP_CONT) {
        if (c->frag_op) {
            violation(c, "new data frame inside a fragmented message (5.4)");
            return;
        }
        if (h->fin) {
            ws_event *e = push(&c->events, WS_EV_MESSAGE, pl, len);
            e->opcode = h->opcode;
            e->fragments = 1;
        } else {
            c->frag_op = h->opcode;
            c->nfrag = 1;
            c->flen = 0;
            ws_buf_append(&c->frag, &c->flen, &c->fcap, pl, len);
        }
        return;
    }
    if (!c->frag_op) {
        violation(c, "continuation frame without a message to continue (5.4)");
        return;
    }
    c->nfrag++;
    if (!h->fin) {
        ws_buf_append(&c->frag, &c->flen, &c->fcap, pl, len);
    } else {
        /* the last fragment was appended before logging, for the log */
        ws_event *e = push(&c->events, WS_EV_MESSAGE, c->frag, c->flen);
        e->opcode = c->frag_op;
        e->fragments = c->nfrag;
        c->frag_op = 0;
        c->flen = 0;
    }
    if (c->flen > c->lim.max_buffered)
        flooded(c, "message larger than the engine buffers");
}

/* Handles one complete frame whose payload is already unmasked. */
static void on_frame(ws_conn *c, const ws_header *h, const uint8_t *pl)
{
    size_t len = (size_t)h->len;
    int data = h->opcode == WS_OP_TEXT || h->opcode == WS_OP_BINARY;
    int last = data ? h->fin : (h->opcode == WS_OP_CONT && h->fin);
    const uint8_t *whole = NULL;
    size_t wlen = 0;
    if (last && h->opcode == WS_OP_CONT && c->frag_op) {
        ws_buf_append(&c->frag, &c->flen, &c->fcap, pl, len);
        whole = c->frag, wlen = c->flen;
    } else if (last && h->opcode != WS_OP_CONT) {
        whole = pl, wlen = len;
    }
    if (c->log)
        c->log(c->arg, c, 0, h->fin, h->opcode, pl, len, h->len, whole, wlen);
    if (h->rsv) {
        violation(c, "RSV bits set without a negotiated extension (5.2)");
        return;
    }
    if (h->masked != c->server) {
        violation(c, c->server ? "unmasked frame from a client (5.1)"
                               : "masked frame from a server (5.1)");
        return;
    }
    switch (h->opcode) {
    case WS_OP_TEXT:
    case WS_OP_BINARY:
    case WS_OP_CONT:
        on_data(c, h, pl, len);
        return;
    case WS_OP_PING:
    case WS_OP_PONG:
    case WS_OP_CLOSE:
        on_control(c, h, pl, len);
        return;
    default:
        violation(c, "unknown opcode (5.2)");
    }
}

/* Bounds on what the peer made the engine hold; 1 when the connection
 * was failed for a flood. */
static int over_bounds(ws_conn *c)
{
    if (c->frames_in > c->lim.max_frames)
        flooded(c, "more frames than --max-frames");
    else if (c->events.n + c->pongs.n > c->lim.max_events)
        flooded(c, "more unread frames than --max-events");
    else if (c->wlen > c->lim.max_buffered)
        flooded(c, "it does not read what the engine sends");
    return c->eof;
}

void ws_parse_frames(ws_conn *c)
{
    size_t off = 0;
    unsigned n = 0;
    while (!c->eof && !c->close_received) {
        /* look at the clock now and then: a flood must not outlast the deadline */
        if ((++n & 63u) == 0 && c->deadline > 0 && ws_clock_ms() >= c->deadline)
            break;
        ws_header h;
        int r = ws_header_parse(c->rbuf + off, c->rlen - off, &h);
        if (r < 0) {
            violation(c, "64-bit payload length with the top bit set (5.2)");
            break;
        }
        if (r == 0)
            break;
        if (h.len > c->lim.max_buffered) {
            flooded(c, "frame larger than the engine buffers");
            break;
        }
        if (c->rlen - off - h.hdr_len < h.len)
            break;
        uint8_t *pl = c->rbuf + off + h.hdr_len;
        if (h.masked)
            ws_mask(pl, (size_t)h.len, h.mask, 0);
        c->frames_in++;
        on_frame(c, &h, pl);
        off += h.hdr_len + (size_t)h.len;
        if (over_bounds(c))
            break;
    }
    if (c->eof) {
        c->rlen = 0;
        return;
    }
    /* one move per batch of frames, not one per frame */
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

void ws_conn_feed(ws_conn *c, const uint8_t *p, size_t n)
{
    if (c->eof)
        return;
    ws_buf_append(&c->rbuf, &c->rlen, &c->rcap, p, n);
    ws_parse_frames(c);
}
