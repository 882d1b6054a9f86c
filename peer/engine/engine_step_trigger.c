/* broker_disconnect: runs the user's --broker-disconnect-cmd, which makes
 * the broker under test start a DISCONNECT (SES-7) of the sessions
 * subscribed to an address. The profile gives a third party no way to
 * make a broker do that, so the trigger is the user's; without one the
 * case skips, saying what was not exercised. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine_exec.h"
#include "engine_proc.h"

enum eng_status eng_step_broker_disconnect(eng_exec *ex, const cJSON *step, const cJSON *value)
{
    const char *cmd = ex->t->broker_disconnect_cmd;
    if (!cmd || !*cmd) {
        snprintf(ex->skip_reason, sizeof ex->skip_reason,
                 "needs a broker-initiated DISCONNECT (SES-7 initiator duties not exercised): "
                 "no --broker-disconnect-cmd configured");
        return ST_SKIP;
    }
    uint64_t within;
    eng_value addr = {0};
    char err[200];
    if (eng_step_int(ex, step, "within_ms", 5000, &within) < 0)
        return ST_ERROR;
    if (eng_subst_str(&ex->vars, value->valuestring, &addr, err, sizeof err) < 0 || !addr.s)
        return eng_errorf(ex, "broker_disconnect: %s", err);
    char e_url[600], e_addr[600], e_ca[4200] = "";
    snprintf(e_url, sizeof e_url, "MBWS_URL=%s", ex->t->url ? ex->t->url : "");
    snprintf(e_addr, sizeof e_addr, "MBWS_ADDRESS=%s", addr.s);
    eng_value_free(&addr);
    /* a wss:// broker: the command verifies it against the engine's --ca-file */
    if (ex->t->tls && ex->t->tls_opts.ca_file)
        snprintf(e_ca, sizeof e_ca, "MBWS_CA_FILE=%s", ex->t->tls_opts.ca_file);
    char *env[] = {e_url, e_addr, e_ca[0] ? e_ca : NULL, NULL};
    int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t pid = eng_proc_start(cmd, env, nul, err, sizeof err);
    if (nul >= 0)
        close(nul);
    if (pid <= 0)
        return eng_errorf(ex, "--broker-disconnect-cmd did not start: %s", err);
    eng_log_event(ex, 0, "ran --broker-disconnect-cmd with %s %s%s%s", e_url, e_addr,
                  e_ca[0] ? " " : "", e_ca);
    double until = ws_clock_ms() + (double)within;
    int status = 0;
    char text[120] = "";
    /* frames that arrive meanwhile stay queued for the next steps */
    while (!eng_proc_poll(pid, &status, text, sizeof text)) {
        if (ws_clock_ms() >= until || ws_clock_ms() >= ex->deadline) {
            eng_proc_stop(pid, &status, text, sizeof text);
            return eng_errorf(ex, "--broker-disconnect-cmd did not finish within %llu ms",
                              (unsigned long long)within);
        }
        double next = ws_clock_ms() + 10;
        eng_pump(ex, next < until ? next : until);
    }
    if (status != 0)
        return eng_errorf(ex, "--broker-disconnect-cmd %s", text);
    return ST_OK;
}
