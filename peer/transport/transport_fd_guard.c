/* Descriptors kept free for the broker: accepting into the last ones ends in
 * EMFILE, which libwebsockets 4.1 answers by polling its listening socket
 * again at once, a busy loop that logs "accept: errno 24" every turn while
 * new clients time out. A connection whose descriptor reaches the headroom
 * is closed at once instead: accepting stays cheap, the clients get an
 * answer (a closed connection), and the count is logged once per second. */
#include "transport_fd_guard.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "transport_lws.h"

#define TP_FD_HEADROOM 64

static unsigned long refused, refused_logged;
static uint64_t logged_at;

int tp_fd_guard(int fd)
{
    struct rlimit rl;
    if (fd < 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur <= 2 * TP_FD_HEADROOM || (rlim_t)fd + TP_FD_HEADROOM < rl.rlim_cur)
        return 0;
    refused++;
    uint64_t now = tp_now_ms();
    if (!logged_at || now - logged_at >= 1000) {
        fprintf(stderr, "transport: out of file descriptors (limit %llu): refused %lu new "
                        "connections since the last report\n",
                (unsigned long long)rl.rlim_cur, refused - refused_logged);
        refused_logged = refused;
        logged_at = now;
    }
    return -1; /* libwebsockets closes the socket */
}
