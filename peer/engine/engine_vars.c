/* Case variables and ${...} substitution with + - * integer arithmetic. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

void eng_value_free(eng_value *v)
{
    free(v->s);
    memset(v, 0, sizeof *v);
}

void eng_value_set_int(eng_value *v, uint64_t n)
{
    eng_value_free(v);
    v->type = EV_INT;
    v->n = n;
}

void eng_value_set_str(eng_value *v, const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (!c)
        abort();
    memcpy(c, s, len);
    c[len] = 0;
    eng_value_free(v);
    v->type = EV_STR;
    v->s = c;
    v->slen = len;
}

static eng_var *slot(eng_vars *vs, const char *name)
{
    for (size_t i = 0; i < vs->n; i++)
        if (!strcmp(vs->v[i].name, name))
            return &vs->v[i];
    if (vs->n == ENG_MAX_VARS)
        return NULL;
    eng_var *v = &vs->v[vs->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    return v;
}

void eng_vars_set_int(eng_vars *vs, const char *name, uint64_t n)
{
    eng_var *v = slot(vs, name);
    if (v)
        eng_value_set_int(&v->v, n);
}

void eng_vars_set_str(eng_vars *vs, const char *name, const char *s, size_t len)
{
    eng_var *v = slot(vs, name);
    if (v)
        eng_value_set_str(&v->v, s, len);
}

const eng_value *eng_vars_get(const eng_vars *vs, const char *name)
{
    for (size_t i = 0; i < vs->n; i++)
        if (!strcmp(vs->v[i].name, name))
            return &vs->v[i].v;
    return NULL;
}

void eng_vars_free(eng_vars *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        eng_value_free(&vs->v[i].v);
    vs->n = 0;
}

/* Expression parser over [p, e): sum := product (('+'|'-') product)*,
 * product := atom ('*' atom)*, atom := digits | name. vs NULL: syntax only.
 * A lone name may be a string; arithmetic needs integers. */
struct ex {
    const char *p, *e;
    const eng_vars *vs;
    char *err;
    size_t errlen;
};

static void skip_ws(struct ex *x)
{
    while (x->p < x->e && *x->p == ' ')
        x->p++;
}

static int atom(struct ex *x, eng_value *out)
{
    skip_ws(x);
    const char *s = x->p;
    if (x->p < x->e && isdigit((unsigned char)*x->p)) {
        uint64_t n = 0;
        while (x->p < x->e && isdigit((unsigned char)*x->p)) {
            uint64_t d = (uint64_t)(*x->p - '0');
            if (n > (UINT64_MAX - d) / 10) {
                snprintf(x->err, x->errlen, "integer too large in expression");
                return -1;
            }
            n = n * 10 + d;
            x->p++;
        }
        eng_value_set_int(out, n);
        return 0;
    }
    while (x->p < x->e && (isalnum((unsigned char)*x->p) || *x->p == '_'))
        x->p++;
    if (x->p == s || isdigit((unsigned char)*s)) {
        snprintf(x->err, x->errlen, "expected a number or a variable name at '%.*s'",
                 (int)(x->e - s), s);
        return -1;
    }
    char name[48];
    snprintf(name, sizeof name, "%.*s", (int)(x->p - s), s);
    if (!x->vs) {
        eng_value_set_int(out, 0);
        return 0;
    }
    const eng_value *v = eng_vars_get(x->vs, name);
    if (!v || v->type == EV_NONE) {
        snprintf(x->err, x->errlen, "undefined variable '%s'", name);
        return -1;
    }
    if (v->type == EV_INT)
        eng_value_set_int(out, v->n);
    else
        eng_value_set_str(out, v->s, v->slen);
    return 0;
}

static int need_int(struct ex *x, const eng_value *v)
{
    if (v->type != EV_INT) {
        snprintf(x->err, x->errlen, "arithmetic on a string value");
        return -1;
    }
    return 0;
}

static int product(struct ex *x, eng_value *out)
{
    if (atom(x, out) < 0)
        return -1;
    for (;;) {
        skip_ws(x);
        if (x->p >= x->e || *x->p != '*')
            return 0;
        x->p++;
        eng_value r = {0};
        if (atom(x, &r) < 0 || need_int(x, out) < 0 || need_int(x, &r) < 0) {
            eng_value_free(&r);
            return -1;
        }
        /* syntax only (no vs): names read 0, so a sum may wrap harmlessly */
        if (x->vs && r.n && out->n > UINT64_MAX / r.n) {
            snprintf(x->err, x->errlen, "expression overflows 2^64-1 (%llu * %llu)",
                     (unsigned long long)out->n, (unsigned long long)r.n);
            eng_value_free(&r);
            return -1;
        }
        out->n *= r.n;
        eng_value_free(&r);
    }
}

static int sum(struct ex *x, eng_value *out)
{
    if (product(x, out) < 0)
        return -1;
    for (;;) {
        skip_ws(x);
        if (x->p >= x->e || (*x->p != '+' && *x->p != '-'))
            return 0;
        char op = *x->p++;
        eng_value r = {0};
        if (product(x, &r) < 0 || need_int(x, out) < 0 || need_int(x, &r) < 0) {
            eng_value_free(&r);
            return -1;
        }
        if (op == '-' && r.n > out->n && x->vs) {
            snprintf(x->err, x->errlen, "expression is negative (%llu - %llu)",
                     (unsigned long long)out->n, (unsigned long long)r.n);
            eng_value_free(&r);
            return -1;
        }
        if (x->vs && op == '+' && out->n > UINT64_MAX - r.n) {
            snprintf(x->err, x->errlen, "expression overflows 2^64-1 (%llu + %llu)",
                     (unsigned long long)out->n, (unsigned long long)r.n);
            eng_value_free(&r);
            return -1;
        }
        out->n = op == '+' ? out->n + r.n : out->n - r.n;
        eng_value_free(&r);
    }
}

static int eval(const eng_vars *vs, const char *p, const char *e, eng_value *out, char *err,
                size_t errlen)
{
    struct ex x = {p, e, vs, err, errlen};
    if (sum(&x, out) < 0)
        return -1;
    skip_ws(&x);
    if (x.p != x.e) {
        snprintf(err, errlen, "unexpected '%.*s' in ${%.*s}", (int)(e - x.p), x.p, (int)(e - p), p);
        return -1;
    }
    return 0;
}

/* Finds the next ${ in s; sets *open and *close (the '}'). */
static int next_ref(const char *s, const char **open, const char **close)
{
    const char *o = strstr(s, "${");
    if (!o)
        return 0;
    const char *c = strchr(o + 2, '}');
    *open = o;
    *close = c;
    return 1;
}

static int subst_core(const eng_vars *vs, const char *in, eng_value *out, char *err,
                      size_t errlen)
{
    const char *o, *c;
    size_t inlen = strlen(in);
    /* Exactly one ${expr}: the value keeps its type. */
    if (next_ref(in, &o, &c) && o == in && c && c == in + inlen - 1)
        return eval(vs, o + 2, c, out, err, errlen);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    const char *s = in;
    while (next_ref(s, &o, &c)) {
        if (!c) {
            snprintf(err, errlen, "unterminated ${ in '%s'", in);
            fclose(f);
            free(buf);
            return -1;
        }
        fwrite(s, 1, (size_t)(o - s), f);
        eng_value v = {0};
        if (eval(vs, o + 2, c, &v, err, errlen) < 0) {
            eng_value_free(&v); /* a string atom before the error */
            fclose(f);
            free(buf);
            return -1;
        }
        if (v.type == EV_INT)
            fprintf(f, "%llu", (unsigned long long)v.n);
        else
            fwrite(v.s, 1, v.slen, f);
        eng_value_free(&v);
        s = c + 1;
    }
    fputs(s, f);
    fclose(f);
    eng_value_set_str(out, buf, len);
    free(buf);
    return 0;
}

int eng_subst_str(const eng_vars *vs, const char *in, eng_value *out, char *err, size_t errlen)
{
    return subst_core(vs, in, out, err, errlen);
}

int eng_subst_check(const char *s, char *err, size_t errlen)
{
    eng_value v = {0};
    int rc = subst_core(NULL, s, &v, err, errlen);
    eng_value_free(&v);
    return rc;
}

int eng_subst(const eng_vars *vs, const cJSON *in, eng_value *out, char *err, size_t errlen)
{
    if (cJSON_IsNumber(in)) {
        double d = in->valuedouble;
        if (d < 0 || d != (double)(uint64_t)d) {
            snprintf(err, errlen, "%g is not a non-negative integer", d);
            return -1;
        }
        eng_value_set_int(out, (uint64_t)d);
        return 0;
    }
    if (cJSON_IsString(in))
        return subst_core(vs, in->valuestring, out, err, errlen);
    if (cJSON_IsBool(in)) {
        eng_value_set_int(out, cJSON_IsTrue(in) ? 1 : 0);
        return 0;
    }
    snprintf(err, errlen, "expected a number or a string");
    return -1;
}

/* Decimal digits only, up to 2^64-1. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (!len)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int eng_subst_int(const eng_vars *vs, const cJSON *in, uint64_t *out, char *err, size_t errlen)
{
    eng_value v = {0};
    if (eng_subst(vs, in, &v, err, errlen) < 0)
        return -1;
    int rc = 0;
    if (v.type == EV_INT) {
        *out = v.n;
    } else if (parse_u64(v.s, v.slen, out) < 0) {
        snprintf(err, errlen, "'%s' is not an unsigned integer", v.s);
        rc = -1;
    }
    eng_value_free(&v);
    return rc;
}
