/* Loading and validating case files: the top level of a case (id,
 * requirements, section, subprotocols, ...); the steps are checked by the
 * step table (engine_steps.c), their values by engine_validate.c. Every
 * problem is reported as "FILE: /json/pointer: reason" before anything
 * runs. cases/schema.json says the same in JSON Schema. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_json_check.h"
#include "engine_steps.h"
#include "engine_validate.h"

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

/* ECHO-4: the client under test of a C- case starts a DISCONNECT after N. */
static int v_disconnect_after(struct vctx *v, const cJSON *root, const char *id, eng_case *out)
{
    const cJSON *da = cJSON_GetObjectItemCaseSensitive(root, "disconnect_after");
    if (!da)
        return 0;
    size_t o = push_key(v, "disconnect_after");
    if (!cJSON_IsNumber(da) || da->valuedouble < 1 || da->valuedouble > 1000000 ||
        da->valuedouble != (double)(int)da->valuedouble)
        return fail(v, "must be an integer count, 1..1000000 (MBWS_DISCONNECT_AFTER)", NULL);
    if (id[0] != 'C')
        return fail(v, "is for C- cases only (the client under test's MBWS_DISCONNECT_AFTER)", NULL);
    out->disconnect_after = (int)da->valuedouble;
    pop(v, o);
    return 0;
}

/* "limit_wait_ms": FLOW-6, engine_police.c */
static int v_limit_wait(struct vctx *v, const cJSON *root, eng_case *out)
{
    const cJSON *lw = cJSON_GetObjectItemCaseSensitive(root, "limit_wait_ms");
    if (!lw)
        return 0;
    size_t o = push_key(v, "limit_wait_ms");
    if (!cJSON_IsNumber(lw) || lw->valuedouble < 0 || lw->valuedouble > 60000)
        return fail(v, "must be a number of milliseconds, 0..60000", NULL);
    out->limit_wait_ms = (int)lw->valuedouble;
    out->limit_wait = 1;
    pop(v, o);
    return 0;
}

static int v_case(struct vctx *v, const cJSON *root, eng_case *out)
{
    static const char *const top[] = {"$schema", "id",          "title",        "description",
                                      "expectation", "requirements", "section", "subprotocols",
                                      "encodings", "timeout_ms",  "ignore",       "vars",
                                      "steps",     "comment",     "disconnect_after",
                                      "limit_wait_ms"};
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
    if (v_disconnect_after(v, root, id->valuestring, out) < 0)
        return -1;
    if (v_limit_wait(v, root, out) < 0)
        return -1;
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

int eng_case_load_text(const char *path, const char *text, size_t len, eng_case *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    char ptr[512], why[200];
    if (eng_json_text_check(text, len, ptr, sizeof ptr, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s: %s", path, ptr, why);
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1); /* the NUL counts */
    if (!root) {
        size_t off = end ? (size_t)(end - text) : 0, line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        snprintf(err, errlen, "%s: not valid JSON (near line %zu)", path, line);
        return -1;
    }
    if (eng_json_dup_check(root, ptr, sizeof ptr, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s: %s", path, ptr, why);
        cJSON_Delete(root);
        return -1;
    }
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

int eng_case_load(const char *path, eng_case *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    int rc = eng_case_load_text(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void eng_case_free(eng_case *c)
{
    cJSON_Delete(c->root);
    free(c->file);
    memset(c, 0, sizeof *c);
}
