/* Binary encoding (profile section 3): BIN-1..7, FLD-4, and the ERR-4
 * order between structure, type, body and field syntax. Frames are built
 * octet by octet, without the codec's encoder. */
#include "test_codec_util.h"

#define BIN MBWS_ENC_BINARY

static struct bin x; /* large: kept off the stack */

static void bin1_short_frames(void)
{
    static const uint8_t three[] = {0x04, 0x00, 0x00};
    EXPECT_AT("BIN-1", three, 0, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-1", 0, 0);
    EXPECT_AT("BIN-1", three, 1, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-1", 0, 0);
    EXPECT_AT("BIN-1", three, 3, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-1", 0, 0);
    /* NULL buffer is an empty frame, not a crash. */
    EXPECT_RULE("BIN-1", NULL, 0, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-1");
    /* Exactly 4 octets is structurally whole: DISCONNECT has no fields. */
    static const uint8_t disc[] = {0x08, 0x00, 0x00, 0x00};
    mbws_frame f;
    EXPECT_OK("BIN-1", disc, 4, BIN, &CTX_CLIENT, &f);
    CHECK_EQ("BIN-1", f.type, MBWS_DISCONNECT);
    CHECK_EQ("BIN-1", f.present, 0);
    CHECK_EQ("BIN-1", f.body.len, 0);
}

static void bin2_reserved(void)
{
    static const uint8_t r1[] = {0x08, 0x01, 0x00, 0x00};
    static const uint8_t rff[] = {0x08, 0xff, 0x00, 0x00};
    EXPECT_AT("BIN-2", r1, 4, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-2", 1, 0);
    EXPECT_AT("BIN-2", rff, 4, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-2", 1, 0);
    /* ERR-4: structure (1) before frame type (2). */
    static const uint8_t unknown_type[] = {0x0a, 0x01, 0x00, 0x00};
    EXPECT_RULE("ERR-4", unknown_type, 4, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-2");
}

static void bin3_header_length(void)
{
    /* H = 1 with nothing after the prefix. */
    static const uint8_t h1[] = {0x08, 0x00, 0x00, 0x01};
    EXPECT_AT("BIN-3", h1, 4, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-3", 2, 0);
    /* H = 65535 with 11 octets following. */
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    x.b[2] = 0xff;
    x.b[3] = 0xff;
    EXPECT_AT("BIN-3", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-3", 2, 0);
    /* H one larger than what follows. */
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_end(&x);
    x.b[3]++;
    EXPECT_RULE("BIN-3", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-3");
    /* H = 0 on ACK: the structure is fine, seq is missing (FLD-1). */
    static const uint8_t h0[] = {0x04, 0x00, 0x00, 0x00};
    EXPECT_RULE("BIN-3", h0, 4, BIN, &CTX_ANY, MBWS_E_MALFORMED, "FLD-1");
    /* H = 0 on MESSAGE: all of it is body, so seq and address are missing. */
    static const uint8_t m0[] = {0x03, 0x00, 0x00, 0x00, 0x02, 0x00};
    EXPECT_RULE("BIN-3", m0, 6, BIN, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-1");
}

/* H = 65535, the largest header: MESSAGE seq + address + an unknown field
 * filling the rest; followed by a body. */
static void bin3_header_65535(void)
{
    static uint8_t pad[65535];
    memset(pad, 'x', sizeof(pad));
    b_start(&x, MBWS_MESSAGE);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    size_t used = x.n - 4;
    b_field(&x, 0x42, pad, 65535 - used - 3);
    b_end(&x);
    CHECK_EQ("BIN-3", x.n - 4, 65535);
    b_body(&x, "body", 4);
    mbws_frame f;
    EXPECT_OK("BIN-3", B(&x), BIN, &CTX_CLIENT, &f);
    CHECK_EQ("BIN-3", f.num[MBWS_F_SEQ], 1);
    CHECK_MEM("BIN-3", f.body.ptr, f.body.len, "body", 4);
}

static void bin4_field_overrun(void)
{
    /* Header area ends inside a field's id / length: H covers 1, 2 octets. */
    for (int cut = 1; cut <= 2; cut++) {
        b_start(&x, MBWS_ACK);
        b_int(&x, MBWS_F_SEQ, 1);
        x.b[3] = (uint8_t)cut;
        EXPECT_AT("BIN-4", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-4", 4, 0);
    }
    /* A field's length runs past the header end, though not past the frame. */
    b_start(&x, MBWS_MESSAGE);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_end(&x);
    x.b[3] = (uint8_t)(x.b[3] - 1); /* address value now ends 1 past H */
    b_body(&x, "hi", 2);
    EXPECT_AT("BIN-4", B(&x), BIN, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-4", 15, 0);
    /* An unknown field is still parsed for structure (FLD-3 skips only
     * value checks). */
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_field(&x, 0x77, "abc", 3);
    x.b[x.n - 4] = 4; /* length 4, only 3 octets left */
    b_end(&x);
    EXPECT_AT("BIN-4", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-4", 15, 0);
    /* ERR-4: a structure fault late in the header beats a field syntax
     * fault earlier in it. */
    b_start(&x, MBWS_ACK);
    b_field(&x, MBWS_F_SEQ, "\0\0\0", 3); /* BIN-5 */
    b_field(&x, 0x77, "", 0);
    b_end(&x);
    x.b[3] = (uint8_t)(x.b[3] - 1); /* ends inside the second field's length */
    EXPECT_RULE("ERR-4", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-4");
}

static void bin5_integers(void)
{
    static const uint8_t nine[9] = {0};
    mbws_frame f;
    size_t lens[] = {0, 1, 7, 9};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        b_start(&x, MBWS_ACK);
        b_field(&x, MBWS_F_SEQ, nine, lens[i]);
        b_end(&x);
        EXPECT_AT("BIN-5", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-5", 4, MBWS_F_SEQ);
    }
    /* 0 and 2^64-1 are both representable. */
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 0);
    b_end(&x);
    EXPECT_OK("BIN-5", B(&x), BIN, &CTX_ANY, &f);
    CHECK_EQ("BIN-5", f.num[MBWS_F_SEQ], 0);
    CHECK("BIN-5", mbws_frame_has(&f, MBWS_F_SEQ));
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, UINT64_MAX);
    b_end(&x);
    EXPECT_OK("BIN-5", B(&x), BIN, &CTX_ANY, &f);
    CHECK("BIN-5", f.num[MBWS_F_SEQ] == UINT64_MAX);
    /* Big-endian. */
    b_start(&x, MBWS_FLOW);
    b_int(&x, MBWS_F_LIMIT, 0x0102030405060708ull);
    b_end(&x);
    EXPECT_OK("BIN-5", B(&x), BIN, &CTX_ANY, &f);
    CHECK("BIN-5", f.num[MBWS_F_LIMIT] == 0x0102030405060708ull);
}

/* A MESSAGE whose content-type value is given; returns the value offset. */
static size_t message_with_ctype(const void *v, size_t len)
{
    b_start(&x, MBWS_MESSAGE);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    size_t at = x.n + 3;
    b_field(&x, MBWS_F_CONTENT_TYPE, v, len);
    b_end(&x);
    return at;
}

static void bin6_strings(void)
{
    mbws_frame f;
    static uint8_t big[65532];
    memset(big, 'a', sizeof(big));

    message_with_ctype("", 0);
    EXPECT_AT("BIN-6", B(&x), BIN, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6", 22, MBWS_F_CONTENT_TYPE);
    message_with_ctype("a", 1);
    EXPECT_OK("BIN-6", B(&x), BIN, &CTX_CLIENT, &f);
    CHECK_MEM("BIN-6", f.str[MBWS_F_CONTENT_TYPE].ptr, f.str[MBWS_F_CONTENT_TYPE].len, "a", 1);
    /* The longest string a binary header holds: 65532 octets. */
    b_start(&x, MBWS_ERROR);
    b_field(&x, MBWS_F_TEXT, big, sizeof(big));
    b_int(&x, MBWS_F_CODE, 1);
    x.n -= 11; /* drop code again: 65532 + 3 fills H = 65535 */
    b_end(&x);
    CHECK_EQ("BIN-6", x.n - 4, 65535);
    EXPECT_RULE("BIN-6", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "FLD-1"); /* text fine, code missing */

    static const struct {
        const char *v;
        size_t len, bad;
    } bad[] = {
        {"a\0b", 3, 1},         /* NUL */
        {"a\rb", 3, 1},         /* CR */
        {"ab\n", 3, 2},         /* LF */
        {"\xc0\xaf", 2, 0},     /* overlong '/' */
        {"a\xe0\x80\xaf", 4, 1}, /* overlong 3-octet */
        {"\xf0\x80\x80\xaf", 4, 0}, /* overlong 4-octet */
        {"\xed\xa0\x80", 3, 0}, /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"\x80", 1, 0},         /* lone continuation */
        {"ab\xe2\x82", 4, 2},   /* truncated sequence */
        {"\xff", 1, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t at = message_with_ctype(bad[i].v, bad[i].len);
        EXPECT_AT("BIN-6", B(&x), BIN, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6", at + bad[i].bad,
                  MBWS_F_CONTENT_TYPE);
    }
    /* Multi-octet UTF-8 and the extremes of the ranges are fine. */
    message_with_ctype("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\x7f", 14);
    EXPECT_OK("BIN-6", B(&x), BIN, &CTX_CLIENT, &f);
}

static void bin7_body(void)
{
    mbws_frame f;
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_end(&x);
    b_body(&x, "x", 1);
    EXPECT_AT("BIN-7", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-7", 15, 0);
    static const uint8_t disc[] = {0x08, 0x00, 0x00, 0x00, 0x00};
    EXPECT_AT("BIN-7", disc, 5, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-7", 4, 0);
    /* MESSAGE may carry any octets, empty or not, even invalid UTF-8. */
    b_start(&x, MBWS_MESSAGE);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_end(&x);
    EXPECT_OK("BIN-7", B(&x), BIN, &CTX_CLIENT, &f);
    CHECK_EQ("BIN-7", f.body.len, 0);
    b_body(&x, "\0\xff\r\n", 4);
    EXPECT_OK("BIN-7", B(&x), BIN, &CTX_CLIENT, &f);
    CHECK_MEM("BIN-7", f.body.ptr, f.body.len, "\0\xff\r\n", 4);
    /* ERR-4: body (3) before field syntax (4). */
    b_start(&x, MBWS_ACK);
    b_field(&x, MBWS_F_SEQ, "\1", 1);
    b_end(&x);
    b_body(&x, "x", 1);
    EXPECT_RULE("ERR-4", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-7");
}

static void fld4_unknown_type(void)
{
    static const uint8_t codes[] = {0x00, 0x0a, 0x10, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof(codes); i++) {
        b_start(&x, codes[i]);
        b_int(&x, MBWS_F_SEQ, 1);
        b_end(&x);
        EXPECT_AT("FLD-4", B(&x), BIN, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "FLD-4", 0, 0);
        EXPECT_RULE("FLD-4", B(&x), BIN, &CTX_BROKER, MBWS_E_UNKNOWN_TYPE, "FLD-4");
    }
    /* ERR-4: type (2) before body (3) and field syntax (4). */
    b_start(&x, 0x0a);
    b_field(&x, MBWS_F_SEQ, "\1", 1);
    b_end(&x);
    b_body(&x, "x", 1);
    EXPECT_RULE("ERR-4", B(&x), BIN, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "FLD-4");
    /* Each known code decodes as its type. */
    for (unsigned t = 1; t <= MBWS_TYPE_MAX; t++) {
        mbws_frame f;
        b_start(&x, (uint8_t)t);
        b_end(&x);
        mbws_error_info e;
        int rc = mbws_decode(B(&x), BIN, &CTX_ANY, &f, &e);
        CHECK("FLD-4", rc != MBWS_E_UNKNOWN_TYPE);
        CHECK_EQ("FLD-4", f.type, t);
    }
}

/* Two faults in step 4: the first in the frame is reported. */
static void err4_first_field_fault(void)
{
    b_start(&x, MBWS_MESSAGE);
    b_field(&x, MBWS_F_ADDRESS, "", 0); /* BIN-6 at 4 */
    b_field(&x, MBWS_F_SEQ, "\1", 1);   /* BIN-5 at 7 */
    b_end(&x);
    EXPECT_AT("ERR-4", B(&x), BIN, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6", 7, MBWS_F_ADDRESS);
    /* Duplicate (FLD-2) reported at the second occurrence. */
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_int(&x, MBWS_F_SEQ, 2);
    b_end(&x);
    EXPECT_AT("FLD-2", B(&x), BIN, &CTX_ANY, MBWS_E_MALFORMED, "FLD-2", 15, MBWS_F_SEQ);
}

int main(void)
{
    TEST_RUN(bin1_short_frames);
    TEST_RUN(bin2_reserved);
    TEST_RUN(bin3_header_length);
    TEST_RUN(bin3_header_65535);
    TEST_RUN(bin4_field_overrun);
    TEST_RUN(bin5_integers);
    TEST_RUN(bin6_strings);
    TEST_RUN(bin7_body);
    TEST_RUN(fld4_unknown_type);
    TEST_RUN(err4_first_field_fault);
    return TEST_DONE();
}
