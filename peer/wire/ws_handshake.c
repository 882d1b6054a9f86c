/* The pure parts of the RFC 6455 opening handshake (section 4): the
 * Sec-WebSocket-Accept computation (SHA-1, FIPS 180-4, and base64) and
 * reading an HTTP head. */
#include <ctype.h>
#include <string.h>

#include "ws_handshake.h"

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t b[64])
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)b[4 * i] << 24) | ((uint32_t)b[4 * i + 1] << 16) |
               ((uint32_t)b[4 * i + 2] << 8) | b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20)
            f = (bb & c) | (~bb & d), k = 0x5A827999;
        else if (i < 40)
            f = bb ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60)
            f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
        else
            f = bb ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol(bb, 30), bb = a, a = t;
    }
    h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

void ws_sha1(const void *data, size_t len, uint8_t digest[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64, left -= 64;
    }
    uint8_t tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tl = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, tail);
    if (tl == 128)
        sha1_block(h, tail + 64);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            digest[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

size_t ws_base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

void ws_accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[256];
    size_t kl = strlen(key);
    if (kl > sizeof buf - sizeof guid)
        kl = sizeof buf - sizeof guid;
    memcpy(buf, key, kl);
    memcpy(buf + kl, guid, sizeof guid - 1);
    uint8_t d[20];
    ws_sha1(buf, kl + sizeof guid - 1, d);
    ws_base64(d, 20, out);
}

size_t ws_http_head_end(const uint8_t *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

int ws_http_status(const char *head, size_t len)
{
    if (len < 12 || memcmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ')
        return -1;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)head[i]))
            return -1;
        st = st * 10 + (head[i] - '0');
    }
    return st;
}

int ws_http_header(const char *head, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), o = 0;
    int found = 0;
    if (cap)
        out[0] = 0;
    /* Skip the request or status line, then walk the header lines. */
    size_t p = 0;
    while (p < len && head[p] != '\n')
        p++;
    p++;
    while (p < len) {
        size_t e = p;
        while (e < len && head[e] != '\n')
            e++;
        size_t le = e;
        if (le > p && head[le - 1] == '\r')
            le--;
        if (le == p)
            break; /* the empty line ends the head */
        if (le - p > nl && head[p + nl] == ':') {
            size_t i = 0;
            while (i < nl && tolower((unsigned char)head[p + i]) == tolower((unsigned char)name[i]))
                i++;
            if (i == nl) {
                size_t vs = p + nl + 1, ve = le;
                while (vs < ve && (head[vs] == ' ' || head[vs] == '\t'))
                    vs++;
                while (ve > vs && (head[ve - 1] == ' ' || head[ve - 1] == '\t'))
                    ve--;
                if (found) {
                    for (const char *s = ", "; *s; s++, o++)
                        if (o + 1 < cap)
                            out[o] = *s;
                }
                for (size_t k = vs; k < ve; k++, o++)
                    if (o + 1 < cap)
                        out[o] = head[k];
                found = 1;
            }
        }
        p = e + 1;
    }
    if (cap)
        out[o < cap ? o : cap - 1] = 0;
    return found ? (int)o : -1;
}
