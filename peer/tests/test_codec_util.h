/* Helpers shared by the test_codec_*.c tests: a raw binary frame builder
 * that does not use the codec's encoder, decode contexts, and EXPECT
 * macros that check code, rule (and offset/field) of a decode. */
#ifndef TEST_CODEC_UTIL_H
#define TEST_CODEC_UTIL_H

#include <stdint.h>
#include <string.h>

#include "mbws_frame.h"
#include "mbws_test.h"

static const mbws_decode_ctx CTX_CLIENT = {.sender = MBWS_ROLE_CLIENT, .subprotocol = MBWS_SP_MBWS}; /* sent by a client */
static const mbws_decode_ctx CTX_BROKER = {.sender = MBWS_ROLE_BROKER, .subprotocol = MBWS_SP_MBWS}; /* sent by a broker */
static const mbws_decode_ctx CTX_ANY = {.sender = MBWS_ROLE_ANY, .subprotocol = MBWS_SP_MBWS};
static const mbws_decode_ctx CTX_BROKER_MBLWS = {.sender = MBWS_ROLE_BROKER, .subprotocol = MBWS_SP_MBLWS};

/* Raw binary frame, built octet by octet. */
struct bin {
    uint8_t b[70000];
    size_t n;
};

static inline void b_start(struct bin *x, uint8_t type)
{
    x->b[0] = type;
    x->b[1] = 0;
    x->b[2] = x->b[3] = 0;
    x->n = 4;
}

static inline void b_field(struct bin *x, uint8_t id, const void *v, size_t len)
{
    x->b[x->n++] = id;
    x->b[x->n++] = (uint8_t)(len >> 8);
    x->b[x->n++] = (uint8_t)len;
    if (len)
        memcpy(x->b + x->n, v, len);
    x->n += len;
}

static inline void b_str(struct bin *x, uint8_t id, const char *s)
{
    b_field(x, id, s, strlen(s));
}

static inline void b_int(struct bin *x, uint8_t id, uint64_t v)
{
    uint8_t o[8];
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)(v >> (56 - 8 * i));
    b_field(x, id, o, 8);
}

/* Sets H to everything written so far; what follows is body. */
static inline void b_end(struct bin *x)
{
    size_t h = x->n - 4;
    x->b[2] = (uint8_t)(h >> 8);
    x->b[3] = (uint8_t)h;
}

static inline void b_body(struct bin *x, const void *p, size_t len)
{
    memcpy(x->b + x->n, p, len);
    x->n += len;
}

/* Decode and check the code and the rule reported. */
#define EXPECT_RULE_(req, buf, len, enc, ctx, want_code, want_rule)                             \
    do {                                                                                      \
        mbws_error_info e_;                                                                   \
        mbws_frame f_;                                                                        \
        int rc_ = mbws_decode((const uint8_t *)(buf), (len), (enc), (ctx), &f_, &e_);        \
        CHECK_EQ(req, rc_, want_code);                                                        \
        CHECK_EQ(req, e_.code, want_code);                                                    \
        CHECK(req, strcmp(e_.rule, (want_rule)) == 0);                                        \
        if (rc_ != (want_code) || strcmp(e_.rule, (want_rule)) != 0)                          \
            fprintf(stderr, "    want %d [%s], got %d: %s\n", (int)(want_code), (want_rule),  \
                    rc_, e_.message);                                                         \
    } while (0)

/* As EXPECT_RULE, and the offset and field id reported. */
#define EXPECT_AT_(req, buf, len, enc, ctx, want_code, want_rule, want_off, want_field)         \
    do {                                                                                      \
        mbws_error_info e_;                                                                   \
        mbws_frame f_;                                                                        \
        int rc_ = mbws_decode((const uint8_t *)(buf), (len), (enc), (ctx), &f_, &e_);        \
        CHECK_EQ(req, rc_, want_code);                                                        \
        CHECK(req, strcmp(e_.rule, (want_rule)) == 0);                                        \
        CHECK_EQ(req, e_.offset, want_off);                                                   \
        CHECK_EQ(req, e_.field, want_field);                                                  \
        CHECK(req, strstr(e_.message, (want_rule)) != NULL);                                  \
        if (rc_ != (want_code) || strcmp(e_.rule, (want_rule)) != 0 ||                        \
            e_.offset != (size_t)(want_off))                                                  \
            fprintf(stderr, "    want %d [%s] at %zu, got %d: %s\n", (int)(want_code),        \
                    (want_rule), (size_t)(want_off), rc_, e_.message);                        \
    } while (0)

/* Decode that must succeed. */
#define EXPECT_OK_(req, buf, len, enc, ctx, fp)                                                \
    do {                                                                                      \
        mbws_error_info e_;                                                                   \
        int rc_ = mbws_decode((const uint8_t *)(buf), (len), (enc), (ctx), (fp), &e_);      \
        CHECK_EQ(req, rc_, 0);                                                                \
        if (rc_ != 0)                                                                         \
            fprintf(stderr, "    want success, got %d: %s\n", rc_, e_.message);               \
    } while (0)

/* Indirection so that B(&x) expands to two arguments first. */
#define EXPECT_RULE(...) EXPECT_RULE_(__VA_ARGS__)
#define EXPECT_AT(...) EXPECT_AT_(__VA_ARGS__)
#define EXPECT_OK(...) EXPECT_OK_(__VA_ARGS__)

#define B(x) (x)->b, (x)->n
#define T(s) (s), strlen(s)

#endif
