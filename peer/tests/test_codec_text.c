/* Text encoding (profile section 4): WS-6, TXT-1..7, and the ERR-4 order
 * between the WebSocket layer, structure, type, body and field syntax. */
#include "test_codec_util.h"

#define TXT MBWS_ENC_TEXT

static void ws6_invalid_utf8(void)
{
    /* Anywhere in the frame, header or body, and before any other rule. */
    EXPECT_AT("WS-6", T("ACK\nseq:1\xff\n\n"), TXT, &CTX_ANY, MBWS_E_WS_INVALID_UTF8, "WS-6", 9, 0);
    EXPECT_AT("WS-6", T("MESSAGE\nseq:1\naddress:q\n\nhi\xc0\xaf"), TXT, &CTX_ANY,
              MBWS_E_WS_INVALID_UTF8, "WS-6", 27, 0);
    EXPECT_RULE("WS-6", T("MESSAGE\nseq:1\naddress:q\n\n\xed\xa0\x80"), TXT, &CTX_ANY,
                MBWS_E_WS_INVALID_UTF8, "WS-6");
    EXPECT_RULE("ERR-4", T("fo\xfe\r"), TXT, &CTX_ANY, MBWS_E_WS_INVALID_UTF8, "WS-6");
    /* Valid multi-octet UTF-8 in a body is fine. */
    mbws_frame f;
    EXPECT_OK("WS-6", T("MESSAGE\nseq:1\naddress:q\n\n\xc3\xa9\xf0\x9f\x98\x80"), TXT, &CTX_ANY, &f);
    CHECK_EQ("WS-6", f.body.len, 6);
}

static void txt1_type_line(void)
{
    mbws_frame f;
    EXPECT_OK("TXT-1", T("DISCONNECT\n\n"), TXT, &CTX_CLIENT, &f);
    CHECK_EQ("TXT-1", f.type, MBWS_DISCONNECT);
    EXPECT_AT("TXT-1", T("FOO\n\n"), TXT, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "TXT-1", 0, 0);
    EXPECT_RULE("TXT-1", T("CONNECTX\n\n"), TXT, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "TXT-1");
    EXPECT_RULE("TXT-1", T("foo\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    EXPECT_RULE("TXT-1", T("\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    EXPECT_RULE("TXT-1", T("Connect\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    EXPECT_RULE("TXT-1", T("ACK \n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    EXPECT_RULE("TXT-1", T(" ACK\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    EXPECT_RULE("TXT-1", T("ACK1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    EXPECT_RULE("TXT-1", T("\xc3\x89\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    /* The type name must be the whole line: a NUL makes it something else. */
    EXPECT_RULE("TXT-1", "ACK\0\n\n", 6, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-1");
    /* ERR-4: type (2) before body (3) and field syntax (4). */
    EXPECT_RULE("ERR-4", T("FOO\nseq:x\n\nbody"), TXT, &CTX_ANY, MBWS_E_UNKNOWN_TYPE, "TXT-1");
    /* ERR-4: structure (1) before type (2). */
    EXPECT_RULE("ERR-4", T("FOO\nnocolon\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3");
    EXPECT_RULE("ERR-4", T("FOO\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
}

static void txt2_cr(void)
{
    mbws_frame f;
    EXPECT_AT("TXT-2", T("ACK\r\nseq:1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2", 3, 0);
    EXPECT_AT("TXT-2", T("ACK\nseq:1\r\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2", 9, 0);
    EXPECT_AT("TXT-2", T("ACK\nseq:1\n\r\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2", 10, 0);
    EXPECT_RULE("TXT-2", T("ACK\r\n\r\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2");
    /* In an unknown header's value and in a name: still the header. */
    EXPECT_RULE("TXT-2", T("ACK\nseq:1\nx-y:a\rb\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2");
    EXPECT_RULE("TXT-2", T("MESSAGE\nseq:1\naddress:q\r\n\nhi"), TXT, &CTX_ANY, MBWS_E_MALFORMED,
                "TXT-2");
    /* A CR in a MESSAGE body is not in the header. */
    EXPECT_OK("TXT-2", T("MESSAGE\nseq:1\naddress:q\n\nhi\r\n"), TXT, &CTX_ANY, &f);
    CHECK_MEM("TXT-2", f.body.ptr, f.body.len, "hi\r\n", 4);
    /* ERR-4: structure (1) before type (2), body (3) and fields (4). */
    EXPECT_RULE("ERR-4", T("FOO\r\n\nbody"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2");
    EXPECT_RULE("ERR-4", T("ACK\nseq:01\nx:\r\n\nbody"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-2");
}

static void txt3_line_syntax(void)
{
    mbws_frame f;
    EXPECT_AT("TXT-3", T("ACK\nseq\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3", 4, 0);
    EXPECT_AT("TXT-3", T("ACK\n:1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3", 4, 0);
    EXPECT_AT("TXT-3", T("ACK\nSeq:1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3", 4, 0);
    EXPECT_AT("TXT-3", T("ACK\nseq:1\nx1:2\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3", 11, 0);
    EXPECT_RULE("TXT-3", T("ACK\nseq :1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3");
    EXPECT_RULE("TXT-3", T("ACK\n seq:1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3");
    EXPECT_RULE("TXT-3", T("ACK\nseq_no:1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3");
    /* Unknown names must still have the line syntax (FLD-3 does not waive it). */
    EXPECT_RULE("TXT-3", T("ACK\nseq:1\nX-Custom:1\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-3");
    /* The value is everything after the first ':', taken as is. */
    EXPECT_OK("TXT-3", T("MESSAGE\nseq:1\naddress:a:b: c \n\n"), TXT, &CTX_CLIENT, &f);
    CHECK_MEM("TXT-3", f.str[MBWS_F_ADDRESS].ptr, f.str[MBWS_F_ADDRESS].len, "a:b: c ", 7);
    /* Well-formed names of '-' only, or unknown, are ignored. */
    EXPECT_OK("TXT-3", T("ACK\n-:x\nx-foo:\nseq:1\n\n"), TXT, &CTX_ANY, &f);
    CHECK_EQ("TXT-3", f.num[MBWS_F_SEQ], 1);
}

static void txt4_blank_line(void)
{
    EXPECT_AT("TXT-4", T("ACK\nseq:1\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4", 10, 0);
    EXPECT_RULE("TXT-4", T("ACK\nseq:1"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
    EXPECT_RULE("TXT-4", T("ACK\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
    EXPECT_RULE("TXT-4", T("ACK"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
    EXPECT_RULE("TXT-4", T("DISCONNECT"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
    EXPECT_RULE("TXT-4", "", 0, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
    EXPECT_RULE("TXT-4", T("\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-4");
    /* The header ends at the first empty line: what follows is body. */
    mbws_frame f;
    EXPECT_OK("TXT-4", T("MESSAGE\nseq:1\naddress:q\n\nseq:2\n\n"), TXT, &CTX_CLIENT, &f);
    CHECK_EQ("TXT-4", f.num[MBWS_F_SEQ], 1);
    CHECK_MEM("TXT-4", f.body.ptr, f.body.len, "seq:2\n\n", 7);
}

static void txt5_integers(void)
{
    mbws_frame f;
    EXPECT_OK("TXT-5", T("ACK\nseq:0\n\n"), TXT, &CTX_ANY, &f);
    CHECK_EQ("TXT-5", f.num[MBWS_F_SEQ], 0);
    CHECK("TXT-5", mbws_frame_has(&f, MBWS_F_SEQ));
    EXPECT_OK("TXT-5", T("ACK\nseq:18446744073709551615\n\n"), TXT, &CTX_ANY, &f);
    CHECK("TXT-5", f.num[MBWS_F_SEQ] == UINT64_MAX);
    EXPECT_OK("TXT-5", T("ACK\nseq:1234567890\n\n"), TXT, &CTX_ANY, &f);
    CHECK_EQ("TXT-5", f.num[MBWS_F_SEQ], 1234567890);

    static const char *bad[] = {
        "ACK\nseq:18446744073709551616\n\n", /* 2^64 */
        "ACK\nseq:18446744073709551620\n\n",
        "ACK\nseq:99999999999999999999\n\n",
        "ACK\nseq:100000000000000000000\n\n",
        "ACK\nseq:01\n\n",
        "ACK\nseq:00\n\n",
        "ACK\nseq:+1\n\n",
        "ACK\nseq:-1\n\n",
        "ACK\nseq: 1\n\n",
        "ACK\nseq:1 \n\n",
        "ACK\nseq:\t1\n\n",
        "ACK\nseq:\n\n",
        "ACK\nseq:0x1\n\n",
        "ACK\nseq:1e3\n\n",
        "ACK\nseq:\xd9\xa1\n\n", /* ARABIC-INDIC DIGIT ONE */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_RULE("TXT-5", T(bad[i]), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-5");
    EXPECT_AT("TXT-5", T("ACK\nseq:12a\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-5", 10,
              MBWS_F_SEQ);
    EXPECT_AT("TXT-5", "ACK\nseq:1\0\n\n", 12, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-5", 9,
              MBWS_F_SEQ);
}

static void txt6_strings(void)
{
    mbws_frame f;
    static char big[65600];
    const char *pre = "MESSAGE\nseq:1\naddress:q\ncontent-type:";
    size_t plen = strlen(pre);

    /* 1 octet and 65535 octets are fine; 0 and 65536 are not. */
    EXPECT_OK("TXT-6", T("MESSAGE\nseq:1\naddress:q\ncontent-type:x\n\n"), TXT, &CTX_CLIENT, &f);
    CHECK_MEM("TXT-6", f.str[MBWS_F_CONTENT_TYPE].ptr, f.str[MBWS_F_CONTENT_TYPE].len, "x", 1);
    EXPECT_AT("TXT-6", T("MESSAGE\nseq:1\naddress:q\ncontent-type:\n\n"), TXT, &CTX_CLIENT,
              MBWS_E_MALFORMED, "TXT-6", plen, MBWS_F_CONTENT_TYPE);
    for (size_t n = 65535; n <= 65536; n++) {
        memcpy(big, pre, plen);
        memset(big + plen, 'a', n);
        memcpy(big + plen + n, "\n\n", 3);
        if (n == 65535) {
            EXPECT_OK("TXT-6", big, plen + n + 2, TXT, &CTX_CLIENT, &f);
            CHECK_EQ("TXT-6", f.str[MBWS_F_CONTENT_TYPE].len, 65535);
        } else {
            EXPECT_RULE("TXT-6", big, plen + n + 2, TXT, &CTX_CLIENT, MBWS_E_MALFORMED, "TXT-6");
        }
    }
    /* NUL anywhere in a listed string value. */
    EXPECT_AT("TXT-6", "ERROR\ncode:1\ntext:a\0b\n\n", 23, TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-6",
              19, MBWS_F_TEXT);
    EXPECT_RULE("TXT-6", "MESSAGE\nseq:1\naddress:\0\n\n", 25, TXT, &CTX_ANY, MBWS_E_MALFORMED,
                "TXT-6");
    /* Non-ASCII UTF-8 values are fine. */
    EXPECT_OK("TXT-6", T("ERROR\ncode:1\ntext:caf\xc3\xa9\n\n"), TXT, &CTX_ANY, &f);
    CHECK_EQ("TXT-6", f.str[MBWS_F_TEXT].len, 5);
}

static void txt7_body(void)
{
    mbws_frame f;
    EXPECT_AT("TXT-7", T("ACK\nseq:1\n\nx"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-7", 11, 0);
    EXPECT_RULE("TXT-7", T("DISCONNECT\n\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-7");
    EXPECT_RULE("TXT-7", T("CONNECT\nversion:1\ncredit:1\nmax-frame:1024\n\n "), TXT, &CTX_CLIENT,
                MBWS_E_MALFORMED, "TXT-7");
    /* MESSAGE: empty or not. */
    EXPECT_OK("TXT-7", T("MESSAGE\nseq:1\naddress:q\n\n"), TXT, &CTX_CLIENT, &f);
    CHECK_EQ("TXT-7", f.body.len, 0);
    EXPECT_OK("TXT-7", T("MESSAGE\nseq:1\naddress:q\n\n\n"), TXT, &CTX_CLIENT, &f);
    CHECK_MEM("TXT-7", f.body.ptr, f.body.len, "\n", 1);
    EXPECT_OK("TXT-7", "MESSAGE\nseq:1\naddress:q\n\na\0b", 28, TXT, &CTX_CLIENT, &f);
    CHECK_MEM("TXT-7", f.body.ptr, f.body.len, "a\0b", 3);
    /* ERR-4: body (3) before field syntax (4). */
    EXPECT_RULE("ERR-4", T("ACK\nseq:x\n\nbody"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "TXT-7");
}

/* FLD-3 in text: unlisted known names and unknown names are not validated. */
static void fld3_text_ignored(void)
{
    mbws_frame f;
    EXPECT_OK("FLD-3", T("ACK\nseq:5\naddress:\ncode:x\ncode:y\nfoo:\n\n"), TXT, &CTX_ANY, &f);
    CHECK_EQ("FLD-3", f.present, 1u << MBWS_F_SEQ);
    EXPECT_OK("FLD-3", "ACK\nseq:5\nbar:\0\n\n", 17, TXT, &CTX_ANY, &f);
    /* ... but a listed one is, also when repeated (FLD-2). */
    EXPECT_AT("FLD-2", T("ACK\nseq:5\nseq:5\n\n"), TXT, &CTX_ANY, MBWS_E_MALFORMED, "FLD-2", 10,
              MBWS_F_SEQ);
}

int main(void)
{
    TEST_RUN(ws6_invalid_utf8);
    TEST_RUN(txt1_type_line);
    TEST_RUN(txt2_cr);
    TEST_RUN(txt3_line_syntax);
    TEST_RUN(txt4_blank_line);
    TEST_RUN(txt5_integers);
    TEST_RUN(txt6_strings);
    TEST_RUN(txt7_body);
    TEST_RUN(fld3_text_ignored);
    return TEST_DONE();
}
