/* The decoders' record of ignored fields (mbws_frame.ignored): a known
 * field that is not listed for the frame type in the decode context is
 * skipped unexamined (FLD-3), but its id is noted, so a test can see that
 * an implementation sent it (RES-9: an MBLWS CONNECTED carries no session
 * fields). Unknown ids and header names are not noted; listed fields are
 * decoded as before. Every check runs in both encodings. */
#include "test_codec_util.h"

#define BIT(id) (1u << (id))
#define SESSION_BITS \
    (BIT(MBWS_F_SESSION) | BIT(MBWS_F_SESSION_EXPIRY) | BIT(MBWS_F_RESUMED) | BIT(MBWS_F_LAST_SEQ))

static void connected_with_session(struct bin *x)
{
    b_start(x, MBWS_CONNECTED);
    b_int(x, MBWS_F_VERSION, 1);
    b_int(x, MBWS_F_CREDIT, 16);
    b_int(x, MBWS_F_MAX_FRAME, 65536);
    b_str(x, MBWS_F_SESSION, "tok");
    b_int(x, MBWS_F_SESSION_EXPIRY, 60);
    b_int(x, MBWS_F_RESUMED, 1);
    b_int(x, MBWS_F_LAST_SEQ, 0);
    b_end(x);
}

static const char connected_text[] = "CONNECTED\nversion:1\ncredit:16\nmax-frame:65536\n"
                                     "session:tok\nsession-expiry:60\nresumed:1\nlast-seq:0\n\n";

/* RES-9: on MBLWS the session fields of CONNECTED are unlisted: decoded
 * as absent, noted as ignored. */
static void test_mblws_connected_session_fields_noted(void)
{
    struct bin x;
    mbws_frame f;
    connected_with_session(&x);
    EXPECT_OK("FLD-3", B(&x), MBWS_ENC_BINARY, &CTX_BROKER_MBLWS, &f);
    CHECK_EQ("RES-9", f.ignored, SESSION_BITS);
    CHECK_EQ("FLD-3", f.present & SESSION_BITS, 0);
    CHECK_EQ("FLD-3", f.num[MBWS_F_CREDIT], 16);

    EXPECT_OK("FLD-3", T(connected_text), MBWS_ENC_TEXT, &CTX_BROKER_MBLWS, &f);
    CHECK_EQ("RES-9", f.ignored, SESSION_BITS);
    CHECK_EQ("FLD-3", f.present & SESSION_BITS, 0);
    CHECK_EQ("FLD-3", f.num[MBWS_F_MAX_FRAME], 65536);
}

/* RES-1: on MBWS the same fields are listed: decoded, nothing ignored. */
static void test_mbws_connected_session_fields_listed(void)
{
    struct bin x;
    mbws_frame f;
    connected_with_session(&x);
    EXPECT_OK("RES-1", B(&x), MBWS_ENC_BINARY, &CTX_BROKER, &f);
    CHECK_EQ("FLD-3", f.ignored, 0);
    CHECK_EQ("RES-1", f.present & SESSION_BITS, SESSION_BITS);

    EXPECT_OK("RES-1", T(connected_text), MBWS_ENC_TEXT, &CTX_BROKER, &f);
    CHECK_EQ("FLD-3", f.ignored, 0);
    CHECK_EQ("RES-1", f.present & SESSION_BITS, SESSION_BITS);
}

/* FLD-3: an ignored field is not validated (value, length, repetition),
 * yet still noted. */
static void test_ignored_not_validated(void)
{
    struct bin x;
    mbws_frame f;
    b_start(&x, MBWS_CONNECTED);
    b_int(&x, MBWS_F_VERSION, 1);
    b_int(&x, MBWS_F_CREDIT, 16);
    b_int(&x, MBWS_F_MAX_FRAME, 65536);
    b_str(&x, MBWS_F_SESSION, "not a token!");    /* FLD-8 would refuse it */
    b_str(&x, MBWS_F_SESSION, "twice");           /* FLD-2 would refuse it */
    b_field(&x, MBWS_F_SESSION_EXPIRY, "\x00", 1); /* BIN-5 would refuse it */
    b_int(&x, MBWS_F_RESUMED, 7);                  /* SES-3 would refuse it */
    b_end(&x);
    EXPECT_OK("FLD-3", B(&x), MBWS_ENC_BINARY, &CTX_BROKER_MBLWS, &f);
    CHECK_EQ("FLD-3", f.ignored,
             BIT(MBWS_F_SESSION) | BIT(MBWS_F_SESSION_EXPIRY) | BIT(MBWS_F_RESUMED));

    static const char t[] = "CONNECTED\nversion:1\ncredit:16\nmax-frame:65536\n"
                            "session:not a token!\nsession:twice\nsession-expiry:07\n"
                            "resumed:x\n\n";
    EXPECT_OK("FLD-3", T(t), MBWS_ENC_TEXT, &CTX_BROKER_MBLWS, &f);
    CHECK_EQ("FLD-3", f.ignored,
             BIT(MBWS_F_SESSION) | BIT(MBWS_F_SESSION_EXPIRY) | BIT(MBWS_F_RESUMED));
}

/* FLD-3: unlisted in any frame type, e.g. an address on ACK. */
static void test_unlisted_on_other_types(void)
{
    struct bin x;
    mbws_frame f;
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_end(&x);
    EXPECT_OK("FLD-3", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, &f);
    CHECK_EQ("FLD-3", f.ignored, BIT(MBWS_F_ADDRESS));
    CHECK("FLD-3", !mbws_frame_has(&f, MBWS_F_ADDRESS));

    EXPECT_OK("FLD-3", T("ACK\nseq:1\naddress:q\n\n"), MBWS_ENC_TEXT, &CTX_CLIENT, &f);
    CHECK_EQ("FLD-3", f.ignored, BIT(MBWS_F_ADDRESS));
    CHECK("FLD-3", !mbws_frame_has(&f, MBWS_F_ADDRESS));
}

/* Unknown ids and header names are not known fields: not noted. Frames
 * with only listed fields note nothing. */
static void test_unknown_and_listed_not_noted(void)
{
    struct bin x;
    mbws_frame f;
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, 0x00, "zero");
    b_str(&x, 0x10, "sixteen");
    b_str(&x, 0xff, "ff");
    b_end(&x);
    EXPECT_OK("FLD-3", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, &f);
    CHECK_EQ("FLD-3", f.ignored, 0);

    EXPECT_OK("FLD-3", T("ACK\nseq:1\nx-unknown:v\n\n"), MBWS_ENC_TEXT, &CTX_CLIENT, &f);
    CHECK_EQ("FLD-3", f.ignored, 0);

    /* sub is listed (optional) on a client's MESSAGE: decoded, not noted */
    EXPECT_OK("FLD-3", T("MESSAGE\nseq:1\naddress:q\nsub:3\n\nhi"), MBWS_ENC_TEXT, &CTX_CLIENT, &f);
    CHECK_EQ("FLD-3", f.ignored, 0);
    CHECK_EQ("FLD-3", f.num[MBWS_F_SUB], 3);
}

/* A frame built in memory starts with nothing ignored, and the encoder
 * does not see the mask: a decoded frame re-encodes without the ignored
 * fields. */
static void test_init_and_reencode(void)
{
    mbws_frame f;
    mbws_frame_init(&f, MBWS_CONNECTED);
    CHECK_EQ("FLD-3", f.ignored, 0);

    mbws_frame d, again;
    EXPECT_OK("FLD-3", T(connected_text), MBWS_ENC_TEXT, &CTX_BROKER_MBLWS, &d);
    uint8_t buf[256];
    size_t n = mbws_encode(&d, MBWS_ENC_TEXT, buf, sizeof buf);
    CHECK("FLD-3", n <= sizeof buf);
    EXPECT_OK("FLD-3", buf, n, MBWS_ENC_TEXT, &CTX_BROKER_MBLWS, &again);
    CHECK_EQ("FLD-3", again.ignored, 0);
    CHECK_EQ("FLD-3", again.present, d.present);
}

int main(void)
{
    TEST_RUN(test_mblws_connected_session_fields_noted);
    TEST_RUN(test_mbws_connected_session_fields_listed);
    TEST_RUN(test_ignored_not_validated);
    TEST_RUN(test_unlisted_on_other_types);
    TEST_RUN(test_unknown_and_listed_not_noted);
    TEST_RUN(test_init_and_reencode);
    return TEST_DONE();
}
