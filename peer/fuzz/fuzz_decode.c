/* libFuzzer target for the codec. The input is decoded as a binary and as
 * a text frame in every decode context (sender client / broker / any, on
 * MBWS and MBLWS). Every failure must be reported consistently; every
 * success must survive encode + decode unchanged, in its own encoding and,
 * where the other encoding can carry the frame, in that one too. Any
 * mismatch aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbws_frame.h"

static void fail(const char *what, const mbws_frame *f)
{
    char line[512];
    mbws_frame_format(f, line, sizeof(line));
    fprintf(stderr, "fuzz_decode: %s: %s\n", what, line);
    abort();
}

static int bytes_eq(const mbws_bytes *a, const mbws_bytes *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

static int frames_equal(const mbws_frame *a, const mbws_frame *b)
{
    if (a->type != b->type || a->present != b->present || !bytes_eq(&a->body, &b->body))
        return 0;
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++) {
        if (!mbws_frame_has(a, id))
            continue;
        if (mbws_fields[id].kind == MBWS_KIND_INT ? a->num[id] != b->num[id]
                                                   : !bytes_eq(&a->str[id], &b->str[id]))
            return 0;
    }
    return 1;
}

/* Encodes f in enc into a fresh buffer (caller frees); *len gets its size. */
static uint8_t *encode(const mbws_frame *f, enum mbws_encoding enc, size_t *len)
{
    size_t n = mbws_encode(f, enc, NULL, 0);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        abort();
    if (mbws_encode(f, enc, buf, n) != n)
        fail("encode length changed between calls", f);
    *len = n;
    return buf;
}

/* Re-encode f in enc and decode it again in ctx: must give f back. */
static void roundtrip(const mbws_frame *f, enum mbws_encoding enc, const mbws_decode_ctx *ctx)
{
    size_t n;
    uint8_t *buf = encode(f, enc, &n);
    mbws_frame g;
    mbws_error_info e;
    int rc = mbws_decode(buf, n, enc, ctx, &g, &e);
    if (rc != 0) {
        fprintf(stderr, "fuzz_decode: re-decode (%s) failed: %s\n",
                enc == MBWS_ENC_TEXT ? "text" : "binary", e.message);
        fail("round trip refused", f);
    }
    if (!frames_equal(f, &g))
        fail("round trip changed the frame", f);
    /* Canonical: the re-encoding of the re-decoded frame is identical. */
    size_t m;
    uint8_t *again = encode(&g, enc, &m);
    if (m != n || memcmp(buf, again, n) != 0)
        fail("encoding is not canonical", f);
    free(again);
    free(buf);
}

/* Whether the other encoding can carry f unchanged. */
static int fits_text(const mbws_frame *f)
{
    return mbws_utf8_valid(f->body.ptr, f->body.len);
}

static int fits_binary(const mbws_frame *f)
{
    size_t h = 0;
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++)
        if (mbws_frame_has(f, id))
            h += MBWS_BIN_FIELD_HDR_LEN +
                 (mbws_fields[id].kind == MBWS_KIND_INT ? MBWS_INT_LEN : f->str[id].len);
    return h <= 0xFFFF;
}

static void check_error(int rc, const mbws_error_info *e, size_t size, enum mbws_encoding enc)
{
    if (rc != e->code || e->rule == NULL || e->rule[0] == '\0' || e->message[0] == '\0')
        abort();
    if (e->offset > size || e->field < 0 || e->field > MBWS_FIELD_MAX)
        abort();
    int known = (rc >= MBWS_E_MALFORMED && rc <= MBWS_E_UNEXPECTED && rc != MBWS_E_TOO_LARGE) ||
                rc == MBWS_E_INVALID_ADDRESS ||
                (rc == MBWS_E_WS_INVALID_UTF8 && enc == MBWS_ENC_TEXT);
    if (!known)
        abort(); /* the codec only ever reports codes 1, 2, 4, 9 and WS-6 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum mbws_role senders[] = {MBWS_ROLE_CLIENT, MBWS_ROLE_BROKER, MBWS_ROLE_ANY};
    static const enum mbws_subprotocol sps[] = {MBWS_SP_MBWS, MBWS_SP_MBLWS};
    for (int enc = 0; enc < 2; enc++) {
        for (size_t s = 0; s < 3; s++) {
            for (size_t p = 0; p < 2; p++) {
                mbws_decode_ctx ctx = {.sender = senders[s], .subprotocol = sps[p]};
                mbws_frame f;
                mbws_error_info e;
                int rc = mbws_decode(data, size, (enum mbws_encoding)enc, &ctx, &f, &e);
                if (rc != 0) {
                    check_error(rc, &e, size, (enum mbws_encoding)enc);
                    continue;
                }
                char line[256];
                size_t want = mbws_frame_format(&f, line, sizeof(line));
                if (strlen(line) != (want < sizeof(line) ? want : sizeof(line) - 1))
                    abort();
                roundtrip(&f, (enum mbws_encoding)enc, &ctx);
                if (enc == MBWS_ENC_BINARY && fits_text(&f))
                    roundtrip(&f, MBWS_ENC_TEXT, &ctx);
                if (enc == MBWS_ENC_TEXT && fits_binary(&f))
                    roundtrip(&f, MBWS_ENC_BINARY, &ctx);
            }
        }
    }
    return 0;
}
