#!/usr/bin/env python3
"""How long from POST /api/docs/{id}/lessons until the lesson is found by /api/search.

Copies the bundled handbook to a temporary folder (the repository's handbook/
is never written), indexes it, makes a reviewer token, starts opsbook-serve
on a free port and appends N lessons round-robin to the fault write-ups.
After each 201 it searches for the lesson's unique word until the lesson is
among the hits. Prints p50/p90/p99/max of POST -> visible and of the POST
alone. Target: p99 <= 100 ms. Builds nothing.

usage: bench/lesson_visibility.py [--bin DIR] [--handbook DIR] [-n N] [--clients C]
  --bin       where opsbook-index, opsbook-serve, opsbook-lesson are (default
              $OB_BIN or build/bin)
  --handbook  handbook to copy (default handbook/)
  -n          lessons to append (default 200)
  --clients   concurrent writers (default 1)
Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("OB_BIN", os.path.join(root, "build", "bin")))
    ap.add_argument("--handbook", default=os.path.join(root, "handbook"))
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--clients", type=int, default=1)
    a = ap.parse_args()
    for b in ("opsbook-index", "opsbook-serve", "opsbook-lesson"):
        if not os.access(os.path.join(a.bin, b), os.X_OK):
            sys.exit(f"bench: {a.bin}/{b} is missing; build first (this script builds nothing)")
    tmp = tempfile.mkdtemp(prefix="opsbook-bench-lessons-")
    proc = None
    try:
        hb, db, tokens = (os.path.join(tmp, x) for x in ("handbook", "db", "tokens"))
        shutil.copytree(a.handbook, hb)
        subprocess.run([os.path.join(a.bin, "opsbook-index"), "--handbook", hb, "--db", db],
                       check=True, capture_output=True)
        token = subprocess.run([os.path.join(a.bin, "opsbook-lesson"), "--tokens", tokens,
                                "--new-token", "bench"], check=True,
                               capture_output=True).stdout.decode().strip()
        proc = subprocess.Popen([os.path.join(a.bin, "opsbook-serve"), "--db", db, "--handbook", hb,
                                 "--listen", "127.0.0.1:0", "--tokens", tokens],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        port = None
        for raw in proc.stderr:
            m = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)", raw.decode().strip())
            if m:
                port = int(m.group(1))
                break
        if port is None:
            sys.exit("bench: the server did not start")
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/api/categories")
        cats = json.loads(c.getresponse().read())
        faults = sorted(d["id"] for cat in cats["categories"] for d in cat["docs"]
                        if d["type"] == "fault")
        if not faults:
            sys.exit("bench: the handbook has no fault write-ups")
        print(f"bench: {a.n} lessons, {a.clients} writer(s), round-robin over {len(faults)} "
              f"fault write-ups of {a.handbook}")

        visible, posts, polls, failures = [], [], [], []
        lock = threading.Lock()

        def writer(k):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for i in range(k, a.n, a.clients):
                doc = faults[i % len(faults)]
                word = f"vis{i:05d}k"
                body = json.dumps({"author": "压测", "text": f"巡检发现 {word} 号机柜风扇异响,已更换。"},
                                  ensure_ascii=False).encode()
                t0 = time.perf_counter()
                conn.request("POST", f"/api/docs/{doc}/lessons", body=body,
                             headers={"Authorization": "Bearer " + token,
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                t1 = time.perf_counter()
                if r.status != 201:
                    failures.append((doc, r.status))
                    continue
                n = 0
                while True:
                    n += 1
                    conn.request("GET", "/api/search?q=" + urllib.parse.quote(word))
                    res = json.loads(conn.getresponse().read())["results"]
                    if any(h["id"] == doc for h in res):
                        break
                    if time.perf_counter() - t0 > 10:
                        failures.append((doc, "not visible after 10 s"))
                        break
                t2 = time.perf_counter()
                with lock:
                    posts.append((t1 - t0) * 1e3)
                    visible.append((t2 - t0) * 1e3)
                    polls.append(n)

        t0 = time.perf_counter()
        ts = [threading.Thread(target=writer, args=(k,)) for k in range(a.clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        took = time.perf_counter() - t0
        if failures:
            print(f"bench: {len(failures)} failures, e.g. {failures[:3]}")
        if not visible:
            return 1
        print(f"POST -> visible in /api/search: p50 {pct(visible, 50):.1f} ms  "
              f"p90 {pct(visible, 90):.1f} ms  p99 {pct(visible, 99):.1f} ms  "
              f"max {max(visible):.1f} ms")
        print(f"POST alone (201):               p50 {pct(posts, 50):.1f} ms  "
              f"p90 {pct(posts, 90):.1f} ms  p99 {pct(posts, 99):.1f} ms  "
              f"max {max(posts):.1f} ms")
        print(f"visible on the first search after the 201: {polls.count(1)}/{len(polls)}; "
              f"{len(visible) / took:.0f} lessons/s")
        ok = pct(visible, 99) <= 100 and not failures
        print("target p99 <= 100 ms: " + ("met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
