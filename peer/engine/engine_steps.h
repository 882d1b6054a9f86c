/* The step kinds of docs/case-format.md, one table entry each: the kind's
 * name, the validator of its value, the other keys it takes with theirs,
 * the key it requires, and the executor that runs it. engine_case.c
 * validates steps with it at load time, engine_exec.c dispatches with it.
 * cases/schema.json stays the user-facing contract; test_engine_steps
 * checks that the table and the schema name the same kinds and keys.
 * A new kind: one entry in engine_steps.c, its executor (engine_step_*.c),
 * the schema and docs/case-format.md. */
#ifndef ENGINE_STEPS_H
#define ENGINE_STEPS_H

#include "engine_exec.h"
#include "engine_validate.h"

#define ENG_STEP_MAX_KEYS 16
/* Profile appendix B: a case waits a timer's value +500 ms (late side), and
 * from its value -100 ms where the timer is also a lower bound. */
#define ENG_LATE_MS 500
#define ENG_EARLY_MS 100
/* How long a step waits for an event the profile sets no time for
 * (engine_window.c). */
#define ENG_PATIENCE_MS 5000

typedef struct eng_step_key {
    const char *key;
    vfn check;
} eng_step_key;

typedef struct eng_step_def {
    const char *kind;
    vfn value;                            /* checks the value of the kind's own key */
    eng_step_key keys[ENG_STEP_MAX_KEYS]; /* the other keys, besides the common ones */
    const char *required;                 /* a key that must be present, or NULL */
    eng_step_fn run;                      /* NULL: repeat, which eng_run_steps() unrolls */
} eng_step_def;

extern const eng_step_def eng_step_defs[];
extern const size_t eng_step_ndefs;
/* The keys every step takes: comment, mark, or_skip (but a mark step,
 * which cannot fail). */
extern const eng_step_key eng_step_common_keys[];
/* May a step of kind kd hold common key k? (a mark holds only comment) */
int eng_step_common_key_ok(const eng_step_def *kd, const char *k);

/* The entry of a step's kind and *value, the kind's value; NULL if none. */
const eng_step_def *eng_step_def_of(const cJSON *step, const cJSON **value);
/* Validates an array of steps (a case's, or a repeat's). */
int v_steps(struct vctx *v, const cJSON *j);

#endif
