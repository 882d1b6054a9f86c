#!/bin/sh
# certify.sh: build the MBWS conformance suite and certify a broker and/or a
# client against MBWS profile 1. Plain POSIX shell, for any CI system.
# Exit status: that of the suite (0 = every execution passed or was skipped).
set -eu

usage() {
    cat <<'USAGE'
usage: ci/certify.sh [options] [-- extra harness/mbws-suite options]

What to certify (environment variables in brackets; with neither, the
suite certifies its own reference broker and echo client):
  --broker-url URL     ws:// or wss:// URL of the broker under test
                                                             [MBWS_BROKER_URL]
  --ca-file FILE       wss:// broker: verify its certificate against this CA
                       (PEM) instead of the system's          [MBWS_CA_FILE]
  --insecure           wss:// broker: no certificate check (stated in the
                       reports)
  --tls                serve wss:// to the client under test (MBWS_URL is
                       wss://, MBWS_CA_FILE names the CA of a certificate made
                       for the run); with no target, certify the reference
                       broker and echo client over wss://
  --client-cmd CMD     command of the client under test      [MBWS_CLIENT_CMD]
                       (started per case with MBWS_URL, MBWS_SUBPROTOCOL,
                       MBWS_ENCODING, MBWS_IN, MBWS_OUT; profile section 12)
  --broker-disconnect-cmd CMD
                       makes the broker under test start a DISCONNECT of the
                       sessions subscribed to $MBWS_ADDRESS ($MBWS_URL is set
                       too); the SES-7 initiator cases skip without it
                                                       [MBWS_BROKER_DISCONNECT_CMD]
  --name NAME          target name in the reports            [MBWS_TARGET_NAME]
  --start CMD          start the broker under test with CMD first (its own
                       process group), wait until --broker-url accepts
                       connections, stop the whole group at the end; refuses
                       when the port is already taken       [MBWS_START_CMD]
Build and run:
  --build-dir DIR      CMake build directory (default: build)
  --no-build           use an existing build (with --peer or --build-dir);
                       without it, missing Debian packages are installed first
                       (ci/install-deps.sh --runtime) and the suite is built
  --peer PATH          the mbws-peer binary (default: DIR/peer/mbws-peer)
  --report-dir DIR     reports go to DIR/<run-id>/ (default: reports)
  --run-id ID          run directory name   [MBWS_RUN_ID, default: a timestamp]
  --jobs N             concurrent case executions (default 48)
  -h, --help           this text

Reports: <report-dir>/<run-id>/{index.html,results.json,junit.xml,badge.svg}
(and broker-under-test.log with --start), also when nothing could be run.
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
broker_url=${MBWS_BROKER_URL:-}
client_cmd=${MBWS_CLIENT_CMD:-}
broker_disconnect_cmd=${MBWS_BROKER_DISCONNECT_CMD:-}
name=${MBWS_TARGET_NAME:-}
start_cmd=${MBWS_START_CMD:-}
ca_file=${MBWS_CA_FILE:-}
insecure=
tls=
run_id=${MBWS_RUN_ID:-}
build_dir=$repo/build
report_dir=$repo/reports
build=1
peer=
jobs=

need() { [ "$2" -ge 2 ] || { echo "certify.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case $1 in
        --broker-url) need "$1" $#; broker_url=$2; shift 2 ;;
        --client-cmd) need "$1" $#; client_cmd=$2; shift 2 ;;
        --broker-disconnect-cmd) need "$1" $#; broker_disconnect_cmd=$2; shift 2 ;;
        --name) need "$1" $#; name=$2; shift 2 ;;
        --ca-file) need "$1" $#; ca_file=$2; shift 2 ;;
        --insecure) insecure=1; shift ;;
        --tls) tls=1; shift ;;
        --start) need "$1" $#; start_cmd=$2; shift 2 ;;
        --build-dir) need "$1" $#; build_dir=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --peer) need "$1" $#; peer=$2; shift 2 ;;
        --report-dir) need "$1" $#; report_dir=$2; shift 2 ;;
        --run-id) need "$1" $#; run_id=$2; shift 2 ;;
        --jobs) need "$1" $#; jobs=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) echo "certify.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -n "$start_cmd" ] && [ -z "$broker_url" ]; then
    echo "certify.sh: --start needs --broker-url (where the started broker listens)" >&2
    exit 2
fi
[ -n "$run_id" ] || run_id=$(date -u +%Y%m%d-%H%M%S)-$$
[ -n "$peer" ] || peer=$build_dir/peer/mbws-peer

if [ "$build" = 1 ]; then
    # A fresh Debian machine has none of the dependencies: install what is missing.
    "$here/install-deps.sh" --runtime
    echo "== building the suite in $build_dir"
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)"
fi

set -- --peer "$peer" --report-dir "$report_dir" --run-id "$run_id" ${jobs:+--jobs "$jobs"} "$@"
[ -z "$broker_url" ] || set -- --target-url "$broker_url" "$@"
# The suite starts and stops the broker itself (own process group, SIGTERM then
# SIGKILL to the group); its output lands in <report-dir>/<run-id>/broker-under-test.log.
[ -z "$start_cmd" ] || set -- --start "$start_cmd" "$@"
[ -z "$client_cmd" ] || set -- --client-cmd "$client_cmd" "$@"
[ -z "$ca_file" ] || set -- --ca-file "$ca_file" "$@"
[ -z "$insecure" ] || set -- --insecure "$@"
[ -z "$tls" ] || set -- --tls "$@"
[ -z "$broker_disconnect_cmd" ] || set -- --broker-disconnect-cmd "$broker_disconnect_cmd" "$@"
# A name only makes sense for a target given here (not for the reference peer).
if [ -n "$name" ] && { [ -n "$broker_url" ] || [ -n "$client_cmd" ]; }; then
    set -- --target-name "$name" "$@"
fi

echo "== running the conformance suite"
status=0
"$repo/harness/mbws-suite" "$@" || status=$?

run_dir=$report_dir/$run_id
if [ -f "$run_dir/results.json" ]; then
    echo "== reports in $run_dir (index.html, results.json, junit.xml, badge.svg)"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
        /usr/bin/python3 "$here/summary_md.py" "$run_dir/results.json" >>"$GITHUB_STEP_SUMMARY" || true
    fi
fi
if [ "$status" -ne 0 ]; then
    echo "== certification FAILED (suite exit status $status)" >&2
else
    echo "== certification passed"
fi
exit "$status"
