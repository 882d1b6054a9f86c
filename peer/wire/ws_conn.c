/* The engine's WebSocket connections: handshake, write queue, reader. */
#define _GNU_SOURCE
#include "ws_conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384u

double ws_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int ms_until(double deadline)
{
    double d = deadline - ws_clock_ms();
    if (d <= 0)
        return 0;
    return d > 1e6 ? 1000000 : (int)d + 1;
}

int ws_ms_until(double deadline) { return ms_until(deadline); }

static void rand_bytes(uint8_t *p, size_t n)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)(uint64_t)(ws_clock_ms() * 1000.0);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

void ws_conn_init(ws_conn *c, int id, ws_log_fn log, void *arg, const ws_limits *lim)
{
    static const ws_limits dflt = {WS_DEFAULT_MAX_BUFFERED, WS_DEFAULT_MAX_EVENTS,
                                   WS_DEFAULT_MAX_FRAMES};
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->id = id;
    c->auto_pong = 1;
    c->log = log;
    c->arg = arg;
    c->lim = lim ? *lim : dflt;
    c->t_open = ws_clock_ms();
}

static void queue_free(ws_queue *q)
{
    ws_event *e;
    while ((e = ws_queue_pop(q)))
        ws_event_free(e);
}

void ws_conn_free(ws_conn *c)
{
    ws_tls_free(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->rbuf);
    free(c->wbuf);
    free(c->frag);
    c->rbuf = c->wbuf = c->frag = NULL;
    queue_free(&c->events);
    queue_free(&c->pongs);
}

void ws_conn_drop(ws_conn *c, int rst)
{
    if (c->fd < 0)
        return;
    if (rst) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ws_tls_free(c);
    close(c->fd);
    c->fd = -1;
    c->wlen = 0;
}

int ws_conn_open(const ws_conn *c)
{
    return c->fd >= 0;
}

/* The orderly end after the closing handshake: close_notify first on TLS. */
static void end_conn(ws_conn *c)
{
    ws_tls_shutdown(c);
    ws_conn_drop(c, 0);
    c->eof = 1;
}

/* recv()/send() through TLS when the connection has it. */
static ssize_t conn_recv(ws_conn *c, void *p, size_t n)
{
    return c->tls ? ws_tls_read(c, p, n) : recv(c->fd, p, n, 0);
}

static ssize_t conn_send(ws_conn *c, const void *p, size_t n)
{
    return c->tls ? ws_tls_write(c, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
}

/* A TLS record where HTTP was due: the peer speaks wss:// to our ws://. */
static int looks_like_tls(const ws_conn *c)
{
    return !c->tls && c->rlen >= 2 && c->rbuf[0] >= 0x14 && c->rbuf[0] <= 0x17 &&
           c->rbuf[1] == 0x03;
}

/* Why a plain request got no answer at all: maybe a wss:// port. */
static const char *tls_hint(const ws_conn *c)
{
    return !c->rlen && !c->tls && !c->server
               ? " (a wss:// port treats a plain request so: if the broker serves TLS there, "
                 "use a wss:// URL)"
               : "";
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Reads at least once until an HTTP head is complete. */
static int read_head(ws_conn *c, double deadline, size_t *head_len, char *err, size_t errlen)
{
    for (;;) {
        size_t end = ws_http_head_end(c->rbuf, c->rlen);
        if (end) {
            *head_len = end;
            return WS_OK;
        }
        if (looks_like_tls(c)) {
            snprintf(err, errlen,
                     c->server ? "not TLS: the client started a TLS handshake on the engine's "
                                 "ws:// listener; MBWS_URL is ws://, so it must connect without TLS"
                               : "the target answered with TLS: it serves wss:// on this port; "
                                 "use a wss:// URL");
            return WS_TLS_FAIL;
        }
        if (c->rlen >= HEAD_MAX) {
            snprintf(err, errlen, "HTTP head longer than %u octets", HEAD_MAX);
            return WS_FAIL;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        int t = ms_until(deadline);
        if (t == 0)
            return WS_TIMEOUT;
        if (!ws_tls_pending(c) && poll(&p, 1, t) <= 0)
            continue;
        uint8_t tmp[4096];
        ssize_t n = conn_recv(c, tmp, sizeof tmp);
        if (n == 0) {
            snprintf(err, errlen, "connection closed during the HTTP handshake%s", tls_hint(c));
            return WS_FAIL;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            snprintf(err, errlen, "read during the HTTP handshake: %s%s", strerror(errno),
                     tls_hint(c));
            return WS_FAIL;
        }
        ws_buf_append(&c->rbuf, &c->rlen, &c->rcap, tmp, (size_t)n);
    }
}

static int write_all(ws_conn *c, const void *p, size_t len, double deadline)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = conn_send(c, b, len);
        if (n > 0) {
            b += n, len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return WS_FAIL;
        struct pollfd pf = {c->fd, POLLOUT, 0};
        int t = ms_until(deadline);
        if (t == 0)
            return WS_TIMEOUT;
        poll(&pf, 1, t);
    }
    return WS_OK;
}

/* Only for the HTTP head: frames are consumed in batches (ws_parse_frames). */
static void consume(ws_conn *c, size_t n)
{
    memmove(c->rbuf, c->rbuf + n, c->rlen - n);
    c->rlen -= n;
}

/* host:port as stream socket addresses (flags: 0, or AI_PASSIVE to listen). */
static int resolve(const char *host, int port, int flags, struct addrinfo **res, char *err,
                   size_t errlen)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    *res = NULL;
    int rc = getaddrinfo(host, ps, &hints, res);
    if (rc != 0 || !*res) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return WS_FAIL;
    }
    return WS_OK;
}

/* No Nagle delay: a step's frame leaves when the step runs. */
static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Opens c's TCP connection to host:port, non-blocking, waiting until deadline. */
static int tcp_connect(ws_conn *c, const char *host, int port, double deadline, char *err,
                       size_t errlen)
{
    struct addrinfo *res;
    if (resolve(host, port, 0, &res, err, errlen) != WS_OK)
        return WS_FAIL;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || set_nonblock(fd) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        if (fd >= 0)
            close(fd);
        return WS_FAIL;
    }
    set_nodelay(fd);
    c->fd = fd;
    int rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc < 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect to %s:%d: %s", host, port, strerror(errno));
        ws_conn_drop(c, 0);
        return WS_FAIL;
    }
    if (rc < 0) {
        struct pollfd p = {fd, POLLOUT, 0};
        int t = ms_until(deadline);
        if (t == 0 || poll(&p, 1, t) <= 0) {
            snprintf(err, errlen, "connect to %s:%d: timed out", host, port);
            ws_conn_drop(c, 0);
            return WS_TIMEOUT;
        }
        int so = 0;
        socklen_t sl = sizeof so;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
        if (so) {
            snprintf(err, errlen, "connect to %s:%d: %s", host, port, strerror(so));
            ws_conn_drop(c, 0);
            return WS_FAIL;
        }
    }
    return WS_OK;
}

int ws_client_open(ws_conn *c, const char *host, int port, const char *path, const char *offers,
                   double deadline, char *err, size_t errlen)
{
    int rc = tcp_connect(c, host, port, deadline, err, errlen);
    if (rc == WS_OK && c->tls_ctx)
        rc = ws_tls_connect(c, c->tls_ctx, host, deadline, err, errlen);
    if (rc != WS_OK) {
        ws_conn_drop(c, 0);
        return rc;
    }
    uint8_t nonce[16];
    char key[32];
    rand_bytes(nonce, sizeof nonce);
    ws_base64(nonce, sizeof nonce, key);
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n",
                     path, host, port, key);
    if (offers)
        n += snprintf(req + n, sizeof req - (size_t)n, "Sec-WebSocket-Protocol: %s\r\n", offers);
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    if (n >= (int)sizeof req) {
        snprintf(err, errlen, "upgrade request too long");
        ws_conn_drop(c, 0);
        return WS_FAIL;
    }
    rc = write_all(c, req, (size_t)n, deadline);
    if (rc != WS_OK) {
        snprintf(err, errlen, "sending the upgrade request: %s",
                 rc == WS_TIMEOUT ? "timed out" : strerror(errno));
        ws_conn_drop(c, 0);
        return rc;
    }
    size_t hl = 0;
    rc = read_head(c, deadline, &hl, err, errlen);
    if (rc != WS_OK) {
        if (rc == WS_TIMEOUT)
            snprintf(err, errlen, "no answer to the upgrade request");
        ws_conn_drop(c, 0);
        return rc;
    }
    const char *head = (const char *)c->rbuf;
    c->http_status = ws_http_status(head, hl);
    if (c->http_status < 0) {
        snprintf(err, errlen, "the upgrade answer is not an HTTP response");
        ws_conn_drop(c, 0);
        return WS_FAIL;
    }
    if (c->http_status == 101) {
        char acc[64], want[29];
        ws_accept_key(key, want);
        if (ws_http_header(head, hl, "Sec-WebSocket-Accept", acc, sizeof acc) < 0 ||
            strcmp(acc, want) != 0) {
            snprintf(err, errlen, "101 answer with a wrong or missing Sec-WebSocket-Accept");
            ws_conn_drop(c, 0);
            return WS_FAIL;
        }
        c->sel_present = ws_http_header(head, hl, "Sec-WebSocket-Protocol", c->sel_protocol,
                                        sizeof c->sel_protocol) >= 0;
    }
    consume(c, hl); /* frames that came with the head stay buffered */
    return WS_OK;
}

int ws_tls_probe(ws_conn *c, const char *host, int port, double deadline, char *err,
                 size_t errlen)
{
    int rc = tcp_connect(c, host, port, deadline, err, errlen);
    if (rc == WS_OK)
        rc = ws_tls_connect(c, c->tls_ctx, host, deadline, err, errlen);
    double settle = ws_clock_ms() + 250;
    return rc == WS_OK ? ws_tls_settle(c, host, settle < deadline ? settle : deadline, err, errlen)
                       : rc;
}

int ws_listen(const char *host, int port, int *fd_out, int *port_out, char *err, size_t errlen)
{
    struct addrinfo *res;
    if (resolve(host, port, AI_PASSIVE, &res, err, errlen) != WS_OK)
        return WS_FAIL;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 8) < 0 ||
        set_nonblock(fd) < 0) {
        snprintf(err, errlen, "listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return WS_FAIL;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return WS_OK;
}

int ws_server_accept(ws_conn *c, int lfd, double deadline, double head_deadline, char *err,
                     size_t errlen)
{
    struct pollfd p = {lfd, POLLIN, 0};
    int t = ms_until(deadline);
    if (t == 0 || poll(&p, 1, t) <= 0)
        return WS_TIMEOUT;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return WS_TIMEOUT;
        snprintf(err, errlen, "accept: %s", strerror(errno));
        return WS_FAIL;
    }
    set_nonblock(fd);
    set_nodelay(fd);
    c->fd = fd;
    c->server = 1;
    size_t hl = 0;
    int rc = c->tls_ctx ? ws_tls_accept(c, c->tls_ctx, head_deadline, err, errlen) : WS_OK;
    if (rc == WS_OK) {
        rc = read_head(c, head_deadline, &hl, err, errlen);
        if (rc == WS_TIMEOUT)
            snprintf(err, errlen, "the client sent no complete upgrade request");
    }
    if (rc != WS_OK) {
        ws_conn_drop(c, 0);
        return rc == WS_TLS_FAIL ? WS_TLS_FAIL : WS_FAIL;
    }
    const char *head = (const char *)c->rbuf;
    char key[128], upg[64];
    if (hl < 4 || memcmp(head, "GET ", 4) != 0 ||
        ws_http_header(head, hl, "Sec-WebSocket-Key", key, sizeof key) <= 0 ||
        ws_http_header(head, hl, "Upgrade", upg, sizeof upg) < 0) {
        snprintf(err, errlen, "the client's request is not a WebSocket upgrade (RFC 6455 4.1)");
        ws_conn_drop(c, 0);
        return WS_FAIL;
    }
    c->offered_present =
        ws_http_header(head, hl, "Sec-WebSocket-Protocol", c->offered, sizeof c->offered) >= 0;
    /* Keep the key for the answer, in the selected-protocol slot until then. */
    snprintf(c->sel_protocol, sizeof c->sel_protocol, "%s", key);
    consume(c, hl);
    return WS_OK;
}

int ws_server_respond(ws_conn *c, int status, const char *protocol)
{
    char resp[1024];
    int n;
    if (status == 101) {
        char acc[29];
        ws_accept_key(c->sel_protocol, acc);
        n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
                     acc);
        c->sel_present = protocol != NULL;
        snprintf(c->sel_protocol, sizeof c->sel_protocol, "%s", protocol ? protocol : "");
        if (protocol)
            n += snprintf(resp + n, sizeof resp - (size_t)n, "Sec-WebSocket-Protocol: %s\r\n",
                          protocol);
        n += snprintf(resp + n, sizeof resp - (size_t)n, "\r\n");
    } else {
        c->sel_protocol[0] = 0;
        n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     status);
    }
    c->http_status = status;
    ws_buf_append(&c->wbuf, &c->wlen, &c->wcap, resp, (size_t)n);
    return WS_OK;
}

void ws_send_raw(ws_conn *c, const uint8_t *p, size_t len)
{
    if (c->fd < 0 || c->write_broken)
        return;
    ws_buf_append(&c->wbuf, &c->wlen, &c->wcap, p, len);
}

void ws_send_frame(ws_conn *c, int fin, int rsv, int opcode, const uint8_t *payload, size_t len,
                   uint64_t announced, const uint8_t *whole_msg, size_t whole_len)
{
    if (c->fd < 0 || c->write_broken)
        return;
    uint8_t hdr[WS_HEADER_MAX], mask[4];
    rand_bytes(mask, 4);
    uint64_t alen = announced ? announced : len;
    size_t hl = ws_header_encode(hdr, fin, rsv, opcode, alen, c->server ? NULL : mask);
    if (opcode == WS_OP_TEXT || opcode == WS_OP_BINARY)
        c->out_op = opcode;
    if (c->log)
        c->log(c->arg, c, 1, fin, opcode, payload, len, alen, whole_msg, whole_len);
    ws_buf_append(&c->wbuf, &c->wlen, &c->wcap, hdr, hl);
    size_t at = c->wlen;
    ws_buf_append(&c->wbuf, &c->wlen, &c->wcap, payload, len);
    if (!c->server)
        ws_mask(c->wbuf + at, len, mask, 0);
    if (opcode == WS_OP_CLOSE)
        c->close_sent = 1;
}

void ws_send_close(ws_conn *c, int code, const char *reason)
{
    uint8_t p[WS_CONTROL_PAYLOAD_MAX];
    size_t n = 0;
    if (code != 1005 && code >= 0) {
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        n = 2;
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > sizeof p - 2)
            rl = sizeof p - 2;
        if (rl)
            memcpy(p + 2, reason, rl);
        n += rl;
    }
    ws_send_frame(c, 1, 0, WS_OP_CLOSE, p, n, 0, NULL, 0);
}

static void do_write(ws_conn *c)
{
    while (c->wlen && c->fd >= 0 && !c->write_broken) {
        ssize_t n = conn_send(c, c->wbuf, c->wlen);
        if (n > 0) {
            memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
            c->wlen -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        } else {
            c->write_broken = 1; /* keep reading: the peer's close may be queued */
            c->wlen = 0;
            if (!c->end_note[0])
                snprintf(c->end_note, sizeof c->end_note, "TCP send failed: %s",
                         n < 0 ? strerror(errno) : "nothing written");
        }
    }
}

/* Reads until nothing more is there, a bound is hit, or the deadline. */
static void do_read(ws_conn *c)
{
    uint8_t tmp[65536];
    for (int i = 0; i < 64 && c->fd >= 0; i++) {
        if (i && ws_clock_ms() >= c->deadline)
            return;
        ssize_t n = conn_recv(c, tmp, sizeof tmp);
        if (n > 0) {
            ws_conn_feed(c, tmp, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (c->close_received) {
            end_conn(c); /* the normal end after a Close */
        } else if (n == 0) {
            ws_fail_conn(c, WS_EV_EOF, "TCP connection closed without a close frame%s", NULL);
        } else {
            ws_fail_conn(c, WS_EV_EOF, "TCP connection lost: %s", strerror(errno));
        }
        return;
    }
}

void ws_pump(ws_conn **cs, size_t n, double deadline)
{
    struct pollfd pf[16];
    ws_conn *map[16];
    size_t k = 0;
    int ready = 0;
    for (size_t i = 0; i < n && k < 16; i++) {
        ws_conn *c = cs[i];
        if (!c || c->fd < 0)
            continue;
        /* frames that came in the same read as the HTTP head */
        ws_event *last = c->events.tail, *plast = c->pongs.tail;
        c->deadline = deadline;
        if (c->rlen)
            ws_parse_frames(c);
        ready |= c->events.tail != last || c->pongs.tail != plast;
        if (c->fd < 0)
            continue;
        do_write(c);
        /* After both Close frames, the socket's job is done once flushed. */
        if (c->close_received && c->close_sent && !c->wlen && c->server) {
            end_conn(c);
            continue;
        }
        ready |= ws_tls_pending(c); /* decrypted octets poll() cannot see */
        pf[k].fd = c->fd;
        pf[k].events = (short)(POLLIN | (c->wlen ? POLLOUT : 0));
        pf[k].revents = 0;
        map[k++] = c;
    }
    if (!k) {
        int t = ms_until(deadline);
        if (t > 0)
            poll(NULL, 0, t > 20 ? 20 : t);
        return;
    }
    int pr = poll(pf, k, ready ? 0 : ms_until(deadline));
    if (pr < 0 || (pr == 0 && !ready))
        return;
    for (size_t i = 0; i < k; i++) {
        if ((pf[i].revents & (POLLIN | POLLHUP | POLLERR)) || ws_tls_pending(map[i]))
            do_read(map[i]);
        if (map[i]->fd >= 0 && (pf[i].revents & POLLOUT))
            do_write(map[i]);
    }
}
