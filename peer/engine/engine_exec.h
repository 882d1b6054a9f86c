/* One execution of a case (case x subprotocol x encoding): its state and
 * the helpers the step implementations (engine_step_*.c) share. */
#ifndef ENGINE_EXEC_H
#define ENGINE_EXEC_H

#include <sys/types.h>

#include "engine.h"

enum eng_status { ST_OK = 0, ST_FAIL, ST_ERROR, ST_SKIP };

typedef struct eng_conn {
    char name[32];
    int used;
    ws_conn ws;
    uint64_t max_ack_seen; /* highest ACK seq consumed on this connection */
    /* what the implementation advertised on this connection (engine_police.c) */
    int has_limit, has_max_frame;
    uint64_t limit, max_frame;
    char session[65];
    int end_logged;        /* ws.end_note is in the wire log */
} eng_conn;

/* The wire log, bounded (engine_wire.c). */
typedef struct eng_wire_log {
    cJSON *head;       /* the first entries, then the result's "wire" */
    size_t n_head;
    size_t keep;       /* entries kept at each end */
    cJSON **ring;      /* the last entries */
    size_t ring_at, ring_n;
    unsigned long long dropped;
    size_t hex_used;   /* payload octets shown as hex so far */
} eng_wire_log;

typedef struct eng_exec {
    const eng_case *c;
    const eng_target *t;
    eng_job job;
    eng_vars vars;
    eng_conn conns[ENG_MAX_CONNS];
    int nconns_opened;
    double t0;       /* execution start, ws_clock_ms() */
    double deadline; /* hard end of the execution */
    eng_wire_log wlog;
    struct {
        char name[32];
        double t;
    } marks[32];
    int nmarks;
    const cJSON *ignore_default;
    /* client under test (C- cases) */
    int listen_fd, listen_port;
    pid_t client_pid;
    int client_running, client_status, client_ever_connected;
    int client_out_fd;  /* the engine's end of the client's stdout and stderr */
    uint8_t *out_ring;  /* the last out_cap octets it wrote */
    size_t out_cap, out_total;
    char client_exit_text[64];
    /* the step being run and how it ended */
    double step_t0;
    char expected[512];
    char received[1024];
    char skip_reason[512];
    int timed_out;
    char step_path[160]; /* JSON pointer of the step being run */
    cJSON *warnings;     /* [{"clause", "path", "text"}] */
    /* TLS facts of the execution's first wss:// connection (the result's "tls") */
    char tls_version[32], tls_cipher[96], tls_subject[512];
} eng_exec;

/* engine_wire.c: the bounded wire log. */
void eng_wire_init(eng_exec *ex);
void eng_log_event(eng_exec *ex, int conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eng_on_wire(void *arg, ws_conn *c, int out, int fin, int opcode, const uint8_t *payload,
                 size_t len, uint64_t announced, const uint8_t *msg, size_t msg_len);
/* The log as the result's "wire" array; the log is empty afterwards. */
cJSON *eng_wire_finish(eng_exec *ex);
/* Milliseconds since the execution began, to 0.1 ms. */
double eng_rel_ms(const eng_exec *ex, double t);

/* engine_window.c: " within 1500 ms", or with "profile_ms": " within 1000 ms (+500 ms
 * tolerance)" (and the accepted range when there is a not_before_ms). */
void eng_window_text(const cJSON *step, uint64_t within, char *out, size_t cap);
/* How long the step really waits: its window, or ENG_PATIENCE_MS when the
 * window is only the case's expectation (no profile timer). */
uint64_t eng_window_wait(const cJSON *step, uint64_t within);
/* An arrival `after` ms later than such a window: a warning, or with
 * --strict a failure (returns 1, received filled). */
int eng_window_late(eng_exec *ex, const cJSON *step, uint64_t within, double after);

/* engine_exec.c */
/* The automatic variables a frame sets (docs/case-format.md). */
void eng_track(eng_exec *ex, int in, const mbws_frame *f);
/* Pumps every open connection once, until at most `until`, and watches the
 * client under test. */
void eng_pump(eng_exec *ex, double until);
/* A step's deadline capped by the execution's; sets timed_out when the
 * execution's deadline is what ends a wait. */
double eng_deadline(eng_exec *ex, double step_deadline);
int eng_out_of_time(eng_exec *ex);
eng_conn *eng_conn_get(eng_exec *ex, const char *name, int create);
const char *eng_step_conn(const cJSON *step);
int eng_step_int(eng_exec *ex, const cJSON *step, const char *key, int dflt, uint64_t *out);
double eng_since(eng_exec *ex, const cJSON *step);
/* Records a warning (verdict warn unless something fails) for the current
 * step: a SHOULD of the profile or a reading of this project, `clause`. */
void eng_warn(eng_exec *ex, const char *clause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* engine_verdict.c: commits eng_should_last (if set) as a warning. */
void eng_should_commit(eng_exec *ex);
/* A step with "should": CLAUSE whose check failed: a warning, and ST_OK
 * (not in strict mode). Any other status is returned unchanged. */
enum eng_status eng_step_should(eng_exec *ex, const cJSON *step, enum eng_status st);
const char *eng_verdict_name(const eng_exec *ex, enum eng_status st);
void eng_warnings_text(const eng_exec *ex, char *out, size_t cap);
enum eng_status eng_errorf(eng_exec *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum mbws_role eng_iut_role(const eng_exec *ex);
const char *eng_sp_name(enum mbws_subprotocol sp);
const char *eng_enc_name(enum mbws_encoding enc);
int eng_decode(const eng_exec *ex, int from_iut, const ws_event *e, mbws_frame *f,
               mbws_error_info *ei);
void eng_set_mark(eng_exec *ex, const char *name, double t);
void eng_client_check(eng_exec *ex);
enum eng_status eng_run_steps(eng_exec *ex, const cJSON *steps, const char *path, int top);

/* engine_police.c: ST_ERROR (a case bug) when the message would break
 * FLOW-6 or SES-8 towards the implementation and the step does not declare
 * it ("violates"). */
enum eng_status eng_police(eng_exec *ex, eng_conn *c, const cJSON *step, int opcode,
                           const uint8_t *p, size_t len);
/* Keeps c's limit and max-frame from a frame the implementation sent (in),
 * and the session token of either side's CONNECT/CONNECTED. */
void eng_police_track(eng_exec *ex, eng_conn *c, int in, const mbws_frame *f);

/* engine_build.c: the octets of a frame described by a send step. */
int eng_build_frame(eng_exec *ex, const cJSON *step, enum mbws_encoding enc, uint8_t **out,
                    size_t *len, char *err, size_t errlen);
/* Sends a message per the step's fragments / ping_between / hold / rsv. */
enum eng_status eng_deliver(eng_exec *ex, eng_conn *c, const cJSON *step, int opcode,
                            const uint8_t *p, size_t len);

/* engine_step_*.c: one function per step kind, run from the table of
 * engine_steps.c. */
typedef enum eng_status (*eng_step_fn)(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_connect(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_accept(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_open_session(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_accept_session(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_send(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_send_raw(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_send_tcp(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_broker_disconnect(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_expect(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_expect_ack(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_expect_no_frame(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_expect_close(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_expect_pong(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_ping(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_close(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_drop(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_wait(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_expect_exit(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_set(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_skip_if(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_check(eng_exec *ex, const cJSON *step, const cJSON *value);
enum eng_status eng_step_mark(eng_exec *ex, const cJSON *step, const cJSON *value);
/* Does every {variable: matcher} of cond hold? 1, 0, or -1 (error in ex). */
int eng_cond(eng_exec *ex, const cJSON *cond);

/* engine_client.c: the client under test within the execution. */
void eng_client_start(eng_exec *ex);
void eng_client_drain(eng_exec *ex);
void eng_client_output(eng_exec *ex, cJSON *res);

/* engine_tls.c: logs the TLS facts of c's handshake; the first ones are
 * the execution's. */
void eng_tls_noted(eng_exec *ex, const eng_conn *c);
/* Does the target complete a TLS handshake on its ws:// port? (asked only
 * when the first upgrade got no answer at all) */
int eng_tls_port(const eng_target *t);

/* The execution as a whole: returns the result object of the contract. */
cJSON *eng_execute(const eng_job *job, const eng_target *t);

#endif
