/* The checks of a case file's values, shared by the step table
 * (engine_steps.c) and the case's top level (engine_case.c). Each reports
 * "FILE: /json/pointer: reason" into the context and returns -1, or 0. */
#ifndef ENGINE_VALIDATE_H
#define ENGINE_VALIDATE_H

#include "engine.h"

struct vctx {
    const char *file;
    char ptr[512];
    char *err;
    size_t errlen;
    int depth;
};

typedef int (*vfn)(struct vctx *v, const cJSON *j);

/* A failure at the current pointer; fmt takes one %s, a. */
int fail(struct vctx *v, const char *fmt, const char *a);
/* Pushes a pointer segment; returns the old length for pop(). */
size_t push_key(struct vctx *v, const char *k);
void pop(struct vctx *v, size_t old);
/* f on j under j's key; on each item under its index; on each member. */
int with_key(struct vctx *v, const cJSON *j, vfn f);
int each_item(struct vctx *v, const cJSON *j, vfn f);
int each_member(struct vctx *v, const cJSON *j, vfn f);

/* The values of docs/case-format.md, one validator each. */
int v_int(struct vctx *v, const cJSON *j);
int v_str(struct vctx *v, const cJSON *j);
int v_bool(struct vctx *v, const cJSON *j);
int v_name(struct vctx *v, const cJSON *j);
int v_conn_or_true(struct vctx *v, const cJSON *j);
int v_bytes(struct vctx *v, const cJSON *j);
int v_matcher(struct vctx *v, const cJSON *j);
int v_fields_match(struct vctx *v, const cJSON *j);
int v_fields_send(struct vctx *v, const cJSON *j);
int v_types(struct vctx *v, const cJSON *j);
int v_ignore(struct vctx *v, const cJSON *j);
int v_send_type(struct vctx *v, const cJSON *j);
int v_encoding(struct vctx *v, const cJSON *j);
int v_opcode(struct vctx *v, const cJSON *j);
int v_offer(struct vctx *v, const cJSON *j);
int v_str_or_null(struct vctx *v, const cJSON *j);
int v_codes(struct vctx *v, const cJSON *j);
int v_close_codes(struct vctx *v, const cJSON *j);
int v_capture(struct vctx *v, const cJSON *j);
int v_cond(struct vctx *v, const cJSON *j);
int v_or_skip(struct vctx *v, const cJSON *j);
/* A requirement ID of the profile ("ERR-1"): should, violates, clause. */
int v_clause(struct vctx *v, const cJSON *j);
int v_promptly(struct vctx *v, const cJSON *j);
int v_hold(struct vctx *v, const cJSON *j);
int v_set(struct vctx *v, const cJSON *j);
int v_true_or_bytes(struct vctx *v, const cJSON *j);
int v_obj_or_true(struct vctx *v, const cJSON *j);
int v_true(struct vctx *v, const cJSON *j);
int v_refused(struct vctx *v, const cJSON *j);
int v_status(struct vctx *v, const cJSON *j);

#endif
