/* mbws-peer run: the conformance case engine's command line
 * (docs/engine-interface.md). Loads and validates every case file first,
 * runs case x subprotocol x encoding executions, writes the result file. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "engine_sched.h"
#include "engine_text.h"

/* What run_parse() found: run, print --help and exit 0, or exit 2. */
enum opt_parsed { OPT_RUN, OPT_HELP, OPT_BAD };

#ifndef MBWS_VERSION
#define MBWS_VERSION "dev"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mbws-peer run --case FILE|DIR [--case FILE|DIR ...]\n"
            "                     (--target URL | --listen HOST:PORT --client-cmd CMD)\n"
            "                     [--subprotocol MBWS.huawei.com|MBLWS.huawei.com]...\n"
            "                     [--encoding binary|text]... [--jobs N] [--case-timeout MS]\n"
            "                     [--json OUT] [--strict] [--verbose] [--max-wire-entries N]\n"
            "                     [--max-buffered OCTETS] [--max-events N] [--max-frames N]\n"
            "                     [--max-client-output OCTETS]\n"
            "  wss:// target:      [--ca-file FILE | --insecure] [--client-cert FILE --client-key FILE]\n"
            "  wss:// for a client: --cert FILE --key FILE [--ca-file FILE]\n\n"
            "Executes MBWS conformance cases (docs/case-format.md) against a broker or a client.\n\n"
            "  --case FILE|DIR     a case file, or a directory searched for *.json case files\n"
            "                      (schema.json and requirements.json are skipped); repeatable\n"
            "  --target URL        test a broker (B- cases): the engine connects to ws://HOST:PORT/PATH\n"
            "                      or wss://HOST:PORT/PATH (TLS with SNI and host name check)\n"
            "  --listen HOST:PORT  test a client (C- cases): the engine listens (port 0: a free port\n"
            "                      per execution) and starts --client-cmd CMD through /bin/sh -c\n"
            "                      with MBWS_URL, MBWS_SUBPROTOCOL, MBWS_ENCODING, MBWS_IN, MBWS_OUT\n"
            "                      (and MBWS_DISCONNECT_AFTER for a case with disconnect_after)\n"
            "  --subprotocol SP    only these subprotocols (default: all the case lists)\n"
            "  --encoding ENC      only these encodings (default: all the case lists)\n"
            "  --jobs N            run up to N executions at once (default 1)\n"
            "  --case-timeout MS   hard limit for one execution (default 20000)\n"
            "  --broker-disconnect-cmd CMD  B- cases: the command (through /bin/sh -c, with\n"
            "                      MBWS_URL and MBWS_ADDRESS) that makes the broker start a\n"
            "                      DISCONNECT of the sessions subscribed to MBWS_ADDRESS (SES-7);\n"
            "                      without it, cases that need one skip\n"
            "  --json OUT          write the result file (docs/engine-interface.md)\n"
            "  --strict            a SHOULD or a project reading that does not hold (verdict warn)\n"
            "                      fails the execution instead\n"
            "  --verbose           print every execution's wire log to stderr\n"
            "TLS (wss://):\n"
            "  --ca-file FILE      wss:// target: trust this CA (PEM) instead of the system's;\n"
            "                      with --listen: the CA the client gets as MBWS_CA_FILE\n"
            "  --insecure          wss:// target: no certificate or host name check (reported)\n"
            "  --client-cert FILE --client-key FILE  wss:// target: a client certificate (PEM)\n"
            "  --cert FILE --key FILE  with --listen: serve wss:// with this certificate and key;\n"
            "                      MBWS_URL is wss://, MBWS_CA_FILE is --ca-file or else FILE\n"
            "Bounds on what a target can make the engine hold (docs/engine-interface.md):\n"
            "  --max-wire-entries N   wire entries kept per execution: the first and last N/2\n"
            "                         (default 400)\n"
            "  --max-buffered OCTETS  per connection: largest frame or message received, and\n"
            "                         octets queued for sending (default 16777216)\n"
            "  --max-events N         frames received and not yet consumed per connection\n"
            "                         (default 2000)\n"
            "  --max-frames N         frames received per connection (default 100000)\n"
            "  --max-client-output OCTETS  last octets of the client's output kept (default 4000)\n"
            "A connection beyond --max-buffered, --max-events or --max-frames is dropped by the\n"
            "engine as \"target flooded: N frames in M ms\".\n\n"
            "Exit status: 0 all passed, warned or skipped, 1 something failed or erred, 2 bad usage or an\n"
            "invalid case file (then nothing runs). A TLS handshake the target refuses makes\n"
            "every execution an error with the reason (e.g. certificate not trusted).\n");
}

struct run {
    eng_case *cases;
    size_t ncases, capcases;
    char **paths;
    size_t npaths, cappaths;
    eng_job *jobs;
    size_t njobs;
    cJSON **results;
    int verbose;
    size_t counts[ENG_NVERDICTS];
    eng_target *t; /* its TLS context is freed with the rest */
};

static void add_path(struct run *r, const char *p)
{
    if (r->npaths == r->cappaths) {
        r->cappaths = r->cappaths ? r->cappaths * 2 : 64;
        r->paths = realloc(r->paths, r->cappaths * sizeof *r->paths);
        if (!r->paths)
            abort();
    }
    r->paths[r->npaths++] = strdup(p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Every *.json under dir, depth first, in name order. */
static int collect(struct run *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "mbws-peer run: cannot read directory %s\n", dir);
        return -1;
    }
    size_t first = r->npaths;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (collect(r, p) < 0) {
                closedir(d);
                return -1;
            }
        } else if (ends_with(e->d_name, ".json") && strcmp(e->d_name, "schema.json") &&
                   strcmp(e->d_name, "requirements.json")) {
            add_path(r, p);
        }
    }
    closedir(d);
    qsort(r->paths + first, r->npaths - first, sizeof *r->paths, cmp_str);
    return 0;
}

static int parse_url(const char *url, eng_target *t)
{
    t->tls = !strncmp(url, "wss://", 6);
    if (!t->tls && strncmp(url, "ws://", 5)) {
        fprintf(stderr, "mbws-peer run: --target wants ws://HOST:PORT/PATH or wss://..., not '%s'\n",
                url);
        return -1;
    }
    const char *h = url + (t->tls ? 6 : 5), *hend, *p;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend)
            return -1;
        snprintf(t->host, sizeof t->host, "%.*s", (int)(hend - h - 1), h + 1);
        p = hend + 1;
    } else {
        hend = h + strcspn(h, ":/");
        snprintf(t->host, sizeof t->host, "%.*s", (int)(hend - h), h);
        p = hend;
    }
    t->port = t->tls ? 443 : 80;
    if (*p == ':') {
        t->port = atoi(p + 1);
        p += 1 + strspn(p + 1, "0123456789");
    }
    snprintf(t->path, sizeof t->path, "%s", *p == '/' ? p : "/");
    if (!t->host[0] || t->port <= 0 || t->port > 65535) {
        fprintf(stderr, "mbws-peer run: bad --target URL '%s'\n", url);
        return -1;
    }
    return 0;
}

static int parse_listen(const char *s, eng_target *t)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) {
        fprintf(stderr, "mbws-peer run: --listen wants HOST:PORT, not '%s'\n", s);
        return -1;
    }
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (*h == '[' && hl >= 2 && h[hl - 1] == ']')
        h++, hl -= 2;
    snprintf(t->listen_host, sizeof t->listen_host, "%.*s", (int)hl, h);
    t->listen_port = atoi(colon + 1);
    if (t->listen_port < 0 || t->listen_port > 65535 || !colon[1]) {
        fprintf(stderr, "mbws-peer run: bad port in --listen '%s'\n", s);
        return -1;
    }
    return 0;
}

/* --verbose: the wire log, one line per entry, escaped for the terminal. */
static void print_wire(const cJSON *wire)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, wire)
    {
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(e, "note");
        const cJSON *frame = cJSON_GetObjectItemCaseSensitive(e, "frame");
        const cJSON *derr = cJSON_GetObjectItemCaseSensitive(e, "decode_error");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "opcode");
        char b1[1024], b2[2048];
        const char *what = note ? note->valuestring : op ? op->valuestring : "";
        const char *detail = frame ? frame->valuestring : derr ? derr->valuestring : "";
        fprintf(stderr, "    %8.1f c%d %-5s %s%s%s%s\n",
                cJSON_GetObjectItemCaseSensitive(e, "t_ms")->valuedouble,
                (int)cJSON_GetObjectItemCaseSensitive(e, "conn")->valuedouble,
                cJSON_GetObjectItemCaseSensitive(e, "dir")->valuestring,
                eng_term_text(what, b1, sizeof b1),
                cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "fin")) ? " (no FIN)" : "",
                frame || derr ? ": " : "", eng_term_text(detail, b2, sizeof b2));
    }
}

static void progress(void *arg, size_t job, const cJSON *res, size_t done, size_t total)
{
    struct run *r = arg;
    (void)job;
    const char *v = cJSON_GetObjectItemCaseSensitive(res, "verdict")->valuestring;
    for (int i = 0; i < ENG_NVERDICTS; i++)
        if (!strcmp(v, eng_verdict_names[i]))
            r->counts[i]++;
    const char *reason = cJSON_GetObjectItemCaseSensitive(res, "reason")->valuestring;
    char safe[2048];
    /* a target's text reaches the terminal escaped (no ESC sequences) */
    reason = eng_term_text(reason, safe, sizeof safe);
    fprintf(stderr, "[%zu/%zu] %-5s %s %s %s %.0f ms%s%s\n", done, total, v,
            cJSON_GetObjectItemCaseSensitive(res, "case")->valuestring,
            cJSON_GetObjectItemCaseSensitive(res, "subprotocol")->valuestring,
            cJSON_GetObjectItemCaseSensitive(res, "encoding")->valuestring,
            cJSON_GetObjectItemCaseSensitive(res, "duration_ms")->valuedouble,
            reason[0] ? ": " : "", reason);
    if (r->verbose)
        print_wire(cJSON_GetObjectItemCaseSensitive(res, "wire"));
}

static void free_run(void *arg)
{
    struct run *r = arg;
    for (size_t i = 0; i < r->ncases; i++)
        eng_case_free(&r->cases[i]);
    for (size_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    for (size_t i = 0; r->results && i < r->njobs; i++)
        cJSON_Delete(r->results[i]);
    if (r->t)
        eng_tls_cleanup(r->t);
    free(r->cases);
    free(r->paths);
    free(r->jobs);
    free(r->results);
}

static int load_all(struct run *r)
{
    int bad = 0;
    r->cases = calloc(r->npaths ? r->npaths : 1, sizeof *r->cases);
    if (!r->cases)
        abort();
    for (size_t i = 0; i < r->npaths; i++) {
        char err[1024];
        if (eng_case_load(r->paths[i], &r->cases[r->ncases], err, sizeof err) < 0) {
            fprintf(stderr, "mbws-peer run: invalid case: %s\n", err);
            bad = 1;
            continue;
        }
        for (size_t k = 0; k < r->ncases; k++)
            if (!strcmp(r->cases[k].id, r->cases[r->ncases].id)) {
                fprintf(stderr, "mbws-peer run: invalid case: %s: /id: %s is also the id of %s\n",
                        r->paths[i], r->cases[k].id, r->cases[k].file);
                bad = 1;
            }
        r->ncases++;
    }
    return bad ? -1 : 0;
}

static void iso_now(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What the command line asks for beyond struct run. */
struct run_args {
    eng_target t;
    unsigned sp_mask, enc_mask;
    int njobs, have_target, have_listen;
    const char *json_out;
};

enum {
    O_CASE = 256,
    O_TARGET,
    O_LISTEN,
    O_CLIENT_CMD,
    O_SUBPROTOCOL,
    O_ENCODING,
    O_JOBS,
    O_CASE_TIMEOUT,
    O_JSON,
    O_MAX_WIRE_ENTRIES,
    O_MAX_BUFFERED,
    O_MAX_EVENTS,
    O_MAX_FRAMES,
    O_MAX_CLIENT_OUTPUT,
    O_STRICT,
    O_CA_FILE,
    O_INSECURE,
    O_CLIENT_CERT,
    O_CLIENT_KEY,
    O_CERT,
    O_KEY,
    O_BROKER_DISCONNECT_CMD,
};

static const struct option run_options[] = {
    {"case", required_argument, NULL, O_CASE},
    {"target", required_argument, NULL, O_TARGET},
    {"listen", required_argument, NULL, O_LISTEN},
    {"client-cmd", required_argument, NULL, O_CLIENT_CMD},
    {"subprotocol", required_argument, NULL, O_SUBPROTOCOL},
    {"encoding", required_argument, NULL, O_ENCODING},
    {"jobs", required_argument, NULL, O_JOBS},
    {"case-timeout", required_argument, NULL, O_CASE_TIMEOUT},
    {"json", required_argument, NULL, O_JSON},
    {"max-wire-entries", required_argument, NULL, O_MAX_WIRE_ENTRIES},
    {"max-buffered", required_argument, NULL, O_MAX_BUFFERED},
    {"max-events", required_argument, NULL, O_MAX_EVENTS},
    {"max-frames", required_argument, NULL, O_MAX_FRAMES},
    {"max-client-output", required_argument, NULL, O_MAX_CLIENT_OUTPUT},
    {"ca-file", required_argument, NULL, O_CA_FILE},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"client-cert", required_argument, NULL, O_CLIENT_CERT},
    {"client-key", required_argument, NULL, O_CLIENT_KEY},
    {"cert", required_argument, NULL, O_CERT},
    {"key", required_argument, NULL, O_KEY},
    {"verbose", no_argument, NULL, 'v'},
    {"strict", no_argument, NULL, O_STRICT},
    {"broker-disconnect-cmd", required_argument, NULL, O_BROKER_DISCONNECT_CMD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --case FILE|DIR: one file, or every case file under DIR. */
static int add_case_arg(struct run *r, const char *v)
{
    struct stat st;
    if (stat(v, &st) == 0 && S_ISDIR(st.st_mode))
        return collect(r, v);
    add_path(r, v);
    return 0;
}

/* --subprotocol and --encoding: one more bit in the mask. */
static int add_mask(const char *v, const char *what, const char *name0, const char *name1,
                    unsigned bit0, unsigned bit1, unsigned *mask)
{
    if (!strcmp(v, name0))
        *mask |= 1u << bit0;
    else if (!strcmp(v, name1))
        *mask |= 1u << bit1;
    else {
        fprintf(stderr, "mbws-peer run: unknown %s '%s'\n", what, v);
        return -1;
    }
    return 0;
}

/* The long name of an option of run_options. */
static const char *opt_name(int opt)
{
    for (size_t i = 0; run_options[i].name; i++)
        if (run_options[i].val == opt)
            return run_options[i].name;
    return "";
}

/* --max-*: a positive integer bound. */
static int set_bound(eng_target *t, int opt, const char *v)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || n < 1 || n > (1ull << 40) || v[0] == '-') {
        fprintf(stderr, "mbws-peer run: --%s takes a positive integer, not '%s'\n",
                opt_name(opt), v);
        return -1;
    }
    if (opt == O_MAX_WIRE_ENTRIES)
        t->max_wire_entries = n < 2 ? 2 : (size_t)n;
    else if (opt == O_MAX_BUFFERED)
        t->lim.max_buffered = (size_t)n;
    else if (opt == O_MAX_EVENTS)
        t->lim.max_events = (size_t)n;
    else if (opt == O_MAX_FRAMES)
        t->lim.max_frames = n;
    else
        t->max_client_output = (size_t)n;
    return 0;
}

/* One option of run_options; 0, or -1 after a message. */
static int run_option(int opt, const char *v, struct run *r, struct run_args *a)
{
    switch (opt) {
    case O_CASE:
        return add_case_arg(r, v);
    case O_TARGET:
        a->t.url = v;
        a->have_target = 1;
        return parse_url(v, &a->t);
    case O_LISTEN:
        a->have_listen = 1;
        return parse_listen(v, &a->t);
    case O_CLIENT_CMD:
        a->t.client_cmd = v;
        return 0;
    case O_BROKER_DISCONNECT_CMD:
        a->t.broker_disconnect_cmd = v;
        return 0;
    case O_SUBPROTOCOL:
        return add_mask(v, "subprotocol", MBWS_SUBPROTOCOL_MBWS, MBWS_SUBPROTOCOL_MBLWS,
                        MBWS_SP_MBWS, MBWS_SP_MBLWS, &a->sp_mask);
    case O_ENCODING:
        return add_mask(v, "encoding", "binary", "text", MBWS_ENC_BINARY, MBWS_ENC_TEXT,
                        &a->enc_mask);
    case O_JOBS:
        a->njobs = atoi(v);
        if (a->njobs >= 1 && a->njobs <= 64)
            return 0;
        fprintf(stderr, "mbws-peer run: --jobs takes 1..64\n");
        return -1;
    case O_CASE_TIMEOUT:
        a->t.case_timeout_ms = atoi(v);
        if (a->t.case_timeout_ms >= 100)
            return 0;
        fprintf(stderr, "mbws-peer run: --case-timeout takes at least 100 ms\n");
        return -1;
    case O_JSON:
        a->json_out = v;
        return 0;
    case 'v':
        r->verbose = a->t.verbose = 1;
        return 0;
    case O_STRICT:
        a->t.strict = 1;
        return 0;
    case O_MAX_WIRE_ENTRIES:
    case O_MAX_BUFFERED:
    case O_MAX_EVENTS:
    case O_MAX_FRAMES:
    case O_MAX_CLIENT_OUTPUT:
        return set_bound(&a->t, opt, v);
    case O_INSECURE:
        a->t.tls_opts.insecure = 1;
        return 0;
    case O_CA_FILE:
    case O_CLIENT_CERT:
    case O_CLIENT_KEY:
    case O_CERT:
    case O_KEY:
        return eng_tls_option(&a->t, opt_name(opt), v) ? 0 : -1;
    }
    return -1;
}

/* The options, then the checks across them. */
static enum opt_parsed run_parse(int argc, char **argv, struct run *r, struct run_args *a)
{
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:hv", run_options, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return OPT_HELP;
        } else if (opt == ':') {
            fprintf(stderr, "mbws-peer run: %s needs a value (see --help)\n", argv[optind - 1]);
            return OPT_BAD;
        } else if (opt == '?') {
            fprintf(stderr, "mbws-peer run: unknown option '%s' (see --help)\n",
                    optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
            return OPT_BAD;
        } else if (run_option(opt, optarg, r, a)) {
            return OPT_BAD;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mbws-peer run: unexpected argument '%s' (see --help)\n", argv[optind]);
        return OPT_BAD;
    }
    if (a->have_target == a->have_listen || (a->have_listen && !a->t.client_cmd) ||
        (a->t.client_cmd && !a->have_listen)) {
        fprintf(stderr, "mbws-peer run: give either --target URL, or --listen HOST:PORT with "
                        "--client-cmd CMD (see --help)\n");
        return OPT_BAD;
    }
    if (!r->npaths) {
        fprintf(stderr, "mbws-peer run: no case files (--case FILE|DIR)\n");
        return OPT_BAD;
    }
    a->t.role = a->have_target ? ENG_TEST_BROKER : ENG_TEST_CLIENT;
    r->t = &a->t;
    if (eng_tls_setup(&a->t) < 0)
        return OPT_BAD;
    if (a->have_listen && a->t.listen_port != 0 && a->njobs > 1) {
        fprintf(stderr, "mbws-peer run: a fixed --listen port serves one execution at a time; "
                        "running with --jobs 1 (use port 0 for concurrency)\n");
        a->njobs = 1;
    }
    if (!a->sp_mask)
        a->sp_mask = 3;
    if (!a->enc_mask)
        a->enc_mask = 3;
    return OPT_RUN;
}

/* case x subprotocol x encoding, as the case and the options allow. */
static void plan_jobs(struct run *r, unsigned sp_mask, unsigned enc_mask)
{
    r->jobs = calloc(r->ncases * 4 + 1, sizeof *r->jobs);
    if (!r->jobs)
        abort();
    for (size_t i = 0; i < r->ncases; i++)
        for (int sp = 0; sp < 2; sp++)
            for (int enc = 0; enc < 2; enc++)
                if ((r->cases[i].sp_mask & sp_mask & (1u << sp)) &&
                    (r->cases[i].enc_mask & enc_mask & (1u << enc))) {
                    eng_job *j = &r->jobs[r->njobs];
                    j->c = &r->cases[i];
                    j->sp = (enum mbws_subprotocol)sp;
                    j->enc = (enum mbws_encoding)enc;
                    j->seq = (int)r->njobs++;
                }
}

/* The result file (docs/engine-interface.md); 0, or -1 when it cannot be written. */
static int write_results(struct run *r, const eng_target *t, const char *path,
                         const char *started, double dur)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "tool", "mbws-peer");
    cJSON_AddStringToObject(doc, "version", MBWS_VERSION);
    cJSON_AddNumberToObject(doc, "profile", MBWS_PROFILE_VERSION);
    cJSON *tg = cJSON_AddObjectToObject(doc, "target");
    if (t->role == ENG_TEST_BROKER) {
        cJSON_AddStringToObject(tg, "kind", "broker");
        cJSON_AddStringToObject(tg, "url", t->url);
        if (t->broker_disconnect_cmd)
            cJSON_AddStringToObject(tg, "broker_disconnect_cmd", t->broker_disconnect_cmd);
    } else {
        cJSON_AddStringToObject(tg, "kind", "client");
        cJSON_AddStringToObject(tg, "command", t->client_cmd);
        char l[300];
        snprintf(l, sizeof l, "%s:%d", t->listen_host, t->listen_port);
        cJSON_AddStringToObject(tg, "listen", l);
    }
    eng_tls_target_json(t, tg, r->results, r->njobs);
    cJSON_AddStringToObject(doc, "started", started);
    cJSON_AddNumberToObject(doc, "duration_ms", (double)(long long)(dur * 10) / 10.0);
    cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
    for (int i = 0; i < ENG_NVERDICTS; i++)
        cJSON_AddNumberToObject(sum, eng_verdict_names[i], (double)r->counts[i]);
    cJSON *arr = cJSON_AddArrayToObject(doc, "results");
    for (size_t i = 0; i < r->njobs; i++) {
        cJSON_AddItemToArray(arr, r->results[i]);
        r->results[i] = NULL;
    }
    eng_json_sanitize(doc);
    char *s = cJSON_Print(doc);
    cJSON_Delete(doc);
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f || !s || fputs(s, f) < 0 || fputc('\n', f) < 0) {
        fprintf(stderr, "mbws-peer run: cannot write %s\n", path);
        rc = -1;
    }
    if (f)
        fclose(f);
    free(s);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof r);
    struct run_args a;
    memset(&a, 0, sizeof a);
    a.t.case_timeout_ms = 20000;
    a.t.lim.max_buffered = WS_DEFAULT_MAX_BUFFERED;
    a.t.lim.max_events = WS_DEFAULT_MAX_EVENTS;
    a.t.lim.max_frames = WS_DEFAULT_MAX_FRAMES;
    a.t.max_wire_entries = ENG_DEFAULT_WIRE_ENTRIES;
    a.t.max_client_output = ENG_DEFAULT_CLIENT_OUTPUT;
    a.njobs = 1;
    enum opt_parsed parsed = run_parse(argc, argv, &r, &a);
    int rc = parsed == OPT_HELP ? 0 : 2;
    if (parsed != OPT_RUN || load_all(&r) < 0)
        goto out;
    plan_jobs(&r, a.sp_mask, a.enc_mask);
    r.results = calloc(r.njobs + 1, sizeof *r.results);
    if (!r.results)
        abort();
    a.t.run_nonce = (unsigned)time(NULL) ^ ((unsigned)getpid() << 8);
    signal(SIGPIPE, SIG_IGN);
    char started[32];
    iso_now(started, sizeof started);
    double t0 = ws_clock_ms();
    if (!eng_tls_refused(&a.t, r.jobs, r.njobs, r.results, progress, &r))
        eng_run_jobs(r.jobs, r.njobs, &a.t, a.njobs, r.results, progress, &r);
    double dur = ws_clock_ms() - t0;
    fprintf(stderr,
            "mbws-peer run: %zu executions: %zu pass, %zu fail, %zu error, %zu skip, %zu warn "
            "(%.1f s)\n",
            r.njobs, r.counts[0], r.counts[1], r.counts[2], r.counts[3], r.counts[4], dur / 1000.0);
    rc = r.counts[1] || r.counts[2] ? 1 : 0;
    if (a.json_out && write_results(&r, &a.t, a.json_out, started, dur) < 0)
        rc = 2;
out:
    free_run(&r);
    return rc;
}
