/* Runs executions in worker processes, up to N at a time. A worker that
 * crashes or overruns its hard limit cannot take the run down with it: it
 * becomes an `error` result and the run goes on. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_sched.h"

struct worker {
    pid_t pid;
    int fd;
    size_t job;
    char *buf;
    size_t len, cap;
    double start;
    int killed;
};

cJSON *eng_result_stub(const eng_job *job, const char *verdict, const char *reason)
{
    const eng_case *c = job->c;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "case", c->id);
    cJSON_AddStringToObject(r, "file", c->file);
    cJSON_AddStringToObject(r, "title", c->title);
    cJSON_AddStringToObject(r, "section", c->section);
    cJSON_AddItemToObject(r, "requirements",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c->root, "requirements"), 1));
    cJSON_AddStringToObject(r, "role", c->role == ENG_TEST_BROKER ? "broker" : "client");
    cJSON_AddStringToObject(r, "subprotocol",
                            job->sp == MBWS_SP_MBWS ? MBWS_SUBPROTOCOL_MBWS : MBWS_SUBPROTOCOL_MBLWS);
    cJSON_AddStringToObject(r, "encoding", job->enc == MBWS_ENC_TEXT ? "text" : "binary");
    cJSON_AddStringToObject(r, "verdict", verdict);
    cJSON_AddStringToObject(r, "reason", reason);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "index", -1);
    cJSON_AddStringToObject(f, "kind", "engine");
    cJSON_AddStringToObject(f, "expected", "the execution completes");
    cJSON_AddStringToObject(f, "received", reason);
    cJSON_AddItemToObject(r, "failed_step", f);
    cJSON_AddNumberToObject(r, "duration_ms", 0);
    cJSON_AddItemToObject(r, "wire", cJSON_CreateArray());
    return r;
}

static void worker_main(const eng_job *job, const eng_target *t, int fd)
{
    setpgid(0, 0);
    signal(SIGPIPE, SIG_IGN);
    cJSON *res = eng_execute(job, t);
    char *s = cJSON_PrintUnformatted(res);
    cJSON_Delete(res);
    size_t len = s ? strlen(s) : 0, off = 0;
    while (off < len) {
        ssize_t n = write(fd, s + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(s);
    close(fd);
}

static int spawn(struct worker *w, const eng_job *jobs, size_t idx, const eng_target *t)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        worker_main(&jobs[idx], t, p[1]);
        exit(0); /* the parent's copies stay unfreed (engine_sched.h) */
    }
    setpgid(pid, pid);
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    memset(w, 0, sizeof *w);
    w->pid = pid;
    w->fd = p[0];
    w->job = idx;
    w->start = ws_clock_ms();
    return 0;
}

/* Reads what is there; returns 1 at end of file. */
static int drain(struct worker *w)
{
    for (;;) {
        if (w->len + 65536 > w->cap) {
            w->cap = w->cap ? w->cap * 2 : 131072;
            w->buf = realloc(w->buf, w->cap);
            if (!w->buf)
                abort();
        }
        ssize_t n = read(w->fd, w->buf + w->len, w->cap - w->len - 1);
        if (n > 0) {
            w->len += (size_t)n;
            continue;
        }
        if (n == 0)
            return 1;
        return errno == EAGAIN || errno == EINTR ? 0 : 1;
    }
}

static cJSON *finish(struct worker *w, const eng_job *job, int hard_ms)
{
    int st = 0;
    waitpid(w->pid, &st, 0);
    kill(-w->pid, SIGKILL); /* anything the worker left running */
    close(w->fd);
    cJSON *res = NULL;
    if (w->buf) {
        w->buf[w->len] = 0;
        res = cJSON_Parse(w->buf);
    }
    free(w->buf);
    w->buf = NULL;
    if (res && !w->killed && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return res;
    if (res && !w->killed) {
        /* a result, but the worker did not end cleanly (e.g. Valgrind's
         * --error-exitcode): an engine problem must not pass unseen */
        char why[200];
        snprintf(why, sizeof why, "engine worker ended with %s %d after its result",
                 WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        cJSON_ReplaceItemInObjectCaseSensitive(res, "verdict", cJSON_CreateString("error"));
        cJSON_ReplaceItemInObjectCaseSensitive(res, "reason", cJSON_CreateString(why));
        return res;
    }
    cJSON_Delete(res);
    char why[200];
    if (w->killed)
        snprintf(why, sizeof why, "engine worker exceeded the hard limit of %d ms and was killed",
                 hard_ms);
    else if (WIFSIGNALED(st))
        snprintf(why, sizeof why, "engine worker crashed (signal %d)", WTERMSIG(st));
    else
        snprintf(why, sizeof why, "engine worker ended without a result (status %d)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return eng_result_stub(job, "error", why);
}

/* What a case surely waits, in ms: its wait_ms, for_ms and not_before_ms
 * (fixed numbers only). The longest start first, so that a 5 s case does
 * not begin near the end and hold the whole run up. */
static long min_wait_ms(const eng_case *c)
{
    static const char *const keys[] = {"wait_ms", "for_ms", "not_before_ms"};
    long ms = 0;
    const cJSON *step;
    cJSON_ArrayForEach(step, cJSON_GetObjectItemCaseSensitive(c->root, "steps"))
    {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(step, keys[k]);
            if (cJSON_IsNumber(v) && v->valuedouble > 0)
                ms += (long)v->valuedouble;
        }
    }
    return ms;
}

struct start_key {
    long ms;
    size_t job;
};

static int cmp_start(const void *a, const void *b)
{
    const struct start_key *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms > y->ms ? -1 : 1;
    return x->job < y->job ? -1 : x->job > y->job;
}

/* Job indexes in the order to start them: longest surely waiting first. */
static size_t *start_order(const eng_job *jobs, size_t n)
{
    struct start_key *k = calloc(n ? n : 1, sizeof *k);
    size_t *order = calloc(n ? n : 1, sizeof *order);
    if (!k || !order)
        abort();
    for (size_t i = 0; i < n; i++)
        k[i] = (struct start_key){min_wait_ms(jobs[i].c), i};
    qsort(k, n, sizeof *k, cmp_start);
    for (size_t i = 0; i < n; i++)
        order[i] = k[i].job;
    free(k);
    return order;
}

void eng_run_jobs(const eng_job *jobs, size_t n, const eng_target *t, int njobs,
                  cJSON **results, eng_done_fn done, void *done_arg)
{
    struct worker ws[64];
    int running = 0;
    size_t next = 0, finished = 0;
    size_t *order = start_order(jobs, n);
    if (njobs < 1)
        njobs = 1;
    if (njobs > 64)
        njobs = 64;
    while (finished < n) {
        while (running < njobs && next < n) {
            size_t j = order[next++];
            if (spawn(&ws[running], jobs, j, t) < 0) {
                results[j] = eng_result_stub(&jobs[j], "error", "cannot fork a worker");
                done(done_arg, j, results[j], ++finished, n);
                continue;
            }
            running++;
        }
        if (running <= 0)
            continue;
        struct pollfd pf[64];
        for (int i = 0; i < running; i++) {
            pf[i].fd = ws[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        poll(pf, (nfds_t)running, 100);
        double now = ws_clock_ms();
        for (int i = 0; i < running; i++) {
            struct worker *w = &ws[i];
            int hard = jobs[w->job].c->timeout_ms && jobs[w->job].c->timeout_ms < t->case_timeout_ms
                           ? jobs[w->job].c->timeout_ms
                           : t->case_timeout_ms;
            hard += 5000; /* the worker enforces the case timeout itself; this is the backstop */
            int eof = (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) ? drain(w) : 0;
            if (!eof && now - w->start > hard) {
                kill(-w->pid, SIGKILL);
                w->killed = 1;
                eof = 1;
            }
            if (!eof)
                continue;
            results[w->job] = finish(w, &jobs[w->job], hard);
            done(done_arg, w->job, results[w->job], ++finished, n);
            ws[i] = ws[--running];
            pf[i] = pf[running];
            i--;
        }
    }
    free(order);
}
