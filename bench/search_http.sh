#!/usr/bin/env bash
# Load-tests GET /api/search with wrk: rotating queries, Accept-Encoding: gzip,
# 16 connections for 10 s; prints requests/s and p50/p99 latency.
#
# usage: bench/search_http.sh [URL]
#   URL    a running server, e.g. http://127.0.0.1:8080 (loopback or your own
#          test host only). Without it, the script indexes the bundled
#          handbook (or tests/quality/anchor while handbook/ is empty) into a
#          temporary db and starts build/bin/opsbook-serve on a free port.
# Builds nothing. Environment: OB_BIN (default build/bin), OB_BENCH_DURATION
# (10s), OB_BENCH_CONNECTIONS (16), OB_BENCH_THREADS (2, wrk's threads),
# OB_SERVE_ARGS (more opsbook-serve options, e.g. "--cache 0").
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
BIN=${OB_BIN:-build/bin}
DURATION=${OB_BENCH_DURATION:-10s}
CONNS=${OB_BENCH_CONNECTIONS:-16}
WRK_THREADS=${OB_BENCH_THREADS:-2}
URL=${1:-}
ob_scratch # $tmp, $pid, cleanup on exit

if [ -z "$URL" ]; then
  for b in opsbook-index opsbook-serve; do
    [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is missing; build first (this script builds nothing)" >&2; exit 2; }
  done
  handbook=handbook
  if [ -z "$(find "$handbook" -name '*.md' -not -path '*/_*' 2>/dev/null | head -1)" ]; then
    handbook=tests/quality/anchor
  fi
  "$BIN/opsbook-index" --handbook "$handbook" --db "$tmp/db" >/dev/null 2>&1
  # shellcheck disable=SC2086 # OB_SERVE_ARGS is a list of options
  "$BIN/opsbook-serve" --db "$tmp/db" --handbook "$handbook" --listen 127.0.0.1:0 ${OB_SERVE_ARGS:-} \
    2>"$tmp/serve.log" &
  pid=$!
  URL=$(ob_listen_url "$tmp/serve.log" "$pid") || exit 1
  echo "bench: serving $handbook at $URL"
fi

cat >"$tmp/search.lua" <<'LUA'
-- rotate everyday queries over /api/search; count non-200 answers
local queries = {}
for line in io.lines(os.getenv("OB_QUERIES")) do
  if #line > 0 then queries[#queries + 1] = line end
end
local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths, i, bad = {}, 0, 0
for k, q in ipairs(queries) do paths[k] = "/api/search?q=" .. enc(q) end
wrk.headers["Accept-Encoding"] = "gzip"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
response = function(status)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("requests/s: %.0f  (%d requests in %.1f s, errors: %d)\n",
    summary.requests / secs, summary.requests, secs,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout))
  io.write(string.format("latency p50: %.2f ms  p99: %.2f ms  max: %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA

# one second of a single query first: workers open the index (and copy a
# small one into memory) before the measured run
wrk -t"$WRK_THREADS" -c"$CONNS" -d1s "$URL/api/search?q=%E6%9C%BA%E6%88%BF" >/dev/null 2>&1 || true
ob_wait_idle "$URL"
echo "bench: wrk -t$WRK_THREADS -c$CONNS -d$DURATION $URL/api/search (gzip, 10 queries rotating)"
# CPU time of a server this script started (user + system, from /proc):
# per request it holds still on a busy or shared machine where req/s and
# latency do not
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0; }
[ -n "$pid" ] && t0=$(cpu_ticks)
OB_QUERIES=bench/handbook-queries.txt wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" \
  -s "$tmp/search.lua" "$URL" | tail -2 | tee "$tmp/wrk.out"
if [ -n "$pid" ]; then
  t1=$(cpu_ticks)
  n=$(sed -n 's/^requests\/s: [0-9]*  (\([0-9]*\) requests.*/\1/p' "$tmp/wrk.out")
  hz=$(getconf CLK_TCK)
  [ -n "$n" ] && [ "$n" -gt 0 ] &&
    awk -v d=$((t1 - t0)) -v n="$n" -v hz="$hz" \
      'BEGIN { printf "server CPU: %.0f us per request (user + system)\n", d / hz * 1e6 / n }'
fi
