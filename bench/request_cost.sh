#!/usr/bin/env bash
# Instructions per /api/search request, counted by callgrind: a figure that
# does not move with the machine's load, unlike req/s and latency.
#
# usage: bench/request_cost.sh [HANDBOOK_DIR]
#   Indexes HANDBOOK_DIR (default: the bundled handbook) into a temporary
#   db, runs build/bin/opsbook-serve under callgrind (one worker thread,
#   --cache 0), asks the 10 queries of bench/handbook-queries.txt (those
#   of search_http.sh) once to warm up,
#   zeroes the counters, asks them ROUNDS times more and prints the
#   instructions per request with the split: match, snippets, JSON, gzip.
# Builds nothing. Environment: OB_BIN (default build/bin), OB_COST_ROUNDS
# (20), OB_SERVE_ARGS (more opsbook-serve options, e.g. "--memory-index 0"),
# OB_COST_KEEP (a file to keep the callgrind dump in, for callgrind_annotate).
# Needs valgrind (callgrind, callgrind_control) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

BIN=${OB_BIN:-build/bin}
ROUNDS=${OB_COST_ROUNDS:-20}
HANDBOOK=${1:-handbook}
for t in valgrind callgrind_control callgrind_annotate python3; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing (apt-get install valgrind python3)" >&2; exit 2; }
done
for b in opsbook-index opsbook-serve; do
  [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is missing; build first" >&2; exit 2; }
done
ob_scratch # $tmp, $pid, cleanup on exit

"$BIN/opsbook-index" --handbook "$HANDBOOK" --db "$tmp/db" >/dev/null 2>&1
# shellcheck disable=SC2086 # OB_SERVE_ARGS is a list of options
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" \
  "$BIN/opsbook-serve" --db "$tmp/db" --handbook "$HANDBOOK" --listen 127.0.0.1:0 \
  --cache 0 --threads 1 ${OB_SERVE_ARGS:-} 2>"$tmp/serve.log" &
pid=$!
url=$(ob_listen_url "$tmp/serve.log" "$pid" 120) || exit 1 # valgrind starts slowly

python3 - "$url" "$ROUNDS" "$pid" <<'PY'
import subprocess, sys, urllib.parse, urllib.request
url, rounds, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
queries = [l.strip() for l in open("bench/handbook-queries.txt", encoding="utf-8") if l.strip()]
def ask(q):
    req = urllib.request.Request(url + "/api/search?q=" + urllib.parse.quote(q),
                                 headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        if r.status != 200:
            sys.exit(f"bench: {q}: HTTP {r.status}")
        r.read()
for q in queries:  # warm-up: opens the index, copies it into memory
    ask(q)
subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
for _ in range(rounds):
    for q in queries:
        ask(q)
subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
PY
ob_stop "$pid"
if [ -n "${OB_COST_KEEP:-}" ]; then cp "$tmp"/cg.*.1 "$OB_COST_KEEP"; fi
pid=""

# the dump taken after --zero is the one with a part number (cg.PID.1)
dump=$(find "$tmp" -name "cg.*.1" | head -1)
n=$((ROUNDS * $(grep -c . bench/handbook-queries.txt)))
callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | awk -v n="$n" '
  function num(s) { gsub(",", "", s); return s + 0 }
  /PROGRAM TOTALS/ { total = num($1) }
  /:ob_xdb_search \[/ { match_ = num($1) }
  /:ob_snippet \[/ { snip += num($1) }
  /:snip_prepare \[/ { snip += num($1) }
  /:snip_render \[/ { snip += num($1) }
  /:ob_search_hit_fields \[/ { json = num($1) }
  /:ob_slot_gzip \[/ { gz = num($1) }
  END {
    if (!total || !match_) { print "bench: no callgrind totals" > "/dev/stderr"; exit 1 }
    printf "requests: %d (handbook, --cache 0, gzip)\n", n
    printf "instructions per request: %.2f M\n", total / n / 1e6
    printf "  match %.2f M, snippets %.2f M, JSON hits %.2f M, gzip %.2f M, the rest %.2f M\n",
      match_ / n / 1e6, snip / n / 1e6, json / n / 1e6, gz / n / 1e6,
      (total - match_ - snip - json - gz) / n / 1e6
  }'
