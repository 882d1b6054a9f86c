/* MBWS profile 1: every wire constant in one place (profile section 0).
 * A later profile changes these tables, not the code that uses them. */
#ifndef MBWS_LAYOUT_H
#define MBWS_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define MBWS_PROFILE_VERSION 1u

#define MBWS_SUBPROTOCOL_MBWS  "MBWS.huawei.com"
#define MBWS_SUBPROTOCOL_MBLWS "MBLWS.huawei.com"

/* Binary prefix: type (1), reserved (1), header length (2, big-endian). */
#define MBWS_BIN_PREFIX_LEN 4u
/* Binary field: id (1), value length (2, big-endian), value. */
#define MBWS_BIN_FIELD_HDR_LEN 3u
#define MBWS_INT_LEN 8u           /* BIN-5 */
#define MBWS_STR_MAX 65535u       /* BIN-6, TXT-6 */
#define MBWS_ADDRESS_MAX 255u     /* FLD-7 */
#define MBWS_SESSION_TOKEN_MAX 64u /* FLD-8 */
#define MBWS_MAX_FRAME_MIN 1024u  /* SES-8 */

/* Timers, in milliseconds. */
#define MBWS_CONNECT_TIMEOUT_MS   5000u /* SES-2 (ERROR 14 between 5 and 6 s) */
#define MBWS_ACK_DEADLINE_MS      1000u /* ACK-2, SEQ-3, FLOW-5 */
#define MBWS_ERROR_CLOSE_MS       1000u /* ERR-1 */
#define MBWS_ERROR_WAIT_CLOSE_MS  2000u /* ERR-3 */
#define MBWS_DISCONNECT_WAIT_MS   2000u /* SES-7 */

/* Close codes (WS-7). */
#define MBWS_CLOSE_NORMAL        1000
#define MBWS_CLOSE_PROTOCOL      1002
#define MBWS_CLOSE_INVALID_UTF8  1007
#define MBWS_CLOSE_ERROR_BASE    4000 /* 4000 + error code */
#define MBWS_CLOSE_TAKEOVER      4100

enum mbws_type {
    MBWS_CONNECT = 0x01,
    MBWS_CONNECTED = 0x02,
    MBWS_MESSAGE = 0x03,
    MBWS_ACK = 0x04,
    MBWS_FLOW = 0x05,
    MBWS_SUBSCRIBE = 0x06,
    MBWS_UNSUBSCRIBE = 0x07,
    MBWS_DISCONNECT = 0x08,
    MBWS_ERROR = 0x09
};
#define MBWS_TYPE_MAX 0x09

enum mbws_field_id {
    MBWS_F_VERSION = 0x01,
    MBWS_F_SEQ = 0x02,
    MBWS_F_ADDRESS = 0x03,
    MBWS_F_SUB = 0x04,
    MBWS_F_CONTENT_TYPE = 0x05,
    MBWS_F_CREDIT = 0x06,
    MBWS_F_LIMIT = 0x07,
    MBWS_F_MAX_FRAME = 0x08,
    MBWS_F_SESSION = 0x09,
    MBWS_F_LAST_SEQ = 0x0A,
    MBWS_F_SESSION_EXPIRY = 0x0B,
    MBWS_F_RESUMED = 0x0C,
    MBWS_F_CODE = 0x0D,
    MBWS_F_TEXT = 0x0E,
    MBWS_F_NAME = 0x0F
};
#define MBWS_FIELD_MAX 0x0F
#define MBWS_NFIELDS (MBWS_FIELD_MAX + 1) /* arrays indexed by field id */

enum mbws_field_kind { MBWS_KIND_INT = 1, MBWS_KIND_STR = 2 };

/* Error codes (section 11). */
enum mbws_error_code {
    MBWS_OK = 0,
    MBWS_E_MALFORMED = 1,
    MBWS_E_UNKNOWN_TYPE = 2,
    MBWS_E_TOO_LARGE = 3,
    MBWS_E_UNEXPECTED = 4,
    MBWS_E_SEQUENCE = 5,
    MBWS_E_INVALID_ACK = 6,
    MBWS_E_CREDIT_EXCEEDED = 7,
    MBWS_E_FLOW = 8,
    MBWS_E_INVALID_ADDRESS = 9,
    MBWS_E_INVALID_SUB = 10,
    MBWS_E_VERSION = 11,
    MBWS_E_UNKNOWN_SESSION = 12,
    MBWS_E_RESUME_NOT_SUPPORTED = 13,
    MBWS_E_CONNECT_TIMEOUT = 14,
    /* Not an MBWS code: the WebSocket layer fails the connection with 1007
     * (WS-6), with no ERROR frame. */
    MBWS_E_WS_INVALID_UTF8 = 1007
};
#define MBWS_ERROR_CODE_MAX 14

/* Who sends a frame type (section 5). */
enum mbws_direction {
    MBWS_DIR_C2B = 1, /* client to broker */
    MBWS_DIR_B2C = 2, /* broker to client */
    MBWS_DIR_BOTH = 3
};

/* Field presence rules per frame type (section 5). */
enum mbws_presence {
    MBWS_P_NONE = 0,     /* not listed: ignored (FLD-3) */
    MBWS_P_REQUIRED,     /* R */
    MBWS_P_OPTIONAL,     /* O */
    MBWS_P_COND          /* R or O depending on a rule in mbws_layout.c */
};

struct mbws_field_desc {
    uint8_t id;
    const char *name; /* text header name */
    enum mbws_field_kind kind;
};

struct mbws_type_desc {
    uint8_t code;
    const char *name; /* text type line */
    enum mbws_direction dir;
    int may_have_body; /* BIN-7, TXT-7 */
    uint8_t presence[MBWS_NFIELDS]; /* enum mbws_presence, by field id */
};

/* Tables, defined in mbws_layout.c. Index by code / id; entry 0 unused. */
extern const struct mbws_field_desc mbws_fields[MBWS_NFIELDS];
extern const struct mbws_type_desc mbws_types[MBWS_TYPE_MAX + 1];

/* Lookups; NULL / 0 when unknown. */
const struct mbws_field_desc *mbws_field_by_id(unsigned id);
const struct mbws_field_desc *mbws_field_by_name(const char *name, size_t len);
const struct mbws_type_desc *mbws_type_by_code(unsigned code);
const struct mbws_type_desc *mbws_type_by_name(const char *name, size_t len);
const char *mbws_type_name(unsigned code);        /* "CONNECT", or "UNKNOWN" */
const char *mbws_error_name(unsigned code);       /* "malformed-frame", ... */
/* The type a frame names in its first octet (binary) or its type line
 * (text), without decoding the rest; 0 when it names no known type. */
unsigned mbws_type_announced(const uint8_t *p, size_t len, int text);

#endif
