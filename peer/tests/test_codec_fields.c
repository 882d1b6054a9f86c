/* Fields and frame types (profile section 5) and the value rules of
 * sections 6 and 9 that a single frame shows: FLD-1..8, SES-3, SES-8,
 * RES-9, and the ERR-4 order of steps 4 to 8. Every check runs in both
 * encodings: the rules are encoding-independent. */
#include "test_codec_util.h"

static uint8_t enc_buf[70000];

/* Encode f in enc, then decode it in ctx; err gets the result. */
static int recode(const mbws_frame *f, enum mbws_encoding enc, const mbws_decode_ctx *ctx,
                  mbws_frame *out, mbws_error_info *err)
{
    size_t n = mbws_encode(f, enc, enc_buf, sizeof(enc_buf));
    if (n > sizeof(enc_buf)) {
        fprintf(stderr, "test frame too large\n");
        return -1;
    }
    return mbws_decode(enc_buf, n, enc, ctx, out, err);
}

static const char *enc_name(int enc)
{
    return enc == MBWS_ENC_TEXT ? "text" : "binary";
}

/* Frame f decoded in both encodings gives code/rule/field. */
#define EXPECT_BOTH(req, f, ctx, want_code, want_rule, want_field)                             \
    do {                                                                                      \
        for (int enc_ = 0; enc_ < 2; enc_++) {                                                \
            mbws_error_info e_;                                                               \
            mbws_frame o_;                                                                    \
            int rc_ = recode((f), (enum mbws_encoding)enc_, (ctx), &o_, &e_);                 \
            CHECK_EQ(req, rc_, want_code);                                                    \
            CHECK(req, strcmp(e_.rule, (want_rule)) == 0);                                    \
            CHECK_EQ(req, e_.field, want_field);                                              \
            if (rc_ != (want_code) || strcmp(e_.rule, (want_rule)) != 0)                      \
                fprintf(stderr, "    %s: want %d [%s], got %d: %s\n", enc_name(enc_),         \
                        (int)(want_code), (want_rule), rc_, e_.message);                      \
        }                                                                                     \
    } while (0)

/* Frame f decodes in both encodings; the last decode is left in *o. */
#define DECODES_BOTH(req, f, ctx, o)                                                          \
    do {                                                                                      \
        for (int enc_ = 0; enc_ < 2; enc_++) {                                                \
            mbws_error_info e_;                                                               \
            int rc_ = recode((f), (enum mbws_encoding)enc_, (ctx), (o), &e_);                 \
            CHECK_EQ(req, rc_, 0);                                                            \
            if (rc_ != 0)                                                                     \
                fprintf(stderr, "    %s: want success, got %d: %s\n", enc_name(enc_), rc_,   \
                        e_.message);                                                          \
        }                                                                                     \
    } while (0)

/* A valid frame of each type, with every field section 5 lists for the
 * given sender and subprotocol. */
static void valid_frame(mbws_frame *f, unsigned type, enum mbws_role sender)
{
    mbws_frame_init(f, (uint8_t)type);
    switch (type) {
    case MBWS_CONNECT:
        mbws_frame_set_int(f, MBWS_F_VERSION, 1);
        mbws_frame_set_int(f, MBWS_F_CREDIT, 16);
        mbws_frame_set_int(f, MBWS_F_MAX_FRAME, 65536);
        break;
    case MBWS_CONNECTED:
        mbws_frame_set_int(f, MBWS_F_VERSION, 1);
        mbws_frame_set_int(f, MBWS_F_CREDIT, 16);
        mbws_frame_set_int(f, MBWS_F_MAX_FRAME, 65536);
        mbws_frame_set_cstr(f, MBWS_F_SESSION, "Tok_en-09");
        mbws_frame_set_int(f, MBWS_F_SESSION_EXPIRY, 30);
        mbws_frame_set_int(f, MBWS_F_RESUMED, 0);
        break;
    case MBWS_MESSAGE:
        mbws_frame_set_int(f, MBWS_F_SEQ, 1);
        mbws_frame_set_cstr(f, MBWS_F_ADDRESS, "q");
        if (sender == MBWS_ROLE_BROKER)
            mbws_frame_set_int(f, MBWS_F_SUB, 3);
        break;
    case MBWS_ACK:
        mbws_frame_set_int(f, MBWS_F_SEQ, 1);
        break;
    case MBWS_FLOW:
        mbws_frame_set_int(f, MBWS_F_LIMIT, 1);
        break;
    case MBWS_SUBSCRIBE:
        mbws_frame_set_int(f, MBWS_F_SUB, 3);
        mbws_frame_set_cstr(f, MBWS_F_ADDRESS, "q");
        break;
    case MBWS_UNSUBSCRIBE:
        mbws_frame_set_int(f, MBWS_F_SUB, 3);
        break;
    case MBWS_ERROR:
        mbws_frame_set_int(f, MBWS_F_CODE, 1);
        break;
    default:
        break;
    }
}

static const mbws_decode_ctx *sender_ctx(unsigned type)
{
    return mbws_types[type].dir == MBWS_DIR_B2C ? &CTX_BROKER : &CTX_CLIENT;
}

/* Section 5's required fields, written out here independently of the
 * codec's table. */
static uint16_t required_set(unsigned type, enum mbws_role sender)
{
#define BIT(id) (uint16_t)(1u << (id))
    switch (type) {
    case MBWS_CONNECT:
        return BIT(MBWS_F_VERSION) | BIT(MBWS_F_CREDIT) | BIT(MBWS_F_MAX_FRAME);
    case MBWS_CONNECTED:
        return BIT(MBWS_F_VERSION) | BIT(MBWS_F_CREDIT) | BIT(MBWS_F_MAX_FRAME) |
               BIT(MBWS_F_SESSION) | BIT(MBWS_F_SESSION_EXPIRY) | BIT(MBWS_F_RESUMED);
    case MBWS_MESSAGE:
        return BIT(MBWS_F_SEQ) | BIT(MBWS_F_ADDRESS) |
               (sender == MBWS_ROLE_BROKER ? BIT(MBWS_F_SUB) : 0);
    case MBWS_ACK:
        return BIT(MBWS_F_SEQ);
    case MBWS_FLOW:
        return BIT(MBWS_F_LIMIT);
    case MBWS_SUBSCRIBE:
        return BIT(MBWS_F_SUB) | BIT(MBWS_F_ADDRESS);
    case MBWS_UNSUBSCRIBE:
        return BIT(MBWS_F_SUB);
    case MBWS_ERROR:
        return BIT(MBWS_F_CODE);
    default:
        return 0;
    }
#undef BIT
}

static void fld1_required_fields(void)
{
    mbws_frame f, o;
    for (unsigned t = 1; t <= MBWS_TYPE_MAX; t++) {
        const mbws_decode_ctx *ctx = sender_ctx(t);
        valid_frame(&f, t, ctx->sender);
        DECODES_BOTH("FLD-1", &f, ctx, &o);
        CHECK_EQ("FLD-1", o.present, f.present);
        uint16_t req = required_set(t, ctx->sender);
        for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++) {
            int want = (req >> id) & 1u;
            CHECK_EQ("FLD-1", mbws_field_presence(t, id, ctx, &f) == MBWS_P_REQUIRED, want);
            if (!want)
                continue;
            mbws_frame g = f;
            g.present &= (uint16_t) ~(1u << id);
            EXPECT_BOTH("FLD-1", &g, ctx, MBWS_E_MALFORMED, "FLD-1", (int)id);
        }
    }
    /* MESSAGE sub: R from a broker, O from a client and from an unknown sender. */
    valid_frame(&f, MBWS_MESSAGE, MBWS_ROLE_CLIENT);
    EXPECT_BOTH("FLD-1", &f, &CTX_BROKER, MBWS_E_MALFORMED, "FLD-1", MBWS_F_SUB);
    DECODES_BOTH("FLD-1", &f, &CTX_CLIENT, &o);
    DECODES_BOTH("FLD-1", &f, &CTX_ANY, &o);
    /* ... and listed from a client: validated when present. */
    mbws_frame_set_int(&f, MBWS_F_SUB, 9);
    DECODES_BOTH("FLD-1", &f, &CTX_CLIENT, &o);
    CHECK("FLD-1", mbws_frame_has(&o, MBWS_F_SUB) && o.num[MBWS_F_SUB] == 9);
}

/* CONNECT last-seq: R if session; listed and validated without it (RES-9). */
static void connect_last_seq(void)
{
    mbws_frame f, o;
    valid_frame(&f, MBWS_CONNECT, MBWS_ROLE_CLIENT);
    mbws_frame_set_cstr(&f, MBWS_F_SESSION, "abc");
    EXPECT_BOTH("FLD-1", &f, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-1", MBWS_F_LAST_SEQ);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 0);
    DECODES_BOTH("FLD-1", &f, &CTX_CLIENT, &o);
    CHECK("RES-3", mbws_frame_has(&o, MBWS_F_SESSION) && mbws_frame_has(&o, MBWS_F_LAST_SEQ));
    /* Session token as given, also on MBLWS (code 13 is the session's). */
    static const mbws_decode_ctx client_mblws = {.sender = MBWS_ROLE_CLIENT, .subprotocol = MBWS_SP_MBLWS};
    DECODES_BOTH("RES-9", &f, &client_mblws, &o);
    CHECK_MEM("RES-9", o.str[MBWS_F_SESSION].ptr, o.str[MBWS_F_SESSION].len, "abc", 3);

    /* last-seq without session: listed, so validated. */
    static struct bin x;
    b_start(&x, MBWS_CONNECT);
    b_int(&x, MBWS_F_VERSION, 1);
    b_int(&x, MBWS_F_CREDIT, 0);
    b_int(&x, MBWS_F_MAX_FRAME, 1024);
    b_field(&x, MBWS_F_LAST_SEQ, "\0", 1);
    b_end(&x);
    EXPECT_RULE("RES-9", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-5");
    EXPECT_RULE("RES-9", T("CONNECT\nversion:1\ncredit:0\nmax-frame:1024\nlast-seq:x\n\n"),
                MBWS_ENC_TEXT, &CTX_CLIENT, MBWS_E_MALFORMED, "TXT-5");
    mbws_frame_init(&f, MBWS_CONNECT);
    valid_frame(&f, MBWS_CONNECT, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 7);
    DECODES_BOTH("RES-9", &f, &CTX_CLIENT, &o);
    CHECK_EQ("RES-9", o.num[MBWS_F_LAST_SEQ], 7);
}

/* CONNECTED: session fields R on MBWS, not listed on MBLWS (RES-9);
 * last-seq R if resumed is 1. */
static void connected_session_fields(void)
{
    mbws_frame f, o;
    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, 1);
    EXPECT_BOTH("RES-3", &f, &CTX_BROKER, MBWS_E_MALFORMED, "FLD-1", MBWS_F_LAST_SEQ);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 4);
    DECODES_BOTH("RES-3", &f, &CTX_BROKER, &o);
    CHECK_EQ("RES-3", o.num[MBWS_F_LAST_SEQ], 4);
    /* resumed 0: last-seq optional. */
    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    DECODES_BOTH("RES-1", &f, &CTX_BROKER, &o);
    CHECK("RES-1", !mbws_frame_has(&o, MBWS_F_LAST_SEQ));

    /* MBLWS: none needed, and bad ones are ignored unexamined. */
    mbws_frame_init(&f, MBWS_CONNECTED);
    mbws_frame_set_int(&f, MBWS_F_VERSION, 1);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, 1);
    mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, 1024);
    DECODES_BOTH("RES-9", &f, &CTX_BROKER_MBLWS, &o);
    mbws_frame_set_cstr(&f, MBWS_F_SESSION, "bad token!");
    mbws_frame_set_int(&f, MBWS_F_SESSION_EXPIRY, 0);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, 7);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 3);
    DECODES_BOTH("RES-9", &f, &CTX_BROKER_MBLWS, &o);
    CHECK_EQ("RES-9", o.present,
             (1u << MBWS_F_VERSION) | (1u << MBWS_F_CREDIT) | (1u << MBWS_F_MAX_FRAME));
    /* The same on MBWS is malformed. */
    EXPECT_BOTH("RES-9", &f, &CTX_BROKER, MBWS_E_MALFORMED, "FLD-8", MBWS_F_SESSION);
    static struct bin x;
    b_start(&x, MBWS_CONNECTED);
    b_int(&x, MBWS_F_VERSION, 1);
    b_int(&x, MBWS_F_CREDIT, 1);
    b_int(&x, MBWS_F_MAX_FRAME, 1024);
    b_field(&x, MBWS_F_SESSION, "", 0);
    b_field(&x, MBWS_F_RESUMED, "1", 1);
    b_end(&x);
    EXPECT_OK("RES-9", B(&x), MBWS_ENC_BINARY, &CTX_BROKER_MBLWS, &o);
    EXPECT_RULE("RES-9", B(&x), MBWS_ENC_BINARY, &CTX_BROKER, MBWS_E_MALFORMED, "BIN-6");
}

static void fld2_repeated(void)
{
    static struct bin x;
    mbws_frame o;
    /* Listed: repeated is malformed, same value or not. */
    b_start(&x, MBWS_SUBSCRIBE);
    b_int(&x, MBWS_F_SUB, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_end(&x);
    EXPECT_AT("FLD-2", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-2", 19,
              MBWS_F_ADDRESS);
    EXPECT_RULE("FLD-2", T("SUBSCRIBE\nsub:1\naddress:q\naddress:r\n\n"), MBWS_ENC_TEXT,
                &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-2");
    /* Unlisted (address on ACK) and unknown (0x10, x-a): repeats ignored. */
    b_start(&x, MBWS_ACK);
    b_int(&x, MBWS_F_SEQ, 1);
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_str(&x, MBWS_F_ADDRESS, "q");
    b_str(&x, 0x10, "z");
    b_str(&x, 0x10, "z");
    b_end(&x);
    EXPECT_OK("FLD-2", B(&x), MBWS_ENC_BINARY, &CTX_ANY, &o);
    EXPECT_OK("FLD-2", T("ACK\nseq:1\naddress:q\naddress:q\nx-a:1\nx-a:1\n\n"), MBWS_ENC_TEXT,
              &CTX_ANY, &o);
    /* ERR-4: repetition (4) before required (5). */
    EXPECT_RULE("ERR-4", T("SUBSCRIBE\nsub:1\nsub:1\n\n"), MBWS_ENC_TEXT, &CTX_CLIENT,
                MBWS_E_MALFORMED, "FLD-2");
}

static void fld3_ignored_fields(void)
{
    static struct bin x;
    mbws_frame o;
    /* Unknown ids 0x00, 0x10, 0xff and unlisted known ids with values that
     * would be malformed if listed: empty string, 3-octet integer, CR. */
    b_start(&x, MBWS_FLOW);
    b_field(&x, 0x00, "", 0);
    b_field(&x, 0xff, "\xff\xfe", 2);
    b_field(&x, MBWS_F_SEQ, "abc", 3);
    b_int(&x, MBWS_F_LIMIT, 8);
    b_field(&x, MBWS_F_ADDRESS, "", 0);
    b_field(&x, MBWS_F_TEXT, "a\r\n\0", 4);
    b_field(&x, 0x10, "x", 1);
    b_end(&x);
    EXPECT_OK("FLD-3", B(&x), MBWS_ENC_BINARY, &CTX_ANY, &o);
    CHECK_EQ("FLD-3", o.present, 1u << MBWS_F_LIMIT);
    CHECK_EQ("FLD-3", o.num[MBWS_F_LIMIT], 8);
    EXPECT_OK("FLD-3", T("FLOW\nseq:abc\nlimit:8\naddress:\nsession:!!\nunknown-thing:\n\n"),
              MBWS_ENC_TEXT, &CTX_ANY, &o);
    CHECK_EQ("FLD-3", o.present, 1u << MBWS_F_LIMIT);
    /* DISCONNECT lists nothing. */
    EXPECT_OK("FLD-3", T("DISCONNECT\nseq:0\ncode:x\n\n"), MBWS_ENC_TEXT, &CTX_ANY, &o);
    CHECK_EQ("FLD-3", o.present, 0);
    /* An unlisted address is not checked for FLD-7 either. */
    EXPECT_OK("FLD-3", T("ACK\nseq:1\naddress:a\tb\n\n"), MBWS_ENC_TEXT, &CTX_ANY, &o);
}

static void fld5_direction(void)
{
    mbws_frame f, o;
    for (unsigned t = 1; t <= MBWS_TYPE_MAX; t++) {
        enum mbws_direction dir = mbws_types[t].dir;
        /* Role-dependent fields as a broker would send them, so only the
         * direction can be wrong. */
        valid_frame(&f, t, MBWS_ROLE_BROKER);
        if (dir == MBWS_DIR_C2B) {
            EXPECT_BOTH("FLD-5", &f, &CTX_BROKER, MBWS_E_UNEXPECTED, "FLD-5", 0);
            DECODES_BOTH("FLD-5", &f, &CTX_CLIENT, &o);
        } else if (dir == MBWS_DIR_B2C) {
            EXPECT_BOTH("FLD-5", &f, &CTX_CLIENT, MBWS_E_UNEXPECTED, "FLD-5", 0);
            DECODES_BOTH("FLD-5", &f, &CTX_BROKER, &o);
        } else {
            DECODES_BOTH("FLD-5", &f, &CTX_CLIENT, &o);
            DECODES_BOTH("FLD-5", &f, &CTX_BROKER, &o);
        }
        DECODES_BOTH("FLD-5", &f, &CTX_ANY, &o); /* sender unknown: no check */
    }
    /* The directions of section 5, written out. */
    CHECK_EQ("FLD-5", mbws_types[MBWS_CONNECT].dir, MBWS_DIR_C2B);
    CHECK_EQ("FLD-5", mbws_types[MBWS_CONNECTED].dir, MBWS_DIR_B2C);
    CHECK_EQ("FLD-5", mbws_types[MBWS_SUBSCRIBE].dir, MBWS_DIR_C2B);
    CHECK_EQ("FLD-5", mbws_types[MBWS_UNSUBSCRIBE].dir, MBWS_DIR_C2B);
    unsigned both[] = {MBWS_MESSAGE, MBWS_ACK, MBWS_FLOW, MBWS_DISCONNECT, MBWS_ERROR};
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ("FLD-5", mbws_types[both[i]].dir, MBWS_DIR_BOTH);
}

static void fld6_message_seq_zero(void)
{
    mbws_frame f, o;
    valid_frame(&f, MBWS_MESSAGE, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_SEQ, 0);
    EXPECT_BOTH("FLD-6", &f, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-6", MBWS_F_SEQ);
    mbws_frame_set_int(&f, MBWS_F_SEQ, UINT64_MAX);
    DECODES_BOTH("FLD-6", &f, &CTX_CLIENT, &o);
    /* seq 0 on ACK and ERROR is not a frame rule. */
    valid_frame(&f, MBWS_ACK, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_SEQ, 0);
    DECODES_BOTH("FLD-6", &f, &CTX_CLIENT, &o);
    valid_frame(&f, MBWS_ERROR, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_SEQ, 0);
    DECODES_BOTH("FLD-6", &f, &CTX_CLIENT, &o);
}

static void fld7_address(void)
{
    mbws_frame f, o;
    char a[300];
    memset(a, 'a', sizeof(a));
    for (unsigned t = MBWS_MESSAGE; t <= MBWS_SUBSCRIBE; t += MBWS_SUBSCRIBE - MBWS_MESSAGE) {
        valid_frame(&f, t, MBWS_ROLE_CLIENT);
        mbws_frame_set_str(&f, MBWS_F_ADDRESS, a, 255);
        DECODES_BOTH("FLD-7", &f, &CTX_CLIENT, &o);
        CHECK_EQ("FLD-7", o.str[MBWS_F_ADDRESS].len, 255);
        mbws_frame_set_str(&f, MBWS_F_ADDRESS, a, 256);
        EXPECT_BOTH("FLD-7", &f, &CTX_CLIENT, MBWS_E_INVALID_ADDRESS, "FLD-7", MBWS_F_ADDRESS);
        mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "a\tb");
        EXPECT_BOTH("FLD-7", &f, &CTX_CLIENT, MBWS_E_INVALID_ADDRESS, "FLD-7", MBWS_F_ADDRESS);
        mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "\x1f");
        EXPECT_BOTH("FLD-7", &f, &CTX_CLIENT, MBWS_E_INVALID_ADDRESS, "FLD-7", MBWS_F_ADDRESS);
        mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "\x01x");
        EXPECT_BOTH("FLD-7", &f, &CTX_CLIENT, MBWS_E_INVALID_ADDRESS, "FLD-7", MBWS_F_ADDRESS);
        /* U+0020 and above, DEL and non-ASCII included, are fine. */
        mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, " \x7f/q.\xc3\xa9");
        DECODES_BOTH("FLD-7", &f, &CTX_CLIENT, &o);
    }
    /* TAB offset, binary: MESSAGE seq (4..14), address id at 15, value at 18. */
    valid_frame(&f, MBWS_MESSAGE, MBWS_ROLE_CLIENT);
    mbws_frame_set_cstr(&f, MBWS_F_ADDRESS, "ab\t");
    size_t n = mbws_encode(&f, MBWS_ENC_BINARY, enc_buf, sizeof(enc_buf));
    EXPECT_AT("FLD-7", enc_buf, n, MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_INVALID_ADDRESS, "FLD-7", 20,
              MBWS_F_ADDRESS);
    /* NUL, CR, LF are already malformed (BIN-6 / TXT-2..6), not code 9. */
    static struct bin x;
    b_start(&x, MBWS_SUBSCRIBE);
    b_int(&x, MBWS_F_SUB, 1);
    b_field(&x, MBWS_F_ADDRESS, "a\0", 2);
    b_end(&x);
    EXPECT_RULE("FLD-7", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6");
    x.b[x.n - 1] = '\n';
    EXPECT_RULE("FLD-7", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6");
    x.b[x.n - 1] = '\r';
    EXPECT_RULE("FLD-7", B(&x), MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6");
    EXPECT_RULE("FLD-7", T("SUBSCRIBE\nsub:1\naddress:a\r\n\n"), MBWS_ENC_TEXT, &CTX_CLIENT,
                MBWS_E_MALFORMED, "TXT-2");
}

static void fld8_session_token(void)
{
    mbws_frame f, o;
    char tok[80];
    memset(tok, 'A', sizeof(tok));
    valid_frame(&f, MBWS_CONNECT, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 0);
    static const char *good[] = {"a", "Z", "0", "_", "-", "azAZ09_-"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        mbws_frame_set_cstr(&f, MBWS_F_SESSION, good[i]);
        DECODES_BOTH("FLD-8", &f, &CTX_CLIENT, &o);
    }
    mbws_frame_set_str(&f, MBWS_F_SESSION, tok, 64);
    DECODES_BOTH("FLD-8", &f, &CTX_CLIENT, &o);
    CHECK_EQ("FLD-8", o.str[MBWS_F_SESSION].len, 64);
    mbws_frame_set_str(&f, MBWS_F_SESSION, tok, 65);
    EXPECT_BOTH("FLD-8", &f, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-8", MBWS_F_SESSION);
    static const char *bad[] = {"a b", "a.b", "a+b", "caf\xc3\xa9", "a\tb", "tok=", "~"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mbws_frame_set_cstr(&f, MBWS_F_SESSION, bad[i]);
        EXPECT_BOTH("FLD-8", &f, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-8", MBWS_F_SESSION);
    }
    /* Same rule on CONNECTED (MBWS). */
    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    mbws_frame_set_cstr(&f, MBWS_F_SESSION, "no/slash");
    EXPECT_BOTH("FLD-8", &f, &CTX_BROKER, MBWS_E_MALFORMED, "FLD-8", MBWS_F_SESSION);
    /* Empty: the string rule (step 4) comes first. */
    valid_frame(&f, MBWS_CONNECT, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_LAST_SEQ, 0);
    mbws_frame_set_str(&f, MBWS_F_SESSION, "", 0);
    size_t n = mbws_encode(&f, MBWS_ENC_BINARY, enc_buf, sizeof(enc_buf));
    EXPECT_RULE("FLD-8", enc_buf, n, MBWS_ENC_BINARY, &CTX_CLIENT, MBWS_E_MALFORMED, "BIN-6");
    n = mbws_encode(&f, MBWS_ENC_TEXT, enc_buf, sizeof(enc_buf));
    EXPECT_RULE("FLD-8", enc_buf, n, MBWS_ENC_TEXT, &CTX_CLIENT, MBWS_E_MALFORMED, "TXT-6");
}

static void ses8_max_frame(void)
{
    mbws_frame f, o;
    unsigned types[] = {MBWS_CONNECT, MBWS_CONNECTED};
    for (size_t i = 0; i < 2; i++) {
        const mbws_decode_ctx *ctx = sender_ctx(types[i]);
        valid_frame(&f, types[i], ctx->sender);
        mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, 1023);
        EXPECT_BOTH("SES-8", &f, ctx, MBWS_E_MALFORMED, "SES-8", MBWS_F_MAX_FRAME);
        mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, 0);
        EXPECT_BOTH("SES-8", &f, ctx, MBWS_E_MALFORMED, "SES-8", MBWS_F_MAX_FRAME);
        mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, 1024);
        DECODES_BOTH("SES-8", &f, ctx, &o);
        mbws_frame_set_int(&f, MBWS_F_MAX_FRAME, UINT64_MAX);
        DECODES_BOTH("SES-8", &f, ctx, &o);
    }
}

static void ses3_value_rules(void)
{
    mbws_frame f, o;
    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, 2);
    EXPECT_BOTH("SES-3", &f, &CTX_BROKER, MBWS_E_MALFORMED, "SES-3", MBWS_F_RESUMED);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, UINT64_MAX);
    EXPECT_BOTH("SES-3", &f, &CTX_BROKER, MBWS_E_MALFORMED, "SES-3", MBWS_F_RESUMED);

    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, 0);
    EXPECT_BOTH("SES-3", &f, &CTX_BROKER, MBWS_E_MALFORMED, "SES-3", MBWS_F_CREDIT);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, 1);
    DECODES_BOTH("SES-3", &f, &CTX_BROKER, &o);

    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    mbws_frame_set_int(&f, MBWS_F_SESSION_EXPIRY, 0);
    EXPECT_BOTH("SES-3", &f, &CTX_BROKER, MBWS_E_MALFORMED, "SES-3", MBWS_F_SESSION_EXPIRY);

    /* A client may advertise credit 0 (FLOW-1). */
    valid_frame(&f, MBWS_CONNECT, MBWS_ROLE_CLIENT);
    mbws_frame_set_int(&f, MBWS_F_CREDIT, 0);
    DECODES_BOTH("FLOW-1", &f, &CTX_CLIENT, &o);
    /* version other than 1 is code 11, a state check: it decodes. */
    mbws_frame_set_int(&f, MBWS_F_VERSION, 2);
    DECODES_BOTH("SES-3", &f, &CTX_CLIENT, &o);
    CHECK_EQ("SES-3", o.num[MBWS_F_VERSION], 2);
}

/* ERR-4 steps 4 to 8 on one frame with a fault at every step; fixing the
 * first fault each time exposes the next. */
static void err4_order_steps_4_to_8(void)
{
    /* CONNECT from a broker: (4) repeated version, (5) missing credit,
     * (6) max-frame 1023, (8) direction. */
    const char *connect_steps[] = {
        "CONNECT\nversion:1\nversion:1\nmax-frame:1023\n\n",
        "CONNECT\nversion:1\nmax-frame:1023\n\n",
        "CONNECT\nversion:1\ncredit:1\nmax-frame:1023\n\n",
        "CONNECT\nversion:1\ncredit:1\nmax-frame:1024\n\n",
    };
    const char *connect_rules[] = {"FLD-2", "FLD-1", "SES-8", "FLD-5"};
    const int connect_codes[] = {1, 1, 1, 4};
    for (int i = 0; i < 4; i++)
        EXPECT_RULE("ERR-4", T(connect_steps[i]), MBWS_ENC_TEXT, &CTX_BROKER, connect_codes[i],
                    connect_rules[i]);

    /* MESSAGE from a broker: (4) bad content-type, (5) missing sub,
     * (6) seq 0, (7) TAB in address. */
    const char *message_steps[] = {
        "MESSAGE\nseq:0\naddress:a\tb\ncontent-type:\n\n",
        "MESSAGE\nseq:0\naddress:a\tb\n\n",
        "MESSAGE\nseq:0\naddress:a\tb\nsub:1\n\n",
        "MESSAGE\nseq:1\naddress:a\tb\nsub:1\n\n",
    };
    const char *message_rules[] = {"TXT-6", "FLD-1", "FLD-6", "FLD-7"};
    const int message_codes[] = {1, 1, 1, 9};
    for (int i = 0; i < 4; i++)
        EXPECT_RULE("ERR-4", T(message_steps[i]), MBWS_ENC_TEXT, &CTX_BROKER, message_codes[i],
                    message_rules[i]);

    /* SUBSCRIBE from a broker: (7) address before (8) direction. */
    EXPECT_RULE("ERR-4", T("SUBSCRIBE\nsub:1\naddress:\t\n\n"), MBWS_ENC_TEXT, &CTX_BROKER,
                MBWS_E_INVALID_ADDRESS, "FLD-7");
    EXPECT_RULE("ERR-4", T("SUBSCRIBE\nsub:1\naddress:q\n\n"), MBWS_ENC_TEXT, &CTX_BROKER,
                MBWS_E_UNEXPECTED, "FLD-5");
    /* Address 256 octets (7) after a missing required field (5). */
    mbws_frame f;
    char a[256];
    memset(a, 'a', sizeof(a));
    mbws_frame_init(&f, MBWS_SUBSCRIBE);
    mbws_frame_set_str(&f, MBWS_F_ADDRESS, a, sizeof(a));
    EXPECT_BOTH("ERR-4", &f, &CTX_CLIENT, MBWS_E_MALFORMED, "FLD-1", MBWS_F_SUB);
    /* CONNECTED from a client with resumed 2: (6) before (8). */
    valid_frame(&f, MBWS_CONNECTED, MBWS_ROLE_BROKER);
    mbws_frame_set_int(&f, MBWS_F_RESUMED, 2);
    EXPECT_BOTH("ERR-4", &f, &CTX_CLIENT, MBWS_E_MALFORMED, "SES-3", MBWS_F_RESUMED);
    /* Two value faults (6): the earlier one in the frame is named. */
    EXPECT_RULE("ERR-4", T("CONNECTED\nversion:1\ncredit:0\nmax-frame:5\nsession:x\n"
                           "session-expiry:0\nresumed:0\n\n"),
                MBWS_ENC_TEXT, &CTX_BROKER, MBWS_E_MALFORMED, "SES-3");
}

/* Section 5 tables and lookups. */
static void layout_lookups(void)
{
    CHECK("TXT-1", mbws_type_by_name("CONNECT", 7) == &mbws_types[MBWS_CONNECT]);
    CHECK("TXT-1", mbws_type_by_name("connect", 7) == NULL);
    CHECK("TXT-1", mbws_type_by_name("CONNECTED", 7) == &mbws_types[MBWS_CONNECT]);
    CHECK("TXT-1", mbws_type_by_name("CONNECTED", 9) == &mbws_types[MBWS_CONNECTED]);
    CHECK("FLD-4", mbws_type_by_code(0) == NULL && mbws_type_by_code(10) == NULL);
    CHECK("FLD-4", strcmp(mbws_type_name(MBWS_UNSUBSCRIBE), "UNSUBSCRIBE") == 0);
    CHECK("FLD-4", strcmp(mbws_type_name(0x42), "UNKNOWN") == 0);
    CHECK("FLD-3", mbws_field_by_name("max-frame", 9) == &mbws_fields[MBWS_F_MAX_FRAME]);
    CHECK("FLD-3", mbws_field_by_name("max-fram", 8) == NULL);
    CHECK("FLD-3", mbws_field_by_id(0) == NULL && mbws_field_by_id(16) == NULL);
    CHECK_EQ("FLD-3", mbws_field_by_id(MBWS_F_SESSION_EXPIRY)->kind, MBWS_KIND_INT);
    CHECK_EQ("FLD-3", mbws_field_by_id(MBWS_F_CONTENT_TYPE)->kind, MBWS_KIND_STR);
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++) {
        const struct mbws_field_desc *d = mbws_field_by_id(id);
        CHECK_EQ("FLD-3", d->id, id);
        CHECK("FLD-3", mbws_field_by_name(d->name, strlen(d->name)) == d);
    }
    for (unsigned t = 1; t <= MBWS_TYPE_MAX; t++) {
        CHECK_EQ("FLD-4", mbws_types[t].code, t);
        CHECK_EQ("BIN-7", mbws_types[t].may_have_body, t == MBWS_MESSAGE);
    }
    CHECK("ERR-1", strcmp(mbws_error_name(1), "malformed-frame") == 0);
    CHECK("ERR-1", strcmp(mbws_error_name(14), "connect-timeout") == 0);
    CHECK("ERR-1", strcmp(mbws_error_name(99), "unknown-error") == 0);
    /* Unlisted fields have no presence. */
    CHECK_EQ("FLD-3", mbws_field_presence(MBWS_ACK, MBWS_F_ADDRESS, &CTX_ANY, NULL), MBWS_P_NONE);
    CHECK_EQ("RES-9", mbws_field_presence(MBWS_CONNECTED, MBWS_F_SESSION, &CTX_BROKER_MBLWS, NULL),
             MBWS_P_NONE);
    CHECK_EQ("FLD-3", mbws_field_presence(0, MBWS_F_SEQ, &CTX_ANY, NULL), MBWS_P_NONE);
    CHECK_EQ("FLD-3", mbws_field_presence(MBWS_ACK, MBWS_F_SEQ, NULL, NULL), MBWS_P_REQUIRED);
}

int main(void)
{
    TEST_RUN(fld1_required_fields);
    TEST_RUN(connect_last_seq);
    TEST_RUN(connected_session_fields);
    TEST_RUN(fld2_repeated);
    TEST_RUN(fld3_ignored_fields);
    TEST_RUN(fld5_direction);
    TEST_RUN(fld6_message_seq_zero);
    TEST_RUN(fld7_address);
    TEST_RUN(fld8_session_token);
    TEST_RUN(ses8_max_frame);
    TEST_RUN(ses3_value_rules);
    TEST_RUN(err4_order_steps_4_to_8);
    TEST_RUN(layout_lookups);
    return TEST_DONE();
}
