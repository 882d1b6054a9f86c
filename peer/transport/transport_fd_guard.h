/* Refusing connections before the process runs out of descriptors
 * (transport_fd_guard.c). */
#ifndef TRANSPORT_FD_GUARD_H
#define TRANSPORT_FD_GUARD_H

/* fd: a socket just accepted. 0 to keep it, -1 to close it at once (it
 * reached the headroom below RLIMIT_NOFILE); refusals are logged on stderr
 * at most once per second, with their count. */
int tp_fd_guard(int fd);

#endif
