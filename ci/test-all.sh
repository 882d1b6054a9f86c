#!/usr/bin/env bash
# Installs the dependencies, builds every variant and runs every test:
# unit tests (plain, under Valgrind, with clang, with ASan/UBSan), the
# engine's TLS under ASan/UBSan, the decoder fuzzer for a bounded time and
# every other fuzz target for a short smoke time (docs/fuzzing.md runs them
# long), the pytest suites (engine, peer, harness), requirement coverage, the
# conformance suite against the reference peer (three runs, identical
# verdicts, each under 60 s; one run over wss://) and fault sensitivity
# (every injected fault of the reference peer is caught by some case) and
# vacuity (no case passes against a trivial target without a listed reason)
# and low-grant (no case breaks FLOW-6 or SES-8 towards a reference peer
# granting credit 0 or 1 or max-frame 1024).
# Usage: ci/test-all.sh [--fuzz-seconds N] [--fuzz-smoke-seconds N]
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzz_seconds=60
fuzz_smoke_seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    --fuzz-smoke-seconds) fuzz_smoke_seconds=$2; shift 2 ;;
    -h|--help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      echo "usage: ci/test-all.sh [--fuzz-seconds N] [--fuzz-smoke-seconds N]   (default 60, 20)"
      exit 0 ;;
    *) echo "test-all: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3 # Debian's interpreter: the one with pytest and friends
passed=0
failed=0
failed_names=()
stage() { # stage NAME COMMAND...: runs one stage and records its outcome
  local name=$1; shift
  echo
  echo "=== stage: $name"
  local t0=$SECONDS
  if "$@"; then
    echo "=== stage $name: ok ($((SECONDS - t0)) s)"
    passed=$((passed + 1))
  else
    echo "=== stage $name: FAILED ($((SECONDS - t0)) s)"
    failed=$((failed + 1))
    failed_names+=("$name")
  fi
}

unit_tests_under_valgrind() {
  local bin status=0 n=0
  for bin in build/peer/test_*; do
    [ -x "$bin" ] || continue
    n=$((n + 1))
    if ! valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
        --error-exitcode=99 "$bin" >/dev/null 2>build/valgrind-$(basename "$bin").log; then
      echo "valgrind: $bin failed:"; cat "build/valgrind-$(basename "$bin").log"; status=1
    fi
  done
  echo "valgrind: $n unit test programs checked"
  [ "$n" -gt 0 ] && return $status
}

fuzz_decoder() {
  CC=clang ci/build.sh build-fuzz -DMBWS_FUZZ=ON -DMBWS_BUILD_PEER=OFF || return 1
  local corpus
  corpus=$(mktemp -d)
  cp peer/fuzz/corpus/* "$corpus"/
  # -error_exitcode makes any crash or sanitizer report fail the stage.
  build-fuzz/peer/fuzz_decode -max_total_time="$fuzz_seconds" -error_exitcode=77 \
    -artifact_prefix=build-fuzz/ "$corpus" 2>&1 | tail -n 5
  local rc=${PIPESTATUS[0]}
  rm -rf "$corpus"
  return "$rc"
}

# The engine's TLS under ASan/UBSan: the reference broker and echo client
# over wss:// (certificate made for the run), flow and resume cases (drops
# inside TLS), every process of the run built with the sanitizers.
sanitizers_engine_tls() {
  $PY harness/mbws-suite -q --peer "$root/build-asan/peer/mbws-peer" --tls \
    --section flow --section continuation --run-id "ci-asan-tls-$$"
}

# The engine's RFC 6455 framer and reader, its case loader and ${...}
# expressions, and two session cores driven against each other: each for a
# short smoke time (built by fuzz_decoder's stage).
fuzz_smoke() {
  [ -x build-fuzz/peer/fuzz_decode ] || CC=clang ci/build.sh build-fuzz -DMBWS_FUZZ=ON -DMBWS_BUILD_PEER=OFF || return 1
  local rc=0 f corpus
  for f in fuzz_ws_frame fuzz_ws_reader fuzz_case_load fuzz_expr fuzz_session_pair; do
    corpus=$(mktemp -d)
    [ "$f" = fuzz_case_load ] && cp cases/*/*.json "$corpus"/ # start from real cases
    echo "== $f (${fuzz_smoke_seconds} s)"
    build-fuzz/peer/$f -max_total_time="$fuzz_smoke_seconds" -error_exitcode=77 \
      -artifact_prefix=build-fuzz/$f- "$corpus" 2>&1 | tail -n 2
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    rm -rf "$corpus"
  done
  return "$rc"
}

pytest_suites() {
  [ -d harness/tests ] || { echo "harness/tests missing"; return 1; }
  MBWS_PEER="$root/build/peer/mbws-peer" $PY -m pytest -q -p no:cacheprovider harness/tests
}

# Three runs of the whole suite against the reference peer: every execution
# passes (or is skipped in every run), verdicts identical, each run < 60 s.
conformance_three_runs() {
  $PY harness/repeat_check.py --peer "$root/build/peer/mbws-peer" --runs 3 --budget 60
}

stage install-deps ci/install-deps.sh || true
[ "$failed" -eq 0 ] || { echo "test-all: cannot go on without the dependencies"; exit 1; }
stage build-gcc ci/build.sh build
stage unit-tests ctest --test-dir build --output-on-failure
stage unit-tests-valgrind unit_tests_under_valgrind
stage build-clang-and-unit-tests bash -c 'CC=clang ci/build.sh build-clang && ctest --test-dir build-clang --output-on-failure'
stage sanitizers-asan-ubsan bash -c 'CC=clang ci/build.sh build-asan -DMBWS_SANITIZE=ON && ctest --test-dir build-asan --output-on-failure'
stage sanitizers-engine-tls sanitizers_engine_tls
stage fuzz-decoder-${fuzz_seconds}s fuzz_decoder
stage fuzz-smoke-${fuzz_smoke_seconds}s fuzz_smoke
stage pytest-engine-peer-harness pytest_suites
stage requirement-coverage $PY harness/coverage.py --check
stage conformance-vs-reference-3-runs conformance_three_runs
stage conformance-over-tls $PY harness/mbws-suite -q --tls --run-id "ci-tls-$$"
stage fault-sensitivity $PY harness/sensitivity.py --check --peer "$root/build/peer/mbws-peer"
stage vacuity $PY harness/vacuity.py --check --peer "$root/build/peer/mbws-peer"
stage low-grant $PY harness/low_grant_check.py --peer "$root/build/peer/mbws-peer"

echo
if [ "$failed" -ne 0 ]; then
  echo "test-all: failed stages: ${failed_names[*]}"
fi
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
