/* The fault table (docs/faults.md) and the wire-layer faults: every entry is
 * well formed and found by its name, and each codec or session-core fault
 * really changes the peer's verdict on the frame its requirement is about
 * (and only while it is switched on). */
#include <ctype.h>

#include "mbws_fault.h"
#include "mbws_frame.h"
#include "test_session_pair.h"

/* "PREFIX-N": upper-case letters, '-', digits. */
static int requirement_shaped(const char *r)
{
    size_t i = 0;
    while (r[i] >= 'A' && r[i] <= 'Z')
        i++;
    if (i == 0 || r[i++] != '-' || !isdigit((unsigned char)r[i]))
        return 0;
    while (isdigit((unsigned char)r[i]))
        i++;
    return r[i] == '\0';
}

static int name_shaped(const char *n)
{
    if (!n || !*n || *n == '-')
        return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '-'))
            return 0;
    return 1;
}

static void test_table(void)
{
    CHECK_EQ("faults", mbws_fault_by_name("no-such-fault"), MBWS_FAULT_NONE);
    CHECK("faults", MBWS_FAULT_COUNT > 1);
    for (int i = 1; i < MBWS_FAULT_COUNT; i++) {
        const struct mbws_fault_info *f = &mbws_fault_table[i];
        const char *req = f->requirement ? f->requirement : "?";
        CHECK(req, name_shaped(f->name));
        CHECK(req, f->roles != 0 && (f->roles & ~MBWS_FAULT_BOTH) == 0);
        CHECK(req, requirement_shaped(req));
        CHECK(req, f->what && f->what[0]);
        CHECK_EQ(req, mbws_fault_by_name(f->name), i);
        int dup = 0;
        for (int j = 1; j < i; j++)
            dup |= !strcmp(f->name, mbws_fault_table[j].name);
        CHECK(req, !dup);
    }
}

/* ------------------------------------------------------------ codec faults */

struct codec_case {
    enum mbws_fault_id fault;
    enum mbws_encoding enc;
    enum mbws_role sender;
    const char *data; /* NULL: built by the test */
    size_t len;
    int want_off, want_on; /* mbws_decode() result without / with the fault */
};

#define B(s) s, sizeof(s) - 1
#define INT8(v) "\x00\x00\x00\x00\x00\x00\x00" v

static const struct codec_case codec_cases[] = {
    /* WS-6: invalid UTF-8 in a text frame */
    {MBWS_FAULT_WS_UTF8_AS_MALFORMED, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("ACK\nseq:1\n\n\xff"),
     MBWS_E_WS_INVALID_UTF8, MBWS_E_MALFORMED},
    /* BIN-2: reserved octet 1 */
    {MBWS_FAULT_BIN_RESERVED_IGNORED, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x04\x01\x00\x0b\x02\x00\x08" INT8("\x01")), MBWS_E_MALFORMED, MBWS_OK},
    /* BIN-5: a 1-octet integer */
    {MBWS_FAULT_BIN_INT_ANY_LENGTH, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x04\x00\x00\x04\x02\x00\x01\x05"), MBWS_E_MALFORMED, MBWS_OK},
    /* BIN-6: NUL in content-type */
    {MBWS_FAULT_BIN_STRING_NUL, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x03\x00\x00\x15\x02\x00\x08" INT8("\x01") "\x03\x00\x01q\x05\x00\x03" "a\x00" "b"),
     MBWS_E_MALFORMED, MBWS_OK},
    /* BIN-7: a body on ACK */
    {MBWS_FAULT_BIN_BODY_ANY, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x04\x00\x00\x0b\x02\x00\x08" INT8("\x01") "x"), MBWS_E_MALFORMED, MBWS_OK},
    /* TXT-2: CR LF line ends */
    {MBWS_FAULT_TXT_CR_ALLOWED, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("ACK\r\nseq:1\r\n\r\n"),
     MBWS_E_MALFORMED, MBWS_OK},
    /* TXT-5: leading zero */
    {MBWS_FAULT_TXT_LEADING_ZEROS, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("ACK\nseq:01\n\n"),
     MBWS_E_MALFORMED, MBWS_OK},
    /* TXT-1: an empty type line is malformed, not an unknown type */
    {MBWS_FAULT_TXT_EMPTY_TYPE_UNKNOWN, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("\nseq:1\n\n"),
     MBWS_E_MALFORMED, MBWS_E_UNKNOWN_TYPE},
    /* BIN-6: an empty content-type */
    {MBWS_FAULT_STRING_EMPTY_ALLOWED, MBWS_ENC_BINARY, MBWS_ROLE_BROKER,
     B("\x03\x00\x00\x1d\x02\x00\x08" INT8("\x01") "\x03\x00\x01q\x04\x00\x08" INT8("\x01")
       "\x05\x00\x00"),
     MBWS_E_MALFORMED, MBWS_OK},
    /* TXT-1: unknown upper-case type */
    {MBWS_FAULT_TXT_UNKNOWN_TYPE_MALFORMED, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("FOO\n\n"),
     MBWS_E_UNKNOWN_TYPE, MBWS_E_MALFORMED},
    /* TXT-1: upper-case letters outside ASCII A-Z are malformed, not unknown */
    {MBWS_FAULT_TXT_UPPER_NON_ASCII_UNKNOWN, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT,
     B("MESSAG\xc3\x89\nseq:1\naddress:q\n\nx"), MBWS_E_MALFORMED, MBWS_E_UNKNOWN_TYPE},
    /* BIN-5: a client's MESSAGE with a 4-octet sub */
    {MBWS_FAULT_CLIENT_SUB_UNCHECKED, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x03\x00\x00\x16\x02\x00\x08" INT8("\x01") "\x03\x00\x01q\x04\x00\x04" "abcd"),
     MBWS_E_MALFORMED, MBWS_OK},
    /* FLD-2: seq twice, in both encodings */
    {MBWS_FAULT_FLD_DUPLICATES, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("ACK\nseq:1\nseq:2\n\n"),
     MBWS_E_MALFORMED, MBWS_OK},
    {MBWS_FAULT_FLD_DUPLICATES, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x04\x00\x00\x16\x02\x00\x08" INT8("\x01") "\x02\x00\x08" INT8("\x02")), MBWS_E_MALFORMED,
     MBWS_OK},
    /* FLD-3: an unknown field id / header name */
    {MBWS_FAULT_FLD_UNKNOWN_REJECTED, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("ACK\nseq:1\nzz:1\n\n"),
     MBWS_OK, MBWS_E_MALFORMED},
    {MBWS_FAULT_FLD_UNKNOWN_REJECTED, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT,
     B("\x04\x00\x00\x0f\x02\x00\x08" INT8("\x01") "\x7f\x00\x01z"), MBWS_OK, MBWS_E_MALFORMED},
    /* FLD-4: unknown binary type */
    {MBWS_FAULT_FLD_UNKNOWN_TYPE_MALFORMED, MBWS_ENC_BINARY, MBWS_ROLE_CLIENT, B("\x7f\x00\x00\x00"),
     MBWS_E_UNKNOWN_TYPE, MBWS_E_MALFORMED},
    /* FLD-6: MESSAGE seq 0 */
    {MBWS_FAULT_FLD_SEQ_ZERO, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("MESSAGE\nseq:0\naddress:q\n\n"),
     MBWS_E_MALFORMED, MBWS_OK},
    /* FLD-7: 256-octet address (built below) */
    {MBWS_FAULT_FLD_LONG_ADDRESS, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, NULL, 0, MBWS_E_INVALID_ADDRESS,
     MBWS_OK},
    /* FLD-8: a space in the session token */
    {MBWS_FAULT_FLD_TOKEN_CHARSET, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT,
     B("CONNECT\nversion:1\ncredit:1\nmax-frame:1024\nsession:a b\nlast-seq:0\n\n"), MBWS_E_MALFORMED,
     MBWS_OK},
    /* ERR-4: a CONNECTED without credit from a client: FLD-1 (1) before FLD-5 (4) */
    {MBWS_FAULT_ERR_ORDER, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT, B("CONNECTED\nversion:1\nmax-frame:1024\n\n"),
     MBWS_E_MALFORMED, MBWS_E_UNEXPECTED},
    /* ERR-4: CONNECT version 2 with max-frame 512: step 6 (1) before the version (11) */
    {MBWS_FAULT_ERR_VERSION_BEFORE_VALUES, MBWS_ENC_TEXT, MBWS_ROLE_CLIENT,
     B("CONNECT\nversion:2\ncredit:1\nmax-frame:512\n\n"), MBWS_E_MALFORMED, MBWS_E_VERSION},
};

static void test_codec_faults(void)
{
    char long_addr[400];
    int n = snprintf(long_addr, sizeof long_addr, "MESSAGE\nseq:1\naddress:%0256d\n\n", 0);
    for (size_t i = 0; i < sizeof codec_cases / sizeof codec_cases[0]; i++) {
        const struct codec_case *k = &codec_cases[i];
        const char *req = mbws_fault_table[k->fault].requirement;
        const uint8_t *p = (const uint8_t *)(k->data ? k->data : long_addr);
        size_t len = k->data ? k->len : (size_t)n;
        mbws_decode_ctx ctx = {.sender = k->sender, .subprotocol = MBWS_SP_MBWS};
        mbws_decode_ctx faulty = {.sender = k->sender, .subprotocol = MBWS_SP_MBWS, .fault = k->fault};
        mbws_frame f;
        CHECK_EQ(req, mbws_decode(p, len, k->enc, &ctx, &f, NULL), k->want_off);
        CHECK_EQ(req, mbws_decode(p, len, k->enc, &faulty, &f, NULL), k->want_on);
        CHECK_EQ(req, mbws_decode(p, len, k->enc, &ctx, &f, NULL), k->want_off); /* unchanged */
    }
}

static void test_int_any_length_value(void)
{
    /* BIN-5 fault: the short integer still has its big-endian value. */
    static const uint8_t ack[] = {0x04, 0x00, 0x00, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02};
    mbws_frame f;
    mbws_decode_ctx faulty = {.sender = MBWS_ROLE_ANY, .fault = MBWS_FAULT_BIN_INT_ANY_LENGTH};
    CHECK_EQ("BIN-5", mbws_decode(ack, sizeof ack, MBWS_ENC_BINARY, &faulty, &f, NULL), MBWS_OK);
    CHECK_EQ("BIN-5", f.num[MBWS_F_SEQ], 0x0102);
}

/* ----------------------------------------------------- session-core faults */

static peer cl, br;
static mbws_session *cs;

/* Opens a session, feeds raw to the broker with fault on, and reports what
 * the broker did: ERRORs sent and its close code (0: none). */
static void broker_reaction(enum mbws_fault_id fault, const char *raw, size_t len, int is_text,
                            int *errors, int *close)
{
    mbws_conn_config cc, bc;
    cfg_client(&cc, MBWS_SP_MBWS, MBWS_ENC_TEXT);
    cfg_broker(&bc, MBWS_SP_MBWS);
    bc.fault = fault;
    cs = mbws_session_new();
    pair_start(&cl, &br, &cc, &bc, cs, 0);
    br.link = 0;
    peer_clear_log(&br);
    feed_raw(&br, raw, len, is_text, 10);
    *errors = count_sent(&br, MBWS_ERROR);
    *close = close_code(&br);
    peer_fini(&cl);
    peer_fini(&br);
    table_clear();
    mbws_session_free(cs);
}

static void test_session_faults(void)
{
    static const struct {
        enum mbws_fault_id fault;
        const char *raw;
        size_t len;
        int is_text;
        int close_off, errors_on, close_on;
    } k[] = {
        /* dropped silently instead of ERROR 1 / 4 */
        {MBWS_FAULT_BIN_SHORT_IGNORED, B("\x04\x00"), 0, 4001, 0, 0},
        {MBWS_FAULT_FLD_MISSING_IGNORED, B("FLOW\n\n"), 1, 4001, 0, 0},
        {MBWS_FAULT_FLD_DIRECTION_UNCHECKED,
         B("CONNECTED\nversion:1\ncredit:1\nmax-frame:1024\nsession:t\nsession-expiry:1\nresumed:0\n\n"),
         1, 4004, 0, 0},
        /* ERR-1: ERROR sent, but close 1000 */
        {MBWS_FAULT_ERR_CLOSE_1000, B("FOO\n\n"), 1, 4002, 1, 1000},
        /* ERR-3: a received ERROR is answered */
        {MBWS_FAULT_ERR_ANSWER_ERROR, B("ERROR\ncode:1\n\n"), 1, 0, 1, 4004},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        const char *req = mbws_fault_table[k[i].fault].requirement;
        int errors, close;
        broker_reaction(MBWS_FAULT_NONE, k[i].raw, k[i].len, k[i].is_text, &errors, &close);
        CHECK_EQ(req, errors, k[i].close_off ? 1 : 0);
        CHECK_EQ(req, close, k[i].close_off);
        broker_reaction(k[i].fault, k[i].raw, k[i].len, k[i].is_text, &errors, &close);
        CHECK_EQ(req, errors, k[i].errors_on);
        CHECK_EQ(req, close, k[i].close_on);
    }
}

int main(void)
{
    TEST_RUN(test_table);
    TEST_RUN(test_codec_faults);
    TEST_RUN(test_int_any_length_value);
    TEST_RUN(test_session_faults);
    return TEST_DONE();
}
