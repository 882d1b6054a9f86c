/* libwebsockets 4.1 transport for the reference peer. See transport_lws.h. */
#define _POSIX_C_SOURCE 200809L
#include "transport_lws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mbws_fault.h"
#include "mbws_handshake.h"
#include "mbws_layout.h"
#include "transport_fd_guard.h"
#include "transport_loop.h"
#include "transport_timer.h"

#define TP_MAX_PROTOCOLS 8
#define TP_CLIENT_PROTOCOL "tp-client" /* our local binding for client connections */
#define TP_WRITES_PER_CALLBACK 64      /* fairness between connections */
#define TP_RX_KEEP (64u * 1024u)       /* larger receive buffers are released after use */

/* No lws "validity" timer per connection: lws 4.1 re-inserts it into a sorted list on
 * every receive, a walk over every timer. The session core has its own deadlines. */
static const lws_retry_bo_t no_validity_timer = {0};

struct tp_out {
    struct tp_out *next;
    size_t len;
    int text;
    unsigned char buf[]; /* LWS_PRE octets, then the payload */
};

struct tp_ctx {
    struct lws_context *lws;
    tp_loop *loop;
    tp_timers timers;
    struct lws_vhost *vh;
    tp_events ev;
    void *user;
    int port;
    int tls;
    int verify; /* wss:// client connections check the certificate (ca_file) */
    struct lws_protocols protocols[TP_MAX_PROTOCOLS + 3];
    const char *served[TP_MAX_PROTOCOLS + 1]; /* the subprotocols we serve, NULL-terminated */
    unsigned long next_id;
    size_t rx_chunk;
    int destroying;
    tp_timer wake; /* bounds tp_service()'s wait */
    tp_conn *batch; /* connections that received in this loop turn */
    unsigned char *scratch; /* LWS_PRE + payload for direct writes */
    size_t scratch_cap;
    enum mbws_fault_id fault; /* tp_options.fault */
    struct lws *select_wsi;  /* broker-select-last-subprotocol fault: the name */
    const char *select_name; /* announced to select_wsi's 101 */
};

struct tp_conn {
    tp_ctx *t;
    const tp_events *ev; /* the context's, or the one given to tp_connect() */
    struct lws *wsi;
    void *user;
    unsigned long id;
    int client;
    int opened;
    int gone;       /* closed event delivered */
    int in_connect; /* inside lws_client_connect_via_info() */
    int failed;     /* client connect failed */
    int peer_code;
    int close_code; /* 0: not closing */
    char subprotocol[64];
    char peer[64];
    /* receive */
    int in_msg, rx_text, discard;
    uint8_t *rx;
    size_t rx_len, rx_cap, max_msg;
    int in_batch;
    tp_conn *batch_next;
    /* send */
    struct tp_out *out_head, *out_tail;
    size_t out_bytes;
    tp_timer defer; /* delivers a failed connect's event outside lws */
};

uint64_t tp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void conn_free(tp_conn *c)
{
    while (c->out_head) {
        struct tp_out *o = c->out_head;
        c->out_head = o->next;
        free(o);
    }
    tp_timer_cancel(&c->defer);
    free(c->rx);
    free(c);
}

/* Deliver closed() once, detach from the wsi, free. */
static void conn_gone(tp_conn *c)
{
    if (c->gone)
        return;
    c->gone = 1;
    if (c->in_batch) {
        tp_conn **pp = &c->t->batch;
        while (*pp && *pp != c)
            pp = &(*pp)->batch_next;
        if (*pp)
            *pp = c->batch_next;
        c->in_batch = 0;
    }
    if (c->wsi)
        lws_set_opaque_user_data(c->wsi, NULL);
    c->wsi = NULL;
    if (c->ev->closed && !c->t->destroying)
        c->ev->closed(c, c->opened, c->peer_code);
    conn_free(c);
}

static void defer_fire(tp_timer *tm)
{
    conn_gone(tm->user);
}

/* broker-select-last-subprotocol fault: the last supported item of the offer. */
struct last_pick {
    const char *const *served;
    const char *found;
};

static int last_supported(const char *item, size_t len, void *arg)
{
    struct last_pick *p = arg;
    const char *name = mbws_supported_name(item, len, p->served);
    if (name)
        p->found = name;
    return 0;
}

/* WS-2 (mbws_select_subprotocol): the first subprotocol the client offers
 * that we serve; the last with `last` (the broker-select-last-subprotocol
 * fault); NULL when none. */
static const char *pick_subprotocol(tp_ctx *t, const char *offer, int last)
{
    if (!last)
        return mbws_select_subprotocol(offer, t->served);
    struct last_pick p = {t->served, NULL};
    mbws_token_list(offer, last_supported, &p);
    return p.found;
}

/* The client's Sec-WebSocket-Protocol header, "" when it sent none. */
static const char *offered_list(struct lws *wsi, char *buf, int cap)
{
    buf[0] = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0)
        lws_hdr_copy(wsi, buf, cap, WSI_TOKEN_PROTOCOL);
    return buf;
}

/* broker-select-last-subprotocol fault (breaks WS-2): libwebsockets has
 * bound the first supported name and written it as the last line of the 101
 * (ADD_HEADERS comes right after it); rewrite that line with the last
 * supported name, and remember it for the ESTABLISHED that follows. */
static void select_last_fault(struct lws *wsi, tp_ctx *t, struct lws_process_html_args *args)
{
    static const char key[] = "\r\nSec-WebSocket-Protocol: ";
    char offer[512];
    const char *last = pick_subprotocol(t, offered_list(wsi, offer, sizeof offer), 1);
    if (!last || !args || !args->p || args->p[-1] != '\n')
        return;
    for (size_t k = sizeof key + 1; k < 128; k++) {
        char *name = args->p - k + sizeof key - 1;
        if (memcmp(args->p - k, key, sizeof key - 1) || memchr(name, '\r', k - sizeof key - 1))
            continue;
        int n = snprintf(name, (size_t)(args->p - name + args->max_len), "%s\r\n", last);
        args->max_len -= (int)(name + n - args->p);
        args->p = name + n;
        t->select_wsi = wsi;
        t->select_name = last;
        return;
    }
}

static int refuse_upgrade(struct lws *wsi, tp_ctx *t)
{
    char offer[512];
    if (pick_subprotocol(t, offered_list(wsi, offer, sizeof offer), 0))
        return 0;
    /* WS-2: refuse the upgrade with an HTTP status of 400 or higher. The
     * response is written here because lws_return_http_status() would
     * answer HTTP/1.0 before the request version is parsed. */
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof peer);
    fprintf(stderr, "refused WebSocket upgrade from %s: no supported subprotocol in \"%s\"\n", peer,
            offer);
    static const char body[] =
        "No supported WebSocket subprotocol offered: use MBWS.huawei.com or MBLWS.huawei.com\n";
    unsigned char buf[LWS_PRE + 512];
    int n = snprintf((char *)buf + LWS_PRE, sizeof buf - LWS_PRE,
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     sizeof body - 1, body);
    lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS);
    return -1; /* hang up: the response is on its way */
}

static tp_conn *conn_new(tp_ctx *t, int client)
{
    tp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->ev = &t->ev;
    c->client = client;
    c->id = ++t->next_id;
    tp_timer_init(&c->defer, t, defer_fire, c);
    return c;
}

static void mark_batch(tp_conn *c)
{
    if (c->in_batch || !c->ev->batch_end)
        return;
    c->in_batch = 1;
    c->batch_next = c->t->batch;
    c->t->batch = c;
}

static int on_receive(tp_conn *c, struct lws *wsi, const uint8_t *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(wsi);
    int final = lws_is_final_fragment(wsi);
    if (!c->in_msg) {
        c->in_msg = 1;
        c->rx_len = 0;
        c->discard = 0;
        c->rx_text = !lws_frame_is_binary(wsi);
    }
    if (!c->discard) {
        /* SES-9: judge by what has arrived plus what this WebSocket frame
         * still announces, so nothing beyond the limit is ever buffered. */
        if (c->max_msg && (c->rx_len + len + remaining > c->max_msg ||
                           c->rx_len + len < c->rx_len)) {
            c->discard = 1;
            c->rx_len = 0;
            if (c->ev->too_large)
                c->ev->too_large(c, c->rx_text);
            if (c->gone || !c->wsi)
                return -1;
        } else if (final && c->rx_len == 0) {
            c->in_msg = 0; /* whole message in one piece: no copy */
            mark_batch(c);
            if (c->ev->message)
                c->ev->message(c, c->rx_text, in, len);
            return 0;
        } else {
            size_t need = c->rx_len + len + (final ? 0 : remaining);
            if (need > c->rx_cap) {
                size_t cap = c->rx_cap ? c->rx_cap : 4096;
                while (cap < need)
                    cap *= 2;
                if (c->max_msg && cap > c->max_msg)
                    cap = c->max_msg;
                uint8_t *nb = realloc(c->rx, cap);
                if (!nb)
                    return -1;
                c->rx = nb;
                c->rx_cap = cap;
            }
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
        }
    }
    if (final) {
        c->in_msg = 0;
        mark_batch(c);
        if (!c->discard && c->ev->message)
            c->ev->message(c, c->rx_text, c->rx, c->rx_len);
        if (c->rx_cap > TP_RX_KEEP) {
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
        c->rx_len = 0;
    }
    return 0;
}

static int on_writeable(tp_conn *c, struct lws *wsi)
{
    int n = 0;
    while (c->out_head && n < TP_WRITES_PER_CALLBACK) {
        struct tp_out *o = c->out_head;
        int m = lws_write(wsi, o->buf + LWS_PRE, o->len, o->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
        if (m < 0)
            return -1;
        c->out_head = o->next;
        if (!c->out_head)
            c->out_tail = NULL;
        c->out_bytes -= o->len;
        free(o);
        n++;
        if (lws_partial_buffered(wsi))
            break;
    }
    if (c->out_head) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, NULL, 0);
        return -1;
    }
    return 0;
}

/* WS-3: libwebsockets 4.1 fails a client handshake whose 101 names a
 * subprotocol we did not offer ("HS: PROTOCOL malformed") and drops the TCP
 * connection. Apart from that name the 101 was valid, so the WebSocket
 * connection is open on the wire: send the masked Close 1002 ourselves before
 * lws closes the socket. On wss:// the octets go through lws's TLS
 * (lws_write raw), on ws:// straight to the socket. */
static void close_unoffered_subprotocol(struct lws *wsi)
{
    unsigned char buf[LWS_PRE + 8];
    unsigned char *f = buf + LWS_PRE;
    f[0] = 0x88; /* FIN + Close */
    f[1] = 0x82; /* masked, 2 octets */
    if (lws_get_random(lws_get_context(wsi), f + 2, 4) != 4)
        return;
    f[6] = (unsigned char)(0x03 ^ f[2]); /* 1002 = 0x03EA */
    f[7] = (unsigned char)(0xEA ^ f[3]);
    int n = lws_is_ssl(wsi) ? lws_write(wsi, f, 8, LWS_WRITE_RAW)
                            : (int)send(lws_get_socket_fd(wsi), f, 8, MSG_NOSIGNAL);
    if (n != 8)
        fprintf(stderr, "close 1002 for an unoffered subprotocol not sent (%d)\n", n);
}

static int tp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    tp_ctx *t = lws_context_user(lws_get_context(wsi));
    tp_conn *c = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return user ? tp_fd_guard((int)((struct lws_filter_network_conn_args *)user)->accept_fd) : 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (t && in && !strcmp(in, "websocket"))
            return refuse_upgrade(wsi, t);
        return 0;
    case LWS_CALLBACK_ADD_HEADERS:
        if (t && mbws_fault_on(t->fault, MBWS_FAULT_WS_SELECT_LAST))
            select_last_fault(wsi, t, in);
        return 0;
    case LWS_CALLBACK_HTTP:
        /* Not a WebSocket upgrade. */
        if (lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST,
                                   "This is an MBWS broker: connect with WebSocket"))
            return -1;
        return lws_http_transaction_completed(wsi);
    case LWS_CALLBACK_ESTABLISHED: {
        if (!t)
            return -1;
        c = conn_new(t, 0);
        if (!c)
            return -1;
        c->wsi = wsi;
        c->opened = 1;
        lws_set_opaque_user_data(wsi, c);
        const struct lws_protocols *p = lws_get_protocol(wsi);
        snprintf(c->subprotocol, sizeof c->subprotocol, "%s",
                 t->select_wsi == wsi ? t->select_name : p && p->name ? p->name : "");
        t->select_wsi = NULL;
        char ip[48] = "";
        lws_get_peer_simple(wsi, ip, sizeof ip);
        snprintf(c->peer, sizeof c->peer, "%s#%lu", ip, c->id);
        if (c->ev->open)
            c->ev->open(c);
        return c->gone ? -1 : 0;
    }
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
        if (c) {
            c->subprotocol[0] = 0;
            if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0)
                lws_hdr_copy(wsi, c->subprotocol, sizeof c->subprotocol, WSI_TOKEN_PROTOCOL);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!c)
            return -1;
        c->opened = 1;
        if (c->ev->open)
            c->ev->open(c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c)
            return -1;
        if (c->close_code)
            return 0; /* closing: nothing more is acted on */
        return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!c)
            return 0;
        return on_writeable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c) {
            const uint8_t *p = in;
            c->peer_code = len >= 2 ? (p[0] << 8) | p[1] : 1005;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (in && !strcmp(in, "HS: PROTOCOL malformed"))
            close_unoffered_subprotocol(wsi);
        if (c) {
            fprintf(stderr, "connection to %s failed: %s\n", c->peer,
                    in ? (const char *)in : "unknown error");
            lws_set_opaque_user_data(wsi, NULL);
            c->wsi = NULL;
            c->failed = 1;
            if (c->in_connect)
                return 0; /* tp_connect() defers the event */
            conn_gone(c);
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            conn_gone(c);
        return 0;
    default:
        return 0;
    }
}

static void wake_fire(tp_timer *tm)
{
    (void)tm; /* only there to end the wait */
}

tp_ctx *tp_new(const tp_options *o, const tp_events *ev, void *user)
{
    tp_ctx *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ev = *ev;
    t->user = user;
    t->port = -1;
    t->rx_chunk = o->rx_chunk ? o->rx_chunk : 16384;
    t->fault = o->fault;
    lws_set_log_level(o->quiet_lws ? LLL_ERR : LLL_ERR | LLL_WARN, NULL);

    /* protocols[0] handles plain HTTP and vets upgrades; then the
     * subprotocols we serve; then our local binding for clients. */
    size_t np = 0;
    t->protocols[np++] = (struct lws_protocols){"http", tp_callback, 0, 0, 0, NULL, 0};
    for (size_t i = 0; o->subprotocols && o->subprotocols[i] && np < TP_MAX_PROTOCOLS; i++) {
        t->served[np - 1] = o->subprotocols[i];
        t->protocols[np++] =
            (struct lws_protocols){o->subprotocols[i], tp_callback, 0, t->rx_chunk, 0, NULL, 0};
    }
    t->protocols[np++] =
        (struct lws_protocols){TP_CLIENT_PROTOCOL, tp_callback, 0, t->rx_chunk, 0, NULL, 0};

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    if ((o->cert && o->key) || o->client_tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.protocols = t->protocols;
    info.vhost_name = "mbws";
    info.user = t;
    info.alpn = "http/1.1"; /* WebSocket over HTTP/1.1 only */
    info.retry_and_idle_policy = &no_validity_timer;
    if (o->listen_host) {
        info.port = o->listen_port;
        info.iface = o->listen_host;
        if (o->cert && o->key) {
            info.ssl_cert_filepath = o->cert;
            info.ssl_private_key_filepath = o->key;
            t->tls = 1;
        }
    } else {
        info.port = CONTEXT_PORT_NO_LISTEN;
    }
    if (o->ca_file) {
        info.client_ssl_ca_filepath = o->ca_file;
        t->verify = 1;
    }
    t->loop = tp_loop_new(o->event_loop ? o->event_loop : TP_LOOP_EV, &info);
    t->lws = t->loop ? lws_create_context(&info) : NULL;
    if (!t->lws) {
        tp_loop_free(t->loop, NULL);
        free(t);
        return NULL;
    }
    t->vh = lws_get_vhost_by_name(t->lws, "mbws");
    tp_timers_init(&t->timers, t->lws);
    t->timers.own_wait = tp_loop_is_foreign(t->loop);
    tp_timer_init(&t->wake, t, wake_fire, t);
    if (o->listen_host && t->vh)
        t->port = lws_get_vhost_listen_port(t->vh);
    return t;
}

void tp_free(tp_ctx *t)
{
    if (!t)
        return;
    /* Closing callbacks come during destroy; events are not wanted then. */
    t->destroying = 1;
    tp_timer_cancel(&t->wake);
    tp_loop_free(t->loop, t->lws);
    tp_timers_free(&t->timers);
    free(t->scratch);
    free(t);
}

void *tp_user(tp_ctx *t) { return t->user; }
tp_timers *tp_ctx_timers(tp_ctx *t) { return &t->timers; }
int tp_port(tp_ctx *t) { return t->port; }
int tp_is_tls(tp_ctx *t) { return t->tls; }

int tp_service(tp_ctx *t, int timeout_ms)
{
    int rc;
    if (t->timers.own_wait) {
        t->timers.in_loop = 1;
        rc = tp_loop_run_once(t->loop, t->lws, tp_timers_wait_ms(&t->timers, timeout_ms));
        t->timers.in_loop = 0;
        tp_timers_run_ripe(&t->timers); /* those lws has not fired yet */
    } else {
        /* lws 4.1 ignores lws_service()'s timeout and sleeps until its next
         * scheduled event: schedule one at the timeout. */
        tp_timer_in(&t->wake, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
        rc = tp_loop_run_once(t->loop, t->lws, timeout_ms);
    }
    while (t->batch) {
        tp_conn *c = t->batch;
        t->batch = c->batch_next;
        c->in_batch = 0;
        if (c->wsi && c->ev->batch_end)
            c->ev->batch_end(c);
    }
    return rc;
}

void tp_wake(tp_ctx *t) { lws_cancel_service(t->lws); }

tp_conn *tp_connect(tp_ctx *t, const char *url, const char *subprotocols, const tp_events *ev,
                    void *user)
{
    char buf[1024], path[1024];
    const char *scheme, *host, *p;
    int port;
    if (strlen(url) >= sizeof buf)
        return NULL;
    strcpy(buf, url);
    if (lws_parse_uri(buf, &scheme, &host, &port, &p))
        return NULL;
    int tls = !strcmp(scheme, "wss");
    if (!tls && strcmp(scheme, "ws"))
        return NULL;
    snprintf(path, sizeof path, "/%s", p);

    tp_conn *c = conn_new(t, 1);
    if (!c)
        return NULL;
    c->user = user;
    if (ev)
        c->ev = ev;
    snprintf(c->peer, sizeof c->peer, "%s:%d#%lu", host, port, c->id);

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = t->lws;
    ci.vhost = t->vh;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.protocol = subprotocols;
    ci.local_protocol_name = TP_CLIENT_PROTOCOL;
    ci.alpn = "http/1.1";
    ci.opaque_user_data = c;
    ci.retry_and_idle_policy = &no_validity_timer;
    if (tls)
        /* Without a CA file: test and loopback brokers use self-signed
         * certificates. With one (MBWS_CA_FILE), the certificate must verify. */
        ci.ssl_connection = t->verify ? LCCSCF_USE_SSL
                                      : LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                                            LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    c->in_connect = 1;
    if (!t->timers.in_loop)
        t->timers.poke = 1; /* the connect arms lws timers: see tp_timers */
    c->wsi = lws_client_connect_via_info(&ci);
    c->in_connect = 0;
    if (!c->wsi || c->failed) {
        c->wsi = NULL;
        c->failed = 1;
        tp_timer_in(&c->defer, 0); /* closed(opened=0) from the loop */
    }
    return c;
}

void tp_conn_set_user(tp_conn *c, void *user) { c->user = user; }
void *tp_conn_user(const tp_conn *c) { return c->user; }
tp_ctx *tp_conn_ctx(const tp_conn *c) { return c->t; }
int tp_conn_is_client(const tp_conn *c) { return c->client; }
const char *tp_conn_subprotocol(const tp_conn *c) { return c->subprotocol; }
const char *tp_conn_peer(const tp_conn *c) { return c->peer; }
unsigned long tp_conn_id(const tp_conn *c) { return c->id; }
void tp_set_max_message(tp_conn *c, size_t max) { c->max_msg = max; }
size_t tp_queued_bytes(const tp_conn *c) { return c->out_bytes; }

size_t tp_conn_unread(const tp_conn *c)
{
    int n = 0;
    if (!c->wsi || ioctl(lws_get_socket_fd(c->wsi), FIONREAD, &n) < 0 || n < 0)
        return 0;
    return (size_t)n;
}

/* Write at once when nothing is queued and lws holds no partial write:
 * saves a poll round trip per message. Returns 1 when written. */
static int send_direct(tp_conn *c, int text, const void *p, size_t len)
{
    tp_ctx *t = c->t;
    if (c->out_head || !c->opened || lws_partial_buffered(c->wsi))
        return 0;
    if (t->scratch_cap < LWS_PRE + len) {
        size_t cap = LWS_PRE + len < 65536 ? 65536 : LWS_PRE + len;
        unsigned char *nb = realloc(t->scratch, cap);
        if (!nb)
            return 0;
        t->scratch = nb;
        t->scratch_cap = cap;
    }
    if (len)
        memcpy(t->scratch + LWS_PRE, p, len);
    if (lws_write(c->wsi, t->scratch + LWS_PRE, len, text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY) < 0)
        tp_abort(c); /* the frame is dealt with either way */
    return 1;
}

int tp_send(tp_conn *c, int text, const void *p, size_t len)
{
    if (!c->wsi || c->close_code)
        return -1;
    if (mbws_fault_on(c->t->fault, MBWS_FAULT_WS_NO_PONG_IN_DISCONNECT) && mbws_type_announced(p, len, text) == MBWS_DISCONNECT)
        lws_rx_flow_control(c->wsi, 0); /* no more reads, so no more Pongs */
    if (send_direct(c, text, p, len))
        return 0;
    struct tp_out *o = malloc(sizeof *o + LWS_PRE + len);
    if (!o)
        return -1;
    o->next = NULL;
    o->len = len;
    o->text = text;
    if (len)
        memcpy(o->buf + LWS_PRE, p, len);
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out_head = o;
    c->out_tail = o;
    c->out_bytes += len;
    lws_callback_on_writable(c->wsi);
    return 0;
}

void tp_close(tp_conn *c, int code)
{
    if (!c->wsi || c->close_code)
        return;
    c->close_code = code;
    lws_callback_on_writable(c->wsi);
}

void tp_abort(tp_conn *c)
{
    if (!c->wsi)
        return;
    if (!c->close_code)
        c->close_code = -1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    if (!c->t->timers.in_loop)
        c->t->timers.poke = 1; /* see tp_timers */
}
