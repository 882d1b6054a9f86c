/* Runs one execution: sets up variables (and the client under test for C-
 * cases), plays the steps, and turns what happened into the result object
 * of docs/engine-interface.md. */
#define _POSIX_C_SOURCE 200809L
#include "engine_proc.h"
#include "engine_steps.h"
#include "engine_text.h"
#include "mbws_limits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *eng_sp_name(enum mbws_subprotocol sp)
{
    return sp == MBWS_SP_MBWS ? MBWS_SUBPROTOCOL_MBWS : MBWS_SUBPROTOCOL_MBLWS;
}

const char *eng_enc_name(enum mbws_encoding enc)
{
    return enc == MBWS_ENC_TEXT ? "text" : "binary";
}

enum mbws_role eng_iut_role(const eng_exec *ex)
{
    return ex->c->role == ENG_TEST_BROKER ? MBWS_ROLE_BROKER : MBWS_ROLE_CLIENT;
}

int eng_decode(const eng_exec *ex, int from_iut, const ws_event *e, mbws_frame *f,
               mbws_error_info *ei)
{
    enum mbws_role iut = eng_iut_role(ex);
    /* the engine judges frames correctly: no fault (MBWS_FAULT_NONE) */
    mbws_decode_ctx ctx = {
        .sender = from_iut ? iut : (iut == MBWS_ROLE_BROKER ? MBWS_ROLE_CLIENT : MBWS_ROLE_BROKER),
        .subprotocol = ex->job.sp,
    };
    return mbws_decode(e->data, e->len, e->opcode == WS_OP_TEXT ? MBWS_ENC_TEXT : MBWS_ENC_BINARY,
                       &ctx, f, ei);
}

/* What the engine learns from every frame that arrives (and from MESSAGEs
 * it sends): the variables of docs/case-format.md "Automatic variables". */
void eng_track(eng_exec *ex, int in, const mbws_frame *f)
{
    eng_vars *vs = &ex->vars;
    if (!in) {
        if (f->type == MBWS_MESSAGE && mbws_frame_has(f, MBWS_F_SEQ)) {
            const eng_value *s = eng_vars_get(vs, "sent_seq");
            if (!s || s->n < f->num[MBWS_F_SEQ])
                eng_vars_set_int(vs, "sent_seq", f->num[MBWS_F_SEQ]);
        }
        return;
    }
    switch (f->type) {
    case MBWS_CONNECT:
    case MBWS_CONNECTED: {
        uint64_t base = mbws_frame_has(f, MBWS_F_LAST_SEQ) ? f->num[MBWS_F_LAST_SEQ] : 0;
        const eng_value *old = eng_vars_get(vs, "peer_limit");
        int resumed = f->type == MBWS_CONNECTED ? mbws_frame_has(f, MBWS_F_RESUMED) &&
                                                      f->num[MBWS_F_RESUMED] == 1
                                                : mbws_frame_has(f, MBWS_F_SESSION);
        uint64_t old_limit = old && old->type == EV_INT ? old->n : 0;
        /* FLOW-1, RES-5: the core's arithmetic */
        eng_vars_set_int(vs, "peer_limit",
                         mbws_limit_on_connect(MBWS_FAULT_NONE, old_limit, resumed, base, f->num[MBWS_F_CREDIT]));
        eng_vars_set_int(vs, "peer_credit", f->num[MBWS_F_CREDIT]);
        eng_vars_set_int(vs, "peer_max_frame", f->num[MBWS_F_MAX_FRAME]);
        if (mbws_frame_has(f, MBWS_F_SESSION))
            eng_vars_set_str(vs, "session", (const char *)f->str[MBWS_F_SESSION].ptr,
                             f->str[MBWS_F_SESSION].len);
        if (mbws_frame_has(f, MBWS_F_SESSION_EXPIRY))
            eng_vars_set_int(vs, "peer_session_expiry", f->num[MBWS_F_SESSION_EXPIRY]);
        if (mbws_frame_has(f, MBWS_F_LAST_SEQ))
            eng_vars_set_int(vs, "peer_last_seq_field", f->num[MBWS_F_LAST_SEQ]);
        break;
    }
    case MBWS_FLOW:
        eng_vars_set_int(vs, "peer_limit", f->num[MBWS_F_LIMIT]);
        break;
    case MBWS_MESSAGE: {
        const eng_value *s = eng_vars_get(vs, "peer_seq");
        if (!s || s->n < f->num[MBWS_F_SEQ])
            eng_vars_set_int(vs, "peer_seq", f->num[MBWS_F_SEQ]);
        if (mbws_frame_has(f, MBWS_F_SUB))
            eng_vars_set_int(vs, "peer_sub", f->num[MBWS_F_SUB]);
        break;
    }
    case MBWS_ACK: {
        const eng_value *s = eng_vars_get(vs, "peer_acked");
        if (!s || s->n < f->num[MBWS_F_SEQ])
            eng_vars_set_int(vs, "peer_acked", f->num[MBWS_F_SEQ]);
        /* FLOW-3: it accepted (ACK-1) a MESSAGE above the limit it had granted */
        const eng_value *l = eng_vars_get(vs, "peer_limit");
        const eng_value *o = eng_vars_get(vs, "peer_acked_over_limit");
        if (l && l->type == EV_INT && mbws_seq_over_limit(f->num[MBWS_F_SEQ], l->n) &&
            (!o || o->type != EV_INT || o->n < f->num[MBWS_F_SEQ]))
            eng_vars_set_int(vs, "peer_acked_over_limit", f->num[MBWS_F_SEQ]);
        break;
    }
    case MBWS_SUBSCRIBE:
        eng_vars_set_int(vs, "peer_sub", f->num[MBWS_F_SUB]);
        break;
    default:
        break;
    }
}

double eng_deadline(eng_exec *ex, double step_deadline)
{
    return step_deadline < ex->deadline ? step_deadline : ex->deadline;
}

int eng_out_of_time(eng_exec *ex)
{
    if (ws_clock_ms() >= ex->deadline) {
        ex->timed_out = 1;
        return 1;
    }
    return 0;
}

void eng_client_check(eng_exec *ex)
{
    if (!ex->client_running)
        return;
    if (eng_proc_poll(ex->client_pid, &ex->client_status, ex->client_exit_text,
                      sizeof ex->client_exit_text)) {
        ex->client_running = 0;
        eng_log_event(ex, 0, "client under test %s", ex->client_exit_text);
    }
}

void eng_pump(eng_exec *ex, double until)
{
    ws_conn *list[ENG_MAX_CONNS];
    size_t n = 0;
    for (int i = 0; i < ENG_MAX_CONNS; i++)
        if (ex->conns[i].used && ex->conns[i].ws.fd >= 0)
            list[n++] = &ex->conns[i].ws;
    double now = ws_clock_ms();
    if (until > now + 50 && ex->client_running)
        until = now + 50; /* look at the client process now and then */
    if (until > ex->deadline)
        until = ex->deadline;
    ws_pump(list, n, until);
    for (int i = 0; i < ENG_MAX_CONNS; i++) {
        eng_conn *c = &ex->conns[i];
        if (c->used && c->ws.end_note[0] && !c->end_logged) {
            c->end_logged = 1; /* why the engine stopped reading, e.g. a flood */
            eng_log_event(ex, c->ws.id, "%s", c->ws.end_note);
        }
    }
    eng_client_drain(ex);
    eng_client_check(ex);
}

eng_conn *eng_conn_get(eng_exec *ex, const char *name, int create)
{
    for (int i = 0; i < ENG_MAX_CONNS; i++)
        if (ex->conns[i].used && !strcmp(ex->conns[i].name, name))
            return &ex->conns[i];
    if (!create)
        return NULL;
    for (int i = 0; i < ENG_MAX_CONNS; i++) {
        eng_conn *c = &ex->conns[i];
        if (!c->used) {
            memset(c, 0, sizeof *c);
            c->used = 1;
            snprintf(c->name, sizeof c->name, "%s", name);
            ws_conn_init(&c->ws, ++ex->nconns_opened, eng_on_wire, ex, &ex->t->lim);
            return c;
        }
    }
    return NULL;
}

const char *eng_step_conn(const cJSON *step)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(step, "conn");
    return cJSON_IsString(c) ? c->valuestring : "main";
}

enum eng_status eng_errorf(eng_exec *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->received, sizeof ex->received, fmt, ap);
    va_end(ap);
    return ST_ERROR;
}

int eng_step_int(eng_exec *ex, const cJSON *step, const char *key, int dflt, uint64_t *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(step, key);
    if (!j) {
        *out = (uint64_t)dflt;
        return 0;
    }
    char err[256];
    if (eng_subst_int(&ex->vars, j, out, err, sizeof err) < 0) {
        eng_errorf(ex, "\"%s\": %s", key, err);
        return -1;
    }
    return 0;
}

void eng_set_mark(eng_exec *ex, const char *name, double t)
{
    for (int i = 0; i < ex->nmarks; i++)
        if (!strcmp(ex->marks[i].name, name)) {
            ex->marks[i].t = t;
            return;
        }
    if (ex->nmarks < 32) {
        snprintf(ex->marks[ex->nmarks].name, sizeof ex->marks[0].name, "%s", name);
        ex->marks[ex->nmarks++].t = t;
    }
}

double eng_since(eng_exec *ex, const cJSON *step)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(step, "since");
    if (cJSON_IsString(s))
        for (int i = 0; i < ex->nmarks; i++)
            if (!strcmp(ex->marks[i].name, s->valuestring))
                return ex->marks[i].t;
    return ex->step_t0;
}

/* The failing step, for the result: filled once, by the innermost step. */
struct failure {
    int index;
    char path[160];
    const char *kind;
};
static struct failure g_fail;

enum eng_status eng_run_steps(eng_exec *ex, const cJSON *steps, const char *path, int top)
{
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, steps)
    {
        char spath[160];
        snprintf(spath, sizeof spath, "%s/%d", path, i);
        const cJSON *value = NULL;
        const eng_step_def *def = eng_step_def_of(s, &value);
        const char *kind = def ? def->kind : "?";
        enum eng_status st = ST_OK;
        ex->step_t0 = ws_clock_ms();
        ex->expected[0] = ex->received[0] = 0;
        snprintf(ex->step_path, sizeof ex->step_path, "%s", spath);
        eng_should_last.missed = 0;
        if (def && !def->run) { /* repeat */
            uint64_t n;
            char err[256];
            if (eng_subst_int(&ex->vars, value, &n, err, sizeof err) < 0) {
                st = eng_errorf(ex, "repeat count: %s", err);
            } else if (n > 100000) {
                st = eng_errorf(ex, "repeat count %llu is above 100000", (unsigned long long)n);
            } else {
                const cJSON *var = cJSON_GetObjectItemCaseSensitive(s, "var");
                const char *vn = cJSON_IsString(var) ? var->valuestring : "i";
                char sub[176];
                snprintf(sub, sizeof sub, "%s/steps", spath);
                for (uint64_t k = 1; k <= n && st == ST_OK; k++) {
                    eng_vars_set_int(&ex->vars, vn, k);
                    st = eng_run_steps(ex, cJSON_GetObjectItemCaseSensitive(s, "steps"), sub, 0);
                }
                if (st != ST_OK) {
                    if (top)
                        g_fail.index = i;
                    return st;
                }
            }
        } else {
            if (def)
                st = def->run(ex, s, value);
            if (st == ST_OK && strcmp(kind, "mark")) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "mark");
                /* expects set their own mark at the matching arrival */
                if (cJSON_IsString(m) && strncmp(kind, "expect", 6))
                    eng_set_mark(ex, m->valuestring, ws_clock_ms());
            }
        }
        if (st == ST_OK)
            eng_should_commit(ex); /* a `should` matcher of the step that held did not */
        st = eng_step_should(ex, s, st);
        if (st == ST_FAIL) {
            const cJSON *os = cJSON_GetObjectItemCaseSensitive(s, "or_skip");
            if (os) {
                int r = eng_cond(ex, cJSON_GetObjectItemCaseSensitive(os, "if"));
                if (r < 0) {
                    st = ST_ERROR;
                } else if (r) {
                    eng_value v = {0};
                    char err[200];
                    const char *reason = cJSON_GetObjectItemCaseSensitive(os, "reason")->valuestring;
                    if (eng_subst_str(&ex->vars, reason, &v, err, sizeof err) == 0 && v.s)
                        snprintf(ex->skip_reason, sizeof ex->skip_reason, "%s", v.s);
                    else
                        snprintf(ex->skip_reason, sizeof ex->skip_reason, "%s", reason);
                    eng_value_free(&v);
                    st = ST_SKIP;
                }
            }
        }
        if (st != ST_OK && st != ST_SKIP && ws_clock_ms() >= ex->deadline - 1)
            ex->timed_out = 1; /* the execution's deadline, not the step's, ended it */
        if (st != ST_OK) {
            if (!g_fail.kind) {
                g_fail.kind = kind;
                snprintf(g_fail.path, sizeof g_fail.path, "%s", spath);
            }
            if (top)
                g_fail.index = i;
            return st;
        }
        i++;
    }
    return ST_OK;
}

static void builtin_vars(eng_exec *ex)
{
    eng_vars *vs = &ex->vars;
    const eng_job *j = &ex->job;
    eng_vars_set_str(vs, "subprotocol", eng_sp_name(j->sp), strlen(eng_sp_name(j->sp)));
    const char *osp = eng_sp_name(j->sp == MBWS_SP_MBWS ? MBWS_SP_MBLWS : MBWS_SP_MBWS);
    eng_vars_set_str(vs, "other_subprotocol", osp, strlen(osp));
    eng_vars_set_str(vs, "encoding", eng_enc_name(j->enc), strlen(eng_enc_name(j->enc)));
    const char *oe = eng_enc_name(j->enc == MBWS_ENC_TEXT ? MBWS_ENC_BINARY : MBWS_ENC_TEXT);
    eng_vars_set_str(vs, "other_encoding", oe, strlen(oe));
    eng_vars_set_str(vs, "case", ex->c->id, strlen(ex->c->id));
    char uniq[64];
    /* unique per execution and per run: cases running concurrently against
     * one broker never share an address */
    snprintf(uniq, sizeof uniq, "%s%c%c%d%x", ex->c->id + 2, j->sp == MBWS_SP_MBWS ? 'M' : 'L',
             j->enc == MBWS_ENC_TEXT ? 'T' : 'B', j->seq, ex->t->run_nonce);
    for (char *p = uniq; *p; p++)
        if (*p == '-')
            *p = '_';
    eng_vars_set_str(vs, "uniq", uniq, strlen(uniq));
    char addr[96];
    snprintf(addr, sizeof addr, "mbws-test/%s", uniq);
    eng_vars_set_str(vs, "addr", addr, strlen(addr));
    snprintf(addr, sizeof addr, "S%s", uniq);
    eng_vars_set_str(vs, "session_token", addr, strlen(addr));
    snprintf(addr, sizeof addr, "in/%s", uniq);
    eng_vars_set_str(vs, "in", addr, strlen(addr));
    snprintf(addr, sizeof addr, "out/%s", uniq);
    eng_vars_set_str(vs, "out", addr, strlen(addr));
    eng_vars_set_int(vs, "credit", 16);
    eng_vars_set_int(vs, "max_frame", 65536);
    eng_vars_set_int(vs, "session_expiry", 60);
    eng_vars_set_int(vs, "peer_acked_over_limit", 0);
    if (ex->t->role == ENG_TEST_BROKER && ex->t->url)
        eng_vars_set_str(vs, "url", ex->t->url, strlen(ex->t->url));
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(ex->c->root, "vars");
    const cJSON *it;
    cJSON_ArrayForEach(it, init)
    {
        eng_value v = {0};
        char err[200];
        if (eng_subst(vs, it, &v, err, sizeof err) == 0) {
            if (v.type == EV_INT)
                eng_vars_set_int(vs, it->string, v.n);
            else
                eng_vars_set_str(vs, it->string, v.s, v.slen);
        }
        eng_value_free(&v);
    }
}

static cJSON *failed_step_json(eng_exec *ex)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "index", g_fail.index);
    cJSON_AddStringToObject(f, "path", g_fail.path);
    cJSON_AddStringToObject(f, "kind", g_fail.kind ? g_fail.kind : "?");
    cJSON_AddStringToObject(f, "expected", ex->expected);
    cJSON_AddStringToObject(f, "received", ex->received);
    return f;
}

cJSON *eng_execute(const eng_job *job, const eng_target *t)
{
    static eng_exec exs; /* large: keep it off the stack */
    eng_exec *ex = &exs;
    memset(ex, 0, sizeof *ex);
    memset(&g_fail, 0, sizeof g_fail);
    ex->c = job->c;
    ex->t = t;
    ex->job = *job;
    ex->listen_fd = -1;
    ex->client_out_fd = -1;
    eng_wire_init(ex);
    ex->t0 = ws_clock_ms();
    int timeout = t->case_timeout_ms;
    if (job->c->timeout_ms && job->c->timeout_ms < timeout)
        timeout = job->c->timeout_ms;
    ex->deadline = ex->t0 + timeout;
    ex->ignore_default = cJSON_GetObjectItemCaseSensitive(job->c->root, "ignore");
    builtin_vars(ex);
    eng_match_strict = t->strict;

    enum eng_status st = ST_OK;
    if (job->c->role != t->role) {
        st = ST_SKIP;
        snprintf(ex->skip_reason, sizeof ex->skip_reason,
                 "this case tests a %s; the run targets a %s",
                 job->c->role == ENG_TEST_BROKER ? "broker" : "client",
                 t->role == ENG_TEST_BROKER ? "broker" : "client");
    } else if (t->role == ENG_TEST_CLIENT) {
        eng_client_start(ex);
        if (!ex->client_running) {
            st = ST_ERROR;
            g_fail.kind = "start_client";
            snprintf(ex->expected, sizeof ex->expected, "the client command starts");
        }
    }
    if (st == ST_OK)
        st = eng_run_steps(ex, cJSON_GetObjectItemCaseSensitive(job->c->root, "steps"), "/steps", 1);
    if (st != ST_OK && ex->timed_out) {
        st = ST_ERROR;
        char msg[sizeof ex->received];
        snprintf(msg, sizeof msg, "case timeout after %d ms (%.900s)", timeout, ex->received);
        snprintf(ex->received, sizeof ex->received, "%s", msg);
    }

    /* Teardown: close what is open, stop the client. */
    for (int i = 0; i < ENG_MAX_CONNS; i++) {
        eng_conn *c = &ex->conns[i];
        if (c->used) {
            if (c->ws.fd >= 0)
                eng_log_event(ex, c->ws.id, "case over: engine closes the TCP connection");
            ws_conn_free(&c->ws);
        }
    }
    if (ex->listen_fd >= 0)
        close(ex->listen_fd);
    if (ex->client_running) {
        eng_proc_stop(ex->client_pid, &ex->client_status, ex->client_exit_text,
                      sizeof ex->client_exit_text);
        eng_log_event(ex, 0, "client under test still running at the end: stopped (%s)",
                      ex->client_exit_text);
    }

    cJSON *res = cJSON_CreateObject();
    const eng_case *c = job->c;
    cJSON_AddStringToObject(res, "case", c->id);
    cJSON_AddStringToObject(res, "file", c->file);
    cJSON_AddStringToObject(res, "title", c->title);
    cJSON_AddStringToObject(res, "section", c->section);
    cJSON_AddItemToObject(res, "requirements",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c->root, "requirements"), 1));
    cJSON_AddStringToObject(res, "role", c->role == ENG_TEST_BROKER ? "broker" : "client");
    cJSON_AddStringToObject(res, "subprotocol", eng_sp_name(job->sp));
    cJSON_AddStringToObject(res, "encoding", eng_enc_name(job->enc));
    cJSON_AddStringToObject(res, "verdict", eng_verdict_name(ex, st));
    char reason[2048] = "";
    if (st == ST_OK)
        eng_warnings_text(ex, reason, sizeof reason);
    else if (st == ST_SKIP)
        snprintf(reason, sizeof reason, "%s", ex->skip_reason);
    else if (st != ST_OK)
        snprintf(reason, sizeof reason, "step %.160s (%.20s): %.1000s%s%.500s", g_fail.path,
                 g_fail.kind ? g_fail.kind : "?", ex->received, ex->expected[0] ? "; expected " : "",
                 ex->expected);
    cJSON_AddStringToObject(res, "reason", reason);
    if (st == ST_FAIL || st == ST_ERROR)
        cJSON_AddItemToObject(res, "failed_step", failed_step_json(ex));
    else
        cJSON_AddNullToObject(res, "failed_step");
    cJSON_AddNumberToObject(res, "duration_ms", eng_rel_ms(ex, ws_clock_ms()));
    if (t->role == ENG_TEST_CLIENT && c->role == ENG_TEST_CLIENT) {
        if (ex->client_pid > 0)
            cJSON_AddNumberToObject(res, "client_exit", ex->client_status);
        eng_client_output(ex, res);
    }
    if (ex->tls_version[0]) {
        cJSON *tls = cJSON_AddObjectToObject(res, "tls");
        cJSON_AddStringToObject(tls, "version", ex->tls_version);
        cJSON_AddStringToObject(tls, "cipher", ex->tls_cipher);
        cJSON_AddStringToObject(tls, "subject", ex->tls_subject);
    }
    cJSON_AddItemToObject(res, "warnings", ex->warnings ? ex->warnings : cJSON_CreateArray());
    ex->warnings = NULL;
    cJSON_AddItemToObject(res, "wire", eng_wire_finish(ex));
    eng_json_sanitize(res); /* a target's octets are not always UTF-8 */
    eng_vars_free(&ex->vars);
    return res;
}
