#!/bin/sh
# Browser tests of web/ (ctest label `browser`).
#   run.sh OPSBOOK-INDEX OPSBOOK-SERVE [SHOTS-DIR]
# Exit 77 (ctest: skipped) only when node or chromium is missing; installs
# the pinned playwright-core with `npm ci` when node_modules is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
chromium=${OB_CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed (apt-get install nodejs npm)"; exit 77
fi
if [ ! -x "$chromium" ]; then
  echo "SKIP: $chromium is not installed (apt-get install chromium fonts-noto-cjk)"; exit 77
fi
if [ $# -lt 2 ]; then
  echo "usage: run.sh OPSBOOK-INDEX OPSBOOK-SERVE [SHOTS-DIR]" >&2; exit 2
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is missing: cannot install playwright-core" >&2; exit 1; }
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed" >&2; exit 1; }
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
export OB_INDEX="$(abs "$1")" OB_SERVE="$(abs "$2")" OB_CHROMIUM="$chromium"
[ $# -ge 3 ] && export OB_SHOTS="$(abs "$3")"
cd "$here" && exec node --test --test-concurrency=1 --test-reporter=spec web.test.mjs
