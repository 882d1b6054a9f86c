/* The sub-commands of mbws-peer; each lives in its own cmd_*.c file. */
#ifndef MBWS_COMMANDS_H
#define MBWS_COMMANDS_H

int cmd_broker(int argc, char **argv); /* reference broker */
int cmd_client(int argc, char **argv); /* reference client: publish, consume */
int cmd_echo(int argc, char **argv);   /* echo client of profile section 12 */
int cmd_bench(int argc, char **argv);  /* benchmark against a broker */
int cmd_run(int argc, char **argv);    /* conformance case engine */
int cmd_faults(int argc, char **argv); /* list the injectable faults */

#include "mbws_fault.h"

/* --fault NAME of command cmd (broker, client, echo): the fault into *fault,
 * the command's configuration (mbws_fault.h: nothing process-wide). role is
 * MBWS_FAULT_BROKER or MBWS_FAULT_CLIENT; a second, different --fault is
 * refused. Announces it on stderr. 0, or -1 after a message. */
int opt_fault(const char *cmd, const char *name, unsigned role, enum mbws_fault_id *fault);

#endif
