/* Application commands other than publish: SUBSCRIBE / UNSUBSCRIBE
 * (client), manual accept (ACK-1), explicit FLOW, and the broker's window
 * hold (FLOW-5 exception, BRK-6). */
#include "mbws_conn_internal.h"

static int open_with_session(const mbws_conn *c)
{
    return c->s != NULL && c->state == MBWS_CS_OPEN;
}

int mbws_conn_subscribe(mbws_conn *c, uint64_t sub, const char *address, size_t address_len,
                        uint64_t now)
{
    (void)now;
    if (!conn_is_client(c) || !open_with_session(c))
        return MBWS_CMD_STATE;
    if (address == NULL || address_len == 0 || address_len > MBWS_ADDRESS_MAX)
        return MBWS_CMD_INVALID;
    int rc = session_sub_add(c->s, sub); /* we never send code 10's cause */
    if (rc != MBWS_CMD_OK)
        return rc;
    mbws_frame f;
    mbws_frame_init(&f, MBWS_SUBSCRIBE);
    mbws_frame_set_int(&f, MBWS_F_SUB, sub);
    mbws_frame_set_str(&f, MBWS_F_ADDRESS, address, address_len);
    conn_send_frame(c, &f);
    return MBWS_CMD_OK;
}

int mbws_conn_unsubscribe(mbws_conn *c, uint64_t sub, uint64_t now)
{
    (void)now;
    if (!conn_is_client(c) || !open_with_session(c))
        return MBWS_CMD_STATE;
    int rc = session_sub_remove(c->s, sub);
    if (rc != MBWS_CMD_OK)
        return rc;
    mbws_frame f;
    mbws_frame_init(&f, MBWS_UNSUBSCRIBE);
    mbws_frame_set_int(&f, MBWS_F_SUB, sub);
    conn_send_frame(c, &f);
    return MBWS_CMD_OK;
}

int mbws_conn_accept(mbws_conn *c, uint64_t seq, uint64_t now)
{
    if (c->s == NULL)
        return MBWS_CMD_STATE;
    if (seq > c->s->in_last_seq)
        return MBWS_CMD_INVALID;
    if (seq > c->s->in_accepted)
        c->s->in_accepted = seq;
    conn_want_ack(c, now);
    return MBWS_CMD_OK;
}

int mbws_conn_grant(mbws_conn *c, uint64_t limit, uint64_t now)
{
    (void)now;
    if (!open_with_session(c))
        return MBWS_CMD_STATE;
    return conn_grant(c, limit);
}

int mbws_conn_hold_window(mbws_conn *c, int held, uint64_t now)
{
    if (c->s == NULL)
        return MBWS_CMD_STATE;
    c->s->window_held = held != 0;
    if (!held)
        conn_keep_window(c, now);
    return MBWS_CMD_OK;
}
