/* The suite keeps the profile towards the implementation (FLOW-6, SES-8):
 * before a message leaves, the engine checks it against what the
 * implementation advertised. A MESSAGE above the limit it granted waits for
 * a FLOW (1500 ms, or the case's limit_wait_ms and then `skip`); one still
 * above it, a frame above its max-frame, or (testing a broker) a CONNECT over
 * 1024 octets is a bug of the case, verdict `error`, unless the step declares the breach
 * it is about: "violates": "FLOW-3" (or FLOW-6) for the limit, "SES-9" (or
 * SES-8) for a size. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine_exec.h"

#define ENG_CONNECT_MAX 1024 /* SES-8: the broker's max-frame is not known yet */
#define ENG_FLOW_WAIT_MS 1500 /* FLOW-5's 1000 ms + appendix B's 500 ms */

static int declared(const cJSON *step, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(step, "violates");
    return cJSON_IsString(v) && (!strcmp(v->valuestring, a) || !strcmp(v->valuestring, b));
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b; /* FLOW-1 */
}

static void keep_token(eng_conn *c, const mbws_frame *f)
{
    const mbws_bytes *tok = &f->str[MBWS_F_SESSION];
    if (mbws_frame_has(f, MBWS_F_SESSION) && tok->len < sizeof c->session) {
        memcpy(c->session, tok->ptr, tok->len);
        c->session[tok->len] = 0;
    }
}

void eng_police_track(eng_exec *ex, eng_conn *c, int in, const mbws_frame *f)
{
    if (!in) { /* the engine's own CONNECTED names the session of a C- case */
        if (f->type == MBWS_CONNECT || f->type == MBWS_CONNECTED)
            keep_token(c, f);
        return;
    }
    if (f->type == MBWS_FLOW) {
        if (!c->has_limit || f->num[MBWS_F_LIMIT] > c->limit)
            c->limit = f->num[MBWS_F_LIMIT];
        c->has_limit = 1;
        return;
    }
    if (f->type != MBWS_CONNECT && f->type != MBWS_CONNECTED)
        return;
    uint64_t base = mbws_frame_has(f, MBWS_F_LAST_SEQ) ? f->num[MBWS_F_LAST_SEQ] : 0;
    c->limit = sat_add(base, f->num[MBWS_F_CREDIT]);
    c->max_frame = f->num[MBWS_F_MAX_FRAME];
    c->has_limit = c->has_max_frame = 1;
    int resumed = f->type == MBWS_CONNECTED ? mbws_frame_has(f, MBWS_F_RESUMED) &&
                                                  f->num[MBWS_F_RESUMED] == 1
                                            : mbws_frame_has(f, MBWS_F_SESSION);
    keep_token(c, f);
    if (!resumed || !c->session[0])
        return;
    /* RES-5: the larger of the old limit (the session's earlier connections) and the new */
    for (int i = 0; i < ENG_MAX_CONNS; i++) {
        const eng_conn *o = &ex->conns[i];
        if (o != c && o->used && o->has_limit && !strcmp(o->session, c->session) &&
            o->limit > c->limit)
            c->limit = o->limit;
    }
}

/* What breach of FLOW-6/SES-8 this message would be: 1 a size, 2 the
 * limit, 0 none (why filled). */
static int breach(eng_exec *ex, const eng_conn *c, const cJSON *step, int opcode,
                  const uint8_t *p, size_t len, char *why, size_t cap)
{
    if (c->has_max_frame && len > c->max_frame && !declared(step, "SES-9", "SES-8")) {
        snprintf(why, cap, "a %zu-octet frame above the max-frame %llu the implementation "
                           "advertised (SES-8)", len, (unsigned long long)c->max_frame);
        return 1;
    }
    if (opcode != WS_OP_TEXT && opcode != WS_OP_BINARY)
        return 0;
    ws_event e;
    memset(&e, 0, sizeof e);
    e.opcode = opcode;
    e.data = (uint8_t *)p;
    e.len = len;
    mbws_frame f;
    mbws_error_info ei;
    if (eng_decode(ex, 0, &e, &f, &ei) != 0)
        return 0; /* a malformed frame is about another rule */
    if (f.type == MBWS_CONNECT && ex->c->role == ENG_TEST_BROKER && len > ENG_CONNECT_MAX &&
        !declared(step, "SES-8", "SES-9")) {
        snprintf(why, cap, "a %zu-octet CONNECT; a client's CONNECT fits in %d octets (SES-8)",
                 len, ENG_CONNECT_MAX);
        return 1;
    }
    if (f.type == MBWS_MESSAGE && c->has_limit && f.num[MBWS_F_SEQ] > c->limit &&
        !declared(step, "FLOW-3", "FLOW-6")) {
        snprintf(why, cap, "MESSAGE seq %llu above the limit %llu the implementation granted "
                           "(FLOW-6)", (unsigned long long)f.num[MBWS_F_SEQ],
                 (unsigned long long)c->limit);
        return 2; /* a limit: a FLOW can still raise it */
    }
    return 0;
}

enum eng_status eng_police(eng_exec *ex, eng_conn *c, const cJSON *step, int opcode,
                           const uint8_t *p, size_t len)
{
    char why[300];
    int b = breach(ex, c, step, opcode, p, len, why, sizeof why);
    if (!b)
        return ST_OK;
    /* A FLOW may be on its way (or waiting unread): like any sender whose
     * window is closed, wait for it; FLOW-5 gives the implementation 1000 ms
     * (+500 ms tolerance) to raise its limit, so a case is not judged on how
     * fast a FLOW comes. Frames read meanwhile stay queued for the next steps. */
    int wait_ms = ex->c->limit_wait ? ex->c->limit_wait_ms : ENG_FLOW_WAIT_MS;
    double until = ws_clock_ms() + (b == 2 ? wait_ms : 0);
    do {
        eng_pump(ex, ws_clock_ms() + 10 < until ? ws_clock_ms() + 10 : ws_clock_ms());
        b = breach(ex, c, step, opcode, p, len, why, sizeof why);
    } while (b == 2 && ws_clock_ms() < until && c->ws.fd >= 0 && !eng_out_of_time(ex));
    if (!b)
        return ST_OK;
    if (b == 2 && ex->c->limit_wait) {
        snprintf(ex->skip_reason, sizeof ex->skip_reason,
                 "not exercised: the case would send %s, and no FLOW raised it within %d ms; "
                 "the suite never sends above the limit (FLOW-6, appendix B)",
                 why, ex->c->limit_wait_ms);
        return ST_SKIP;
    }
    snprintf(ex->expected, sizeof ex->expected,
             "a case that keeps FLOW-6 and SES-8 towards the implementation, or declares the "
             "breach it checks (\"violates\": \"FLOW-3\" or \"SES-9\")");
    if (b == 2)
        return eng_errorf(ex, "case bug in %s at step %s: it would send %s, and no FLOW raised it "
                              "within %d ms (FLOW-5's 1000 ms + 500 ms tolerance)",
                          ex->c->id, ex->step_path, why, wait_ms);
    return eng_errorf(ex, "case bug in %s at step %s: it would send %s", ex->c->id, ex->step_path,
                      why);
}
