/* mbws-peer faults: lists the injectable faults (docs/faults.md), and the
 * check of the --fault option that broker, client and echo each parse into
 * their own configuration (opt_fault). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mbws_fault.h"

static const char *roles_name(unsigned roles)
{
    return roles == MBWS_FAULT_BOTH ? "both" : roles == MBWS_FAULT_BROKER ? "broker" : "client";
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned)(unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static const struct option faults_options[] = {
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
    printf("usage: mbws-peer faults [--json]\n\n"
           "Lists the faults that 'mbws-peer broker|client|echo --fault NAME' injects.\n"
           "Each makes the peer break exactly one requirement of the profile, so the\n"
           "conformance suite can show that some case catches it (docs/faults.md).\n"
           "role 'client' covers the reference client and the echo client.\n\n"
           "  --json   one JSON array: [{\"name\", \"roles\", \"requirement\", \"what\"}]\n");
}

int cmd_faults(int argc, char **argv)
{
    int json = 0, opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "-h", faults_options, NULL)) != -1) {
        if (opt == 'j') {
            json = 1;
        } else if (opt == 'h') {
            usage();
            return 0;
        } else {
            fprintf(stderr, "mbws-peer faults: unknown option '%s' (see --help)\n",
                    opt == 1 ? optarg : argv[optind - 1]);
            return 2;
        }
    }
    if (json)
        putchar('[');
    for (int i = 1; i < MBWS_FAULT_COUNT; i++) {
        const struct mbws_fault_info *f = &mbws_fault_table[i];
        if (!json) {
            printf("%-32s %-6s %-7s %s\n", f->name, roles_name(f->roles), f->requirement, f->what);
            continue;
        }
        printf("%s\n {\"name\": ", i > 1 ? "," : "");
        json_string(f->name);
        printf(", \"roles\": ");
        printf(f->roles == MBWS_FAULT_BOTH ? "[\"broker\", \"client\"]"
               : f->roles == MBWS_FAULT_BROKER ? "[\"broker\"]" : "[\"client\"]");
        printf(", \"requirement\": ");
        json_string(f->requirement);
        printf(", \"what\": ");
        json_string(f->what);
        putchar('}');
    }
    if (json)
        printf("\n]\n");
    return 0;
}

int opt_fault(const char *cmd, const char *name, unsigned role, enum mbws_fault_id *fault)
{
    enum mbws_fault_id id = mbws_fault_by_name(name);
    if (id == MBWS_FAULT_NONE) {
        fprintf(stderr, "mbws-peer %s: unknown fault '%s' (see 'mbws-peer faults')\n", cmd, name);
        return -1;
    }
    if (!(mbws_fault_table[id].roles & role)) {
        fprintf(stderr, "mbws-peer %s: fault '%s' applies to the %s only\n", cmd, name,
                roles_name(mbws_fault_table[id].roles));
        return -1;
    }
    if (*fault != MBWS_FAULT_NONE && *fault != id) {
        fprintf(stderr, "mbws-peer %s: one --fault at a time\n", cmd);
        return -1;
    }
    *fault = id;
    fprintf(stderr, "mbws-peer %s: FAULT INJECTED: %s (breaks %s: %s)\n", cmd, name,
            mbws_fault_table[id].requirement, mbws_fault_table[id].what);
    return 0;
}
