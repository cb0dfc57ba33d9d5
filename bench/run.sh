#!/usr/bin/env bash
# The benchmark kit: for each N, ours beside the baselines from the same run.
#
# usage: bench/run.sh [N ...]          (default: 1000)
#
# Per N: generate the corpus (bench/gencorpus.py), index it with
# opsbook-index and with the raw-Xapian indexer (rawxap), re-index after
# touching / editing one file, search the 500 queries of bench/queries.txt
# in-process (obbench vs rawxap search), then /api/search over HTTP with
# wrk (gzip; 16 and 128 connections) against opsbook-serve and the raw
# Xapian server; once, the fixed 2 KB body server (the HTTP ceiling).
# Prints the tables (Markdown) to stdout; logs go to $WORK/log.
#
# Environment: OB_BUILD (build folder, default build-perf; configured and
# built here), OB_BENCH_WORK (default /tmp/opsbook-bench; corpora are kept
# and reused), OB_BENCH_DURATION (wrk duration per run, default 10s),
# OB_BENCH_HTTP=0 to skip the HTTP part. Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. bench/lib.sh
BUILD=${OB_BUILD:-build-perf}
WORK=${OB_BENCH_WORK:-/tmp/opsbook-bench}
DUR=${OB_BENCH_DURATION:-10s}
HTTP=${OB_BENCH_HTTP:-1}
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(1000)
mkdir -p "$WORK/log"
LOG=$WORK/log/run-$(date +%Y%m%d-%H%M%S).log
: >"$LOG"
pids=()
cleanup() {
  for p in "${pids[@]}"; do ob_stop "$p"; done
}
trap cleanup EXIT

for t in wrk python3 cmake; do
  command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install $t)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

echo "bench: building in $BUILD (log: $LOG)" >&2
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PROJECT_opsbook_INCLUDE="$root/bench/enable.cmake" >>"$LOG" 2>&1
cmake --build "$BUILD" -j2 --target bench-tools >>"$LOG" 2>&1
B=$BUILD/bin

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.2f' % (a/b) if b else '-')" "$1" "$2"; }
# peak RSS in MB and wall seconds of a command: sets PEAK, WALL
timed() {
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >>"$LOG" 2>&1
  read -r WALL kb <"$WORK/time.txt"
  PEAK=$(( kb / 1024 ))
}
field() { grep -o "$1 [0-9.]* ms" | head -1 | cut -d' ' -f2; }

# wrk with every query of bench/queries.txt in turn; prints "rps p50 p99"
cat >"$WORK/search.lua" <<'LUA'
local paths, i = {}, 0
local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
for line in io.lines(os.getenv("OB_QUERIES")) do
  if #line > 0 then paths[#paths + 1] = "/api/search?q=" .. enc(line) end
end
wrk.headers["Accept-Encoding"] = "gzip"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write +
              summary.errors.status + summary.errors.timeout
  io.write(string.format("WRK %.0f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
LUA
wrk_run() { # URL CONNS -> "rps p50 p99 errors"
  # one second of a single query first, on every connection: each server
  # opens its index per worker (ours copies a small one into memory)
  wrk -t2 -c"$2" -d1s "$1/api/search?q=%E6%9C%BA%E6%88%BF" >/dev/null 2>&1 || true
  ob_wait_idle "$1"
  OB_QUERIES=$root/bench/queries.txt wrk -t2 -c"$2" -d"$DUR" -s "$WORK/search.lua" "$1" 2>>"$LOG" |
    tee -a "$LOG" | sed -n 's/^WRK //p'
}
start_server() { # LOGFILE CMD... -> sets URL, SPID
  "${@:2}" 2>"$1" &
  SPID=$!
  pids+=("$SPID")
  URL=$(ob_listen_url "$1" "$SPID") || { echo "bench: server did not start: $*" >&2; exit 1; }
}
wait_copy() { # URL: until ours has made its shared copy (metrics state 1 = being made)
  python3 - "$1" <<'PY'
import re, sys, time, urllib.request
for _ in range(1200):
    text = urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=10).read().decode()
    m = re.search(r"^opsbook_index_shared_copy_state (\d)", text, re.M)
    if not m or m.group(1) != "1":
        break
    time.sleep(0.1)
PY
}
stop_server() { # -> sets SRSS (peak RSS in MB)
  SRSS=$(( $(awk '/^VmHWM:/ {print $2}' /proc/$SPID/status) / 1024 ))
  ob_stop "$SPID"
}

T_IDX="| N | corpus MB | ours s | raw s | ours docs/s | raw docs/s | ratio | ours MB/s | raw MB/s | ours index ÷ corpus | raw index ÷ corpus | size ratio | ours peak RSS MB | raw peak RSS MB |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
T_RE="| N | ours touch s | ours edit s | raw edit s | ratio (edit) |
|---|---|---|---|---|"
T_SRCH="| N | ours p50 ms | ours p99 ms | ours q/s | raw p50 ms | raw p99 ms | raw q/s | q/s ratio | ours match / snippet / JSON / gzip ms | raw match / snippet ms | two-stage vs exact: top-10 overlap / same first / exact ms / two-stage ms | shared copy (or table) |
|---|---|---|---|---|---|---|---|---|---|---|---|"
T_HTTP="| N | conns | ours req/s | ours p50 ms | ours p99 ms | ours cached req/s | cached p50 ms | cached p99 ms | raw req/s | raw p50 ms | raw p99 ms | req/s ratio | cached ratio | ours RSS MB | raw RSS MB |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"

for N in "${NS[@]}"; do
  C=$WORK/corpus-$N
  if [ ! -f "$C/.done" ]; then
    rm -rf "$C"
    python3 bench/gencorpus.py --handbook handbook --out "$C" --n "$N" 2>>"$LOG"
    touch "$C/.done"
  fi
  cbytes=$(find "$C" -name '*.md' -printf '%s\n' | awk '{s+=$1} END {print s}')
  cmb=$(python3 -c "print('%.1f' % ($cbytes/1e6))")
  echo "bench: N=$N ($cmb MB): indexing" >&2
  rm -rf "$WORK/db-$N" "$WORK/raw-$N"
  sync
  timed "$B/opsbook-index" --handbook "$C" --db "$WORK/db-$N"; o_s=$WALL; o_rss=$PEAK
  sync
  timed "$B/rawxap" index --corpus "$C" --db "$WORK/raw-$N"; r_s=$WALL; r_rss=$PEAK
  o_size=$(du -sb "$WORK/db-$N" | cut -f1); r_size=$(du -sb "$WORK/raw-$N" | cut -f1)
  o_dps=$(python3 -c "print('%.0f' % ($N/$o_s))"); r_dps=$(python3 -c "print('%.0f' % ($N/$r_s))")
  o_mbs=$(python3 -c "print('%.2f' % ($cbytes/1e6/$o_s))"); r_mbs=$(python3 -c "print('%.2f' % ($cbytes/1e6/$r_s))")
  o_x=$(python3 -c "print('%.2f' % ($o_size/$cbytes))"); r_x=$(python3 -c "print('%.2f' % ($r_size/$cbytes))")
  T_IDX+=$'\n'"| $N | $cmb | $o_s | $r_s | $o_dps | $r_dps | $(ratio "$o_dps" "$r_dps") | $o_mbs | $r_mbs | $o_x | $r_x | $(ratio "$o_size" "$r_size") | $o_rss | $r_rss |"

  echo "bench: N=$N: re-index after touching / editing one file" >&2
  one=$(cd "$C" && find . -name '*.md' | sort | sed -n "$(( N / 2 + 1 ))p" | sed 's|^\./||')
  touch "$C/$one"
  timed "$B/opsbook-index" --handbook "$C" --db "$WORK/db-$N"; t_s=$WALL
  cp "$C/$one" "$WORK/one.bak"
  printf '\n补充说明:机房巡检记录已更新。\n' >>"$C/$one"
  timed "$B/opsbook-index" --handbook "$C" --db "$WORK/db-$N"; e_s=$WALL
  timed "$B/rawxap" update --corpus "$C" --db "$WORK/raw-$N" --file "$one"; re_s=$WALL
  cp "$WORK/one.bak" "$C/$one"   # restore; the next index run puts it back
  "$B/opsbook-index" --handbook "$C" --db "$WORK/db-$N" >>"$LOG" 2>&1
  "$B/rawxap" update --corpus "$C" --db "$WORK/raw-$N" --file "$one" >>"$LOG" 2>&1
  T_RE+=$'\n'"| $N | $t_s | $e_s | $re_s | $(ratio "$re_s" "$e_s") |"

  echo "bench: N=$N: in-process search" >&2
  # as the server searches: its own copy up to 1,000 entries, a shared one up to 200,000,
  # past that the common terms' table
  ob=$("$B/obbench" --db "$WORK/db-$N" --queries bench/queries.txt --rounds 2 --memory 1000 \
    --shared 200000 | tee -a "$LOG")
  copy=$(sed -n 's/.*shared in memory (\([0-9.]*\) MB) after \([0-9]*\) ms/\1 MB, \2 ms/p
    s/.*common terms. table (\([0-9.]*\) MB) after \([0-9]*\) ms/table \1 MB, \2 ms/p' <<<"$ob")
  cmpl=$("$B/obbench" --db "$WORK/db-$N" --queries bench/queries.txt --compare | tee -a "$LOG")
  cmp=$(sed -n 's/.*overlap \([0-9.]*\), same first hit \([0-9.]*\),.*exact \([0-9.]*\), two-stage \([0-9.]*\)/\1 \/ \2 \/ \3 \/ \4/p' <<<"$cmpl")
  rx=$("$B/rawxap" search --db "$WORK/raw-$N" --queries bench/queries.txt --rounds 2 | tee -a "$LOG")
  oq=$(sed -n 's/.*, \([0-9.]*\) q\/s.*/\1/p' <<<"$ob")
  rq=$(sed -n 's/.*, \([0-9.]*\) q\/s.*/\1/p' <<<"$rx")
  T_SRCH+=$'\n'"| $N | $(field p50 <<<"$ob") | $(field p99 <<<"$ob") | $oq | $(field p50 <<<"$rx") | $(field p99 <<<"$rx") | $rq | $(ratio "$oq" "$rq") | $(field match <<<"$ob") / $(field snippet <<<"$ob") / $(field json <<<"$ob") / $(field gzip <<<"$ob") | $(field match <<<"$rx") / $(field snippet <<<"$rx") | $cmp | ${copy:-none} |"

  if [ "$HTTP" = 1 ]; then
    echo "bench: N=$N: HTTP" >&2
    for conns in 16 128; do
      # ours without the reply cache (every request searches), then with it
      start_server "$WORK/serve.log" "$B/opsbook-serve" --db "$WORK/db-$N" --handbook "$C" \
        --listen 127.0.0.1:0 --cache 0
      wait_copy "$URL"
      o=$(wrk_run "$URL" "$conns"); stop_server; o_rss=$SRSS
      start_server "$WORK/serve.log" "$B/opsbook-serve" --db "$WORK/db-$N" --handbook "$C" \
        --listen 127.0.0.1:0
      wait_copy "$URL"
      oc=$(wrk_run "$URL" "$conns"); stop_server
      start_server "$WORK/raw.log" "$B/rawxap" serve --db "$WORK/raw-$N" --listen 127.0.0.1:0
      r=$(wrk_run "$URL" "$conns"); stop_server; r_rss=$SRSS
      read -r orps op50 op99 oerr <<<"$o"
      read -r crps cp50 cp99 cerr <<<"$oc"
      read -r rrps rp50 rp99 rerr <<<"$r"
      [ "$oerr" = 0 ] || echo "bench: ours had $oerr socket errors or non-2xx answers" >&2
      [ "$cerr" = 0 ] || echo "bench: ours (cached) had $cerr socket errors or non-2xx answers" >&2
      T_HTTP+=$'\n'"| $N | $conns | $orps | $op50 | $op99 | $crps | $cp50 | $cp99 | $rrps | $rp50 | $rp99 | $(ratio "$orps" "$rrps") | $(ratio "$crps" "$rrps") | $o_rss | $r_rss |"
    done
  fi
done

if [ "$HTTP" = 1 ]; then
  start_server "$WORK/fixed.log" "$B/rawxap" serve --fixed --listen 127.0.0.1:0
  read -r frps fp50 fp99 _ <<<"$(wrk_run "$URL" 16)"
  stop_server
fi

echo
echo "### Indexing (ratio: ours ÷ raw Xapian)"
echo "$T_IDX"
echo
echo "### Re-index after touching (mtime only) or editing one file (ratio: raw ÷ ours)"
echo "$T_RE"
echo
echo "### Search in-process, bench/queries.txt twice, top 10 with snippets (ratio: ours ÷ raw)"
echo "$T_SRCH"
if [ "$HTTP" = 1 ]; then
  echo
  echo "### /api/search over HTTP, wrk -t2 $DUR, gzip (ratio: ours ÷ raw Xapian server)"
  echo "$T_HTTP"
  echo
  echo "HTTP ceiling (fixed 2 KB JSON body, libmicrohttpd, 16 connections): $frps req/s, p50 $fp50 ms, p99 $fp99 ms"
fi
echo
echo "index flush: every ${XAPIAN_FLUSH_THRESHOLD:-$(sed -n 's/^#define OB_FLUSH_ENTRIES "\([0-9]*\)".*/\1/p' core/index.h)} entries (XAPIAN_FLUSH_THRESHOLD; the raw indexer: Xapian's default unless set)"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/ {print $2}') GB; load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
