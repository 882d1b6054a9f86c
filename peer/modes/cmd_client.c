/* mbws-peer client: publish to or consume from an MBWS broker. */
#define _POSIX_C_SOURCE 200809L
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
            "  --verbose            log every frame\n"
            "  --fault NAME         inject one deliberate violation ('mbws-peer faults')\n\n"
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
    cl_config cfg = {0};
    cfg.encoding = MBWS_ENC_BINARY;
    cfg.credit = 64;
    cfg.max_frame = 65536;
    cfg.ack_delay_ms = 5;
    cfg.label = r.publish ? "publish" : "consume";
    static char protos[256];
    protos[0] = 0;
    const char *url = NULL, *file = NULL;
    const char *pos[2] = {0};
    size_t npos = 0, first_body = 0;
    char **args = argv + 2;
    int nargs = argc - 2;
    body *argbodies = calloc((size_t)nargs + 1, sizeof *argbodies);
    size_t nargbodies = 0;
    (void)first_body;
    for (int i = 0; i < nargs; i++) {
        const char *a = args[i], *v = i + 1 < nargs ? args[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            free(argbodies);
            return 0;
        } else if (!strcmp(a, "--verbose")) {
            cfg.verbose = 1;
        } else if (!strncmp(a, "--", 2) && strlen(a) > 2) {
            if (!v) {
                fprintf(stderr, "client: %s needs a value\n", a);
                free(argbodies);
                return 2;
            }
            i++;
            int bad = 0;
            if (!strcmp(a, "--count"))
                bad = opt_u64(a, v, 1, UINT64_MAX / 2, &r.count);
            else if (!strcmp(a, "--file"))
                file = v;
            else if (!strcmp(a, "--content-type"))
                r.ctype = v;
            else if (!strcmp(a, "--subprotocol")) {
                if (strlen(protos) + strlen(v) + 3 >= sizeof protos)
                    bad = 1;
                else {
                    if (*protos)
                        strcat(protos, ", ");
                    strcat(protos, v);
                }
            } else if (!strcmp(a, "--encoding")) {
                if (!strcmp(v, "binary"))
                    cfg.encoding = MBWS_ENC_BINARY;
                else if (!strcmp(v, "text"))
                    cfg.encoding = MBWS_ENC_TEXT;
                else {
                    fprintf(stderr, "client: --encoding is binary or text\n");
                    bad = 1;
                }
            } else if (!strcmp(a, "--credit"))
                bad = opt_u64(a, v, 0, UINT32_MAX, &cfg.credit);
            else if (!strcmp(a, "--max-frame"))
                bad = opt_u64(a, v, 1024, 1u << 30, &cfg.max_frame);
            else if (!strcmp(a, "--ack-delay")) {
                bad = opt_u64(a, v, 0, 999, &n);
                cfg.ack_delay_ms = (uint32_t)n;
            } else {
                fprintf(stderr, "client: unknown option %s\n", a);
                bad = 1;
            }
            if (bad) {
                free(argbodies);
                return 2;
            }
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            argbodies[nargbodies].p = (char *)a;
            argbodies[nargbodies].len = strlen(a);
            nargbodies++;
        }
    }
    url = pos[0];
    r.address = pos[1];
    if (!url || !r.address) {
        usage(stderr);
        free(argbodies);
        return 2;
    }
    if (!*protos)
        strcpy(protos, MBWS_SUBPROTOCOL_MBWS);
    cfg.subprotocols = protos;
    cfg.url = url;
    int own_bodies = 0;
    if (r.publish) {
        if (nargbodies) {
            r.bodies = argbodies;
            r.nbodies = nargbodies;
            argbodies = NULL;
        } else if (file) {
            r.bodies = calloc(1, sizeof *r.bodies);
            if (!r.bodies || read_file(file, &r.bodies[0]))
                return 1;
            r.nbodies = 1;
            own_bodies = 1;
        } else {
            read_stdin_lines(&r);
            own_bodies = 1;
        }
        r.total = r.nbodies * (r.count ? r.count : 1);
    } else {
        /* consume: with --count, the window never reaches past the count. */
        if (r.count && cfg.credit > r.count)
            cfg.credit = r.count;
        if (!cfg.credit)
            cfg.credit = 1;
        r.window = cfg.credit;
        cfg.window = cfg.credit;
    }
    free(argbodies);

    signal(SIGPIPE, SIG_IGN);
    tp_options o = {0};
    o.quiet_lws = 1;
    o.rx_chunk = 65536;
    tp_events none = {0};
    tp_ctx *t = tp_new(&o, &none, NULL);
    int status = 5;
    if (t) {
        loop_ctx = t;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        cl_handlers h = {on_connected, on_deliver, on_acked, on_writable, on_finished};
        r.a = cl_new(t, &cfg, &h, &r);
        if (r.a && r.publish && r.total == 0) {
            fprintf(stderr, "client: nothing to publish\n");
        }
        if (r.a && cl_start(r.a) == 0) {
            int handled = 0;
            uint64_t hard_stop = 0;
            while (!r.done) {
                tp_service(t, 1000);
                if (interrupted && !handled) {
                    handled = 1;
                    hard_stop = tp_now_ms() + 5000;
                    if (cl_is_open(r.a))
                        cl_disconnect(r.a);
                    else
                        break;
                }
                if (interrupted > 1 || (hard_stop && tp_now_ms() > hard_stop))
                    break;
            }
            status = cl_status(r.a);
            if (status < 0)
                status = 1;
            if (!r.publish)
                fflush(stdout);
            else
                fprintf(stderr, "publish: %llu of %llu messages acknowledged\n",
                        (unsigned long long)r.acked, (unsigned long long)r.total);
        } else {
            fprintf(stderr, "client: bad URL '%s'\n", url);
            status = 2;
        }
        cl_free(r.a);
        loop_ctx = NULL;
        tp_free(t);
    }
    if (own_bodies)
        for (size_t i = 0; i < r.nbodies; i++)
            free(r.bodies[i].p);
    free(r.bodies);
    return status;
}
