#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages only) and builds into build/.
# Usage: scripts/setup.sh [--sanitize]   (--sanitize builds build-asan/ too)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(cmake make g++ gcc pkg-config python3
      libxapian-dev libcmark-dev libmicrohttpd-dev zlib1g-dev libdeflate-dev libjansson-dev
      libjemalloc-dev
      clang libclang-rt-14-dev valgrind
      libfriso-dev friso-dict libopencc-dev libopencc-data libutf8proc-dev libssl-dev)
if [ "${OB_BROWSER_TESTS:-1}" = 1 ]; then
  # headless browser tests of web/ (ctest -L browser); set OB_BROWSER_TESTS=0 to skip
  PKGS+=(chromium fonts-noto-cjk)
  command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DOB_WERROR="${OB_WERROR:-ON}" >/dev/null
cmake --build build -j"$jobs"
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DOB_WERROR=ON -DOB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build-asan -j"$jobs"
fi
