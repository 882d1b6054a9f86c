/* The sub-commands of mbws-peer; each lives in its own cmd_*.c file. */
#ifndef MBWS_COMMANDS_H
#define MBWS_COMMANDS_H

int cmd_broker(int argc, char **argv); /* reference broker */
int cmd_client(int argc, char **argv); /* reference client: publish, consume */
int cmd_echo(int argc, char **argv);   /* echo client of profile section 12 */
int cmd_bench(int argc, char **argv);  /* benchmark against a broker */
int cmd_run(int argc, char **argv);    /* conformance case engine */
int cmd_faults(int argc, char **argv); /* list the injectable faults */

/* Takes "--fault NAME" off argv and switches that fault on (mbws_fault.h);
 * role is MBWS_FAULT_BROKER or MBWS_FAULT_CLIENT. 0, or -1 after a message. */
int take_fault_option(int *argc, char **argv, unsigned role);

#endif
