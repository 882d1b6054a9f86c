/* Idle sessions for `mbws-peer bench --idle-sessions N`. See bench_idle.h. */
#define _POSIX_C_SOURCE 200809L
#include "bench_idle.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client_agent.h"
#include "client_opts.h"

#define IDLE_CONNECTING_MAX 256   /* connects in flight at once */
#define IDLE_CONNECT_LIMIT_MS 120000
#define IDLE_FDS_SPARE 100        /* descriptors the bench needs besides */

typedef struct idle_run {
    uint64_t connected, finished;
} idle_run;

typedef struct idle_report {
    uint64_t connected;
    double seconds;
} idle_report;

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long idle_rss_kib(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

double idle_cpu_s(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long socket_inode(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    long inode = 0;
    while (f && !inode && fgets(line, sizeof line, f)) {
        unsigned lport, st;
        long ino;
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*d %*d %ld", &lport, &st,
                   &ino) == 3 &&
            (int)lport == port && st == 0x0A /* LISTEN */)
            inode = ino;
    }
    if (f)
        fclose(f);
    return inode;
}

/* "ws://127.0.0.1:PORT/...": the port when the host is loopback, else 0. */
static int loopback_port(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return 0;
    h += 3;
    const char *colon = h[0] == '[' ? strstr(h, "]:") : strchr(h, ':');
    size_t hl = colon ? (size_t)(colon - h) + (h[0] == '[') : 0;
    int loop = (hl >= 4 && !strncmp(h, "127.", 4)) || (hl == 9 && !strncmp(h, "localhost", 9)) ||
               (hl == 5 && !strncmp(h, "[::1]", 5));
    return loop ? atoi(h + hl + 1) : 0;
}

long idle_find_broker(const char *url)
{
    int port = loopback_port(url);
    long inode = port > 0 ? socket_inode(port) : 0, found = 0;
    char want[64];
    snprintf(want, sizeof want, "socket:[%ld]", inode);
    DIR *proc = inode ? opendir("/proc") : NULL;
    struct dirent *e;
    while (proc && !found && (e = readdir(proc))) {
        char dir[300];
        long pid = strtol(e->d_name, NULL, 10);
        snprintf(dir, sizeof dir, "/proc/%s/fd", e->d_name);
        DIR *fds = pid > 0 ? opendir(dir) : NULL;
        struct dirent *fe;
        while (fds && !found && (fe = readdir(fds))) {
            char path[600], link[64];
            snprintf(path, sizeof path, "%s/%s", dir, fe->d_name);
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n > 0 && (link[n] = 0, !strcmp(link, want)))
                found = pid;
        }
        if (fds)
            closedir(fds);
    }
    if (proc)
        closedir(proc);
    return found;
}

int idle_check(const idle_config *c)
{
    if (loopback_port(c->url) <= 0) {
        fprintf(stderr, "bench: --idle-sessions only on a loopback broker with a port "
                        "(ws://127.0.0.1:PORT/), not %s\n", c->url);
        return -1;
    }
    opt_raise_nofile();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < c->n + IDLE_FDS_SPARE) {
        fprintf(stderr, "bench: --idle-sessions %llu needs %llu open files; the limit is %llu "
                        "even raised (ulimit -n)\n", (unsigned long long)c->n,
                (unsigned long long)c->n + IDLE_FDS_SPARE, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

static void on_connected(cl_agent *a, int resumed)
{
    if (!resumed)
        ((idle_run *)cl_user(a))->connected++;
}

static void on_finished(cl_agent *a)
{
    ((idle_run *)cl_user(a))->finished++;
}

/* Connects them, a bounded number at a time; a line per 1,000. */
static void connect_all(tp_ctx *t, cl_agent **agents, const idle_config *c, idle_run *r)
{
    uint64_t started = 0, next_mark = 1000;
    double t0 = now_s(), mark_t = t0, deadline = t0 + IDLE_CONNECT_LIMIT_MS / 1000.0;
    double mark_cpu = c->broker_pid ? idle_cpu_s(c->broker_pid) : -1;
    while (r->connected < c->n && !r->finished && !stop_requested && now_s() < deadline) {
        while (started < c->n && started - r->connected < IDLE_CONNECTING_MAX)
            cl_start(agents[started++]);
        tp_service(t, 50);
        while (r->connected >= next_mark) {
            double now = now_s(), cpu = c->broker_pid ? idle_cpu_s(c->broker_pid) : -1;
            printf("idle sessions: %llu connected after %.2f s (last 1000 in %.2f s, broker CPU "
                   "%.3f s)\n", (unsigned long long)next_mark, now - t0, now - mark_t,
                   mark_cpu >= 0 && cpu >= 0 ? cpu - mark_cpu : -1.0);
            fflush(stdout);
            mark_t = now;
            mark_cpu = cpu;
            next_mark += 1000;
        }
    }
}

static void idle_child(const idle_config *c, int fd)
{
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    tp_options o = {0};
    o.quiet_lws = 1;
    o.rx_chunk = 4096;
    o.event_loop = c->event_loop;
    tp_events none = {0};
    tp_ctx *t = tp_new(&o, &none, NULL);
    cl_agent **agents = calloc(c->n, sizeof *agents);
    idle_run r = {0, 0};
    cl_config cfg = {0};
    cfg.url = c->url;
    cfg.subprotocols = c->sp;
    cfg.encoding = c->enc;
    cfg.credit = 16;
    cfg.max_frame = 65536;
    cfg.quiet = 1;
    cfg.label = "idle";
    cl_handlers h = {on_connected, NULL, NULL, NULL, on_finished};
    for (uint64_t i = 0; t && agents && i < c->n; i++)
        agents[i] = cl_new(t, &cfg, &h, &r);
    idle_report rep = {0, 0};
    double t0 = now_s();
    if (t && agents && agents[c->n - 1])
        connect_all(t, agents, c, &r);
    rep.connected = r.connected;
    rep.seconds = now_s() - t0;
    if (write(fd, &rep, sizeof rep) != (ssize_t)sizeof rep)
        stop_requested = 1;
    close(fd);
    while (!stop_requested)
        tp_service(t, 1000);
    for (uint64_t i = 0; agents && i < c->n; i++)
        if (agents[i] && cl_is_open(agents[i]))
            cl_disconnect(agents[i]);
    double until = now_s() + 10;
    while (t && r.finished < r.connected && now_s() < until)
        tp_service(t, 100);
    for (uint64_t i = 0; agents && i < c->n; i++)
        cl_free(agents[i]);
    free(agents);
    tp_free(t);
    _exit(0);
}

pid_t idle_start(const idle_config *c)
{
    long rss0 = c->broker_pid ? idle_rss_kib(c->broker_pid) : -1;
    int pfd[2];
    if (pipe(pfd))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        idle_child(c, pfd[1]);
    }
    close(pfd[1]);
    idle_report rep = {0, 0};
    ssize_t n = pid > 0 ? read(pfd[0], &rep, sizeof rep) : -1;
    close(pfd[0]);
    if (n != (ssize_t)sizeof rep || rep.connected < c->n) {
        fprintf(stderr, "bench: only %llu of %llu idle sessions connected\n",
                (unsigned long long)rep.connected, (unsigned long long)c->n);
        if (pid > 0)
            idle_stop(pid);
        return -1;
    }
    long rss1 = c->broker_pid ? idle_rss_kib(c->broker_pid) : -1;
    printf("idle sessions: %llu connected in %.2f s, broker RSS per session ",
           (unsigned long long)rep.connected, rep.seconds);
    if (rss0 >= 0 && rss1 >= 0 && rep.connected)
        printf("%.1f KiB\n", (double)(rss1 - rss0) / (double)rep.connected);
    else
        printf("unknown KiB (broker process not found; give --broker-pid)\n");
    fflush(stdout);
    return pid;
}

void idle_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}
