/* A small RFC 6455 framer for the conformance engine: frame headers and
 * masking (the opening handshake's pure parts are in ws_handshake.h). No
 * I/O and no allocation, so it is unit-tested on its own
 * (peer/tests/test_ws_frame.c). It encodes whatever it is asked to,
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

#endif
