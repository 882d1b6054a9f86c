/* `mbws-peer bench --idle-sessions N`: N idle MBWS sessions held open on
 * the broker while the bench measures, to see what they cost it (connect
 * time, CPU per 1,000 connects, RSS per session, message rate with them
 * attached). They live in a child process with its own event loop. */
#ifndef BENCH_IDLE_H
#define BENCH_IDLE_H

#include <stdint.h>
#include <sys/types.h>

#include "mbws_conn.h"
#include "transport_lws.h"

#define IDLE_SESSIONS_MAX 50000

typedef struct idle_config {
    const char *url, *sp;
    enum mbws_encoding enc;
    uint64_t n;
    long broker_pid; /* 0: unknown (no RSS or CPU figures) */
    enum tp_event_loop event_loop;
} idle_config;

/* Refuses (message, -1) a URL that is not loopback, or N beyond what the
 * open-file limit allows after raising it. */
int idle_check(const idle_config *c);
/* Opens the sessions, prints a line per 1,000 connected and the summary
 * line "idle sessions: N connected in S s, broker RSS per session K KiB".
 * Returns the child's pid (to idle_stop), or -1 when not all connected. */
pid_t idle_start(const idle_config *c);
/* DISCONNECTs the sessions and waits for the child. */
void idle_stop(pid_t pid);

/* The pid of the process listening on the port of a loopback URL, from
 * /proc; 0 if not found (not loopback, or another user's process). */
long idle_find_broker(const char *url);
/* VmRSS of pid in KiB, -1 when unknown. */
long idle_rss_kib(long pid);
/* User + system CPU seconds of pid (/proc/PID/stat), -1 when unknown. */
double idle_cpu_s(long pid);

#endif
