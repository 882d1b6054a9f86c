/* Steps that send (frames, raw messages, raw TCP octets, Pings) and the
 * ones that only touch the engine's own state (wait, set, skip_if). */
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
            snprintf(ex->received, sizeof ex->received, "cannot send, connection '%s' is closed",
                     c->name);
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

enum eng_status eng_step_wait(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)step;
    uint64_t ms;
    char err[200];
    if (eng_subst_int(&ex->vars, value, &ms, err, sizeof err) < 0)
        return eng_errorf(ex, "wait_ms: %s", err);
    double until = ws_clock_ms() + (double)ms;
    if (until > ex->deadline)
        return eng_errorf(ex, "wait_ms %llu runs past the case deadline", (unsigned long long)ms);
    while (ws_clock_ms() < until)
        eng_pump(ex, until);
    return ST_OK;
}

enum eng_status eng_step_set(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)step;
    const cJSON *it;
    cJSON_ArrayForEach(it, value)
    {
        eng_value v = {0};
        char err[200];
        if (eng_subst(&ex->vars, it, &v, err, sizeof err) < 0)
            return eng_errorf(ex, "set %s: %s", it->string, err);
        if (v.type == EV_INT)
            eng_vars_set_int(&ex->vars, it->string, v.n);
        else
            eng_vars_set_str(&ex->vars, it->string, v.s, v.slen);
        eng_value_free(&v);
    }
    return ST_OK;
}

int eng_cond(eng_exec *ex, const cJSON *cond)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cond)
    {
        const eng_value *v = eng_vars_get(&ex->vars, m->string);
        int present = v && v->type != EV_NONE;
        char why[300];
        int r = eng_match(&ex->vars, m, present, present && v->type == EV_INT,
                          present ? v->n : 0, present ? (const uint8_t *)v->s : NULL,
                          present ? v->slen : 0, why, sizeof why);
        if (r < 0) {
            eng_errorf(ex, "condition on %s: %s", m->string, why);
            return -1;
        }
        if (!r)
            return 0;
    }
    return 1;
}

/* A case-written reason with its ${...} substituted, or fallback if that
 * fails (a reason is prose: it never turns a step into an error). */
static void reason_text(eng_exec *ex, const char *reason, const char *fallback, char *out,
                        size_t outlen)
{
    eng_value v = {0};
    char err[200];
    if (reason && eng_subst_str(&ex->vars, reason, &v, err, sizeof err) == 0 && v.s)
        snprintf(out, outlen, "%s", v.s);
    else
        snprintf(out, outlen, "%s", fallback);
    eng_value_free(&v);
}

enum eng_status eng_step_skip_if(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    int r = eng_cond(ex, value);
    if (r < 0)
        return ST_ERROR;
    if (!r)
        return ST_OK;
    const char *reason = cJSON_GetObjectItemCaseSensitive(step, "reason")->valuestring;
    reason_text(ex, reason, reason, ex->skip_reason, sizeof ex->skip_reason);
    return ST_SKIP;
}

/* check: the condition must hold, else the step fails (a fact the case
 * learnt earlier, e.g. a FLOW that may have arrived during another step). */
enum eng_status eng_step_check(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    int r = eng_cond(ex, value);
    if (r < 0)
        return ST_ERROR;
    if (r)
        return ST_OK;
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(step, "reason");
    reason_text(ex, cJSON_IsString(why) ? why->valuestring : NULL, "the check's condition to hold",
                ex->expected, sizeof ex->expected);
    size_t o = 0;
    ex->received[0] = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, value)
    {
        const eng_value *x = eng_vars_get(&ex->vars, m->string);
        int n;
        if (!x || x->type == EV_NONE)
            n = snprintf(ex->received + o, sizeof ex->received - o, "%s%s is not set", o ? ", " : "",
                         m->string);
        else if (x->type == EV_INT)
            n = snprintf(ex->received + o, sizeof ex->received - o, "%s%s is %llu", o ? ", " : "",
                         m->string, (unsigned long long)x->n);
        else
            n = snprintf(ex->received + o, sizeof ex->received - o, "%s%s is \"%.*s\"", o ? ", " : "",
                         m->string, (int)(x->slen > 200 ? 200 : x->slen), x->s);
        if (n < 0 || (size_t)n >= sizeof ex->received - o)
            break;
        o += (size_t)n;
    }
    return ST_FAIL;
}
