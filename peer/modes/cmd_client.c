/* mbws-peer client: publish to or consume from an MBWS broker. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_agent.h"
#include "client_opts.h"
#include "commands.h"

typedef struct body {
    char *p;
    size_t len;
} body;

typedef struct client_run {
    int publish; /* else consume */
    const char *address;
    const char *ctype;
    body *bodies;
    size_t nbodies;
    uint64_t count;    /* publish: repetitions; consume: messages to take (0: until SIGINT) */
    uint64_t total;    /* publish: messages to send */
    uint64_t next;     /* publish: next message index */
    uint64_t acked;    /* publish: messages acknowledged */
    uint64_t received; /* consume */
    uint64_t window;   /* consume: our grant window */
    int done;
    int in_pub;
    int capped; /* consume --count: limit fixed at the count */
    cl_agent *a;
} client_run;

static volatile sig_atomic_t interrupted;
static tp_ctx *loop_ctx;

static void on_signal(int sig)
{
    (void)sig;
    interrupted++;
    if (loop_ctx)
        tp_wake(loop_ctx);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mbws-peer client publish URL ADDRESS [BODY...] [OPTIONS]\n"
            "       mbws-peer client consume URL ADDRESS [OPTIONS]\n\n"
            "publish: sends each BODY as one MESSAGE to ADDRESS; with no BODY and no\n"
            "  --file, each line of stdin is one body. Waits until the broker has\n"
            "  acknowledged every message, then DISCONNECTs.\n"
            "consume: subscribes to ADDRESS and prints each body on its own line.\n"
            "  Stops after --count messages, or at SIGINT/SIGTERM, with a DISCONNECT.\n\n"
            "options:\n"
            "  --count N            publish: send the bodies N times; consume: take N messages\n"
            "  --file F             publish: the content of F is one body\n"
            "  --content-type T     publish: content-type of the messages\n"
            "  --subprotocol S      offer S (repeatable, in order; default MBWS.huawei.com)\n"
            "  --encoding E         binary or text (default binary)\n"
            "  --credit N           credit advertised in CONNECT (default 64)\n"
            "  --max-frame N        max-frame advertised (default 65536)\n"
            "  --event-loop L       libev (default), libuv (both epoll) or poll\n"
            "  --verbose            log every frame\n"
            "  --fault NAME         inject one deliberate violation ('mbws-peer faults')\n"
            "A BODY that starts with '-' goes after '--'.\n"
            "A wss:// URL accepts self-signed certificates; with MBWS_CA_FILE set in the\n"
            "environment the broker's certificate and host name must verify against it.\n\n"
            "On MBWS.huawei.com a lost connection is resumed (RES-8) and no message is\n"
            "delivered twice. Exit status: 0 after a clean DISCONNECT, 1 after an\n"
            "ERROR, 3 connection lost (MBLWS), 4 taken over, 5 could not connect.\n");
}

static int read_file(const char *path, body *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *p = malloc(cap);
    size_t n;
    while (p && (n = fread(p + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *q = realloc(p, cap *= 2);
            if (!q) {
                free(p);
                p = NULL;
            }
            p = q;
        }
    }
    fclose(f);
    if (!p)
        return -1;
    b->p = p;
    b->len = len;
    return 0;
}

static int read_stdin_lines(client_run *r)
{
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        if (r->nbodies == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            body *nb = realloc(r->bodies, alloc * sizeof *nb);
            if (!nb)
                break;
            r->bodies = nb;
        }
        r->bodies[r->nbodies].p = malloc((size_t)n + 1);
        if (!r->bodies[r->nbodies].p)
            break;
        memcpy(r->bodies[r->nbodies].p, line, (size_t)n + 1);
        r->bodies[r->nbodies].len = (size_t)n;
        r->nbodies++;
    }
    free(line);
    return 0;
}

static void pub_more(client_run *r)
{
    /* cl_publish() drains the core's actions, which may call back here. */
    if (r->in_pub)
        return;
    r->in_pub = 1;
    while (r->next < r->total && cl_writable(r->a)) {
        uint64_t i = r->next++;
        const body *b = &r->bodies[i % r->nbodies];
        int rc = cl_publish(r->a, r->address, r->ctype, r->ctype ? strlen(r->ctype) : 0, b->p,
                            b->len, i);
        if (rc == MBWS_CMD_TOO_LARGE) {
            fprintf(stderr, "client: message %llu is larger than the broker's max-frame: not sent\n",
                    (unsigned long long)i + 1);
            r->acked++; /* nothing to wait for */
        } else if (rc != MBWS_CMD_OK) {
            r->next--;
            break;
        }
    }
    r->in_pub = 0;
    if (r->next >= r->total && r->acked >= r->total && cl_is_open(r->a))
        cl_disconnect(r->a);
}

static void on_connected(cl_agent *a, int resumed)
{
    client_run *r = cl_user(a);
    if (r->publish) {
        pub_more(r);
    } else if (!resumed) {
        cl_subscribe(a, 1, r->address);
        if (r->count && r->window >= r->count) {
            r->capped = 1;
            cl_hold_window(a, 1); /* credit already covers every message wanted */
        }
    } else if (r->capped) {
        cl_hold_window(a, 1); /* a resumed conn starts with normal grants */
    }
}

static void on_writable(cl_agent *a)
{
    client_run *r = cl_user(a);
    if (r->publish)
        pub_more(r);
}

static void on_acked(cl_agent *a, uint64_t tag, uint64_t seq)
{
    client_run *r = cl_user(a);
    (void)tag;
    (void)seq;
    r->acked++;
    if (r->publish)
        pub_more(r);
}

static void on_deliver(cl_agent *a, const mbws_action *act)
{
    client_run *r = cl_user(a);
    if (r->publish)
        return;
    fwrite(act->body.ptr, 1, act->body.len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    r->received++;
    if (!r->count)
        return;
    /* Never let the limit pass the count: a message received after our
     * DISCONNECT would be acknowledged (SES-7) and never printed. From here
     * the core's own grants (acked + window) would pass it: hold them and
     * grant exactly the count instead. */
    if (act->seq + r->window > r->count && !r->capped) {
        r->capped = 1;
        cl_hold_window(a, 1);
        cl_grant(a, r->count);
    }
    if (r->received >= r->count && cl_is_open(a))
        cl_disconnect(a);
}

static void on_finished(cl_agent *a)
{
    client_run *r = cl_user(a);
    r->done = 1;
}

/* What the command line says beyond client_run: the agent's configuration
 * and the bodies given as arguments (pointing into argv). */
typedef struct client_args {
    cl_config cfg;
    char protos[256];
    const char *url, *file;
    enum tp_event_loop event_loop;
    body *argbodies;
    size_t nargbodies;
} client_args;

enum {
    O_COUNT = 256,
    O_FILE,
    O_CONTENT_TYPE,
    O_SUBPROTOCOL,
    O_ENCODING,
    O_CREDIT,
    O_MAX_FRAME,
    O_ACK_DELAY,
    O_VERBOSE,
    O_EVENT_LOOP,
    O_FAULT,
};

static const struct option client_options[] = {
    {"count", required_argument, NULL, O_COUNT},
    {"file", required_argument, NULL, O_FILE},
    {"content-type", required_argument, NULL, O_CONTENT_TYPE},
    {"subprotocol", required_argument, NULL, O_SUBPROTOCOL},
    {"encoding", required_argument, NULL, O_ENCODING},
    {"credit", required_argument, NULL, O_CREDIT},
    {"max-frame", required_argument, NULL, O_MAX_FRAME},
    {"ack-delay", required_argument, NULL, O_ACK_DELAY},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"event-loop", required_argument, NULL, O_EVENT_LOOP},
    {"fault", required_argument, NULL, O_FAULT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --subprotocol S: appended to the offer, in order. */
static int add_subprotocol(char *protos, size_t cap, const char *v)
{
    if (strlen(protos) + strlen(v) + 3 >= cap) {
        fprintf(stderr, "client: --subprotocol: the offered list is too long\n");
        return -1;
    }
    if (*protos)
        strcat(protos, ", ");
    strcat(protos, v);
    return 0;
}

/* One option of client_options; 0, or -1 after a message. */
static int client_option(int opt, const char *v, client_run *r, client_args *a)
{
    uint64_t n;
    switch (opt) {
    case O_COUNT:
        return opt_u64("--count", v, 1, UINT64_MAX / 2, &r->count);
    case O_FILE:
        a->file = v;
        return 0;
    case O_CONTENT_TYPE:
        r->ctype = v;
        return 0;
    case O_SUBPROTOCOL:
        return add_subprotocol(a->protos, sizeof a->protos, v);
    case O_ENCODING:
        if (!strcmp(v, "binary") || !strcmp(v, "text")) {
            a->cfg.encoding = !strcmp(v, "text") ? MBWS_ENC_TEXT : MBWS_ENC_BINARY;
            return 0;
        }
        fprintf(stderr, "client: --encoding is binary or text\n");
        return -1;
    case O_CREDIT:
        return opt_u64("--credit", v, 0, UINT32_MAX, &a->cfg.credit);
    case O_MAX_FRAME:
        return opt_u64("--max-frame", v, 1024, 1u << 30, &a->cfg.max_frame);
    case O_ACK_DELAY:
        if (opt_u64("--ack-delay", v, 0, 999, &n))
            return -1;
        a->cfg.ack_delay_ms = (uint32_t)n;
        return 0;
    case O_VERBOSE:
        a->cfg.verbose = 1;
        return 0;
    case O_EVENT_LOOP:
        return opt_event_loop(v, &a->event_loop);
    case O_FAULT:
        return opt_fault("client", v, MBWS_FAULT_CLIENT, &a->cfg.fault);
    }
    return -1;
}

/* URL, ADDRESS, then the bodies to publish. */
static void client_positional(const char *v, client_run *r, client_args *a)
{
    if (!a->url)
        a->url = v;
    else if (!r->address)
        r->address = v;
    else {
        a->argbodies[a->nargbodies].p = (char *)v;
        a->argbodies[a->nargbodies].len = strlen(v);
        a->nargbodies++;
    }
}

/* argv[0] is "publish" or "consume". Options and positionals may mix; a
 * BODY that starts with '-' goes after "--". */
static enum opt_parsed client_parse(int argc, char **argv, client_run *r, client_args *a)
{
    a->argbodies = calloc((size_t)argc + 1, sizeof *a->argbodies);
    if (!a->argbodies)
        return OPT_BAD;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "-:h", client_options, NULL)) != -1) {
        if (opt == 1) {
            client_positional(optarg, r, a);
        } else if (opt == 'h') {
            usage(stdout);
            return OPT_HELP;
        } else if (opt == ':') {
            fprintf(stderr, "client: %s needs a value\n", opt_refused(argv));
            return OPT_BAD;
        } else if (opt == '?') {
            fprintf(stderr, "client: unknown option %s\n", opt_refused(argv));
            return OPT_BAD;
        } else if (client_option(opt, optarg, r, a)) {
            return OPT_BAD;
        }
    }
    for (; optind < argc; optind++) /* after "--" */
        client_positional(argv[optind], r, a);
    if (!a->url || !r->address) {
        usage(stderr);
        return OPT_BAD;
    }
    return OPT_RUN;
}

/* The messages to publish (arguments, --file or stdin lines), or the
 * consumer's window; 0, or -1 when --file cannot be read. */
static int client_prepare(client_run *r, client_args *a, int *own_bodies)
{
    if (!*a->protos)
        strcpy(a->protos, MBWS_SUBPROTOCOL_MBWS);
    a->cfg.subprotocols = a->protos;
    a->cfg.url = a->url;
    if (!r->publish) {
        /* consume: with --count, the window never reaches past the count. */
        if (r->count && a->cfg.credit > r->count)
            a->cfg.credit = r->count;
        if (!a->cfg.credit)
            a->cfg.credit = 1;
        r->window = a->cfg.credit;
        a->cfg.window = a->cfg.credit;
        return 0;
    }
    if (a->nargbodies) {
        r->bodies = a->argbodies;
        r->nbodies = a->nargbodies;
        a->argbodies = NULL;
    } else if (a->file) {
        *own_bodies = 1;
        r->bodies = calloc(1, sizeof *r->bodies);
        if (!r->bodies || read_file(a->file, &r->bodies[0]))
            return -1;
        r->nbodies = 1;
    } else {
        *own_bodies = 1;
        read_stdin_lines(r);
    }
    r->total = r->nbodies * (r->count ? r->count : 1);
    return 0;
}

/* Runs the agent until it finishes (or a second signal); the exit status. */
static int client_loop(tp_ctx *t, client_run *r, const cl_config *cfg)
{
    int status;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cl_handlers h = {on_connected, on_deliver, on_acked, on_writable, on_finished};
    r->a = cl_new(t, cfg, &h, r);
    if (r->a && r->publish && r->total == 0)
        fprintf(stderr, "client: nothing to publish\n");
    if (r->a && cl_start(r->a) == 0) {
        int handled = 0;
        uint64_t hard_stop = 0;
        while (!r->done) {
            tp_service(t, 1000);
            if (interrupted && !handled) {
                handled = 1;
                hard_stop = tp_now_ms() + 5000;
                if (cl_is_open(r->a))
                    cl_disconnect(r->a);
                else
                    break;
            }
            if (interrupted > 1 || (hard_stop && tp_now_ms() > hard_stop))
                break;
        }
        status = cl_status(r->a);
        if (status < 0)
            status = 1;
        if (!r->publish)
            fflush(stdout);
        else
            fprintf(stderr, "publish: %llu of %llu messages acknowledged\n",
                    (unsigned long long)r->acked, (unsigned long long)r->total);
    } else {
        fprintf(stderr, "client: bad URL '%s'\n", cfg->url);
        status = 2;
    }
    cl_free(r->a);
    return status;
}

int cmd_client(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    client_run r;
    memset(&r, 0, sizeof r);
    if (!strcmp(argv[1], "publish"))
        r.publish = 1;
    else if (strcmp(argv[1], "consume")) {
        fprintf(stderr, "client: expected publish or consume, not '%s'\n", argv[1]);
        return 2;
    }
    client_args a;
    memset(&a, 0, sizeof a);
    a.cfg.encoding = MBWS_ENC_BINARY;
    a.cfg.credit = 64;
    a.cfg.max_frame = 65536;
    a.cfg.ack_delay_ms = 5;
    a.cfg.label = r.publish ? "publish" : "consume";

    enum opt_parsed parsed = client_parse(argc - 1, argv + 1, &r, &a);
    int own_bodies = 0, status = parsed == OPT_HELP ? 0 : 2;
    if (parsed == OPT_RUN && client_prepare(&r, &a, &own_bodies) < 0)
        status = 1;
    else if (parsed == OPT_RUN) {
        signal(SIGPIPE, SIG_IGN);
        tp_options o = {0};
        o.quiet_lws = 1;
        o.rx_chunk = 65536;
        o.event_loop = a.event_loop;
        o.client_tls = !strncmp(a.url, "wss://", 6);
        const char *ca = getenv("MBWS_CA_FILE");
        o.ca_file = ca && *ca ? ca : NULL;
        o.fault = a.cfg.fault;
        tp_events none = {0};
        tp_ctx *t = tp_new(&o, &none, NULL);
        loop_ctx = t;
        status = t ? client_loop(t, &r, &a.cfg) : 5;
        loop_ctx = NULL;
        tp_free(t);
    }
    free(a.argbodies);
    if (own_bodies)
        for (size_t i = 0; r.bodies && i < r.nbodies; i++)
            free(r.bodies[i].p);
    free(r.bodies);
    return status;
}
