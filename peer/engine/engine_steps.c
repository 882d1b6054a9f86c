/* The one table of step kinds (engine_steps.h): validation of a step at
 * load time, and the executor engine_exec.c dispatches to. */
#define _POSIX_C_SOURCE 200809L
#include "engine_steps.h"

#include <stdio.h>
#include <string.h>

const eng_step_key eng_step_common_keys[] = {
    {"comment", v_str},
    {"mark", v_name},
    {"or_skip", v_or_skip},
    {"should", v_clause},   /* a non-strict check (docs/case-format.md) */
    {"violates", v_clause}, /* a deliberate breach of FLOW-6/SES-8 (engine_police.c) */
    {NULL, NULL},
};

/* kind, its value's validator, {key, validator}..., required key, executor */
#define K_TIMING {"within_ms", v_int}, {"not_before_ms", v_int}, {"since", v_name}, {"profile_ms", v_int}, \
                 {"strict_within", v_true}
const eng_step_def eng_step_defs[] = {
    {"connect", v_conn_or_true,
     {{"offer", v_offer}, {"expect_subprotocol", v_str_or_null}, {"expect_refused", v_refused},
      {"or_close", v_codes}, {"within_ms", v_int}, {"path", v_str}},
     NULL, eng_step_connect},
    {"accept", v_conn_or_true,
     {{"select", v_str_or_null}, {"refuse", v_status}, {"expect_offer", v_offer},
      {"within_ms", v_int}},
     NULL, eng_step_accept},
    {"open_session", v_obj_or_true,
     {{"conn", v_name}, {"offer", v_offer}, {"encoding", v_encoding}, {"within_ms", v_int},
      {"expect_fields", v_fields_match}, {"ignore", v_ignore}, {"capture", v_capture}},
     NULL, eng_step_open_session},
    {"accept_session", v_obj_or_true,
     {{"conn", v_name}, {"encoding", v_encoding}, {"within_ms", v_int},
      {"expect_fields", v_fields_match}, {"select", v_str_or_null}, {"ignore", v_ignore},
      {"capture", v_capture}},
     NULL, eng_step_accept_session},
    {"send", v_send_type,
     {{"conn", v_name}, {"fields", v_fields_send}, {"body", v_bytes}, {"encoding", v_encoding},
      {"opcode", v_opcode}, {"reserved", v_int}, {"header_len", v_int}, {"type_line", v_str},
      {"frame_size", v_int}, {"fragments", v_int}, {"ping_between", v_true_or_bytes},
      {"pong_between", v_true_or_bytes}, {"empty_between", v_bool}, {"hold", v_hold}, {"rsv", v_int}, {"burst", v_bool}},
     NULL, eng_step_send},
    {"send_raw", v_bytes,
     {{"conn", v_name}, {"opcode", v_opcode}, {"fragments", v_int},
      {"ping_between", v_true_or_bytes}, {"pong_between", v_true_or_bytes},
      {"empty_between", v_bool}, {"hold", v_hold}, {"rsv", v_int}, {"burst", v_bool}},
     NULL, eng_step_send_raw},
    {"send_tcp", v_bytes, {{"conn", v_name}}, NULL, eng_step_send_tcp},
    {"broker_disconnect", v_str, {{"within_ms", v_int}}, NULL, eng_step_broker_disconnect},
    {"expect", v_types,
     {{"conn", v_name}, {"fields", v_fields_match}, {"body", v_matcher}, {"encoding", v_encoding},
      K_TIMING, {"promptly", v_promptly}, {"ignore", v_ignore}, {"capture", v_capture}},
     NULL, eng_step_expect},
    {"expect_ack", v_int, {{"conn", v_name}, K_TIMING, {"promptly", v_promptly}, {"ignore", v_ignore}},
     NULL, eng_step_expect_ack},
    {"expect_no_frame", v_true, {{"conn", v_name}, {"for_ms", v_int}, {"ignore", v_ignore}},
     "for_ms", eng_step_expect_no_frame},
    {"expect_close", v_close_codes,
     {{"conn", v_name}, K_TIMING, {"promptly", v_promptly}, {"ignore", v_ignore}, {"or_drop", v_bool}},
     NULL, eng_step_expect_close},
    {"expect_pong", v_true_or_bytes, {{"conn", v_name}, K_TIMING, {"promptly", v_promptly}}, NULL,
     eng_step_expect_pong},
    {"ping", v_true_or_bytes, {{"conn", v_name}}, NULL, eng_step_ping},
    {"close", v_close_codes, {{"conn", v_name}, {"reason", v_str}}, NULL, eng_step_close},
    {"drop", v_conn_or_true, {{"rst", v_bool}}, NULL, eng_step_drop},
    {"wait_ms", v_int, {{"conn", v_name}}, NULL, eng_step_wait},
    {"expect_exit", v_codes, {K_TIMING}, NULL, eng_step_expect_exit},
    {"repeat", v_int, {{"var", v_name}, {"steps", v_steps}}, "steps", NULL},
    {"set", v_set, {{NULL, NULL}}, NULL, eng_step_set},
    {"skip_if", v_cond, {{"reason", v_str}}, "reason", eng_step_skip_if},
    {"check", v_cond, {{"reason", v_str}}, NULL, eng_step_check},
    {"mark", v_name, {{NULL, NULL}}, NULL, eng_step_mark},
};

const size_t eng_step_ndefs = sizeof eng_step_defs / sizeof eng_step_defs[0];

/* The entry of the step's kind and *kv, its value; *nkinds counts the
 * kinds found ("mark" is a kind only in a step without another kind). */
static const eng_step_def *find_kind(const cJSON *step, const cJSON **kv, int *nkinds)
{
    const eng_step_def *found = NULL, *mark = NULL;
    *nkinds = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, step)
    {
        for (size_t i = 0; i < eng_step_ndefs; i++) {
            if (strcmp(eng_step_defs[i].kind, k->string))
                continue;
            if (!strcmp(k->string, "mark")) {
                mark = &eng_step_defs[i];
                if (!found)
                    *kv = k;
                continue;
            }
            (*nkinds)++;
            found = &eng_step_defs[i];
            *kv = k;
        }
    }
    if (!found && mark) {
        *nkinds = 1;
        return mark;
    }
    return found;
}

const eng_step_def *eng_step_def_of(const cJSON *step, const cJSON **value)
{
    const cJSON *kv = NULL;
    int n;
    const eng_step_def *d = find_kind(step, &kv, &n);
    *value = kv;
    return d;
}

const char *eng_step_kind(const cJSON *step)
{
    const cJSON *kv;
    const eng_step_def *d = eng_step_def_of(step, &kv);
    return d ? d->kind : "?";
}

int eng_step_common_key_ok(const eng_step_def *kd, const char *k)
{
    /* a mark step cannot fail nor send: no or_skip, should or violates */
    return kd->run != eng_step_mark || !strcmp(k, "comment") || !strcmp(k, "mark");
}

/* The validator of key k in a step of kind kd, or NULL. */
static vfn key_check(const eng_step_def *kd, const char *k)
{
    for (size_t i = 0; eng_step_common_keys[i].key; i++)
        if (!strcmp(eng_step_common_keys[i].key, k) && eng_step_common_key_ok(kd, k))
            return eng_step_common_keys[i].check;
    for (size_t i = 0; i < ENG_STEP_MAX_KEYS && kd->keys[i].key; i++)
        if (!strcmp(kd->keys[i].key, k))
            return kd->keys[i].check;
    return NULL;
}

/* "a step needs one of: connect accept ... mark" */
static int no_kind(struct vctx *v)
{
    char msg[400] = "a step needs one of:";
    for (size_t i = 0; i < eng_step_ndefs; i++) {
        size_t o = strlen(msg);
        snprintf(msg + o, sizeof msg - o, " %s", eng_step_defs[i].kind);
    }
    return fail(v, "%s", msg);
}

/* "profile_ms": T names the profile timer a step's window stands for;
 * appendix B then fixes the window: within_ms T+500, and not_before_ms
 * T-100 where the timer is also a lower bound. */
static int v_window(struct vctx *v, const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "profile_ms");
    if (!t)
        return 0;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(s, "within_ms");
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(s, "not_before_ms");
    double ms = cJSON_IsNumber(t) ? t->valuedouble : -1;
    if (ms >= ENG_EARLY_MS && cJSON_IsNumber(w) && w->valuedouble == ms + ENG_LATE_MS &&
        (!nb || (cJSON_IsNumber(nb) && nb->valuedouble == ms - ENG_EARLY_MS)))
        return 0;
    char msg[300];
    snprintf(msg, sizeof msg,
             "profile_ms %.0f stands for appendix B's window around that timer: within_ms %.0f "
             "(+%d ms tolerance) and, where the timer is also a lower bound, not_before_ms %.0f "
             "(-%d ms measurement error)",
             ms, ms + ENG_LATE_MS, ENG_LATE_MS, ms - ENG_EARLY_MS, ENG_EARLY_MS);
    size_t o = push_key(v, "profile_ms");
    (void)o;
    return fail(v, "%s", msg);
}

static int v_step(struct vctx *v, const cJSON *s)
{
    if (!cJSON_IsObject(s))
        return fail(v, "a step is an object", NULL);
    const cJSON *kv = NULL;
    int n = 0;
    const eng_step_def *kd = find_kind(s, &kv, &n);
    if (!kd)
        return no_kind(v);
    if (n > 1)
        return fail(v, "a step has exactly one kind; this one has several", NULL);
    if (with_key(v, kv, kd->value) < 0)
        return -1;
    const cJSON *k;
    cJSON_ArrayForEach(k, s)
    {
        if (k == kv)
            continue;
        vfn fn = key_check(kd, k->string);
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
    return v_window(v, s);
}

int v_steps(struct vctx *v, const cJSON *j)
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
