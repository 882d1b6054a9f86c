/* The encoder and the mbws_wire_* API: octets exactly as described, bad
 * frames included, so conformance cases can send each rule's violation;
 * and every such frame decodes to the violation it was built for. */
#include "test_codec_util.h"

#define BIN MBWS_ENC_BINARY
#define TXT MBWS_ENC_TEXT

static uint8_t out[4096];

static void wire_defaults(void)
{
    mbws_wire_frame w;
    mbws_wire_init(&w, MBWS_ACK);
    CHECK_EQ("BIN-3", w.header_len, -1);
    CHECK_EQ("BIN-2", w.reserved, 0);
    CHECK("TXT-1", w.type_line == NULL);
    CHECK_EQ("BIN-4", w.nfields, 0);
    CHECK_EQ("BIN-4", mbws_wire_add(&w, MBWS_F_SEQ, NULL, "\0\0\0\0\0\0\0\5", 8), 0);
    CHECK_EQ("BIN-4", w.field[0].len_field, -1);
    static const uint8_t ack5[] = {4, 0, 0, 11, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5};
    size_t n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_MEM("BIN-5", out, n, ack5, sizeof(ack5));
    /* The table is bounded. */
    for (int i = 1; i < MBWS_WIRE_MAX_FIELDS; i++)
        CHECK_EQ("FLD-2", mbws_wire_add(&w, 0x20, NULL, "", 0), 0);
    CHECK_EQ("FLD-2", mbws_wire_add(&w, 0x20, NULL, "", 0), -1);
    CHECK_EQ("FLD-2", w.nfields, MBWS_WIRE_MAX_FIELDS);
}

/* Deliberate structural lies, each decoding to its rule. */
static void wire_binary_lies(void)
{
    mbws_wire_frame w;
    size_t n;
    /* BIN-2: reserved octet. */
    mbws_wire_init(&w, MBWS_DISCONNECT);
    w.reserved = 0x80;
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_MEM("BIN-2", out, n, "\x08\x80\x00\x00", 4);
    EXPECT_RULE("BIN-2", out, n, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-2");
    /* BIN-3: H larger than the rest. */
    mbws_wire_init(&w, MBWS_DISCONNECT);
    w.header_len = 300;
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_MEM("BIN-3", out, n, "\x08\x00\x01\x2c", 4);
    EXPECT_RULE("BIN-3", out, n, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-3");
    /* BIN-4: a field length that runs past the header; octets sent as given. */
    mbws_wire_init(&w, MBWS_ACK);
    mbws_wire_add(&w, MBWS_F_SEQ, NULL, "\0\0\0\0\0\0\0\1", 8);
    w.field[0].len_field = 9;
    w.body.ptr = (const uint8_t *)"zz";
    w.body.len = 2;
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_EQ("BIN-4", n, 4 + 11 + 2);
    CHECK_MEM("BIN-4", out + 4, 3, "\x02\x00\x09", 3);
    EXPECT_RULE("BIN-4", out, n, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-4");
    /* BIN-5: a 4-octet integer. */
    mbws_wire_init(&w, MBWS_ACK);
    mbws_wire_add(&w, MBWS_F_SEQ, NULL, "\0\0\0\1", 4);
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_MEM("BIN-5", out, n, "\x04\x00\x00\x07\x02\x00\x04\x00\x00\x00\x01", 11);
    EXPECT_RULE("BIN-5", out, n, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-5");
    /* FLD-4: an unknown type code. */
    mbws_wire_init(&w, 0xff);
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_MEM("FLD-4", out, n, "\xff\x00\x00\x00", 4);
    EXPECT_RULE("FLD-4", out, n, BIN, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "FLD-4");
    /* BIN-7: body on FLOW. */
    mbws_wire_init(&w, MBWS_FLOW);
    mbws_wire_add(&w, MBWS_F_LIMIT, NULL, "\0\0\0\0\0\0\0\1", 8);
    w.body.ptr = (const uint8_t *)"b";
    w.body.len = 1;
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    EXPECT_RULE("BIN-7", out, n, BIN, &CTX_ANY, MBWS_E_MALFORMED, "BIN-7");
}

static void wire_text_lies(void)
{
    mbws_wire_frame w;
    size_t n;
    /* Type line override, unknown and lower case. */
    mbws_wire_init(&w, MBWS_ACK);
    w.type_line = "PING";
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    CHECK_MEM("TXT-1", out, n, "PING\n\n", 6);
    EXPECT_RULE("TXT-1", out, n, TXT, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "TXT-1");
    w.type_line = "ack";
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    EXPECT_RULE("TXT-1", out, n, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    /* CR in a type line given by the caller. */
    w.type_line = "ACK\r";
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    EXPECT_RULE("TXT-2", out, n, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2");
    /* Name override: an ill-formed name, and a repeated field. */
    mbws_wire_init(&w, MBWS_ACK);
    mbws_wire_add(&w, MBWS_F_SEQ, "SEQ", "1", 1);
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    CHECK_MEM("TXT-3", out, n, "ACK\nSEQ:1\n\n", 11);
    EXPECT_RULE("TXT-3", out, n, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3");
    mbws_wire_init(&w, MBWS_ACK);
    mbws_wire_add(&w, MBWS_F_SEQ, NULL, "1", 1);
    mbws_wire_add(&w, MBWS_F_SEQ, NULL, "2", 1);
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    CHECK_MEM("FLD-2", out, n, "ACK\nseq:1\nseq:2\n\n", 17);
    EXPECT_RULE("FLD-2", out, n, TXT, &CTX_ANY, MBWS_E_MALFORMED, "FLD-2");
    /* Unknown id without a name: a well-formed name, ignored (FLD-3). */
    mbws_wire_init(&w, MBWS_ACK);
    mbws_wire_add(&w, 0x33, NULL, "v", 1);
    mbws_wire_add(&w, MBWS_F_SEQ, NULL, "3", 1);
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    mbws_frame f;
    EXPECT_OK("FLD-3", out, n, TXT, &CTX_ANY, &f);
    CHECK_EQ("FLD-3", f.num[MBWS_F_SEQ], 3);
    /* Binary-only fields (len_field, header_len, reserved) do not change text. */
    mbws_wire_init(&w, MBWS_ACK);
    mbws_wire_add(&w, MBWS_F_SEQ, NULL, "4", 1);
    w.field[0].len_field = 99;
    w.header_len = 5;
    w.reserved = 1;
    n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    CHECK_MEM("TXT-3", out, n, "ACK\nseq:4\n\n", 11);
}

/* Integers: 8 octets big-endian (BIN-5) or shortest decimal (TXT-5). */
static void encode_integers(void)
{
    mbws_frame f, g;
    uint64_t vals[] = {0, 1, 9, 10, 255, 1024, 4294967296ull, UINT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        mbws_frame_init(&f, MBWS_FLOW);
        mbws_frame_set_int(&f, MBWS_F_LIMIT, vals[i]);
        size_t n = mbws_encode(&f, TXT, out, sizeof(out));
        char want[64];
        int wl = snprintf(want, sizeof(want), "FLOW\nlimit:%" PRIu64 "\n\n", vals[i]);
        CHECK_MEM("TXT-5", out, n, want, (size_t)wl);
        EXPECT_OK("TXT-5", out, n, TXT, &CTX_ANY, &g);
        CHECK("TXT-5", g.num[MBWS_F_LIMIT] == vals[i]);
        n = mbws_encode(&f, BIN, out, sizeof(out));
        CHECK_EQ("BIN-5", n, 15);
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = (v << 8) | out[7 + k];
        CHECK("BIN-5", v == vals[i]);
        EXPECT_OK("BIN-5", out, n, BIN, &CTX_ANY, &g);
        CHECK("BIN-5", g.num[MBWS_F_LIMIT] == vals[i]);
    }
}

/* Values are not validated by the encoder: a bad frame encodes, and its
 * decode names the rule. */
static void encode_unvalidated(void)
{
    mbws_frame f;
    size_t n;
    mbws_frame_init(&f, MBWS_MESSAGE);
    mbws_frame_set_int(&f, MBWS_F_SEQ, 0);
    mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "q");
    n = mbws_encode(&f, BIN, out, sizeof(out));
    EXPECT_RULE("FLD-6", out, n, BIN, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-6");
    mbws_frame_init(&f, MBWS_ACK);
    f.body.ptr = (const uint8_t *)"x";
    f.body.len = 1;
    mbws_frame_set_int(&f, MBWS_F_SEQ, 1);
    n = mbws_encode(&f, TXT, out, sizeof(out));
    CHECK_MEM("TXT-7", out, n, "ACK\nseq:1\n\nx", 12);
    EXPECT_RULE("TXT-7", out, n, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-7");
}

/* Capacity: never writes past cap, always reports the full length. */
static void encode_capacity(void)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_MESSAGE);
    mbws_frame_set_int(&f, MBWS_F_SEQ, 1);
    mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "q");
    f.body.ptr = (const uint8_t *)"hi";
    f.body.len = 2;
    for (int enc = 0; enc < 2; enc++) {
        size_t full = mbws_encode(&f, (enum mbws_encoding)enc, NULL, 0);
        CHECK_EQ("BIN-3", full, enc == BIN ? 21 : 27);
        for (size_t cap = 0; cap <= full; cap++) {
            uint8_t buf[64];
            memset(buf, 0xAA, sizeof(buf));
            CHECK_EQ("BIN-3", mbws_encode(&f, (enum mbws_encoding)enc, buf, cap), full);
            int clean = 1;
            for (size_t k = cap; k < sizeof(buf); k++)
                clean &= buf[k] == 0xAA;
            CHECK("BIN-3", clean);
        }
    }
}

/* A header whose true length passes 65535 cannot be told in 2 octets: the
 * encoder sends it modulo 2^16 and the decoder sees a lie (BIN-3/4). */
static void encode_oversized_header(void)
{
    static uint8_t big[70000];
    static uint8_t val[65535];
    memset(val, 'a', sizeof(val));
    mbws_frame f;
    mbws_frame_init(&f, MBWS_ERROR);
    mbws_frame_set_int(&f, MBWS_F_CODE, 1);
    mbws_frame_set_str(&f, MBWS_F_TEXT, val, sizeof(val));
    size_t n = mbws_encode(&f, BIN, big, sizeof(big));
    CHECK_EQ("BIN-6", n, 4 + 11 + 3 + 65535);
    mbws_error_info e;
    CHECK_EQ("BIN-6", mbws_decode(big, n, BIN, &CTX_ANY, NULL, &e), MBWS_E_MALFORMED);
    /* The same string fits a text frame. */
    n = mbws_encode(&f, TXT, big, sizeof(big));
    EXPECT_OK("TXT-6", big, n, TXT, &CTX_ANY, &f);
    CHECK_EQ("TXT-6", f.str[MBWS_F_TEXT].len, 65535);
}

/* wire_from_frame: fields in ascending id order with their table names. */
static void wire_from_frame_order(void)
{
    mbws_frame f;
    mbws_wire_frame w;
    mbws_wire_scratch s;
    mbws_frame_init(&f, MBWS_CONNECTED);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, 1);
    mbws_frame_set_cstr(&f, MBWS_F_NAME, "peer");
    mbws_frame_set_int(&f, MBWS_F_VERSION, 1);
    mbws_wire_from_frame(&f, TXT, &w, &s);
    CHECK_EQ("FLD-3", w.nfields, 3);
    CHECK_EQ("FLD-3", w.field[0].id, MBWS_F_VERSION);
    CHECK_EQ("FLD-3", w.field[1].id, MBWS_F_RESUMED);
    CHECK_EQ("FLD-3", w.field[2].id, MBWS_F_NAME);
    size_t n = mbws_wire_encode(&w, TXT, out, sizeof(out));
    CHECK_MEM("TXT-3", out, n, "CONNECTED\nversion:1\nresumed:1\nname:peer\n\n", 41);
    /* Tweak one thing and send it: e.g. drop the reserved-0 rule. */
    mbws_wire_from_frame(&f, BIN, &w, &s);
    w.reserved = 2;
    n = mbws_wire_encode(&w, BIN, out, sizeof(out));
    CHECK_EQ("BIN-2", out[1], 2);
    CHECK_EQ("BIN-2", n, 4 + 11 + 11 + 3 + 4);
}

int main(void)
{
    TEST_RUN(wire_defaults);
    TEST_RUN(wire_binary_lies);
    TEST_RUN(wire_text_lies);
    TEST_RUN(encode_integers);
    TEST_RUN(encode_unvalidated);
    TEST_RUN(encode_capacity);
    TEST_RUN(encode_oversized_header);
    TEST_RUN(wire_from_frame_order);
    return TEST_DONE();
}
