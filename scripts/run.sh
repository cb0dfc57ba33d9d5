#!/usr/bin/env bash
# Sets up, builds, indexes the bundled handbook and serves it at
# http://127.0.0.1:8080 (override with OB_LISTEN=ADDR:PORT). When
# var/tokens exists (made by `opsbook-lesson --tokens var/tokens
# --new-token NAME`), reviewers can append lessons; otherwise read-only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p var
build/bin/opsbook-index --handbook handbook --db var/db
args=(--db var/db --handbook handbook --web web --listen "${OB_LISTEN:-127.0.0.1:8080}")
[ -f var/tokens ] && args+=(--tokens var/tokens)
exec build/bin/opsbook-serve "${args[@]}"
