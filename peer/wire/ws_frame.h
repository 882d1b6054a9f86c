/* A small RFC 6455 framer for the conformance engine: frame headers,
 * masking, and the opening handshake's pure parts (Sec-WebSocket-Accept,
 * HTTP head parsing). No I/O and no allocation, so it is unit-tested on its
 * own (peer/tests/test_ws_frame.c). It encodes whatever it is asked to,
 * including frames a correct stack never sends. */
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA
};

#define WS_HEADER_MAX 14u         /* 2 + 8 (length) + 4 (mask) */
#define WS_CONTROL_PAYLOAD_MAX 125u

typedef struct ws_header {
    int fin;
    int rsv;        /* RSV1-3 as the 3 bits 0b(rsv1)(rsv2)(rsv3) */
    int opcode;
    int masked;
    uint8_t mask[4];
    uint64_t len;   /* payload length */
    size_t hdr_len; /* octets of the header itself */
} ws_header;

/* Parses one frame header at buf. Returns 1 when complete (h filled), 0
 * when more octets are needed, -1 when the header is invalid (a 64-bit
 * length with the top bit set, RFC 6455 5.2). */
int ws_header_parse(const uint8_t *buf, size_t len, ws_header *h);

/* Writes a frame header (at most WS_HEADER_MAX octets) and returns its
 * length. mask NULL sends the frame unmasked. rsv are the 3 RSV bits. */
size_t ws_header_encode(uint8_t *out, int fin, int rsv, int opcode, uint64_t len,
                        const uint8_t *mask);

/* XORs p with mask, for payload octets starting at payload offset off. */
void ws_mask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t off);

/* "text", "binary", "continuation", "close", "ping", "pong", or "0x3".. */
const char *ws_opcode_name(int opcode);
/* Inverse of ws_opcode_name for the six named opcodes; -1 otherwise. */
int ws_opcode_by_name(const char *name);
int ws_opcode_is_control(int opcode);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
 * out receives 28 characters and a NUL. */
void ws_accept_key(const char *key, char out[29]);
void ws_sha1(const void *data, size_t len, uint8_t digest[20]);
/* Standard base64 with padding; out needs 4*ceil(len/3)+1 octets. */
size_t ws_base64(const uint8_t *in, size_t len, char *out);

/* Length of an HTTP head ending in CRLF CRLF within buf, terminator
 * included; 0 when the terminator has not arrived yet. */
size_t ws_http_head_end(const uint8_t *buf, size_t len);
/* Status code of an HTTP response head ("HTTP/1.1 101 ..."); -1 if the
 * status line is not one. */
int ws_http_status(const char *head, size_t len);
/* Value of header name (case-insensitive) in an HTTP head, trimmed of
 * spaces and tabs. Every occurrence is joined with ", " (RFC 7230 3.2.2).
 * Returns the full value length, or -1 when the header is absent; writes
 * at most cap-1 characters and a NUL (out is "" when absent). */
int ws_http_header(const char *head, size_t len, const char *name, char *out, size_t cap);

/* Splits a comma-separated token list (as in Sec-WebSocket-Protocol):
 * calls fn for each trimmed, non-empty item. Returns the count. */
int ws_token_list(const char *list, void (*fn)(const char *item, size_t len, void *arg), void *arg);

#endif
