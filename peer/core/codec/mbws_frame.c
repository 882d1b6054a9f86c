/* mbws_frame helpers: building frames in memory, which fields a frame
 * lists (mbws_field_presence), UTF-8 validation and the one-line log
 * format. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mbws_codec_internal.h"
#include "mbws_frame.h"

void mbws_frame_init(mbws_frame *f, uint8_t type)
{
    memset(f, 0, sizeof(*f));
    f->type = type;
}

int mbws_frame_has(const mbws_frame *f, unsigned id)
{
    if (id == 0 || id > MBWS_FIELD_MAX)
        return 0;
    return (f->present >> id) & 1u;
}

void mbws_frame_set_int(mbws_frame *f, unsigned id, uint64_t v)
{
    if (id == 0 || id > MBWS_FIELD_MAX)
        return;
    f->present |= (uint16_t)(1u << id);
    f->num[id] = v;
}

void mbws_frame_set_str(mbws_frame *f, unsigned id, const void *p, size_t len)
{
    if (id == 0 || id > MBWS_FIELD_MAX)
        return;
    f->present |= (uint16_t)(1u << id);
    f->str[id].ptr = (const uint8_t *)p;
    f->str[id].len = len;
}

void mbws_frame_set_cstr(mbws_frame *f, unsigned id, const char *s)
{
    mbws_frame_set_str(f, id, s, s ? strlen(s) : 0);
}

/* RFC 3629 well-formed UTF-8: shortest form only, no surrogates
 * (U+D800..DFFF), nothing above U+10FFFF. */
size_t mbws_utf8_prefix(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second octet */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return i; /* continuation octet, C0/C1 overlong lead, or F5..FF */
        }
        if (len - i <= n)
            return i;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

int mbws_utf8_valid(const uint8_t *p, size_t len)
{
    return mbws_utf8_prefix(p, len) == len;
}

/* Bounded appender: counts what it wanted, writes what fits. */
struct sbuf {
    char *out;
    size_t cap, len;
};

static void sb_putc(struct sbuf *b, char c)
{
    if (b->cap > 0 && b->len + 1 < b->cap)
        b->out[b->len] = c;
    b->len++;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    for (int i = 0; i < n && i < (int)sizeof(tmp) - 1; i++)
        sb_putc(b, tmp[i]);
}

/* Quoted, with anything outside printable ASCII, quotes and backslashes
 * escaped, cut after max octets. */
static void sb_quoted(struct sbuf *b, const uint8_t *p, size_t len, size_t max)
{
    sb_putc(b, '"');
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c >= 0x20 && c < 0x7F) {
            sb_putc(b, (char)c);
        } else {
            sb_printf(b, "\\x%02x", c);
        }
    }
    sb_putc(b, '"');
    if (n < len)
        sb_printf(b, "...");
}

#define FORMAT_STR_MAX 64  /* octets of a string field shown */
#define FORMAT_BODY_MAX 32 /* octets of a body shown */

size_t mbws_frame_format(const mbws_frame *f, char *out, size_t cap)
{
    struct sbuf b = {out, cap, 0};
    if (mbws_type_by_code(f->type))
        sb_printf(&b, "%s", mbws_type_name(f->type));
    else
        sb_printf(&b, "UNKNOWN(0x%02x)", f->type);
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++) {
        if (!mbws_frame_has(f, id))
            continue;
        const struct mbws_field_desc *d = mbws_field_by_id(id);
        sb_printf(&b, " %s=", d->name);
        if (d->kind == MBWS_KIND_INT)
            sb_printf(&b, "%" PRIu64, f->num[id]);
        else
            sb_quoted(&b, f->str[id].ptr, f->str[id].len, FORMAT_STR_MAX);
    }
    if (f->body.len > 0) {
        sb_printf(&b, " body=%zu octets ", f->body.len);
        sb_quoted(&b, f->body.ptr, f->body.len, FORMAT_BODY_MAX);
    }
    if (cap > 0)
        out[b.len < cap ? b.len : cap - 1] = '\0';
    return b.len;
}

/* The section 5 rules behind the MBWS_P_COND entries:
 * - MESSAGE sub: R from a broker, O from a client (O when the sender is
 *   unknown).
 * - CONNECT last-seq: listed always (RES-9), R when session is present.
 * - CONNECTED session, session-expiry, resumed: R on MBWS.huawei.com, not
 *   listed on MBLWS.huawei.com (RES-9: the client ignores them).
 * - CONNECTED last-seq: a session continuation field, so listed only on
 *   MBWS.huawei.com; R there when resumed is 1. */
enum mbws_presence mbws_field_presence(unsigned type, unsigned id, const mbws_decode_ctx *ctx,
                                       const mbws_frame *f)
{
    const struct mbws_type_desc *t = mbws_type_by_code(type);
    if (t == NULL || id == 0 || id > MBWS_FIELD_MAX)
        return MBWS_P_NONE;
    enum mbws_presence p = (enum mbws_presence)t->presence[id];
    if (p != MBWS_P_COND)
        return p;
    enum mbws_role sender = ctx ? ctx->sender : MBWS_ROLE_ANY;
    enum mbws_subprotocol sp = ctx ? ctx->subprotocol : MBWS_SP_MBWS;

    switch (type) {
    case MBWS_MESSAGE: /* sub */
        return sender == MBWS_ROLE_BROKER ? MBWS_P_REQUIRED : MBWS_P_OPTIONAL;
    case MBWS_CONNECT: /* last-seq */
        return (f && mbws_frame_has(f, MBWS_F_SESSION)) ? MBWS_P_REQUIRED : MBWS_P_OPTIONAL;
    case MBWS_CONNECTED:
        if (sp != MBWS_SP_MBWS)
            return MBWS_P_NONE;
        if (id == MBWS_F_LAST_SEQ)
            return (f && mbws_frame_has(f, MBWS_F_RESUMED) && f->num[MBWS_F_RESUMED] == 1)
                       ? MBWS_P_REQUIRED
                       : MBWS_P_OPTIONAL;
        return MBWS_P_REQUIRED;
    default:
        return MBWS_P_OPTIONAL;
    }
}
