/* Loading and validating case files. Every problem is reported as
 * "FILE: /json/pointer: reason" before anything runs. cases/schema.json
 * says the same in JSON Schema; docs/case-format.md in prose. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct vctx {
    const char *file;
    char ptr[512];
    char *err;
    size_t errlen;
    int depth;
};

static int fail(struct vctx *v, const char *fmt, const char *a)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a ? a : "");
    snprintf(v->err, v->errlen, "%s: %s: %s", v->file, v->ptr[0] ? v->ptr : "/", msg);
    return -1;
}

/* Pushes a pointer segment; returns the old length for pop(). */
static size_t push_key(struct vctx *v, const char *k)
{
    size_t old = strlen(v->ptr), o = old;
    if (o + 1 < sizeof v->ptr)
        v->ptr[o++] = '/';
    for (; *k && o + 2 < sizeof v->ptr; k++) {
        if (*k == '~' || *k == '/') {
            v->ptr[o++] = '~';
            v->ptr[o++] = *k == '~' ? '0' : '1';
        } else {
            v->ptr[o++] = *k;
        }
    }
    v->ptr[o] = 0;
    return old;
}

static size_t push_idx(struct vctx *v, int i)
{
    char b[16];
    snprintf(b, sizeof b, "%d", i);
    return push_key(v, b);
}

static void pop(struct vctx *v, size_t old)
{
    v->ptr[old] = 0;
}

typedef int (*vfn)(struct vctx *v, const cJSON *j);

static int with_key(struct vctx *v, const cJSON *j, vfn f)
{
    size_t o = push_key(v, j->string);
    int rc = f(v, j);
    if (rc == 0)
        pop(v, o);
    return rc;
}

/* Validates every item of an array with f, each under its index. */
static int each_item(struct vctx *v, const cJSON *j, vfn f)
{
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        size_t o = push_idx(v, i++);
        if (f(v, it) < 0)
            return -1;
        pop(v, o);
    }
    return 0;
}

/* Validates every member of an object with f, each under its key. */
static int each_member(struct vctx *v, const cJSON *j, vfn f)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, j)
    {
        if (with_key(v, m, f) < 0)
            return -1;
    }
    return 0;
}

static int v_subst(struct vctx *v, const char *s)
{
    char e[200];
    if (eng_subst_check(s, e, sizeof e) < 0)
        return fail(v, "%s", e);
    return 0;
}

static int v_str(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsString(j))
        return fail(v, "must be a string", NULL);
    return v_subst(v, j->valuestring);
}

/* A non-negative integer, a decimal string or a ${...} expression. */
static int v_int(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNumber(j)) {
        if (j->valuedouble < 0 || j->valuedouble != (double)(uint64_t)j->valuedouble)
            return fail(v, "must be a non-negative integer", NULL);
        return 0;
    }
    if (cJSON_IsString(j) && (strstr(j->valuestring, "${") || isdigit((unsigned char)j->valuestring[0])))
        return v_subst(v, j->valuestring);
    return fail(v, "must be a non-negative integer or a ${...} expression", NULL);
}

static int v_bool(struct vctx *v, const cJSON *j)
{
    return cJSON_IsBool(j) ? 0 : fail(v, "must be true or false", NULL);
}

static int v_name(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsString(j) || !j->valuestring[0] || strlen(j->valuestring) > 31)
        return fail(v, "must be a name of 1 to 31 characters", NULL);
    for (const char *p = j->valuestring; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return fail(v, "a name holds only letters, digits, '_' and '-'", NULL);
    return 0;
}

static int v_conn_or_true(struct vctx *v, const cJSON *j)
{
    return cJSON_IsTrue(j) ? 0 : v_name(v, j);
}

static int v_varname(struct vctx *v, const char *s)
{
    if (!s[0] || strlen(s) > 47 || isdigit((unsigned char)s[0]))
        return fail(v, "'%s' is not a variable name", s);
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return fail(v, "variable names hold letters, digits and '_' only, not '%s'", s);
    return 0;
}

static int v_bytes(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsString(j))
        return v_subst(v, j->valuestring);
    if (cJSON_IsArray(j))
        return each_item(v, j, v_bytes);
    if (cJSON_IsObject(j)) {
        const cJSON *hex = cJSON_GetObjectItemCaseSensitive(j, "hex");
        const cJSON *fill = cJSON_GetObjectItemCaseSensitive(j, "fill");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(j, "size");
        int n = cJSON_GetArraySize(j);
        if (hex && n == 1) {
            if (v_str(v, hex) < 0)
                return -1;
            if (!strstr(hex->valuestring, "${"))
                for (const char *p = hex->valuestring; *p; p++)
                    if (!isxdigit((unsigned char)*p) && !isspace((unsigned char)*p))
                        return fail(v, "\"hex\" holds hex digits and spaces only", NULL);
            return 0;
        }
        if (fill && size && n == 2)
            return with_key(v, fill, v_bytes) < 0 ? -1 : with_key(v, size, v_int);
    }
    return fail(v, "a bytes value is a string, {\"hex\": \"..\"}, {\"fill\": .., \"size\": N} or "
                   "an array of these",
                NULL);
}

static int v_matcher(struct vctx *v, const cJSON *j);

/* One member of a matcher object, e.g. "ge": 3. */
static int v_matcher_op(struct vctx *v, const cJSON *op)
{
    static const char *const ops[] = {"eq", "ne", "ge", "gt", "le", "lt", "in", "len",
                                      "contains", "matches", "present", "absent", "any",
                                      "not_sent"};
    size_t i;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i], op->string))
            break;
    if (i == sizeof ops / sizeof ops[0])
        return fail(v, "unknown matcher '%s' (eq ne ge gt le lt in len contains matches "
                       "present absent any not_sent)",
                    op->string);
    const char *k = op->string;
    if (!strcmp(k, "ge") || !strcmp(k, "gt") || !strcmp(k, "le") || !strcmp(k, "lt"))
        return v_int(v, op);
    if (!strcmp(k, "present") || !strcmp(k, "absent") || !strcmp(k, "any") ||
        !strcmp(k, "not_sent"))
        return v_bool(v, op);
    if (!strcmp(k, "in"))
        return cJSON_IsArray(op) ? v_matcher(v, op) : fail(v, "\"in\" takes an array", NULL);
    if (!strcmp(k, "len"))
        return v_matcher(v, op);
    if (!strcmp(k, "matches")) {
        regex_t re;
        if (!cJSON_IsString(op) || regcomp(&re, op->valuestring, REG_EXTENDED | REG_NOSUB))
            return fail(v, "not a POSIX extended regular expression", NULL);
        regfree(&re);
        return 0;
    }
    /* the rest: contains, eq, ne */
    return cJSON_IsNumber(op) ? v_int(v, op) : v_bytes(v, op);
}

static int v_matcher_obj(struct vctx *v, const cJSON *j)
{
    if (cJSON_GetObjectItemCaseSensitive(j, "hex") || cJSON_GetObjectItemCaseSensitive(j, "fill"))
        return v_bytes(v, j);
    if (!j->child)
        return fail(v, "an empty matcher object matches nothing", NULL);
    return each_member(v, j, v_matcher_op);
}

/* An item of a matcher array: any matcher but another array. */
static int v_matcher_item(struct vctx *v, const cJSON *it)
{
    return cJSON_IsArray(it) ? fail(v, "nested arrays are not matchers", NULL) : v_matcher(v, it);
}

static int v_matcher(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsBool(j) || cJSON_IsNull(j))
        return 0;
    if (cJSON_IsNumber(j))
        return v_int(v, j);
    if (cJSON_IsString(j))
        return v_subst(v, j->valuestring);
    if (cJSON_IsArray(j))
        return each_item(v, j, v_matcher_item);
    return v_matcher_obj(v, j);
}

static int known_field(const char *name)
{
    return mbws_field_by_name(name, strlen(name)) != NULL;
}

/* One "field name": matcher member of "expect_fields"/"fields". */
static int v_field_match(struct vctx *v, const cJSON *f)
{
    if (!known_field(f->string))
        return fail(v, "'%s' is not a field of section 5", f->string);
    return v_matcher(v, f);
}

static int v_fields_match(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsObject(j))
        return fail(v, "must be an object of field name: matcher", NULL);
    return each_member(v, j, v_field_match);
}

/* A field value to send: integer, string, bytes object, {"int": "big"},
 * or null (leave out a default field, in session macros). */
static int v_field_value(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNull(j) || cJSON_IsNumber(j))
        return cJSON_IsNull(j) ? 0 : v_int(v, j);
    if (cJSON_IsString(j))
        return v_subst(v, j->valuestring);
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(j, "int");
    if (cJSON_IsObject(j) && i && cJSON_GetArraySize(j) == 1)
        return with_key(v, i, v_int);
    return v_bytes(v, j);
}

/* One "name": value member of the object form of "fields". */
static int v_field_send_named(struct vctx *v, const cJSON *f)
{
    if (!known_field(f->string))
        return fail(v, "'%s' is not a field of section 5 (use the array form for "
                       "unknown fields)",
                    f->string);
    return v_field_value(v, f);
}

/* One {"field"|"id", "name", "value", "len"} entry of the array form of "fields". */
static int v_field_entry(struct vctx *v, const cJSON *e)
{
    if (!cJSON_IsObject(e))
        return fail(v, "a field entry is an object", NULL);
    const cJSON *k;
    int has_id = 0, has_val = 0;
    cJSON_ArrayForEach(k, e)
    {
        size_t o = push_key(v, k->string);
        if (!strcmp(k->string, "field")) {
            if (!cJSON_IsString(k) || !known_field(k->valuestring))
                return fail(v, "\"field\" names a field of section 5", NULL);
            has_id = 1;
        } else if (!strcmp(k->string, "id")) {
            if (!cJSON_IsNumber(k) || k->valuedouble < 0 || k->valuedouble > 255)
                return fail(v, "\"id\" is a binary field id 0..255", NULL);
            has_id = 1;
        } else if (!strcmp(k->string, "name")) {
            if (v_str(v, k) < 0)
                return -1;
        } else if (!strcmp(k->string, "value")) {
            if (cJSON_IsNull(k) || v_field_value(v, k) < 0)
                return cJSON_IsNull(k) ? fail(v, "a value cannot be null here", NULL) : -1;
            has_val = 1;
        } else if (!strcmp(k->string, "len")) {
            if (!cJSON_IsNumber(k) || k->valuedouble < 0 || k->valuedouble > 65535)
                return fail(v, "\"len\" is the binary length octets to send, 0..65535", NULL);
        } else {
            return fail(v, "unknown key '%s' in a field entry (field id name value len)",
                        k->string);
        }
        pop(v, o);
    }
    if (!has_id)
        return fail(v, "a field entry needs \"field\" or \"id\"", NULL);
    if (!has_val)
        return fail(v, "a field entry needs \"value\"", NULL);
    return 0;
}

static int v_fields_send(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsObject(j))
        return each_member(v, j, v_field_send_named);
    if (!cJSON_IsArray(j))
        return fail(v, "must be an object {name: value} or an array of field entries", NULL);
    return each_item(v, j, v_field_entry);
}

static int type_name_ok(const char *s)
{
    return mbws_type_by_name(s, strlen(s)) != NULL;
}

static int v_type_name(struct vctx *v, const cJSON *it)
{
    if (!cJSON_IsString(it) || !type_name_ok(it->valuestring))
        return fail(v, "must be a frame type of section 5", NULL);
    return 0;
}

static int v_types(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsString(j)) {
        if (!strcmp(j->valuestring, "any") || type_name_ok(j->valuestring))
            return 0;
        return fail(v, "'%s' is not a frame type of section 5 (or \"any\")", j->valuestring);
    }
    if (cJSON_IsArray(j) && cJSON_GetArraySize(j) > 0)
        return each_item(v, j, v_type_name);
    return fail(v, "must be a frame type name, \"any\", or a non-empty array of names", NULL);
}

static int v_ignore(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return fail(v, "must be an array of frame type names", NULL);
    return cJSON_GetArraySize(j) ? v_types(v, j) : 0;
}

static int v_send_type(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNumber(j)) {
        if (j->valuedouble < 0 || j->valuedouble > 255 || j->valuedouble != (int)j->valuedouble)
            return fail(v, "a numeric frame type is an octet 0..255", NULL);
        return 0;
    }
    if (cJSON_IsString(j) && type_name_ok(j->valuestring))
        return 0;
    return fail(v, "must be a frame type of section 5 or a type octet 0..255", NULL);
}

static int v_encoding(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsString(j) && (!strcmp(j->valuestring, "binary") || !strcmp(j->valuestring, "text") ||
                              !strcmp(j->valuestring, "any") || strstr(j->valuestring, "${")))
        return v_subst(v, j->valuestring);
    return fail(v, "must be \"binary\", \"text\", \"any\" (expect only) or ${...}", NULL);
}

static int v_opcode(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsString(j) && ws_opcode_by_name(j->valuestring) >= 0)
        return 0;
    if (cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble <= 15)
        return 0;
    return fail(v, "an opcode is text, binary, continuation, close, ping, pong or 0..15", NULL);
}

static int v_offer(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsArray(j))
        return fail(v, "must be an array of subprotocol names, or null for no header", NULL);
    return each_item(v, j, v_str);
}

static int v_str_or_null(struct vctx *v, const cJSON *j)
{
    return cJSON_IsNull(j) ? 0 : v_str(v, j);
}

static int v_codes(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNumber(j) || cJSON_IsString(j))
        return v_int(v, j);
    if (cJSON_IsArray(j) || cJSON_IsObject(j))
        return v_matcher(v, j);
    return fail(v, "must be a code, an array of codes or a matcher", NULL);
}

static int v_close_codes(struct vctx *v, const cJSON *j)
{
    return cJSON_IsNull(j) || cJSON_IsTrue(j) ? 0 : v_codes(v, j);
}

/* One variable: field member of "capture". */
static int v_capture_one(struct vctx *v, const cJSON *c)
{
    if (v_varname(v, c->string) < 0)
        return -1;
    if (!cJSON_IsString(c) || (!known_field(c->valuestring) && strcmp(c->valuestring, "body") &&
                               strcmp(c->valuestring, "type")))
        return fail(v, "captures a field of section 5, \"body\" or \"type\"", NULL);
    return 0;
}

static int v_capture(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsObject(j))
        return fail(v, "must be an object {variable: field}", NULL);
    return each_member(v, j, v_capture_one);
}

/* One variable: matcher member of a condition. */
static int v_cond_one(struct vctx *v, const cJSON *c)
{
    return v_varname(v, c->string) < 0 ? -1 : v_matcher(v, c);
}

static int v_cond(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsObject(j) || !j->child)
        return fail(v, "must be an object {variable: matcher}", NULL);
    return each_member(v, j, v_cond_one);
}

static int v_or_skip(struct vctx *v, const cJSON *j)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(j, "if");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
    if (!cJSON_IsObject(j) || !cond || !cJSON_IsString(reason) || cJSON_GetArraySize(j) != 2)
        return fail(v, "must be {\"if\": {variable: matcher}, \"reason\": \"...\"}", NULL);
    return with_key(v, cond, v_cond);
}

static int v_hold(struct vctx *v, const cJSON *j)
{
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(j, "fragment");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "announce");
    const cJSON *oc = cJSON_GetObjectItemCaseSensitive(j, "octets");
    int n = cJSON_GetArraySize(j);
    if (cJSON_IsObject(j) && fr && n == 1)
        return with_key(v, fr, v_int);
    if (cJSON_IsObject(j) && oc && n == (an ? 2 : 1)) {
        if (an && with_key(v, an, v_int) < 0)
            return -1;
        return with_key(v, oc, v_int);
    }
    return fail(v, "must be {\"fragment\": N} or {\"octets\": N} with an optional \"announce\": L",
                NULL);
}

/* One variable: value member of "set" or "vars". */
static int v_set_one(struct vctx *v, const cJSON *c)
{
    if (v_varname(v, c->string) < 0)
        return -1;
    if (!cJSON_IsString(c) && !cJSON_IsNumber(c))
        return fail(v, "a value is a number or a string", NULL);
    return cJSON_IsNumber(c) ? v_int(v, c) : v_subst(v, c->valuestring);
}

static int v_set(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsObject(j) || !j->child)
        return fail(v, "must be an object {variable: value}", NULL);
    return each_member(v, j, v_set_one);
}

static int v_true_or_bytes(struct vctx *v, const cJSON *j)
{
    return cJSON_IsTrue(j) ? 0 : v_bytes(v, j);
}

static int v_obj_or_true(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsTrue(j))
        return 0;
    if (!cJSON_IsObject(j))
        return fail(v, "must be true or an object of field values", NULL);
    return v_fields_send(v, j);
}

static int v_true(struct vctx *v, const cJSON *j)
{
    return cJSON_IsTrue(j) ? 0 : fail(v, "must be true", NULL);
}

static int v_refused(struct vctx *v, const cJSON *j)
{
    return cJSON_IsBool(j) ? 0 : v_matcher(v, j);
}

static int v_status(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsNumber(j) || j->valuedouble < 400 || j->valuedouble > 599)
        return fail(v, "must be an HTTP status 400..599", NULL);
    return 0;
}

static int v_steps(struct vctx *v, const cJSON *j);

struct keydef {
    const char *key;
    vfn fn;
};

struct kinddef {
    const char *kind;
    vfn value;
    struct keydef keys[16];
    const char *required; /* a key that must be present, or NULL */
};

#define K_TIMING {"within_ms", v_int}, {"not_before_ms", v_int}, {"since", v_name}
static const struct kinddef kinds[] = {
    {"connect", v_conn_or_true,
     {{"offer", v_offer}, {"expect_subprotocol", v_str_or_null}, {"expect_refused", v_refused},
      {"or_close", v_codes}, {"within_ms", v_int}, {"path", v_str}},
     NULL},
    {"accept", v_conn_or_true,
     {{"select", v_str_or_null}, {"refuse", v_status}, {"expect_offer", v_offer},
      {"within_ms", v_int}},
     NULL},
    {"open_session", v_obj_or_true,
     {{"conn", v_name}, {"offer", v_offer}, {"encoding", v_encoding}, {"within_ms", v_int},
      {"expect_fields", v_fields_match}, {"ignore", v_ignore}, {"capture", v_capture}},
     NULL},
    {"accept_session", v_obj_or_true,
     {{"conn", v_name}, {"encoding", v_encoding}, {"within_ms", v_int},
      {"expect_fields", v_fields_match}, {"select", v_str_or_null}, {"ignore", v_ignore},
      {"capture", v_capture}},
     NULL},
    {"send", v_send_type,
     {{"conn", v_name}, {"fields", v_fields_send}, {"body", v_bytes}, {"encoding", v_encoding},
      {"opcode", v_opcode}, {"reserved", v_int}, {"header_len", v_int}, {"type_line", v_str},
      {"frame_size", v_int}, {"fragments", v_int}, {"ping_between", v_true_or_bytes},
      {"hold", v_hold}, {"rsv", v_int}, {"burst", v_bool}},
     NULL},
    {"send_raw", v_bytes,
     {{"conn", v_name}, {"opcode", v_opcode}, {"fragments", v_int},
      {"ping_between", v_true_or_bytes}, {"hold", v_hold}, {"rsv", v_int}, {"burst", v_bool}},
     NULL},
    {"send_tcp", v_bytes, {{"conn", v_name}}, NULL},
    {"expect", v_types,
     {{"conn", v_name}, {"fields", v_fields_match}, {"body", v_matcher}, {"encoding", v_encoding},
      K_TIMING, {"ignore", v_ignore}, {"capture", v_capture}},
     NULL},
    {"expect_ack", v_int, {{"conn", v_name}, K_TIMING, {"ignore", v_ignore}}, NULL},
    {"expect_no_frame", v_true, {{"conn", v_name}, {"for_ms", v_int}, {"ignore", v_ignore}},
     "for_ms"},
    {"expect_close", v_close_codes,
     {{"conn", v_name}, K_TIMING, {"ignore", v_ignore}, {"or_drop", v_bool}}, NULL},
    {"expect_pong", v_true_or_bytes, {{"conn", v_name}, K_TIMING}, NULL},
    {"ping", v_true_or_bytes, {{"conn", v_name}}, NULL},
    {"close", v_close_codes, {{"conn", v_name}, {"reason", v_str}}, NULL},
    {"drop", v_conn_or_true, {{"rst", v_bool}}, NULL},
    {"wait_ms", v_int, {{"conn", v_name}}, NULL},
    {"expect_exit", v_codes, {K_TIMING}, NULL},
    {"repeat", v_int, {{"var", v_name}, {"steps", v_steps}}, "steps"},
    {"set", v_set, {{NULL, NULL}}, NULL},
    {"skip_if", v_cond, {{"reason", v_str}}, "reason"},
    {"check", v_cond, {{"reason", v_str}}, NULL},
    {"mark", v_name, {{NULL, NULL}}, NULL},
};

static const struct kinddef *find_kind(const cJSON *step, const cJSON **kv, int *nkinds)
{
    const struct kinddef *found = NULL, *mark = NULL;
    *nkinds = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, step)
    {
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            if (strcmp(kinds[i].kind, k->string))
                continue;
            if (!strcmp(k->string, "mark")) {
                mark = &kinds[i];
                if (!found)
                    *kv = k;
                continue;
            }
            (*nkinds)++;
            found = &kinds[i];
            *kv = k;
        }
    }
    if (!found && mark) {
        *nkinds = 1;
        return mark;
    }
    return found;
}

const char *eng_step_kind(const cJSON *step)
{
    const cJSON *kv = NULL;
    int n;
    const struct kinddef *k = find_kind(step, &kv, &n);
    return k ? k->kind : "?";
}

static int v_step(struct vctx *v, const cJSON *s)
{
    if (!cJSON_IsObject(s))
        return fail(v, "a step is an object", NULL);
    const cJSON *kv = NULL;
    int n = 0;
    const struct kinddef *kd = find_kind(s, &kv, &n);
    if (!kd)
        return fail(v, "a step needs one of: connect accept open_session accept_session send "
                       "send_raw send_tcp expect expect_ack expect_no_frame expect_close "
                       "expect_pong ping close drop wait_ms expect_exit repeat set skip_if check mark",
                    NULL);
    if (n > 1)
        return fail(v, "a step has exactly one kind; this one has several", NULL);
    if (with_key(v, kv, kd->value) < 0)
        return -1;
    const cJSON *k;
    cJSON_ArrayForEach(k, s)
    {
        if (k == kv)
            continue;
        vfn fn = NULL;
        if (!strcmp(k->string, "comment"))
            fn = v_str;
        else if (!strcmp(k->string, "mark"))
            fn = v_name;
        else if (!strcmp(k->string, "or_skip"))
            fn = v_or_skip;
        for (size_t i = 0; !fn && i < sizeof kd->keys / sizeof kd->keys[0] && kd->keys[i].key; i++)
            if (!strcmp(kd->keys[i].key, k->string))
                fn = kd->keys[i].fn;
        if (!fn) {
            size_t o = push_key(v, k->string);
            (void)o;
            char msg[120];
            snprintf(msg, sizeof msg, "'%s' is not a key of a %s step", k->string, kd->kind);
            return fail(v, "%s", msg);
        }
        if (with_key(v, k, fn) < 0)
            return -1;
    }
    if (kd->required && !cJSON_GetObjectItemCaseSensitive(s, kd->required)) {
        char msg[120];
        snprintf(msg, sizeof msg, "a %s step needs \"%s\"", kd->kind, kd->required);
        return fail(v, "%s", msg);
    }
    return 0;
}

static int v_steps(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsArray(j) || !cJSON_GetArraySize(j))
        return fail(v, "must be a non-empty array of steps", NULL);
    if (++v->depth > 8)
        return fail(v, "repeat blocks nest at most 8 deep", NULL);
    if (each_item(v, j, v_step) < 0)
        return -1;
    v->depth--;
    return 0;
}

int eng_requirement_id_valid(const char *s)
{
    static const char *const pre[] = {"WS", "BIN", "TXT", "FLD", "SES", "SEQ",
                                      "ACK", "FLOW", "RES", "BRK", "ERR", "ECHO"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        size_t n = strlen(pre[i]);
        if (strncmp(s, pre[i], n) || s[n] != '-' || !isdigit((unsigned char)s[n + 1]) ||
            s[n + 1] == '0')
            continue;
        const char *p = s + n + 1;
        while (isdigit((unsigned char)*p))
            p++;
        return *p == 0 && p - (s + n + 1) <= 2;
    }
    return 0;
}

static const char *const sections[] = {"handshake", "binary", "text",         "fields", "session",
                                       "sequencing", "acks",  "flow",         "continuation",
                                       "broker",    "errors", "echo",         "engine"};

static int id_valid(const char *s)
{
    regex_t re;
    regcomp(&re, "^[BC]-[A-Z][A-Z0-9]*-[0-9]{3}$", REG_EXTENDED | REG_NOSUB);
    int ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int v_requirement_id(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsString(j) || !eng_requirement_id_valid(j->valuestring))
        return fail(v, "not a requirement ID of profile 1 (e.g. FLOW-3)", NULL);
    return 0;
}

static int v_requirements(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsArray(j) || !cJSON_GetArraySize(j))
        return fail(v, "must be a non-empty array of requirement IDs", NULL);
    return each_item(v, j, v_requirement_id);
}

static int v_case(struct vctx *v, const cJSON *root, eng_case *out)
{
    static const char *const top[] = {"$schema", "id",          "title",        "description",
                                      "expectation", "requirements", "section", "subprotocols",
                                      "encodings", "timeout_ms",  "ignore",       "vars",
                                      "steps",     "comment"};
    if (!cJSON_IsObject(root))
        return fail(v, "a case file holds one JSON object", NULL);
    const cJSON *k;
    cJSON_ArrayForEach(k, root)
    {
        size_t i;
        for (i = 0; i < sizeof top / sizeof top[0]; i++)
            if (!strcmp(top[i], k->string))
                break;
        if (i == sizeof top / sizeof top[0]) {
            push_key(v, k->string);
            return fail(v, "unknown key '%s' in a case", k->string);
        }
    }
    static const char *const need[] = {"id", "title", "description", "requirements", "section",
                                       "steps"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(root, need[i]))
            return fail(v, "a case needs \"%s\"", need[i]);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    size_t o = push_key(v, "id");
    if (!cJSON_IsString(id) || !id_valid(id->valuestring))
        return fail(v, "an id looks like B-FLOW-003 (B: tests a broker, C: tests a client)", NULL);
    pop(v, o);
    static const char *const strs[] = {"title", "description", "expectation", "comment"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, strs[i]);
        o = push_key(v, strs[i]);
        if (s && (!cJSON_IsString(s) || (i < 2 && !s->valuestring[0])))
            return fail(v, "must be a non-empty string", NULL);
        pop(v, o);
    }
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "requirements");
    if (with_key(v, req, v_requirements) < 0)
        return -1;
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, "section");
    o = push_key(v, "section");
    size_t si;
    for (si = 0; cJSON_IsString(sec) && si < sizeof sections / sizeof sections[0]; si++)
        if (!strcmp(sections[si], sec->valuestring))
            break;
    if (!cJSON_IsString(sec) || si == sizeof sections / sizeof sections[0])
        return fail(v, "not a section (handshake binary text fields session sequencing acks flow "
                       "continuation broker errors echo engine)",
                    NULL);
    pop(v, o);
    out->sp_mask = 3;
    out->enc_mask = 3;
    const cJSON *sps = cJSON_GetObjectItemCaseSensitive(root, "subprotocols");
    if (sps) {
        o = push_key(v, "subprotocols");
        out->sp_mask = 0;
        if (!cJSON_IsArray(sps) || !cJSON_GetArraySize(sps))
            return fail(v, "must be a non-empty array", NULL);
        cJSON_ArrayForEach(k, sps)
        {
            if (cJSON_IsString(k) && !strcmp(k->valuestring, MBWS_SUBPROTOCOL_MBWS))
                out->sp_mask |= 1u << MBWS_SP_MBWS;
            else if (cJSON_IsString(k) && !strcmp(k->valuestring, MBWS_SUBPROTOCOL_MBLWS))
                out->sp_mask |= 1u << MBWS_SP_MBLWS;
            else
                return fail(v, "holds MBWS.huawei.com and/or MBLWS.huawei.com", NULL);
        }
        pop(v, o);
    }
    const cJSON *encs = cJSON_GetObjectItemCaseSensitive(root, "encodings");
    if (encs) {
        o = push_key(v, "encodings");
        out->enc_mask = 0;
        if (!cJSON_IsArray(encs) || !cJSON_GetArraySize(encs))
            return fail(v, "must be a non-empty array", NULL);
        cJSON_ArrayForEach(k, encs)
        {
            if (cJSON_IsString(k) && !strcmp(k->valuestring, "binary"))
                out->enc_mask |= 1u << MBWS_ENC_BINARY;
            else if (cJSON_IsString(k) && !strcmp(k->valuestring, "text"))
                out->enc_mask |= 1u << MBWS_ENC_TEXT;
            else
                return fail(v, "holds \"binary\" and/or \"text\"", NULL);
        }
        pop(v, o);
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(root, "timeout_ms");
    if (to) {
        o = push_key(v, "timeout_ms");
        if (!cJSON_IsNumber(to) || to->valuedouble < 100 || to->valuedouble > 600000)
            return fail(v, "must be a number of milliseconds, 100..600000", NULL);
        out->timeout_ms = (int)to->valuedouble;
        pop(v, o);
    }
    const cJSON *ig = cJSON_GetObjectItemCaseSensitive(root, "ignore");
    if (ig && with_key(v, ig, v_ignore) < 0)
        return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "vars");
    if (vars && with_key(v, vars, v_set) < 0)
        return -1;
    if (with_key(v, cJSON_GetObjectItemCaseSensitive(root, "steps"), v_steps) < 0)
        return -1;
    out->id = id->valuestring;
    out->title = cJSON_GetObjectItemCaseSensitive(root, "title")->valuestring;
    out->section = sec->valuestring;
    out->role = id->valuestring[0] == 'B' ? ENG_TEST_BROKER : ENG_TEST_CLIENT;
    return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

int eng_case_load(const char *path, eng_case *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1); /* the NUL counts */
    if (!root) {
        size_t off = end ? (size_t)(end - text) : 0, line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        snprintf(err, errlen, "%s: not valid JSON (near line %zu)", path, line);
        free(text);
        return -1;
    }
    free(text);
    struct vctx v = {path, "", err, errlen, 0};
    if (v_case(&v, root, out) < 0) {
        cJSON_Delete(root);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->root = root;
    out->file = strdup(path);
    return 0;
}

void eng_case_free(eng_case *c)
{
    cJSON_Delete(c->root);
    free(c->file);
    memset(c, 0, sizeof *c);
}
