/* SES-7: the DISCONNECT exchange, from either side, crossing included.
 * After the exchange only ACKs count (mbws_conn_recv.c); the close timers
 * run in mbws_conn_tick(). */
#include "mbws_conn_internal.h"
#include "mbws_fault.h"

static void send_disconnect(mbws_conn *c)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_DISCONNECT);
    conn_send_frame(c, &f);
}

/* ACK every MESSAGE received that no ACK covers yet (the receiver before
 * its reply; the initiator at once on the reply). */
static void ack_everything(mbws_conn *c)
{
    c->t_ack = NO_DEADLINE;
    c->force_ack = 0;
    if (c->s->in_last_seq > c->s->in_acked)
        conn_send_ack(c, c->s->in_last_seq);
}

static void start_close_timer(mbws_conn *c, uint64_t now)
{
    c->t_close = now + MBWS_DISCONNECT_WAIT_MS;
    c->close_code_at_t = MBWS_CLOSE_NORMAL;
    if (c->state == MBWS_CS_DISC_SENT && mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_INITIATOR_NO_CLOSE))
        c->t_close = NO_DEADLINE; /* fault: an unanswered DISCONNECT never closes */
}

int mbws_conn_disconnect(mbws_conn *c, uint64_t now)
{
    if (c->s == NULL || c->state != MBWS_CS_OPEN)
        return MBWS_CMD_STATE;
    if (c->t_ack != NO_DEADLINE)
        conn_ack_now(c, now); /* ACK-2 for what already arrived */
    send_disconnect(c);
    c->disc_seen = 1;
    c->s->disconnecting = 1; /* RES-6: no resume from now on */
    c->state = MBWS_CS_DISC_SENT;
    start_close_timer(c, now); /* no reply within 2000 ms: close 1000 */
    return MBWS_CMD_OK;
}

void conn_on_disconnect(mbws_conn *c, uint64_t now)
{
    c->disc_seen = 1;
    c->s->disconnecting = 1;
    int initiator_no_ack = c->state == MBWS_CS_DISC_SENT && conn_is_client(c) &&
                           mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_INITIATOR_NO_ACK);
    if (!mbws_fault_on(c->cfg.fault, MBWS_FAULT_SES_DISCONNECT_WITHOUT_ACK) && !initiator_no_ack)
        ack_everything(c);
    if (c->state == MBWS_CS_OPEN)
        send_disconnect(c); /* the reply; a crossing one counts as ours */
    c->state = MBWS_CS_DISC_DONE;
    start_close_timer(c, now);
    conn_disc_check_done(c, now);
}

void conn_disc_check_done(mbws_conn *c, uint64_t now)
{
    /* The broker closes once every MESSAGE it sent is acknowledged. */
    if (!conn_is_client(c) && c->state == MBWS_CS_DISC_DONE && c->s &&
        c->s->out_acked >= c->s->out_sent_max)
        conn_close(c, MBWS_CLOSE_NORMAL, now);
}
