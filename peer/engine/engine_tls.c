/* wss:// for the case engine: the TLS options of `mbws-peer run`, the
 * context every connection of the run shares, the handshake tried before a
 * broker run (a refused handshake makes every execution an `error` at once)
 * and the target's TLS facts in the result file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "engine_sched.h"

int eng_tls_option(eng_target *t, const char *opt, const char *val)
{
    const char **slot = !strcmp(opt, "ca-file")       ? &t->tls_opts.ca_file
                        : !strcmp(opt, "client-cert") ? &t->tls_opts.cert_file
                        : !strcmp(opt, "client-key")  ? &t->tls_opts.key_file
                        : !strcmp(opt, "cert")        ? &t->listen_cert
                        : !strcmp(opt, "key")         ? &t->listen_key
                                                      : NULL;
    if (slot)
        *slot = val;
    return slot != NULL;
}

/* Options of the other role, or TLS options on a ws:// run. */
static const char *misplaced(const eng_target *t)
{
    const ws_tls_opts *o = &t->tls_opts;
    int has_server_cert = t->listen_cert || t->listen_key;
    int has_client_cert = o->cert_file || o->key_file;
    if (t->role == ENG_TEST_BROKER && has_server_cert)
        return "--cert/--key serve wss:// to a client under test (with --listen); a client "
               "certificate for a broker is --client-cert/--client-key";
    if (t->role == ENG_TEST_CLIENT && (has_client_cert || o->insecure))
        return "--client-cert/--client-key and --insecure are for a wss:// --target";
    if (t->role == ENG_TEST_BROKER && !t->tls && (o->ca_file || o->insecure || has_client_cert))
        return "--ca-file, --insecure and --client-cert/--client-key need a wss:// --target";
    if (t->role == ENG_TEST_CLIENT && !has_server_cert && o->ca_file)
        return "--ca-file with --listen names the CA given to the client as MBWS_CA_FILE; it "
               "needs --cert and --key";
    return NULL;
}

int eng_tls_setup(eng_target *t)
{
    const char *why = misplaced(t);
    if (why) {
        fprintf(stderr, "mbws-peer run: %s\n", why);
        return -1;
    }
    if (t->role == ENG_TEST_CLIENT && (t->listen_cert || t->listen_key)) {
        t->tls = 1;
        t->tls_opts.cert_file = t->listen_cert;
        t->tls_opts.key_file = t->listen_key;
    }
    if (!t->tls)
        return 0;
    char err[512];
    t->tls_ctx = ws_tls_ctx_new(t->role == ENG_TEST_CLIENT, &t->tls_opts, err, sizeof err);
    if (!t->tls_ctx) {
        fprintf(stderr, "mbws-peer run: %s\n", err);
        return -1;
    }
    return 0;
}

void eng_tls_cleanup(eng_target *t)
{
    ws_tls_ctx_free(t->tls_ctx);
    t->tls_ctx = NULL;
}

int eng_tls_refused(eng_target *t, const eng_job *jobs, size_t n, cJSON **results,
                    eng_done_fn done, void *done_arg)
{
    if (!t->tls_ctx || t->role != ENG_TEST_BROKER)
        return 0;
    ws_conn c;
    ws_conn_init(&c, 0, NULL, NULL, NULL);
    c.tls_ctx = t->tls_ctx;
    char err[600] = "";
    double deadline = ws_clock_ms() + (t->case_timeout_ms < 10000 ? t->case_timeout_ms : 10000);
    /* an unreachable target is left to the cases to report */
    int rc = ws_tls_probe(&c, t->host, t->port, deadline, err, sizeof err);
    if (rc == WS_OK)
        ws_tls_info(&c, t->tls_version, sizeof t->tls_version, t->tls_cipher,
                    sizeof t->tls_cipher, t->tls_subject, sizeof t->tls_subject);
    ws_tls_shutdown(&c);
    ws_conn_free(&c);
    if (rc != WS_TLS_FAIL)
        return 0;
    char reason[800];
    snprintf(reason, sizeof reason, "TLS handshake with %s failed: %s", t->url, err);
    fprintf(stderr, "mbws-peer run: %s\n", reason);
    for (size_t i = 0; i < n; i++) {
        results[i] = eng_result_stub(&jobs[i], "error", reason);
        done(done_arg, i, results[i], i + 1, n);
    }
    return 1;
}

const char *eng_tls_client_ca(const eng_target *t)
{
    return t->tls_opts.ca_file ? t->tls_opts.ca_file : t->listen_cert;
}

void eng_tls_noted(eng_exec *ex, const eng_conn *c)
{
    if (!c->ws.tls)
        return;
    char version[32], cipher[96], subject[512];
    ws_tls_info(&c->ws, version, sizeof version, cipher, sizeof cipher, subject, sizeof subject);
    eng_log_event(ex, c->ws.id, "TLS %s, cipher %s, %s certificate %s", version, cipher,
                  ex->t->role == ENG_TEST_BROKER ? "broker" : "client",
                  subject[0] ? subject : "(none)");
    if (ex->tls_version[0])
        return;
    snprintf(ex->tls_version, sizeof ex->tls_version, "%s", version);
    snprintf(ex->tls_cipher, sizeof ex->tls_cipher, "%s", cipher);
    snprintf(ex->tls_subject, sizeof ex->tls_subject, "%s", subject);
}

int eng_tls_port(const eng_target *t)
{
    ws_tls_opts o = {NULL, 1, NULL, NULL};
    char err[300];
    ws_tls_ctx *x = ws_tls_ctx_new(0, &o, err, sizeof err);
    if (!x)
        return 0;
    ws_conn c;
    ws_conn_init(&c, 0, NULL, NULL, NULL);
    c.tls_ctx = x;
    int rc = ws_tls_probe(&c, t->host, t->port, ws_clock_ms() + 1000, err, sizeof err);
    ws_tls_shutdown(&c);
    ws_conn_free(&c);
    ws_tls_ctx_free(x);
    return rc == WS_OK;
}

void eng_tls_target_json(const eng_target *t, cJSON *target, cJSON *const *results, size_t n)
{
    if (!t->tls)
        return;
    const char *version = t->tls_version, *cipher = t->tls_cipher, *subject = t->tls_subject;
    /* a client's facts come from its executions: the first one that did TLS */
    for (size_t i = 0; !version[0] && i < n; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(results[i], "tls");
        if (r) {
            version = cJSON_GetObjectItemCaseSensitive(r, "version")->valuestring;
            cipher = cJSON_GetObjectItemCaseSensitive(r, "cipher")->valuestring;
            subject = cJSON_GetObjectItemCaseSensitive(r, "subject")->valuestring;
        }
    }
    cJSON *o = cJSON_AddObjectToObject(target, "tls");
    cJSON_AddStringToObject(o, "version", version);
    cJSON_AddStringToObject(o, "cipher", cipher);
    cJSON_AddStringToObject(o, "subject", subject);
    if (t->role == ENG_TEST_BROKER) {
        cJSON_AddBoolToObject(o, "verified", !t->tls_opts.insecure);
        cJSON_AddStringToObject(o, "ca_file", t->tls_opts.ca_file ? t->tls_opts.ca_file : "");
    } else {
        cJSON_AddStringToObject(o, "certificate", t->listen_cert);
        cJSON_AddStringToObject(o, "ca_file", eng_tls_client_ca(t));
    }
}
