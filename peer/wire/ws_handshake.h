/* The pure parts of the RFC 6455 opening handshake, for the conformance
 * engine (ws_handshake.c): Sec-WebSocket-Accept (SHA-1, base64) and HTTP
 * head parsing. No I/O; unit-tested in peer/tests/test_ws_frame.c. */
#ifndef WS_HANDSHAKE_H
#define WS_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

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

#endif
