#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite twice: once normally and
# once under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --sanitize
jobs=$(nproc 2>/dev/null || echo 2)
echo "== test suite"
ctest --test-dir build --output-on-failure -j"$jobs"
echo "== test suite under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE 'quality|browser'
