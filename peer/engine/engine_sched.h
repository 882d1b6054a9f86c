/* Concurrent execution of case executions in worker processes. */
#ifndef ENGINE_SCHED_H
#define ENGINE_SCHED_H

#include "engine_exec.h"

/* Called in the parent as each execution ends (in completion order). */
typedef void (*eng_done_fn)(void *arg, size_t job, const cJSON *result, size_t done, size_t total);

/* A worker exits without freeing what it inherited from the parent (the
 * cases, earlier results): freeing would write to every inherited heap page
 * and copy it (some 30 MB per execution). Valgrind counts those blocks as
 * still reachable, which is not a leak. */
void eng_run_jobs(const eng_job *jobs, size_t n, const eng_target *t, int njobs,
                  cJSON **results, eng_done_fn done, void *done_arg);
/* engine_tls.c: before a wss:// broker run, one TLS handshake; when TLS is
 * refused (an untrusted certificate...) every execution gets `error` with
 * the reason at once, and it returns 1. */
int eng_tls_refused(eng_target *t, const eng_job *jobs, size_t n, cJSON **results,
                    eng_done_fn done, void *done_arg);
/* A result for an execution that produced none of its own. */
cJSON *eng_result_stub(const eng_job *job, const char *verdict, const char *reason);

#endif
