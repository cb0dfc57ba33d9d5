#!/usr/bin/env bash
# The bench kit's smoke test (ctest -L bench): generates N=300, indexes it
# with opsbook-index, runs 50 queries in-process with obbench and prints
# the figures. Sanity checks only, no timing thresholds.
#
# usage: bench/smoke.sh BIN_DIR     (the folder holding opsbook-index, obbench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: bench/smoke.sh BIN_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gencorpus.py" --handbook "$here/../handbook" --out "$tmp/corpus" --n 300
files=$(find "$tmp/corpus" -name '*.md' | wc -l)
[ "$files" -eq 300 ] || { echo "smoke: expected 300 files, got $files" >&2; exit 1; }
start=$(date +%s%N)
"$bin/opsbook-index" --handbook "$tmp/corpus" --db "$tmp/db" 2>&1 | tee "$tmp/index.log"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "300 added, 0 updated, 0 unchanged, 0 deleted, 0 rejected" "$tmp/index.log" ||
  { echo "smoke: the indexer did not add all 300 files" >&2; exit 1; }
# a second run changes nothing
"$bin/opsbook-index" --handbook "$tmp/corpus" --db "$tmp/db" 2>&1 | grep -q "300 unchanged" ||
  { echo "smoke: the second run was not a no-op" >&2; exit 1; }
echo "smoke: indexed 300 files in ${ms} ms; index $(du -sk "$tmp/db" | cut -f1) KB," \
  "corpus $(du -sk "$tmp/corpus" | cut -f1) KB"
"$bin/obbench" --db "$tmp/db" --queries "$here/queries.txt" --n 50 | tee "$tmp/search.log"
grep -q "^obbench: 50 queries" "$tmp/search.log" || { echo "smoke: obbench failed" >&2; exit 1; }
hits=$(sed -n 's/.* \([0-9]*\) with hits.*/\1/p' "$tmp/search.log")
[ "${hits:-0}" -ge 40 ] || { echo "smoke: only ${hits:-0} of 50 queries found anything" >&2; exit 1; }
# the same queries on the shared copy in memory (as the server searches a
# larger index): the same number of queries with hits
"$bin/obbench" --db "$tmp/db" --queries "$here/queries.txt" --n 50 --memory 1 --shared 100000 |
  tee "$tmp/shared.log"
grep -q "entries shared in memory" "$tmp/shared.log" || { echo "smoke: no shared copy" >&2; exit 1; }
shits=$(sed -n 's/.* \([0-9]*\) with hits.*/\1/p' "$tmp/shared.log")
[ "${shits:-0}" = "$hits" ] || { echo "smoke: shared copy found ${shits:-0} of $hits" >&2; exit 1; }
echo "smoke: ok"
