/* Non-strict checks: the `warn` verdict. A SHOULD of the profile (ERR-1's
 * seq, RES-8) or a reading of this project that goes beyond the profile
 * (docs/profile-notes.md) never fails an execution: it records a warning
 * naming the clause, and an execution whose steps all held but that has
 * warnings is `warn`. With --strict they are failures instead. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_exec.h"

const char *const eng_verdict_names[ENG_NVERDICTS] = {"pass", "fail", "error", "skip", "warn"};

void eng_warn(eng_exec *ex, const char *clause, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!ex->warnings)
        ex->warnings = cJSON_CreateArray();
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "clause", clause && *clause ? clause : "?");
    cJSON_AddStringToObject(w, "path", ex->step_path);
    cJSON_AddStringToObject(w, "text", text);
    cJSON_AddItemToArray(ex->warnings, w);
    eng_log_event(ex, 0, "warning (%s, non-strict): %s", clause && *clause ? clause : "?", text);
}

void eng_should_commit(eng_exec *ex)
{
    if (!eng_should_last.missed)
        return;
    const char *what = eng_should_last.what;
    eng_warn(ex, eng_should_last.clause, "%s%s%s", what, *what ? " " : "", eng_should_last.why);
    eng_should_last.missed = 0;
}

enum eng_status eng_step_should(eng_exec *ex, const cJSON *step, enum eng_status st)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(step, "should");
    if (st != ST_FAIL || !cJSON_IsString(sh) || ex->t->strict)
        return st;
    eng_warn(ex, sh->valuestring, "%s%s%s", ex->received, ex->expected[0] ? "; expected " : "",
             ex->expected);
    return ST_OK;
}

const char *eng_verdict_name(const eng_exec *ex, enum eng_status st)
{
    if (st == ST_OK && ex->warnings && cJSON_GetArraySize(ex->warnings) > 0)
        return "warn";
    return eng_verdict_names[st];
}

/* "clause: text; clause: text" for the result's reason. */
void eng_warnings_text(const eng_exec *ex, char *out, size_t cap)
{
    size_t o = 0;
    const cJSON *w;
    out[0] = 0;
    cJSON_ArrayForEach(w, ex->warnings)
    {
        if (o >= cap)
            break;
        o += (size_t)snprintf(out + o, cap - o, "%swarning %s (non-strict) at step %s: %s",
                              o ? "; " : "",
                              cJSON_GetObjectItemCaseSensitive(w, "clause")->valuestring,
                              cJSON_GetObjectItemCaseSensitive(w, "path")->valuestring,
                              cJSON_GetObjectItemCaseSensitive(w, "text")->valuestring);
    }
}
