/* The client under test of a C- execution, seen from the execution: the
 * listening socket it connects to, its start with the environment of
 * profile section 12, and its output, kept in a ring buffer of the last
 * --max-client-output octets (a client that writes forever costs no disk
 * and no memory beyond that). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_exec.h"
#include "engine_proc.h"

static void listen_for_client(eng_exec *ex, char *url, size_t urlcap)
{
    char err[256];
    const char *host = ex->t->listen_host;
    int port = ex->t->listen_port;
    if (ws_listen(host, port, &ex->listen_fd, &ex->listen_port, err, sizeof err) != WS_OK) {
        snprintf(ex->received, sizeof ex->received, "cannot listen: %s", err);
        ex->listen_fd = -1;
        return;
    }
    const char *h = strchr(host, ':') ? "[%s]" : "%s";
    char hb[300];
    snprintf(hb, sizeof hb, h, host);
    snprintf(url, urlcap, "%s://%s:%d/", ex->t->tls ? "wss" : "ws", hb, ex->listen_port);
    eng_vars_set_str(&ex->vars, "url", url, strlen(url));
}

void eng_client_start(eng_exec *ex)
{
    char url[400] = "", err[256];
    listen_for_client(ex, url, sizeof url);
    if (ex->listen_fd < 0)
        return;
    const eng_value *in = eng_vars_get(&ex->vars, "in"), *out = eng_vars_get(&ex->vars, "out");
    char e_url[512], e_sp[64], e_enc[32], e_in[160], e_out[160], e_da[48] = "", e_ca[4200] = "";
    snprintf(e_url, sizeof e_url, "MBWS_URL=%s", url);
    snprintf(e_sp, sizeof e_sp, "MBWS_SUBPROTOCOL=%s", eng_sp_name(ex->job.sp));
    snprintf(e_enc, sizeof e_enc, "MBWS_ENCODING=%s", eng_enc_name(ex->job.enc));
    snprintf(e_in, sizeof e_in, "MBWS_IN=%s", in->s);
    snprintf(e_out, sizeof e_out, "MBWS_OUT=%s", out->s);
    if (ex->job.c->disconnect_after > 0) /* ECHO-4 */
        snprintf(e_da, sizeof e_da, "MBWS_DISCONNECT_AFTER=%d", ex->job.c->disconnect_after);
    /* MBWS_CA_FILE (an addition to section 12): the CA to verify wss:// with */
    if (ex->t->tls)
        snprintf(e_ca, sizeof e_ca, "MBWS_CA_FILE=%s", eng_tls_client_ca(ex->t));
    char *env[8] = {e_url, e_sp, e_enc, e_in, e_out}; /* NULL-terminated */
    size_t ne = 5;
    if (e_da[0])
        env[ne++] = e_da;
    if (e_ca[0])
        env[ne++] = e_ca;
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(ex->received, sizeof ex->received, "client command did not start: pipe: %s",
                 strerror(errno));
        return;
    }
    /* the client writes blocking; only the engine's end is non-blocking */
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) & ~O_NONBLOCK);
    ex->client_out_fd = p[0];
    ex->out_cap = ex->t->max_client_output ? ex->t->max_client_output : ENG_DEFAULT_CLIENT_OUTPUT;
    ex->out_ring = calloc(ex->out_cap, 1);
    if (!ex->out_ring)
        abort();
    ex->client_pid = eng_proc_start(ex->t->client_cmd, env, p[1], err, sizeof err);
    close(p[1]);
    if (ex->client_pid <= 0) {
        snprintf(ex->received, sizeof ex->received, "client command did not start: %s", err);
        return;
    }
    ex->client_running = 1;
    eng_log_event(ex, 0, "started client under test (pid %d): %s with %s %s %s %s %s%s%s%s%s",
                  (int)ex->client_pid, ex->t->client_cmd, e_url, e_sp, e_enc, e_in, e_out,
                  e_da[0] ? " " : "", e_da, e_ca[0] ? " " : "", e_ca);
}

/* Moves what the client wrote into the ring; a bounded number of reads, so
 * that a client writing without pause cannot hold the execution here. */
void eng_client_drain(eng_exec *ex)
{
    char buf[16384];
    for (int i = 0; i < 16 && ex->client_out_fd >= 0; i++) {
        ssize_t n = read(ex->client_out_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (ssize_t k = 0; k < n; k++)
            ex->out_ring[(ex->out_total + (size_t)k) % ex->out_cap] = (uint8_t)buf[k];
        ex->out_total += (size_t)n;
    }
}

/* The last octets the client under test wrote, starting on a character
 * boundary, for the result; frees the ring. */
void eng_client_output(eng_exec *ex, cJSON *res)
{
    if (!ex->out_ring)
        return;
    eng_client_drain(ex);
    size_t n = ex->out_total < ex->out_cap ? ex->out_total : ex->out_cap;
    size_t from = ex->out_total - n;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    for (size_t k = 0; k < n; k++)
        s[k] = (char)ex->out_ring[(from + k) % ex->out_cap];
    s[n] = 0;
    size_t skip = 0;
    /* cut inside a UTF-8 sequence: start at the next character */
    while (from && skip < 3 && skip < n && ((unsigned char)s[skip] & 0xC0) == 0x80)
        skip++;
    cJSON_AddStringToObject(res, "client_output", s + skip);
    if (ex->out_total > ex->out_cap)
        cJSON_AddNumberToObject(res, "client_output_total", (double)ex->out_total);
    free(s);
    free(ex->out_ring);
    ex->out_ring = NULL;
    if (ex->client_out_fd >= 0)
        close(ex->client_out_fd);
    ex->client_out_fd = -1;
}
