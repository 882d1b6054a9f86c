/* mbws-peer bench: message rate and publish-to-delivery latency through an
 * MBWS broker, against a raw WebSocket echo baseline on the same machine
 * (libwebsockets, same message sizes), and the ratio of the two. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_idle.h"
#include "client_agent.h"
#include "client_opts.h"
#include "commands.h"

#define RAW_PROTOCOL "bench-echo"
#define STAMP_LEN 16 /* hex microseconds at the head of each body */

static enum tp_event_loop bench_loop; /* --event-loop, for every context here */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void stamp(char *body, size_t size)
{
    char hex[STAMP_LEN + 1];
    snprintf(hex, sizeof hex, "%016" PRIx64, now_us());
    memcpy(body, hex, size < STAMP_LEN ? size : STAMP_LEN);
}

static uint64_t unstamp(const uint8_t *p, size_t len)
{
    if (len < STAMP_LEN)
        return 0;
    char hex[STAMP_LEN + 1];
    memcpy(hex, p, STAMP_LEN);
    hex[STAMP_LEN] = 0;
    return strtoull(hex, NULL, 16);
}

typedef struct result {
    double rate, p50_ms, p99_ms, seconds;
    uint64_t messages;
    int ok;
} result;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void summarize(result *r, uint32_t *lat, uint64_t n, uint64_t t0, uint64_t t1)
{
    r->messages = n;
    r->seconds = (double)(t1 - t0) / 1e6;
    r->rate = r->seconds > 0 ? (double)n / r->seconds : 0;
    if (n) {
        qsort(lat, n, sizeof *lat, cmp_u32);
        r->p50_ms = lat[n / 2] / 1000.0;
        r->p99_ms = lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0;
    }
}

/* ------------------------------------------------------------ MBWS run */

typedef struct mb_run {
    tp_ctx *t;
    size_t size;
    uint64_t total, per_pub;
    char address[64];
    int npub, ncon;
    int pubs_ready, cons_ready, started, finished_agents;
    uint64_t received;
    uint32_t *lat;
    uint64_t t0, t1;
    char *body;
    uint64_t sent_total, in_flight; /* closed loop: at most in_flight published, not delivered */
    struct mb_agent *agents;
} mb_run;

struct mb_agent {
    mb_run *run;
    cl_agent *a;
    int publisher;
    uint64_t sent, acked;
    int in_pub;
};
typedef struct mb_agent mb_agent;

static void mb_pub_more(mb_agent *m)
{
    mb_run *r = m->run;
    if (m->in_pub || !r->started)
        return;
    m->in_pub = 1;
    while (m->sent < r->per_pub && r->sent_total - r->received < r->in_flight &&
           cl_writable(m->a)) {
        stamp(r->body, r->size);
        m->sent++;
        r->sent_total++;
        if (cl_publish(m->a, r->address, NULL, 0, r->body, r->size, m->sent) != MBWS_CMD_OK) {
            m->sent--;
            r->sent_total--;
            break;
        }
    }
    m->in_pub = 0;
}

static void mb_connected(cl_agent *a, int resumed)
{
    mb_agent *m = cl_user(a);
    if (resumed)
        return;
    if (m->publisher) {
        m->run->pubs_ready++;
    } else {
        cl_subscribe(a, 1, m->run->address);
        m->run->cons_ready++;
    }
}

static void mb_deliver(cl_agent *a, const mbws_action *act)
{
    mb_agent *m = cl_user(a);
    mb_run *r = m->run;
    uint64_t now = now_us(), st = unstamp(act->body.ptr, act->body.len);
    if (r->received < r->total)
        r->lat[r->received] = (uint32_t)(st && now > st ? (now - st < UINT32_MAX ? now - st : UINT32_MAX) : 0);
    r->received++;
    if (r->received == r->total)
        r->t1 = now;
    for (int i = r->ncon; i < r->ncon + r->npub; i++) /* room in flight again */
        mb_pub_more(&r->agents[i]);
}

static void mb_acked(cl_agent *a, uint64_t tag, uint64_t seq)
{
    (void)tag;
    (void)seq;
    mb_agent *m = cl_user(a);
    m->acked++;
    mb_pub_more(m);
}

static void mb_writable(cl_agent *a)
{
    mb_pub_more(cl_user(a));
}

static void mb_finished(cl_agent *a)
{
    ((mb_agent *)cl_user(a))->run->finished_agents++;
}

static int run_mbws(const char *url, const char *sp, enum mbws_encoding enc, int n, size_t size,
                    uint64_t total, uint64_t credit, result *res)
{
    memset(res, 0, sizeof *res);
    mb_run r;
    memset(&r, 0, sizeof r);
    tp_options o = {0};
    o.quiet_lws = 1;
    o.rx_chunk = 65536;
    o.event_loop = bench_loop;
    o.client_tls = !strncmp(url, "wss://", 6);
    tp_events none = {0};
    r.t = tp_new(&o, &none, NULL);
    if (!r.t)
        return -1;
    r.size = size < STAMP_LEN ? STAMP_LEN : size;
    r.npub = r.ncon = n;
    r.per_pub = total / (uint64_t)n;
    r.total = r.per_pub * (uint64_t)n;
    r.lat = calloc(r.total ? r.total : 1, sizeof *r.lat);
    r.body = malloc(r.size);
    memset(r.body, 'x', r.size);
    snprintf(r.address, sizeof r.address, "bench-%zu-%ld-%" PRIu64, size, (long)getpid(), now_us());
    mb_agent *agents = calloc((size_t)n * 2, sizeof *agents);
    r.agents = agents;
    r.in_flight = credit * (uint64_t)n * 2; /* as many as the raw run keeps in flight */
    cl_config cfg = {0};
    cfg.url = url;
    cfg.subprotocols = sp;
    cfg.encoding = enc;
    cfg.credit = credit;
    cfg.max_frame = 1u << 20;
    cfg.ack_delay_ms = 2;
    cfg.quiet = 1;
    cfg.label = "bench";
    cl_handlers h = {mb_connected, mb_deliver, mb_acked, mb_writable, mb_finished};
    for (int i = 0; i < 2 * n; i++) {
        agents[i].run = &r;
        agents[i].publisher = i >= n;
        agents[i].a = cl_new(r.t, &cfg, &h, &agents[i]);
    }
    for (int i = 0; i < n; i++) /* consumers first, so nothing waits in the queue */
        cl_start(agents[i].a);
    uint64_t limit = tp_now_ms() + 10000;
    while (r.cons_ready < n && tp_now_ms() < limit)
        tp_service(r.t, 50);
    for (int i = n; i < 2 * n; i++)
        cl_start(agents[i].a);
    while (r.pubs_ready < n && tp_now_ms() < limit)
        tp_service(r.t, 50);
    int rc = -1;
    if (r.cons_ready == n && r.pubs_ready == n) {
        /* Let the SUBSCRIBEs land before the clock starts. */
        uint64_t settle = tp_now_ms() + 200;
        while (tp_now_ms() < settle)
            tp_service(r.t, 20);
        r.started = 1;
        r.t0 = now_us();
        for (int i = n; i < 2 * n; i++)
            mb_pub_more(&agents[i]);
        uint64_t deadline = tp_now_ms() + 300000;
        while (r.received < r.total && tp_now_ms() < deadline)
            tp_service(r.t, 100);
        if (r.received >= r.total) {
            summarize(res, r.lat, r.total, r.t0, r.t1);
            res->ok = 1;
            rc = 0;
        } else {
            fprintf(stderr, "bench: only %" PRIu64 " of %" PRIu64 " messages arrived\n", r.received,
                    r.total);
        }
    } else {
        fprintf(stderr, "bench: could not connect every client to %s\n", url);
    }
    for (int i = 0; i < 2 * n; i++)
        if (cl_is_open(agents[i].a))
            cl_disconnect(agents[i].a);
    uint64_t until = tp_now_ms() + 5000;
    while (r.finished_agents < 2 * n && tp_now_ms() < until)
        tp_service(r.t, 50);
    for (int i = 0; i < 2 * n; i++)
        cl_free(agents[i].a);
    free(agents);
    free(r.lat);
    free(r.body);
    tp_free(r.t);
    return rc;
}

/* ------------------------------------------------------ raw echo baseline */

static void echo_srv_message(tp_conn *c, int text, const uint8_t *p, size_t len)
{
    tp_send(c, text, p, len);
}

/* The raw echo server runs in a child process, like the broker does, so
 * both runs use two processes. Writes its port to fd, serves until killed. */
static void raw_server_child(int fd)
{
    static const char *const protos[] = {RAW_PROTOCOL, NULL};
    tp_options o = {0};
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.subprotocols = protos;
    o.quiet_lws = 1;
    o.rx_chunk = 65536;
    o.event_loop = bench_loop;
    tp_events ev = {NULL, echo_srv_message, NULL, NULL, NULL};
    tp_ctx *t = tp_new(&o, &ev, NULL);
    int port = t ? tp_port(t) : -1;
    if (write(fd, &port, sizeof port) != (ssize_t)sizeof port)
        _exit(1);
    close(fd);
    while (t && tp_service(t, 1000) >= 0)
        ;
    _exit(0);
}

typedef struct raw_run {
    size_t size;
    uint64_t total, sent, received;
    uint32_t *lat;
    uint64_t t0, t1;
    char *body;
    int open, closed;
    uint64_t window;
} raw_run;

static raw_run *g_raw;

static void raw_send_one(tp_conn *c)
{
    raw_run *r = g_raw;
    if (r->sent >= r->total)
        return;
    stamp(r->body, r->size);
    r->sent++;
    tp_send(c, 0, r->body, r->size);
}

static void raw_open(tp_conn *c)
{
    g_raw->open++;
    tp_set_max_message(c, 1u << 20);
}

static void raw_message(tp_conn *c, int text, const uint8_t *p, size_t len)
{
    raw_run *r = g_raw;
    (void)text;
    uint64_t now = now_us(), st = unstamp(p, len);
    if (r->received < r->total)
        r->lat[r->received] = (uint32_t)(st && now > st ? now - st : 0);
    r->received++;
    if (r->received == r->total)
        r->t1 = now;
    raw_send_one(c); /* keep `window` messages in flight per connection */
}

static void raw_closed(tp_conn *c, int opened, int code)
{
    (void)c;
    (void)opened;
    (void)code;
    g_raw->closed++;
}

static int run_raw(int n, size_t size, uint64_t total, uint64_t window, result *res)
{
    memset(res, 0, sizeof *res);
    int pfd[2];
    if (pipe(pfd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        raw_server_child(pfd[1]);
    }
    close(pfd[1]);
    int port = -1;
    if (pid < 0 || read(pfd[0], &port, sizeof port) != (ssize_t)sizeof port || port <= 0) {
        close(pfd[0]);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return -1;
    }
    close(pfd[0]);

    raw_run r;
    memset(&r, 0, sizeof r);
    g_raw = &r;
    r.size = size < STAMP_LEN ? STAMP_LEN : size;
    r.total = total;
    r.window = window;
    r.lat = calloc(total ? total : 1, sizeof *r.lat);
    r.body = malloc(r.size);
    memset(r.body, 'x', r.size);
    tp_options o = {0};
    o.quiet_lws = 1;
    o.rx_chunk = 65536;
    o.event_loop = bench_loop;
    static const tp_events ev = {raw_open, raw_message, NULL, raw_closed, NULL};
    tp_ctx *t = tp_new(&o, &ev, NULL);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    tp_conn **conns = calloc((size_t)n, sizeof *conns);
    for (int i = 0; i < n; i++)
        conns[i] = tp_connect(t, url, RAW_PROTOCOL, NULL, NULL);
    uint64_t limit = tp_now_ms() + 10000;
    while (r.open < n && tp_now_ms() < limit)
        tp_service(t, 50);
    int rc = -1;
    if (r.open == n) {
        r.t0 = now_us();
        for (int i = 0; i < n; i++)
            for (uint64_t k = 0; k < window; k++)
                raw_send_one(conns[i]);
        uint64_t deadline = tp_now_ms() + 300000;
        while (r.received < r.total && tp_now_ms() < deadline)
            tp_service(t, 100);
        if (r.received >= r.total) {
            summarize(res, r.lat, r.total, r.t0, r.t1);
            res->ok = 1;
            rc = 0;
        }
    }
    for (int i = 0; i < n; i++)
        if (conns[i])
            tp_close(conns[i], 1000);
    uint64_t until = tp_now_ms() + 3000;
    while (r.closed < n && tp_now_ms() < until)
        tp_service(t, 50);
    free(conns);
    tp_free(t);
    free(r.lat);
    free(r.body);
    g_raw = NULL;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return rc;
}

/* ----------------------------------------------------------- reporting */

static void machine(void)
{
    char line[256], model[200] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(model, sizeof model, "%s", c + 2);
                model[strcspn(model, "\n")] = 0;
            }
            break;
        }
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    printf("machine: %s, %ld CPUs, %s %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
           u.release);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mbws-peer bench URL [OPTIONS]\n\n"
            "N publishers and N consumers (one process, one session each) send messages\n"
            "through the broker at URL to one address; reports messages per second and\n"
            "publish-to-delivery latency (p50, p99). Then the same sizes through a raw\n"
            "WebSocket echo server (libwebsockets, started here in a child process on\n"
            "loopback), and the ratio MBWS/raw.\n\n"
            "  --clients N          publishers and consumers each (default 4)\n"
            "  --sizes A,B,...      body sizes in octets (default 100,16384)\n"
            "  --messages M         messages per size (default 200000 for sizes up to\n"
            "                       1 KiB, 20000 above)\n"
            "  --credit N           consumers' and raw clients' window (default 64)\n"
            "  --subprotocol S      default MBWS.huawei.com\n"
            "  --encoding E         binary (default) or text\n"
            "  --rounds K           repeat the MBWS runs K times (memory flatness)\n"
            "  --broker-pid PID     sample the broker's RSS from /proc after each run\n"
            "                       (default: the local process listening on URL's port)\n"
            "  --idle-sessions N    first open N idle MBWS sessions (loopback only, up to\n"
            "                       50000; raises the open-file limit as far as allowed),\n"
            "                       print 'idle sessions: N connected in S s, broker RSS per\n"
            "                       session K KiB', then measure with them attached\n"
            "  --event-loop L       libev (default), libuv (both epoll) or poll\n"
            "  --no-raw             skip the raw baseline\n");
}

/* What the command line asks for. */
typedef struct bench_args {
    const char *url, *sp;
    uint64_t clients, messages, credit, rounds, broker_pid, idle;
    size_t sizes[16];
    int nsizes, raw;
    enum mbws_encoding enc;
} bench_args;

enum {
    O_CLIENTS = 256,
    O_SIZES,
    O_MESSAGES,
    O_CREDIT,
    O_SUBPROTOCOL,
    O_ENCODING,
    O_ROUNDS,
    O_BROKER_PID,
    O_NO_RAW,
    O_IDLE_SESSIONS,
    O_EVENT_LOOP,
};

static const struct option bench_options[] = {
    {"clients", required_argument, NULL, O_CLIENTS},
    {"sizes", required_argument, NULL, O_SIZES},
    {"messages", required_argument, NULL, O_MESSAGES},
    {"credit", required_argument, NULL, O_CREDIT},
    {"subprotocol", required_argument, NULL, O_SUBPROTOCOL},
    {"encoding", required_argument, NULL, O_ENCODING},
    {"rounds", required_argument, NULL, O_ROUNDS},
    {"broker-pid", required_argument, NULL, O_BROKER_PID},
    {"no-raw", no_argument, NULL, O_NO_RAW},
    {"idle-sessions", required_argument, NULL, O_IDLE_SESSIONS},
    {"event-loop", required_argument, NULL, O_EVENT_LOOP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --sizes A,B,...: up to 16 sizes; 0, or -1 on a stray character. */
static int parse_sizes(const char *v, bench_args *b)
{
    int bad = 0;
    b->nsizes = 0;
    for (char *p = (char *)v; *p && b->nsizes < 16;) {
        b->sizes[b->nsizes++] = strtoul(p, &p, 10);
        if (*p == ',')
            p++;
        else if (*p)
            bad = 1;
    }
    return bad ? -1 : 0;
}

/* One option of bench_options; 0, or -1 (after a message, but --sizes). */
static int bench_option(int opt, const char *v, bench_args *b)
{
    switch (opt) {
    case O_CLIENTS:
        return opt_u64("--clients", v, 1, 1000, &b->clients);
    case O_MESSAGES:
        return opt_u64("--messages", v, 1, 100000000, &b->messages);
    case O_CREDIT:
        return opt_u64("--credit", v, 1, 100000, &b->credit);
    case O_ROUNDS:
        return opt_u64("--rounds", v, 1, 1000, &b->rounds);
    case O_BROKER_PID:
        return opt_u64("--broker-pid", v, 1, 1u << 30, &b->broker_pid);
    case O_SUBPROTOCOL:
        b->sp = v;
        return 0;
    case O_ENCODING:
        b->enc = !strcmp(v, "text") ? MBWS_ENC_TEXT : MBWS_ENC_BINARY;
        return 0;
    case O_SIZES:
        return parse_sizes(v, b);
    case O_NO_RAW:
        b->raw = 0;
        return 0;
    case O_IDLE_SESSIONS:
        return opt_u64("--idle-sessions", v, 0, IDLE_SESSIONS_MAX, &b->idle);
    case O_EVENT_LOOP:
        return opt_event_loop(v, &bench_loop);
    }
    return -1;
}

static enum opt_parsed bench_parse(int argc, char **argv, bench_args *b)
{
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "-:h", bench_options, NULL)) != -1) {
        if (opt == 1) {
            b->url = optarg;
        } else if (opt == 'h') {
            usage(stdout);
            return OPT_HELP;
        } else if (opt == ':') {
            fprintf(stderr, "bench: %s needs a value\n", opt_refused(argv));
            return OPT_BAD;
        } else if (opt == '?') {
            fprintf(stderr, "bench: unknown option %s\n", opt_refused(argv));
            return OPT_BAD;
        } else if (bench_option(opt, optarg, b)) {
            return OPT_BAD;
        }
    }
    if (optind < argc) /* after "--" */
        b->url = argv[argc - 1];
    if (!b->url) {
        usage(stderr);
        return OPT_BAD;
    }
    return OPT_RUN;
}

/* One size: the MBWS runs (--rounds of them), then the raw baseline.
 * 0, or 1 when a run failed. */
static int bench_size(const bench_args *b, size_t size)
{
    int failed = 0;
    uint64_t m = b->messages ? b->messages : (size <= 1024 ? 200000 : 20000);
    result mb = {0}, rw = {0};
    for (uint64_t k = 0; k < b->rounds; k++) {
        double cpu0 = b->broker_pid ? idle_cpu_s((long)b->broker_pid) : -1;
        if (run_mbws(b->url, b->sp, b->enc, (int)b->clients, size, m, b->credit, &mb)) {
            failed = 1;
            break;
        }
        printf("MBWS  %6zu B: %9.0f msg/s  latency p50 %7.3f ms  p99 %7.3f ms  (%" PRIu64
               " messages, %.2f s)",
               size, mb.rate, mb.p50_ms, mb.p99_ms, mb.messages, mb.seconds);
        if (b->broker_pid)
            printf("  broker RSS %ld KiB, CPU %.2f s", idle_rss_kib((long)b->broker_pid),
                   idle_cpu_s((long)b->broker_pid) - cpu0);
        printf("\n");
        fflush(stdout);
    }
    if (!b->raw)
        return failed;
    if (run_raw((int)b->clients * 2, size, m, b->credit, &rw) == 0) {
        printf("raw   %6zu B: %9.0f msg/s  latency p50 %7.3f ms  p99 %7.3f ms  (%" PRIu64
               " messages, %.2f s, %llu echo clients)\n",
               size, rw.rate, rw.p50_ms, rw.p99_ms, rw.messages, rw.seconds,
               (unsigned long long)b->clients * 2);
        if (mb.ok)
            printf("ratio %6zu B: MBWS/raw = %.2f\n", size, mb.rate / rw.rate);
    } else {
        printf("raw   %6zu B: baseline failed\n", size);
        failed = 1;
    }
    fflush(stdout);
    return failed;
}

int cmd_bench(int argc, char **argv)
{
    bench_args b = {
        .sp = MBWS_SUBPROTOCOL_MBWS,
        .clients = 4,
        .credit = 64,
        .rounds = 1,
        .sizes = {100, 16384},
        .nsizes = 2,
        .raw = 1,
        .enc = MBWS_ENC_BINARY,
    };
    enum opt_parsed parsed = bench_parse(argc, argv, &b);
    if (parsed != OPT_RUN)
        return parsed == OPT_HELP ? 0 : 2;
    signal(SIGPIPE, SIG_IGN);
    opt_raise_nofile();
    machine();
    printf("broker: %s (%s, %s), %llu publishers + %llu consumers, window %llu\n", b.url, b.sp,
           b.enc == MBWS_ENC_TEXT ? "text" : "binary", (unsigned long long)b.clients,
           (unsigned long long)b.clients, (unsigned long long)b.credit);
    idle_config ic = {b.url, b.sp, b.enc, b.idle, (long)b.broker_pid, bench_loop};
    if (b.idle && idle_check(&ic) < 0)
        return 2;
    if (!b.broker_pid)
        b.broker_pid = (uint64_t)idle_find_broker(b.url);
    ic.broker_pid = (long)b.broker_pid;
    if (b.broker_pid)
        printf("broker RSS at start: %ld KiB (pid %llu)\n", idle_rss_kib((long)b.broker_pid),
               (unsigned long long)b.broker_pid);
    fflush(stdout);
    pid_t idle = b.idle ? idle_start(&ic) : 0;
    if (idle < 0)
        return 1;
    int failed = 0;
    for (int s = 0; s < b.nsizes; s++)
        failed |= bench_size(&b, b.sizes[s]);
    if (b.broker_pid)
        printf("broker RSS at end: %ld KiB\n", idle_rss_kib((long)b.broker_pid));
    if (idle > 0)
        idle_stop(idle);
    return failed;
}
