#!/usr/bin/env bash
# Installs the Debian packages the suite needs, only those not yet present.
# Usage: ci/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind
  libwebsockets-dev libcjson-dev
  python3 python3-pytest python3-pytest-xdist python3-jsonschema python3-jinja2 python3-websockets
  chromium
)

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "usage: ci/install-deps.sh"
  echo "Installs with apt-get the Debian packages the suite needs: ${packages[*]}"
  exit 0
fi

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
