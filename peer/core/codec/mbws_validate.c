/* ERR-4 steps 5 to 8, the same for both encodings: required fields,
 * value rules, address, direction. The decoders have already stored only
 * listed fields (FLD-3), each well-formed and at most once. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "mbws_codec_internal.h"
#include "mbws_fault.h"

/* Step 6 collects every value violation and reports the one earliest in
 * the frame, so the message points at the first fault a reader meets. */
struct value_fault {
    int found;
    size_t offset;
    const char *rule;
    int field;
    char what[96];
};

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 5, 6)))
#endif
static void fault(struct value_fault *vf, size_t offset, const char *rule, int field,
                  const char *fmt, ...)
{
    if (vf->found && vf->offset <= offset)
        return;
    vf->found = 1;
    vf->offset = offset;
    vf->rule = rule;
    vf->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vf->what, sizeof(vf->what), fmt, ap);
    va_end(ap);
}

static int token_char_ok(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void value_rules(enum mbws_fault_id fault_id, const mbws_frame *f,
                        const struct mbws_field_pos *pos, struct value_fault *vf)
{
    if (f->type == MBWS_MESSAGE && mbws_frame_has(f, MBWS_F_SEQ) && f->num[MBWS_F_SEQ] == 0 &&
        !mbws_fault_on(fault_id, MBWS_FAULT_FLD_SEQ_ZERO))
        fault(vf, pos->field[MBWS_F_SEQ], "FLD-6", MBWS_F_SEQ, "MESSAGE seq must not be 0");

    if (mbws_frame_has(f, MBWS_F_SESSION)) {
        const mbws_bytes *s = &f->str[MBWS_F_SESSION];
        size_t off = (size_t)(s->ptr - pos->base);
        if (s->len > MBWS_SESSION_TOKEN_MAX) {
            fault(vf, off + MBWS_SESSION_TOKEN_MAX, "FLD-8", MBWS_F_SESSION,
                  "session token is %zu octets, at most 64 allowed", s->len);
        } else if (!mbws_fault_on(fault_id, MBWS_FAULT_FLD_TOKEN_CHARSET)) {
            for (size_t i = 0; i < s->len; i++)
                if (!token_char_ok(s->ptr[i])) {
                    fault(vf, off + i, "FLD-8", MBWS_F_SESSION,
                          "session token octet 0x%02x is not one of A-Z a-z 0-9 _ -", s->ptr[i]);
                    break;
                }
        }
    }
    if (mbws_frame_has(f, MBWS_F_MAX_FRAME) && f->num[MBWS_F_MAX_FRAME] < MBWS_MAX_FRAME_MIN)
        fault(vf, pos->field[MBWS_F_MAX_FRAME], "SES-8", MBWS_F_MAX_FRAME,
              "max-frame %" PRIu64 " is below 1024", f->num[MBWS_F_MAX_FRAME]);
    if (mbws_frame_has(f, MBWS_F_RESUMED) && f->num[MBWS_F_RESUMED] > 1)
        fault(vf, pos->field[MBWS_F_RESUMED], "SES-3", MBWS_F_RESUMED, "resumed must be 0 or 1, got %" PRIu64,
              f->num[MBWS_F_RESUMED]);
    if (f->type == MBWS_CONNECTED) {
        if (mbws_frame_has(f, MBWS_F_CREDIT) && f->num[MBWS_F_CREDIT] == 0)
            fault(vf, pos->field[MBWS_F_CREDIT], "SES-3", MBWS_F_CREDIT,
                  "CONNECTED credit must be at least 1");
        if (mbws_frame_has(f, MBWS_F_SESSION_EXPIRY) && f->num[MBWS_F_SESSION_EXPIRY] == 0)
            fault(vf, pos->field[MBWS_F_SESSION_EXPIRY], "SES-3", MBWS_F_SESSION_EXPIRY,
                  "CONNECTED session-expiry must be at least 1");
    }
}

/* Step 8: direction (FLD-5). */
static int direction(const struct mbws_type_desc *td, const mbws_decode_ctx *ctx,
                     mbws_error_info *err)
{
    if (ctx->sender != MBWS_ROLE_ANY) {
        int wrong = (ctx->sender == MBWS_ROLE_CLIENT && td->dir == MBWS_DIR_B2C) ||
                    (ctx->sender == MBWS_ROLE_BROKER && td->dir == MBWS_DIR_C2B);
        if (wrong)
            return mbws_fail(err, MBWS_E_UNEXPECTED, "FLD-5", 0, 0, "%s sent by a %s: it goes %s",
                             td->name, ctx->sender == MBWS_ROLE_CLIENT ? "client" : "broker",
                             td->dir == MBWS_DIR_C2B ? "client to broker" : "broker to client");
    }
    return MBWS_OK;
}

int mbws_validate(const mbws_frame *f, const mbws_decode_ctx *ctx, const struct mbws_field_pos *pos,
                  mbws_error_info *err)
{
    const struct mbws_type_desc *td = mbws_type_by_code(f->type);
    int rc;
    if (mbws_fault_on(ctx->fault, MBWS_FAULT_ERR_ORDER) && (rc = direction(td, ctx, err)) != MBWS_OK)
        return rc; /* fault: step 8 before steps 5 to 7 */

    /* Step 5: required fields (FLD-1), judged with the values present. */
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++)
        if (!mbws_frame_has(f, id) &&
            mbws_field_presence(f->type, id, ctx, f) == MBWS_P_REQUIRED)
            return mbws_fail(err, MBWS_E_MALFORMED, "FLD-1", pos->header_end, (int)id,
                             "required in %s but missing", td->name);

    /* fault: the version (step 9, code 11) before the value rules of step 6 */
    if (mbws_fault_on(ctx->fault, MBWS_FAULT_ERR_VERSION_BEFORE_VALUES) &&
        (f->type == MBWS_CONNECT || f->type == MBWS_CONNECTED) &&
        f->num[MBWS_F_VERSION] != MBWS_PROFILE_VERSION)
        return mbws_fail(err, MBWS_E_VERSION, "SES-3", pos->field[MBWS_F_VERSION], MBWS_F_VERSION,
                         "unsupported version");

    /* Step 6: value rules that are malformed. */
    struct value_fault vf = {0};
    value_rules(ctx->fault, f, pos, &vf);
    if (vf.found)
        return mbws_fail(err, MBWS_E_MALFORMED, vf.rule, vf.offset, vf.field, "%s", vf.what);

    /* Step 7: address (FLD-7). BIN-6 / TXT-6 already refused NUL, CR, LF. */
    if (mbws_frame_has(f, MBWS_F_ADDRESS)) {
        const mbws_bytes *a = &f->str[MBWS_F_ADDRESS];
        size_t off = (size_t)(a->ptr - pos->base);
        if (a->len > MBWS_ADDRESS_MAX && !mbws_fault_on(ctx->fault, MBWS_FAULT_FLD_LONG_ADDRESS))
            return mbws_fail(err, MBWS_E_INVALID_ADDRESS, "FLD-7", off + MBWS_ADDRESS_MAX,
                             MBWS_F_ADDRESS, "address is %zu octets, at most 255 allowed", a->len);
        for (size_t i = 0; i < a->len; i++)
            if (a->ptr[i] < 0x20 || (a->ptr[i] == 0x7f && mbws_fault_on(ctx->fault, MBWS_FAULT_FLD_DEL_REFUSED)))
                return mbws_fail(err, MBWS_E_INVALID_ADDRESS, "FLD-7", off + i, MBWS_F_ADDRESS,
                                 "address holds control character 0x%02x", a->ptr[i]);
    }

    /* Step 8: direction (FLD-5). */
    return direction(td, ctx, err);
}
