/* mbws-peer echo: the echo client of profile section 12 (ECHO-1..4).
 * Configured only by the environment: MBWS_URL, MBWS_SUBPROTOCOL,
 * MBWS_ENCODING, MBWS_IN, MBWS_OUT, MBWS_DISCONNECT_AFTER. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_agent.h"
#include "client_opts.h"
#include "commands.h"
#include "mbws_fault.h"

typedef struct echo_run {
    const char *in, *out;
    int done;
    unsigned long echoed, skipped;
    uint64_t disconnect_after; /* ECHO-4: N, 0 when unset */
    uint64_t acked;            /* republished messages the broker acknowledged */
    int disconnecting;
} echo_run;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mbws-peer echo\n\n"
            "The echo client of MBWS profile section 12, configured by the environment:\n"
            "  MBWS_URL          ws:// or wss:// URL of the broker\n"
            "  MBWS_SUBPROTOCOL  MBWS.huawei.com or MBLWS.huawei.com\n"
            "  MBWS_ENCODING     binary or text (the session encoding)\n"
            "  MBWS_IN           address to consume from\n"
            "  MBWS_OUT          address to publish to\n"
            "  MBWS_DISCONNECT_AFTER  optional N >= 1: start a DISCONNECT once the broker\n"
            "                    has acknowledged the Nth republished message (ECHO-4)\n"
            "  MBWS_CA_FILE      wss:// only: verify the broker's certificate against this CA\n"
            "                    (PEM); unset: any certificate is accepted\n"
            "Every MESSAGE received on MBWS_IN is published to MBWS_OUT with the same\n"
            "body and content-type, in order, and ACKed once queued (ECHO-1).\n"
            "Exit status: 0 after a DISCONNECT exchange; 1 after an ERROR; 3 after an\n"
            "abnormal loss on MBLWS; 4 after a takeover close (4100); 5 when the broker\n"
            "cannot be reached (or a resume fails before the session expires); 2 for\n"
            "a handshake without an offered subprotocol (WS-3) or bad variables.\n"
            "  --credit N        credit advertised in CONNECT (default 64; 0: publish-only\n"
            "                    until it grants a FLOW, FLOW-1)\n"
            "  --max-frame N     max-frame advertised in CONNECT (default 1048576, >= 1024)\n"
            "  --fault NAME      inject one deliberate violation ('mbws-peer faults')\n");
}

static void on_connected(cl_agent *a, int resumed)
{
    echo_run *r = cl_user(a);
    if (!resumed) /* subscriptions survive a resume (RES-2) */
        cl_subscribe(a, 1, r->in);
}

/* ECHO-4: the broker's ACK (or a resume's last-seq) covered the Nth
 * republished message: start the DISCONNECT exchange at once. */
static void on_acked(cl_agent *a, uint64_t tag, uint64_t seq)
{
    (void)tag;
    (void)seq;
    echo_run *r = cl_user(a);
    r->acked++;
    if (r->disconnect_after && !r->disconnecting && r->acked >= r->disconnect_after) {
        r->disconnecting = 1;
        fprintf(stderr, "echo: %llu republished messages acknowledged: DISCONNECT (ECHO-4)\n",
                (unsigned long long)r->acked);
        cl_disconnect(a);
    }
}

static void on_deliver(cl_agent *a, const mbws_action *act)
{
    echo_run *r = cl_user(a);
    if (r->disconnecting) {
        /* ECHO-4: crossed our DISCONNECT; ACKed (SES-7), not republished */
        fprintf(stderr, "echo: message seq %llu crossed our DISCONNECT: acknowledged, not "
                        "republished\n",
                (unsigned long long)act->seq);
        if (!mbws_fault_on(cl_fault(a), MBWS_FAULT_SES_INITIATOR_NO_ACK))
            cl_accept(a, act->seq);
        return;
    }
    uint64_t seq = act->seq; /* act's pointers are only valid until the next drain */
    int keep_ct = act->has_content_type && !mbws_fault_on(cl_fault(a), MBWS_FAULT_ECHO_DROP_CONTENT_TYPE);
    int rc = cl_publish(a, r->out, keep_ct ? act->content_type.ptr : NULL,
                        act->content_type.len, act->body.ptr, act->body.len, seq);
    if (rc == MBWS_CMD_OK) {
        r->echoed++;
    } else if (rc == MBWS_CMD_TOO_LARGE) {
        /* ECHO-1: reported and skipped; it used no seq. */
        fprintf(stderr, "echo: message seq %llu cannot be republished: it would exceed the "
                        "broker's max-frame; skipped\n",
                (unsigned long long)seq);
        r->skipped++;
    } else {
        fprintf(stderr, "echo: message seq %llu not republished (session state)\n",
                (unsigned long long)seq);
    }
    cl_accept(a, seq); /* ACK-1: queued for republishing (or skipped) */
}

static void on_finished(cl_agent *a)
{
    ((echo_run *)cl_user(a))->done = 1;
}

/* The variables of profile section 12 (and MBWS_DISCONNECT_AFTER) into r
 * and cfg; 0, or 2 after a message. */
static int echo_parse_env(echo_run *r, cl_config *cfg)
{
    const char *url = getenv("MBWS_URL"), *sp = getenv("MBWS_SUBPROTOCOL"),
               *enc = getenv("MBWS_ENCODING");
    r->in = getenv("MBWS_IN");
    r->out = getenv("MBWS_OUT");
    if (!url || !r->in || !r->out || !*r->in || !*r->out) {
        fprintf(stderr, "echo: MBWS_URL, MBWS_IN and MBWS_OUT must be set\n");
        usage(stderr);
        return 2;
    }
    cfg->url = url;
    cfg->subprotocols = sp && *sp ? sp : MBWS_SUBPROTOCOL_MBWS;
    cfg->encoding = enc && !strcmp(enc, "text") ? MBWS_ENC_TEXT : MBWS_ENC_BINARY;
    if (enc && strcmp(enc, "text") && strcmp(enc, "binary")) {
        fprintf(stderr, "echo: MBWS_ENCODING must be binary or text\n");
        return 2;
    }
    const char *da = getenv("MBWS_DISCONNECT_AFTER");
    if (da && *da && !mbws_fault_on(cfg->fault, MBWS_FAULT_ECHO_IGNORE_DISCONNECT_AFTER)) {
        char *end;
        unsigned long long n = strtoull(da, &end, 10);
        if (*end || n < 1 || *da == '-') {
            fprintf(stderr, "echo: MBWS_DISCONNECT_AFTER must be a count of at least 1, not '%s'\n",
                    da);
            return 2;
        }
        r->disconnect_after = n;
    }
    cfg->ack_delay_ms = 0;
    cfg->flow_after_read = 1; /* FLOW-3 observable: no FLOW amid one read (C-FLOW-003) */
    cfg->manual_accept = 1; /* ACK once republished (ECHO-1) */
    cfg->reconnect_ms = 100; /* ECHO-2: resume well within 2 s */
    cfg->exit_on_error = 1;  /* ECHO-3 */
    cfg->label = "echo";
    return 0;
}

/* Runs the echo client until its session is over; the exit status. */
static int echo_run_agent(echo_run *r, const cl_config *cfg)
{
    signal(SIGPIPE, SIG_IGN);
    tp_options o = {0};
    o.quiet_lws = 1;
    const char *ca = getenv("MBWS_CA_FILE"); /* an addition to section 12's variables */
    o.ca_file = ca && *ca ? ca : NULL;
    /* SES-9: libwebsockets 4.1's client parser hands payload up only when
     * this buffer is full or the frame ends; a small buffer lets an
     * oversized frame be judged from its header after its first octets. */
    o.rx_chunk = 64;
    o.client_tls = !strncmp(cfg->url, "wss://", 6);
    /* One connection: lws's own poll loop. On libev, lws 4.1's client TLS
     * handshake could stall for seconds (wss:// cases timed out waiting
     * for CONNECT), and an epoll loop gains nothing for a single socket. */
    o.event_loop = TP_LOOP_POLL;
    o.fault = cfg->fault;
    tp_events none = {0};
    tp_ctx *t = tp_new(&o, &none, NULL);
    if (!t)
        return 5;
    cl_handlers h = {on_connected, on_deliver, on_acked, NULL, on_finished};
    cl_agent *a = cl_new(t, cfg, &h, r);
    int status = 5;
    if (a && cl_start(a) == 0) {
        while (!r->done)
            if (tp_service(t, 1000) < 0)
                break;
        status = cl_status(a);
        if (status < 0)
            status = 1;
        if (status == CL_ERROR && mbws_fault_on(cfg->fault, MBWS_FAULT_ECHO_EXIT_0_AFTER_ERROR))
            status = 0;
    } else {
        fprintf(stderr, "echo: bad MBWS_URL '%s'\n", cfg->url);
        status = 2;
    }
    fprintf(stderr, "echo: %lu messages republished, %lu skipped, exit %d\n", r->echoed, r->skipped,
            status);
    cl_free(a);
    tp_free(t);
    if (mbws_fault_on(cfg->fault, MBWS_FAULT_ECHO_EXIT_LATE)) /* breaks ECHO-5's 1000 ms */
        nanosleep(&(struct timespec){1, 800000000L}, NULL);
    return status;
}

enum { O_CREDIT = 256, O_MAX_FRAME, O_FAULT };

static const struct option echo_options[] = {
    {"credit", required_argument, NULL, O_CREDIT},
    {"max-frame", required_argument, NULL, O_MAX_FRAME},
    {"fault", required_argument, NULL, O_FAULT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The command line, read before the environment: --fault NAME, and
 * --credit N, --max-frame N (what it advertises, so the suite can be tried
 * against a client granting little: FLOW-6 in cases, appendix B). */
static enum opt_parsed echo_parse_args(int argc, char **argv, cl_config *cfg)
{
    opterr = 0;
    optind = 1;
    int opt, bad;
    while ((opt = getopt_long(argc, argv, "-:h", echo_options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return OPT_HELP;
        case O_CREDIT:
            bad = opt_u64("--credit", optarg, 0, UINT64_MAX, &cfg->credit);
            break;
        case O_MAX_FRAME:
            bad = opt_u64("--max-frame", optarg, 1024, UINT64_MAX, &cfg->max_frame);
            break;
        case O_FAULT:
            bad = opt_fault("echo", optarg, MBWS_FAULT_CLIENT, &cfg->fault);
            break;
        default:
            fprintf(stderr, "echo: bad option '%s' (see --help)\n", opt == 1 ? optarg : opt_refused(argv));
            return OPT_BAD;
        }
        if (bad)
            return OPT_BAD;
    }
    return OPT_RUN;
}

int cmd_echo(int argc, char **argv)
{
    echo_run r;
    memset(&r, 0, sizeof r);
    cl_config cfg = {.credit = 64, .max_frame = 1u << 20};
    enum opt_parsed parsed = echo_parse_args(argc, argv, &cfg);
    if (parsed != OPT_RUN)
        return parsed == OPT_HELP ? 0 : 2;
    int rc = echo_parse_env(&r, &cfg);
    return rc ? rc : echo_run_agent(&r, &cfg);
}
