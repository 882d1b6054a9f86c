/* mbws-peer broker: the reference MBWS broker. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker_server.h"
#include "client_opts.h"
#include "commands.h"
#include "mbws_layout.h"
#include "transport_lws.h"

static volatile sig_atomic_t stop_requested;
static broker *running;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested++;
    if (running)
        broker_wake(running);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mbws-peer broker [OPTIONS]\n\n"
            "Run the reference MBWS broker (profile 1) on MBWS.huawei.com and\n"
            "MBLWS.huawei.com. Logs one line per connection event on stderr.\n\n"
            "  --listen HOST:PORT     address to listen on (default 127.0.0.1:8080);\n"
            "                         port 0 picks a free port. Prints\n"
            "                         'listening on ws://HOST:PORT/' on stdout.\n"
            "  --cert FILE --key FILE serve wss:// with this certificate and key (PEM)\n"
            "  --credit N             credit granted in CONNECTED (default 256, >= 1)\n"
            "  --window N             limit kept at acked + N (default: credit)\n"
            "  --max-frame N          largest frame accepted, octets (default 65536, >= 1024)\n"
            "  --session-expiry S     seconds a detached MBWS session is kept (default 30)\n"
            "  --queue-bound N        messages an address holds before its publishers\n"
            "                         are held back (default 100000; 0: unbounded)\n"
            "  --memory-bound BYTES   octets of messages held in all before publishers\n"
            "                         are held back (default 268435456; 0: unbounded)\n"
            "  --ack-delay MS         coalesce ACKs for up to MS ms (default 5, < 1000)\n"
            "  --event-loop L         libev (default), libuv (both epoll) or poll\n"
            "  --control-address A    a MESSAGE published to A with body 'disconnect ADDR'\n"
            "                         makes the broker start a DISCONNECT (SES-7) of every\n"
            "                         attached session subscribed to ADDR (the suite's\n"
            "                         --broker-disconnect-cmd); not queued\n"
            "  --verbose              log every frame sent and received\n"
            "  --fault NAME           inject one deliberate violation ('mbws-peer faults')\n"
            "  --help                 this text\n\n"
            "A client that sends no CONNECT within 5 s gets ERROR 14 (SES-2).\n"
            "SIGINT or SIGTERM: DISCONNECT every session, close, exit 0.\n");
}

enum {
    O_LISTEN = 256,
    O_CERT,
    O_KEY,
    O_CREDIT,
    O_WINDOW,
    O_MAX_FRAME,
    O_SESSION_EXPIRY,
    O_QUEUE_BOUND,
    O_MEMORY_BOUND,
    O_ACK_DELAY,
    O_EVENT_LOOP,
    O_CONTROL_ADDRESS,
    O_FAULT,
};

static const struct option broker_options[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"cert", required_argument, NULL, O_CERT},
    {"key", required_argument, NULL, O_KEY},
    {"credit", required_argument, NULL, O_CREDIT},
    {"window", required_argument, NULL, O_WINDOW},
    {"max-frame", required_argument, NULL, O_MAX_FRAME},
    {"session-expiry", required_argument, NULL, O_SESSION_EXPIRY},
    {"queue-bound", required_argument, NULL, O_QUEUE_BOUND},
    {"memory-bound", required_argument, NULL, O_MEMORY_BOUND},
    {"ack-delay", required_argument, NULL, O_ACK_DELAY},
    {"event-loop", required_argument, NULL, O_EVENT_LOOP},
    {"control-address", required_argument, NULL, O_CONTROL_ADDRESS},
    {"fault", required_argument, NULL, O_FAULT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One option of broker_options; 0, or -1 after a message. */
static int broker_option(int opt, const char *v, broker_config *cfg)
{
    uint64_t n;
    switch (opt) {
    case O_LISTEN:
        return opt_hostport(v, &cfg->host, &cfg->port);
    case O_CERT:
        cfg->cert = v;
        return 0;
    case O_KEY:
        cfg->key = v;
        return 0;
    case O_CREDIT:
        return opt_u64("--credit", v, 1, UINT32_MAX, &cfg->credit);
    case O_WINDOW:
        return opt_u64("--window", v, 1, UINT32_MAX, &cfg->window);
    case O_MAX_FRAME:
        return opt_u64("--max-frame", v, MBWS_MAX_FRAME_MIN, 1u << 30, &cfg->max_frame);
    case O_SESSION_EXPIRY:
        return opt_u64("--session-expiry", v, 1, 86400 * 365, &cfg->session_expiry_s);
    case O_QUEUE_BOUND:
        if (opt_u64("--queue-bound", v, 0, UINT32_MAX, &n))
            return -1;
        cfg->queue_bound = (size_t)n;
        return 0;
    case O_MEMORY_BOUND:
        if (opt_u64("--memory-bound", v, 0, SIZE_MAX, &n))
            return -1;
        cfg->memory_bound = (size_t)n;
        return 0;
    case O_ACK_DELAY:
        if (opt_u64("--ack-delay", v, 0, 999, &n))
            return -1;
        cfg->ack_delay_ms = (uint32_t)n;
        return 0;
    case O_EVENT_LOOP:
        return opt_event_loop(v, &cfg->event_loop);
    case O_CONTROL_ADDRESS:
        if (!*v) {
            fprintf(stderr, "broker: --control-address needs a non-empty address\n");
            return -1;
        }
        cfg->control_address = v;
        return 0;
    case O_FAULT:
        return opt_fault("broker", v, MBWS_FAULT_BROKER, &cfg->fault);
    case 'v':
        cfg->verbose = 1;
        return 0;
    }
    return -1;
}

static enum opt_parsed broker_parse(int argc, char **argv, broker_config *cfg)
{
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "-:hv", broker_options, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return OPT_HELP;
        }
        if (opt == ':' || opt == '?' || opt == 1) {
            /* the last argument might have wanted a value */
            fprintf(stderr, "broker: %s %s\n",
                    optind >= argc ? "unknown option or missing value:" : "unknown option",
                    opt == 1 ? optarg : opt_refused(argv));
            usage(stderr);
            return OPT_BAD;
        }
        if (broker_option(opt, optarg, cfg))
            return OPT_BAD;
    }
    if (optind < argc) { /* after "--" */
        fprintf(stderr, "broker: unknown option %s\n", argv[optind]);
        usage(stderr);
        return OPT_BAD;
    }
    if (!cfg->cert != !cfg->key) {
        fprintf(stderr, "broker: --cert and --key go together\n");
        return OPT_BAD;
    }
    return OPT_RUN;
}

/* Serves until a signal, then DISCONNECTs everyone (SES-7). */
static int broker_run(broker_config *cfg)
{
    opt_raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    broker *b = broker_new(cfg);
    if (!b)
        return 1;
    running = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("listening on %s://%s:%d/\n", broker_is_tls(b) ? "wss" : "ws", cfg->host,
           broker_port(b));
    fflush(stdout);
    fprintf(stderr, "broker: listening on %s:%d (credit %llu, max-frame %llu, session-expiry %llu s, "
                    "queue-bound %zu, memory-bound %zu, event loop %s)\n",
            cfg->host, broker_port(b), (unsigned long long)cfg->credit,
            (unsigned long long)cfg->max_frame, (unsigned long long)cfg->session_expiry_s,
            cfg->queue_bound, cfg->memory_bound, tp_event_loop_name(cfg->event_loop));

    while (!stop_requested)
        if (broker_service(b, 1000) < 0)
            break;

    /* Shutdown: DISCONNECT everyone (SES-7), give the exchanges time to
     * finish (2000 ms each side plus the close), then free everything. */
    fprintf(stderr, "broker: shutting down, %zu connections\n", broker_connection_count(b));
    broker_disconnect_all(b);
    uint64_t until = tp_now_ms() + 4500;
    while (broker_connection_count(b) && tp_now_ms() < until && stop_requested < 2)
        broker_service(b, 100);
    running = NULL;
    broker_free(b);
    fprintf(stderr, "broker: stopped\n");
    return 0;
}

int cmd_broker(int argc, char **argv)
{
    broker_config cfg = {
        .host = "127.0.0.1",
        .port = 8080,
        .credit = 256,
        .max_frame = 65536,
        .session_expiry_s = 30,
        .queue_bound = 100000,
        .memory_bound = 256u << 20,
        .ack_delay_ms = 5,
    };
    enum opt_parsed parsed = broker_parse(argc, argv, &cfg);
    if (parsed != OPT_RUN)
        return parsed == OPT_HELP ? 0 : 2;
    return broker_run(&cfg);
}
