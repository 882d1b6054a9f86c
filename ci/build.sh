#!/usr/bin/env bash
# Configures and builds the peer and the core library into build/ (or $1).
# Usage: ci/build.sh [BUILD_DIR] [extra cmake options...]
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "usage: ci/build.sh [BUILD_DIR] [CMAKE_OPTION...]   (default BUILD_DIR: build)"
  exit 0
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
