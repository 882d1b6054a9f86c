/* What ws_conn.c (sockets) and ws_reader.c (parsing what arrived) share;
 * not for the engine. */
#ifndef WS_CONN_INT_H
#define WS_CONN_INT_H

#include "ws_conn.h"

void *ws_xrealloc(void *p, size_t n);
void ws_buf_append(uint8_t **b, size_t *len, size_t *cap, const void *p, size_t n);
/* Ends reading with a terminal event (EOF or violation) and drops the socket. */
void ws_fail_conn(ws_conn *c, enum ws_event_kind kind, const char *fmt, const char *detail);
/* Parses every complete frame buffered in c->rbuf, until the deadline. */
void ws_parse_frames(ws_conn *c);

#endif
