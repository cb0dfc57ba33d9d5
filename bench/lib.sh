# shellcheck shell=bash
# bench/lib.sh - helpers the bench scripts share; source it.

# ob_listen_url LOG PID [SECONDS]: waits until the server PID writes its
# "listening on http://ADDR:PORT" line to LOG (default: up to 30 s) and
# prints the URL. Returns 1, with the log on stderr, when the server exits
# first or never listens.
ob_listen_url() {
  local log=$1 pid=$2 tries=$(( ${3:-30} * 10 )) url=""
  for _ in $(seq "$tries"); do
    url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$log" | head -1)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: the server did not start" >&2
  return 1
}

# ob_stop PID: SIGTERM (finish requests in flight) and wait; no-op for "".
ob_stop() {
  [ -n "${1:-}" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# ob_scratch: sets tmp to a new temporary folder and pid to "", and traps
# EXIT to stop the server in pid (when a script has started one) and
# remove tmp.
ob_scratch() {
  # shellcheck disable=SC2034 # both are the calling script's variables
  tmp=$(mktemp -d)
  pid=""
  trap 'ob_stop "$pid"; rm -rf "$tmp"' EXIT
}

# ob_wait_idle URL: waits (up to 5 s) until the server's earlier connections
# are closed. A load test's connections stay open on the server until the
# requests they had in flight are answered; a run started at once would
# find them still counted against the per-address limit (256) and have
# some of its own refused. A server without opsbook_connections_open in
# /metrics (the raw baselines) returns at once.
ob_wait_idle() {
  python3 - "$1" <<'PY'
import re, sys, time, urllib.request
for _ in range(50):
    try:
        body = urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=2).read().decode()
    except Exception:
        break
    m = re.search(r"^opsbook_connections_open (\d+)$", body, re.M)
    if not m or int(m.group(1)) <= 1:  # this request's own connection
        break
    time.sleep(0.1)
PY
}
