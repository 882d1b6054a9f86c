#!/bin/sh
# Fails when a C file under peer/ is longer than 700 lines or a function in
# one is longer than 120 (from its opening brace to its closing one, both in
# column 0, as clang-format writes them): issue 14's limits, kept true as
# code lands. ctest runs it (peer_size_limits).
# Usage: ci/check-size.sh [PEER_DIR]   (default: peer/ beside ci/)
dir=${1:-$(dirname "$0")/../peer}
files=$(find "$dir" -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "check-size: no C files under $dir" >&2; exit 2; }
# shellcheck disable=SC2086
exec awk -v max_file=700 -v max_fn=120 '
function file_done() {
    if (prev_file != "" && prev_lines > max_file) {
        printf "%s: %d lines (at most %d)\n", prev_file, prev_lines, max_file
        bad = 1
    }
}
FNR == 1 { file_done(); files++; start = 0; head = "" }
{ prev_file = FILENAME; prev_lines = FNR }
/^\{/ { start = FNR; name = head; next }
/^\}/ {
    if (start && FNR - start + 1 > max_fn) {
        printf "%s:%d: function of %d lines (at most %d): %s\n", FILENAME, start,
               FNR - start + 1, max_fn, name
        bad = 1
    }
    start = 0
    next
}
!start && /^[A-Za-z_]/ { head = $0 }
END {
    file_done()
    if (bad)
        exit 1
    printf "check-size: %d files, none over %d lines, no function over %d\n", files, max_file, max_fn
}
' $files
