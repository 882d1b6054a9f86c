/* How a step's time window reads in reports. A case waits longer than the
 * profile's timers (appendix B: +500 ms tolerance on the late side, -100 ms
 * measurement error where a timer is also a lower bound); a step that names
 * the timer it stands for ("profile_ms") is reported with the profile's
 * figure and those allowances, so 2500 ms never reads like the profile's
 * value. The window itself is checked against appendix B at load time
 * (engine_steps.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "engine_exec.h"
#include "engine_steps.h"

static long long literal(const cJSON *step, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(step, key);
    return cJSON_IsNumber(j) ? (long long)j->valuedouble : -1;
}

void eng_window_text(const cJSON *step, uint64_t within, char *out, size_t cap)
{
    long long t = literal(step, "profile_ms"), nb = literal(step, "not_before_ms");
    if (t >= 0 && nb > 0)
        snprintf(out, cap, " at %lld ms (accepted from %lld to %llu ms: -%d ms measurement error, "
                           "+%d ms tolerance, profile appendix B)",
                 t, nb, (unsigned long long)within, ENG_EARLY_MS, ENG_LATE_MS);
    else if (t >= 0)
        snprintf(out, cap, " within %lld ms (+%d ms tolerance)", t, ENG_LATE_MS);
    else if (nb > 0)
        snprintf(out, cap, " between %lld and %llu ms", nb, (unsigned long long)within);
    else
        snprintf(out, cap, " within %llu ms", (unsigned long long)within);
}
