#!/usr/bin/env python3
"""Replays the fuzz regressions and runs every libFuzzer target for a while.

The ctest test "fuzz" (tests/fuzz/CMakeLists.txt) and the long runs recorded
in docs/security.md both use this driver.

  run_fuzz.py --bin-dir DIR ...            targets already built (OB_FUZZ=ON)
  run_fuzz.py --sub-build DIR --source SRC builds them first in DIR with clang;
                                           skipped (77) when clang or its
                                           libFuzzer runtime is missing
  run_fuzz.py --skip REASON                just reports itself skipped

Every file in regressions/<target>/ is replayed on its own and must pass:
a file stays there after its bug is fixed, so the bug cannot come back.
Then each target fuzzes for --seconds, starting from corpus/<target>/ in a
scratch copy (the seed corpus in the tree is never written). Bugs already
reported and not yet fixed are listed in known-bugs.txt; while fuzzing
(not while replaying) they are tolerated, so a run can find new ones.
A crash is copied to --artifacts and fails the run.

Grown corpora, logs and crashes go to --work (kept; --fresh empties the
grown corpora first, so a run starts from the seeds alone). Without
--work they go to a scratch folder under the build tree (--sub-build, or
the folder above --bin-dir), removed after a clean run: not under /tmp,
where a tmp cleaner once removed it in the middle of a run. The ctest test
passes --work <build>/tests/fuzz/work --fresh.

Exit status: 0 clean, 1 a regression or a new crash, 77 skipped.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
# inputs longer than this are not generated (seeds may be longer)
MAX_LEN = {"doc": 65536, "fm": 8192, "query": 8192, "url": 4096, "http": 16384,
           "lesson": 20000, "jsonw": 8192}
DICTS = {"http": "http.dict"}


def skip(why):
    print(f"fuzz: skipped: {why}")
    sys.exit(SKIP)


def have_libfuzzer(cc):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.c")
        with open(src, "w") as f:
            f.write("#include <stddef.h>\n#include <stdint.h>\n"
                    "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
                    "{ (void)d; (void)n; return 0; }\n")
        r = subprocess.run([cc, "-fsanitize=fuzzer,address,undefined", src, "-o",
                            os.path.join(d, "t")], capture_output=True)
        return r.returncode == 0


def sub_build(build, source, targets):
    cc, cxx = shutil.which("clang"), shutil.which("clang++")
    if not cc or not cxx:
        skip("clang is not installed (apt-get install clang libclang-rt-14-dev)")
    if not have_libfuzzer(cc):
        skip("clang cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)")
    t0 = time.monotonic()
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        r = subprocess.run(["cmake", "-S", source, "-B", build, "-DOB_FUZZ=ON", "-DOB_WERROR=OFF",
                            f"-DCMAKE_C_COMPILER={cc}", f"-DCMAKE_CXX_COMPILER={cxx}"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-3000:], r.stderr[-3000:])
            sys.exit("fuzz: configuring the clang build failed")
    jobs = str(os.cpu_count() or 2)
    r = subprocess.run(["cmake", "--build", build, "-j", jobs, "--target"] +
                       [f"fuzz_{t}" for t in targets], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[-5000:], r.stderr[-3000:])
        sys.exit("fuzz: building the fuzz targets failed (is add_subdirectory(fuzz) in "
                 "tests/CMakeLists.txt?)")
    print(f"fuzz: built the targets in {build} ({time.monotonic() - t0:.0f} s)")
    return os.path.join(build, "bin")


def known_bugs():
    names = []
    path = os.path.join(HERE, "known-bugs.txt")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line.split()[0])
    return names


def replay(binary, files):
    """Runs each regression input on its own; returns the failing ones."""
    failed = []
    env = dict(os.environ)
    env.pop("OB_FUZZ_KNOWN", None)
    for f in files:
        r = subprocess.run([binary, "-rss_limit_mb=2048", "-timeout=20", f], env=env,
                           capture_output=True, text=True, errors="replace")
        if r.returncode != 0:
            lines = [ln for ln in r.stderr.splitlines()
                     if re.search(r"INVARIANT|ERROR: |SUMMARY|runtime error", ln)]
            failed.append((f, lines[:3]))
    return failed


def stats(log):
    s = {}
    m = re.findall(r"#(\d+)\s+(?:DONE|pulse|NEW|REDUCE)\s+cov: (\d+) ft: (\d+) corp: (\d+)/", log)
    if m:
        s["execs"], s["cov"], s["ft"], s["corpus"] = (int(x) for x in m[-1])
    m = re.search(r"stat::number_of_executed_units:\s+(\d+)", log)
    if m:
        s["execs"] = int(m.group(1))
    m = re.search(r"stat::peak_rss_mb:\s+(\d+)", log)
    if m:
        s["rss"] = int(m.group(1))
    return s


def listdir(d):
    """The names in d; [] when it does not exist (any more)."""
    try:
        return os.listdir(d)
    except FileNotFoundError:
        return []


def read_log(target, log, fh):
    """The text of a run's log, or None when it cannot be read (reported).
    It is read through the file the run wrote to, so a log whose folder was
    removed meanwhile is still read; that case is reported too."""
    if not os.path.exists(log):
        print(f"fuzz_{target}: its log {log} is gone: was the work folder removed while "
              f"it ran (a tmp cleaner)? Reading it through the open file.")
    try:
        fh.seek(0)
        return fh.read()
    except (OSError, ValueError) as e:
        print(f"fuzz_{target}: cannot read its log {log}: {e}")
        return None
    finally:
        fh.close()


def fuzz(binary, target, seconds, corpus, work, artifacts, known):
    """Starts one timed run; returns the Popen, its log path and the log
    opened for reading and writing (the caller closes it)."""
    os.makedirs(work, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    args = [binary, f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=10",
            f"-max_len={MAX_LEN.get(target, 4096)}", "-print_final_stats=1",
            f"-artifact_prefix={artifacts}/{target}-", work]
    if target in DICTS:
        args.insert(1, f"-dict={os.path.join(HERE, DICTS[target])}")
    seeds = os.path.join(corpus, target)
    if os.path.isdir(seeds):
        args.append(seeds)
    env = dict(os.environ, OB_FUZZ_KNOWN=",".join(known))
    log = os.path.join(artifacts, f"{target}.log")
    fh = open(log, "w+", errors="replace")
    try:
        p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=fh, cwd=work)
    except OSError:
        fh.close()
        raise
    return p, log, fh


def main():
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bin-dir")
    mode.add_argument("--sub-build")
    mode.add_argument("--skip")
    ap.add_argument("--source")
    ap.add_argument("--targets", nargs="+", required=True)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--parallel", type=int, default=1, help="targets fuzzing at once")
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--regressions", default=os.path.join(HERE, "regressions"))
    ap.add_argument("--work", help="keep the grown corpora, logs and crashes here "
                    "(default: a scratch folder under the build tree)")
    ap.add_argument("--fresh", action="store_true",
                    help="empty the grown corpora in --work first: start from the seeds")
    ap.add_argument("--artifacts", help="crashes and logs (default: <work>/artifacts)")
    a = ap.parse_args()
    if a.skip:
        skip(a.skip)
    bindir = os.path.abspath(a.bin_dir or sub_build(a.sub_build, a.source, a.targets))
    scratch = None
    if a.work:
        work = os.path.abspath(a.work)
        os.makedirs(work, exist_ok=True)
    else:
        parent = os.path.abspath(a.sub_build) if a.sub_build else os.path.dirname(bindir)
        os.makedirs(parent, exist_ok=True)
        scratch = work = tempfile.mkdtemp(prefix="opsbook-fuzz-", dir=parent)
    if a.fresh:
        for t in a.targets:
            shutil.rmtree(os.path.join(work, t), ignore_errors=True)
    artifacts = os.path.abspath(a.artifacts or os.path.join(work, "artifacts"))
    os.makedirs(artifacts, exist_ok=True)
    print(f"fuzz: work folder {work}")
    known = known_bugs()
    bad = 0
    try:
        # 1. regressions, strict
        for t in a.targets:
            binary = os.path.join(bindir, f"fuzz_{t}")
            if not os.path.exists(binary):
                print(f"fuzz: {binary} missing")
                bad += 1
                continue
            d = os.path.join(a.regressions, t)
            files = sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []
            files = [f for f in files if os.path.isfile(f) and not f.endswith(".md")]
            failed = replay(binary, files)
            print(f"fuzz_{t}: {len(files) - len(failed)}/{len(files)} regressions pass")
            for f, lines in failed:
                print(f"  FAIL {os.path.relpath(f, HERE)}")
                for ln in lines:
                    print(f"       {ln}")
            bad += len(failed)
        # 2. timed runs, a.parallel at a time
        if a.seconds > 0:
            if known:
                print(f"fuzz: tolerating known bugs while fuzzing: {', '.join(known)}")
            queue = [t for t in a.targets if os.path.exists(os.path.join(bindir, f"fuzz_{t}"))]
            running = []
            results = {}
            before = set(listdir(artifacts))  # crashes of earlier runs are not this run's
            while queue or running:
                while queue and len(running) < a.parallel:
                    t = queue.pop(0)
                    p, log, fh = fuzz(os.path.join(bindir, f"fuzz_{t}"), t, a.seconds, a.corpus,
                                      os.path.join(work, t), artifacts, known)
                    running.append((t, p, log, fh, time.monotonic()))
                time.sleep(0.5)
                for item in list(running):
                    t, p, log, fh, t0 = item
                    if p.poll() is None:
                        if time.monotonic() - t0 > a.seconds + 120:
                            p.kill()
                        continue
                    running.remove(item)
                    text = read_log(t, log, fh)
                    results[t] = (p.returncode, stats(text or ""), time.monotonic() - t0, text)
            if not os.path.isdir(artifacts):
                print(f"fuzz: the artifacts folder {artifacts} is gone: crash inputs, if any, "
                      f"are lost (was the work folder removed while the targets ran?)")
                bad += 1
            for t in a.targets:
                if t not in results:
                    continue  # its binary is missing (counted above)
                rc, s, took, text = results[t]
                crashes = [f for f in listdir(artifacts)
                           if f.startswith(f"{t}-") and f not in before]
                line = (f"fuzz_{t}: {took:.0f} s, {s.get('execs', 0)} executions, "
                        f"cov {s.get('cov', '?')}, ft {s.get('ft', '?')}, "
                        f"corpus {s.get('corpus', '?')}, peak RSS {s.get('rss', '?')} MB")
                if text is None:
                    bad += 1
                    print(line + f"  FAILED: no log, exit {rc}")
                elif rc != 0 or crashes:
                    bad += 1
                    why = [ln for ln in text.splitlines()
                           if re.search(r"INVARIANT|ERROR: |SUMMARY|runtime error", ln)][:4]
                    print(line + f"  FAILED (exit {rc})")
                    for ln in why:
                        print(f"  {ln}")
                    for f in crashes:
                        print(f"  input: {os.path.join(artifacts, f)}  (add it to "
                              f"tests/fuzz/regressions/{t}/ once triaged)")
                else:
                    print(line + "  clean")
    finally:
        if scratch and not bad:
            shutil.rmtree(scratch, ignore_errors=True)
        elif scratch and os.path.isdir(scratch):
            print(f"fuzz: logs and inputs kept in {scratch}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
