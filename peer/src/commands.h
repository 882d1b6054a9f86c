/* The sub-commands of mbws-peer; each lives in its own cmd_*.c file. */
#ifndef MBWS_COMMANDS_H
#define MBWS_COMMANDS_H

int cmd_broker(int argc, char **argv); /* reference broker */
int cmd_client(int argc, char **argv); /* reference client: publish, consume */
int cmd_echo(int argc, char **argv);   /* echo client of profile section 12 */
int cmd_bench(int argc, char **argv);  /* benchmark against a broker */
int cmd_run(int argc, char **argv);    /* conformance case engine */

#endif
