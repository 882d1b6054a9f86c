/* Option-parsing helpers shared by the reference peer's commands. */
#define _POSIX_C_SOURCE 200809L
#include "client_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int opt_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "%s: expected a number\n", opt);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        fprintf(stderr, "%s: '%s' is not a number from %llu to %llu\n", opt, s,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int opt_hostport(const char *s, const char **host, int *port)
{
    static char buf[256];
    const char *colon = s ? strrchr(s, ':') : NULL;
    uint64_t p;
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof buf ||
        opt_u64("--listen", colon + 1, 0, 65535, &p)) {
        fprintf(stderr, "--listen: expected HOST:PORT\n");
        return -1;
    }
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = 0;
    *host = buf;
    *port = (int)p;
    return 0;
}

int opt_event_loop(const char *v, enum tp_event_loop *out)
{
    if (v && tp_event_loop_parse(v, out) == 0)
        return 0;
    fprintf(stderr, "--event-loop: '%s' is not one of %s\n", v ? v : "", TP_EVENT_LOOP_NAMES);
    return -1;
}

void opt_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

const char *opt_refused(char **argv)
{
    static char shortopt[3];
    /* A long option leaves optopt 0 (unknown) or its table value, >= 256. */
    if (optopt > 0 && optopt < 256) {
        snprintf(shortopt, sizeof shortopt, "-%c", optopt);
        return shortopt;
    }
    return argv[optind - 1];
}
