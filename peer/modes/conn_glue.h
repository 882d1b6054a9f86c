/* What broker_server.c and client_agent.c do alike between a session-core
 * connection (mbws_conn) and the transport. */
#ifndef CONN_GLUE_H
#define CONN_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_conn.h"
#include "transport_lws.h"

/* Arms tm for the core's next deadline, or cancels it when there is none. */
void conn_glue_arm_timer(tp_timer *tm, const mbws_conn *mc);

/* One frame as a --verbose log line: the decoded frame, or a note that it
 * does not decode. */
void conn_glue_frame_text(const uint8_t *p, size_t len, int text, char *line, size_t cap);

#endif
