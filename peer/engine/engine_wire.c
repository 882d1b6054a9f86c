/* The wire log of one execution (docs/engine-interface.md, "wire"), kept
 * within bounds: the first and the last --max-wire-entries/2 entries, with
 * an event in between that counts what was left out, and payload hex within
 * a budget per execution. A target that floods the engine gets a result
 * file of a few hundred kilobytes, not hundreds of megabytes. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_exec.h"

/* Payload octets shown as hex per execution; past it an entry shows its first
 * ENG_HEX_LOG_SHORT octets. */
#define ENG_HEX_BUDGET (64u * 1024u)
#define ENG_HEX_LOG_SHORT 64u

double eng_rel_ms(const eng_exec *ex, double t)
{
    double r = t - ex->t0;
    return (double)(long long)(r * 10.0 + 0.5) / 10.0;
}

void eng_wire_init(eng_exec *ex)
{
    eng_wire_log *w = &ex->wlog;
    memset(w, 0, sizeof *w);
    w->keep = ex->t->max_wire_entries ? ex->t->max_wire_entries / 2 : ENG_DEFAULT_WIRE_ENTRIES / 2;
    if (w->keep < 1)
        w->keep = 1;
    w->head = cJSON_CreateArray();
    w->ring = calloc(w->keep, sizeof *w->ring);
    if (!w->head || !w->ring)
        abort();
}

/* Adds an entry: to the head while it has room, else to the ring of the
 * last entries, whose oldest then leaves the log. */
static void wire_add(eng_exec *ex, cJSON *e)
{
    eng_wire_log *w = &ex->wlog;
    if (w->n_head < w->keep) {
        cJSON_AddItemToArray(w->head, e);
        w->n_head++;
        return;
    }
    size_t at = (w->ring_at + w->ring_n) % w->keep;
    if (w->ring_n == w->keep) {
        cJSON_Delete(w->ring[w->ring_at]);
        w->ring_at = (w->ring_at + 1) % w->keep;
        w->dropped++;
        at = (w->ring_at + w->ring_n - 1) % w->keep;
    } else {
        w->ring_n++;
    }
    w->ring[at] = e;
}

cJSON *eng_wire_finish(eng_exec *ex)
{
    eng_wire_log *w = &ex->wlog;
    cJSON *out = w->head;
    if (w->dropped) {
        char note[160];
        snprintf(note, sizeof note,
                 "%llu wire entries left out here (the log keeps the first and the last %zu; "
                 "--max-wire-entries)",
                 (unsigned long long)w->dropped, w->keep);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "t_ms", -1);
        cJSON_AddNumberToObject(e, "conn", 0);
        cJSON_AddStringToObject(e, "dir", "event");
        cJSON_AddStringToObject(e, "note", note);
        cJSON_AddNumberToObject(e, "omitted", (double)w->dropped);
        cJSON_AddItemToArray(out, e);
    }
    for (size_t i = 0; i < w->ring_n; i++)
        cJSON_AddItemToArray(out, w->ring[(w->ring_at + i) % w->keep]);
    free(w->ring);
    memset(w, 0, sizeof *w);
    return out;
}

void eng_log_event(eng_exec *ex, int conn, const char *fmt, ...)
{
    char note[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "t_ms", eng_rel_ms(ex, ws_clock_ms()));
    cJSON_AddNumberToObject(e, "conn", conn);
    cJSON_AddStringToObject(e, "dir", "event");
    cJSON_AddStringToObject(e, "note", note);
    wire_add(ex, e);
}

static void add_hex(eng_exec *ex, cJSON *e, const uint8_t *p, size_t len)
{
    static const char d[] = "0123456789abcdef";
    size_t hn = len > ENG_HEX_LOG_MAX ? ENG_HEX_LOG_MAX : len;
    if (ex->wlog.hex_used + hn > ENG_HEX_BUDGET && hn > ENG_HEX_LOG_SHORT)
        hn = ENG_HEX_LOG_SHORT;
    ex->wlog.hex_used += hn;
    char *hex = malloc(2 * hn + 1);
    if (!hex)
        abort();
    for (size_t i = 0; i < hn; i++) {
        hex[2 * i] = d[p[i] >> 4];
        hex[2 * i + 1] = d[p[i] & 15];
    }
    hex[2 * hn] = 0;
    cJSON_AddStringToObject(e, "hex", hex);
    free(hex);
    if (hn < len)
        cJSON_AddTrueToObject(e, "truncated");
}

/* The decoded MBWS frame of a complete message, or why it does not decode. */
static void add_decoded(eng_exec *ex, cJSON *e, const ws_conn *c, int out, int opcode,
                        const uint8_t *msg, size_t msg_len)
{
    ws_event ev;
    memset(&ev, 0, sizeof ev);
    ev.opcode = opcode != WS_OP_CONT ? opcode : out ? c->out_op : c->frag_op;
    ev.data = (uint8_t *)msg;
    ev.len = msg_len;
    mbws_frame f;
    mbws_error_info ei;
    memset(&ei, 0, sizeof ei);
    if (eng_decode(ex, !out, &ev, &f, &ei) == 0) {
        char line[1024];
        mbws_frame_format(&f, line, sizeof line);
        cJSON_AddStringToObject(e, "frame", line);
        eng_track(ex, !out, &f);
        if (!out && f.type == MBWS_CONNECT) /* SES-8: a client's CONNECT fits in 1024 octets */
            eng_vars_set_int(&ex->vars, "peer_connect_len", (uint64_t)msg_len);
        for (int i = 0; i < ENG_MAX_CONNS; i++)
            if (ex->conns[i].used && &ex->conns[i].ws == c)
                eng_police_track(ex, &ex->conns[i], !out, &f);
    } else {
        char why[300];
        snprintf(why, sizeof why, "%s (%s, code %d)", ei.message, ei.rule ? ei.rule : "?",
                 ei.code);
        cJSON_AddStringToObject(e, "decode_error", why);
    }
}

void eng_on_wire(void *arg, ws_conn *c, int out, int fin, int opcode, const uint8_t *payload,
                 size_t len, uint64_t announced, const uint8_t *msg, size_t msg_len)
{
    eng_exec *ex = arg;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "t_ms", eng_rel_ms(ex, ws_clock_ms()));
    cJSON_AddNumberToObject(e, "conn", c->id);
    cJSON_AddStringToObject(e, "dir", out ? "out" : "in");
    cJSON_AddStringToObject(e, "opcode", ws_opcode_name(opcode));
    cJSON_AddBoolToObject(e, "fin", fin);
    cJSON_AddNumberToObject(e, "len", (double)len);
    if (announced != len)
        cJSON_AddNumberToObject(e, "announced_len", (double)announced);
    add_hex(ex, e, payload, len);
    if (opcode == WS_OP_CLOSE && len >= 2)
        cJSON_AddNumberToObject(e, "close_code", (payload[0] << 8) | payload[1]);
    if (msg)
        add_decoded(ex, e, c, out, opcode, msg, msg_len);
    wire_add(ex, e);
}
