/* Validators of the values a case file holds: integers, names, bytes,
 * matchers, field lists, frame types, conditions. cases/schema.json says
 * the same in JSON Schema; docs/case-format.md in prose. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_validate.h"

int fail(struct vctx *v, const char *fmt, const char *a)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a ? a : "");
    snprintf(v->err, v->errlen, "%s: %s: %s", v->file, v->ptr[0] ? v->ptr : "/", msg);
    return -1;
}

/* Pushes a pointer segment; returns the old length for pop(). */
size_t push_key(struct vctx *v, const char *k)
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

void pop(struct vctx *v, size_t old)
{
    v->ptr[old] = 0;
}

int with_key(struct vctx *v, const cJSON *j, vfn f)
{
    size_t o = push_key(v, j->string);
    int rc = f(v, j);
    if (rc == 0)
        pop(v, o);
    return rc;
}

/* Validates every item of an array with f, each under its index. */
int each_item(struct vctx *v, const cJSON *j, vfn f)
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
int each_member(struct vctx *v, const cJSON *j, vfn f)
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

int v_str(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsString(j))
        return fail(v, "must be a string", NULL);
    return v_subst(v, j->valuestring);
}

/* A non-negative integer, a decimal string or a ${...} expression. */
int v_int(struct vctx *v, const cJSON *j)
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

int v_bool(struct vctx *v, const cJSON *j)
{
    return cJSON_IsBool(j) ? 0 : fail(v, "must be true or false", NULL);
}

int v_name(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsString(j) || !j->valuestring[0] || strlen(j->valuestring) > 31)
        return fail(v, "must be a name of 1 to 31 characters", NULL);
    for (const char *p = j->valuestring; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return fail(v, "a name holds only letters, digits, '_' and '-'", NULL);
    return 0;
}

int v_conn_or_true(struct vctx *v, const cJSON *j)
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

int v_bytes(struct vctx *v, const cJSON *j)
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

/* One member of a matcher object, e.g. "ge": 3. */
int v_clause(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsString(j) || !eng_requirement_id_valid(j->valuestring))
        return fail(v, "must be a requirement ID of the profile, like \"ERR-1\"", NULL);
    return 0;
}

static int v_matcher_op(struct vctx *v, const cJSON *op)
{
    static const char *const ops[] = {"eq", "ne", "ge", "gt", "le", "lt", "in", "len",
                                      "contains", "matches", "present", "absent", "any",
                                      "not_sent", "if_present", "should", "clause"};
    size_t i;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i], op->string))
            break;
    if (i == sizeof ops / sizeof ops[0])
        return fail(v, "unknown matcher '%s' (eq ne ge gt le lt in len contains matches "
                       "present absent any not_sent if_present should clause)",
                    op->string);
    const char *k = op->string;
    if (!strcmp(k, "ge") || !strcmp(k, "gt") || !strcmp(k, "le") || !strcmp(k, "lt"))
        return v_int(v, op);
    if (!strcmp(k, "present") || !strcmp(k, "absent") || !strcmp(k, "any") ||
        !strcmp(k, "not_sent"))
        return v_bool(v, op);
    if (!strcmp(k, "in"))
        return cJSON_IsArray(op) ? v_matcher(v, op) : fail(v, "\"in\" takes an array", NULL);
    if (!strcmp(k, "len") || !strcmp(k, "if_present") || !strcmp(k, "should"))
        return v_matcher(v, op);
    if (!strcmp(k, "clause"))
        return v_clause(v, op);
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
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "should");
    if (!sh != !cJSON_GetObjectItemCaseSensitive(j, "clause"))
        return fail(v, "\"should\" and \"clause\" go together (the clause the non-strict check "
                       "reads)", NULL);
    if (cJSON_IsObject(sh) && cJSON_GetObjectItemCaseSensitive(sh, "should"))
        return fail(v, "a \"should\" inside a \"should\"", NULL);
    return each_member(v, j, v_matcher_op);
}

/* An item of a matcher array: any matcher but another array. */
static int v_matcher_item(struct vctx *v, const cJSON *it)
{
    return cJSON_IsArray(it) ? fail(v, "nested arrays are not matchers", NULL) : v_matcher(v, it);
}

int v_matcher(struct vctx *v, const cJSON *j)
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

int v_fields_match(struct vctx *v, const cJSON *j)
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

int v_fields_send(struct vctx *v, const cJSON *j)
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

int v_types(struct vctx *v, const cJSON *j)
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

int v_ignore(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return fail(v, "must be an array of frame type names", NULL);
    return cJSON_GetArraySize(j) ? v_types(v, j) : 0;
}

int v_send_type(struct vctx *v, const cJSON *j)
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

int v_encoding(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsString(j) && (!strcmp(j->valuestring, "binary") || !strcmp(j->valuestring, "text") ||
                              !strcmp(j->valuestring, "any") || strstr(j->valuestring, "${")))
        return v_subst(v, j->valuestring);
    return fail(v, "must be \"binary\", \"text\", \"any\" (expect only) or ${...}", NULL);
}

int v_opcode(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsString(j) && ws_opcode_by_name(j->valuestring) >= 0)
        return 0;
    if (cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble <= 15)
        return 0;
    return fail(v, "an opcode is text, binary, continuation, close, ping, pong or 0..15", NULL);
}

int v_offer(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsArray(j))
        return fail(v, "must be an array of subprotocol names, or null for no header", NULL);
    return each_item(v, j, v_str);
}

int v_str_or_null(struct vctx *v, const cJSON *j)
{
    return cJSON_IsNull(j) ? 0 : v_str(v, j);
}

int v_codes(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsNumber(j) || cJSON_IsString(j))
        return v_int(v, j);
    if (cJSON_IsArray(j) || cJSON_IsObject(j))
        return v_matcher(v, j);
    return fail(v, "must be a code, an array of codes or a matcher", NULL);
}

int v_close_codes(struct vctx *v, const cJSON *j)
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

int v_capture(struct vctx *v, const cJSON *j)
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

int v_cond(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsObject(j) || !j->child)
        return fail(v, "must be an object {variable: matcher}", NULL);
    return each_member(v, j, v_cond_one);
}

int v_or_skip(struct vctx *v, const cJSON *j)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(j, "if");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
    if (!cJSON_IsObject(j) || !cond || !cJSON_IsString(reason) || cJSON_GetArraySize(j) != 2)
        return fail(v, "must be {\"if\": {variable: matcher}, \"reason\": \"...\"}", NULL);
    return with_key(v, cond, v_cond);
}

/* {"within_ms": N, "clause": "SES-7", "since": MARK}: this suite's reading
 * of a "promptly" the profile gives no figure for (a warning past N ms). */
int v_promptly(struct vctx *v, const cJSON *j)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "within_ms");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(j, "clause");
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(j, "since");
    if (!cJSON_IsObject(j) || !cJSON_IsNumber(ms) || ms->valuedouble < 0 || !cl ||
        cJSON_GetArraySize(j) != 2 + (since != NULL))
        return fail(v, "must be {\"within_ms\": N, \"clause\": \"SES-7\"} with an optional "
                       "\"since\": MARK", NULL);
    if (with_key(v, cl, v_clause) < 0)
        return -1;
    return since ? with_key(v, since, v_name) : 0;
}

int v_hold(struct vctx *v, const cJSON *j)
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

int v_set(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsObject(j) || !j->child)
        return fail(v, "must be an object {variable: value}", NULL);
    return each_member(v, j, v_set_one);
}

int v_true_or_bytes(struct vctx *v, const cJSON *j)
{
    return cJSON_IsTrue(j) ? 0 : v_bytes(v, j);
}

int v_obj_or_true(struct vctx *v, const cJSON *j)
{
    if (cJSON_IsTrue(j))
        return 0;
    if (!cJSON_IsObject(j))
        return fail(v, "must be true or an object of field values", NULL);
    return v_fields_send(v, j);
}

int v_true(struct vctx *v, const cJSON *j)
{
    return cJSON_IsTrue(j) ? 0 : fail(v, "must be true", NULL);
}

int v_refused(struct vctx *v, const cJSON *j)
{
    return cJSON_IsBool(j) ? 0 : v_matcher(v, j);
}

int v_status(struct vctx *v, const cJSON *j)
{
    if (!cJSON_IsNumber(j) || j->valuedouble < 400 || j->valuedouble > 599)
        return fail(v, "must be an HTTP status 400..599", NULL);
    return 0;
}
