"""Shared helpers of the Python test drivers (Python 3 standard library only).

One copy of what tests/server/test_server.py, tests/lessons/test_lessons.py,
tests/hostile/test_hostile.py and tests/soak/*.py all need: a check counter,
opsbook-serve as a child process on port 0, HTTP request helpers, running a
command, and the one error shape of the API. A driver imports it with

    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "pylib"))
    import obtest
    from obtest import check
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import urllib.parse

PASSED = 0
FAILED = 0
_LOCK = threading.Lock()
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
ERROR_CTYPE = "application/json; charset=utf-8"


def check(cond, what):
    """Counts a check; prints FAIL and what on a failure. Returns cond.
    Safe to call from several threads."""
    global PASSED, FAILED
    with _LOCK:
        if cond:
            PASSED += 1
        else:
            FAILED += 1
            print(f"FAIL: {what}", flush=True)
    return cond


def summary():
    """Prints the counts; returns the exit status (1 when a check failed)."""
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


def q(s):
    """Percent-encodes s for a query-string value (nothing safe)."""
    return urllib.parse.quote(s, safe="")


def run(argv, stdin=None, timeout=60, **kw):
    """Runs a command to completion, output captured; stdin is the given
    bytes, or /dev/null when None."""
    if stdin is None:
        kw["stdin"] = subprocess.DEVNULL
    else:
        kw["input"] = stdin
    return subprocess.run(argv, capture_output=True, timeout=timeout, **kw)


def writable_handbook(index, lesson, src, hb, db, tokens, reviewer, lang_args=(),
                      timeout=600):
    """Copies the handbook src to hb, indexes it into db and makes a
    reviewer token in the tokens file; returns the token. Exits with the
    tool's message when a step fails."""
    shutil.copytree(src, hb)
    st = run([index, "--handbook", hb, "--db", db] + list(lang_args), timeout=timeout)
    if st.returncode != 0:
        raise SystemExit("indexing failed: " + st.stderr.decode())
    os.makedirs(os.path.dirname(tokens), exist_ok=True)
    st = run([lesson, "--tokens", tokens, "--new-token", reviewer])
    if st.returncode != 0:
        raise SystemExit("--new-token failed: " + st.stderr.decode())
    return st.stdout.decode().strip()


class Server:
    """opsbook-serve as a child process; stderr is drained by a thread into
    self.lines (the last `keep` lines when keep is given, else all).

    start_timeout: seconds to wait for "listening on http://127.0.0.1:PORT";
    request_timeout: the default socket timeout of request().
    Both are multiplied by OB_TIMEOUT_SCALE when it is set (valgrind_run.py
    sets it: under memcheck, on a 2-core machine shared with the fuzzer, a
    start can take longer than the 20 s a plain build never comes near)."""

    def __init__(self, argv, start_timeout=30, request_timeout=10, keep=None):
        scale = float(os.environ.get("OB_TIMEOUT_SCALE", "1"))
        start_timeout *= scale
        request_timeout *= scale
        self.lines = []
        self.port = None
        self.keep = keep
        self.request_timeout = request_timeout
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        ready = threading.Event()

        def drain():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.lines.append(line)
                if self.keep and len(self.lines) > 2 * self.keep:
                    del self.lines[:-self.keep]
                m = LISTENING.fullmatch(line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()
        ready.wait(start_timeout)
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("server did not start:\n" + "\n".join(self.lines[-20:]))

    @property
    def pid(self):
        return self.proc.pid

    def request(self, method, path, headers=None, body=None, timeout=None):
        """One request on a new connection: (status, {lower-case header: value}, body)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout or self.request_timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def json(self, path):
        """GET path; the body parsed as JSON: (status, headers, value)."""
        st, h, body = self.get(path)
        return st, h, json.loads(body.decode("utf-8"))

    def post(self, path, obj=None, token=None, raw=None, headers=None):
        """POST obj as JSON (or raw bytes), with a bearer token when given."""
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        body = raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return self.request("POST", path, h, body)

    def connect(self, timeout=10):
        """A raw TCP connection to the server (the caller closes it)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def rss_kb(self):
        """The server's resident memory (VmRSS) in kB; 0 when it is gone."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig (if still running) and waits; returns the exit status,
        or "timeout" when it had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.reader.join(5)
        return rc


def is_error(st, h, body, status, code=None):
    """The one error shape: status, JSON {"error": {"code", "message"}} with
    a Chinese message, and the JSON content type."""
    ok = check(st == status, f"status {st} != {status}: {body[:300]!r}")
    try:
        e = json.loads(body.decode("utf-8"))["error"]
        ok &= check(isinstance(e["code"], str) and isinstance(e["message"], str), "error shape")
        ok &= check(re.search("[\u4e00-\u9fff]", e["message"]) is not None,
                    f"Chinese message: {e['message']}")
        if code:
            ok &= check(e["code"] == code, f"error code {e['code']} != {code} ({e['message']})")
    except (ValueError, KeyError, TypeError):
        ok &= check(False, f"error body is not the error JSON: {body[:200]!r}")
    ok &= check(h.get("content-type") == ERROR_CTYPE, f"error content type {h.get('content-type')}")
    return ok
