#!/usr/bin/env python3
"""Soak test: the real opsbook-serve under mixed load for a while.

Copies a handbook (default: the bundled handbook/) to a scratch folder,
indexes it, makes a reviewer token with opsbook-lesson --new-token and
starts opsbook-serve on port 0 with writes on. For --duration seconds,
--clients threads send a mix on loopback: /api/search with the colloquial
queries of tests/quality/fresh.jsonl, /api/answer, GET /api/docs/{id},
/api/categories and the static files, each thread on a keep-alive
connection it replaces every 50 requests; one more thread appends exactly
one lesson a second (POST /api/docs/{id}/lessons), rotating over the fault
documents. The server's VmRSS is sampled every --rss-every seconds.

Checks: no 5xx, no socket error or timeout, no other unexpected status;
every append acknowledged (201); VmRSS grows less than 5 % after a
warm-up (the first 20 % of the run): the median sample of the next 10 %
of the run against the median of the last 10 % (less than 25 % in runs
shorter than --rss-min, 120 s, where the allocator and caches are still
settling; not checked with --no-rss, for sanitizer builds); every
acknowledged lesson once in its file and found by a search for its
marker; the server stops cleanly on SIGTERM; opsbook-index finds nothing
left to do in the live index, and indexes every file of the folder into a
fresh one (exit 0, nothing rejected, as many documents as the server
counted). Prints the figures: requests, 5xx, socket errors, latency
p50/p99 by kind, VmRSS after the warm-up and at the end.

usage: soak.py --serve BIN --index BIN --lesson BIN [--handbook DIR]
               [--lang DIR] [--web DIR] [--duration S] [--clients N]
               [--threads N] [--no-rss] [--work DIR]
Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import statistics
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
WARMUP = 0.2        # share of the run before the RSS baseline
WINDOW = 0.1        # share of the run in each VmRSS window compared
RSS_GROWTH = 5.0    # per cent allowed from after the warm-up to the end
RSS_GROWTH_SHORT = 25.0  # the same, relaxed, for runs shorter than --rss-min
RECONNECT = 50      # requests per keep-alive connection
# share of each kind of request in the mix (the lesson writer is separate)
MIX = [("search", 45), ("answer", 15), ("doc", 20), ("categories", 5), ("static", 15)]


def percentile(xs, p):
    """The p-th percentile (nearest rank) of a sorted list."""
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


class Stats:
    """Per-kind latencies and statuses, shared by the load threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lat = {}        # kind -> [seconds]
        self.status = {}     # status -> count
        self.errors = []     # (kind, path, repr(exception)) for socket errors and timeouts
        self.unexpected = []  # (kind, path, status, body head)

    def add(self, kind, took, status):
        with self.lock:
            self.lat.setdefault(kind, []).append(took)
            self.status[status] = self.status.get(status, 0) + 1

    def error(self, kind, path, ex):
        with self.lock:
            self.errors.append((kind, path, repr(ex)))

    def bad(self, kind, path, status, body):
        with self.lock:
            self.unexpected.append((kind, path, status, body[:200]))

    def total(self):
        with self.lock:
            return sum(len(v) for v in self.lat.values())


class Load:
    """What the load threads pick from."""

    def __init__(self, queries, docs, statics):
        self.queries = queries
        self.docs = docs
        self.statics = statics
        kinds = []
        for kind, w in MIX:
            kinds += [kind] * w
        self.kinds = kinds

    def pick(self, rnd):
        kind = rnd.choice(self.kinds)
        if kind == "search":
            params = ""
            r = rnd.random()
            if r < 0.15:
                params = "&limit=" + str(rnd.choice([1, 5, 20, 50]))
            elif r < 0.25:
                params = "&type=" + rnd.choice(["sop", "phrase", "fault"])
            elif r < 0.30:
                params = "&offset=10"
            return kind, "/api/search?q=" + q(rnd.choice(self.queries)) + params
        if kind == "answer":
            return kind, "/api/answer?q=" + q(rnd.choice(self.queries))
        if kind == "doc":
            return kind, "/api/docs/" + rnd.choice(self.docs)
        if kind == "categories":
            return kind, "/api/categories"
        return kind, rnd.choice(self.statics)


def load_thread(port, load, stats, stop, seed):
    rnd = random.Random(seed)
    conn = None
    used = 0
    while not stop.is_set():
        kind, path = load.pick(rnd)
        headers = {"Accept-Encoding": "gzip"} if rnd.random() < 0.3 else {}
        if conn is None or used >= RECONNECT:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            used = 0
        t0 = time.monotonic()
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as ex:
            stats.error(kind, path, ex)
            conn.close()
            conn = None
            continue
        took = time.monotonic() - t0
        used += 1
        stats.add(kind, took, status)
        if status != 200:
            stats.bad(kind, path, status, body)
        elif kind != "static" and r.getheader("Content-Encoding") is None:
            try:
                json.loads(body.decode("utf-8"))
            except ValueError:
                stats.bad(kind, path, "bad JSON", body)
        if r.will_close:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


def writer_thread(srv, token, faults, stop, t_start, every, acked, failed, lat):
    """One lesson every `every` seconds, rotating over the fault documents."""
    i = 0
    while not stop.is_set():
        due = t_start + i * every
        delay = due - time.monotonic()
        if delay > 0 and stop.wait(delay):
            break
        doc = faults[i % len(faults)]
        marker = f"zs{i:05d}q"
        author = f"浸泡{i:05d}"
        body = {"author": author,
                "text": f"浸泡测试第{i}条:巡检时复核告警阈值和备件库存,标记 {marker}。"}
        t0 = time.monotonic()
        try:
            st, _, b = srv.post(f"/api/docs/{doc}/lessons", body, token=token)
        except (OSError, http.client.HTTPException) as ex:
            failed.append((doc, marker, repr(ex)))
            i += 1
            continue
        lat.append(time.monotonic() - t0)
        if st == 201:
            acked.append((doc, marker, author, json.loads(b)["path"]))
        else:
            failed.append((doc, marker, st, b[:200]))
        i += 1


def rss_thread(srv, stop, samples, every):
    t0 = time.monotonic()
    while True:
        samples.append((time.monotonic() - t0, srv.rss_kb()))
        if stop.wait(every):
            break


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line)["q"])
    return out


def search_hits(srv, text):
    st, _, r = srv.json("/api/search?limit=50&q=" + q(text))
    return st, r.get("results", []) if st == 200 else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--lesson", required=True)
    ap.add_argument("--handbook", default=os.path.join(SRC, "handbook"))
    ap.add_argument("--lang")
    ap.add_argument("--web", default=os.path.join(SRC, "web"))
    ap.add_argument("--queries", default=os.path.join(SRC, "tests", "quality", "fresh.jsonl"))
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--clients", type=int, default=4, help="load threads (default 4)")
    ap.add_argument("--write-every", type=float, default=1.0,
                    help="seconds between lesson appends (default 1; 0: none)")
    ap.add_argument("--rss-log", help="write the VmRSS samples here (seconds, kB a line)")
    ap.add_argument("--threads", type=int, help="the server's --threads (default: its own)")
    ap.add_argument("--rss-every", type=float, default=2.0, help="seconds between VmRSS samples")
    ap.add_argument("--rss-min", type=float, default=120,
                    help=f"shorter runs allow {RSS_GROWTH_SHORT} %% VmRSS growth, not {RSS_GROWTH}")
    ap.add_argument("--no-rss", action="store_true",
                    help="report VmRSS but do not check it (sanitizer builds)")
    ap.add_argument("--work", help="scratch folder (default: a new temporary folder)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    lang = ["--lang", a.lang] if a.lang else []
    t_all = time.monotonic()
    if a.work:
        os.makedirs(a.work, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="opsbook-soak-", dir=a.work)
    srv = None
    try:
        hb = os.path.join(tmp, "handbook")
        db = os.path.join(tmp, "db")
        tokens = os.path.join(tmp, "etc", "tokens")
        token = obtest.writable_handbook(a.index, a.lesson, a.handbook, hb, db, tokens, "soak",
                                         lang)
        queries = read_queries(a.queries)
        statics = ["/"] + sorted("/" + n for n in os.listdir(a.web) if not n.startswith(".")
                                 and os.path.isfile(os.path.join(a.web, n)))

        argv = [a.serve, "--db", db, "--handbook", hb, "--web", a.web, "--listen", "127.0.0.1:0",
                "--tokens", tokens] + lang
        if a.threads:
            argv += ["--threads", str(a.threads)]
        srv = obtest.Server(argv, start_timeout=120, request_timeout=30, keep=2000)
        st, _, c = srv.json("/api/categories")
        docs = [d for cat in c["categories"] for d in cat["docs"]]
        faults = sorted(d["id"] for d in docs if d["type"] == "fault")
        ids = sorted(d["id"] for d in docs)
        if not check(st == 200 and faults, f"categories list fault documents: {st}"):
            return obtest.summary()
        print(f"soak: {len(ids)} documents ({len(faults)} faults), {len(queries)} queries, "
              f"{len(statics)} static paths, {a.clients} clients + "
              f"{'1 writer' if a.write_every > 0 else 'no writer'}, "
              f"{a.duration:.0f} s", flush=True)

        stats = Stats()
        load = Load(queries, ids, statics)
        stop = threading.Event()
        rss_stop = threading.Event()
        acked, failed, wlat, samples = [], [], [], []
        t_start = time.monotonic()
        threads = [threading.Thread(target=load_thread,
                                    args=(srv.port, load, stats, stop, a.seed * 1000 + k))
                   for k in range(a.clients)]
        if a.write_every > 0:
            threads.append(threading.Thread(target=writer_thread,
                                            args=(srv, token, faults, stop, t_start,
                                                  a.write_every, acked, failed, wlat)))
        sampler = threading.Thread(target=rss_thread, args=(srv, rss_stop, samples, a.rss_every))
        for t in threads:
            t.start()
        sampler.start()
        last = t_start
        while True:
            now = time.monotonic()
            if now - t_start >= a.duration or srv.proc.poll() is not None:
                break
            time.sleep(min(1.0, a.duration - (now - t_start)))
            if now - last >= 30:
                last = now
                rss = samples[-1][1] if samples else 0
                print(f"  {now - t_start:5.0f} s: {stats.total()} requests, {len(acked)} lessons, "
                      f"{len(stats.errors)} socket errors, VmRSS {rss} kB", flush=True)
        stop.set()
        elapsed = time.monotonic() - t_start
        for t in threads:
            t.join(60)
        rss_stop.set()
        sampler.join(10)
        if a.rss_log:
            with open(a.rss_log, "w") as f:
                f.writelines(f"{t:.1f} {kb}\n" for t, kb in samples)
        check(srv.proc.poll() is None, f"the server is still running (exit {srv.proc.poll()})")

        # ---- figures ----
        n = stats.total()
        n5xx = sum(c for s, c in stats.status.items() if isinstance(s, int) and s >= 500)
        every = sorted(x for v in stats.lat.values() for x in v)
        statuses = dict(sorted(stats.status.items(), key=str))
        print(f"soak: {elapsed:.0f} s, {n} requests ({n / elapsed:.0f}/s), "
              f"{len(acked) + len(failed)} lesson appends, statuses {statuses}")
        print(f"soak: latency all: p50 {percentile(every, 50) * 1000:.1f} ms, "
              f"p99 {percentile(every, 99) * 1000:.1f} ms, "
              f"max {every[-1] * 1000 if every else 0:.0f} ms")
        for kind, _ in MIX:
            xs = sorted(stats.lat.get(kind, []))
            print(f"  {kind:10s} {len(xs):7d}  p50 {percentile(xs, 50) * 1000:7.1f} ms  "
                  f"p99 {percentile(xs, 99) * 1000:7.1f} ms")
            check(xs or not a.clients, f"{kind}: at least one request ran")
        ws = sorted(wlat)
        print(f"  {'lesson':10s} {len(ws):7d}  p50 {percentile(ws, 50) * 1000:7.1f} ms  "
              f"p99 {percentile(ws, 99) * 1000:7.1f} ms")
        check(n5xx == 0, f"no 5xx: {n5xx}: {[u for u in stats.unexpected][:3]}")
        check(not stats.errors, f"no socket errors or timeouts: {len(stats.errors)}: "
              f"{stats.errors[:3]}")
        check(not stats.unexpected, f"no unexpected answers: {len(stats.unexpected)}: "
              f"{stats.unexpected[:3]}")
        appends = len(acked) + len(failed)
        if a.write_every > 0:
            want = int(elapsed / a.write_every) - 1
            check(appends >= want, f"one lesson every {a.write_every:g} s: {appends} in "
                  f"{elapsed:.0f} s")
        check(not failed, f"every append acknowledged (201): {len(failed)} not: {failed[:3]}")

        # memory: the median sample of a window just after the warm-up
        # against that of the last window. Single samples swing by several
        # per cent (a write or a large reply in flight, malloc's arenas
        # growing and trimming); a leak moves the median
        width = max(WINDOW * elapsed, 3 * a.rss_every)
        w0 = [x for x in samples if WARMUP * elapsed <= x[0] < WARMUP * elapsed + width]
        w1 = [x for x in samples if x[0] >= elapsed - width]
        if w0 and w1 and w0[0][0] < w1[0][0]:
            rw = statistics.median(x[1] for x in w0)
            re_ = statistics.median(x[1] for x in w1)
            growth = (re_ - rw) * 100.0 / rw if rw else float("inf")
            print(f"soak: VmRSS {samples[0][1]} kB at start; median {rw:.0f} kB in "
                  f"{w0[0][0]:.0f}-{w0[-1][0]:.0f} s (after the warm-up), {re_:.0f} kB in "
                  f"{w1[0][0]:.0f}-{w1[-1][0]:.0f} s (end): {growth:+.2f} %; range after the "
                  f"warm-up {min(x[1] for x in samples if x[0] >= w0[0][0])}-"
                  f"{max(x[1] for x in samples)} kB, {len(samples)} samples")
            limit = RSS_GROWTH
            if a.no_rss:
                print("soak: VmRSS growth not checked (--no-rss)")
                limit = None
            elif a.duration < a.rss_min:
                limit = RSS_GROWTH_SHORT
                print(f"soak: VmRSS check relaxed to < {limit} %: a {a.duration:.0f} s run is "
                      f"shorter than {a.rss_min:.0f} s (--rss-min), where the allocator and the "
                      f"caches are still settling; the full run checks < {RSS_GROWTH} %")
            if limit is not None:
                check(growth < limit, f"VmRSS grew {growth:.2f} % after the warm-up "
                      f"({rw:.0f} -> {re_:.0f} kB), limit {limit} %")
        else:
            check(a.no_rss, f"VmRSS samples after the warm-up and at the end: {samples}")

        # every acknowledged lesson: once in its file, found by a search
        lost = []
        for doc, marker, author, rel in acked:
            with open(os.path.join(hb, rel), encoding="utf-8") as f:
                src = f.read()
            if src.count(marker) != 1 or src.count(f" {author}\n") != 1:
                lost.append((doc, marker, "file", src.count(marker)))
                continue
            st, hits = search_hits(srv, marker)
            mine = [h for h in hits if h["id"] == doc]
            if st != 200 or len(mine) != 1 or not mine[0]["section"].endswith(author):
                lost.append((doc, marker, "search", st, [h["section"] for h in mine]))
        check((acked or not a.write_every) and not lost,
              f"every acknowledged lesson ({len(acked)}) once in its file and found by its "
              f"marker: {lost[:3]}")
        st, _, hz = srv.json("/healthz")
        served_docs = hz.get("docs")
        leftovers = [nm for _, _, ns in os.walk(hb) for nm in ns if ".ob-tmp-" in nm]
        check(not leftovers, f"no temporary files left: {leftovers}")
        errs = [ln for ln in srv.lines if ln.startswith("opsbook-serve:")
                and "start-up re-index" not in ln]
        check(not errs, f"no server-side errors in the log: {errs[:5]}")
        rc = srv.stop()
        srv = None
        check(rc == 0, f"SIGTERM: exit {rc}")

        # the files and the index agree
        st = run([a.index, "--handbook", hb, "--db", db] + lang, timeout=600)
        out = st.stderr.decode().strip()
        check(st.returncode == 0 and " 0 added, 0 updated," in out and " 0 rejected" in out,
              f"opsbook-index finds nothing left to do: {out}")
        st = run([a.index, "--handbook", hb, "--db", os.path.join(tmp, "db-fresh")] + lang,
                 timeout=600)
        out = st.stderr.decode().strip()
        m = re.search(r"(\d+) files: (\d+) added", out)
        check(st.returncode == 0 and " 0 rejected" in out and m and int(m.group(2)) == served_docs,
              f"every file parses: a fresh index of the folder: exit {st.returncode}: {out} "
              f"(server: {served_docs} documents)")
        print(f"soak: {len(acked)} lessons acknowledged and found; "
              f"total {time.monotonic() - t_all:.0f} s")
    finally:
        if srv is not None:
            srv.proc.kill()
            srv.proc.wait()
            print("\n".join(srv.lines[-20:]))
        if obtest.FAILED:
            print(f"soak: scratch folder kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return obtest.summary()


if __name__ == "__main__":
    sys.exit(main())
