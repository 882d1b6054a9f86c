/* Encoding: a frame becomes a wire description (mbws_wire_from_frame),
 * and a wire description becomes octets (mbws_wire_encode) exactly as
 * described, lies included, so that conformance cases send deliberately
 * bad frames through the same code as good ones. */
#include <string.h>

#include "mbws_frame.h"

/* Bounded writer: counts every octet, stores those that fit. */
struct wbuf {
    uint8_t *out;
    size_t cap, len;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
    if (w->len < w->cap && n > 0) {
        size_t room = w->cap - w->len;
        memcpy(w->out + w->len, p, n < room ? n : room);
    }
    w->len += n;
}

static void put8(struct wbuf *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put16(struct wbuf *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 2);
}

static void put_str(struct wbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

void mbws_wire_init(mbws_wire_frame *w, uint8_t type)
{
    memset(w, 0, sizeof(*w));
    w->type = type;
    w->header_len = -1;
}

int mbws_wire_add(mbws_wire_frame *w, uint8_t id, const char *name, const void *value, size_t len)
{
    if (w->nfields >= MBWS_WIRE_MAX_FIELDS)
        return -1;
    mbws_wire_field *f = &w->field[w->nfields++];
    f->id = id;
    f->name = name;
    f->value.ptr = (const uint8_t *)value;
    f->value.len = len;
    f->len_field = -1;
    return 0;
}

/* Decimal, no leading zeros (TXT-5); returns the digit count. */
static size_t render_decimal(uint64_t v, uint8_t *out)
{
    uint8_t tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

void mbws_wire_from_frame(const mbws_frame *f, enum mbws_encoding enc, mbws_wire_frame *w,
                          mbws_wire_scratch *scratch)
{
    mbws_wire_init(w, f->type);
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++) {
        if (!mbws_frame_has(f, id))
            continue;
        if (mbws_fields[id].kind == MBWS_KIND_INT) {
            uint8_t *s = scratch->num[id];
            size_t n;
            if (enc == MBWS_ENC_TEXT) {
                n = render_decimal(f->num[id], s);
            } else {
                for (int i = 0; i < 8; i++)
                    s[i] = (uint8_t)(f->num[id] >> (56 - 8 * i));
                n = MBWS_INT_LEN;
            }
            mbws_wire_add(w, (uint8_t)id, NULL, s, n);
        } else {
            mbws_wire_add(w, (uint8_t)id, NULL, f->str[id].ptr, f->str[id].len);
        }
    }
    w->body = f->body;
}

static size_t encode_binary(const mbws_wire_frame *w, struct wbuf *b)
{
    size_t h = 0;
    for (size_t i = 0; i < w->nfields; i++)
        h += MBWS_BIN_FIELD_HDR_LEN + w->field[i].value.len;
    put8(b, w->type);
    put8(b, w->reserved);
    /* A true length above 65535 cannot be told: it is sent modulo 2^16. */
    put16(b, (uint16_t)(w->header_len >= 0 ? (size_t)w->header_len : h));
    for (size_t i = 0; i < w->nfields; i++) {
        const mbws_wire_field *f = &w->field[i];
        put8(b, f->id);
        put16(b, (uint16_t)(f->len_field >= 0 ? (size_t)f->len_field : f->value.len));
        put(b, f->value.ptr, f->value.len);
    }
    put(b, w->body.ptr, w->body.len);
    return b->len;
}

/* Name used in text for a field id the profile does not know, when the
 * caller gave none: well-formed (TXT-3) and so ignored (FLD-3). */
#define UNKNOWN_FIELD_NAME "x-unknown"

static size_t encode_text(const mbws_wire_frame *w, struct wbuf *b)
{
    put_str(b, w->type_line ? w->type_line : mbws_type_name(w->type));
    put8(b, '\n');
    for (size_t i = 0; i < w->nfields; i++) {
        const mbws_wire_field *f = &w->field[i];
        const struct mbws_field_desc *d = mbws_field_by_id(f->id);
        put_str(b, f->name ? f->name : d ? d->name : UNKNOWN_FIELD_NAME);
        put8(b, ':');
        put(b, f->value.ptr, f->value.len);
        put8(b, '\n');
    }
    put8(b, '\n');
    put(b, w->body.ptr, w->body.len);
    return b->len;
}

size_t mbws_wire_encode(const mbws_wire_frame *w, enum mbws_encoding enc, uint8_t *out, size_t cap)
{
    struct wbuf b = {out, out ? cap : 0, 0};
    return enc == MBWS_ENC_TEXT ? encode_text(w, &b) : encode_binary(w, &b);
}

size_t mbws_encode(const mbws_frame *f, enum mbws_encoding enc, uint8_t *out, size_t cap)
{
    mbws_wire_frame w;
    mbws_wire_scratch scratch;
    mbws_wire_from_frame(f, enc, &w, &scratch);
    return mbws_wire_encode(&w, enc, out, cap);
}
