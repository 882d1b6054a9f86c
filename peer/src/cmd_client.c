/* Placeholder until this command is built: it says so and fails. */
#include <stdio.h>

#include "commands.h"

int cmd_client(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbws-peer client: not implemented yet\n");
    return 2;
}
