/* Steps that send: frames, raw messages, raw TCP octets, Pings. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_exec.h"

static eng_conn *open_conn(eng_exec *ex, const cJSON *step, enum eng_status *st)
{
    eng_conn *c = eng_conn_get(ex, eng_step_conn(step), 0);
    if (!c) {
        *st = eng_errorf(ex, "no connection named '%s' was opened", eng_step_conn(step));
        return NULL;
    }
    if (c->ws.fd < 0 || c->ws.write_broken) {
        /* the implementation closed it: a fail, seen from the case */
        const ws_event *e = c->ws.events.tail;
        if (e && e->kind == WS_EV_CLOSE)
            snprintf(ex->received, sizeof ex->received,
                     "cannot send, connection '%s' was closed by the peer with %d", c->name, e->code);
        else if (e && e->kind != WS_EV_MESSAGE)
            snprintf(ex->received, sizeof ex->received, "cannot send, connection '%s' ended: %s",
                     c->name, e->note);
        else
            snprintf(ex->received, sizeof ex->received, "cannot send, connection '%s' is closed%s%s",
                     c->name, c->ws.end_note[0] ? ": " : "", c->ws.end_note);
        snprintf(ex->expected, sizeof ex->expected, "an open connection");
        *st = ST_FAIL;
        return NULL;
    }
    return c;
}

/* Gives queued octets a moment to leave, without making it a condition:
 * an implementation may stop reading (e.g. after a frame-too-large). */
static void flush(eng_exec *ex, eng_conn *c)
{
    double until = eng_deadline(ex, ws_clock_ms() + 1000);
    do
        eng_pump(ex, ws_clock_ms() + 5 < until ? ws_clock_ms() + 5 : until);
    while (c->ws.fd >= 0 && c->ws.wlen && ws_clock_ms() < until);
}

/* burst: the next step follows at once, with nothing read in between, so
 * that a frame sent right after an offending one reaches the implementation
 * before its ERROR and close can reach us (ERR-1: later frames are not
 * acted on). */
static int burst(const cJSON *step)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(step, "burst"));
}

static int opcode_of(const cJSON *step, int dflt)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(step, "opcode");
    if (cJSON_IsString(o))
        return ws_opcode_by_name(o->valuestring);
    if (cJSON_IsNumber(o))
        return (int)o->valuedouble;
    return dflt;
}

/* Sends one WebSocket message, then flushes unless the step is a burst.
 * Takes ownership of p. */
static enum eng_status deliver_message(eng_exec *ex, eng_conn *c, const cJSON *step, int dflt_op,
                                       uint8_t *p, size_t len)
{
    enum eng_status st = eng_deliver(ex, c, step, opcode_of(step, dflt_op), p, len);
    free(p);
    if (st == ST_OK && !burst(step))
        flush(ex, c);
    return st;
}

/* The connection of a send_raw/send_tcp step and the octets of its value
 * (freed by the caller); NULL with *st set if either is missing. */
static eng_conn *conn_and_octets(eng_exec *ex, const cJSON *step, const cJSON *value,
                                 const char *kind, uint8_t **p, size_t *len, enum eng_status *st)
{
    eng_conn *c = open_conn(ex, step, st);
    if (!c)
        return NULL;
    char err[300];
    if (eng_bytes(&ex->vars, value, p, len, err, sizeof err) < 0) {
        *st = eng_errorf(ex, "%s: %s", kind, err);
        return NULL;
    }
    return c;
}

enum eng_status eng_step_send(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)value;
    enum eng_status st = ST_OK;
    eng_conn *c = open_conn(ex, step, &st);
    if (!c)
        return st;
    enum mbws_encoding enc = ex->job.enc;
    const cJSON *ej = cJSON_GetObjectItemCaseSensitive(step, "encoding");
    if (ej) {
        eng_value v = {0};
        char err[200];
        if (eng_subst(&ex->vars, ej, &v, err, sizeof err) < 0 || v.type != EV_STR ||
            (strcmp(v.s, "binary") && strcmp(v.s, "text"))) {
            eng_value_free(&v);
            return eng_errorf(ex, "send: encoding must be binary or text");
        }
        enc = !strcmp(v.s, "text") ? MBWS_ENC_TEXT : MBWS_ENC_BINARY;
        eng_value_free(&v);
    }
    uint8_t *p;
    size_t len;
    char err[300];
    if (eng_build_frame(ex, step, enc, &p, &len, err, sizeof err) < 0)
        return eng_errorf(ex, "send: %s", err);
    return deliver_message(ex, c, step, enc == MBWS_ENC_TEXT ? WS_OP_TEXT : WS_OP_BINARY, p, len);
}

enum eng_status eng_step_send_raw(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    uint8_t *p;
    size_t len;
    eng_conn *c = conn_and_octets(ex, step, value, "send_raw", &p, &len, &st);
    if (!c)
        return st;
    return deliver_message(ex, c, step, cJSON_IsString(value) ? WS_OP_TEXT : WS_OP_BINARY, p, len);
}

enum eng_status eng_step_send_tcp(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    uint8_t *p;
    size_t len;
    eng_conn *c = conn_and_octets(ex, step, value, "send_tcp", &p, &len, &st);
    if (!c)
        return st;
    eng_log_event(ex, c->ws.id, "engine writes %zu raw TCP octets (no WebSocket framing)", len);
    ws_send_raw(&c->ws, p, len);
    free(p);
    flush(ex, c);
    return ST_OK;
}

enum eng_status eng_step_ping(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    eng_conn *c = open_conn(ex, step, &st);
    if (!c)
        return st;
    uint8_t *p = NULL;
    size_t len = 0;
    char err[300];
    if (!cJSON_IsTrue(value) && eng_bytes(&ex->vars, value, &p, &len, err, sizeof err) < 0)
        return eng_errorf(ex, "ping: %s", err);
    if (len > WS_CONTROL_PAYLOAD_MAX) {
        free(p);
        return eng_errorf(ex, "ping: a Ping payload is at most 125 octets");
    }
    ws_send_frame(&c->ws, 1, 0, WS_OP_PING, p ? p : (const uint8_t *)"", len, 0, NULL, 0);
    free(p);
    flush(ex, c);
    return ST_OK;
}
