/* RFC 6455 frame headers and masking (sections 5.2 and 5.3). */
#include "ws_frame.h"

#include <stdio.h>

int ws_header_parse(const uint8_t *buf, size_t len, ws_header *h)
{
    if (len < 2)
        return 0;
    h->fin = (buf[0] >> 7) & 1;
    h->rsv = (buf[0] >> 4) & 7;
    h->opcode = buf[0] & 0x0F;
    h->masked = (buf[1] >> 7) & 1;
    uint64_t n = buf[1] & 0x7F;
    size_t need = 2;
    if (n == 126)
        need += 2;
    else if (n == 127)
        need += 8;
    if (h->masked)
        need += 4;
    if (len < need)
        return 0;
    size_t p = 2;
    if (n == 126) {
        n = ((uint64_t)buf[2] << 8) | buf[3];
        p = 4;
    } else if (n == 127) {
        if (buf[2] & 0x80)
            return -1; /* the most significant bit MUST be 0 */
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | buf[2 + i];
        p = 10;
    }
    for (int i = 0; i < 4; i++)
        h->mask[i] = h->masked ? buf[p + i] : 0;
    h->len = n;
    h->hdr_len = need;
    return 1;
}

size_t ws_header_encode(uint8_t *out, int fin, int rsv, int opcode, uint64_t len,
                        const uint8_t *mask)
{
    size_t p = 0;
    out[p++] = (uint8_t)((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[p++] = (uint8_t)(m | len);
    } else if (len <= 0xFFFF) {
        out[p++] = (uint8_t)(m | 126);
        out[p++] = (uint8_t)(len >> 8);
        out[p++] = (uint8_t)len;
    } else {
        out[p++] = (uint8_t)(m | 127);
        for (int i = 7; i >= 0; i--)
            out[p++] = (uint8_t)(len >> (8 * i));
    }
    if (mask)
        for (int i = 0; i < 4; i++)
            out[p++] = mask[i];
    return p;
}

void ws_mask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t off)
{
    for (size_t i = 0; i < len; i++)
        p[i] ^= mask[(off + i) & 3];
}

static const struct {
    int op;
    const char *name;
} opnames[] = {
    {WS_OP_CONT, "continuation"}, {WS_OP_TEXT, "text"}, {WS_OP_BINARY, "binary"},
    {WS_OP_CLOSE, "close"},       {WS_OP_PING, "ping"}, {WS_OP_PONG, "pong"},
};

const char *ws_opcode_name(int opcode)
{
    static const char *other[16] = {"0x0", "0x1", "0x2", "0x3", "0x4", "0x5", "0x6", "0x7",
                                    "0x8", "0x9", "0xa", "0xb", "0xc", "0xd", "0xe", "0xf"};
    for (size_t i = 0; i < sizeof opnames / sizeof opnames[0]; i++)
        if (opnames[i].op == opcode)
            return opnames[i].name;
    return other[opcode & 0x0F];
}

int ws_opcode_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof opnames / sizeof opnames[0]; i++) {
        const char *a = opnames[i].name, *b = name;
        while (*a && *a == *b)
            a++, b++;
        if (!*a && !*b)
            return opnames[i].op;
    }
    return -1;
}

int ws_opcode_is_control(int opcode)
{
    return (opcode & 0x08) != 0;
}
