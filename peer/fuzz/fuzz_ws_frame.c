/* libFuzzer target for the engine's RFC 6455 framer and handshake parsing
 * (peer/wire/ws_frame.c, ws_handshake.c, and the token lists of
 * peer/core/session/mbws_handshake.c): whatever a target sends as a
 * frame header or an HTTP head. A header that parses must re-encode to one
 * that parses to the same values; the HTTP helpers must stay inside the
 * input and inside their output buffers (ASan checks), and report lengths
 * that agree with what they wrote. */
#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"
#include "mbws_handshake.h"
#include "ws_handshake.h"

static void check_header(const uint8_t *data, size_t size)
{
    ws_header h;
    int r = ws_header_parse(data, size, &h);
    if (r < 0 || r == 0)
        return;
    if (r != 1 || h.hdr_len > size || h.hdr_len > WS_HEADER_MAX || h.hdr_len < 2)
        abort();
    uint8_t buf[WS_HEADER_MAX];
    size_t n = ws_header_encode(buf, h.fin, h.rsv, h.opcode, h.len, h.masked ? h.mask : NULL);
    ws_header g;
    if (ws_header_parse(buf, n, &g) != 1 || g.hdr_len != n || g.fin != h.fin ||
        g.rsv != h.rsv || g.opcode != h.opcode || g.masked != h.masked || g.len != h.len ||
        (h.masked && memcmp(g.mask, h.mask, 4) != 0))
        abort();
    /* masking twice gives the payload back */
    size_t pl = size - h.hdr_len < 64 ? size - h.hdr_len : 64;
    uint8_t p[64], q[64];
    memcpy(p, data + h.hdr_len, pl);
    memcpy(q, p, pl);
    ws_mask(q, pl, h.mask, 3);
    ws_mask(q, pl, h.mask, 3);
    if (memcmp(p, q, pl) != 0)
        abort();
    if (!ws_opcode_name(h.opcode))
        abort();
}

static int on_token(const char *item, size_t len, void *arg)
{
    size_t *total = arg;
    if (len == 0 || item[0] == ' ' || item[len - 1] == ' ')
        abort(); /* trimmed and non-empty, as documented */
    *total += len;
    return 0;
}

static void check_http(const uint8_t *data, size_t size)
{
    char *head = malloc(size + 1);
    if (!head)
        abort();
    memcpy(head, data, size);
    head[size] = 0;
    size_t end = ws_http_head_end(data, size);
    if (end > size || (end && end < 4))
        abort();
    size_t hl = end ? end : size;
    int st = ws_http_status(head, hl);
    if (st < -1 || st > 999)
        abort();
    static const char *const names[] = {"Sec-WebSocket-Protocol", "Sec-WebSocket-Accept",
                                        "Upgrade", "Sec-WebSocket-Key", "Connection"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char out[64];
        int n = ws_http_header(head, hl, names[i], out, sizeof out);
        if (n < -1 || strlen(out) >= sizeof out || (n >= 0 && strlen(out) > (size_t)n))
            abort();
        size_t total = 0;
        int k = mbws_token_list(out, on_token, &total);
        if (k < 0 || total > strlen(out))
            abort();
    }
    char acc[29];
    ws_accept_key(head, acc);
    if (strlen(acc) != 28)
        abort();
    free(head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_header(data, size);
    check_http(data, size);
    return 0;
}
