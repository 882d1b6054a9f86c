/* mbws-peer: the MBWS reference peer. Dispatches to one sub-command. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef MBWS_VERSION
#define MBWS_VERSION "dev"
#endif

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"broker", cmd_broker, "run the reference MBWS broker"},
    {"client", cmd_client, "publish or consume with the reference MBWS client"},
    {"echo", cmd_echo, "run the echo client of profile section 12 (from MBWS_* variables)"},
    {"bench", cmd_bench, "measure a broker: message rate and latency against raw WebSocket"},
    {"run", cmd_run, "execute conformance cases against a broker or a client"},
    {"faults", cmd_faults, "list the faults broker, client and echo inject with --fault NAME"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: mbws-peer COMMAND [OPTIONS]\n\n"
                 "The MBWS (MessageBroker WebSocket Subprotocol, profile 1) reference peer.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'mbws-peer COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mbws-peer %s (MBWS profile %u)\n", MBWS_VERSION, 1u);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "mbws-peer: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
