/* MBWS frames in memory and the codec for both encodings (profile
 * sections 3, 4, 5 and 11). Pure: no I/O, no allocation. Decoded strings
 * and bodies point into the caller's buffer (picohttpparser style). */
#ifndef MBWS_FRAME_H
#define MBWS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "mbws_fault.h"
#include "mbws_layout.h"

enum mbws_encoding { MBWS_ENC_BINARY = 0, MBWS_ENC_TEXT = 1 };
enum mbws_role { MBWS_ROLE_CLIENT = 0, MBWS_ROLE_BROKER = 1, MBWS_ROLE_ANY = 2 };
enum mbws_subprotocol { MBWS_SP_MBWS = 0, MBWS_SP_MBLWS = 1 };

typedef struct mbws_bytes {
    const uint8_t *ptr;
    size_t len;
} mbws_bytes;

typedef struct mbws_frame {
    uint8_t type;                 /* enum mbws_type */
    uint16_t present;             /* bit (1u << id) set when field id is present */
    /* Set by mbws_decode(): bit (1u << id) when known field id was on the
     * wire but is not listed for this frame type in the decode context, so
     * it was skipped unexamined (FLD-3) and is not in present/num/str.
     * Lets a test see a field an implementation should not send at all
     * (RES-9: no session fields in an MBLWS CONNECTED). */
    uint16_t ignored;
    uint64_t num[MBWS_NFIELDS];   /* integer fields, by id */
    mbws_bytes str[MBWS_NFIELDS]; /* string fields, by id (not NUL-terminated) */
    mbws_bytes body;
} mbws_frame;

void mbws_frame_init(mbws_frame *f, uint8_t type);
int mbws_frame_has(const mbws_frame *f, unsigned id);
void mbws_frame_set_int(mbws_frame *f, unsigned id, uint64_t v);
void mbws_frame_set_str(mbws_frame *f, unsigned id, const void *p, size_t len);
void mbws_frame_set_cstr(mbws_frame *f, unsigned id, const char *s);

/* Context a frame is judged in: who sent it (direction, FLD-5, and the
 * role-dependent fields of section 5) and the subprotocol (CONNECTED's
 * session fields are listed only on MBWS.huawei.com, RES-9).
 * sender MBWS_ROLE_ANY skips the direction check and treats role-dependent
 * fields as optional: for logging frames whose sender is not known.
 * fault: the decoder's own fault switch (mbws_fault.h); MBWS_FAULT_NONE,
 * what designated initializers leave it at, decodes correctly. */
typedef struct mbws_decode_ctx {
    enum mbws_role sender;
    enum mbws_subprotocol subprotocol;
    enum mbws_fault_id fault;
} mbws_decode_ctx;

/* Presence of field id in frames of this type, in this context (section 5,
 * resolving the MBWS_P_COND table entries; defined in mbws_layout.c):
 * MBWS_P_NONE (not listed: ignored, FLD-3), MBWS_P_REQUIRED or
 * MBWS_P_OPTIONAL. Value-dependent rules (CONNECT last-seq R if session,
 * CONNECTED last-seq R if resumed is 1) read f; with f NULL they give
 * MBWS_P_OPTIONAL. ctx NULL means sender MBWS_ROLE_ANY on MBWS.huawei.com. */
enum mbws_presence mbws_field_presence(unsigned type, unsigned id, const mbws_decode_ctx *ctx,
                                       const mbws_frame *f);

/* Why a frame was refused: the profile error code, the rule it broke,
 * where, and a sentence for humans. */
typedef struct mbws_error_info {
    int code;          /* enum mbws_error_code; 0 when the frame is good */
    const char *rule;  /* requirement ID, e.g. "BIN-3"; static string */
    size_t offset;     /* octet offset in the frame of the violation */
    int field;         /* field id concerned, 0 when none */
    char message[192];
} mbws_error_info;

/* Decode one whole frame. Checks everything one frame can be judged by,
 * in the order of ERR-4 steps (1) to (8): structure, type, body, field
 * syntax and repetition, required fields, value rules, address, direction.
 * Size (step 0) and state (step 9) belong to the session.
 * For text, invalid UTF-8 anywhere gives MBWS_E_WS_INVALID_UTF8 (WS-6).
 * Returns 0 (out filled) or the error code (err filled; err may be NULL). */
int mbws_decode(const uint8_t *buf, size_t len, enum mbws_encoding enc,
                const mbws_decode_ctx *ctx, mbws_frame *out, mbws_error_info *err);

/* Encode a frame: fields in ascending id order, integers as 8 octets
 * (binary) or decimal (text). Writes at most cap octets; returns the length
 * the frame needs (so a return > cap means nothing usable was written).
 * Values are not validated: encoding a bad frame is allowed. */
size_t mbws_encode(const mbws_frame *f, enum mbws_encoding enc, uint8_t *out, size_t cap);

/* Exactly what goes on the wire, nothing checked: for conformance cases
 * that send frames with missing, repeated, mis-sized or unknown fields, a
 * non-zero reserved octet, a lying header length or an unknown type.
 * mbws_encode() is mbws_wire_from_frame() + mbws_wire_encode(). */
#define MBWS_WIRE_MAX_FIELDS 48
typedef struct mbws_wire_field {
    uint8_t id;         /* binary field id */
    const char *name;   /* text header name; NULL: the name of id */
    mbws_bytes value;   /* value octets exactly as sent */
    int32_t len_field;  /* binary length octets to send; -1: value.len */
} mbws_wire_field;

typedef struct mbws_wire_frame {
    uint8_t type;            /* binary type octet */
    const char *type_line;   /* text first line; NULL: the name of type */
    uint8_t reserved;        /* binary octet 1 */
    int32_t header_len;      /* binary H to send; -1: the true length */
    mbws_wire_field field[MBWS_WIRE_MAX_FIELDS];
    size_t nfields;
    mbws_bytes body;
} mbws_wire_frame;

/* Scratch space that mbws_wire_from_frame() renders integer values into. */
typedef struct mbws_wire_scratch {
    uint8_t num[MBWS_NFIELDS][24];
} mbws_wire_scratch;

void mbws_wire_init(mbws_wire_frame *w, uint8_t type);
/* Appends a field; returns 0, or -1 when full. */
int mbws_wire_add(mbws_wire_frame *w, uint8_t id, const char *name, const void *value, size_t len);
void mbws_wire_from_frame(const mbws_frame *f, enum mbws_encoding enc, mbws_wire_frame *w,
                          mbws_wire_scratch *scratch);
size_t mbws_wire_encode(const mbws_wire_frame *w, enum mbws_encoding enc, uint8_t *out, size_t cap);

/* One line for logs, e.g. `MESSAGE seq=1 address="q" body=2 octets "hi"`.
 * Always NUL-terminates (when cap > 0); returns the length it wanted. */
size_t mbws_frame_format(const mbws_frame *f, char *out, size_t cap);

/* 1 when p[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int mbws_utf8_valid(const uint8_t *p, size_t len);

#endif
