/* TLS under the engine's WebSocket connections (wss://), with OpenSSL.
 * TLS only carries the octets the WebSocket layer above decides on, so
 * fragments, lying lengths, holds and raw TCP octets work as on ws://. A
 * drop closes the TCP socket without close_notify, as an abrupt loss would. */
#ifndef WS_TLS_H
#define WS_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct ws_conn;
typedef struct ws_tls_ctx ws_tls_ctx;

typedef struct ws_tls_opts {
    const char *ca_file;   /* client: trust this CA bundle (NULL: the system's store) */
    int insecure;          /* client: no certificate or host name check */
    const char *cert_file; /* server: our certificate; client: a client certificate */
    const char *key_file;
} ws_tls_opts;

/* A context for one role (server: we accept); NULL with err when a file
 * cannot be read or the key does not match the certificate. */
ws_tls_ctx *ws_tls_ctx_new(int server, const ws_tls_opts *o, char *err, size_t errlen);
void ws_tls_ctx_free(ws_tls_ctx *x);
int ws_tls_ctx_insecure(const ws_tls_ctx *x);

/* The TLS handshake on c's connected socket, until deadline. WS_OK,
 * WS_TIMEOUT, or WS_TLS_FAIL with err saying what failed and what to fix.
 * host: the name to send as SNI (not for an IP address) and to verify. */
int ws_tls_connect(struct ws_conn *c, ws_tls_ctx *x, const char *host, double deadline,
                   char *err, size_t errlen);
/* Client role, after the handshake: reads what the server sends until
 * deadline and discards it. TLS 1.3 servers refuse a client certificate
 * (or its absence) only then, with an alert: WS_TLS_FAIL with err. */
int ws_tls_settle(struct ws_conn *c, const char *host, double deadline, char *err,
                  size_t errlen);
int ws_tls_accept(struct ws_conn *c, ws_tls_ctx *x, double deadline, char *err, size_t errlen);

/* Like recv/send: octets moved, 0 at the end of the stream (read), or -1
 * with errno (EAGAIN: try again when the socket is ready). */
ssize_t ws_tls_read(struct ws_conn *c, void *buf, size_t n);
ssize_t ws_tls_write(struct ws_conn *c, const void *buf, size_t n);
/* Decrypted or received octets waiting inside TLS (poll() cannot see them). */
int ws_tls_pending(const struct ws_conn *c);
/* Sends close_notify (best effort): the orderly end of a TLS connection. */
void ws_tls_shutdown(struct ws_conn *c);
/* Forgets the TLS state without a word to the peer. */
void ws_tls_free(struct ws_conn *c);

/* What the handshake settled: "TLSv1.3", the cipher, the peer certificate's
 * subject ("" when it sent none). */
void ws_tls_info(const struct ws_conn *c, char *version, size_t vlen, char *cipher, size_t clen,
                 char *subject, size_t slen);

#endif
