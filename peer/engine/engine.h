/* The conformance case engine (mbws-peer run): shared types.
 * A case file is kept as its cJSON tree; engine_case.c validates it once,
 * engine_exec.c plays one case x subprotocol x encoding ("execution") in a
 * worker process, engine_sched.c runs executions concurrently. */
#ifndef ENGINE_H
#define ENGINE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "mbws_frame.h"
#include "ws_conn.h"

/* Messages for humans are cut to their buffers on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define ENG_DEFAULT_WITHIN_MS 2000
#define ENG_MAX_CONNS 8
#define ENG_MAX_VARS 128
#define ENG_HEX_LOG_MAX 4096
#define ENG_DEFAULT_WIRE_ENTRIES 400     /* --max-wire-entries */
#define ENG_BUSY_FRAMES 1000             /* frames that make a timeout say how many came */
#define ENG_DEFAULT_CLIENT_OUTPUT 4000   /* --max-client-output */

/* Who is under test: B- cases test a broker (the engine is the client),
 * C- cases a client (the engine is the broker). */
enum eng_role { ENG_TEST_BROKER = 0, ENG_TEST_CLIENT = 1 };

typedef struct eng_case {
    char *file;        /* path as given on the command line */
    cJSON *root;       /* the parsed file; steps are read from it */
    const char *id, *title, *section;
    enum eng_role role;
    unsigned sp_mask;  /* bit (1 << enum mbws_subprotocol) */
    unsigned enc_mask; /* bit (1 << enum mbws_encoding) */
    int timeout_ms;    /* 0: the command line's */
    int disconnect_after; /* C- cases: MBWS_DISCONNECT_AFTER for the client (ECHO-4); 0: unset */
    /* limit_wait_ms: a MESSAGE above the implementation's limit waits this
     * long for a FLOW, then the execution is skip (FLOW-6, appendix B) */
    int limit_wait, limit_wait_ms;
} eng_case;

typedef struct eng_target {
    enum eng_role role;
    /* broker under test */
    const char *url;
    char host[256];
    int port;
    char path[512];
    /* client under test */
    char listen_host[256];
    int listen_port;
    const char *client_cmd;
    const char *broker_disconnect_cmd; /* B-: makes the broker start a DISCONNECT; NULL: none */
    int case_timeout_ms;
    int verbose;
    ws_limits lim;           /* --max-buffered, --max-events, --max-frames */
    size_t max_wire_entries; /* wire entries kept per execution */
    size_t max_client_output; /* octets of the client's output kept */
    int strict;         /* --strict: a warning (SHOULD, project reading) fails */
    unsigned run_nonce; /* differs between runs: unique addresses */
    /* wss:// (engine_tls.c): a wss:// target, or a listener with --cert/--key */
    int tls;
    ws_tls_opts tls_opts; /* the engine's side: --ca-file, --insecure, certificates */
    const char *listen_cert, *listen_key; /* --cert/--key (client under test) */
    ws_tls_ctx *tls_ctx;
    char tls_version[32], tls_cipher[96], tls_subject[512]; /* what the target negotiated */
} eng_target;

/* One execution to run. */
typedef struct eng_job {
    const eng_case *c;
    enum mbws_subprotocol sp;
    enum mbws_encoding enc;
    int seq; /* 0-based position in the run, for unique names */
} eng_job;

/* A variable's or a substituted expression's value. */
enum eng_vtype { EV_NONE = 0, EV_INT, EV_STR };
typedef struct eng_value {
    enum eng_vtype type;
    uint64_t n;
    char *s; /* owned; NUL-terminated, may hold NULs up to slen */
    size_t slen;
} eng_value;

typedef struct eng_var {
    char name[48];
    eng_value v;
} eng_var;

typedef struct eng_vars {
    eng_var v[ENG_MAX_VARS];
    size_t n;
} eng_vars;

/* Verdict names, in the order of enum eng_status (engine_exec.h) plus
 * "warn": every step held, but a SHOULD or a project reading did not. */
#define ENG_NVERDICTS 5
extern const char *const eng_verdict_names[ENG_NVERDICTS];

/* engine_case.c */
int eng_case_load(const char *path, eng_case *out, char *err, size_t errlen);
/* The same from text in memory (text[len] must be NUL); path names it in errors. */
int eng_case_load_text(const char *path, const char *text, size_t len, eng_case *out, char *err,
                       size_t errlen);
void eng_case_free(eng_case *c);
int eng_requirement_id_valid(const char *s);

/* engine_vars.c */
void eng_value_free(eng_value *v);
void eng_value_set_int(eng_value *v, uint64_t n);
void eng_value_set_str(eng_value *v, const char *s, size_t len);
void eng_vars_set_int(eng_vars *vs, const char *name, uint64_t n);
void eng_vars_set_str(eng_vars *vs, const char *name, const char *s, size_t len);
const eng_value *eng_vars_get(const eng_vars *vs, const char *name);
void eng_vars_free(eng_vars *vs);
/* Substitutes ${...} in a JSON number or string. A string that is exactly
 * one ${expr} takes the expression's type; any other string is
 * interpolated. Returns 0, or -1 with err. */
int eng_subst(const eng_vars *vs, const cJSON *in, eng_value *out, char *err, size_t errlen);
/* Same, for a plain C string. */
int eng_subst_str(const eng_vars *vs, const char *in, eng_value *out, char *err, size_t errlen);
/* Checks the syntax of every ${...} in s without variables (load time). */
int eng_subst_check(const char *s, char *err, size_t errlen);
/* An integer from a number, a decimal string or ${expr}. */
int eng_subst_int(const eng_vars *vs, const cJSON *in, uint64_t *out, char *err, size_t errlen);

/* engine_match.c */
/* Octets from a bytes spec: "text", {"hex": ".."}, {"fill": "x", "size": N},
 * or an array of those, concatenated. Returns malloc'd octets. */
int eng_bytes(const eng_vars *vs, const cJSON *spec, uint8_t **out, size_t *len, char *err,
              size_t errlen);
/* Matches a value (integer when is_int, else octets) against a matcher.
 * present: 0 absent, 1 present, or ENG_SENT_UNLISTED: a field on the wire
 * but not listed for its frame type, ignored by the decoder (FLD-3); every
 * matcher takes it as absent except {"not_sent": ...}, which asks whether
 * the field was on the wire at all.
 * why receives a sentence on mismatch. Returns 1 match, 0 mismatch, -1 error. */
#define ENG_SENT_UNLISTED 2
int eng_match(const eng_vars *vs, const cJSON *m, int present, int is_int, uint64_t n,
              const uint8_t *p, size_t len, char *why, size_t whylen);
/* A `should` operator of a matcher that did not hold (a SHOULD of the
 * profile, or a reading of this project): not a mismatch. eng_match keeps
 * the last one here; the step that matched commits it as a warning, a
 * frame that was let pass drops it. In strict mode (eng_match_strict set)
 * `should` is an ordinary operator and nothing is kept. */
struct eng_should_miss {
    int missed;
    char clause[32];
    char what[64]; /* the field or body it was about, set by the caller */
    char why[400];
};
extern struct eng_should_miss eng_should_last;
extern int eng_match_strict;
/* Human text of a matcher, for "expected". */
void eng_matcher_text(const cJSON *m, char *out, size_t cap);

/* engine_tls.c: wss:// options, context and report. */
/* Takes a TLS option (its long name without "--", e.g. "ca-file") with its
 * value: 1 when it was one, else 0. */
int eng_tls_option(eng_target *t, const char *opt, const char *val);
/* After the command line: checks the TLS options fit the role and makes
 * the context. 0, or -1 with a message on stderr. */
int eng_tls_setup(eng_target *t);
void eng_tls_cleanup(eng_target *t);
/* MBWS_CA_FILE for a client under test: --ca-file, else the certificate. */
const char *eng_tls_client_ca(const eng_target *t);
/* The target's TLS facts for the result file's "target" (nothing on ws://). */
void eng_tls_target_json(const eng_target *t, cJSON *target, cJSON *const *results, size_t n);

/* engine_steps.c: the kind of a step ("send", "expect", ...). */
const char *eng_step_kind(const cJSON *step);

#endif
