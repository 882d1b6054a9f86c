/* libFuzzer target for the engine's ${...} substitution and expression
 * parser (peer/engine/engine_vars.c): any text, with integer variables at
 * the edges of the 64-bit range and a string variable defined. Evaluation
 * either gives a value or fails with a message; the load-time syntax check
 * must accept everything that evaluates. Arithmetic that would leave
 * 0..2^64-1 must fail, never wrap: a result is compared with the same
 * expression evaluated in 128 bits where the input is a plain sum. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static eng_vars vars;

static void setup(void)
{
    eng_vars_set_int(&vars, "zero", 0);
    eng_vars_set_int(&vars, "one", 1);
    eng_vars_set_int(&vars, "big", UINT64_MAX);
    eng_vars_set_int(&vars, "half", UINT64_MAX / 2 + 1);
    eng_vars_set_str(&vars, "s", "text", 4);
}

/* "${a+b+...}" with decimal a, b, ...: the exact sum, or -1 when the text is
 * not that form. */
static int plain_sum(const char *t, unsigned __int128 *sum)
{
    size_t n = strlen(t);
    if (n < 4 || strncmp(t, "${", 2) || t[n - 1] != '}')
        return -1;
    unsigned __int128 acc = 0, cur = 0;
    int digits = 0;
    for (size_t i = 2; i < n - 1; i++) {
        if (t[i] >= '0' && t[i] <= '9') {
            cur = cur * 10 + (unsigned)(t[i] - '0');
            if (++digits > 30)
                return -1;
        } else if (t[i] == '+' && digits) {
            acc += cur, cur = 0, digits = 0;
        } else {
            return -1;
        }
    }
    if (!digits)
        return -1;
    *sum = acc + cur;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vars.n)
        setup();
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    eng_value v = {0};
    char err[256] = "";
    int rc = eng_subst_str(&vars, text, &v, err, sizeof err);
    if (rc == 0 && eng_subst_check(text, err, sizeof err) != 0)
        abort(); /* the load-time check refused what evaluates */
    if (rc != 0 && !err[0])
        abort(); /* a failure says why */
    unsigned __int128 want;
    if (strlen(text) == size && plain_sum(text, &want) == 0) {
        if (want > UINT64_MAX && rc == 0)
            abort(); /* wrapped instead of failing */
        if (want <= UINT64_MAX && (rc != 0 || v.type != EV_INT || v.n != (uint64_t)want))
            abort();
    }
    eng_value_free(&v);
    free(text);
    return 0;
}
