/* Placeholder until this command is built: it says so and fails. */
#include <stdio.h>

#include "commands.h"

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbws-peer bench: not implemented yet\n");
    return 2;
}
