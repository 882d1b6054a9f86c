/* The expect_* steps: what must (and must not) arrive, and when. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_exec.h"
#include "engine_steps.h"

#define ANY_TYPE 0x80000000u

static uint32_t type_set(const cJSON *j)
{
    uint32_t m = 0;
    if (cJSON_IsString(j)) {
        if (!strcmp(j->valuestring, "any"))
            return ANY_TYPE | 0x3FE;
        const struct mbws_type_desc *d = mbws_type_by_name(j->valuestring, strlen(j->valuestring));
        return d ? 1u << d->code : 0;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
        m |= type_set(it);
    return m;
}

static uint32_t ignore_set(eng_exec *ex, const cJSON *step)
{
    const cJSON *ig = cJSON_GetObjectItemCaseSensitive(step, "ignore");
    return type_set(ig ? ig : ex->ignore_default);
}

static void type_set_text(uint32_t m, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    if (m & ANY_TYPE) {
        snprintf(out, cap, "any frame");
        return;
    }
    for (unsigned t = 1; t <= MBWS_TYPE_MAX; t++)
        if (m & (1u << t))
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? " or " : "",
                                  mbws_type_name(t));
}

/* The next event on c, waiting until deadline; NULL when none came. */
static ws_event *next_event(eng_exec *ex, eng_conn *c, double deadline)
{
    for (;;) {
        if (c->ws.events.head)
            return c->ws.events.head;
        if (eng_out_of_time(ex) || c->ws.fd < 0 || ws_clock_ms() >= deadline)
            return NULL;
        eng_pump(ex, deadline);
    }
}

static void drop_head(eng_conn *c)
{
    ws_event_free(ws_queue_pop(&c->ws.events));
}

static eng_conn *conn_of(eng_exec *ex, const cJSON *step, enum eng_status *st)
{
    eng_conn *c = eng_conn_get(ex, eng_step_conn(step), 0);
    if (!c)
        *st = eng_errorf(ex, "no connection named '%s' was opened", eng_step_conn(step));
    return c;
}

/* The step's connection and its time limit (key, e.g. "within_ms");
 * NULL with *st set when either is missing or wrong. */
static eng_conn *conn_and_limit(eng_exec *ex, const cJSON *step, const char *key, int dflt,
                                uint64_t *ms, enum eng_status *st)
{
    eng_conn *c = conn_of(ex, step, st);
    if (c && eng_step_int(ex, step, key, dflt, ms) < 0) {
        *st = ST_ERROR;
        return NULL;
    }
    return c;
}

/* Adds to what the report says was received. */
static void append_received(eng_exec *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append_received(eng_exec *ex, const char *fmt, ...)
{
    size_t o = strlen(ex->received);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->received + o, sizeof ex->received - o, fmt, ap);
    va_end(ap);
}

/* An ACK seen on the way is remembered: a later expect_ack it covers passes. */
static void note_ack(eng_conn *c, const mbws_frame *f)
{
    if (f->type == MBWS_ACK && f->num[MBWS_F_SEQ] > c->max_ack_seen)
        c->max_ack_seen = f->num[MBWS_F_SEQ];
}

/* Is e a frame of a type the step ignores? Then *f is the decoded frame. */
static int ignored_frame(eng_exec *ex, const ws_event *e, uint32_t ign, mbws_frame *f)
{
    mbws_error_info ei;
    return e->kind == WS_EV_MESSAGE && eng_decode(ex, 1, e, f, &ei) == 0 && (ign & (1u << f->type));
}

/* Describes an event that is not what the step wanted. */
static void describe_event(eng_exec *ex, const ws_event *e, char *out, size_t cap)
{
    if (e->kind == WS_EV_CLOSE) {
        snprintf(out, cap, "close frame with code %d%s%s", e->code, e->len ? ", reason " : "",
                 e->len ? (const char *)e->data : "");
    } else if (e->kind == WS_EV_EOF || e->kind == WS_EV_VIOLATION) {
        snprintf(out, cap, "%s", e->note);
    } else {
        mbws_frame f;
        mbws_error_info ei;
        if (eng_decode(ex, 1, e, &f, &ei) == 0) {
            mbws_frame_format(&f, out, cap);
        } else {
            snprintf(out, cap, "%s message that does not decode: %s (%s, code %d)",
                     ws_opcode_name(e->opcode), ei.message, ei.rule ? ei.rule : "?", ei.code);
        }
    }
}

static enum eng_status nothing(eng_exec *ex, eng_conn *c, double within)
{
    if (ex->timed_out)
        snprintf(ex->received, sizeof ex->received, "nothing before the case deadline");
    else if (c->ws.fd < 0)
        snprintf(ex->received, sizeof ex->received, "connection '%s' is already closed%s%s",
                 c->name, c->ws.end_note[0] ? ": " : "", c->ws.end_note);
    else
        snprintf(ex->received, sizeof ex->received, "nothing within %.0f ms", within);
    if (c->ws.frames_in >= ENG_BUSY_FRAMES) /* say what kept the connection busy */
        append_received(ex, " (the target sent %llu frames on this connection, %llu of them Pings, "
                            "none of them what the step waits for)",
                        (unsigned long long)c->ws.frames_in, (unsigned long long)c->ws.pings_in);
    return ST_FAIL;
}

/* "promptly": where the profile says "at once" without a figure (SES-7's
 * close once every MESSAGE is acknowledged), the case's window is the
 * profile's bound and this suite's reading of "promptly" is a warning, a
 * failure only with --strict. Returns 1 for that failure. */
static int late_for_our_reading(eng_exec *ex, const cJSON *step, double since, double at)
{
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(step, "promptly");
    if (!pr)
        return 0;
    double ms = cJSON_GetObjectItemCaseSensitive(pr, "within_ms")->valuedouble;
    const char *clause = cJSON_GetObjectItemCaseSensitive(pr, "clause")->valuestring;
    double ref = cJSON_GetObjectItemCaseSensitive(pr, "since") ? eng_since(ex, pr) : since;
    if (at - ref <= ms + 0.05)
        return 0;
    if (ex->t->strict) {
        append_received(ex, " after %.1f ms, later than the %.0f ms this suite reads as prompt "
                            "(%s; --strict)", at - ref, ms, clause);
        return 1;
    }
    eng_warn(ex, clause, "came %.1f ms after the step's reference, later than the %.0f ms this "
                         "suite reads as prompt (docs/profile-notes.md); within the profile's "
                         "bound, so not a failure", at - ref, ms);
    return 0;
}

static enum eng_status timing(eng_exec *ex, const cJSON *step, double since, double at)
{
    uint64_t nb;
    if (eng_step_int(ex, step, "not_before_ms", 0, &nb) < 0)
        return ST_ERROR;
    if (nb && at - since + 0.05 < (double)nb) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(step, "profile_ms");
        append_received(ex, " after %.1f ms, earlier than %llu ms", at - since,
                        (unsigned long long)nb);
        if (cJSON_IsNumber(t))
            append_received(ex, " (the profile's %.0f ms less %d ms measurement error)",
                            t->valuedouble, ENG_EARLY_MS);
        return ST_FAIL;
    }
    if (late_for_our_reading(ex, step, since, at))
        return ST_FAIL;
    uint64_t within;
    if (eng_step_int(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &within) < 0)
        return ST_ERROR;
    if (eng_window_late(ex, step, within, at - since))
        return ST_FAIL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(step, "mark");
    if (cJSON_IsString(m))
        eng_set_mark(ex, m->valuestring, at);
    return ST_OK;
}

/* Does the decoded frame f match the step's fields, body and encoding? */
static int frame_matches(eng_exec *ex, const cJSON *step, const ws_event *e, const mbws_frame *f,
                         char *why, size_t whylen)
{
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(step, "fields");
    const cJSON *m;
    cJSON_ArrayForEach(m, fields)
    {
        const struct mbws_field_desc *d = mbws_field_by_name(m->string, strlen(m->string));
        char w[400];
        int present = mbws_frame_has(f, d->id)         ? 1
                      : ((f->ignored >> d->id) & 1u) ? ENG_SENT_UNLISTED
                                                     : 0;
        int r = eng_match(&ex->vars, m, present, d->kind == MBWS_KIND_INT, f->num[d->id],
                          f->str[d->id].ptr, f->str[d->id].len, w, sizeof w);
        if (eng_should_last.missed && !eng_should_last.what[0])
            snprintf(eng_should_last.what, sizeof eng_should_last.what, "%s %s",
                     mbws_type_name(f->type), d->name);
        if (r <= 0) {
            snprintf(why, whylen, "%s %s", d->name, w);
            return r;
        }
    }
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(step, "body");
    if (body) {
        char w[400];
        int r = eng_match(&ex->vars, body, 1, 0, 0, f->body.ptr, f->body.len, w, sizeof w);
        if (r <= 0) {
            snprintf(why, whylen, "body %s", w);
            return r;
        }
    }
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(step, "encoding");
    const char *want;
    eng_value v = {0};
    char err[200];
    if (enc) {
        if (eng_subst(&ex->vars, enc, &v, err, sizeof err) < 0 || v.type != EV_STR) {
            snprintf(why, whylen, "encoding: %s", err);
            eng_value_free(&v);
            return -1;
        }
        want = v.s;
    } else if (f->type == MBWS_MESSAGE && !mbws_utf8_valid(f->body.ptr, f->body.len)) {
        want = "binary"; /* SES-6 */
    } else {
        want = eng_enc_name(ex->job.enc);
    }
    const char *got = e->opcode == WS_OP_TEXT ? "text" : "binary";
    int ok = !strcmp(want, "any") || !strcmp(want, got);
    if (!ok)
        snprintf(why, whylen, "sent as a %s frame, expected %s (SES-6)", got, want);
    eng_value_free(&v);
    return ok;
}

static enum eng_status capture(eng_exec *ex, const cJSON *step, const mbws_frame *f)
{
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(step, "capture");
    const cJSON *c;
    cJSON_ArrayForEach(c, cap)
    {
        const char *what = c->valuestring;
        if (!strcmp(what, "body")) {
            eng_vars_set_str(&ex->vars, c->string, (const char *)f->body.ptr, f->body.len);
        } else if (!strcmp(what, "type")) {
            const char *tn = mbws_type_name(f->type);
            eng_vars_set_str(&ex->vars, c->string, tn, strlen(tn));
        } else {
            const struct mbws_field_desc *d = mbws_field_by_name(what, strlen(what));
            if (!mbws_frame_has(f, d->id)) {
                append_received(ex, " (no %s field to capture into %s)", what, c->string);
                return ST_FAIL;
            }
            if (d->kind == MBWS_KIND_INT)
                eng_vars_set_int(&ex->vars, c->string, f->num[d->id]);
            else
                eng_vars_set_str(&ex->vars, c->string, (const char *)f->str[d->id].ptr,
                                 f->str[d->id].len);
        }
    }
    return ST_OK;
}

static void expected_text(eng_exec *ex, const cJSON *step, uint32_t types, uint64_t within)
{
    char ts[128];
    type_set_text(types, ts, sizeof ts);
    size_t o = (size_t)snprintf(ex->expected, sizeof ex->expected, "%s", ts);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(step, "fields"))
    {
        char mt[160];
        eng_matcher_text(m, mt, sizeof mt);
        if (o < sizeof ex->expected)
            o += (size_t)snprintf(ex->expected + o, sizeof ex->expected - o, " %s %s", m->string, mt);
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(step, "body");
    if (b && o < sizeof ex->expected) {
        char mt[160];
        eng_matcher_text(b, mt, sizeof mt);
        o += (size_t)snprintf(ex->expected + o, sizeof ex->expected - o, " body %s", mt);
    }
    if (o < sizeof ex->expected)
        eng_window_text(step, within, ex->expected + o, sizeof ex->expected - o);
    eng_value v = {0}; /* show the values, not the ${...} */
    char err[100];
    if (eng_subst_str(&ex->vars, ex->expected, &v, err, sizeof err) == 0 && v.s)
        snprintf(ex->expected, sizeof ex->expected, "%s", v.s);
    eng_value_free(&v);
}

enum eng_status eng_step_expect(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    uint64_t within;
    eng_conn *c = conn_and_limit(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &within, &st);
    if (!c)
        return st;
    uint32_t want = type_set(value), ign = ignore_set(ex, step);
    expected_text(ex, step, want, within);
    double since = eng_since(ex, step);
    double wait = (double)eng_window_wait(step, within);
    double deadline = eng_deadline(ex, since + wait);
    for (;;) {
        ws_event *e = next_event(ex, c, deadline);
        if (!e)
            return nothing(ex, c, wait);
        describe_event(ex, e, ex->received, sizeof ex->received);
        if (e->kind != WS_EV_MESSAGE)
            return ST_FAIL;
        mbws_frame f;
        mbws_error_info ei;
        if (eng_decode(ex, 1, e, &f, &ei) != 0) {
            drop_head(c);
            return ST_FAIL;
        }
        note_ack(c, &f);
        if (want & (1u << f.type)) {
            char why[512] = "";
            eng_should_last.missed = 0; /* only the frame that matches counts */
            int r = frame_matches(ex, step, e, &f, why, sizeof why);
            if (r < 0) {
                snprintf(ex->received, sizeof ex->received, "%s", why);
                return ST_ERROR;
            }
            if (r) {
                st = capture(ex, step, &f);
                if (st == ST_OK)
                    st = timing(ex, step, since, e->t_ms);
                drop_head(c);
                return st;
            }
            if (!(ign & (1u << f.type))) {
                append_received(ex, " (%s)", why);
                drop_head(c);
                return ST_FAIL;
            }
        } else if (!(ign & (1u << f.type))) {
            drop_head(c);
            return ST_FAIL;
        }
        drop_head(c); /* an ignored frame */
    }
}

enum eng_status eng_step_expect_ack(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    uint64_t within, n;
    char err[200];
    eng_conn *c = conn_and_limit(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &within, &st);
    if (!c)
        return st;
    if (eng_subst_int(&ex->vars, value, &n, err, sizeof err) < 0)
        return eng_errorf(ex, "expect_ack: %s", err);
    char win[160];
    eng_window_text(step, within, win, sizeof win);
    snprintf(ex->expected, sizeof ex->expected, "ACK covering seq %llu%s", (unsigned long long)n, win);
    if (c->max_ack_seen >= n)
        return ST_OK; /* an earlier ACK already covers it */
    uint32_t ign = ignore_set(ex, step);
    double since = eng_since(ex, step);
    double wait = (double)eng_window_wait(step, within);
    double deadline = eng_deadline(ex, since + wait);
    for (;;) {
        ws_event *e = next_event(ex, c, deadline);
        if (!e) {
            nothing(ex, c, wait);
            if (c->max_ack_seen)
                append_received(ex, " (highest ACK seq %llu)", (unsigned long long)c->max_ack_seen);
            return ST_FAIL;
        }
        describe_event(ex, e, ex->received, sizeof ex->received);
        mbws_frame f;
        mbws_error_info ei;
        if (e->kind != WS_EV_MESSAGE || eng_decode(ex, 1, e, &f, &ei) != 0)
            return ST_FAIL;
        double at = e->t_ms;
        drop_head(c); /* e and f's pointers are gone; f's numbers stay */
        if (f.type == MBWS_ACK) {
            note_ack(c, &f);
            if (f.num[MBWS_F_SEQ] >= n)
                return timing(ex, step, since, at);
        } else if (!(ign & (1u << f.type))) {
            return ST_FAIL;
        }
    }
}

enum eng_status eng_step_expect_no_frame(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    (void)value;
    enum eng_status st = ST_OK;
    uint64_t ms;
    eng_conn *c = conn_and_limit(ex, step, "for_ms", 1000, &ms, &st);
    if (!c)
        return st;
    uint32_t ign = ignore_set(ex, step);
    char ts[128] = "";
    if (ign) {
        type_set_text(ign, ts, sizeof ts);
    }
    snprintf(ex->expected, sizeof ex->expected, "no frame%s%s for %llu ms", ign ? " except " : "",
             ts, (unsigned long long)ms);
    double deadline = ex->step_t0 + (double)ms;
    if (deadline > ex->deadline)
        return eng_errorf(ex, "for_ms %llu runs past the case deadline", (unsigned long long)ms);
    for (;;) {
        ws_event *e = next_event(ex, c, deadline);
        if (!e) {
            if (c->ws.fd < 0 && ws_clock_ms() < deadline) {
                snprintf(ex->received, sizeof ex->received, "connection '%s' is closed%s%s",
                         c->name, c->ws.end_note[0] ? ": " : "", c->ws.end_note);
                return ST_FAIL;
            }
            return ST_OK;
        }
        describe_event(ex, e, ex->received, sizeof ex->received);
        mbws_frame f;
        if (!ignored_frame(ex, e, ign, &f))
            return ST_FAIL;
        note_ack(c, &f);
        drop_head(c);
    }
}

enum eng_status eng_step_expect_close(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    uint64_t within;
    eng_conn *c = conn_and_limit(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &within, &st);
    if (!c)
        return st;
    const cJSON *or_drop = cJSON_GetObjectItemCaseSensitive(step, "or_drop");
    char mt[200];
    if (cJSON_IsNull(value) || cJSON_IsTrue(value))
        snprintf(mt, sizeof mt, "any code");
    else
        eng_matcher_text(value, mt, sizeof mt);
    char win[160];
    eng_window_text(step, within, win, sizeof win);
    snprintf(ex->expected, sizeof ex->expected, "close with %s%s%s", mt,
             cJSON_IsTrue(or_drop) ? " (or a dropped connection)" : "", win);
    uint32_t ign = ignore_set(ex, step);
    double since = eng_since(ex, step);
    double wait = (double)eng_window_wait(step, within);
    double deadline = eng_deadline(ex, since + wait);
    for (;;) {
        ws_event *e = next_event(ex, c, deadline);
        if (!e)
            return nothing(ex, c, wait);
        describe_event(ex, e, ex->received, sizeof ex->received);
        if (e->kind == WS_EV_CLOSE && !cJSON_IsNull(value) && !cJSON_IsTrue(value)) {
            char why[300];
            int r = eng_match(&ex->vars, value, 1, 1, (uint64_t)e->code, NULL, 0, why, sizeof why);
            if (r < 0) {
                snprintf(ex->received, sizeof ex->received, "%s", why);
                return ST_ERROR;
            }
            if (!r)
                return ST_FAIL;
        }
        if (e->kind == WS_EV_CLOSE || (e->kind == WS_EV_EOF && cJSON_IsTrue(or_drop))) {
            st = timing(ex, step, since, e->t_ms);
            drop_head(c);
            return st;
        }
        mbws_frame f;
        if (!ignored_frame(ex, e, ign, &f))
            return ST_FAIL;
        drop_head(c);
    }
}

enum eng_status eng_step_expect_pong(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    enum eng_status st = ST_OK;
    uint64_t within;
    eng_conn *c = conn_and_limit(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &within, &st);
    if (!c)
        return st;
    uint8_t *want = NULL;
    size_t wl = 0;
    char err[200];
    if (!cJSON_IsTrue(value) && eng_bytes(&ex->vars, value, &want, &wl, err, sizeof err) < 0)
        return eng_errorf(ex, "expect_pong: %s", err);
    char win[160];
    eng_window_text(step, within, win, sizeof win);
    snprintf(ex->expected, sizeof ex->expected, "a Pong%s%s", want ? " echoing the Ping's payload" : "",
             win);
    double since = eng_since(ex, step);
    double wait = (double)eng_window_wait(step, within);
    double deadline = eng_deadline(ex, since + wait);
    for (;;) {
        ws_event *p = c->ws.pongs.head;
        if (p) {
            int ok = !want || (p->len == wl && !memcmp(p->data, want, wl));
            snprintf(ex->received, sizeof ex->received, "Pong with %zu octets%s", p->len,
                     ok ? "" : " that differ from the Ping's");
            double at = p->t_ms;
            ws_event_free(ws_queue_pop(&c->ws.pongs));
            free(want);
            return ok ? timing(ex, step, since, at) : ST_FAIL;
        }
        if (c->ws.fd < 0 || ws_clock_ms() >= deadline || eng_out_of_time(ex)) {
            free(want);
            if (c->ws.fd < 0 && c->ws.events.head)
                describe_event(ex, c->ws.events.head, ex->received, sizeof ex->received);
            else
                nothing(ex, c, wait);
            return ST_FAIL;
        }
        eng_pump(ex, deadline);
    }
}

enum eng_status eng_step_expect_exit(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    uint64_t within;
    if (eng_step_int(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &within) < 0)
        return ST_ERROR;
    if (ex->client_pid <= 0)
        return eng_errorf(ex, "expect_exit: no client under test in this run");
    char mt[200];
    eng_matcher_text(value, mt, sizeof mt);
    char win[160];
    eng_window_text(step, within, win, sizeof win);
    snprintf(ex->expected, sizeof ex->expected, "client exits with status %s%s", mt, win);
    double since = eng_since(ex, step);
    double deadline = eng_deadline(ex, since + (double)within);
    while (ex->client_running && ws_clock_ms() < deadline && !eng_out_of_time(ex))
        eng_pump(ex, deadline);
    if (ex->client_running) {
        snprintf(ex->received, sizeof ex->received, "client still running after %llu ms",
                 (unsigned long long)within);
        return ST_FAIL;
    }
    snprintf(ex->received, sizeof ex->received, "client %s", ex->client_exit_text);
    char why[300];
    int r = eng_match(&ex->vars, value, 1, 1, (uint64_t)ex->client_status, NULL, 0, why, sizeof why);
    if (r < 0)
        return eng_errorf(ex, "%s", why);
    return r ? ST_OK : ST_FAIL;
}
