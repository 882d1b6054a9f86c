/* Steps that touch only the engine's own state and clock: wait_ms, set,
 * skip_if, check, mark; and the conditions of skip_if, check and or_skip. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_exec.h"

enum eng_status eng_step_wait(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)step;
    uint64_t ms;
    char err[200];
    if (eng_subst_int(&ex->vars, value, &ms, err, sizeof err) < 0)
        return eng_errorf(ex, "wait_ms: %s", err);
    double until = ws_clock_ms() + (double)ms;
    if (until > ex->deadline)
        return eng_errorf(ex, "wait_ms %llu runs past the case deadline", (unsigned long long)ms);
    while (ws_clock_ms() < until)
        eng_pump(ex, until);
    return ST_OK;
}

enum eng_status eng_step_set(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)step;
    const cJSON *it;
    cJSON_ArrayForEach(it, value)
    {
        eng_value v = {0};
        char err[200];
        if (eng_subst(&ex->vars, it, &v, err, sizeof err) < 0)
            return eng_errorf(ex, "set %s: %s", it->string, err);
        if (v.type == EV_INT)
            eng_vars_set_int(&ex->vars, it->string, v.n);
        else
            eng_vars_set_str(&ex->vars, it->string, v.s, v.slen);
        eng_value_free(&v);
    }
    return ST_OK;
}

int eng_cond(eng_exec *ex, const cJSON *cond)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cond)
    {
        const eng_value *v = eng_vars_get(&ex->vars, m->string);
        int present = v && v->type != EV_NONE;
        char why[300];
        int r = eng_match(&ex->vars, m, present, present && v->type == EV_INT,
                          present ? v->n : 0, present ? (const uint8_t *)v->s : NULL,
                          present ? v->slen : 0, why, sizeof why);
        if (eng_should_last.missed && !eng_should_last.what[0])
            snprintf(eng_should_last.what, sizeof eng_should_last.what, "%s", m->string);
        if (r < 0) {
            eng_errorf(ex, "condition on %s: %s", m->string, why);
            return -1;
        }
        if (!r)
            return 0;
    }
    return 1;
}

/* A case-written reason with its ${...} substituted, or fallback if that
 * fails (a reason is prose: it never turns a step into an error). */
static void reason_text(eng_exec *ex, const char *reason, const char *fallback, char *out,
                        size_t outlen)
{
    eng_value v = {0};
    char err[200];
    if (reason && eng_subst_str(&ex->vars, reason, &v, err, sizeof err) == 0 && v.s)
        snprintf(out, outlen, "%s", v.s);
    else
        snprintf(out, outlen, "%s", fallback);
    eng_value_free(&v);
}

enum eng_status eng_step_skip_if(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    int r = eng_cond(ex, value);
    if (r < 0)
        return ST_ERROR;
    if (!r)
        return ST_OK;
    const char *reason = cJSON_GetObjectItemCaseSensitive(step, "reason")->valuestring;
    reason_text(ex, reason, reason, ex->skip_reason, sizeof ex->skip_reason);
    return ST_SKIP;
}

/* check: the condition must hold, else the step fails (a fact the case
 * learnt earlier, e.g. a FLOW that may have arrived during another step). */
enum eng_status eng_step_check(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    int r = eng_cond(ex, value);
    if (r < 0)
        return ST_ERROR;
    if (r)
        return ST_OK;
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(step, "reason");
    reason_text(ex, cJSON_IsString(why) ? why->valuestring : NULL, "the check's condition to hold",
                ex->expected, sizeof ex->expected);
    size_t o = 0;
    ex->received[0] = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, value)
    {
        const eng_value *x = eng_vars_get(&ex->vars, m->string);
        int n;
        if (!x || x->type == EV_NONE)
            n = snprintf(ex->received + o, sizeof ex->received - o, "%s%s is not set", o ? ", " : "",
                         m->string);
        else if (x->type == EV_INT)
            n = snprintf(ex->received + o, sizeof ex->received - o, "%s%s is %llu", o ? ", " : "",
                         m->string, (unsigned long long)x->n);
        else
            n = snprintf(ex->received + o, sizeof ex->received - o, "%s%s is \"%.*s\"", o ? ", " : "",
                         m->string, (int)(x->slen > 200 ? 200 : x->slen), x->s);
        if (n < 0 || (size_t)n >= sizeof ex->received - o)
            break;
        o += (size_t)n;
    }
    return ST_FAIL;
}

enum eng_status eng_step_mark(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)step;
    eng_set_mark(ex, value->valuestring, ws_clock_ms());
    return ST_OK;
}
