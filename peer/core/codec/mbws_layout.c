/* MBWS profile 1 tables (profile section 5) and their lookups. Every
 * field id, name, kind and per-type presence lives here and nowhere else. */
#include <string.h>

#include "mbws_frame.h"
#include "mbws_layout.h"

#define R MBWS_P_REQUIRED
#define O MBWS_P_OPTIONAL
#define C MBWS_P_COND

const struct mbws_field_desc mbws_fields[MBWS_NFIELDS] = {
    [0] = {0, NULL, 0},
    [MBWS_F_VERSION] = {MBWS_F_VERSION, "version", MBWS_KIND_INT},
    [MBWS_F_SEQ] = {MBWS_F_SEQ, "seq", MBWS_KIND_INT},
    [MBWS_F_ADDRESS] = {MBWS_F_ADDRESS, "address", MBWS_KIND_STR},
    [MBWS_F_SUB] = {MBWS_F_SUB, "sub", MBWS_KIND_INT},
    [MBWS_F_CONTENT_TYPE] = {MBWS_F_CONTENT_TYPE, "content-type", MBWS_KIND_STR},
    [MBWS_F_CREDIT] = {MBWS_F_CREDIT, "credit", MBWS_KIND_INT},
    [MBWS_F_LIMIT] = {MBWS_F_LIMIT, "limit", MBWS_KIND_INT},
    [MBWS_F_MAX_FRAME] = {MBWS_F_MAX_FRAME, "max-frame", MBWS_KIND_INT},
    [MBWS_F_SESSION] = {MBWS_F_SESSION, "session", MBWS_KIND_STR},
    [MBWS_F_LAST_SEQ] = {MBWS_F_LAST_SEQ, "last-seq", MBWS_KIND_INT},
    [MBWS_F_SESSION_EXPIRY] = {MBWS_F_SESSION_EXPIRY, "session-expiry", MBWS_KIND_INT},
    [MBWS_F_RESUMED] = {MBWS_F_RESUMED, "resumed", MBWS_KIND_INT},
    [MBWS_F_CODE] = {MBWS_F_CODE, "code", MBWS_KIND_INT},
    [MBWS_F_TEXT] = {MBWS_F_TEXT, "text", MBWS_KIND_STR},
    [MBWS_F_NAME] = {MBWS_F_NAME, "name", MBWS_KIND_STR},
};

/* Section 5 frame type table. C (MBWS_P_COND) entries are resolved by
 * mbws_field_presence() (mbws_frame.c). */
const struct mbws_type_desc mbws_types[MBWS_TYPE_MAX + 1] = {
    [0] = {0, NULL, 0, 0, {0}},
    [MBWS_CONNECT] = {MBWS_CONNECT, "CONNECT", MBWS_DIR_C2B, 0,
                      {[MBWS_F_VERSION] = R, [MBWS_F_CREDIT] = R, [MBWS_F_MAX_FRAME] = R,
                       [MBWS_F_SESSION] = O, [MBWS_F_LAST_SEQ] = C, [MBWS_F_NAME] = O}},
    [MBWS_CONNECTED] = {MBWS_CONNECTED, "CONNECTED", MBWS_DIR_B2C, 0,
                        {[MBWS_F_VERSION] = R, [MBWS_F_CREDIT] = R, [MBWS_F_MAX_FRAME] = R,
                         [MBWS_F_SESSION] = C, [MBWS_F_SESSION_EXPIRY] = C,
                         [MBWS_F_RESUMED] = C, [MBWS_F_LAST_SEQ] = C, [MBWS_F_NAME] = O}},
    [MBWS_MESSAGE] = {MBWS_MESSAGE, "MESSAGE", MBWS_DIR_BOTH, 1,
                      {[MBWS_F_SEQ] = R, [MBWS_F_ADDRESS] = R, [MBWS_F_SUB] = C,
                       [MBWS_F_CONTENT_TYPE] = O}},
    [MBWS_ACK] = {MBWS_ACK, "ACK", MBWS_DIR_BOTH, 0, {[MBWS_F_SEQ] = R}},
    [MBWS_FLOW] = {MBWS_FLOW, "FLOW", MBWS_DIR_BOTH, 0, {[MBWS_F_LIMIT] = R}},
    [MBWS_SUBSCRIBE] = {MBWS_SUBSCRIBE, "SUBSCRIBE", MBWS_DIR_C2B, 0,
                        {[MBWS_F_SUB] = R, [MBWS_F_ADDRESS] = R}},
    [MBWS_UNSUBSCRIBE] = {MBWS_UNSUBSCRIBE, "UNSUBSCRIBE", MBWS_DIR_C2B, 0, {[MBWS_F_SUB] = R}},
    [MBWS_DISCONNECT] = {MBWS_DISCONNECT, "DISCONNECT", MBWS_DIR_BOTH, 0, {0}},
    [MBWS_ERROR] = {MBWS_ERROR, "ERROR", MBWS_DIR_BOTH, 0,
                    {[MBWS_F_CODE] = R, [MBWS_F_TEXT] = O, [MBWS_F_SEQ] = O}},
};

#undef R
#undef O
#undef C

static const char *const error_names[MBWS_ERROR_CODE_MAX + 1] = {
    "ok",
    "malformed-frame",
    "unknown-frame-type",
    "frame-too-large",
    "unexpected-frame",
    "sequence-error",
    "invalid-ack",
    "credit-exceeded",
    "flow-error",
    "invalid-address",
    "invalid-subscription",
    "unsupported-version",
    "unknown-session",
    "resume-not-supported",
    "connect-timeout",
};

const struct mbws_field_desc *mbws_field_by_id(unsigned id)
{
    if (id == 0 || id > MBWS_FIELD_MAX)
        return NULL;
    return &mbws_fields[id];
}

const struct mbws_field_desc *mbws_field_by_name(const char *name, size_t len)
{
    if (name == NULL)
        return NULL;
    for (unsigned id = 1; id <= MBWS_FIELD_MAX; id++) {
        const char *n = mbws_fields[id].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return &mbws_fields[id];
    }
    return NULL;
}

const struct mbws_type_desc *mbws_type_by_code(unsigned code)
{
    if (code == 0 || code > MBWS_TYPE_MAX)
        return NULL;
    return &mbws_types[code];
}

/* Exact, case-sensitive match (TXT-1). */
const struct mbws_type_desc *mbws_type_by_name(const char *name, size_t len)
{
    if (name == NULL)
        return NULL;
    for (unsigned code = 1; code <= MBWS_TYPE_MAX; code++) {
        const char *n = mbws_types[code].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return &mbws_types[code];
    }
    return NULL;
}

unsigned mbws_type_announced(const uint8_t *p, size_t len, int text)
{
    if (!text)
        return len && mbws_type_by_code(p[0]) ? p[0] : 0;
    const uint8_t *lf = len ? memchr(p, '\n', len) : NULL;
    const struct mbws_type_desc *d = lf ? mbws_type_by_name((const char *)p, (size_t)(lf - p)) : NULL;
    return d ? d->code : 0;
}

const char *mbws_type_name(unsigned code)
{
    const struct mbws_type_desc *t = mbws_type_by_code(code);
    return t ? t->name : "UNKNOWN";
}

const char *mbws_error_name(unsigned code)
{
    if (code <= MBWS_ERROR_CODE_MAX)
        return error_names[code];
    if (code == MBWS_E_WS_INVALID_UTF8)
        return "websocket-invalid-utf8";
    return "unknown-error";
}
