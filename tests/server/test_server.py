#!/usr/bin/env python3
"""Integration test of opsbook-serve: the real binary on port 0, real HTTP.

Indexes the fixture handbook into a temporary db, starts the server and
checks every route, every error status, path escapes, gzip, ETag/304,
searches during three --rebuild runs, a re-index picked up without a
restart, and a clean SIGTERM. Python 3 standard library only.

usage: test_server.py --serve BIN --index BIN --fixtures DIR [--lang DIR]
"""
import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import obtest  # noqa: E402
from obtest import check, is_error, q, run  # noqa: E402


class Server(obtest.Server):
    def __init__(self, argv):
        super().__init__(argv, start_timeout=20, request_timeout=10)


def test_startup_failures(a, tmp, base):
    st = run([a.serve, "--help"])
    check(st.returncode == 0, "--help exits 0")
    for flag in ("--db", "--handbook", "--listen", "--web", "--threads", "--lang"):
        check(flag in st.stdout.decode(), f"--help explains {flag}")
    st = run([a.serve, "--db", base["db"], "--handbook", base["hb"], "--bogus"])
    check(st.returncode == 2 and len(st.stderr.decode().strip().splitlines()) == 1,
          "unknown flag: exit 2 with one line")
    st = run([a.serve, "--db", base["db"], "--handbook", base["hb"], "--threads", "0"])
    check(st.returncode == 2, "--threads 0 refused")
    empty = os.path.join(tmp, "nodb")
    os.mkdir(empty)
    st = run([a.serve, "--db", empty, "--handbook", base["hb"], "--listen", "127.0.0.1:0"])
    err = st.stderr.decode().strip()
    check(st.returncode == 1 and len(err.splitlines()) == 1 and "index" in err,
          f"missing index refused with one line: {err!r}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        st = run([a.serve, "--db", base["db"], "--handbook", base["hb"],
                  "--listen", f"127.0.0.1:{port}"] + base["extra"])
        err = st.stderr.decode().strip()
        check(st.returncode == 1 and len(err.splitlines()) == 1 and "in use" in err,
              f"port taken refused with one line: {err!r}")
    st = run([a.serve, "--db", base["db"], "--handbook", base["hb"], "--listen", "nonsense"])
    check(st.returncode != 0 and "--listen" in st.stderr.decode(), "bad --listen refused")


def test_search(s):
    st, h, r = s.json("/api/search?q=" + q("机房温度"))
    check(st == 200, "search 200")
    check(h.get("content-type") == "application/json; charset=utf-8", "search content type")
    check(h.get("cache-control") == "no-cache", "API Cache-Control no-cache")
    check(set(r) == {"query", "total", "took_ms", "results"}, f"search keys {sorted(r)}")
    check(r["query"] == "机房温度" and r["total"] >= 1 and r["results"], "search found")
    top = r["results"][0]
    for k in ("id", "type", "title", "section", "category", "path", "snippet", "score", "url",
              "slots"):
        check(k in top, f"search result has {k}")
    check(top["id"] == "sop-idc-environment", f"top hit {top['id']}")
    check(top["url"] == "/api/docs/sop-idc-environment#" + top.get("anchor", "?"),
          f"url with anchor {top['url']}")
    check("<mark>" in top["snippet"], "snippet highlights")
    st, _, r = s.json("/api/search?limit=1&q=" + q("宽带"))
    check(st == 200 and len(r["results"]) == 1, "limit=1")
    st, _, r2 = s.json("/api/search?limit=1&offset=1&q=" + q("宽带"))
    check(st == 200 and len(r2["results"]) == 1 and r2["results"][0] != r["results"][0],
          "offset=1 moves on")
    st, _, r = s.json("/api/search?type=phrase&q=" + q("宽带断了"))
    check(st == 200 and r["results"] and all(x["type"] == "phrase" for x in r["results"]),
          "type filter")
    st, _, r = s.json("/api/search?category=" + q("故障复盘") + "&q=" + q("宽带"))
    check(st == 200 and r["results"] and all(x["category"] == "故障复盘" for x in r["results"]),
          "category filter")
    st, _, r = s.json("/api/search?tag=" + q("上门") + "&q=" + q("技术员"))
    check(st == 200 and r["results"] and
          all(x["id"] == "phrase-self-intro" for x in r["results"]), "tag filter")
    st, _, r = s.json("/api/search?q=" + q("，。！"))
    check(st == 200 and r["results"] == [], "punctuation only: 200, no results")


def test_answer(s):
    st, _, r = s.json("/api/answer?q=" + q("客户说宽带修了好几次还是断"))
    check(st == 200, "answer 200")
    check(set(r) == {"query", "took_ms", "replies", "procedures", "faults"},
          f"answer keys {sorted(r)}")
    check(len(r["replies"]) <= 5 and len(r["procedures"]) <= 5 and len(r["faults"]) <= 3,
          "answer limits")
    check(r["replies"] and all(x["type"] == "phrase" for x in r["replies"]), "replies are phrases")
    check(all(x["type"] == "sop" for x in r["procedures"]), "procedures are sops")
    check(r["faults"] and all(x["type"] == "fault" for x in r["faults"]), "faults are faults")
    rep = [x for x in r["replies"] if x["id"] == "phrase-fault-repeated"]
    check(rep and "{{时间}}" in (rep[0]["phrase"] or "") and rep[0]["slots"] == ["时间"],
          "reply carries its phrase and slots")
    check(all("url" in x and "snippet" in x for x in r["faults"]), "answer items shaped as hits")
    # the reply cache: the same question again is served from it, unchanged
    st, h, r2 = s.json("/api/answer?q=" + q("客户说宽带修了好几次还是断"))
    check(st == 200 and h.get("x-opsbook-cache") == "hit" and r2 == r,
          f"the same answer again comes from the reply cache: {h}")
    # other parameters, another reply
    st, h1, a1 = s.json("/api/search?limit=3&q=" + q("宽带"))
    st, h2, a2 = s.json("/api/search?limit=2&q=" + q("宽带"))
    check(h1.get("x-opsbook-cache") == "miss" and h2.get("x-opsbook-cache") == "miss"
          and len(a2["results"]) <= 2, f"limit is part of the cache key: {h1} {h2}")
    # gzip and plain clients get the same cached reply
    st, h, body = s.get("/api/search?limit=3&q=" + q("宽带"), {"Accept-Encoding": "gzip"})
    check(st == 200 and h.get("x-opsbook-cache") == "hit"
          and json.loads(gzip.decompress(body)) == a1, "a cached reply, gzip'ed")


def test_no_cache(a, base, web):
    """--cache 0: every search runs."""
    s = Server([a.serve, "--db", base["db"], "--handbook", base["hb"], "--web", web,
                "--listen", "127.0.0.1:0", "--cache", "0"] + base["extra"])
    try:
        heads = [s.json("/api/search?q=" + q("宽带"))[1].get("x-opsbook-cache") for _ in range(3)]
        check(heads == [None] * 3, f"--cache 0: no cache header, never a hit: {heads}")
        st, _, body = s.get("/metrics")
        check(b'opsbook_reply_cache_lookups_total{result="hit"} 0' in body, "no hits counted")
    finally:
        check(s.stop() == 0, "--cache 0 server stops cleanly")


def conn_metrics(s):
    """(open, busiest worker's, least busy worker's) connections from /metrics;
    -1 for one that is missing."""
    st, _, body = s.get("/metrics")
    text = body.decode() if st == 200 else ""

    def value(name):
        m = re.search(rf"^{name} (\d+)$", text, re.M)
        return int(m.group(1)) if m else -1

    return tuple(value(n) for n in ("opsbook_connections_open", "opsbook_worker_connections_max",
                                    "opsbook_worker_connections_min"))


def test_balanced(a, base, web):
    """Keep-alive connections are spread over the worker threads: each new
    one goes to the worker with the fewest (libmicrohttpd's own pool could
    put them all on one)."""
    s = Server([a.serve, "--db", base["db"], "--handbook", base["hb"], "--web", web,
                "--listen", "127.0.0.1:0", "--threads", "3"] + base["extra"])
    conns = []
    try:
        def open_some(n):
            for _ in range(n):
                c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
                c.request("GET", "/api/search?q=" + q("宽带"))
                r = c.getresponse()
                r.read()
                check(r.status == 200, "a keep-alive connection is served")
                conns.append(c)

        open_some(12)
        # the /metrics request comes on a thirteenth connection: 5/4/4
        got = conn_metrics(s)
        check(got == (13, 5, 4), f"13 connections over 3 workers: {got} (open, max, min)")
        for c in conns[:6]:
            c.close()
        del conns[:6]
        deadline = time.monotonic() + 10
        while conn_metrics(s)[0] != 7 and time.monotonic() < deadline:
            time.sleep(0.05)
        open_some(6)
        got = conn_metrics(s)
        check(got[0] == 13 and got[1] - got[2] <= 1,
              f"after six closed and six opened, still even: {got}")
        # every connection still answers on its worker
        for c in conns:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            check(r.status == 200, "each kept connection answers again")
    finally:
        for c in conns:
            c.close()
        check(s.stop() == 0, "--threads 3 server stops cleanly")


def shared_bytes(s):
    st, _, body = s.get("/metrics")
    m = re.search(r"^opsbook_index_shared_copy_bytes (\d+)$", body.decode(), re.M)
    return int(m.group(1)) if st == 200 and m else -1


def wait_shared(s, what):
    """Polls /metrics until the handle answering has a shared copy."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        n = shared_bytes(s)
        if n > 0:
            return n
        time.sleep(0.05)
    check(False, f"{what}: no shared copy after 30 s")
    return 0


def test_shared_copy(a, tmp, web):
    """--memory-index 1 --memory-shared N: the workers search one copy made
    in the background; the same answers as Xapian's, and a write is found
    at once, then by the copy of the new revision."""
    hb = os.path.join(tmp, "handbook-shared")
    db = os.path.join(tmp, "db-shared")
    shutil.copytree(a.fixtures, hb)
    check(run([a.index, "--handbook", hb, "--db", db] + a.lang_args).returncode == 0,
          "index a copy of the fixtures")
    common = ["--db", db, "--handbook", hb, "--web", web, "--listen", "127.0.0.1:0",
              "--cache", "0", "--threads", "2"] + a.lang_args
    ref = Server([a.serve] + common + ["--memory-index", "0", "--memory-shared", "0"])
    s = Server([a.serve] + common + ["--memory-index", "1", "--memory-shared", "100000"])
    try:
        check(shared_bytes(ref) == 0, "--memory-shared 0: no shared copy")
        check("opsbook_index_shared_copy_state 0" in ref.get("/metrics")[2].decode(),
              "--memory-shared 0: state 0")
        n = wait_shared(s, "start")
        check("opsbook_index_shared_copy_state 2" in s.get("/metrics")[2].decode(),
              "shared: state 2")
        check(n > 0, f"shared copy made at start: {n} bytes")
        queries = ["宽带老是断", "机房温度", "上门自我介绍", "分光器", "供电系统", "UPS", "技术员工作证"]
        for word in queries:
            for extra in ("", "&type=phrase", "&limit=3&offset=1"):
                path = "/api/search?q=" + q(word) + extra
                r1, r2 = ref.json(path)[2], s.json(path)[2]
                k1 = [(x["id"], x.get("section"), x["snippet"], round(x["score"], 6))
                      for x in r1["results"]]
                k2 = [(x["id"], x.get("section"), x["snippet"], round(x["score"], 6))
                      for x in r2["results"]]
                check(k1 == k2 and r1["total"] == r2["total"],
                      f"shared copy answers as Xapian: {word}{extra}")
        word = "蓝鲸冷却塔"
        with open(os.path.join(hb, "sop", "sop-shared-cooling.md"), "w", encoding="utf-8") as f:
            f.write("---\nid: sop-shared-cooling\ncategory: 机房运维\n---\n# 蓝鲸冷却塔巡检\n\n"
                    "## 1. 巡检\n\n每周检查蓝鲸冷却塔的水位和风机。\n")
        check(run([a.index, "--handbook", hb, "--db", db] + a.lang_args).returncode == 0,
              "incremental re-index")
        st, _, r = s.json("/api/search?q=" + q(word))
        check(st == 200 and r["results"] and r["results"][0]["id"] == "sop-shared-cooling",
              "a write is found at once")
        wait_shared(s, "after the write")
        for _ in range(4):  # both workers
            st, _, r = s.json("/api/search?q=" + q(word))
            check(st == 200 and r["results"] and r["results"][0]["id"] == "sop-shared-cooling",
                  "and by the new copy")
    finally:
        check(ref.stop() == 0 and s.stop() == 0, "shared-copy servers stop cleanly")


def test_docs(s):
    st, h, d = s.json("/api/docs/fault-repeated-broadband")
    check(st == 200, "docs 200")
    for k in ("id", "type", "title", "category", "tags", "symptoms", "slots", "severity", "phrase",
              "markdown", "html", "toc", "related", "lessons"):
        check(k in d, f"docs has {k}")
    check(d["type"] == "fault" and d["severity"] == "较大", "fault fields")
    check([x["heading"] for x in d["lessons"]] == ["2024-05-01 张三", "2024-06-12 李四"],
          f"lessons {d['lessons']}")
    check("公共线路" in d["lessons"][0]["text"], "lesson text")
    check([x["id"] for x in d["related"]] == ["sop-fault-handling", "phrase-fault-repeated"],
          "related resolved")
    check(all(set(x) == {"id", "type", "title"} for x in d["related"]), "related shape")
    check(d["toc"][0] == {"level": 2, "text": "现象", "anchor": "s1"}, f"toc {d['toc'][:1]}")
    check('<h2 id="s1">现象</h2>' in d["html"], "html carries section anchors")
    check(h.get("etag", "").startswith('"'), "docs ETag")
    st, _, d = s.json("/api/docs/phrase-fault-repeated")
    check(st == 200 and "{{时间}}" in d["phrase"] and d["slots"] == ["时间"], "phrase doc")
    check([x["id"] for x in d["related"]] == ["sop-fault-handling"], "unknown related id skipped")
    check(d["lessons"] == [], "no lessons: empty array")
    st, _, d = s.json("/api/docs/sop-idc-environment")
    check(st == 200 and d["phrase"] is None and "<script" not in d["html"], "sop doc")


def test_categories_health_metrics(s):
    st, _, r = s.json("/api/categories")
    check(st == 200, "categories 200")
    names = [c["name"] for c in r["categories"]]
    check(names == sorted(names), f"categories sorted {names}")
    ids = [d["id"] for c in r["categories"] for d in c["docs"]]
    check(len(ids) == len(set(ids)) == 5, f"one entry per document {ids}")
    check(all(set(d) == {"id", "type", "title"} for c in r["categories"] for d in c["docs"]),
          "category doc shape")
    # the cached body is sent as it is, plain or gzip'ed, as often as asked
    st, h, plain = s.get("/api/categories")
    check(st == 200 and json.loads(plain) == r
          and h.get("content-type") == "application/json; charset=utf-8",
          "categories again, from the cache")
    st, h, packed = s.get("/api/categories", {"Accept-Encoding": "gzip"})
    gz = h.get("content-encoding") == "gzip"
    check(st == 200 and (gzip.decompress(packed) if gz else packed) == plain,
          f"categories with gzip accepted (gzip'ed: {gz})")
    st, _, r = s.json("/healthz")
    check(st == 200 and r["status"] == "ok" and r["docs"] == 5, f"healthz {r}")
    check(re.fullmatch(r"idx-\d+:\d+", r["generation"]) is not None, "healthz generation")
    st, h, body = s.get("/metrics")
    text = body.decode()
    check(st == 200 and h.get("content-type", "").startswith("text/plain"), "metrics 200")
    check('opsbook_http_requests_total{route="search",status="200"}' in text, "metrics counts")
    check("opsbook_http_request_duration_seconds_bucket{" in text, "metrics histogram")
    check("opsbook_index_documents 5" in text, "metrics documents")
    check("opsbook_index_generation{" in text, "metrics generation")
    m = re.search(r'opsbook_reply_cache_lookups_total\{result="hit"\} (\d+)', text)
    check(m and int(m.group(1)) >= 2, "metrics count reply cache hits")


def test_errors(s):
    for path, code in [
        ("/api/search", "bad_query"),
        ("/api/search?q=", "bad_query"),
        ("/api/search?q=%20%E3%80%80%20", "bad_query"),
        ("/api/search?q=" + q("断" * 257), "bad_query"),
        ("/api/search?q=%FF%FE", "bad_query"),
        ("/api/search?q=a%00b", "bad_query"),
        ("/api/search?q=a&limit=0", "bad_param"),
        ("/api/search?q=a&limit=51", "bad_param"),
        ("/api/search?q=a&limit=abc", "bad_param"),
        ("/api/search?q=a&offset=1001", "bad_param"),
        ("/api/search?q=a&offset=-1", "bad_param"),
        ("/api/search?q=a&type=manual", "bad_param"),
        ("/api/search?q=a&category=%FF", "bad_param"),
        ("/api/answer?q=", "bad_query"),
    ]:
        st, h, body = s.get(path)
        is_error(st, h, body, 400, code)
    st, _, _ = s.get("/api/search?q=" + q("断" * 256))
    check(st == 200, "256 characters is allowed")
    for path in ["/api/docs/no-such-doc", "/api/docs/", "/api/docs/BAD", "/api/docs/..%2fsecret",
                 "/api/nope", "/api", "/nope.html"]:
        st, h, body = s.get(path)
        is_error(st, h, body, 404, "not_found")
    st, h, body = s.request("POST", "/api/search?q=a")
    is_error(st, h, body, 405, "method_not_allowed")
    check("GET" in h.get("allow", ""), "405 carries Allow")
    st, h, body = s.request("DELETE", "/")
    is_error(st, h, body, 405)
    st, h, body = s.request("POST", "/api/search", {"Content-Type": "text/plain"}, b"x" * 100000)
    is_error(st, h, body, 413, "too_large")

    def chunks():
        for _ in range(40):
            yield b"y" * 4096
    st, h, body = s.request("POST", "/api/search", {"Content-Type": "text/plain"}, chunks())
    is_error(st, h, body, 413, "too_large")
    st, h, body = s.request("POST", "/api/search?q=a", {"Content-Type": "text/plain"}, b"{}")
    is_error(st, h, body, 405)
    st, h, body = s.request("HEAD", "/api/search?q=a")
    check(st == 200 and body == b"", "HEAD works without a body")


def test_static(s, web):
    st, h, body = s.get("/")
    with open(os.path.join(web, "index.html"), "rb") as f:
        index = f.read()
    check(st == 200 and body == index, "/ serves index.html")
    check(h.get("content-type") == "text/html; charset=utf-8", "html content type")
    check(h.get("cache-control") == "public, max-age=300", "static Cache-Control")
    for path, ctype in [("/app.js", "text/javascript; charset=utf-8"),
                        ("/style.css", "text/css; charset=utf-8"),
                        ("/data/x.json", "application/json; charset=utf-8"),
                        ("/icon.svg", "image/svg+xml"), ("/icon.png", "image/png"),
                        ("/manifest.webmanifest", "application/manifest+json; charset=utf-8")]:
        st, h, _ = s.get(path)
        check(st == 200 and h.get("content-type") == ctype, f"{path}: {st} {h.get('content-type')}")
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
                 "/data/../../secret.txt", "/data/%2e%2e/%2e%2e/secret.txt", "/app.js%00.png",
                 "/..\\secret.txt", "/%5c..%5csecret.txt", "/escape.txt", "/.hidden",
                 "/data/./x.json", "//etc/passwd"]:
        st, h, body = s.get(path)
        is_error(st, h, body, 404)
        check(b"TOP-SECRET" not in body, f"{path} leaks nothing")


def test_gzip_etag(s):
    st, h, plain = s.get("/")
    st2, h2, packed = s.get("/", {"Accept-Encoding": "gzip, deflate"})
    check(st2 == 200 and h2.get("content-encoding") == "gzip", "static gzip")
    check(gzip.decompress(packed) == plain, "static gzip round trip")
    check(h2.get("vary") == "Accept-Encoding", "Vary on static")
    st, h, _ = s.get("/", {"Accept-Encoding": "gzip;q=0, identity"})
    check("content-encoding" not in h, "gzip;q=0 refuses gzip")
    path = "/api/docs/fault-repeated-broadband"
    st, h, plain = s.get(path)
    st2, h2, packed = s.get(path, {"Accept-Encoding": "gzip"})
    check(len(plain) > 1024 and h2.get("content-encoding") == "gzip", "API gzip over 1 KB")
    check(gzip.decompress(packed) == plain, "API gzip round trip")
    check(h.get("vary") == "Accept-Encoding" and h2.get("vary") == "Accept-Encoding", "Vary on API")
    st, h, _ = s.get("/healthz", {"Accept-Encoding": "gzip"})
    check("content-encoding" not in h, "small bodies not compressed")
    for p in ["/", "/app.js", path, "/api/categories"]:
        st, h, _ = s.get(p)
        tag = h.get("etag")
        st2, h2, body2 = s.get(p, {"If-None-Match": tag})
        check(st2 == 304 and body2 == b"", f"{p}: 304 on If-None-Match")
        st3, _, _ = s.get(p, {"If-None-Match": '"nope"'})
        check(st3 == 200, f"{p}: 200 on another ETag")
        st4, h4, _ = s.get(p, {"Accept-Encoding": "gzip"})
        st5, _, _ = s.get(p, {"If-None-Match": f'"x", {h4.get("etag")}'})
        check(st5 == 304, f"{p}: 304 on a list holding the gzip ETag")


def test_rebuild_under_load(s, a, hb, db):
    queries = ["机房温度", "宽带老是断", "上门自我介绍", "分光器", "供电系统", "技术员工作证"]
    failures = []
    counts = [0] * 4
    done = threading.Event()

    def searcher(k):
        c = None
        i = 0
        while i < 2000 and (i < 50 or not done.is_set()):
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
                c.request("GET", "/api/search?q=" + q(queries[(i + k) % len(queries)]))
                r = c.getresponse()
                body = r.read()
                if r.status != 200 or not json.loads(body)["results"]:
                    failures.append((r.status, body[:200]))
            except (OSError, http.client.HTTPException, ValueError) as e:
                failures.append(repr(e))
                c = None
            i += 1
        counts[k] = i

    threads = [threading.Thread(target=searcher, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    gens = []
    for _ in range(3):
        st = run([a.index, "--rebuild", "--handbook", hb, "--db", db] + a.lang_args)
        check(st.returncode == 0, f"rebuild: {st.stderr.decode()}")
        gens.append(s.json("/healthz")[2]["generation"])
        time.sleep(0.1)
    done.set()
    for t in threads:
        t.join(60)
    check(min(counts) >= 50, f"4 x 50 searches ran: {counts}")
    print(f"searches during rebuilds: {counts}, generations {gens}")
    check(not failures, f"no failed request during rebuilds: {failures[:3]}")
    check(len(set(g.split(":")[0] for g in gens)) == 3, f"each rebuild seen: {gens}")
    check(sorted(os.listdir(db)) == ["CURRENT", "LOCK", gens[-1].split(":")[0]],
          f"old index folders deleted: {os.listdir(db)}")


def test_reindex_visible(s, a, hb, db):
    word = "蓝鲸冷却塔"
    _, h, _ = s.get("/api/categories")
    old_tag = h.get("etag")
    st, _, r = s.json("/api/search?q=" + q(word))
    check(st == 200 and all(x["id"] != "sop-new-cooling" for x in r["results"]), "not there yet")
    with open(os.path.join(hb, "sop", "sop-new-cooling.md"), "w", encoding="utf-8") as f:
        f.write("---\nid: sop-new-cooling\ncategory: 机房运维\n---\n# 蓝鲸冷却塔巡检\n\n"
                "## 1. 巡检\n\n每周检查蓝鲸冷却塔的水位和风机。\n")
    st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args)
    check(st.returncode == 0, "incremental re-index")
    st, _, r = s.json("/api/search?q=" + q(word))
    check(st == 200 and r["results"] and r["results"][0]["id"] == "sop-new-cooling",
          "new file found without a restart")
    st, _, d = s.json("/api/docs/sop-new-cooling")
    check(st == 200 and d["title"] == "蓝鲸冷却塔巡检", "new doc served")
    # healthz first: its count comes from the documents' terms, not from
    # the table of contents, which the next request builds
    check(s.json("/healthz")[2]["docs"] == 6, "healthz counts the new doc")
    st, _, c = s.json("/api/categories")
    check(any(d["id"] == "sop-new-cooling" for x in c["categories"] for d in x["docs"]),
          "categories follow the new generation")
    check(sum(len(x["docs"]) for x in c["categories"]) == 6, "six documents listed")
    # a browser's copy from before the new document is not confirmed
    st, h, body = s.get("/api/categories", {"If-None-Match": old_tag})
    check(st == 200 and body and old_tag and h.get("etag") not in (None, old_tag),
          f"categories: a new ETag for the new generation ({old_tag} -> {h.get('etag')})")
    check(s.json("/healthz")[2]["docs"] == 6, "healthz agrees with the table")


def test_index_unavailable(s, db):
    cur = os.path.join(db, "CURRENT")
    os.rename(cur, cur + ".away")
    try:
        for path in ["/api/search?q=" + q("宽带"), "/api/answer?q=" + q("宽带"),
                     "/api/docs/sop-fault-handling", "/api/categories", "/healthz"]:
            st, h, body = s.get(path)
            is_error(st, h, body, 503, "index_unavailable")
        st, _, body = s.get("/metrics")
        check(st == 200 and b"opsbook_index_documents" not in body, "metrics without an index")
        st, _, _ = s.get("/")
        check(st == 200, "static files without an index")
    finally:
        os.rename(cur + ".away", cur)
    st, _, _ = s.get("/api/search?q=" + q("宽带"))
    check(st == 200, "index back: 200 again")


def test_access_log(s):
    line = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ /\S* (\d{3}|-) \d+ "
                      r"\d+\.\d\dms")
    logs = [ln for ln in s.lines if re.match(r"\d{4}-\d\d-\d\dT", ln)]
    check(len(logs) > 100, f"access log lines: {len(logs)}")
    check(all(line.fullmatch(ln) for ln in logs),
          f"access log format: {[ln for ln in logs if not line.fullmatch(ln)][:2]}")
    check(not any("?" in ln.split(" ")[2] for ln in logs), "no query string in the log")


def test_graceful_stop(s):
    """SIGTERM: new connections refused, the request in flight answered, exit 0."""
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")  # headers not finished yet
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        check(False, "SIGTERM: new connections are refused")
    except OSError:
        check(True, "")
    c.sendall(b"\r\n")
    reply = c.recv(65536)
    c.close()
    check(reply.startswith(b"HTTP/1.1 200 "), f"request in flight finished: {reply[:40]!r}")
    rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"SIGTERM: exit {rc}")


def make_web(tmp):
    web = os.path.join(tmp, "web")
    os.makedirs(os.path.join(web, "data"))
    with open(os.path.join(web, "index.html"), "w", encoding="utf-8") as f:
        f.write("<!doctype html><meta charset=utf-8><title>运维手册</title>\n" +
                "<p>运维手册检索:输入故障现象。</p>\n" * 100)
    files = {"app.js": "console.log('opsbook');\n", "style.css": "body{margin:0}\n",
             "data/x.json": "{}\n", "icon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
             "manifest.webmanifest": '{"name":"运维手册"}\n', ".hidden": "TOP-SECRET\n"}
    for name, text in files.items():
        with open(os.path.join(web, name), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(web, "icon.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with open(os.path.join(tmp, "secret.txt"), "w") as f:
        f.write("TOP-SECRET\n")
    os.symlink(os.path.join(tmp, "secret.txt"), os.path.join(web, "escape.txt"))
    return web


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--lang")
    a = ap.parse_args()
    a.lang_args = ["--lang", a.lang] if a.lang else []
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="opsbook-serve-test-")
    s = None
    try:
        hb = os.path.join(tmp, "handbook")
        db = os.path.join(tmp, "db")
        shutil.copytree(a.fixtures, hb)
        st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args)
        if st.returncode != 0:
            raise SystemExit("indexing failed: " + st.stderr.decode())
        web = make_web(tmp)
        base = {"db": db, "hb": hb, "extra": a.lang_args}
        test_startup_failures(a, tmp, base)
        test_no_cache(a, base, web)
        test_balanced(a, base, web)
        test_shared_copy(a, tmp, web)
        s = Server([a.serve, "--db", db, "--handbook", hb, "--web", web, "--listen", "127.0.0.1:0",
                    "--threads", "2"] + a.lang_args)
        test_search(s)
        test_answer(s)
        test_docs(s)
        test_categories_health_metrics(s)
        test_errors(s)
        test_static(s, web)
        test_gzip_etag(s)
        test_rebuild_under_load(s, a, hb, db)
        test_reindex_visible(s, a, hb, db)
        test_index_unavailable(s, db)
        test_access_log(s)
        test_graceful_stop(s)
        s = None
    finally:
        if s is not None:
            s.proc.kill()
            print("\n".join(s.lines[-20:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"server: {time.monotonic() - t0:.1f} s")
    return obtest.summary()


if __name__ == "__main__":
    sys.exit(main())
