/* Turning a send step into octets (through the codec's wire form, so bad
 * frames go through the same encoder as good ones) and onto the wire as
 * one or several WebSocket frames. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_exec.h"

struct store { /* octets the wire frame points into, freed after encoding */
    uint8_t *p[MBWS_WIRE_MAX_FIELDS + 2];
    size_t n;
};

static void store_free(struct store *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i]);
    s->n = 0;
}

static uint8_t *keep(struct store *s, uint8_t *p)
{
    s->p[s->n++] = p;
    return p;
}

static void render_int(uint64_t v, enum mbws_encoding enc, uint8_t **out, size_t *len)
{
    uint8_t *b = malloc(24);
    if (!b)
        abort();
    if (enc == MBWS_ENC_BINARY) {
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(v >> (56 - 8 * i));
        *len = 8;
    } else {
        *len = (size_t)snprintf((char *)b, 24, "%llu", (unsigned long long)v);
    }
    *out = b;
}

/* The octets of one field value; kind is the field's kind (0: unknown). */
static int field_octets(eng_exec *ex, const cJSON *val, int kind, enum mbws_encoding enc,
                        uint8_t **out, size_t *len, char *err, size_t errlen)
{
    const cJSON *big = cJSON_IsObject(val) ? cJSON_GetObjectItemCaseSensitive(val, "int") : NULL;
    if (big) {
        uint64_t n;
        if (eng_subst_int(&ex->vars, big, &n, err, errlen) < 0)
            return -1;
        render_int(n, enc, out, len);
        return 0;
    }
    if (cJSON_IsNumber(val) || cJSON_IsString(val)) {
        eng_value v = {0};
        if (eng_subst(&ex->vars, val, &v, err, errlen) < 0)
            return -1;
        if (v.type == EV_INT && kind != MBWS_KIND_STR) {
            render_int(v.n, enc, out, len);
        } else if (v.type == EV_INT) {
            uint8_t *b = malloc(24);
            if (!b)
                abort();
            *len = (size_t)snprintf((char *)b, 24, "%llu", (unsigned long long)v.n);
            *out = b;
        } else {
            /* a string for an integer field goes out as is: in text that is
             * the line's value, in binary deliberately not 8 octets */
            *out = (uint8_t *)v.s;
            *len = v.slen;
            v.s = NULL;
        }
        eng_value_free(&v);
        return 0;
    }
    return eng_bytes(&ex->vars, val, out, len, err, errlen);
}

static int add_field(eng_exec *ex, mbws_wire_frame *w, struct store *st, unsigned id,
                     const char *name, const cJSON *val, int len_field, enum mbws_encoding enc,
                     char *err, size_t errlen)
{
    const struct mbws_field_desc *d = mbws_field_by_id(id);
    uint8_t *p;
    size_t n;
    if (field_octets(ex, val, d ? (int)d->kind : 0, enc, &p, &n, err, errlen) < 0)
        return -1;
    keep(st, p);
    if (mbws_wire_add(w, (uint8_t)id, name, p, n) < 0) {
        snprintf(err, errlen, "more than %d fields", MBWS_WIRE_MAX_FIELDS);
        return -1;
    }
    w->field[w->nfields - 1].len_field = len_field;
    return 0;
}

int eng_build_frame(eng_exec *ex, const cJSON *step, enum mbws_encoding enc, uint8_t **out,
                    size_t *len, char *err, size_t errlen)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(step, "send");
    unsigned type = cJSON_IsNumber(t) ? (unsigned)t->valuedouble
                                      : mbws_type_by_name(t->valuestring, strlen(t->valuestring))->code;
    mbws_wire_frame *w = malloc(sizeof *w);
    if (!w)
        abort();
    mbws_wire_init(w, (uint8_t)type);
    struct store st = {{0}, 0};
    eng_value tl = {0};
    int rc = -1;
    uint64_t n;
    const cJSON *j;
    if ((j = cJSON_GetObjectItemCaseSensitive(step, "reserved"))) {
        if (eng_subst_int(&ex->vars, j, &n, err, errlen) < 0)
            goto out;
        w->reserved = (uint8_t)n;
    }
    if ((j = cJSON_GetObjectItemCaseSensitive(step, "header_len"))) {
        if (eng_subst_int(&ex->vars, j, &n, err, errlen) < 0)
            goto out;
        w->header_len = (int32_t)(n & 0xFFFF);
    }
    if ((j = cJSON_GetObjectItemCaseSensitive(step, "type_line"))) {
        if (eng_subst(&ex->vars, j, &tl, err, errlen) < 0)
            goto out;
        w->type_line = tl.s;
    }
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(step, "fields");
    const cJSON *f;
    cJSON_ArrayForEach(f, fields)
    {
        if (cJSON_IsObject(fields)) {
            if (cJSON_IsNull(f))
                continue; /* null leaves the field out */
            const struct mbws_field_desc *d = mbws_field_by_name(f->string, strlen(f->string));
            if (add_field(ex, w, &st, d->id, NULL, f, -1, enc, err, errlen) < 0)
                goto out;
        } else {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(f, "field");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
            const cJSON *ln = cJSON_GetObjectItemCaseSensitive(f, "len");
            unsigned fid = id ? (unsigned)id->valuedouble
                              : mbws_field_by_name(fn->valuestring, strlen(fn->valuestring))->id;
            if (add_field(ex, w, &st, fid, nm ? nm->valuestring : NULL,
                          cJSON_GetObjectItemCaseSensitive(f, "value"),
                          ln ? (int)ln->valuedouble : -1, enc, err, errlen) < 0)
                goto out;
        }
    }
    uint8_t *body = NULL;
    size_t blen = 0;
    if ((j = cJSON_GetObjectItemCaseSensitive(step, "body"))) {
        if (eng_bytes(&ex->vars, j, &body, &blen, err, errlen) < 0)
            goto out;
        keep(&st, body);
    }
    w->body.ptr = body;
    w->body.len = blen;
    if ((j = cJSON_GetObjectItemCaseSensitive(step, "frame_size"))) {
        /* pad the body so that the whole frame has exactly this size */
        uint64_t want;
        if (eng_subst_int(&ex->vars, j, &want, err, errlen) < 0)
            goto out;
        size_t have = mbws_wire_encode(w, enc, NULL, 0);
        if (want < have || want > (256u << 20)) {
            snprintf(err, errlen, "frame_size %llu: the frame without padding is %zu octets",
                     (unsigned long long)want, have);
            goto out;
        }
        uint8_t *pb = malloc((size_t)want - have + blen + 1);
        if (!pb)
            abort();
        if (blen)
            memcpy(pb, body, blen);
        memset(pb + blen, 'x', (size_t)want - have);
        keep(&st, pb);
        w->body.ptr = pb;
        w->body.len = blen + (size_t)want - have;
    }
    *len = mbws_wire_encode(w, enc, NULL, 0);
    *out = malloc(*len + 1);
    if (!*out)
        abort();
    mbws_wire_encode(w, enc, *out, *len);
    rc = 0;
out:
    store_free(&st);
    eng_value_free(&tl);
    free(w);
    return rc;
}

enum eng_status eng_deliver(eng_exec *ex, eng_conn *c, const cJSON *step, int opcode,
                            const uint8_t *p, size_t len)
{
    uint64_t frags, rsv;
    enum eng_status pst = eng_police(ex, c, step, opcode, p, len);
    if (pst != ST_OK)
        return pst; /* error: a case bug; skip: the implementation granted too little */
    if (eng_step_int(ex, step, "fragments", 1, &frags) < 0 || eng_step_int(ex, step, "rsv", 0, &rsv) < 0)
        return ST_ERROR;
    if (frags < 1 || frags > 100000)
        return eng_errorf(ex, "fragments must be 1..100000");
    const cJSON *hold = cJSON_GetObjectItemCaseSensitive(step, "hold");
    if (hold) {
        uint64_t k;
        if (cJSON_GetObjectItemCaseSensitive(hold, "fragment")) {
            /* SES-9, appendix B: a first fragment without FIN; the rest is held */
            if (eng_step_int(ex, hold, "fragment", 0, &k) < 0)
                return ST_ERROR;
            if (k > len)
                k = len;
            ws_send_frame(&c->ws, 0, (int)rsv, opcode, p, (size_t)k, 0, NULL, 0);
            eng_log_event(ex, c->ws.id, "held back the remaining %zu octets of the message",
                          len - (size_t)k);
        } else {
            /* a header announcing the whole length (or "announce"), then
             * only the first octets */
            uint64_t ann;
            if (eng_step_int(ex, hold, "octets", 0, &k) < 0 ||
                eng_step_int(ex, hold, "announce", (int)len, &ann) < 0)
                return ST_ERROR;
            if (!cJSON_GetObjectItemCaseSensitive(hold, "announce"))
                ann = len;
            if (k > len)
                k = len;
            if (ann < k)
                return eng_errorf(ex, "hold: announce (%llu) is less than octets (%llu)",
                                  (unsigned long long)ann, (unsigned long long)k);
            ws_send_frame(&c->ws, 1, (int)rsv, opcode, p, (size_t)k, ann, NULL, 0);
            eng_log_event(ex, c->ws.id, "header announced %llu payload octets; sent %llu",
                          (unsigned long long)ann, (unsigned long long)k);
        }
        return ST_OK;
    }
    /* control frames (a Ping, an unsolicited Pong) and empty continuation
     * fragments between the fragments (WS-4) */
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(step, "ping_between");
    const cJSON *qb = cJSON_GetObjectItemCaseSensitive(step, "pong_between");
    const cJSON *eb = cJSON_GetObjectItemCaseSensitive(step, "empty_between");
    uint8_t *ping = NULL, *pong = NULL;
    size_t pl = 0, ql = 0;
    char err[200];
    if (pb && !cJSON_IsTrue(pb) && eng_bytes(&ex->vars, pb, &ping, &pl, err, sizeof err) < 0)
        return eng_errorf(ex, "ping_between: %s", err);
    if (qb && !cJSON_IsTrue(qb) && eng_bytes(&ex->vars, qb, &pong, &ql, err, sizeof err) < 0) {
        free(ping);
        return eng_errorf(ex, "pong_between: %s", err);
    }
    size_t base = len / (size_t)frags, off = 0;
    for (uint64_t i = 0; i < frags; i++) {
        size_t n = i + 1 == frags ? len - off : base;
        if (i > 0 && pb)
            ws_send_frame(&c->ws, 1, 0, WS_OP_PING, ping ? ping : (const uint8_t *)"", pl, 0, NULL, 0);
        if (i > 0 && qb)
            ws_send_frame(&c->ws, 1, 0, WS_OP_PONG, pong ? pong : (const uint8_t *)"", ql, 0, NULL, 0);
        if (i > 0 && cJSON_IsTrue(eb))
            ws_send_frame(&c->ws, 0, 0, WS_OP_CONT, (const uint8_t *)"", 0, 0, NULL, 0);
        int last = i + 1 == frags;
        ws_send_frame(&c->ws, last, i == 0 ? (int)rsv : 0, i == 0 ? opcode : WS_OP_CONT, p + off, n,
                      0, last ? p : NULL, last ? len : 0);
        off += n;
    }
    free(ping);
    free(pong);
    return ST_OK;
}
