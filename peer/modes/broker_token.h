/* Session tokens of the reference broker (RES-1): fresh, 24 characters of
 * A-Z a-z 0-9 _ - from /dev/urandom (FLD-8). */
#ifndef BROKER_TOKEN_H
#define BROKER_TOKEN_H

#include <stddef.h>

/* mbws_conn_config.new_token: writes a NUL-terminated token into buf and
 * returns its length, or 0 when none could be made. */
size_t broker_new_token(void *app, char *buf, size_t cap);

#endif
