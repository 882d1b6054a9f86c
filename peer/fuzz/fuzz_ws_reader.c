/* libFuzzer target for the engine's WebSocket reader (peer/wire/ws_reader.c):
 * octets a target sends, cut into reads at places the input chooses, fed to
 * a connection in the server or the client role with small bounds. The
 * reader must stay within them (a flood ends the connection), keep its
 * queue counts right, hand the log whole messages no larger than it
 * buffers, and never read outside the input (ASan). */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_conn.h"

static const ws_limits lim = {4096, 16, 512};

static void on_log(void *arg, ws_conn *c, int out, int fin, int opcode, const uint8_t *payload,
                   size_t len, uint64_t announced, const uint8_t *msg, size_t msg_len)
{
    (void)arg, (void)fin, (void)opcode, (void)announced;
    if (len && !payload)
        abort();
    if (!out && (len > c->lim.max_buffered || (msg && msg_len > 2 * c->lim.max_buffered)))
        abort();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < len; i++)
        sink ^= payload[i]; /* every octet is readable */
    for (size_t i = 0; msg && i < msg_len; i++)
        sink ^= msg[i];
    (void)sink;
}

static size_t count(const ws_queue *q)
{
    size_t n = 0;
    for (const ws_event *e = q->head; e; e = e->next) {
        if (e->len && !e->data)
            abort();
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    ws_conn c;
    ws_conn_init(&c, 1, on_log, NULL, &lim);
    c.server = data[0] & 1;
    c.auto_pong = (data[0] >> 1) & 1;
    /* a sink for Pongs and close replies, so the send path runs too */
    c.fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    size_t at = 2, step = 1 + data[1] % 64;
    while (at < size) {
        size_t n = size - at < step ? size - at : step;
        ws_conn_feed(&c, data + at, n);
        at += n;
        if (count(&c.events) != c.events.n || count(&c.pongs) != c.pongs.n)
            abort();
        if (!c.eof && c.events.n + c.pongs.n > lim.max_events)
            abort();
        if (c.rlen > lim.max_buffered + WS_HEADER_MAX + step)
            abort();
        if (c.frames_in > lim.max_frames + 1)
            abort();
        ws_event *e = (data[at - 1] & 3) == 0 ? ws_queue_pop(&c.events) : NULL;
        ws_event_free(e); /* the engine consumes now and then */
    }
    ws_conn_free(&c);
    return 0;
}
