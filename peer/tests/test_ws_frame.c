/* The engine's RFC 6455 framer and handshake helpers (peer/wire/ws_frame.c, ws_handshake.c).
 * Checks cite RFC 6455 sections, or WS-4 where fragmentation is concerned. */
#include "mbws_test.h"
#include "ws_frame.h"
#include "ws_handshake.h"

static void test_accept_key(void)
{
    char out[29];
    /* RFC 6455 section 1.3 example */
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    CHECK("RFC6455-1.3", strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

static void test_sha1_vectors(void)
{
    uint8_t d[20];
    char hex[41];
    ws_sha1("abc", 3, d);
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK("FIPS180-4", strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);
    /* 56 octets: the padding spills into a second block. */
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ws_sha1(m, strlen(m), d);
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK("FIPS180-4", strcmp(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1") == 0);
}

static void test_base64(void)
{
    char out[16];
    CHECK_EQ("RFC4648", ws_base64((const uint8_t *)"f", 1, out), 4);
    CHECK("RFC4648", strcmp(out, "Zg==") == 0);
    ws_base64((const uint8_t *)"foob", 4, out);
    CHECK("RFC4648", strcmp(out, "Zm9vYg==") == 0);
    ws_base64((const uint8_t *)"foobar", 6, out);
    CHECK("RFC4648", strcmp(out, "Zm9vYmFy") == 0);
}

static void test_header_roundtrip(void)
{
    static const uint64_t lens[] = {0, 125, 126, 65535, 65536, 1000000000ull};
    const uint8_t mask[4] = {1, 2, 3, 4};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (int m = 0; m < 2; m++) {
            uint8_t buf[WS_HEADER_MAX];
            size_t n = ws_header_encode(buf, 0, 0, WS_OP_BINARY, lens[i], m ? mask : NULL);
            ws_header h;
            CHECK("RFC6455-5.2", ws_header_parse(buf, n - 1, &h) == 0);
            CHECK_EQ("RFC6455-5.2", ws_header_parse(buf, n, &h), 1);
            CHECK_EQ("RFC6455-5.2", h.len, lens[i]);
            CHECK_EQ("RFC6455-5.2", h.hdr_len, n);
            CHECK_EQ("WS-4", h.fin, 0);
            CHECK_EQ("RFC6455-5.2", h.opcode, WS_OP_BINARY);
            CHECK_EQ("RFC6455-5.3", h.masked, m);
            if (m)
                CHECK_MEM("RFC6455-5.3", h.mask, 4, mask, 4);
        }
    }
    uint8_t buf[WS_HEADER_MAX];
    size_t n = ws_header_encode(buf, 1, 5, WS_OP_PING, 3, NULL);
    CHECK_EQ("RFC6455-5.2", n, 2);
    CHECK_EQ("RFC6455-5.2", buf[0], 0x80 | 0x50 | 0x09);
    /* 64-bit length with the top bit set is invalid. */
    const uint8_t bad[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    ws_header h;
    CHECK_EQ("RFC6455-5.2", ws_header_parse(bad, sizeof bad, &h), -1);
}

static void test_mask(void)
{
    uint8_t p[6] = {'a', 'b', 'c', 'd', 'e', 'f'};
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    /* Masking in two pieces with offsets equals masking at once. */
    ws_mask(p, 3, mask, 0);
    ws_mask(p + 3, 3, mask, 3);
    CHECK_EQ("RFC6455-5.3", p[4], 'e' ^ 0x37);
    ws_mask(p, 6, mask, 0);
    CHECK_MEM("RFC6455-5.3", p, 6, "abcdef", 6);
}

static void test_http(void)
{
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "sec-websocket-protocol:  MBWS.huawei.com \r\n"
                       "Sec-WebSocket-Protocol: X\r\n"
                       "\r\n"
                       "extra";
    size_t end = ws_http_head_end((const uint8_t *)resp, strlen(resp));
    CHECK_EQ("RFC7230", end, strlen(resp) - 5);
    CHECK_EQ("RFC7230", ws_http_head_end((const uint8_t *)resp, 20), 0);
    CHECK_EQ("RFC7230", ws_http_status(resp, end), 101);
    char v[64];
    CHECK_EQ("RFC7230", ws_http_header(resp, end, "Sec-WebSocket-Protocol", v, sizeof v), 18);
    CHECK("RFC7230", strcmp(v, "MBWS.huawei.com, X") == 0);
    CHECK_EQ("RFC7230", ws_http_header(resp, end, "Missing", v, sizeof v), -1);
    CHECK("RFC7230", v[0] == 0);
    CHECK_EQ("RFC7230", ws_http_header(resp, end, "Upgrade", v, 4), 9);
    CHECK("RFC7230", strcmp(v, "web") == 0);
    CHECK_EQ("RFC7230", ws_http_status("HTTP/1.1 4x0 Bad", 16), -1);
}

static void test_opcodes(void)
{
    CHECK_EQ("RFC6455-5.2", ws_opcode_by_name("ping"), WS_OP_PING);
    CHECK("RFC6455-5.2", strcmp(ws_opcode_name(3), "0x3") == 0);
    CHECK("RFC6455-5.5", ws_opcode_is_control(WS_OP_PONG) && !ws_opcode_is_control(WS_OP_TEXT));
}

int main(void)
{
    TEST_RUN(test_accept_key);
    TEST_RUN(test_sha1_vectors);
    TEST_RUN(test_base64);
    TEST_RUN(test_header_roundtrip);
    TEST_RUN(test_mask);
    TEST_RUN(test_http);
    TEST_RUN(test_opcodes);
    return TEST_DONE();
}
