/* Binary frame decoder (profile section 3). One pass over the header:
 * structure errors (ERR-4 step 1) end it at once; the first field syntax
 * or repetition error (step 4) is kept and reported only after the type
 * (step 2) and body (step 3) checks, so the ERR-4 order holds whatever the
 * position of the faults in the frame. */
#include <string.h>

#include "mbws_codec_internal.h"
#include "mbws_fault.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Big-endian value of p[0..n); longer values keep their last 8 octets
 * (only reachable with the bin-int-any-length fault). */
static uint64_t be_uint(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Step 4 for one listed field: BIN-5, BIN-6, FLD-2. Stores the value and
 * returns 0, or records the error and returns its code. */
static int take_field(enum mbws_fault_id fault, const uint8_t *buf, size_t at, uint8_t id,
                      const uint8_t *val, size_t vlen, mbws_frame *out, mbws_error_info *err)
{
    if (mbws_frame_has(out, id) && !mbws_fault_on(fault, MBWS_FAULT_FLD_DUPLICATES))
        return mbws_fail(err, MBWS_E_MALFORMED, "FLD-2", at, id, "field repeated");
    if (mbws_fields[id].kind == MBWS_KIND_INT) {
        if (vlen != MBWS_INT_LEN && !mbws_fault_on(fault, MBWS_FAULT_BIN_INT_ANY_LENGTH))
            return mbws_fail(err, MBWS_E_MALFORMED, "BIN-5", at, id,
                             "integer value is %zu octets, must be exactly 8", vlen);
        mbws_frame_set_int(out, id, be_uint(val, vlen));
        return 0;
    }
    size_t bad;
    const char *why =
        mbws_string_problem_ex(val, vlen, &bad, mbws_fault_on(fault, MBWS_FAULT_BIN_STRING_NUL),
                               mbws_fault_on(fault, MBWS_FAULT_STRING_EMPTY_ALLOWED));
    if (why)
        return mbws_fail(err, MBWS_E_MALFORMED, "BIN-6", (size_t)(val - buf) + bad, id, "%s", why);
    mbws_frame_set_str(out, id, val, vlen);
    return 0;
}

int mbws_decode_binary(const uint8_t *buf, size_t len, const mbws_decode_ctx *ctx, mbws_frame *out,
                       mbws_error_info *err)
{
    /* Step 1: structure. */
    if (len < MBWS_BIN_PREFIX_LEN)
        return mbws_fail(err, MBWS_E_MALFORMED, "BIN-1", 0, 0,
                         "frame is %zu octets, shorter than the 4-octet prefix", len);
    if (buf[1] != 0 && !mbws_fault_on(ctx->fault, MBWS_FAULT_BIN_RESERVED_IGNORED))
        return mbws_fail(err, MBWS_E_MALFORMED, "BIN-2", 1, 0, "reserved octet is 0x%02x, must be 0",
                         buf[1]);
    size_t h = be16(buf + 2);
    if (h > len - MBWS_BIN_PREFIX_LEN)
        return mbws_fail(err, MBWS_E_MALFORMED, "BIN-3", 2, 0,
                         "header length %zu exceeds the %zu octets after the prefix", h,
                         len - MBWS_BIN_PREFIX_LEN);

    uint8_t type = buf[0];
    const struct mbws_type_desc *td = mbws_type_by_code(type);
    uint16_t listed = td ? mbws_listed_mask(type, ctx) : 0;
    size_t hend = MBWS_BIN_PREFIX_LEN + h;
    struct mbws_field_pos pos;
    pos.base = buf;
    pos.header_end = hend;
    mbws_frame_init(out, type);
    mbws_error_info step4_store, *step4 = err ? err : &step4_store;
    int step4_code = 0;

    size_t at = MBWS_BIN_PREFIX_LEN;
    while (at < hend) {
        if (hend - at < MBWS_BIN_FIELD_HDR_LEN)
            return mbws_fail(err, MBWS_E_MALFORMED, "BIN-4", at, 0,
                             "header area ends inside a field's id or length (%zu octets left)",
                             hend - at);
        uint8_t id = buf[at];
        size_t vlen = be16(buf + at + 1);
        size_t vat = at + MBWS_BIN_FIELD_HDR_LEN;
        if (vlen > hend - vat)
            return mbws_fail(err, MBWS_E_MALFORMED, "BIN-4", at, 0,
                             "field 0x%02x value of %zu octets runs past the header end at %zu", id,
                             vlen, hend);
        /* FLD-3: unknown and unlisted fields are skipped unexamined. */
        if (id <= MBWS_FIELD_MAX && ((listed >> id) & 1u) && step4_code == 0) {
            step4_code = take_field(ctx->fault, buf, at, id, buf + vat, vlen, out, step4);
            pos.field[id] = at;
        } else if ((id == 0 || id > MBWS_FIELD_MAX) && step4_code == 0 &&
                   mbws_fault_on(ctx->fault, MBWS_FAULT_FLD_UNKNOWN_REJECTED)) {
            step4_code = mbws_fail(step4, MBWS_E_MALFORMED, "FLD-3", at, 0, "unknown field 0x%02x", id);
        }
        if (id >= 1 && id <= MBWS_FIELD_MAX && !((listed >> id) & 1u))
            out->ignored |= (uint16_t)(1u << id); /* known but unlisted: noted only */
        at = vat + vlen;
    }

    /* Step 2: frame type. */
    if (td == NULL)
        return mbws_fail(err,
                         mbws_fault_on(ctx->fault, MBWS_FAULT_FLD_UNKNOWN_TYPE_MALFORMED)
                             ? MBWS_E_MALFORMED
                             : MBWS_E_UNKNOWN_TYPE,
                         "FLD-4", 0, 0, "unknown frame type code 0x%02x",
                         type);
    /* Step 3: body. */
    if (hend < len) {
        if (!td->may_have_body && !mbws_fault_on(ctx->fault, MBWS_FAULT_BIN_BODY_ANY))
            return mbws_fail(err, MBWS_E_MALFORMED, "BIN-7", hend, 0,
                             "%s carries a body of %zu octets; only MESSAGE may", td->name,
                             len - hend);
        out->body.ptr = buf + hend;
        out->body.len = len - hend;
    }
    /* Step 4: listed field syntax and repetition (recorded above). */
    if (step4_code)
        return step4_code;
    /* Steps 5 to 8. */
    return mbws_validate(out, ctx, &pos, err);
}
