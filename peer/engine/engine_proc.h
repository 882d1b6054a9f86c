/* The client under test as a process (engine_proc.c): started through
 * /bin/sh -c in its own process group, watched, stopped. */
#ifndef ENGINE_PROC_H
#define ENGINE_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Starts cmd with env; its stdout and stderr go to out_fd. -1 with err. */
pid_t eng_proc_start(const char *cmd, char *const env[], int out_fd, char *err, size_t errlen);
/* 1 and *status when it has exited (status: exit code, or 128+signal). */
int eng_proc_poll(pid_t pid, int *status, char *text, size_t textlen);
void eng_proc_stop(pid_t pid, int *status, char *text, size_t textlen);

#endif
