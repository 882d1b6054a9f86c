/* mbws-peer run: the conformance case engine's command line
 * (docs/engine-interface.md). Loads and validates every case file first,
 * runs case x subprotocol x encoding executions, writes the result file. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "engine_sched.h"

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
            "                     [--json OUT] [--verbose]\n\n"
            "Executes MBWS conformance cases (docs/case-format.md) against a broker or a client.\n\n"
            "  --case FILE|DIR     a case file, or a directory searched for *.json case files\n"
            "                      (schema.json and requirements.json are skipped); repeatable\n"
            "  --target URL        test a broker (B- cases): the engine connects to ws://HOST:PORT/PATH\n"
            "  --listen HOST:PORT  test a client (C- cases): the engine listens (port 0: a free port\n"
            "                      per execution) and starts --client-cmd CMD through /bin/sh -c\n"
            "                      with MBWS_URL, MBWS_SUBPROTOCOL, MBWS_ENCODING, MBWS_IN, MBWS_OUT\n"
            "  --subprotocol SP    only these subprotocols (default: all the case lists)\n"
            "  --encoding ENC      only these encodings (default: all the case lists)\n"
            "  --jobs N            run up to N executions at once (default 1)\n"
            "  --case-timeout MS   hard limit for one execution (default 20000)\n"
            "  --json OUT          write the result file (docs/engine-interface.md)\n"
            "  --verbose           print every execution's wire log to stderr\n\n"
            "Exit status: 0 all passed or skipped, 1 something failed or erred, 2 bad usage or an\n"
            "invalid case file (then nothing runs). Only ws:// is supported; not wss://.\n");
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
    size_t counts[4];
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
    if (!strncmp(url, "wss://", 6)) {
        fprintf(stderr, "mbws-peer run: wss:// is not supported by the engine (ws:// only)\n");
        return -1;
    }
    if (strncmp(url, "ws://", 5)) {
        fprintf(stderr, "mbws-peer run: --target wants ws://HOST:PORT/PATH, not '%s'\n", url);
        return -1;
    }
    const char *h = url + 5, *hend, *p;
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
    t->port = 80;
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

static void progress(void *arg, size_t job, const cJSON *res, size_t done, size_t total)
{
    struct run *r = arg;
    (void)job;
    const char *v = cJSON_GetObjectItemCaseSensitive(res, "verdict")->valuestring;
    static const char *const names[] = {"pass", "fail", "error", "skip"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(v, names[i]))
            r->counts[i]++;
    const char *reason = cJSON_GetObjectItemCaseSensitive(res, "reason")->valuestring;
    fprintf(stderr, "[%zu/%zu] %-5s %s %s %s %.0f ms%s%s\n", done, total, v,
            cJSON_GetObjectItemCaseSensitive(res, "case")->valuestring,
            cJSON_GetObjectItemCaseSensitive(res, "subprotocol")->valuestring,
            cJSON_GetObjectItemCaseSensitive(res, "encoding")->valuestring,
            cJSON_GetObjectItemCaseSensitive(res, "duration_ms")->valuedouble,
            reason[0] ? ": " : "", reason);
    if (r->verbose) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "wire"))
        {
            const cJSON *note = cJSON_GetObjectItemCaseSensitive(e, "note");
            const cJSON *frame = cJSON_GetObjectItemCaseSensitive(e, "frame");
            const cJSON *derr = cJSON_GetObjectItemCaseSensitive(e, "decode_error");
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "opcode");
            fprintf(stderr, "    %8.1f c%d %-5s %s%s%s%s%s\n",
                    cJSON_GetObjectItemCaseSensitive(e, "t_ms")->valuedouble,
                    (int)cJSON_GetObjectItemCaseSensitive(e, "conn")->valuedouble,
                    cJSON_GetObjectItemCaseSensitive(e, "dir")->valuestring,
                    note ? note->valuestring : op ? op->valuestring : "",
                    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "fin")) ? " (no FIN)" : "",
                    frame || derr ? ": " : "", frame ? frame->valuestring : "",
                    derr ? derr->valuestring : "");
        }
    }
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

int cmd_run(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof r);
    eng_target t;
    memset(&t, 0, sizeof t);
    t.case_timeout_ms = 20000;
    unsigned sp_mask = 0, enc_mask = 0;
    int njobs = 1, have_target = 0, have_listen = 0, rc = 2;
    const char *json_out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free_run(&r);
            return 0;
        }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            r.verbose = t.verbose = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "mbws-peer run: %s needs a value (see --help)\n", a);
            goto out;
        }
        i++;
        if (!strcmp(a, "--case")) {
            struct stat st;
            if (stat(v, &st) == 0 && S_ISDIR(st.st_mode)) {
                if (collect(&r, v) < 0)
                    goto out;
            } else {
                add_path(&r, v);
            }
        } else if (!strcmp(a, "--target")) {
            if (parse_url(v, &t) < 0)
                goto out;
            t.url = v;
            have_target = 1;
        } else if (!strcmp(a, "--listen")) {
            if (parse_listen(v, &t) < 0)
                goto out;
            have_listen = 1;
        } else if (!strcmp(a, "--client-cmd")) {
            t.client_cmd = v;
        } else if (!strcmp(a, "--subprotocol")) {
            if (!strcmp(v, MBWS_SUBPROTOCOL_MBWS))
                sp_mask |= 1u << MBWS_SP_MBWS;
            else if (!strcmp(v, MBWS_SUBPROTOCOL_MBLWS))
                sp_mask |= 1u << MBWS_SP_MBLWS;
            else {
                fprintf(stderr, "mbws-peer run: unknown subprotocol '%s'\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--encoding")) {
            if (!strcmp(v, "binary"))
                enc_mask |= 1u << MBWS_ENC_BINARY;
            else if (!strcmp(v, "text"))
                enc_mask |= 1u << MBWS_ENC_TEXT;
            else {
                fprintf(stderr, "mbws-peer run: unknown encoding '%s'\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--jobs")) {
            njobs = atoi(v);
            if (njobs < 1 || njobs > 64) {
                fprintf(stderr, "mbws-peer run: --jobs takes 1..64\n");
                goto out;
            }
        } else if (!strcmp(a, "--case-timeout")) {
            t.case_timeout_ms = atoi(v);
            if (t.case_timeout_ms < 100) {
                fprintf(stderr, "mbws-peer run: --case-timeout takes at least 100 ms\n");
                goto out;
            }
        } else if (!strcmp(a, "--json")) {
            json_out = v;
        } else {
            fprintf(stderr, "mbws-peer run: unknown option '%s' (see --help)\n", a);
            goto out;
        }
    }
    if (have_target == have_listen || (have_listen && !t.client_cmd) || (t.client_cmd && !have_listen)) {
        fprintf(stderr, "mbws-peer run: give either --target URL, or --listen HOST:PORT with "
                        "--client-cmd CMD (see --help)\n");
        goto out;
    }
    if (!r.npaths) {
        fprintf(stderr, "mbws-peer run: no case files (--case FILE|DIR)\n");
        goto out;
    }
    t.role = have_target ? ENG_TEST_BROKER : ENG_TEST_CLIENT;
    if (have_listen && t.listen_port != 0 && njobs > 1) {
        fprintf(stderr, "mbws-peer run: a fixed --listen port serves one execution at a time; "
                        "running with --jobs 1 (use port 0 for concurrency)\n");
        njobs = 1;
    }
    if (load_all(&r) < 0)
        goto out;
    if (!sp_mask)
        sp_mask = 3;
    if (!enc_mask)
        enc_mask = 3;
    r.jobs = calloc(r.ncases * 4 + 1, sizeof *r.jobs);
    if (!r.jobs)
        abort();
    for (size_t i = 0; i < r.ncases; i++)
        for (int sp = 0; sp < 2; sp++)
            for (int enc = 0; enc < 2; enc++)
                if ((r.cases[i].sp_mask & sp_mask & (1u << sp)) &&
                    (r.cases[i].enc_mask & enc_mask & (1u << enc))) {
                    eng_job *j = &r.jobs[r.njobs];
                    j->c = &r.cases[i];
                    j->sp = (enum mbws_subprotocol)sp;
                    j->enc = (enum mbws_encoding)enc;
                    j->seq = (int)r.njobs++;
                }
    r.results = calloc(r.njobs + 1, sizeof *r.results);
    if (!r.results)
        abort();
    t.run_nonce = (unsigned)time(NULL) ^ ((unsigned)getpid() << 8);
    signal(SIGPIPE, SIG_IGN);
    char started[32];
    iso_now(started, sizeof started);
    double t0 = ws_clock_ms();
    eng_run_jobs(r.jobs, r.njobs, &t, njobs, r.results, progress, &r, free_run, &r);
    double dur = ws_clock_ms() - t0;
    fprintf(stderr, "mbws-peer run: %zu executions: %zu pass, %zu fail, %zu error, %zu skip (%.1f s)\n",
            r.njobs, r.counts[0], r.counts[1], r.counts[2], r.counts[3], dur / 1000.0);
    rc = r.counts[1] || r.counts[2] ? 1 : 0;
    if (json_out) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "tool", "mbws-peer");
        cJSON_AddStringToObject(doc, "version", MBWS_VERSION);
        cJSON_AddNumberToObject(doc, "profile", MBWS_PROFILE_VERSION);
        cJSON *tg = cJSON_AddObjectToObject(doc, "target");
        if (t.role == ENG_TEST_BROKER) {
            cJSON_AddStringToObject(tg, "kind", "broker");
            cJSON_AddStringToObject(tg, "url", t.url);
        } else {
            cJSON_AddStringToObject(tg, "kind", "client");
            cJSON_AddStringToObject(tg, "command", t.client_cmd);
            char l[300];
            snprintf(l, sizeof l, "%s:%d", t.listen_host, t.listen_port);
            cJSON_AddStringToObject(tg, "listen", l);
        }
        cJSON_AddStringToObject(doc, "started", started);
        cJSON_AddNumberToObject(doc, "duration_ms", (double)(long long)(dur * 10) / 10.0);
        cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
        static const char *const names[] = {"pass", "fail", "error", "skip"};
        for (int i = 0; i < 4; i++)
            cJSON_AddNumberToObject(sum, names[i], (double)r.counts[i]);
        cJSON *arr = cJSON_AddArrayToObject(doc, "results");
        for (size_t i = 0; i < r.njobs; i++) {
            cJSON_AddItemToArray(arr, r.results[i]);
            r.results[i] = NULL;
        }
        char *s = cJSON_Print(doc);
        cJSON_Delete(doc);
        FILE *f = fopen(json_out, "w");
        if (!f || !s || fputs(s, f) < 0 || fputc('\n', f) < 0) {
            fprintf(stderr, "mbws-peer run: cannot write %s\n", json_out);
            rc = 2;
        }
        if (f)
            fclose(f);
        free(s);
    }
out:
    free_run(&r);
    return rc;
}
