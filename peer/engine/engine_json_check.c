/* What a case file must be before its JSON is read, and what cJSON does
 * not check: UTF-8 only, no NUL (raw or \u0000), nesting no deeper than
 * ENG_JSON_MAX_DEPTH, no key twice in an object (cJSON keeps the first,
 * Python the last: the engine and the harness would run different cases).
 * The harness refuses the same (harness/mbws_harness/cases.py). */
#include <stdio.h>
#include <string.h>

#include "engine_json_check.h"
#include "engine_text.h"

struct level {
    int is_obj;
    long index;    /* array: the current item */
    char key[64];  /* object: the current key, as written */
};

struct scan {
    struct level lv[ENG_JSON_MAX_DEPTH + 1];
    int depth;
    int want_key;  /* in an object, the next string is a key */
};

static void pointer(const struct scan *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (int d = 0; d < s->depth && d <= ENG_JSON_MAX_DEPTH && o + 1 < cap; d++) {
        int n = s->lv[d].is_obj ? snprintf(out + o, cap - o, "/%s", s->lv[d].key)
                                : snprintf(out + o, cap - o, "/%ld", s->lv[d].index);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    if (!out[0])
        snprintf(out, cap, "/");
}

/* Scans a string starting after its opening quote; returns the offset
 * after the closing quote, or -1 with why. */
static long scan_string(struct scan *s, const unsigned char *t, size_t len, size_t i, char *why,
                        size_t whylen)
{
    char *key = s->want_key && s->depth ? s->lv[s->depth - 1].key : NULL;
    size_t k = 0;
    while (i < len && t[i] != '"') {
        size_t n = 1;
        if (t[i] == '\\' && i + 1 < len) {
            if (t[i + 1] == 'u' && i + 5 < len && !memcmp(t + i + 2, "0000", 4)) {
                snprintf(why, whylen, "a NUL character (\\u0000) in a string");
                return -1;
            }
            n = 2;
        } else if (t[i] == 0) {
            snprintf(why, whylen, "a NUL octet at offset %zu", i);
            return -1;
        } else if (!(n = eng_utf8_char(t + i, len - i))) {
            snprintf(why, whylen, "an octet that is not UTF-8 (0x%02x) at offset %zu", t[i], i);
            return -1;
        }
        for (size_t j = 0; key && j < n && k + 1 < sizeof s->lv[0].key; j++)
            key[k++] = (char)t[i + j];
        i += n;
    }
    if (key)
        key[k] = 0;
    return (long)i + 1;
}

int eng_json_text_check(const char *text, size_t len, char *ptr, size_t ptrcap, char *why,
                        size_t whylen)
{
    const unsigned char *t = (const unsigned char *)text;
    struct scan s;
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < len;) {
        unsigned char c = t[i];
        if (c == '"') {
            long next = scan_string(&s, t, len, i + 1, why, whylen);
            if (next < 0) {
                pointer(&s, ptr, ptrcap);
                return -1;
            }
            s.want_key = 0;
            i = (size_t)next;
            continue;
        }
        if (c == '{' || c == '[') {
            if (s.depth == ENG_JSON_MAX_DEPTH) {
                pointer(&s, ptr, ptrcap);
                snprintf(why, whylen, "nested deeper than %d levels", ENG_JSON_MAX_DEPTH);
                return -1;
            }
            struct level *l = &s.lv[s.depth++];
            memset(l, 0, sizeof *l);
            l->is_obj = c == '{';
            s.want_key = l->is_obj;
        } else if ((c == '}' || c == ']') && s.depth) {
            s.depth--;
            s.want_key = 0;
        } else if (c == ',' && s.depth) {
            struct level *l = &s.lv[s.depth - 1];
            l->index++;
            s.want_key = l->is_obj;
        } else if (c == 0) {
            pointer(&s, ptr, ptrcap);
            snprintf(why, whylen, "a NUL octet at offset %zu", i);
            return -1;
        } else if (c >= 0x80) {
            pointer(&s, ptr, ptrcap);
            snprintf(why, whylen, "an octet that is not UTF-8 or not in a string at offset %zu", i);
            return -1;
        }
        i++;
    }
    return 0;
}

/* Appends "/name" (or "/index") to the pointer in ptr. */
static size_t push_ptr(char *ptr, size_t cap, const cJSON *parent, const cJSON *item, int index)
{
    size_t o = strlen(ptr);
    if (cJSON_IsObject(parent))
        snprintf(ptr + o, cap - o, "/%s", item->string);
    else
        snprintf(ptr + o, cap - o, "/%d", index);
    return o;
}

static int dup_walk(const cJSON *j, char *ptr, size_t cap, char *why, size_t whylen)
{
    int index = 0;
    for (const cJSON *a = j->child; a; a = a->next, index++) {
        if (cJSON_IsObject(j))
            for (const cJSON *b = a->next; b; b = b->next)
                if (a->string && b->string && !strcmp(a->string, b->string)) {
                    snprintf(why, whylen, "the key \"%.60s\" appears twice", a->string);
                    if (!ptr[0])
                        snprintf(ptr, cap, "/");
                    return -1;
                }
        size_t o = push_ptr(ptr, cap, j, a, index);
        if (dup_walk(a, ptr, cap, why, whylen) < 0)
            return -1;
        ptr[o] = 0;
    }
    return 0;
}

int eng_json_dup_check(const cJSON *root, char *ptr, size_t ptrcap, char *why, size_t whylen)
{
    ptr[0] = 0;
    return dup_walk(root, ptr, ptrcap, why, whylen);
}
