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
