/* Text frame decoder (profile section 4). Whole-frame UTF-8 first (WS-6),
 * then one pass over the header lines: structure errors (TXT-2..4, ERR-4
 * step 1) end it at once; the first listed field syntax or repetition
 * error (step 4) is kept and reported after the type (step 2, TXT-1) and
 * body (step 3, TXT-7) checks. */
#include <string.h>

#include "mbws_codec_internal.h"
#include "mbws_fault.h"

/* Where the content of the line [start, lf) ends: at its LF, or, with the
 * txt-cr-allowed fault (breaks TXT-2), before a CR that precedes the LF. */
static size_t cr_lf_fault(enum mbws_fault_id fault, const uint8_t *buf, size_t start, size_t lf)
{
    if (lf > start && buf[lf - 1] == '\r' && mbws_fault_on(fault, MBWS_FAULT_TXT_CR_ALLOWED))
        return lf - 1;
    return lf;
}

/* TXT-5: digits only, no sign, spaces or leading zeros, at most 2^64-1.
 * Returns NULL when good, else why, with *bad the offending index. */
static const char *parse_uint(enum mbws_fault_id fault, const uint8_t *p, size_t n, uint64_t *v,
                              size_t *bad)
{
    *bad = 0;
    if (n == 0)
        return "empty integer value";
    if (p[0] == '0' && n > 1 && !mbws_fault_on(fault, MBWS_FAULT_TXT_LEADING_ZEROS)) {
        return "integer value with a leading zero";
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        *bad = i;
        if (p[i] < '0' || p[i] > '9')
            return "integer value holds a character other than 0-9";
        unsigned d = (unsigned)(p[i] - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return "integer value above 18446744073709551615";
        acc = acc * 10 + d;
    }
    *v = acc;
    return NULL;
}

/* Step 4 for one listed header line: TXT-5, TXT-6, FLD-2. */
static int take_field(enum mbws_fault_id fault, const uint8_t *buf, size_t line, uint8_t id,
                      const uint8_t *val, size_t vlen, mbws_frame *out, mbws_error_info *err)
{
    if (mbws_frame_has(out, id) && !mbws_fault_on(fault, MBWS_FAULT_FLD_DUPLICATES))
        return mbws_fail(err, MBWS_E_MALFORMED, "FLD-2", line, id, "field repeated");
    size_t bad;
    const char *why;
    if (mbws_fields[id].kind == MBWS_KIND_INT) {
        uint64_t v = 0;
        why = parse_uint(fault, val, vlen, &v, &bad);
        if (why)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-5", (size_t)(val - buf) + bad, id, "%s",
                             why);
        mbws_frame_set_int(out, id, v);
        return 0;
    }
    why = mbws_string_problem_ex(val, vlen, &bad, 0,
                                 mbws_fault_on(fault, MBWS_FAULT_STRING_EMPTY_ALLOWED));
    if (why)
        return mbws_fail(err, MBWS_E_MALFORMED, "TXT-6", (size_t)(val - buf) + bad, id, "%s", why);
    mbws_frame_set_str(out, id, val, vlen);
    return 0;
}

static int all_upper(enum mbws_fault_id fault, const uint8_t *p, size_t n)
{
    if (n == 0) /* not a run of A-Z: malformed (the fault takes it as unknown) */
        return mbws_fault_on(fault, MBWS_FAULT_TXT_EMPTY_TYPE_UNKNOWN);
    for (size_t i = 0; i < n; i++) /* the fault lets any non-ASCII octet pass (MESSAGÉ) */
        if ((p[i] < 'A' || p[i] > 'Z') &&
            !(p[i] >= 0x80 && mbws_fault_on(fault, MBWS_FAULT_TXT_UPPER_NON_ASCII_UNKNOWN)))
            return 0;
    return 1;
}

int mbws_decode_text(const uint8_t *buf, size_t len, const mbws_decode_ctx *ctx, mbws_frame *out,
                     mbws_error_info *err)
{
    /* Step 0 (WebSocket layer): the whole frame must be UTF-8 (WS-6). */
    size_t bad = mbws_utf8_prefix(buf, len);
    if (bad != len)
        return mbws_fail(err,
                         mbws_fault_on(ctx->fault, MBWS_FAULT_WS_UTF8_AS_MALFORMED)
                             ? MBWS_E_MALFORMED
                             : MBWS_E_WS_INVALID_UTF8,
                         "WS-6", bad, 0,
                         "text frame is not valid UTF-8 (close 1007)");

    /* Step 1: structure. The type line is judged in step 2. */
    const uint8_t *lf = memchr(buf, '\n', len);
    size_t tl_end = lf ? cr_lf_fault(ctx->fault, buf, 0, (size_t)(lf - buf)) : len;
    const uint8_t *cr = memchr(buf, '\r', tl_end);
    if (cr)
        return mbws_fail(err, MBWS_E_MALFORMED, "TXT-2", (size_t)(cr - buf), 0,
                         "CR in the type line");
    if (lf == NULL)
        return mbws_fail(err, MBWS_E_MALFORMED, "TXT-4", len, 0, "no LF after the type line");

    const struct mbws_type_desc *td = mbws_type_by_name((const char *)buf, tl_end);
    uint8_t type = td ? td->code : 0;
    uint16_t listed = td ? mbws_listed_mask(type, ctx) : 0;
    struct mbws_field_pos pos;
    pos.base = buf;
    mbws_frame_init(out, type);
    mbws_error_info step4_store, *step4 = err ? err : &step4_store;
    int step4_code = 0;

    size_t at = (size_t)(lf - buf) + 1, body = 0;
    for (;;) {
        if (at >= len)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-4", len, 0,
                             "frame ends without the empty line that ends the header");
        lf = memchr(buf + at, '\n', len - at);
        size_t end = lf ? (size_t)(lf - buf) : len;
        size_t eol = lf ? cr_lf_fault(ctx->fault, buf, at, end) : end;
        cr = memchr(buf + at, '\r', eol - at);
        if (cr)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-2", (size_t)(cr - buf), 0,
                             "CR in the header");
        if (lf == NULL)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-4", len, 0,
                             "frame ends inside a header line, without the empty line");
        if (eol == at) {
            body = end + 1;
            break; /* the empty line: header ends (TXT-4) */
        }
        const uint8_t *colon = memchr(buf + at, ':', eol - at);
        if (colon == NULL)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-3", at, 0, "header line without ':'");
        size_t nlen = (size_t)(colon - (buf + at));
        if (nlen == 0)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-3", at, 0, "header line with an empty name");
        for (size_t i = 0; i < nlen; i++) {
            uint8_t c = buf[at + i];
            if (!((c >= 'a' && c <= 'z') || c == '-'))
                return mbws_fail(err, MBWS_E_MALFORMED, "TXT-3", at + i, 0,
                                 "header name holds 0x%02x; only a-z and '-' allowed", c);
        }
        /* FLD-3: unknown and unlisted names are skipped unexamined. */
        const struct mbws_field_desc *fd = mbws_field_by_name((const char *)buf + at, nlen);
        if (fd && ((listed >> fd->id) & 1u) && step4_code == 0) {
            const uint8_t *val = colon + 1;
            step4_code = take_field(ctx->fault, buf, at, fd->id, val, (size_t)(buf + eol - val), out,
                                    step4);
            pos.field[fd->id] = at;
        } else if (!fd && step4_code == 0 && mbws_fault_on(ctx->fault, MBWS_FAULT_FLD_UNKNOWN_REJECTED)) {
            step4_code = mbws_fail(step4, MBWS_E_MALFORMED, "FLD-3", at, 0, "unknown header name");
        }
        if (fd && !((listed >> fd->id) & 1u))
            out->ignored |= (uint16_t)(1u << fd->id); /* known but unlisted: noted only */
        at = end + 1;
    }
    pos.header_end = at;

    /* Step 2: frame type (TXT-1, FLD-4). */
    if (td == NULL) {
        if (all_upper(ctx->fault, buf, tl_end) &&
            !mbws_fault_on(ctx->fault, MBWS_FAULT_TXT_UNKNOWN_TYPE_MALFORMED))
            return mbws_fail(err, MBWS_E_UNKNOWN_TYPE, "TXT-1", 0, 0, "unknown frame type \"%.*s\"",
                             (int)(tl_end > 32 ? 32 : tl_end), (const char *)buf);
        return mbws_fail(err, MBWS_E_MALFORMED, "TXT-1", 0, 0,
                         "type line is not an upper-case frame type name");
    }
    /* Step 3: body (TXT-7). */
    if (body < len) {
        if (!td->may_have_body)
            return mbws_fail(err, MBWS_E_MALFORMED, "TXT-7", body, 0,
                             "%s carries a body of %zu octets; only MESSAGE may", td->name,
                             len - body);
        out->body.ptr = buf + body;
        out->body.len = len - body;
    }
    /* Step 4: listed field syntax and repetition (recorded above). */
    if (step4_code)
        return step4_code;
    /* Steps 5 to 8. */
    return mbws_validate(out, ctx, &pos, err);
}
