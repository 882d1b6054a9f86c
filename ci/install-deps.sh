#!/usr/bin/env bash
# Installs the Debian packages the suite needs, only those not yet present.
# Usage: ci/install-deps.sh [--runtime]   (as root, or with sudo available)
#   (no option)  everything for developing the suite: compilers, sanitizers,
#                valgrind, chromium (report rendering tests), test libraries
#   --runtime    only what building the suite and certifying a target needs
set -euo pipefail

runtime=(
  build-essential cmake pkg-config
  libwebsockets-dev libcjson-dev libssl-dev openssl
  libuv1-dev libev-dev libwebsockets-evlib-uv libwebsockets-evlib-ev
  python3 python3-pytest python3-pytest-xdist python3-jsonschema python3-jinja2
)
develop=(
  clang libclang-rt-14-dev valgrind python3-websockets python3-yaml
  chromium
)

case "${1:-}" in
  -h|--help)
    echo "usage: ci/install-deps.sh [--runtime]"
    echo "Installs with apt-get the Debian packages the suite needs."
    echo "  --runtime  building and certifying only: ${runtime[*]}"
    echo "  (default)  also for developing the suite: ${develop[*]}"
    exit 0 ;;
  --runtime) packages=("${runtime[@]}") ;;
  "") packages=("${runtime[@]}" "${develop[@]}") ;;
  *) echo "install-deps: unknown option $1 (see --help)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
