#!/usr/bin/env python3
"""Crash test: kill -9 the writers at random moments, then check nothing
acknowledged is lost and the index still agrees with the files.

Part "serve" (--rounds rounds): opsbook-serve with writes on over a copy of
the handbook, --clients clients appending lessons in a loop (each with a
unique marker), SIGKILL after a random 0.5-3 s. After each round:
  - opsbook-index of the folder into a fresh index exits 0, nothing
    rejected (every file parses);
  - every acknowledged lesson (HTTP 201) is in its file exactly once, an
    unacknowledged one (in flight at the kill) at most once, and every
    lesson in a file is in the audit log;
  - the restarted server (its start-up re-index is how a write cut short
    between file and index is caught up) has no stale lock or temporary
    file, and a search for each marker in the files finds its document
    once, one for a marker not in the files finds nothing;
  - opsbook-index on the live index then finds nothing left to do.

Part "index" (--rounds rounds): a larger handbook (bench/gencorpus.py,
--files files) indexed once; each round edits, touches, adds and deletes
files, runs opsbook-index (every third round with --rebuild) and SIGKILLs
it at a random moment of the time such a run took last (a first round
without a kill measures it; a run that finished before its kill shortens
it). After each round:
  - a fresh opsbook-index run on the same --db exits 0 (no stale lock,
    nothing rejected), and another one finds nothing left to do;
  - opsbook-search --json opens the index and finds a marker of the round;
  - a read-only server on the index counts as many documents as there are
    files, finds every marker added this round (and a sample of older
    ones) in its document, and no longer serves the deleted documents.
At the end a clean --rebuild must leave one index folder.

usage: crash.py --serve BIN --index BIN --lesson BIN --search BIN
                [--handbook DIR] [--lang DIR] [--rounds N] [--part serve|index|both]
                [--files N] [--clients N] [--seed S] [--work DIR]
Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import obtest  # noqa: E402
from obtest import check, q, run  # noqa: E402

SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
LOCKED = "holds the index lock"


def md_files(hb):
    """Relative paths of the files opsbook-index reads."""
    out = []
    for root, dirs, names in os.walk(hb):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        for n in names:
            if n.endswith(".md") and not n.startswith((".", "_")) and n != "README.md":
                out.append(os.path.relpath(os.path.join(root, n), hb))
    return sorted(out)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def fresh_index(a, hb, db):
    """Indexes hb into a new db: (ok, report line); ok when exit 0, nothing rejected."""
    shutil.rmtree(db, ignore_errors=True)
    st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args, timeout=900)
    out = st.stderr.decode().strip()
    shutil.rmtree(db, ignore_errors=True)
    return st.returncode == 0 and " 0 rejected" in out, out


def nothing_to_do(a, hb, db):
    st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args, timeout=900)
    out = st.stderr.decode().strip()
    return (st.returncode == 0 and " 0 added, 0 updated," in out and " 0 deleted," in out
            and " 0 rejected" in out), out


def hits_for(srv, text):
    st, _, r = srv.json("/api/search?limit=50&q=" + q(text))
    return [h["id"] for h in r.get("results", [])] if st == 200 else None


# ---- part 1: kill -9 the server while it appends lessons ----

def serve_rounds(a, tmp, rnd, fig):
    hb = os.path.join(tmp, "serve-handbook")
    db = os.path.join(tmp, "serve-db")
    tokens = os.path.join(tmp, "etc", "tokens")
    audit = os.path.join(tmp, "etc", "audit.jsonl")
    token = obtest.writable_handbook(a.index, a.lesson, a.handbook, hb, db, tokens, "crash",
                                     a.lang_args, timeout=900)
    argv = [a.serve, "--db", db, "--handbook", hb, "--listen", "127.0.0.1:0",
            "--tokens", tokens, "--audit", audit] + a.lang_args
    srv = obtest.Server(argv, start_timeout=120, request_timeout=30)
    st, _, c = srv.json("/api/categories")
    docs = sorted(d["id"] for cat in c["categories"] for d in cat["docs"]
                  if d["type"] in ("fault", "sop"))
    paths = {}  # doc id -> relative path, from the replies
    sent = {}   # marker -> doc id, for every append sent
    acked = []  # (round, doc, marker)
    fig.update(serve_rounds=0, acked=0, in_flight=0, in_flight_written=0, restarts_caught_up=0)
    try:
        for r in range(a.rounds):
            t0 = time.monotonic()
            stop = threading.Event()
            got = []
            lock = threading.Lock()

            def client(k):
                i = 0
                while not stop.is_set():
                    doc = docs[(k * 7 + i) % len(docs)]
                    marker = f"zc{r:02d}k{k}i{i:04d}q"
                    with lock:
                        sent[marker] = doc
                    try:
                        s, _, b = srv.post(f"/api/docs/{doc}/lessons",
                                           {"author": f"崩溃{marker}",
                                            "text": f"断电测试:先确认备份再操作 {marker}。"},
                                           token=token)
                    except (OSError, http.client.HTTPException):
                        return  # the kill
                    if s != 201:
                        check(False, f"round {r}: append {marker}: {s} {b[:200]!r}")
                        return
                    with lock:
                        got.append((r, doc, marker))
                        paths[doc] = json.loads(b)["path"]
                    i += 1

            threads = [threading.Thread(target=client, args=(k,)) for k in range(a.clients)]
            for t in threads:
                t.start()
            delay = rnd.uniform(0.5, 3.0)
            time.sleep(delay)
            srv.proc.send_signal(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(60)
            srv.stop()
            acked += got
            done = {g[2] for g in got}
            in_flight = [m for m in sent if m.startswith(f"zc{r:02d}") and m not in done]

            # every file parses
            ok, out = fresh_index(a, hb, os.path.join(tmp, "serve-fresh"))
            check(ok, f"round {r}: every file parses (fresh index): {out}")
            # every acknowledged lesson once in its file; nothing twice
            texts = {}
            for rel in md_files(hb):
                texts[rel] = read(os.path.join(hb, rel))
            everything = "".join(texts.values())
            # a lesson's text ends " MARKER。"; its heading "崩溃MARKER"
            lost = [m for _, d, m in acked if paths.get(d) is None
                    or texts.get(paths[d], "").count(f" {m}。") != 1]
            check(not lost, f"round {r}: every acknowledged lesson once in its file: "
                  f"{len(lost)} not: {lost[:5]}")
            twice = [m for m in in_flight if everything.count(f" {m}。") > 1]
            check(not twice, f"round {r}: in-flight lessons at most once: {twice[:5]}")
            written = [m for m in in_flight if everything.count(f" {m}。") == 1]
            audited = set()
            for line in read(audit).splitlines():
                m = re.fullmatch(r"\S+ 崩溃(zc\d+k\d+i\d+q)", json.loads(line).get("heading", ""))
                if m:
                    audited.add(m.group(1))
            in_files = set(re.findall(r"### \S+ 崩溃(zc\d+k\d+i\d+q)\n", everything))
            check(in_files <= audited, f"round {r}: every lesson in the files is in the audit "
                  f"log: {sorted(in_files - audited)[:5]}")
            # restart: the start-up re-index catches up; the index agrees
            srv = obtest.Server(argv, start_timeout=120, request_timeout=30)
            check(not any(LOCKED in ln or "skipped" in ln for ln in srv.lines),
                  f"round {r}: no stale lock at restart: {srv.lines[:3]}")
            leftovers = [n for _, _, ns in os.walk(hb) for n in ns if ".ob-tmp-" in n]
            check(not leftovers, f"round {r}: no temporary files after the restart: {leftovers}")
            wrong = []
            for m in [g[2] for g in got] + in_flight:
                ids = hits_for(srv, m)
                want = [sent[m]] if m in in_files else []
                if ids is None or [i for i in ids if i == sent[m]] != want:
                    wrong.append((m, want, ids))
            check(not wrong, f"round {r}: the index agrees with the files: {wrong[:5]}")
            ok, out = nothing_to_do(a, hb, db)
            check(ok, f"round {r}: opsbook-index finds nothing left to do: {out}")
            fig["serve_rounds"] += 1
            fig["acked"] += len(got)
            fig["in_flight"] += len(in_flight)
            fig["in_flight_written"] += len(written)
            up = [ln for ln in srv.lines if "start-up re-index:" in ln]
            fig["restarts_caught_up"] += bool(up)
            print(f"serve round {r:2d}: killed after {delay:.2f} s, {len(got)} acknowledged, "
                  f"{len(in_flight)} in flight ({len(written)} written), "
                  f"{up[0].split(': ', 1)[1] if up else 'start-up re-index: nothing to do'}, "
                  f"{time.monotonic() - t0:.1f} s", flush=True)
        check(fig["acked"] > 0, "lessons were acknowledged before the kills")
    finally:
        rc = srv.stop()
    check(rc == 0, f"the last server stops cleanly: {rc}")


# ---- part 2: kill -9 the indexer ----

class Corpus:
    """The larger handbook and what the files say: markers per live file."""

    def __init__(self, hb, rnd):
        self.hb = hb
        self.rnd = rnd
        self.files = md_files(hb)
        self.ids = {}
        for rel in self.files:
            m = re.search(r"^id: *(\S+)", read(os.path.join(hb, rel)), re.M)
            self.ids[rel] = m.group(1)
        self.markers = {}  # marker -> relative path

    def mutate(self, r):
        """Edits, touches, adds and deletes files; returns (new markers, deleted ids)."""
        rnd = self.rnd
        n = len(self.files)
        new, gone = [], []
        for k, rel in enumerate(rnd.sample(self.files, min(n, max(10, n // 10)))):
            marker = f"zm{r:02d}e{k:04d}q"
            with open(os.path.join(self.hb, rel), "a", encoding="utf-8") as f:
                f.write(f"\n巡检补记:复核配置和备件 {marker}。\n")
            self.markers[marker] = rel
            new.append(marker)
        now = time.time()
        for rel in rnd.sample(self.files, min(n, max(10, n // 10))):
            os.utime(os.path.join(self.hb, rel), (now, now + rnd.randint(1, 1000)))
        for k in range(max(2, n // 100)):
            src = rnd.choice(self.files)
            text = read(os.path.join(self.hb, src))
            nid = f"crash-r{r:02d}-n{k:03d}"
            marker = f"zm{r:02d}n{k:04d}q"
            text = re.sub(r"^id: *\S+", f"id: {nid}", text, count=1, flags=re.M)
            text = re.sub(r"^.* zm\d+[en]\d+q。\n", "", text, flags=re.M)  # the copy's markers
            rel = os.path.join(os.path.dirname(src), nid + ".md")
            with open(os.path.join(self.hb, rel), "w", encoding="utf-8") as f:
                f.write(text + f"\n新增文档标记 {marker}。\n")
            self.files.append(rel)
            self.ids[rel] = nid
            self.markers[marker] = rel
            new.append(marker)
        written = {self.markers[m] for m in new}
        for rel in rnd.sample(self.files, max(2, n // 200)):
            if rel in written:
                continue  # keep what this round just wrote
            os.unlink(os.path.join(self.hb, rel))
            self.files.remove(rel)
            gone.append(self.ids.pop(rel))
            for m in [m for m, p in self.markers.items() if p == rel]:
                del self.markers[m]
        self.files.sort()
        return new, gone


def index_rounds(a, tmp, rnd, fig):
    hb = os.path.join(tmp, "index-handbook")
    db = os.path.join(tmp, "index-db")
    st = run([sys.executable, a.gencorpus, "--handbook", a.handbook, "--out", hb,
              "--n", str(a.files)])
    if st.returncode != 0:
        raise SystemExit("gencorpus failed: " + st.stderr.decode())
    t0 = time.monotonic()
    st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args, timeout=900)
    full = time.monotonic() - t0
    if st.returncode != 0:
        raise SystemExit("indexing failed: " + st.stderr.decode())
    corpus = Corpus(hb, rnd)
    # how long the runs take here and now, so that the kills land inside
    # them: one round's changes, indexed without a kill (round 0)
    new, _ = corpus.mutate(0)
    t0 = time.monotonic()
    st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args, timeout=900)
    est = {False: time.monotonic() - t0, True: full}
    check(st.returncode == 0, f"indexing one round's changes: {st.stderr.decode()}")
    print(f"index: {a.files} files indexed in {full:.1f} s, one round's {len(new)} changes "
          f"in {est[False]:.1f} s", flush=True)
    fig.update(index_rounds=0, rebuild_rounds=0, killed_running=0, killed_before_commit=0,
               finished_first=0, changed_files=0, leftovers=0)
    ro = [a.serve, "--db", db, "--handbook", hb, "--listen", "127.0.0.1:0",
          "--threads", "2"] + a.lang_args
    for r in range(1, a.rounds + 1):
        t0 = time.monotonic()
        rebuild = r % 3 == 0
        new, gone = corpus.mutate(r)
        argv = [a.index, "--handbook", hb, "--db", db] + a.lang_args
        if rebuild:
            argv.append("--rebuild")
        # a random moment of the run, as long as the last ones took
        delay = rnd.uniform(0.02, 0.95 * est[rebuild])
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        time.sleep(delay)
        running = p.poll() is None
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        if not running:  # it was faster than that
            est[rebuild] = max(0.1, 0.9 * delay)
        state = sorted(os.listdir(db))
        # recovery: the next run must work (no stale lock), then nothing is left
        t1 = time.monotonic()
        st = run([a.index, "--handbook", hb, "--db", db] + a.lang_args, timeout=900)
        out = st.stderr.decode().strip()
        if not rebuild and running and " 0 updated," not in out:
            est[False] = 0.5 * est[False] + 0.5 * (time.monotonic() - t1)
        check(st.returncode == 0 and " 0 rejected" in out and LOCKED not in out,
              f"round {r}: the run after the kill works: exit {st.returncode}: {out}")
        ok, out2 = nothing_to_do(a, hb, db)
        check(ok, f"round {r}: and the next finds nothing left to do: {out2}")
        # the index opens: opsbook-search finds this round's first marker
        st = run([a.search, "--db", db, "--json", "--limit", "50", new[0]] + a.lang_args)
        try:
            ids = [h["id"] for h in json.loads(st.stdout.decode())["results"]]
        except (ValueError, KeyError):
            ids = None
        want = corpus.ids[corpus.markers[new[0]]]
        check(st.returncode == 0 and ids == [want],
              f"round {r}: opsbook-search finds {new[0]} in {want}: exit {st.returncode}, {ids}")
        # the index agrees with the files
        srv = obtest.Server(ro, start_timeout=120, request_timeout=30)
        try:
            _, _, hz = srv.json("/healthz")
            _, _, c = srv.json("/api/categories")
            listed = sorted(d["id"] for cat in c["categories"] for d in cat["docs"])
            check(hz.get("docs") == len(corpus.files) and listed == sorted(corpus.ids.values()),
                  f"round {r}: the index holds the documents of the files: {hz.get('docs')} "
                  f"documents, {len(corpus.files)} files, ids differ: "
                  f"{sorted(set(listed) ^ set(corpus.ids.values()))[:5]}")
            older = [m for m in corpus.markers if m not in new]
            sample = new + rnd.sample(older, min(20, len(older)))
            wrong = []
            for m in sample:
                ids = hits_for(srv, m)
                if ids != [corpus.ids[corpus.markers[m]]]:
                    wrong.append((m, corpus.ids[corpus.markers[m]], ids))
            check(not wrong, f"round {r}: every marker found in its document "
                  f"({len(sample)} searched): {wrong[:5]}")
            still = [d for d in gone if srv.get(f"/api/docs/{d}")[0] != 404]
            check(not still, f"round {r}: deleted documents are not served: {still}")
        finally:
            check(srv.stop() == 0, f"round {r}: read-only server stops cleanly")
        after = sorted(os.listdir(db))
        extra = [n for n in after if n not in ("CURRENT", "LOCK")][1:]
        fig["index_rounds"] += 1
        fig["killed_running"] += running
        fig["finished_first"] += not running
        m = re.search(r"(\d+) added, (\d+) updated, \d+ unchanged, (\d+) deleted", out)
        fig["killed_before_commit"] += bool(m and any(int(x) for x in m.groups()))
        fig["rebuild_rounds"] += rebuild
        fig["changed_files"] += len(new)
        print(f"index round {r:2d}: {'--rebuild' if rebuild else 'incremental'}, "
              f"{len(new)} files changed or added, {len(gone)} deleted, "
              f"{'killed' if running else 'had finished'} after {delay:.2f} s, "
              f"db then {state}, recovery: {out.split(': ', 1)[1]}, "
              f"{len(extra)} extra folders, {time.monotonic() - t0:.1f} s", flush=True)
    st = run([a.index, "--handbook", hb, "--db", db, "--rebuild"] + a.lang_args, timeout=900)
    after = sorted(os.listdir(db))
    fig["leftovers"] = [n for n in after if n not in ("CURRENT", "LOCK")][1:]
    check(st.returncode == 0 and len(after) == 3,
          f"a clean --rebuild at the end leaves one index folder: {after}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--lesson", required=True)
    ap.add_argument("--search", required=True)
    ap.add_argument("--handbook", default=os.path.join(SRC, "handbook"))
    ap.add_argument("--gencorpus", default=os.path.join(SRC, "bench", "gencorpus.py"))
    ap.add_argument("--lang")
    ap.add_argument("--rounds", type=int, default=20, help="rounds of each part (default 20)")
    ap.add_argument("--part", choices=("serve", "index", "both"), default="both")
    ap.add_argument("--files", type=int, default=2000, help="files of the larger handbook")
    ap.add_argument("--clients", type=int, default=4, help="appending clients (default 4)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", help="scratch folder (default: a new temporary folder)")
    a = ap.parse_args()
    a.lang_args = ["--lang", a.lang] if a.lang else []
    rnd = random.Random(a.seed)
    t0 = time.monotonic()
    if a.work:
        os.makedirs(a.work, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="opsbook-crash-", dir=a.work)
    fig = {}
    try:
        if a.part in ("serve", "both"):
            serve_rounds(a, tmp, rnd, fig)
        if a.part in ("index", "both"):
            index_rounds(a, tmp, rnd, fig)
    finally:
        if obtest.FAILED:
            print(f"crash: scratch folder kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("crash: " + ", ".join(f"{k} {v}" for k, v in fig.items()) +
          f"; {time.monotonic() - t0:.0f} s")
    return obtest.summary()


if __name__ == "__main__":
    sys.exit(main())
