/* Text that came from a target, made safe for where it goes: the result
 * file must be valid UTF-8 JSON whatever octets a target sent (a close
 * reason, a subprotocol value, a client's output), and a terminal must not
 * receive a target's escape sequences. */
#include <stdlib.h>
#include <string.h>

#include "engine_text.h"

size_t eng_utf8_char(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong form */
        if (c == 0xED)
            hi = 0x9F; /* no surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* A control character that must not pass: C0 but tab (and, in JSON, line
 * ends), DEL, C1. ESC from a target stays out of results and terminals. */
static int is_control(const unsigned char *p, size_t k, int term)
{
    if (k == 2)
        return p[0] == 0xC2 && p[1] < 0xA0;
    if (k != 1)
        return 0;
    if (p[0] == '\t' || (!term && (p[0] == '\n' || p[0] == '\r')))
        return 0;
    return p[0] < 0x20 || p[0] == 0x7F;
}

/* Copies s to out (room for 4 * n + 1): invalid octets and control
 * characters as \xNN (a terminal also gets line ends escaped). Returns
 * out's length. */
static size_t escape(const char *s, size_t n, char *out, int term)
{
    static const char d[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = eng_utf8_char(p + i, n - i);
        if (k && !is_control(p + i, k, term)) {
            memcpy(out + o, p + i, k);
            o += k, i += k;
            continue;
        }
        size_t m = k ? k : 1;
        for (size_t j = 0; j < m; j++, i++) {
            out[o++] = '\\', out[o++] = 'x';
            out[o++] = d[p[i] >> 4], out[o++] = d[p[i] & 15];
        }
    }
    out[o] = 0;
    return o;
}

static int needs_escape(const char *s, int term)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = eng_utf8_char(p + i, n - i);
        if (!k || is_control(p + i, k, term))
            return 1;
        i += k;
    }
    return 0;
}

void eng_json_sanitize(cJSON *j)
{
    for (; j; j = j->next) {
        if (cJSON_IsString(j) && j->valuestring && needs_escape(j->valuestring, 0)) {
            size_t n = strlen(j->valuestring);
            char *s = cJSON_malloc(4 * n + 1);
            if (!s)
                abort();
            escape(j->valuestring, n, s, 0);
            cJSON_free(j->valuestring);
            j->valuestring = s;
        }
        if (j->child)
            eng_json_sanitize(j->child);
    }
}

const char *eng_term_text(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (!needs_escape(s, 1))
        return s;
    if (n > (cap - 1) / 4)
        n = (cap - 1) / 4;
    escape(s, n, buf, 1);
    return buf;
}
