/* Private to the codec: what the two decoders share with the
 * encoding-independent validation (ERR-4 steps 5 to 8). */
#ifndef MBWS_CODEC_INTERNAL_H
#define MBWS_CODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_frame.h"

/* Where each decoded field sits in the frame, for error offsets. */
struct mbws_field_pos {
    const uint8_t *base;       /* start of the frame: string offsets are ptr - base */
    size_t field[MBWS_NFIELDS]; /* offset of the field (binary id octet, text line) */
    size_t header_end;         /* offset just past the header: "missing" errors point here */
};

/* Fills err (code, rule, offset, field and a message "[RULE] field NAME
 * (0xID) at offset N: detail") and returns code. */
int mbws_fail(mbws_error_info *err, int code, const char *rule, size_t offset, int field,
              const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Bit mask of the fields listed for a frame type in this context (by id);
 * unlisted ones are ignored without validation (FLD-3). */
uint16_t mbws_listed_mask(unsigned type, const mbws_decode_ctx *ctx);

/* String value rules shared by BIN-6 and TXT-6: 1 to 65535 octets, valid
 * UTF-8, no NUL, CR or LF. Returns NULL when good, else what is wrong, with
 * *bad set to the index of the offending octet. */
const char *mbws_string_problem(const uint8_t *p, size_t len, size_t *bad);
/* The same; allow_nul (only the bin-string-nul-allowed fault) lets NUL pass,
 * allow_empty (only the string-empty-allowed fault) a value of 0 octets. */
const char *mbws_string_problem_ex(const uint8_t *p, size_t len, size_t *bad, int allow_nul,
                                   int allow_empty);

/* Index of the first octet that is not part of valid UTF-8; len when all
 * of it is valid. */
size_t mbws_utf8_prefix(const uint8_t *p, size_t len);

/* ERR-4 steps 5 to 8 on a frame whose structure, type, body and listed
 * field syntax already passed: required fields (FLD-1), value rules (FLD-6,
 * FLD-8, SES-3, SES-8), address (FLD-7), direction (FLD-5). */
int mbws_validate(const mbws_frame *f, const mbws_decode_ctx *ctx, const struct mbws_field_pos *pos,
                  mbws_error_info *err);

int mbws_decode_binary(const uint8_t *buf, size_t len, const mbws_decode_ctx *ctx, mbws_frame *out,
                       mbws_error_info *err);
int mbws_decode_text(const uint8_t *buf, size_t len, const mbws_decode_ctx *ctx, mbws_frame *out,
                     mbws_error_info *err);

#endif
