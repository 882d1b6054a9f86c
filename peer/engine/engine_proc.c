/* The client under test: started through /bin/sh -c in its own process
 * group with the environment of profile section 12, watched, stopped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_proc.h"

pid_t eng_proc_start(const char *cmd, char *const env[], int out_fd, char *err, size_t errlen)
{
    int ep[2]; /* tells the parent when exec itself failed */
    if (pipe2(ep, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(ep[0]);
        close(ep[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0)
            dup2(nul, 0);
        if (out_fd >= 0) {
            dup2(out_fd, 1);
            dup2(out_fd, 2);
        }
        for (size_t i = 0; env[i]; i++)
            putenv(env[i]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        int e = errno;
        if (write(ep[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    setpgid(pid, pid);
    close(ep[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(ep[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == (ssize_t)sizeof e) {
        snprintf(err, errlen, "exec /bin/sh: %s", strerror(e));
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static void describe(int st, int *status, char *text, size_t textlen)
{
    if (WIFEXITED(st)) {
        *status = WEXITSTATUS(st);
        snprintf(text, textlen, "exited with status %d", *status);
    } else if (WIFSIGNALED(st)) {
        *status = 128 + WTERMSIG(st);
        snprintf(text, textlen, "killed by signal %d", WTERMSIG(st));
    }
}

int eng_proc_poll(pid_t pid, int *status, char *text, size_t textlen)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r != pid)
        return 0;
    describe(st, status, text, textlen);
    kill(-pid, SIGKILL); /* whatever the shell left behind */
    return 1;
}

void eng_proc_stop(pid_t pid, int *status, char *text, size_t textlen)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (eng_proc_poll(pid, status, text, textlen))
            return;
        usleep(10000);
    }
    kill(-pid, SIGKILL);
    int st;
    if (waitpid(pid, &st, 0) == pid)
        describe(st, status, text, textlen);
}
