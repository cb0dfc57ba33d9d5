#!/usr/bin/env python3
"""Hostile HTTP against the real opsbook-serve (raw sockets, stdlib only).

Indexes the fixture handbook, starts the server on port 0 and sends what a
hostile or broken client sends: over-long request lines and headers, a
10,000-character query, invalid UTF-8 and %00 in query and path, "..",
%2e%2e and backslash escapes, absurd Content-Length values, bodies over the
cap (declared and chunked), slowloris (idle and trickling connections),
more connections than the per-IP limit, a server out of file descriptors,
HTTP/1.0 and HTTP/0.9, pipelined
requests and unknown methods. Each must get the right 4xx or a closed
connection, a normal search must work after each, and the server's
resident memory (VmRSS) must stay flat over 2,000 hostile requests.

The slowloris checks need the server's 30 s idle timeout to pass: they
run in threads beside the rest, so the whole test takes about 40 s.

usage: test_hostile.py --serve BIN --index BIN --fixtures DIR [--lang DIR]
                       [--quick] [--requests N] [--no-rss]

With a tokens file (servers that have write routes) the write routes get
hostile tokens, bodies and lesson texts too. Under valgrind, pass
tests/hostile/valgrind_serve.sh as --serve (see valgrind_run.py).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import obtest  # noqa: E402
from obtest import check, q  # noqa: E402

NOTES = []
LOCK = threading.Lock()
IDLE_TIMEOUT = 30  # CONNECTION_TIMEOUT_S in server/srv.c
PER_IP = 256  # PER_IP_CONNECTION_LIMIT in server/srv.c


def note(what):
    with LOCK:
        NOTES.append(what)
        print(f"NOTE: {what}", flush=True)


class Server(obtest.Server):
    def __init__(self, argv):
        super().__init__(argv, start_timeout=120)


def parse_responses(data):
    """Splits raw bytes into [(status, headers, body)] by Content-Length."""
    out = []
    while data:
        he = data.find(b"\r\n\r\n")
        if he < 0 or not data.startswith(b"HTTP/"):
            break
        head = data[:he].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/\d\.\d (\d{3})", head[0])
        status = int(m.group(1)) if m else 0
        headers = {}
        for h in head[1:]:
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        try:
            n = int(headers.get("content-length", "0") or 0)
        except ValueError:
            n = 0
        if len(data) < he + 4 + n:
            break  # not all of it yet
        body = data[he + 4:he + 4 + n]
        out.append((status, headers, body))
        data = data[he + 4 + n:]
    return out


def exchange(srv, raw, timeout=5, shut=False, expect=1):
    """Sends raw bytes; reads until the server closes, `expect` responses
    have come, or timeout. Returns (responses, closed)."""
    s = srv.connect(timeout)
    data = b""
    closed = False
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading it all
        if shut:
            s.shutdown(socket.SHUT_WR)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            data += b
            if len(parse_responses(data)) >= expect:
                break
    finally:
        s.close()
    return parse_responses(data), closed


def get(srv, path, headers=None, version="HTTP/1.1", method="GET"):
    h = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    raw = f"{method} {path} {version}\r\nHost: t\r\nConnection: close\r\n{h}\r\n".encode()
    rs, closed = exchange(srv, raw)
    return rs[0] if rs else (0, {}, b"")


def error_code(body):
    try:
        return json.loads(body.decode("utf-8"))["error"]["code"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def error_message(body):
    try:
        return json.loads(body.decode("utf-8"))["error"]["message"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def search_ok(srv, after):
    st, h, body = get(srv, "/api/search?q=" + q("机房温度"))
    ok = st == 200
    if ok:
        try:
            ok = len(json.loads(body)["results"]) > 0
        except (ValueError, KeyError):
            ok = False
    return check(ok, f"a normal search works after {after} (status {st})")


def expect_status(srv, what, raw, allowed, code=None, close_ok=True, timeout=5, shut=False):
    """One hostile request: the first response's status must be in allowed
    (or the connection closed without one, when close_ok)."""
    rs, closed = exchange(srv, raw, timeout=timeout, shut=shut)
    print(f"  {what}: {rs[0][0] if rs else 'closed' if closed else 'no answer'}", flush=True)
    if rs:
        st, h, body = rs[0]
        ok = check(st in allowed, f"{what}: status {st}, want {sorted(allowed)}: {body[:120]!r}")
        if ok and code is not None:
            check(error_code(body) == code, f"{what}: error code {error_code(body)} != {code}")
        if ok and st >= 400 and h.get("content-type", "").startswith("application/json"):
            msg = error_message(body)
            check(bool(msg) and re.search("[\u4e00-\u9fff]", msg),
                  f"{what}: error message is not user text: {msg!r}")
    else:
        check(close_ok and closed, f"{what}: neither an answer nor a close")
    return rs


# ---- the cases ----

def case_long_request_line(srv):
    raw = b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    expect_status(srv, "100 KB request line", raw, {414, 400, 431})
    raw = b"GET /api/search?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    expect_status(srv, "70 KB query string", raw, {414, 400, 431})
    search_ok(srv, "over-long request lines")


def case_long_headers(srv):
    raw = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n"
    expect_status(srv, "100 KB header", raw, {431, 400, 413})
    hs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(300))
    raw = b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + hs + b"\r\n"
    expect_status(srv, "300 headers of 500 B", raw, {431, 400, 413})
    search_ok(srv, "over-long headers")


def case_long_query(srv):
    st, h, body = get(srv, "/api/search?q=" + "a" * 10_000)
    check(st == 400 and error_code(body) == "bad_query", f"10,000-char ASCII query: {st}")
    # 10,000 CJK characters are 90 KB percent-encoded: past the 64 KiB a
    # connection may hold, libmicrohttpd refuses the request line
    raw = ("GET /api/search?q=" + q("机" * 10_000) + " HTTP/1.1\r\nHost: t\r\n\r\n").encode()
    expect_status(srv, "10,000-char CJK query", raw, {414, 400, 431})
    st, h, body = get(srv, "/api/search?q=" + q("机" * 3000))
    check(st == 400 and error_code(body) == "bad_query", f"3,000-char CJK query: {st}")
    st, h, body = get(srv, "/api/answer?q=" + "b" * 10_000)
    check(st == 400 and error_code(body) == "bad_query", f"10,000-char /api/answer: {st}")
    search_ok(srv, "long queries")


def case_bad_bytes(srv):
    for what, path in [
        ("invalid UTF-8 in q", "/api/search?q=%FF%FE"),
        ("overlong UTF-8 in q", "/api/search?q=%C0%AF"),
        ("surrogate in q", "/api/search?q=%ED%A0%80"),
        ("%00 in q", "/api/search?q=a%00b"),
        ("lone %00 q", "/api/search?q=%00"),
        ("truncated UTF-8 in q", "/api/search?q=%E6%9C"),
    ]:
        st, h, body = get(srv, path)
        check(st == 400 and error_code(body) == "bad_query", f"{what}: {st} {body[:100]!r}")
        check(bool(error_message(body)), f"{what}: empty message")
    for what, path in [
        ("invalid UTF-8 in category", "/api/search?q=a&category=%FF"),
        ("%00 in tag", "/api/search?q=a&tag=x%00y"),
        ("%00 in limit", "/api/search?q=a&limit=1%00"),
        ("huge limit", "/api/search?q=a&limit=99999999999999999999"),
        ("negative offset", "/api/search?q=a&offset=-1"),
        ("bad type", "/api/search?q=a&type=%00sop"),
    ]:
        st, h, body = get(srv, path)
        check(st == 400 and error_code(body) == "bad_param", f"{what}: {st} {body[:100]!r}")
    for what, path in [
        ("%00 in a doc id", "/api/docs/phrase-fault-repeated%00"),
        ("%00 in a static path", "/index.html%00.js"),
        ("invalid UTF-8 in a doc id", "/api/docs/%FF"),
        ("invalid UTF-8 in a static path", "/%FF%FE"),
    ]:
        st, h, body = get(srv, path)
        check(st == 404 and error_code(body) == "not_found", f"{what}: {st} {body[:100]!r}")
    # raw bytes that are not URL characters at all
    expect_status(srv, "raw 0xFF in the path", b"GET /\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n",
                  {400, 404})
    expect_status(srv, "raw NUL in the path", b"GET /a\x00b HTTP/1.1\r\nHost: t\r\n\r\n",
                  {400, 404})
    expect_status(srv, "raw NUL in a header", b"GET /healthz HTTP/1.1\r\nHost: t\x00x\r\n\r\n",
                  {200, 400})
    # NFKC grows U+FDFA to 18 characters: a valid 125-character query
    st, h, body = get(srv, "/api/search?q=" + q("\ufdfa" * 125))
    check(st in (200, 400), f"U+FDFA x 125: status {st}")
    msg = error_message(body) if st == 400 else "查询"
    check(bool(msg) and re.search("[\u4e00-\u9fff]", msg),
          f"U+FDFA x 125: the 400's message is {msg!r}, not a message for the user: stack "
          "bytes (core/text.c ob_text_normalize leaves err unset; core/search.c "
          "ob_query_build's buffer is smaller than NFKC's growth)")
    search_ok(srv, "invalid UTF-8 and NUL")


def case_escapes(srv):
    paths = ["/../etc/passwd", "/..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
             "/%2E%2E/%2E%2E/etc/passwd", "/.%2e/etc/passwd", "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
             "/..\\..\\etc\\passwd", "/./index.html", "/%2e/index.html", "//etc/passwd",
             "/.hidden", "/%2ehidden", "/api/docs/../../etc/passwd",
             "/api/docs/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/docs/..", "/web/../../../etc/shadow",
             "/%252e%252e/etc/passwd", "/index.html/..", "/%c0%ae%c0%ae/etc/passwd"]
    for p in paths:
        raw = f"GET {p} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
        rs = expect_status(srv, f"escape {p}", raw, {400, 404})
        if rs:
            check(b"root:" not in rs[0][2], f"escape {p}: leaked a system file")
    search_ok(srv, "path escapes")


def case_content_length(srv):
    for cl in ["99999999999999999999", "18446744073709551616", "18446744073709551615",
               "-1", "1e9", " 70000", "0x10", "65537"]:
        raw = (f"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: {cl}\r\n\r\n").encode()
        expect_status(srv, f"Content-Length {cl!r}", raw, {400, 413})
    raw = (b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
           b"Content-Length: 70000\r\n\r\nhello")
    expect_status(srv, "two Content-Lengths", raw, {400, 405, 413})
    raw = (b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    expect_status(srv, "Content-Length and chunked", raw, {400, 405, 413})
    raw = (b"POST /api/search HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
           b"Content-Length: 1000000000\r\n\r\n")
    rs = expect_status(srv, "Expect: 100-continue with 1 GB", raw, {413, 400})
    if rs:
        check(rs[0][0] != 100, "a 1 GB body was invited with 100 Continue")
    search_ok(srv, "absurd Content-Length")


def case_big_body(srv):
    body = b"x" * (70 * 1024)
    raw = (b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    expect_status(srv, "70 KiB body", raw, {413}, code="too_large")
    # chunked: the size is only known while reading
    chunk = b"x" * 8192
    raw = b"POST /api/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw += b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    expect_status(srv, "80 KiB chunked body", raw, {413}, code="too_large")
    # a chunk size that overflows
    raw = (b"POST /api/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"ffffffffffffffffffff\r\nx\r\n0\r\n\r\n")
    expect_status(srv, "overflowing chunk size", raw, {400, 413})
    search_ok(srv, "large bodies")


def case_versions_methods(srv):
    rs, closed = exchange(srv, b"GET /healthz HTTP/1.0\r\n\r\n", expect=2, timeout=3)
    check(rs and rs[0][0] == 200, "HTTP/1.0 gets 200")
    check(closed, "HTTP/1.0 without keep-alive is closed after the answer")
    expect_status(srv, "HTTP/0.9", b"GET /healthz\r\n\r\n", {400, 505})
    expect_status(srv, "HTTP/2.0", b"GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", {400, 505})
    expect_status(srv, "HTTP/1.1 without Host", b"GET /healthz HTTP/1.1\r\n\r\n", {400, 200})
    expect_status(srv, "garbage version", b"GET /healthz HTXP/1.1\r\nHost: t\r\n\r\n", {400, 505})
    for m in ["BREW", "DELETE", "PUT", "OPTIONS", "TRACE", "CONNECT", "PATCH", "PROPFIND"]:
        raw = f"{m} /api/search?q=a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode()
        rs = expect_status(srv, f"method {m}", raw, {405, 400, 501}, close_ok=(m == "CONNECT"))
        if rs and rs[0][0] == 405:
            check(rs[0][1].get("allow", "").startswith("GET"), f"{m}: 405 without Allow")
    expect_status(srv, "method with control bytes", b"G\x01T / HTTP/1.1\r\nHost: t\r\n\r\n",
                  {400, 405, 501})
    expect_status(srv, "8 KB method", b"X" * 8192 + b" / HTTP/1.1\r\nHost: t\r\n\r\n",
                  {400, 405, 414, 501})
    search_ok(srv, "odd versions and methods")


def case_pipelined(srv):
    one = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
    q2 = ("GET /api/search?q=" + q("宽带") + " HTTP/1.1\r\nHost: t\r\n\r\n").encode()
    last = b"GET /api/categories HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    rs, closed = exchange(srv, one + q2 + b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" + last,
                          expect=4)
    check([r[0] for r in rs] == [200, 200, 404, 200],
          f"pipelined requests answered in order: {[r[0] for r in rs]}")
    # a broken request in the middle of a pipeline
    rs, closed = exchange(srv, one + b"BAD\r\n\r\n" + one, expect=3)
    check(rs and rs[0][0] == 200 and (len(rs) == 1 or rs[1][0] == 400),
          f"pipeline with a broken request: {[r[0] for r in rs]}")
    # 100 pipelined searches in one write
    rs, closed = exchange(srv, q2 * 99 + last.replace(b"categories", b"search?q=a"), expect=100,
                          timeout=20)
    check(len(rs) == 100 and all(r[0] == 200 for r in rs),
          f"100 pipelined searches: {len(rs)} answers")
    search_ok(srv, "pipelining")


def case_per_ip(srv):
    socks = []
    refused = 0
    try:
        for i in range(PER_IP + 44):
            try:
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                socks.append(s)
            except OSError:
                refused += 1
        time.sleep(0.5)
        # the server closes what is over the limit at once
        dropped = 0
        for s in socks:
            s.setblocking(False)
            try:
                b = s.recv(1)
                if b == b"":
                    dropped += 1
            except BlockingIOError:
                pass
            except (ConnectionResetError, OSError):
                dropped += 1
        over = dropped + refused
        print(f"  per-IP limit: {len(socks) + refused} connections, {over} refused or dropped")
        check(over >= 40, f"per-IP limit: {over} of {len(socks) + refused} connections over "
              f"the limit of {PER_IP} dropped")
        # those within the limit still work
        s = socks[0]
        s.setblocking(True)
        s.settimeout(5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        except OSError:
            pass
        check(data.startswith(b"HTTP/1.1 200"), "a connection within the per-IP limit is served")
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    search_ok(srv, "the per-IP limit")


def case_out_of_descriptors(a, db, hb, web, lang):
    """A server out of file descriptors (RLIMIT_NOFILE 64): connections past
    the limit wait in the listen backlog, the server keeps running, and once
    the clients let go it serves again."""
    wrap = [sys.executable, "-c",
            "import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
            "os.execv(sys.argv[1], sys.argv[1:])"]
    srv = Server(wrap + [a.serve, "--db", db, "--handbook", hb, "--web", web,
                         "--listen", "127.0.0.1:0", "--threads", "2"] + lang)
    socks = []
    try:
        search_ok(srv, "start-up with 64 descriptors")
        for _ in range(120):
            try:
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
            except OSError:
                break
        time.sleep(0.5)
        fds = len(os.listdir(f"/proc/{srv.pid}/fd")) if srv.proc.poll() is None else 0
        print(f"  out of descriptors: {len(socks)} idle connections, the server holds {fds} fds")
        check(fds >= 60, f"the server ran out of descriptors ({fds} open of 64)")
        check(srv.proc.poll() is None, "out of descriptors: the server is still running")
        for s in socks:
            s.close()
        socks = []
        deadline = time.monotonic() + 15
        st = 0
        while st != 200 and time.monotonic() < deadline:
            st = get(srv, "/api/search?q=" + q("机房温度"))[0]
            if st != 200:
                time.sleep(0.2)
        check(st == 200, f"served again once the idle connections closed (status {st})")
        search_ok(srv, "running out of descriptors")
    finally:
        for s in socks:
            s.close()
        rc = srv.stop()
        check(rc == 0, f"the 64-descriptor server stops cleanly: {rc}")


TOKEN = "hostile-token"
TIME_SCALE = 1.0  # seconds a hostile write may hold a worker; 0: not checked


def post(srv, path, body, token=TOKEN, extra=b"", timeout=10):
    if isinstance(body, str):
        body = body.encode()
    auth = b"Authorization: Bearer %s\r\n" % token.encode() if token is not None else b""
    raw = (b"POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s%s"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
           % (path.encode(), auth, extra, len(body))) + body
    t0 = time.monotonic()
    rs, closed = exchange(srv, raw, timeout=timeout)
    took = time.monotonic() - t0
    st, h, b = rs[0] if rs else (0, {}, b"")
    return st, h, b, took


def case_writes(srv):
    """The write routes: tokens, bodies and lesson texts that try to hurt."""
    path = "/api/docs/fault-repeated-broadband/lessons"
    good = json.dumps({"author": "张三", "text": "先查空调。"}, ensure_ascii=False)
    for what, token, want, code in [
        ("no token", None, 401, "unauthorized"),
        ("wrong token", "not-the-token", 401, "unauthorized"),
        ("10 KB token", "t" * 10_000, 401, "unauthorized"),
        ("a prefix of the token", TOKEN[:-1], 401, "unauthorized"),
        ("the token and more", TOKEN + "x", 401, "unauthorized"),
        ("two tokens", TOKEN + " " + TOKEN, 401, "unauthorized"),
    ]:
        st, h, b, _ = post(srv, path, good, token=token)
        print(f"  write, {what}: {st}")
        check(st == want and error_code(b) == code, f"write, {what}: {st} {b[:100]!r}")
        if st == 401:
            check(h.get("www-authenticate", "").startswith("Bearer"), f"{what}: WWW-Authenticate")
    for what, body, want in [
        ("not JSON", "{author:", {400}),
        ("JSON nested 60,000 deep", "[" * 60_000, {400}),
        ("a JSON array", "[]", {400}),
        ("duplicate keys", '{"author":"a","text":"x","text":"y"}', {400}),
        ("a number for text", '{"author":"a","text":1}', {400}),
        ("\\u0000 in text", '{"author":"a","text":"a\\u0000b"}', {400}),
        ("invalid UTF-8", b'{"author":"a","text":"\xff"}', {400}),
        ("author with a newline", '{"author":"a\\nb","text":"x"}', {400}),
        ("author of 10,000 characters", json.dumps({"author": "a" * 10_000, "text": "x"}),
         {400}),
        ("text of 20 KB", json.dumps({"author": "a", "text": "字" * 7000}), {400, 413}),
        ("text with an open code fence", json.dumps({"author": "a", "text": "```\nx"}), {400}),
        ("text with a ## heading", json.dumps({"author": "a", "text": "## 新节\nx"}), {400}),
        ("bad date", json.dumps({"author": "a", "text": "x", "date": "2024-02-30"}), {400}),
        ("body of 70 KiB", json.dumps({"author": "a", "text": "x" * 70_000}), {413}),
    ]:
        st, h, b, _ = post(srv, path, body)
        print(f"  write, {what}: {st}")
        check(st in want, f"write, {what}: {st}, want {sorted(want)}: {b[:120]!r}")
    # cmark's slow shapes at the lesson cap must not hold the worker (1 s);
    # not under valgrind (--time-limit 0), where they take minutes
    nested = " -" * 4096 + "x" + "\n" * 8190 + "b"  # 16 KiB: CVE-2023-24824
    for what, text in [] if not TIME_SCALE else [
        ("nested lists ' -' x 8000", " -" * 8000 + "x" + "\n" * 100),
        ("' -' x 4096 then 8190 blank lines", nested),
        ("'![[]()' x 2700", "![[]()" * 2700),
        ("'>' x 8000 'a*' x 4000", ">" * 8000 + "a*" * 4000),
    ]:
        st, h, b, took = post(srv, path, json.dumps({"author": "a", "text": text}))
        print(f"  write, {what}: {st} in {took:.2f} s")
        check(st in (400, 413), f"write, {what}: {st} {b[:120]!r}")
        check(not TIME_SCALE or took < TIME_SCALE, f"write, {what}: took {took:.2f} s")
    # a fault has six Markdown fields, each checked with cmark: two such
    # fields fit in a 64 KiB body
    if TIME_SCALE:
        st, h, b, took = post(srv, "/api/faults", json.dumps(
            {"title": "t", "severity": "一般", "symptoms": nested, "timeline": nested,
             "cause": "x", "handling": "x", "result": "x"}))
        print(f"  write, fault with two nested-list fields: {st} in {took:.2f} s")
        check(st in (400, 413), f"fault with two nested-list fields: {st}")
        check(took < TIME_SCALE,
              f"fault with two nested-list fields took {took:.2f} s of a worker (core/lesson.c "
              "ob_lesson_check_markdown parses each field with cmark before any nesting limit)")
    st, h, b, _ = post(srv, "/api/faults", json.dumps({"title": "t", "severity": "一般",
                                                        "tags": ["x"] * 1000}))
    print(f"  write, fault with 1,000 tags: {st}")
    check(st in (400, 413), f"fault with 1,000 tags: {st}")
    # GET on a write route
    st, h, b = get(srv, path)
    check(st == 405 and "POST" in h.get("allow", ""), f"GET on a write route: {st}")
    search_ok(srv, "hostile writes")


def case_lesson_breaks_search(srv):
    """A reviewer's lesson must not break searches (NFKC grows U+FDFA 11x)."""
    path = "/api/docs/fault-repeated-broadband/lessons"
    st, h, b, _ = post(srv, path, json.dumps({"author": "a", "text": "宽带断线" + "\ufdfa" * 60}))
    print(f"  write, lesson of U+FDFA: {st}")
    if st == 201:
        st, h, body = get(srv, "/api/search?q=" + q("宽带断线") + "&limit=50")
        check(st == 200, f"a search after a lesson of U+FDFA: {st} {body[:120]!r} (core/search.c "
              "ob_snippet: the normalised text outgrows its 8x buffer and the whole search "
              "fails)")


def slowloris(srv, results):
    """Idle and trickling connections, in the background (30 s timeout)."""
    t0 = time.monotonic()
    idle = srv.connect(timeout=IDLE_TIMEOUT + 15)
    half = srv.connect(timeout=IDLE_TIMEOUT + 15)
    half.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # never ends its head
    trickle = srv.connect(timeout=5)
    trickle.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
    body = srv.connect(timeout=IDLE_TIMEOUT + 15)
    body.sendall(b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc")

    def wait_close(s, name):
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
        except OSError:
            pass
        results[name] = time.monotonic() - t0

    ts = [threading.Thread(target=wait_close, args=(s, n), daemon=True)
          for s, n in [(idle, "idle"), (half, "half head"), (body, "half body")]]
    for t in ts:
        t.start()
    # one byte every 2 s: each resets an idle timeout
    trickle_closed = None
    while time.monotonic() - t0 < IDLE_TIMEOUT + 8:
        time.sleep(2)
        try:
            trickle.sendall(b"x")
        except OSError:
            trickle_closed = time.monotonic() - t0
            break
    results["trickle"] = trickle_closed
    for t in ts:
        t.join(15)
    for s in (idle, half, trickle, body):
        s.close()


def hostile_mix(srv, n):
    """n quick hostile requests, cycling through a few kinds."""
    kinds = [
        b"GET /api/search?q=%FF HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /api/search?q=" + b"a" * 3000 + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n",
        b"BREW /api/search HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /api/docs/%00 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ("GET /api/search?q=" + q("宽带老是断 ﷺ") + "&limit=50 HTTP/1.1\r\nHost: t\r\n"
         "Connection: close\r\n\r\n").encode(),
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nX: " + b"y" * 70000 + b"\r\n\r\n",
        b"GET /api/answer?q=%E6%9C%BA%E6%88%BF HTTP/1.0\r\n\r\n",
    ]
    answered = 0
    for i in range(n):
        rs, closed = exchange(srv, kinds[i % len(kinds)], timeout=5)
        if rs or closed:
            answered += 1
    return answered


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--lang")
    ap.add_argument("--quick", action="store_true", help="no slowloris (under valgrind)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=1.0,
                    help="seconds a hostile write may take (0: not checked; sanitizers, valgrind)")
    ap.add_argument("--no-rss", action="store_true",
                    help="report VmRSS but do not check it (ASan's quarantine grows it)")
    a = ap.parse_args()
    global TIME_SCALE
    TIME_SCALE = a.time_limit
    lang = ["--lang", a.lang] if a.lang else []
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="opsbook-hostile-")
    srv = None
    try:
        hb = os.path.join(tmp, "handbook")
        db = os.path.join(tmp, "db")
        web = os.path.join(tmp, "web")
        shutil.copytree(a.fixtures, hb)
        os.makedirs(web)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>t</title>")
        with open(os.path.join(tmp, "secret.txt"), "w") as f:
            f.write("root:x:0:0\n")
        r = subprocess.run([a.index, "--handbook", hb, "--db", db] + lang, capture_output=True)
        if r.returncode != 0:
            raise SystemExit("indexing failed: " + r.stderr.decode())
        writes = b"--tokens" in subprocess.run([a.serve, "--help"], capture_output=True).stdout
        extra = []
        if writes:
            tokens = os.path.join(tmp, "tokens")
            with open(tokens, "w") as f:
                f.write(f"hostile {hashlib.sha256(TOKEN.encode()).hexdigest()}\n")
            os.chmod(tokens, 0o600)
            extra = ["--tokens", tokens]
        srv = Server([a.serve, "--db", db, "--handbook", hb, "--web", web,
                      "--listen", "127.0.0.1:0", "--threads", "2"] + lang + extra)
        search_ok(srv, "start-up")
        slow = {}
        slow_thread = None
        if not a.quick:
            slow_thread = threading.Thread(target=slowloris, args=(srv, slow), daemon=True)
            slow_thread.start()
        for case in (case_long_request_line, case_long_headers, case_long_query, case_bad_bytes,
                     case_escapes, case_content_length, case_big_body, case_versions_methods,
                     case_pipelined):
            case(srv)
        if writes:
            case_writes(srv)

        # memory: warm up, then 2,000 hostile requests
        hostile_mix(srv, 200)
        rss0 = srv.rss_kb()
        n = hostile_mix(srv, a.requests)
        rss1 = srv.rss_kb()
        check(n == a.requests, f"{a.requests - n} hostile requests got neither answer nor close")
        growth = rss1 - rss0
        print(f"VmRSS {rss0} kB before, {rss1} kB after {a.requests} hostile requests "
              f"({growth:+d} kB)")
        if not a.no_rss:
            check(growth < 8 * 1024, f"VmRSS grew {growth} kB over {a.requests} hostile requests")
        search_ok(srv, "2,000 hostile requests")

        case_per_ip(srv)
        if not a.quick:  # valgrind needs descriptors of its own
            case_out_of_descriptors(a, db, hb, web, lang)
        if writes:
            case_lesson_breaks_search(srv)
        if slow_thread:
            slow_thread.join(IDLE_TIMEOUT + 30)
            for name in ("idle", "half head", "half body"):
                t = slow.get(name)
                check(t is not None and t < IDLE_TIMEOUT + 6,
                      f"{name} connection dropped at the {IDLE_TIMEOUT} s timeout "
                      f"(after {t if t is None else round(t, 1)} s)")
            t = slow.get("trickle")
            check(t is not None and t < IDLE_TIMEOUT + 8,
                  f"a connection trickling one header byte every 2 s is cut at the {IDLE_TIMEOUT} s "
                  f"request deadline (after {t if t is None else round(t, 1)} s; "
                  f"libmicrohttpd's own timeout is an idle timeout)")
            st, _, body = srv.get("/metrics")
            m = re.search(rb"opsbook_slow_connections_cut_total (\d+)", body)
            check(st == 200 and m and int(m.group(1)) >= 1,
                  f"the cut is counted in /metrics: {m and m.group(0)}")
            search_ok(srv, "slowloris")
        check(srv.proc.poll() is None, "the server is still running")
    finally:
        if srv is not None:
            if srv.proc.poll() is None:
                srv.proc.terminate()
            try:
                rc = srv.proc.wait(60)
            except subprocess.TimeoutExpired:
                srv.proc.kill()
                rc = "killed"
            srv.reader.join(5)
            # SIGTERM is a clean stop (valgrind_serve.sh: 99 when it found errors)
            check(rc == 0, f"server exit status after SIGTERM: {rc}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"hostile: {time.monotonic() - t0:.1f} s")
    return obtest.summary()


if __name__ == "__main__":
    sys.exit(main())
