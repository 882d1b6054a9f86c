/* TLS for the engine's connections: contexts, non-blocking handshakes whose
 * failures say what to fix, and recv/send-like reads and writes. */
#define _POSIX_C_SOURCE 200809L
#include "ws_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_conn.h"

struct ws_tls_ctx {
    SSL_CTX *ctx;
    int server, insecure;
};

static void last_error(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, out, cap);
    else
        snprintf(out, cap, "%s", errno ? strerror(errno) : "no detail");
}

static int load_files(SSL_CTX *ctx, const ws_tls_opts *o, char *err, size_t errlen)
{
    char d[256];
    if (!o->ca_file || o->insecure) {
        if (!o->insecure)
            SSL_CTX_set_default_verify_paths(ctx);
    } else if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
        last_error(d, sizeof d);
        snprintf(err, errlen, "cannot load the CA file %s: %s", o->ca_file, d);
        return -1;
    }
    if (!o->cert_file && !o->key_file)
        return 0;
    if (!o->cert_file || !o->key_file) {
        snprintf(err, errlen, "a certificate needs its key and the other way round");
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        last_error(d, sizeof d);
        snprintf(err, errlen, "cannot load the certificate %s: %s", o->cert_file, d);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        last_error(d, sizeof d);
        snprintf(err, errlen, "cannot use the key %s with %s: %s", o->key_file, o->cert_file, d);
        return -1;
    }
    return 0;
}

ws_tls_ctx *ws_tls_ctx_new(int server, const ws_tls_opts *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* The write queue moves and grows between retries of one write. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server) {
        SSL_CTX_set_num_tickets(ctx, 0); /* nothing to resume: every case connects afresh */
    } else {
        SSL_CTX_set_verify(ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    }
    ERR_clear_error();
    if (server && (!o->cert_file || !o->key_file)) {
        snprintf(err, errlen, "serving wss:// needs a certificate and its key");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (load_files(ctx, o, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    ws_tls_ctx *x = calloc(1, sizeof *x);
    if (!x)
        abort();
    x->ctx = ctx;
    x->server = server;
    x->insecure = o->insecure;
    return x;
}

void ws_tls_ctx_free(ws_tls_ctx *x)
{
    if (x) {
        SSL_CTX_free(x->ctx);
        free(x);
    }
}

int ws_tls_ctx_insecure(const ws_tls_ctx *x) { return x && x->insecure; }

static int is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int reason_in(int r, const int *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r == list[i])
            return 1;
    return 0;
}

static const int NOT_TLS[] = {SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG,
                              SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST,
                              SSL_R_UNKNOWN_PROTOCOL, SSL_R_RECORD_LENGTH_MISMATCH};
static const int VERSION[] = {SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
                              SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_VERSION_TOO_LOW,
                              SSL_R_VERSION_TOO_HIGH};
static const int CERT_REFUSED[] = {SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
                                   SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
                                   SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
                                   SSL_R_TLSV1_ALERT_ACCESS_DENIED};
static const int CERT_WANTED[] = {SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
                                  SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
                                  SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE};
#define IN(r, list) reason_in(r, list, sizeof list / sizeof list[0])

/* The certificate check failed on our side (client role). */
static void explain_verify(long vr, const char *host, char *err, size_t errlen)
{
    const char *what = X509_verify_cert_error_string(vr);
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
        snprintf(err, errlen,
                 "host name mismatch: the certificate is not for %s; use a host name the "
                 "certificate names in the URL, or give the target a certificate for %s "
                 "(--insecure skips the check)",
                 host, host);
    else if (vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID)
        snprintf(err, errlen, "certificate out of its validity period (%s): renew it", what);
    else
        snprintf(err, errlen,
                 "certificate not trusted (%s): give --ca-file with the CA that signed the "
                 "target's certificate, or --insecure to skip the check",
                 what);
}

/* err: why the handshake failed, in words that point at the fix. */
static void explain(ws_conn *c, int server, int sslerr, const char *host, char *err,
                    size_t errlen)
{
    unsigned long e = ERR_peek_error();
    int r = e ? ERR_GET_REASON(e) : 0;
    char d[256];
    last_error(d, sizeof d);
    long vr = SSL_get_verify_result(c->tls);
    if (!server && r == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK)
        explain_verify(vr, host, err, errlen);
    else if (IN(r, NOT_TLS))
        snprintf(err, errlen,
                 server ? "not TLS: the client spoke plain ws:// to the engine's wss:// listener "
                          "(%s); it must connect with TLS to the wss:// MBWS_URL"
                        : "not TLS: the target does not speak TLS on this port (%s); use a "
                          "ws:// URL, or the port where the broker serves wss://",
                 d);
    else if (IN(r, VERSION))
        snprintf(err, errlen,
                 "TLS version refused (%s): the engine speaks TLS 1.2 and 1.3; enable one of "
                 "them on the %s",
                 d, server ? "client" : "broker");
    else if (IN(r, CERT_REFUSED))
        snprintf(err, errlen,
                 server ? "the client refused the engine's certificate (%s): the client must "
                          "trust the CA given in MBWS_CA_FILE"
                        : "the broker refused the client certificate (%s): check --client-cert "
                          "and --client-key",
                 d);
    else if (!server && IN(r, CERT_WANTED))
        snprintf(err, errlen,
                 "the broker refused the handshake (%s): if it demands a client certificate, "
                 "give --client-cert and --client-key",
                 d);
    else if (!e && (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN))
        snprintf(err, errlen,
                 server ? "the client closed the connection during the TLS handshake: it may "
                          "not trust the engine's certificate (MBWS_CA_FILE), or not speak TLS"
                        : "the target closed the connection during the TLS handshake: is it a "
                          "plain ws:// port? then use a ws:// URL");
    else
        snprintf(err, errlen, "TLS handshake failed: %s", d);
}

static int handshake(ws_conn *c, int server, const char *host, double deadline, char *err,
                     size_t errlen)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = server ? SSL_accept(c->tls) : SSL_connect(c->tls);
        if (r == 1)
            return WS_OK;
        int e = SSL_get_error(c->tls, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            explain(c, server, e, host, err, errlen);
            ERR_clear_error();
            return WS_TLS_FAIL;
        }
        struct pollfd p = {c->fd, (short)(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        int t = ws_ms_until(deadline);
        if (t == 0) {
            snprintf(err, errlen, "TLS handshake timed out: the %s did not complete it",
                     server ? "client" : "target");
            return WS_TIMEOUT;
        }
        poll(&p, 1, t);
    }
}

static int start(ws_conn *c, ws_tls_ctx *x, char *err, size_t errlen)
{
    c->tls = SSL_new(x->ctx);
    if (!c->tls || SSL_set_fd(c->tls, c->fd) != 1) {
        snprintf(err, errlen, "cannot start TLS on the connection");
        return WS_FAIL;
    }
    return WS_OK;
}

int ws_tls_connect(ws_conn *c, ws_tls_ctx *x, const char *host, double deadline, char *err,
                   size_t errlen)
{
    if (start(c, x, err, errlen) != WS_OK)
        return WS_FAIL;
    SSL *s = c->tls;
    int ip = is_ip(host);
    if (!ip)
        SSL_set_tlsext_host_name(s, host); /* SNI names hosts, never addresses (RFC 6066 3) */
    if (!x->insecure) {
        if (ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host);
        else
            SSL_set1_host(s, host);
    }
    return handshake(c, 0, host, deadline, err, errlen);
}

int ws_tls_settle(ws_conn *c, const char *host, double deadline, char *err, size_t errlen)
{
    uint8_t buf[512];
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->tls, buf, sizeof buf);
        if (r > 0)
            continue; /* nothing was asked yet: whatever came is not ours to keep */
        int e = SSL_get_error(c->tls, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            struct pollfd p = {c->fd, POLLIN, 0};
            int t = ws_ms_until(deadline);
            if (t == 0 || poll(&p, 1, t) <= 0)
                return WS_OK;
            continue;
        }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !ERR_peek_error()))
            return WS_OK; /* closed without a word: the cases will see it */
        explain(c, 0, e, host, err, errlen);
        ERR_clear_error();
        return WS_TLS_FAIL;
    }
}

int ws_tls_accept(ws_conn *c, ws_tls_ctx *x, double deadline, char *err, size_t errlen)
{
    if (start(c, x, err, errlen) != WS_OK)
        return WS_FAIL;
    return handshake(c, 1, "", deadline, err, errlen);
}

ssize_t ws_tls_read(ws_conn *c, void *buf, size_t n)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(c->tls, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->tls, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    unsigned long le = ERR_peek_error();
    ERR_clear_error();
    /* close_notify, or a TCP close without it: the end of the stream */
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !le && !errno) ||
        (le && ERR_GET_REASON(le) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
        return 0;
    if (!errno || errno == EAGAIN)
        errno = EPROTO; /* a TLS protocol error */
    return -1;
}

ssize_t ws_tls_write(ws_conn *c, const void *buf, size_t n)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(c->tls, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->tls, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (!errno || errno == EAGAIN)
        errno = EPIPE;
    return -1;
}

int ws_tls_pending(const ws_conn *c)
{
    return c->tls && SSL_has_pending(c->tls);
}

void ws_tls_shutdown(ws_conn *c)
{
    if (c->tls) {
        SSL_shutdown(c->tls); /* one way: the socket closes right after */
        ERR_clear_error();
    }
}

void ws_tls_free(ws_conn *c)
{
    SSL_free(c->tls);
    c->tls = NULL;
}

void ws_tls_info(const ws_conn *c, char *version, size_t vlen, char *cipher, size_t clen,
                 char *subject, size_t slen)
{
    snprintf(version, vlen, "%s", c->tls ? SSL_get_version(c->tls) : "");
    snprintf(cipher, clen, "%s", c->tls ? SSL_get_cipher_name(c->tls) : "");
    subject[0] = 0;
    X509 *peer = c->tls ? SSL_get1_peer_certificate(c->tls) : NULL;
    if (peer) {
        X509_NAME_oneline(X509_get_subject_name(peer), subject, (int)slen);
        X509_free(peer);
    }
}
