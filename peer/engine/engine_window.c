/* How a step's time window reads in reports. A case waits longer than the
 * profile's timers (appendix B: +500 ms tolerance on the late side, -100 ms
 * measurement error where a timer is also a lower bound); a step that names
 * the timer it stands for ("profile_ms") is reported with the profile's
 * figure and those allowances, so 2500 ms never reads like the profile's
 * value. The window itself is checked against appendix B at load time
 * (engine_steps.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

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
    else if (eng_window_wait(step, within) > within)
        snprintf(out, cap, " within %llu ms (waited up to %d ms: no profile timer)",
                 (unsigned long long)within, ENG_PATIENCE_MS);
    else
        snprintf(out, cap, " within %llu ms", (unsigned long long)within);
}

/* A window is the profile's when the step names the timer (profile_ms), has
 * a lower bound (not_before_ms), is a bound the case derives from the
 * profile in another way (strict_within: an ordering within measurement
 * error, RES-7), or turns a miss into a skip (or_skip: a miss is then an
 * expected outcome, decided at the case's own time). Any
 * other window is the case's expectation of an event the profile sets no
 * time for (a delivery, an ERROR, a reply): a slow but conforming target
 * must not fail it, so the engine waits up to ENG_PATIENCE_MS before it
 * calls the event missing, and a late arrival is a warning. */
static int profiles_window(const cJSON *step)
{
    return cJSON_GetObjectItemCaseSensitive(step, "profile_ms") ||
           cJSON_GetObjectItemCaseSensitive(step, "not_before_ms") ||
           cJSON_GetObjectItemCaseSensitive(step, "strict_within") ||
           cJSON_GetObjectItemCaseSensitive(step, "or_skip");
}

uint64_t eng_window_wait(const cJSON *step, uint64_t within)
{
    if (profiles_window(step) || within >= ENG_PATIENCE_MS)
        return within;
    return ENG_PATIENCE_MS;
}

static const char *first_requirement(const eng_exec *ex)
{
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ex->c->root, "requirements"), 0);
    return cJSON_IsString(r) ? r->valuestring : "?";
}

int eng_window_late(eng_exec *ex, const cJSON *step, uint64_t within, double after)
{
    if (profiles_window(step) || after <= (double)within + 0.05)
        return 0;
    if (ex->t->strict) {
        size_t o = strlen(ex->received);
        snprintf(ex->received + o, sizeof ex->received - o,
                 " after %.1f ms, later than the %llu ms the case expects (--strict)", after,
                 (unsigned long long)within);
        return 1;
    }
    eng_warn(ex, first_requirement(ex),
             "came %.1f ms after the step's reference, later than the %llu ms the case expects; "
             "the profile sets no time for it, so not a failure", after, (unsigned long long)within);
    return 0;
}
