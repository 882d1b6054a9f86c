/* Small option-parsing helpers shared by the reference peer's commands. */
#ifndef CLIENT_OPTS_H
#define CLIENT_OPTS_H

#include <stdint.h>

/* Parses a decimal unsigned integer in [min, max]; returns 0 or -1 (with a
 * message naming opt on stderr). */
int opt_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "HOST:PORT" -> host (static copy) and port; returns 0 or -1. */
int opt_hostport(const char *s, const char **host, int *port);
/* The option getopt_long() (opterr = 0) just refused with '?' or ':', as the
 * user wrote it: "--name" (or "--name=value"), or "-c". */
const char *opt_refused(char **argv);
/* What a command's parse_args() found: run, print --help and exit 0, or exit 2. */
enum opt_parsed { OPT_RUN, OPT_HELP, OPT_BAD };
/* --event-loop NAME (transport_lws.h); 0, or -1 after a message. */
#include "transport_lws.h"
int opt_event_loop(const char *v, enum tp_event_loop *out);
/* Raises the soft limit of open files to the hard limit. */
void opt_raise_nofile(void);

#endif
