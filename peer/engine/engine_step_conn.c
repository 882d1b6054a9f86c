/* Steps that open and end connections: connect (engine as client),
 * accept (engine as broker), close, drop; and the session macros
 * open_session / accept_session built from them. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_exec.h"
#include "mbws_handshake.h"

static const char *conn_name(const cJSON *value)
{
    return cJSON_IsString(value) ? value->valuestring : "main";
}

/* Why text cannot go into the upgrade request (request line or a header
 * value), or NULL: control characters (CR, LF, NUL, ...) would end or split
 * it; a path also needs a leading '/' and no space. */
static const char *request_text_bad(const char *s, size_t len, int is_path)
{
    if (is_path && (len == 0 || s[0] != '/'))
        return "a path that does not begin with '/'";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return "a control character (CR, LF, NUL, ...)";
        if (is_path && (ch == ' ' || ch >= 0x80))
            return "a space or a non-ASCII octet in the path";
    }
    return NULL;
}

/* "a, b" from an offer array, substituted; NULL for no header. */
static int offer_list(eng_exec *ex, const cJSON *offer, char *out, size_t cap, int *none)
{
    *none = 0;
    out[0] = 0;
    if (!offer) {
        snprintf(out, cap, "%s", eng_sp_name(ex->job.sp));
        return 0;
    }
    if (cJSON_IsNull(offer)) {
        *none = 1;
        return 0;
    }
    size_t o = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, offer)
    {
        eng_value v = {0};
        char err[200];
        if (eng_subst(&ex->vars, it, &v, err, sizeof err) < 0 || v.type != EV_STR) {
            eng_errorf(ex, "offer: %s", v.type == EV_INT ? "not a string" : err);
            eng_value_free(&v);
            return -1;
        }
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? ", " : "", v.s);
        eng_value_free(&v);
    }
    if (!cJSON_GetArraySize(offer))
        *none = 1; /* [] offers nothing: no header */
    return 0;
}

static int str_value(eng_exec *ex, const cJSON *j, eng_value *v)
{
    char err[200];
    if (eng_subst(&ex->vars, j, v, err, sizeof err) < 0 || v->type != EV_STR) {
        eng_errorf(ex, "%s", v->type == EV_INT ? "expected a string" : err);
        return -1;
    }
    return 0;
}

/* WS-2's other branch: the upgrade completes and the broker closes at
 * once, before any MBWS frame. */
static enum eng_status refused_by_close(eng_exec *ex, eng_conn *c, const cJSON *codes,
                                        uint64_t within)
{
    double deadline = eng_deadline(ex, ws_clock_ms() + (double)within);
    for (;;) {
        ws_event *e = c->ws.events.head;
        if (e) {
            if (e->kind == WS_EV_CLOSE) {
                char why[200];
                int r = eng_match(&ex->vars, codes, 1, 1, (uint64_t)e->code, NULL, 0, why, sizeof why);
                snprintf(ex->received, sizeof ex->received, "upgrade accepted, then close %d", e->code);
                ws_event_free(ws_queue_pop(&c->ws.events));
                return r > 0 ? ST_OK : ST_FAIL;
            }
            if (e->kind == WS_EV_MESSAGE)
                snprintf(ex->received, sizeof ex->received,
                         "upgrade accepted, then a %zu-octet message before any close", e->len);
            else
                snprintf(ex->received, sizeof ex->received, "upgrade accepted, then: %s", e->note);
            return ST_FAIL;
        }
        if (c->ws.fd < 0 || ws_clock_ms() >= deadline || eng_out_of_time(ex)) {
            snprintf(ex->received, sizeof ex->received,
                     "upgrade accepted and no close within %llu ms", (unsigned long long)within);
            return ST_FAIL;
        }
        eng_pump(ex, deadline);
    }
}

enum eng_status eng_step_connect(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    if (ex->t->role != ENG_TEST_BROKER)
        return eng_errorf(ex, "connect is a step of B- cases (the engine as client)");
    const char *name = conn_name(value);
    eng_conn *c = eng_conn_get(ex, name, 0);
    if (c && c->ws.fd >= 0)
        return eng_errorf(ex, "connection '%s' is already open", name);
    if (c) { /* reuse the name for a new connection */
        ws_conn_free(&c->ws);
        c->used = 0;
    }
    c = eng_conn_get(ex, name, 1);
    if (!c)
        return eng_errorf(ex, "more than %d connections", ENG_MAX_CONNS);
    char offers[1024];
    int none;
    if (offer_list(ex, cJSON_GetObjectItemCaseSensitive(step, "offer"), offers, sizeof offers, &none) < 0)
        return ST_ERROR;
    uint64_t within;
    if (eng_step_int(ex, step, "within_ms", 5000, &within) < 0)
        return ST_ERROR;
    const cJSON *pathj = cJSON_GetObjectItemCaseSensitive(step, "path");
    eng_value pv = {0};
    if (pathj && str_value(ex, pathj, &pv) < 0)
        return ST_ERROR;
    const char *path = pv.s ? pv.s : ex->t->path;
    const char *bad = request_text_bad(path, pv.s ? pv.slen : strlen(path), 1);
    if (!bad)
        bad = request_text_bad(offers, strlen(offers), 0);
    if (bad) {
        const char *what = pv.s ? "path" : "offer";
        eng_value_free(&pv);
        return eng_errorf(ex, "%s: %s would reach the upgrade request", what, bad);
    }
    const cJSON *refused = cJSON_GetObjectItemCaseSensitive(step, "expect_refused");
    const cJSON *or_close = cJSON_GetObjectItemCaseSensitive(step, "or_close");
    int want_refusal = refused && !cJSON_IsFalse(refused);
    snprintf(ex->expected, sizeof ex->expected, "%s",
             want_refusal ? (or_close ? "the upgrade refused (HTTP >= 400) or closed at once"
                                      : "the upgrade refused")
                          : "an accepted upgrade");
    int first = ex->nconns_opened == 1;
    eng_log_event(ex, c->ws.id, "connecting to %s://%s:%d%s offering %s",
                  ex->t->tls ? "wss" : "ws", ex->t->host, ex->t->port, path,
                  none ? "no subprotocol (no header)" : offers);
    c->ws.tls_ctx = ex->t->tls_ctx;
    char err[300] = "";
    int rc = ws_client_open(&c->ws, ex->t->host, ex->t->port, path, none ? NULL : offers,
                            eng_deadline(ex, ws_clock_ms() + (double)within), err, sizeof err);
    eng_value_free(&pv);
    if (rc != WS_OK) {
        eng_log_event(ex, c->ws.id, "connection failed: %s", err);
        snprintf(ex->received, sizeof ex->received, "%s", err);
        if (!c->ws.http_status && first && !strncmp(err, "connect to", 10)) {
            snprintf(ex->received, sizeof ex->received, "target unreachable: %s", err);
            return ST_ERROR;
        }
        if (!ex->t->tls && first && !c->ws.http_status && strstr(err, "HTTP handshake") &&
            eng_tls_port(ex->t)) {
            snprintf(ex->received, sizeof ex->received,
                     "the target speaks TLS on this port, not plain ws://: use a wss:// URL");
            return ST_ERROR;
        }
        if (rc == WS_TLS_FAIL) { /* the TLS set-up, not the profile */
            snprintf(ex->received, sizeof ex->received, "TLS handshake with %s failed: %s",
                     ex->t->url, err);
            return ST_ERROR;
        }
        return ST_FAIL;
    }
    eng_tls_noted(ex, c);
    int st = c->ws.http_status;
    eng_log_event(ex, c->ws.id, "upgrade answered with HTTP %d%s%s%s", st,
                  st == 101 ? ", subprotocol " : "",
                  st != 101 ? "" : c->ws.sel_present ? c->ws.sel_protocol : "(none)", "");
    if (st != 101) {
        snprintf(ex->received, sizeof ex->received, "upgrade refused with HTTP %d", st);
        ws_conn_drop(&c->ws, 0);
        if (!want_refusal)
            return ST_FAIL;
        if (cJSON_IsTrue(refused))
            return st >= 400 ? ST_OK : ST_FAIL;
        char why[200];
        return eng_match(&ex->vars, refused, 1, 1, (uint64_t)st, NULL, 0, why, sizeof why) > 0
                   ? ST_OK
                   : ST_FAIL;
    }
    if (want_refusal) {
        if (or_close) {
            uint64_t w2;
            if (eng_step_int(ex, step, "within_ms", ENG_DEFAULT_WITHIN_MS, &w2) < 0)
                return ST_ERROR;
            return refused_by_close(ex, c, or_close, w2);
        }
        snprintf(ex->received, sizeof ex->received, "upgrade accepted (101)");
        return ST_FAIL;
    }
    const cJSON *es = cJSON_GetObjectItemCaseSensitive(step, "expect_subprotocol");
    eng_value want = {0};
    if (es && !cJSON_IsNull(es) && str_value(ex, es, &want) < 0)
        return ST_ERROR;
    const char *w = es ? want.s : eng_sp_name(ex->job.sp);
    snprintf(ex->expected, sizeof ex->expected, "101 with subprotocol %s", w ? w : "(none)");
    snprintf(ex->received, sizeof ex->received, "101 with subprotocol %s",
             c->ws.sel_present ? c->ws.sel_protocol : "(none)");
    int ok = w ? c->ws.sel_present && !strcmp(w, c->ws.sel_protocol) : !c->ws.sel_present;
    eng_value_free(&want);
    return ok ? ST_OK : ST_FAIL;
}

enum eng_status eng_step_accept(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    if (ex->t->role != ENG_TEST_CLIENT || ex->listen_fd < 0)
        return eng_errorf(ex, "accept is a step of C- cases (the engine as broker)");
    const char *name = conn_name(value);
    eng_conn *c = eng_conn_get(ex, name, 0);
    if (c && c->ws.fd >= 0)
        return eng_errorf(ex, "connection '%s' is already open", name);
    if (c) {
        ws_conn_free(&c->ws);
        c->used = 0;
    }
    c = eng_conn_get(ex, name, 1);
    if (!c)
        return eng_errorf(ex, "more than %d connections", ENG_MAX_CONNS);
    uint64_t within;
    if (eng_step_int(ex, step, "within_ms", 10000, &within) < 0)
        return ST_ERROR;
    snprintf(ex->expected, sizeof ex->expected, "the client connects within %llu ms",
             (unsigned long long)within);
    double deadline = eng_deadline(ex, ws_clock_ms() + (double)within);
    char err[300] = "";
    int rc = WS_TIMEOUT;
    c->ws.tls_ctx = ex->t->tls_ctx;
    while (rc == WS_TIMEOUT) {
        eng_client_check(ex);
        if (!ex->client_running) {
            snprintf(ex->received, sizeof ex->received, "client %s before connecting",
                     ex->client_exit_text);
            if (!ex->client_ever_connected) {
                size_t o = strlen(ex->received);
                snprintf(ex->received + o, sizeof ex->received - o,
                         ": the client command did not start or failed at once (see client_output)");
                return ST_ERROR;
            }
            return ST_FAIL;
        }
        if (ws_clock_ms() >= deadline || eng_out_of_time(ex)) {
            snprintf(ex->received, sizeof ex->received, "no connection within %llu ms",
                     (unsigned long long)within);
            return ST_FAIL;
        }
        double slice = ws_clock_ms() + 50;
        rc = ws_server_accept(&c->ws, ex->listen_fd, slice < deadline ? slice : deadline, deadline,
                              err, sizeof err);
    }
    if (rc == WS_TLS_FAIL) { /* the TLS set-up, not the profile */
        snprintf(ex->received, sizeof ex->received, "TLS handshake with the client failed: %s", err);
        return ST_ERROR;
    }
    if (rc != WS_OK) {
        snprintf(ex->received, sizeof ex->received, "%s", err);
        return ST_FAIL;
    }
    ex->client_ever_connected = 1;
    eng_tls_noted(ex, c);
    eng_log_event(ex, c->ws.id, "accepted a connection; the client offers %s",
                  c->ws.offered_present ? c->ws.offered : "no subprotocol (no header)");
    const cJSON *eo = cJSON_GetObjectItemCaseSensitive(step, "expect_offer");
    char want[1024];
    int none;
    if (eo) {
        if (offer_list(ex, eo, want, sizeof want, &none) < 0)
            return ST_ERROR;
        snprintf(ex->expected, sizeof ex->expected, "the client offers %s",
                 none ? "no subprotocol" : want);
        snprintf(ex->received, sizeof ex->received, "the client offers %s",
                 c->ws.offered_present ? c->ws.offered : "no subprotocol");
        if (none ? c->ws.offered_present : !c->ws.offered_present || strcmp(want, c->ws.offered))
            return ST_FAIL;
    } else {
        /* WS-1: the client offers the subprotocol it was told to use */
        const char *want = eng_sp_name(ex->job.sp);
        snprintf(ex->expected, sizeof ex->expected, "an offer including %s (WS-1)", want);
        snprintf(ex->received, sizeof ex->received, "the client offers %s",
                 c->ws.offered_present ? c->ws.offered : "no subprotocol");
        if (!mbws_token_listed(c->ws.offered, want))
            return ST_FAIL;
    }
    const cJSON *refuse = cJSON_GetObjectItemCaseSensitive(step, "refuse");
    if (refuse) {
        ws_server_respond(&c->ws, (int)refuse->valuedouble, NULL);
        eng_log_event(ex, c->ws.id, "refused the upgrade with HTTP %d", (int)refuse->valuedouble);
        eng_pump(ex, ws_clock_ms() + 20);
        ws_conn_drop(&c->ws, 0);
        return ST_OK;
    }
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(step, "select");
    eng_value sv = {0};
    if (sel && !cJSON_IsNull(sel) && str_value(ex, sel, &sv) < 0)
        return ST_ERROR;
    const char *proto = sel ? sv.s : eng_sp_name(ex->job.sp);
    ws_server_respond(&c->ws, 101, proto);
    eng_log_event(ex, c->ws.id, "accepted the upgrade with subprotocol %s", proto ? proto : "(none)");
    eng_value_free(&sv);
    return ST_OK;
}

enum eng_status eng_step_close(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    eng_conn *c = eng_conn_get(ex, eng_step_conn(step), 0);
    if (!c)
        return eng_errorf(ex, "no connection named '%s'", eng_step_conn(step));
    uint64_t code = 1005;
    char err[200];
    if (!cJSON_IsNull(value) && !cJSON_IsTrue(value) &&
        eng_subst_int(&ex->vars, value, &code, err, sizeof err) < 0)
        return eng_errorf(ex, "close: %s", err);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(step, "reason");
    ws_send_close(&c->ws, (int)code, cJSON_IsString(r) ? r->valuestring : NULL);
    eng_pump(ex, ws_clock_ms());
    return ST_OK;
}

enum eng_status eng_step_drop(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    eng_conn *c = eng_conn_get(ex, conn_name(value), 0);
    if (!c)
        return eng_errorf(ex, "no connection named '%s'", conn_name(value));
    /* let queued octets go first: a drop ends the connection, not the data */
    double until = eng_deadline(ex, ws_clock_ms() + 1000);
    while (c->ws.fd >= 0 && c->ws.wlen && ws_clock_ms() < until)
        eng_pump(ex, until);
    int rst = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(step, "rst"));
    eng_log_event(ex, c->ws.id, "engine drops the TCP connection%s, without a close frame",
                  rst ? " with a reset" : "");
    ws_conn_drop(&c->ws, rst);
    return ST_OK;
}

/* Copies defaults into a fields object, then applies the case's
 * overrides (null removes a default). */
static cJSON *merge_fields(const char *const *defaults, const cJSON *over)
{
    cJSON *f = cJSON_CreateObject();
    for (size_t i = 0; defaults[i]; i += 2) {
        const char *v = defaults[i + 1];
        cJSON_AddItemToObject(f, defaults[i], v[0] == '$' ? cJSON_CreateString(v)
                                                          : cJSON_CreateNumber(atof(v)));
    }
    const cJSON *o, *src = cJSON_IsObject(over) ? over : NULL;
    cJSON_ArrayForEach(o, src)
    {
        if (cJSON_GetObjectItemCaseSensitive(f, o->string))
            cJSON_ReplaceItemInObjectCaseSensitive(f, o->string, cJSON_Duplicate(o, 1));
        else
            cJSON_AddItemToObject(f, o->string, cJSON_Duplicate(o, 1));
    }
    return f;
}

/* A step object built at run time from parts of the macro step. */
static cJSON *sub_step(const cJSON *step, const char *kind, cJSON *kind_value, const char *const *copy)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, kind, kind_value);
    for (size_t i = 0; copy[i]; i++) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(step, copy[i]);
        if (j)
            cJSON_AddItemToObject(s, copy[i], cJSON_Duplicate(j, 1));
    }
    return s;
}

static enum eng_status run_sub(eng_exec *ex, cJSON *s, eng_step_fn fn)
{
    const char *kind = eng_step_kind(s);
    enum eng_status st = fn(ex, s, cJSON_GetObjectItemCaseSensitive(s, kind));
    if (st != ST_OK) {
        char e[sizeof ex->expected];
        snprintf(e, sizeof e, "%s: %s", kind, ex->expected);
        snprintf(ex->expected, sizeof ex->expected, "%s", e);
    }
    cJSON_Delete(s);
    return st;
}

enum eng_status eng_step_open_session(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    const char *name = eng_step_conn(step);
    eng_conn *c = eng_conn_get(ex, name, 0);
    enum eng_status st;
    if (!c || c->ws.fd < 0) {
        static const char *const copy[] = {"offer", NULL};
        st = run_sub(ex, sub_step(step, "connect", cJSON_CreateString(name), copy), eng_step_connect);
        if (st != ST_OK)
            return st;
    }
    static const char *const defaults[] = {"version", "1", "credit", "${credit}", "max-frame",
                                           "${max_frame}", NULL};
    cJSON *send = sub_step(step, "send", cJSON_CreateString("CONNECT"),
                           (const char *const[]){"encoding", "violates", NULL});
    cJSON_AddItemToObject(send, "conn", cJSON_CreateString(name));
    cJSON_AddItemToObject(send, "fields", merge_fields(defaults, value));
    st = run_sub(ex, send, eng_step_send);
    if (st != ST_OK)
        return st;
    static const char *const copy[] = {"within_ms", "ignore", "capture", NULL};
    cJSON *exp = sub_step(step, "expect", cJSON_CreateString("CONNECTED"), copy);
    cJSON_AddItemToObject(exp, "conn", cJSON_CreateString(name));
    const cJSON *ef = cJSON_GetObjectItemCaseSensitive(step, "expect_fields");
    if (ef)
        cJSON_AddItemToObject(exp, "fields", cJSON_Duplicate(ef, 1));
    return run_sub(ex, exp, eng_step_expect);
}

enum eng_status eng_step_accept_session(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    const char *name = eng_step_conn(step);
    eng_conn *c = eng_conn_get(ex, name, 0);
    enum eng_status st;
    if (!c || c->ws.fd < 0) {
        static const char *const copy[] = {"select", NULL};
        st = run_sub(ex, sub_step(step, "accept", cJSON_CreateString(name), copy), eng_step_accept);
        if (st != ST_OK)
            return st;
    }
    static const char *const copy[] = {"within_ms", "ignore", "capture", NULL};
    cJSON *exp = sub_step(step, "expect", cJSON_CreateString("CONNECT"), copy);
    cJSON_AddItemToObject(exp, "conn", cJSON_CreateString(name));
    const cJSON *ef = cJSON_GetObjectItemCaseSensitive(step, "expect_fields");
    if (ef)
        cJSON_AddItemToObject(exp, "fields", cJSON_Duplicate(ef, 1));
    if (!cJSON_GetObjectItemCaseSensitive(step, "within_ms"))
        cJSON_AddNumberToObject(exp, "within_ms", 5000);
    st = run_sub(ex, exp, eng_step_expect);
    if (st != ST_OK)
        return st;
    static const char *const mbws[] = {"version", "1", "credit", "${credit}", "max-frame",
                                       "${max_frame}", "session", "${session_token}",
                                       "session-expiry", "${session_expiry}", "resumed", "0", NULL};
    static const char *const mblws[] = {"version", "1", "credit", "${credit}", "max-frame",
                                        "${max_frame}", NULL};
    cJSON *send = sub_step(step, "send", cJSON_CreateString("CONNECTED"),
                           (const char *const[]){"encoding", "violates", NULL});
    cJSON_AddItemToObject(send, "conn", cJSON_CreateString(name));
    cJSON_AddItemToObject(send, "fields",
                          merge_fields(ex->job.sp == MBWS_SP_MBWS ? mbws : mblws, value));
    return run_sub(ex, send, eng_step_send);
}
