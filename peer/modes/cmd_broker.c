/* mbws-peer broker: the reference MBWS broker. */
#define _POSIX_C_SOURCE 200809L
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
            "  --ack-delay MS         coalesce ACKs for up to MS ms (default 5, < 1000)\n"
            "  --verbose              log every frame sent and received\n"
            "  --fault NAME           inject one deliberate violation ('mbws-peer faults')\n"
            "  --help                 this text\n\n"
            "A client that sends no CONNECT within 5 s gets ERROR 14 (SES-2).\n"
            "SIGINT or SIGTERM: DISCONNECT every session, close, exit 0.\n");
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
        .ack_delay_ms = 5,
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            cfg.verbose = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "broker: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--listen")) {
            if (opt_hostport(v, &cfg.host, &cfg.port))
                return 2;
        } else if (!strcmp(a, "--cert")) {
            cfg.cert = v;
        } else if (!strcmp(a, "--key")) {
            cfg.key = v;
        } else if (!strcmp(a, "--credit")) {
            if (opt_u64(a, v, 1, UINT32_MAX, &cfg.credit))
                return 2;
        } else if (!strcmp(a, "--window")) {
            if (opt_u64(a, v, 1, UINT32_MAX, &cfg.window))
                return 2;
        } else if (!strcmp(a, "--max-frame")) {
            if (opt_u64(a, v, MBWS_MAX_FRAME_MIN, 1u << 30, &cfg.max_frame))
                return 2;
        } else if (!strcmp(a, "--session-expiry")) {
            if (opt_u64(a, v, 1, 86400 * 365, &cfg.session_expiry_s))
                return 2;
        } else if (!strcmp(a, "--queue-bound")) {
            if (opt_u64(a, v, 0, UINT32_MAX, &n))
                return 2;
            cfg.queue_bound = (size_t)n;
        } else if (!strcmp(a, "--ack-delay")) {
            if (opt_u64(a, v, 0, 999, &n))
                return 2;
            cfg.ack_delay_ms = (uint32_t)n;
        } else {
            fprintf(stderr, "broker: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!cfg.cert != !cfg.key) {
        fprintf(stderr, "broker: --cert and --key go together\n");
        return 2;
    }
    opt_raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    broker *b = broker_new(&cfg);
    if (!b)
        return 1;
    running = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("listening on %s://%s:%d/\n", broker_is_tls(b) ? "wss" : "ws", cfg.host,
           broker_port(b));
    fflush(stdout);
    fprintf(stderr, "broker: listening on %s:%d (credit %llu, max-frame %llu, session-expiry %llu s, "
                    "queue-bound %zu)\n",
            cfg.host, broker_port(b), (unsigned long long)cfg.credit,
            (unsigned long long)cfg.max_frame, (unsigned long long)cfg.session_expiry_s,
            cfg.queue_bound);

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
