/* The subprotocol rules of the opening handshake (profile section 2,
 * WS-1 to WS-3) on Sec-WebSocket-Protocol values, pure: one token-list
 * parser for the reference transport (WS-2), the reference client (WS-3)
 * and the engine (WS-1). */
#ifndef MBWS_HANDSHAKE_H
#define MBWS_HANDSHAKE_H

#include <stddef.h>

/* Calls fn(item, len, arg) for each non-empty item of a comma-separated
 * list, without the spaces and tabs around it; fn returns nonzero to stop.
 * Returns the number of items fn saw. list NULL is empty. */
int mbws_token_list(const char *list, int (*fn)(const char *item, size_t len, void *arg),
                    void *arg);

/* 1 when name is an item of list, compared case-sensitively (WS-1). WS-3:
 * a client accepts only a subprotocol it offered; an empty name (no
 * Sec-WebSocket-Protocol in the response) is never offered. */
int mbws_token_listed(const char *list, const char *name);

/* The name of supported (NULL-terminated) equal to item[0..len), or NULL. */
const char *mbws_supported_name(const char *item, size_t len, const char *const supported[]);

/* WS-2: the subprotocol a broker selects, the first of the client's offer
 * that it supports; NULL when none (the upgrade is refused). */
const char *mbws_select_subprotocol(const char *offer, const char *const supported[]);

#endif
