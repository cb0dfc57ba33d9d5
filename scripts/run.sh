#!/usr/bin/env bash
# Sets up, builds, indexes the bundled handbook and serves it at
# http://127.0.0.1:8080 (override with OB_LISTEN=ADDR:PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p var
build/bin/opsbook-index --handbook handbook --db var/db
if [ -x build/bin/opsbook-serve ]; then
  exec build/bin/opsbook-serve --db var/db --handbook handbook --web web \
    --listen "${OB_LISTEN:-127.0.0.1:8080}"
fi
build/bin/opsbook-search --db var/db "客户说宽带修了好几次还是断"
