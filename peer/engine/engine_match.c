/* Bytes specs (what a case sends as a body or raw payload) and matchers
 * (what a case expects of a field, a body or an exit status). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits, whitespace ignored. */
static int hex_decode(const char *s, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    size_t n = strlen(s), k = 0;
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        abort();
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i]))
            continue;
        int v = hexval((unsigned char)s[i]);
        if (v < 0) {
            snprintf(err, errlen, "'%c' is not a hex digit", s[i]);
            free(b);
            return -1;
        }
        if (hi < 0) {
            hi = v;
        } else {
            b[k++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        snprintf(err, errlen, "odd number of hex digits");
        free(b);
        return -1;
    }
    *out = b;
    *len = k;
    return 0;
}

static void append(uint8_t **b, size_t *len, const uint8_t *p, size_t n)
{
    *b = realloc(*b, *len + n + 1);
    if (!*b)
        abort();
    if (n)
        memcpy(*b + *len, p, n);
    *len += n;
}

int eng_bytes(const eng_vars *vs, const cJSON *spec, uint8_t **out, size_t *len, char *err,
              size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (cJSON_IsArray(spec)) {
        uint8_t *acc = malloc(1);
        size_t alen = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, spec)
        {
            uint8_t *p;
            size_t n;
            if (eng_bytes(vs, it, &p, &n, err, errlen) < 0) {
                free(acc);
                return -1;
            }
            append(&acc, &alen, p, n);
            free(p);
        }
        *out = acc;
        *len = alen;
        return 0;
    }
    if (cJSON_IsString(spec)) {
        eng_value v = {0};
        if (eng_subst(vs, spec, &v, err, errlen) < 0)
            return -1;
        if (v.type == EV_INT) {
            char num[24];
            int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v.n);
            eng_value_set_str(&v, num, (size_t)n);
        }
        *out = (uint8_t *)v.s;
        *len = v.slen;
        return 0;
    }
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(spec, "hex");
    const cJSON *fill = cJSON_GetObjectItemCaseSensitive(spec, "fill");
    if (cJSON_IsString(hex)) {
        eng_value v = {0};
        if (eng_subst(vs, hex, &v, err, errlen) < 0)
            return -1;
        int rc = hex_decode(v.s, out, len, err, errlen);
        eng_value_free(&v);
        return rc;
    }
    if (fill) {
        uint64_t size = 0;
        uint8_t *unit;
        size_t ulen;
        if (eng_subst_int(vs, cJSON_GetObjectItemCaseSensitive(spec, "size"), &size, err, errlen) <
            0)
            return -1;
        if (size > (256u << 20)) {
            snprintf(err, errlen, "fill size %llu is above 256 MiB", (unsigned long long)size);
            return -1;
        }
        if (eng_bytes(vs, fill, &unit, &ulen, err, errlen) < 0)
            return -1;
        if (!ulen) {
            free(unit);
            snprintf(err, errlen, "empty fill");
            return -1;
        }
        uint8_t *b = malloc((size_t)size + 1);
        if (!b)
            abort();
        for (size_t i = 0; i < size; i++)
            b[i] = unit[i % ulen];
        free(unit);
        *out = b;
        *len = (size_t)size;
        return 0;
    }
    snprintf(err, errlen, "a bytes value is a string, {\"hex\": ...}, {\"fill\": ..., \"size\": N} "
                          "or an array of these");
    return -1;
}

static void show(char *out, size_t cap, int is_int, uint64_t n, const uint8_t *p, size_t len)
{
    if (is_int) {
        snprintf(out, cap, "%llu", (unsigned long long)n);
        return;
    }
    size_t o = 0;
    if (cap < 8) {
        if (cap)
            out[0] = 0;
        return;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len && o + 6 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
            out[o++] = (char)p[i];
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
        }
    }
    if (len && o + 6 >= cap)
        o -= 3, out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o++] = '"';
    out[o] = 0;
}

/* Equality of an actual value and an expected JSON scalar or bytes spec. */
static int equal(const eng_vars *vs, const cJSON *want, int is_int, uint64_t n, const uint8_t *p,
                 size_t len, char *err, size_t errlen)
{
    if (is_int) {
        uint64_t w;
        if (cJSON_IsObject(want)) {
            snprintf(err, errlen, "an integer is compared with a number or ${...}");
            return -1;
        }
        eng_value v = {0};
        if (eng_subst(vs, want, &v, err, errlen) < 0)
            return -1;
        int r;
        if (v.type == EV_INT) {
            r = v.n == n;
        } else {
            char *e = NULL;
            w = strtoull(v.s, &e, 10);
            r = v.slen && e && !*e && isdigit((unsigned char)v.s[0]) && w == n;
        }
        eng_value_free(&v);
        return r;
    }
    uint8_t *b;
    size_t bl;
    if (cJSON_IsNumber(want)) {
        char num[24];
        int k = snprintf(num, sizeof num, "%llu", (unsigned long long)want->valuedouble);
        return (size_t)k == len && !memcmp(num, p, len);
    }
    if (eng_bytes(vs, want, &b, &bl, err, errlen) < 0)
        return -1;
    int r = bl == len && (!len || !memcmp(b, p, len));
    free(b);
    return r;
}

static int cmp_int(const eng_vars *vs, const cJSON *want, const char *op, int is_int, uint64_t n,
                   char *err, size_t errlen)
{
    uint64_t w;
    if (!is_int) {
        snprintf(err, errlen, "'%s' compares integers only", op);
        return -1;
    }
    if (eng_subst_int(vs, want, &w, err, errlen) < 0)
        return -1;
    if (!strcmp(op, "ge"))
        return n >= w;
    if (!strcmp(op, "gt"))
        return n > w;
    if (!strcmp(op, "le"))
        return n <= w;
    return n < w;
}

struct eng_should_miss eng_should_last;
int eng_match_strict;

/* {"should": M, "clause": "ERR-1"}: M does not decide the match (unless
 * strict); a miss is kept in eng_should_last for the step to commit. */
static int should(const eng_vars *vs, const cJSON *m, const cJSON *op, int state, int is_int,
                  uint64_t n, const uint8_t *p, size_t len)
{
    char w[300];
    int r = eng_match(vs, op, state, is_int, n, p, len, w, sizeof w);
    if (r != 0 || eng_match_strict)
        return r;
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(m, "clause");
    eng_should_last.missed = 1;
    eng_should_last.what[0] = 0;
    snprintf(eng_should_last.clause, sizeof eng_should_last.clause, "%s",
             cJSON_IsString(cl) ? cl->valuestring : "?");
    snprintf(eng_should_last.why, sizeof eng_should_last.why, "%s", w);
    return 1;
}

int eng_match(const eng_vars *vs, const cJSON *m, int present, int is_int, uint64_t n,
              const uint8_t *p, size_t len, char *why, size_t whylen)
{
    char got[200], exp[200], err[200] = "";
    int state = present, sent = present != 0; /* sent: on the wire, listed or not */
    present = present == 1;  /* an ignored unlisted field is absent (FLD-3) */
    if (present)
        show(got, sizeof got, is_int, n, p, len);
    else if (sent)
        snprintf(got, sizeof got, "absent (sent, but not listed for this frame type: ignored, FLD-3)");
    else
        snprintf(got, sizeof got, "absent");
    eng_matcher_text(m, exp, sizeof exp);
    int ok = 1;
    if (cJSON_IsNull(m) || cJSON_IsFalse(m)) {
        ok = !present;
    } else if (cJSON_IsTrue(m)) {
        ok = present;
    } else if (!cJSON_IsObject(m) || cJSON_GetObjectItemCaseSensitive(m, "hex") ||
               cJSON_GetObjectItemCaseSensitive(m, "fill")) {
        if (cJSON_IsArray(m)) {
            /* one of several values */
            ok = 0;
            const cJSON *it;
            cJSON_ArrayForEach(it, m)
            {
                int r = present ? equal(vs, it, is_int, n, p, len, err, sizeof err) : 0;
                if (r < 0)
                    goto error;
                ok |= r;
            }
        } else {
            int r = present ? equal(vs, m, is_int, n, p, len, err, sizeof err) : 0;
            if (r < 0)
                goto error;
            ok = r;
        }
    } else {
        const cJSON *op;
        cJSON_ArrayForEach(op, m)
        {
            const char *k = op->string;
            int r;
            if (!strcmp(k, "any") || !strcmp(k, "clause")) {
                r = 1;
            } else if (!strcmp(k, "if_present")) {
                r = present ? eng_match(vs, op, state, is_int, n, p, len, NULL, 0) : 1;
            } else if (!strcmp(k, "should")) {
                r = should(vs, m, op, state, is_int, n, p, len);
            } else if (!strcmp(k, "present")) {
                r = cJSON_IsTrue(op) ? present : !present;
            } else if (!strcmp(k, "absent")) {
                r = cJSON_IsTrue(op) ? !present : present;
            } else if (!strcmp(k, "not_sent")) {
                r = cJSON_IsTrue(op) ? !sent : sent;
            } else if (!present) {
                r = 0;
            } else if (!strcmp(k, "eq") || !strcmp(k, "ne")) {
                r = equal(vs, op, is_int, n, p, len, err, sizeof err);
                if (r >= 0 && k[0] == 'n')
                    r = !r;
            } else if (!strcmp(k, "ge") || !strcmp(k, "gt") || !strcmp(k, "le") ||
                       !strcmp(k, "lt")) {
                r = cmp_int(vs, op, k, is_int, n, err, sizeof err);
            } else if (!strcmp(k, "in")) {
                r = eng_match(vs, op, state, is_int, n, p, len, NULL, 0);
            } else if (!strcmp(k, "len")) {
                r = eng_match(vs, op, 1, 1, is_int ? 8 : len, NULL, 0, NULL, 0);
            } else if (!strcmp(k, "contains")) {
                uint8_t *b;
                size_t bl;
                if (is_int || eng_bytes(vs, op, &b, &bl, err, sizeof err) < 0) {
                    if (is_int)
                        snprintf(err, sizeof err, "'contains' applies to strings");
                    goto error;
                }
                r = 0;
                for (size_t i = 0; !r && i + bl <= len; i++)
                    r = !memcmp(p + i, b, bl);
                free(b);
            } else if (!strcmp(k, "matches")) {
                regex_t re;
                if (!cJSON_IsString(op) || regcomp(&re, op->valuestring, REG_EXTENDED | REG_NOSUB)) {
                    snprintf(err, sizeof err, "bad regular expression");
                    goto error;
                }
                char *s = malloc(len + 24);
                if (!s)
                    abort();
                if (len)
                    memcpy(s, p, len);
                s[len] = 0;
                if (is_int)
                    snprintf(s, 24, "%llu", (unsigned long long)n);
                r = regexec(&re, s, 0, NULL, 0) == 0;
                regfree(&re);
                free(s);
            } else {
                snprintf(err, sizeof err, "unknown matcher '%s'", k);
                goto error;
            }
            if (r < 0)
                goto error;
            if (!r) {
                ok = 0;
                break;
            }
        }
    }
    if (!ok && why)
        snprintf(why, whylen, "is %s, expected %s", got, exp);
    return ok;
error:
    if (why)
        snprintf(why, whylen, "cannot match: %s", err);
    return -1;
}

void eng_matcher_text(const cJSON *m, char *out, size_t cap)
{
    if (cJSON_IsNull(m) || cJSON_IsFalse(m)) {
        snprintf(out, cap, "absent");
        return;
    }
    if (cJSON_IsTrue(m)) {
        snprintf(out, cap, "present");
        return;
    }
    if (cJSON_IsObject(m) && !cJSON_GetObjectItemCaseSensitive(m, "hex") &&
        !cJSON_GetObjectItemCaseSensitive(m, "fill")) {
        size_t o = 0;
        const cJSON *op;
        out[0] = 0;
        cJSON_ArrayForEach(op, m)
        {
            static const struct {
                const char *k, *t;
            } ops[] = {{"eq", "= "}, {"ne", "!= "}, {"ge", ">= "}, {"gt", "> "}, {"le", "<= "},
                       {"lt", "< "}, {"in", "one of "}, {"len", "length "},
                       {"if_present", "absent or "}, {"should", "(SHOULD) "},
                       {"clause", "clause "},
                       {"contains", "containing "}, {"matches", "matching "}};
            const char *t = op->string;
            for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
                if (!strcmp(ops[i].k, op->string))
                    t = ops[i].t;
            char *v = NULL;
            if (!strcmp(op->string, "not_sent")) {
                o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? " and " : "",
                                      cJSON_IsFalse(op) ? "sent (listed or not)"
                                                        : "not sent at all (listed or not)");
            } else if (!strcmp(op->string, "present") || !strcmp(op->string, "absent") ||
                !strcmp(op->string, "any")) {
                o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? " and " : "",
                                      cJSON_IsFalse(op) ? (op->string[0] == 'p' ? "absent" : "present")
                                                        : op->string);
            } else {
                v = cJSON_PrintUnformatted(op);
                o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s%s", o ? " and " : "",
                                      t, v ? v : "?");
            }
            free(v);
            if (o >= cap)
                break;
        }
        return;
    }
    char *v = cJSON_PrintUnformatted(m);
    snprintf(out, cap, "%s%s", cJSON_IsArray(m) ? "one of " : "", v ? v : "?");
    free(v);
}
