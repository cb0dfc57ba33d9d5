#!/usr/bin/env python3
"""Integration test of the write path: lessons learned and new fault write-ups.

Copies the fixture handbook to a temporary folder, indexes it, makes
reviewer tokens with opsbook-lesson --new-token and starts the real
opsbook-serve on port 0. Checks: auth (401/403, nothing written), appends
shown by GET /api/docs and found by /api/search, the audit log, every kind of
bad input (4xx, nothing written), raw HTML rendered inert, POST /api/faults,
the opsbook-lesson command, 20 clients x 10 appends in parallel, and kill -9
in the middle of an append loop (restart: every file parses, every
acknowledged lesson is there, the index agrees with the files).
Python 3 standard library only.

usage: test_lessons.py --serve BIN --index BIN --lesson BIN --fixtures DIR [--lang DIR]
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import obtest  # noqa: E402
from obtest import check, is_error, q, run  # noqa: E402

DOC = "fault-repeated-broadband"  # has a 经验教训 section with two lessons
PLAIN = "sop-idc-environment"     # has none


class Server(obtest.Server):
    def __init__(self, argv):
        super().__init__(argv, start_timeout=30, request_timeout=30)


class Env:
    def __init__(self, a, tmp):
        self.a = a
        self.tmp = tmp
        self.hb = os.path.join(tmp, "handbook")
        self.db = os.path.join(tmp, "db")
        self.tokens = os.path.join(tmp, "etc", "tokens")
        self.audit = os.path.join(tmp, "etc", "audit.jsonl")
        self.token = {}

    def serve(self, tokens=True, threads=4):
        argv = [self.a.serve, "--db", self.db, "--handbook", self.hb, "--listen", "127.0.0.1:0",
                "--threads", str(threads)] + self.a.lang_args
        if tokens:
            argv += ["--tokens", self.tokens]
        return Server(argv)

    def snapshot(self):
        """Every file of the handbook and the audit log, byte for byte."""
        files = {}
        for root, _, names in os.walk(self.hb):
            for n in names:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    files[os.path.relpath(p, self.hb)] = f.read()
        if os.path.exists(self.audit):
            with open(self.audit, "rb") as f:
                files["<audit>"] = f.read()
        return files

    def audit_lines(self):
        with open(self.audit, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def doc_file(self, rel):
        with open(os.path.join(self.hb, rel), encoding="utf-8") as f:
            return f.read()


def search_hits(s, text, **params):
    extra = "".join(f"&{k}={q(str(v))}" for k, v in params.items())
    st, _, r = s.json("/api/search?limit=50&q=" + q(text) + extra)
    check(st == 200, f"search {text}: {st}")
    return r.get("results", [])


# ---- tests ----

def test_tokens(e):
    a = e.a
    os.makedirs(os.path.dirname(e.tokens))
    for name in ("alice", "审核员-王"):
        st = run([a.lesson, "--tokens", e.tokens, "--new-token", name])
        out = st.stdout.decode()
        check(st.returncode == 0, f"--new-token {name}: {st.stderr.decode()}")
        check(re.fullmatch(r"[0-9a-f]{64}\n", out) is not None, f"token alone on stdout: {out!r}")
        e.token[name] = out.strip()
    with open(e.tokens, encoding="utf-8") as f:
        text = f.read()
    for name, tok in e.token.items():
        h = hashlib.sha256(tok.encode()).hexdigest()
        check(f"{name} {h}\n" in text, f"tokens file holds '{name} <sha256>'")
        check(tok not in text, "the token itself is never stored")
    check(os.stat(e.tokens).st_mode & 0o777 == 0o600, "tokens file is 0600")
    st = run([a.lesson, "--tokens", e.tokens, "--new-token", "alice"])
    check(st.returncode == 1 and st.stdout == b"", "a name gets one token")
    st = run([a.lesson, "--tokens", e.tokens, "--new-token", "a b"])
    check(st.returncode == 1 and st.stdout == b"", "a name with a space is refused")
    with open(e.tokens, encoding="utf-8") as f:
        check(f.read() == text, "refused names leave the file alone")


def test_auth(e, s):
    before = e.snapshot()
    gen = s.json("/healthz")[2]["generation"]
    body = {"author": "王五", "text": "不该写入"}
    path = f"/api/docs/{DOC}/lessons"
    st, h, b = s.post(path, body)
    is_error(st, h, b, 401, "unauthorized")
    check(h.get("www-authenticate", "").startswith("Bearer"), "401 carries WWW-Authenticate")
    st, h, b = s.post(path, body, token="0" * 64)
    is_error(st, h, b, 401, "unauthorized")
    st, h, b = s.post(path, body, token=e.token["alice"][:-1])
    is_error(st, h, b, 401, "unauthorized")
    st, h, b = s.post(path, body, headers={"Authorization": "Basic " + e.token["alice"]})
    is_error(st, h, b, 401, "unauthorized")
    st, h, b = s.post("/api/faults", {"title": "x"}, token="nope")
    is_error(st, h, b, 401, "unauthorized")
    check(e.snapshot() == before, "401: nothing written")
    check(s.json("/healthz")[2]["generation"] == gen, "401: index untouched")


def test_read_only(e):
    s = e.serve(tokens=False, threads=2)
    try:
        before = e.snapshot()
        st, h, b = s.post(f"/api/docs/{DOC}/lessons", {"author": "王五", "text": "只读"},
                          token=e.token["alice"])
        is_error(st, h, b, 403, "read_only")
        st, h, b = s.post("/api/faults", {"title": "只读"}, token=e.token["alice"])
        is_error(st, h, b, 403, "read_only")
        st, h, b = s.post(f"/api/docs/{DOC}/lessons", {"author": "王五", "text": "只读"})
        is_error(st, h, b, 401, "unauthorized")
        check(e.snapshot() == before, "read-only server writes nothing")
    finally:
        check(s.stop() == 0, "read-only server stops cleanly")


def test_append(e, s):
    tok = e.token["alice"]
    text = "更换光猫前先测**光功率**,确认琥珀色告警。\r\n\r\n- 带上光功率计\r\n"
    # the reply cache: the same search twice is a hit; the write below moves
    # the index generation, so the same search after it runs again
    find = "/api/search?limit=50&q=" + q("琥珀色告警")
    st1, h1, r1 = s.json(find)
    st2, h2, r2 = s.json(find)
    check(st1 == 200 and h1.get("x-opsbook-cache") == "miss", f"first search: miss {h1}")
    check(st2 == 200 and h2.get("x-opsbook-cache") == "hit" and r2 == r1,
          f"same search again: a hit with the same reply {h2}")
    check(not any(x.get("section", "").startswith("2024-07-01") for x in r1["results"]),
          "the lesson is not there before it is written")
    st, h, b = s.post(f"/api/docs/{DOC}/lessons",
                      {"author": "王五", "text": text, "date": "2024-07-01", "incident": "INC-7"},
                      token=tok)
    check(st == 201, f"append 201: {st} {b[:300]!r}")
    r = json.loads(b)
    les = r["lesson"]
    want = "2024-07-01 王五 · 事件 INC-7"
    check(les["heading"] == want and les["date"] == "2024-07-01" and les["author"] == "王五"
          and les["incident"] == "INC-7", f"stored lesson {les}")
    check(les["text"] == "更换光猫前先测**光功率**,确认琥珀色告警。\n\n- 带上光功率计",
          f"line ends normalised, trimmed: {les['text']!r}")
    check(r["doc"] == DOC and r["url"] == f"/api/docs/{DOC}#{les['anchor']}", f"reply {r}")
    # visible at once, in the document and in search
    st, _, d = s.json(f"/api/docs/{DOC}")
    check(st == 200 and d["lessons"][-1]["heading"] == want, f"GET shows it: {d['lessons']}")
    check("光功率计" in d["lessons"][-1]["text"], "lesson text shown")
    check([x["heading"] for x in d["lessons"][:2]] == ["2024-05-01 张三", "2024-06-12 李四"],
          "earlier lessons kept")
    st3, h3, r3 = s.json(find)
    check(st3 == 200 and h3.get("x-opsbook-cache") == "miss" and r3["results"]
          and r3["results"][0].get("section") == want,
          f"the cached search before the write is not served after it: {h3} {r3['results'][:1]}")
    hits = search_hits(s, "琥珀色告警")
    check(hits and hits[0]["id"] == DOC and hits[0]["section"] == want
          and hits[0]["anchor"] == les["anchor"], f"searchable at once: {hits[:1]}")
    src = e.doc_file(r["path"])
    check(f"### {want}\n\n更换光猫前" in src, "file holds the entry")
    last = e.audit_lines()[-1]
    check(last["reviewer"] == "alice" and last["doc"] == DOC and last["action"] == "lesson"
          and last["size"] == len(les["text"].encode())
          and last["sha256"] == hashlib.sha256(les["text"].encode()).hexdigest()
          and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", last["time"]),
          f"audit line {last}")

    # a document without 经验教训 gets the section at its end; date defaults to today
    st, _, b = s.post(f"/api/docs/{PLAIN}/lessons",
                      {"author": "Li_Lei *ops*", "text": "空调滤网每月清洗一次,记录压差读数。"},
                      token=e.token["审核员-王"])
    check(st == 201, f"append to a doc without lessons: {st} {b[:200]!r}")
    r = json.loads(b)
    today = time.strftime("%Y-%m-%d")
    check(r["lesson"]["heading"] == f"{today} Li_Lei *ops*", f"today, name verbatim: {r}")
    st, _, d = s.json(f"/api/docs/{PLAIN}")
    check([x["heading"] for x in d["lessons"]] == [f"{today} Li_Lei *ops*"], f"{d['lessons']}")
    check([(t["level"], t["text"]) for t in d["toc"][-2:]] ==
          [(2, "经验教训"), (3, f"{today} Li_Lei *ops*")], f"toc {d['toc']}")
    check(e.doc_file(r["path"]).rstrip().endswith("压差读数。"), "appended at the end")
    check(e.audit_lines()[-1]["reviewer"] == "审核员-王", "audit names the reviewer")
    hits = search_hits(s, "滤网压差读数")
    check(hits and hits[0]["id"] == PLAIN, "found")
    # exactly 16 KiB is allowed
    st, _, b = s.post(f"/api/docs/{PLAIN}/lessons", {"author": "王五", "text": "a" * 16384},
                      token=tok)
    check(st == 201, f"16 KiB text accepted: {st}")


def test_html_inert(e, s):
    text = ("<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[点我](javascript:alert(1)) 以及 <b onclick=alert(2)>粗体</b> 蓝莓标记")
    st, _, b = s.post(f"/api/docs/{DOC}/lessons", {"author": "王五", "text": text},
                      token=e.token["alice"])
    check(st == 201, f"HTML in a lesson is stored as text: {st} {b[:200]!r}")
    st, _, d = s.json(f"/api/docs/{DOC}")
    html = d["html"]
    check("<script" not in html and "<img" not in html and "javascript:" not in html
          and "onclick" not in html, "raw HTML suppressed in the rendered html")
    check("<script>alert('x')</script>" in d["markdown"], "stored verbatim in the Markdown")
    hits = search_hits(s, "蓝莓标记")
    check(hits and "<script" not in hits[0]["snippet"] and "<b " not in hits[0]["snippet"],
          f"snippet escaped: {hits[:1]}")


def test_bad_input(e, s):
    tok = e.token["alice"]
    path = f"/api/docs/{DOC}/lessons"
    ok = {"author": "王五", "text": "一条正常的经验"}
    big = "经" * 5462  # 16386 bytes
    cases = [
        (path, b"{", 400, "bad_json"),
        (path, b"[]", 400, "bad_json"),
        (path, b"", 400, "bad_json"),
        (path, b'{"author": "a", "author": "b", "text": "x"}', 400, "bad_json"),
        (path, '{"author": "\xff", "text": "x"}'.encode("latin-1"), 400, "bad_json"),
        (path, b'{"author": "a", "text": "x\\u0000y"}', 400, "bad_json"),
        (path, {"text": "缺作者"}, 400, "bad_field"),
        (path, {"author": "王五"}, 400, "bad_field"),
        (path, {"author": 5, "text": "x"}, 400, "bad_json"),
        (path, {"author": "王五", "text": ["x"]}, 400, "bad_json"),
        (path, {"author": "  ", "text": "x"}, 400, "bad_field"),
        (path, {"author": "王五", "text": " \n\u3000\n"}, 400, "bad_field"),
        (path, {"author": "王\n五", "text": "x"}, 400, "bad_field"),
        (path, {"author": "王" * 65, "text": "x"}, 400, "bad_field"),
        (path, {"author": "王五", "text": big}, 413, "too_large"),
        (path, {"author": "王五", "text": "x", "date": "2024-02-30"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "x", "date": "24-1-1"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "x", "incident": "a\tb"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "## 新章节\n\n内容"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "### 冒充的一条\n\n内容"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "标题\n==="}, 400, "bad_field"),
        (path, {"author": "王五", "text": "```\n没有闭合的代码块"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "<script>\nalert(1)"}, 400, "bad_field"),
        (path, {"author": "王五", "text": "控制\x01字符"}, 400, "bad_field"),
        ("/api/docs/no-such-doc/lessons", ok, 404, "not_found"),
        ("/api/docs/BAD/lessons", ok, 404, "not_found"),
        ("/api/docs/" + "a" * 70 + "/lessons", ok, 404, "not_found"),
        (path, b"x" * 70000, 413, "too_large"),
    ]
    before = e.snapshot()
    gen = s.json("/healthz")[2]["generation"]
    for p, body, status, code in cases:
        raw = body if isinstance(body, bytes) else None
        st, h, b = s.post(p, None if raw is not None else body, token=tok, raw=raw)
        is_error(st, h, b, status, code)
    st, h, b = s.request("GET", path)
    is_error(st, h, b, 405, "method_not_allowed")
    check(h.get("allow") == "POST", "405 Allow: POST")
    st, h, b = s.request("PUT", "/api/faults", {"Authorization": "Bearer " + tok}, b"{}")
    is_error(st, h, b, 405, "method_not_allowed")
    st, h, b = s.post("/api/search?q=a", ok, token=tok)
    is_error(st, h, b, 405, "method_not_allowed")
    check(e.snapshot() == before, "bad input: nothing written (files, audit log)")
    check(s.json("/healthz")[2]["generation"] == gen, "bad input: index untouched")


def test_faults(e, s):
    tok = e.token["alice"]
    f = {"title": "核心交换机风扇故障导致过热重启", "severity": "较大", "date": "2024-03-05",
         "symptoms": "凌晨核心交换机反复重启,机框温度告警。", "impact": "全楼断网 40 分钟。",
         "timeline": "- 02:10 告警\n- 02:50 恢复", "cause": "风扇模块老化停转。",
         "handling": "更换风扇模块,清理灰尘。", "result": "恢复正常,温度回落。",
         "tags": ["交换机", "过热"], "wordings": ["交换机老是自己重启"],
         "related": ["sop-idc-environment"]}
    before_docs = s.json("/healthz")[2]["docs"]
    st, _, b = s.post("/api/faults", f, token=tok)
    check(st == 201, f"fault 201: {st} {b[:300]!r}")
    r = json.loads(b)
    fid = r["id"]
    check(re.fullmatch(r"fault-20240305-[0-9a-f]{8}", fid) is not None, f"generated id {fid}")
    check(r["path"] == f"fault/{fid}.md" and r["url"] == f"/api/docs/{fid}", f"reply {r}")
    check(os.path.exists(os.path.join(e.hb, "fault", fid + ".md")), "file written")
    st, _, d = s.json(f"/api/docs/{fid}")
    check(st == 200 and d["type"] == "fault" and d["severity"] == "较大"
          and d["title"] == f["title"] and d["tags"] == f["tags"]
          and d["symptoms"] == f["wordings"], f"fault doc {d.get('title')}")
    check([t["text"] for t in d["toc"] if t["level"] == 2] ==
          ["现象", "影响", "时间线", "原因", "处理过程", "处理结果", "经验教训"], f"sections {d['toc']}")
    check(d["lessons"] == [] and [x["id"] for x in d["related"]] == ["sop-idc-environment"],
          "no lessons yet, related resolved")
    hits = search_hits(s, "风扇模块老化停转")
    check(hits and hits[0]["id"] == fid, "new fault searchable at once")
    check(s.json("/healthz")[2]["docs"] == before_docs + 1, "one more document")
    last = e.audit_lines()[-1]
    check(last["action"] == "fault" and last["doc"] == fid and last["path"] == r["path"],
          f"audit {last}")
    st, _, b = s.post(f"/api/docs/{fid}/lessons", {"author": "张工", "text": "风扇要纳入巡检。"},
                      token=tok)
    check(st == 201, "lesson on the new fault")
    st, _, d = s.json(f"/api/docs/{fid}")
    check([x["heading"].split(" ", 1)[1] for x in d["lessons"]] == ["张工"], f"{d['lessons']}")
    # a given id; taken ids; bad fields
    g = dict(f, id="fault-given-id")
    del g["impact"]
    st, _, b = s.post("/api/faults", g, token=tok)
    check(st == 201 and json.loads(b)["id"] == "fault-given-id", f"given id: {b[:200]!r}")
    before = e.snapshot()
    for body, status, code in [
        (g, 409, "conflict"),
        (dict(f, id=DOC), 409, "conflict"),
        (dict(f, id="Bad Id"), 400, "bad_field"),
        (dict(f, severity="严重"), 400, "bad_field"),
        ({k: v for k, v in f.items() if k != "title"}, 400, "bad_field"),
        ({k: v for k, v in f.items() if k != "cause"}, 400, "bad_field"),
        (dict(f, title='带"引号'), 400, "bad_field"),
        (dict(f, tags="交换机"), 400, "bad_json"),
        (dict(f, symptoms="## 冒充章节"), 400, "bad_field"),
        (dict(f, handling="```\n未闭合"), 400, "bad_field"),
        (dict(f, related=["NOT VALID"]), 400, "bad_field"),
    ]:
        st, h, b = s.post("/api/faults", body, token=tok)
        is_error(st, h, b, status, code)
    check(e.snapshot() == before, "refused faults write nothing")


def test_cli(e, s):
    a = e.a
    f = os.path.join(e.tmp, "lesson.md")
    with open(f, "w", encoding="utf-8") as fh:
        fh.write("命令行追加:割接前备份配置,准备回退脚本。\n")
    base = [a.lesson, "--handbook", e.hb, "--db", e.db, "--tokens", e.tokens] + a.lang_args
    st = run(base + ["--doc", DOC, "--author", "命令行", "--file", f, "--incident", "CHG-1"])
    check(st.returncode == 0, f"opsbook-lesson --file: {st.stderr.decode()}")
    st = run(base + ["--doc", PLAIN, "--author", "命令行", "--date", "2023-12-31"],
             stdin="从标准输入追加:检查温湿度计电池。".encode())
    check(st.returncode == 0, f"opsbook-lesson from stdin: {st.stderr.decode()}")
    st, _, d = s.json(f"/api/docs/{DOC}")
    check(any(x["heading"].endswith("命令行 · 事件 CHG-1") for x in d["lessons"]), "CLI lesson shown")
    hits = search_hits(s, "回退脚本割接")
    check(any(h["id"] == DOC and h["section"].endswith("CHG-1") for h in hits),
          "CLI lesson searchable in the running server")
    check(any(x["heading"] == "2023-12-31 命令行" for x in s.json(f"/api/docs/{PLAIN}")[2]["lessons"]),
          "stdin lesson shown")
    check(e.audit_lines()[-1]["reviewer"].startswith("cli:"), "CLI writes are audited")
    before = e.snapshot()
    st = run(base + ["--doc", "no-such-doc", "--author", "x", "--file", f])
    check(st.returncode == 1, f"unknown doc: exit 1 ({st.returncode})")
    st = run(base + ["--doc", DOC, "--author", "x"], stdin=b"x" * 20000)
    check(st.returncode == 1, "over 16 KiB: exit 1")
    st = run(base + ["--doc", DOC, "--author", "x"], stdin=b"## heading\n")
    check(st.returncode == 1, "heading: exit 1")
    st = run(base + ["--doc", DOC])
    check(st.returncode == 2, "missing --author: exit 2")
    check(e.snapshot() == before, "refused CLI writes write nothing")


def test_parallel(e, s):
    """20 clients x 10 appends to one document, all at once."""
    tok = e.token["alice"]
    n_clients, per = 20, 10
    status = {}
    errors = []

    def client(c):
        for i in range(per):
            tag = f"c{c:02d}n{i:02d}"
            try:
                st, _, b = s.post(f"/api/docs/{DOC}/lessons",
                                  {"author": f"并发{tag}", "text": f"并发写入标记 z{tag}q 第{i}条"},
                                  token=tok)
                status[tag] = st
                if st != 201:
                    errors.append((tag, st, b[:200]))
            except (OSError, http.client.HTTPException) as ex:
                errors.append((tag, repr(ex)))

    audit_before = len(e.audit_lines())
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    took = time.monotonic() - t0
    tags = [f"c{c:02d}n{i:02d}" for c in range(n_clients) for i in range(per)]
    print(f"parallel: {len(tags)} appends by {n_clients} clients in {took:.2f} s")
    check(not errors and all(status.get(t) == 201 for t in tags), f"all 201: {errors[:3]}")
    src = e.doc_file(f"fault/{DOC}.md")
    counts = [src.count(f"z{t}q") for t in tags]
    check(all(c == 1 for c in counts), f"each lesson once in the file: {counts}")
    heads = [src.count(f"并发{t}\n") for t in tags]
    check(all(c == 1 for c in heads), "each heading once in the file")
    audit = e.audit_lines()[audit_before:]
    ah = [x["heading"].split(" ", 1)[1] for x in audit]
    check(len(audit) == 200 and sorted(ah) == sorted(f"并发{t}" for t in tags),
          f"each lesson once in the audit log ({len(audit)} lines)")
    st, _, d = s.json(f"/api/docs/{DOC}")
    got = [x["heading"].split(" ", 1)[1] for x in d["lessons"]]
    check(all(got.count(f"并发{t}") == 1 for t in tags), "each lesson once in GET /api/docs")
    missing = []
    for t in tags:
        hits = [h for h in search_hits(s, f"z{t}q") if h["id"] == DOC]
        if len(hits) != 1 or not hits[0]["section"].endswith(f"并发{t}"):
            missing.append((t, [h["section"] for h in hits]))
    check(not missing, f"each lesson once in the index: {missing[:3]}")


def test_recovery_after_crash(e):
    """The state a crash between file write and index commit leaves: a
    file newer than the index, and a temporary file. The next start fixes both."""
    rel = f"sop/{PLAIN}.md"
    p = os.path.join(e.hb, rel)
    with open(p, "a", encoding="utf-8") as f:
        f.write("\n### 2024-08-08 崩溃前\n\n写了文件却没来得及提交索引的紫藤标记。\n")
    stray = os.path.join(e.hb, "sop", f".{PLAIN}.md.ob-tmp-Ab12Cd")
    with open(stray, "w", encoding="utf-8") as f:
        f.write("---\nid: half\n---\n# 半截\n")
    s = e.serve()
    try:
        hits = search_hits(s, "紫藤标记")
        check(hits and hits[0]["id"] == PLAIN and hits[0]["section"] == "2024-08-08 崩溃前",
              f"file newer than the index re-indexed at start-up: {hits[:1]}")
        check(not os.path.exists(stray), "temporary file removed at start-up")
        check(any("start-up re-index" in ln and "1 updated" in ln for ln in s.lines),
              f"start-up re-index reported: {s.lines[:3]}")
    finally:
        check(s.stop() == 0, "stops cleanly")


def test_kill9(e):
    """kill -9 in the middle of an append loop; restart; nothing acknowledged is lost."""
    tok = e.token["alice"]
    s = e.serve()
    acked = []
    stop = threading.Event()
    docs = [DOC, PLAIN, "sop-fault-handling"]

    def loop(k):
        i = 0
        while not stop.is_set():
            tag = f"k{k}i{i:03d}"
            try:
                st, _, _ = s.post(f"/api/docs/{docs[k % len(docs)]}/lessons",
                                  {"author": f"断电{tag}", "text": f"断电测试 x{tag}y"}, token=tok)
                if st == 201:
                    acked.append((docs[k % len(docs)], tag))
                else:
                    return
            except (OSError, http.client.HTTPException):
                return
            i += 1

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    s.proc.send_signal(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(30)
    s.stop()
    check(len(acked) >= 30, f"appends acknowledged before the kill: {len(acked)}")
    s = e.serve()
    try:
        st, _, c = s.json("/api/categories")
        ids = [d["id"] for cat in c["categories"] for d in cat["docs"]]
        bad = [i for i in ids if s.json(f"/api/docs/{i}")[0] != 200]
        check(st == 200 and ids and not bad, f"every file parses after the kill: {bad}")
        leftovers = [n for _, _, ns in os.walk(e.hb) for n in ns if ".ob-tmp-" in n]
        check(not leftovers, f"no temporary files left: {leftovers}")
        lost = []
        for doc, tag in acked:
            src = e.doc_file(f"{'fault' if doc.startswith('fault') else 'sop'}/{doc}.md")
            hits = [h for h in search_hits(s, f"x{tag}y") if h["id"] == doc]
            if src.count(f"x{tag}y") != 1 or len(hits) != 1:
                lost.append(tag)
        check(not lost, f"every acknowledged lesson in its file and the index: {lost[:5]}")
        audited = {x["heading"].split(" ", 1)[1] for x in e.audit_lines() if "heading" in x}
        unaudited = []
        for doc in docs:
            src = e.doc_file(f"{'fault' if doc.startswith('fault') else 'sop'}/{doc}.md")
            for tag in re.findall(r"### \S+ 断电(k\d+i\d+)\n", src):
                if f"断电{tag}" not in audited:
                    unaudited.append(tag)
                hits = [h for h in search_hits(s, f"x{tag}y") if h["id"] == doc]
                if len(hits) != 1:
                    lost.append(("in file, not in index", tag))
        check(not unaudited, f"every lesson in the files is in the audit log: {unaudited}")
        check(not lost, f"index agrees with the files: {lost[:5]}")
        st = run([e.a.index, "--handbook", e.hb, "--db", e.db] + e.a.lang_args)
        out = st.stderr.decode()
        check(st.returncode == 0 and " 0 added, 0 updated," in out and " 0 rejected" in out,
              f"opsbook-index finds nothing left to do: {out.strip()}")
    finally:
        check(s.stop() == 0, "stops cleanly after the restart")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--lesson", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--lang")
    a = ap.parse_args()
    a.lang_args = ["--lang", a.lang] if a.lang else []
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="opsbook-lessons-test-")
    s = None
    try:
        e = Env(a, tmp)
        shutil.copytree(a.fixtures, e.hb)
        st = run([a.index, "--handbook", e.hb, "--db", e.db] + a.lang_args)
        if st.returncode != 0:
            raise SystemExit("indexing failed: " + st.stderr.decode())
        test_tokens(e)
        s = e.serve()
        check(os.path.exists(e.audit), "audit log created next to the tokens file")
        for t in (test_auth, test_append, test_html_inert, test_bad_input, test_faults,
                  test_cli, test_parallel):
            t0t = time.monotonic()
            t(e, s)
            print(f"{t.__name__}: {time.monotonic() - t0t:.2f} s", flush=True)
        test_read_only(e)
        check(s.stop() == 0, "SIGTERM: exit 0")
        s = None
        for t in (test_recovery_after_crash, test_kill9):
            t0t = time.monotonic()
            t(e)
            print(f"{t.__name__}: {time.monotonic() - t0t:.2f} s", flush=True)
    finally:
        if s is not None:
            s.proc.kill()
            print("\n".join(s.lines[-20:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"lessons: {time.monotonic() - t0:.1f} s")
    return obtest.summary()


if __name__ == "__main__":
    sys.exit(main())
