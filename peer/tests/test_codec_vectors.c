/* Profile appendix A: every test vector decodes to the frame it names and
 * re-encodes byte for byte; frames built in memory encode to the vectors. */
#include "mbws_frame.h"
#include "mbws_test.h"

static const mbws_decode_ctx from_client = {.sender = MBWS_ROLE_CLIENT, .subprotocol = MBWS_SP_MBWS};
static const mbws_decode_ctx from_any = {.sender = MBWS_ROLE_ANY, .subprotocol = MBWS_SP_MBWS};

static const uint8_t v_connect[] = {
    0x01, 0x00, 0x00, 0x21, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x08, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
static const uint8_t v_message[] = {0x03, 0x00, 0x00, 0x0f, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x01, 0x71, 0x68, 0x69};
static const uint8_t v_ack[] = {0x04, 0x00, 0x00, 0x0b, 0x02, 0x00, 0x08, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t v_flow[] = {0x05, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x08, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20};
static const uint8_t v_error[] = {0x09, 0x00, 0x00, 0x14, 0x0d, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x07, 0x0e, 0x00, 0x06, 0x63, 0x72, 0x65, 0x64, 0x69, 0x74};
static const char t_connect[] = "CONNECT\nversion:1\ncredit:16\nmax-frame:65536\n\n";
static const char t_message[] = "MESSAGE\nseq:1\naddress:q\n\nhi";

/* Decodes, checks it decoded, re-encodes and compares octet for octet. */
static void roundtrip(const char *req, const uint8_t *v, size_t n, enum mbws_encoding enc,
                      const mbws_decode_ctx *ctx, mbws_frame *f)
{
    mbws_error_info e;
    uint8_t out[256];
    CHECK_EQ(req, mbws_decode(v, n, enc, ctx, f, &e), 0);
    if (e.code)
        fprintf(stderr, "  %s\n", e.message);
    size_t m = mbws_encode(f, enc, out, sizeof(out));
    CHECK_MEM(req, out, m, v, n);
    /* A short buffer reports the same length (nothing usable written). */
    CHECK_EQ(req, mbws_encode(f, enc, out, 3), n);
}

static void binary_vectors(void)
{
    mbws_frame f;
    roundtrip("BIN-5", v_connect, sizeof(v_connect), MBWS_ENC_BINARY, &from_client, &f);
    CHECK_EQ("BIN-5", f.type, MBWS_CONNECT);
    CHECK_EQ("BIN-5", f.num[MBWS_F_VERSION], 1);
    CHECK_EQ("BIN-5", f.num[MBWS_F_CREDIT], 16);
    CHECK_EQ("BIN-5", f.num[MBWS_F_MAX_FRAME], 65536);
    CHECK_EQ("FLD-3", f.present,
             (1u << MBWS_F_VERSION) | (1u << MBWS_F_CREDIT) | (1u << MBWS_F_MAX_FRAME));

    roundtrip("BIN-6", v_message, sizeof(v_message), MBWS_ENC_BINARY, &from_client, &f);
    CHECK_EQ("BIN-6", f.type, MBWS_MESSAGE);
    CHECK_EQ("BIN-5", f.num[MBWS_F_SEQ], 1);
    CHECK_MEM("BIN-6", f.str[MBWS_F_ADDRESS].ptr, f.str[MBWS_F_ADDRESS].len, "q", 1);
    CHECK_MEM("BIN-7", f.body.ptr, f.body.len, "hi", 2);

    roundtrip("BIN-5", v_ack, sizeof(v_ack), MBWS_ENC_BINARY, &from_any, &f);
    CHECK_EQ("BIN-5", f.type, MBWS_ACK);
    CHECK_EQ("BIN-5", f.num[MBWS_F_SEQ], 1);

    roundtrip("BIN-5", v_flow, sizeof(v_flow), MBWS_ENC_BINARY, &from_any, &f);
    CHECK_EQ("BIN-5", f.type, MBWS_FLOW);
    CHECK_EQ("BIN-5", f.num[MBWS_F_LIMIT], 32);

    roundtrip("BIN-6", v_error, sizeof(v_error), MBWS_ENC_BINARY, &from_any, &f);
    CHECK_EQ("BIN-5", f.type, MBWS_ERROR);
    CHECK_EQ("BIN-5", f.num[MBWS_F_CODE], 7);
    CHECK_MEM("BIN-6", f.str[MBWS_F_TEXT].ptr, f.str[MBWS_F_TEXT].len, "credit", 6);
}

static void text_vectors(void)
{
    mbws_frame f;
    roundtrip("TXT-5", (const uint8_t *)t_connect, sizeof(t_connect) - 1, MBWS_ENC_TEXT, &from_client,
              &f);
    CHECK_EQ("TXT-1", f.type, MBWS_CONNECT);
    CHECK_EQ("TXT-5", f.num[MBWS_F_VERSION], 1);
    CHECK_EQ("TXT-5", f.num[MBWS_F_CREDIT], 16);
    CHECK_EQ("TXT-5", f.num[MBWS_F_MAX_FRAME], 65536);

    roundtrip("TXT-6", (const uint8_t *)t_message, sizeof(t_message) - 1, MBWS_ENC_TEXT,
              &from_client, &f);
    CHECK_EQ("TXT-1", f.type, MBWS_MESSAGE);
    CHECK_EQ("TXT-5", f.num[MBWS_F_SEQ], 1);
    CHECK_MEM("TXT-6", f.str[MBWS_F_ADDRESS].ptr, f.str[MBWS_F_ADDRESS].len, "q", 1);
    CHECK_MEM("TXT-7", f.body.ptr, f.body.len, "hi", 2);
}

/* Frames built with the setters encode to the vectors in both encodings. */
static void built_frames_encode_to_vectors(void)
{
    uint8_t out[256];
    mbws_frame f;
    mbws_frame_init(&f, MBWS_CONNECT);
    mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, 65536); /* set out of order on purpose */
    mbws_frame_set_int(&f, MBWS_F_VERSION, 1);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, 16);
    size_t n = mbws_encode(&f, MBWS_ENC_BINARY, out, sizeof(out));
    CHECK_MEM("BIN-5", out, n, v_connect, sizeof(v_connect));
    n = mbws_encode(&f, MBWS_ENC_TEXT, out, sizeof(out));
    CHECK_MEM("TXT-5", out, n, t_connect, sizeof(t_connect) - 1);

    mbws_frame_init(&f, MBWS_MESSAGE);
    mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "q");
    mbws_frame_set_int(&f, MBWS_F_SEQ, 1);
    f.body.ptr = (const uint8_t *)"hi";
    f.body.len = 2;
    n = mbws_encode(&f, MBWS_ENC_BINARY, out, sizeof(out));
    CHECK_MEM("BIN-6", out, n, v_message, sizeof(v_message));
    n = mbws_encode(&f, MBWS_ENC_TEXT, out, sizeof(out));
    CHECK_MEM("TXT-6", out, n, t_message, sizeof(t_message) - 1);

    mbws_frame_init(&f, MBWS_ERROR);
    mbws_frame_set_int(&f, MBWS_F_CODE, 7);
    mbws_frame_set_cstr(&f, MBWS_F_TEXT, "credit");
    n = mbws_encode(&f, MBWS_ENC_BINARY, out, sizeof(out));
    CHECK_MEM("BIN-6", out, n, v_error, sizeof(v_error));
}

/* The log line format other parts rely on (engine wire log). */
static void format_line(void)
{
    mbws_frame f;
    char line[128];
    CHECK_EQ("BIN-6", mbws_decode(v_message, sizeof(v_message), MBWS_ENC_BINARY, NULL, &f, NULL), 0);
    size_t n = mbws_frame_format(&f, line, sizeof(line));
    CHECK("BIN-6", strcmp(line, "MESSAGE seq=1 address=\"q\" body=2 octets \"hi\"") == 0);
    CHECK_EQ("BIN-6", n, strlen(line));
    /* Truncation keeps the NUL and reports the wanted length. */
    char small[8];
    CHECK_EQ("BIN-6", mbws_frame_format(&f, small, sizeof(small)), n);
    CHECK("BIN-6", strcmp(small, "MESSAGE") == 0);
    CHECK_EQ("BIN-5", mbws_decode(v_connect, sizeof(v_connect), MBWS_ENC_BINARY, NULL, &f, NULL), 0);
    mbws_frame_format(&f, line, sizeof(line));
    CHECK("BIN-5", strcmp(line, "CONNECT version=1 credit=16 max-frame=65536") == 0);
}

int main(void)
{
    TEST_RUN(binary_vectors);
    TEST_RUN(text_vectors);
    TEST_RUN(built_frames_encode_to_vectors);
    TEST_RUN(format_line);
    return TEST_DONE();
}
