/* The reference broker's --control-address: a MESSAGE published to that
 * address with body "disconnect ADDRESS" makes the broker start a
 * DISCONNECT (SES-7) of every attached session subscribed to ADDRESS. It is
 * the suite's --broker-disconnect-cmd for the bundled broker; the profile
 * itself gives a third party no way to make a broker start one. */
#ifndef BROKER_CONTROL_H
#define BROKER_CONTROL_H

#include <stddef.h>

#include "mbws_conn.h"

/* 1 when the delivered MESSAGE a goes to control_address (NULL: none). */
int broker_control_to(const char *control_address, const mbws_action *a);
/* The ADDRESS of "disconnect ADDRESS" in a's body: 0, or -1 (logged). */
int broker_control_parse(const mbws_action *a, const char **addr, size_t *alen);

#endif
