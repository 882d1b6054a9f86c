/* What both decoders share: the entry point, error reporting, the listed
 * field mask and the string value rules (BIN-6, TXT-6). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mbws_codec_internal.h"
#include "mbws_fault.h"

int mbws_fail(mbws_error_info *err, int code, const char *rule, size_t offset, int field,
              const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->rule = rule;
    err->offset = offset;
    err->field = field;
    int n;
    const struct mbws_field_desc *d = mbws_field_by_id((unsigned)field);
    if (d)
        n = snprintf(err->message, sizeof(err->message), "[%s] field %s (0x%02x) at offset %zu: ",
                     rule, d->name, (unsigned)field, offset);
    else
        n = snprintf(err->message, sizeof(err->message), "[%s] at offset %zu: ", rule, offset);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof(err->message)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

uint16_t mbws_listed_mask(unsigned type, const mbws_decode_ctx *ctx)
{
    uint16_t mask = 0;
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++)
        if (mbws_field_presence(type, id, ctx, NULL) != MBWS_P_NONE)
            mask |= (uint16_t)(1u << id);
    if (type == MBWS_MESSAGE && ctx->sender == MBWS_ROLE_CLIENT &&
        mbws_fault_on(ctx->fault, MBWS_FAULT_CLIENT_SUB_UNCHECKED))
        mask &= (uint16_t)~(1u << MBWS_F_SUB); /* taken as unlisted: never validated */
    return mask;
}

const char *mbws_string_problem(const uint8_t *p, size_t len, size_t *bad)
{
    return mbws_string_problem_ex(p, len, bad, 0, 0);
}

const char *mbws_string_problem_ex(const uint8_t *p, size_t len, size_t *bad, int allow_nul,
                                   int allow_empty)
{
    *bad = 0;
    if (len == 0 && !allow_empty)
        return "empty string value (must be 1 to 65535 octets)";
    if (len > MBWS_STR_MAX) {
        *bad = MBWS_STR_MAX;
        return "string value longer than 65535 octets";
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0x00 && !allow_nul) {
            *bad = i;
            return "NUL in string value";
        }
        if (p[i] == '\r') {
            *bad = i;
            return "CR in string value";
        }
        if (p[i] == '\n') {
            *bad = i;
            return "LF in string value";
        }
    }
    size_t u = mbws_utf8_prefix(p, len);
    if (u != len) {
        *bad = u;
        return "string value is not valid UTF-8";
    }
    return NULL;
}

int mbws_decode(const uint8_t *buf, size_t len, enum mbws_encoding enc,
                const mbws_decode_ctx *ctx, mbws_frame *out, mbws_error_info *err)
{
    static const mbws_decode_ctx any = {.sender = MBWS_ROLE_ANY, .subprotocol = MBWS_SP_MBWS};
    mbws_frame scratch;
    if (out == NULL)
        out = &scratch;
    if (ctx == NULL)
        ctx = &any;
    if (err) {
        err->code = MBWS_OK;
        err->rule = "";
        err->offset = 0;
        err->field = 0;
        err->message[0] = '\0';
    }
    if (buf == NULL) {
        buf = (const uint8_t *)"";
        len = 0;
    }
    if (enc == MBWS_ENC_TEXT)
        return mbws_decode_text(buf, len, ctx, out, err);
    return mbws_decode_binary(buf, len, ctx, out, err);
}
