/* See conn_glue.h. */
#include "conn_glue.h"

#include <stdio.h>

#include "mbws_frame.h"

void conn_glue_arm_timer(tp_timer *tm, const mbws_conn *mc)
{
    uint64_t d = mbws_conn_deadline(mc), now = tp_now_ms();
    if (d == UINT64_MAX)
        tp_timer_cancel(tm);
    else
        tp_timer_in(tm, d > now ? d - now : 0);
}

void conn_glue_frame_text(const uint8_t *p, size_t len, int text, char *line, size_t cap)
{
    mbws_decode_ctx dc = {.sender = MBWS_ROLE_ANY, .subprotocol = MBWS_SP_MBWS};
    mbws_frame f;
    if (mbws_decode(p, len, text ? MBWS_ENC_TEXT : MBWS_ENC_BINARY, &dc, &f, NULL) == 0)
        mbws_frame_format(&f, line, cap);
    else
        snprintf(line, cap, "(%zu octets that do not decode)", len);
}
