#!/usr/bin/env python3
"""Runs a server test driver with opsbook-serve under valgrind and checks
valgrind's reports: no errors, no definite leaks.

  valgrind_run.py --serve BIN -- DRIVER [DRIVER ARGS...]

DRIVER (tests/server/test_server.py, tests/hostile/test_hostile.py) gets
--serve valgrind_serve.sh, which runs BIN under
valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
with one log per process. Exit status: the driver's, 1 when a log shows an
error or a definite leak, 77 when valgrind is not installed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    argv = sys.argv[1:]
    if len(argv) < 4 or argv[0] != "--serve" or argv[2] != "--":
        sys.exit(__doc__)
    serve, driver = os.path.abspath(argv[1]), argv[3:]
    if not shutil.which("valgrind"):
        print("valgrind: skipped: valgrind is not installed")
        return 77
    logs = tempfile.mkdtemp(prefix="opsbook-valgrind-")
    env = dict(os.environ, OB_SERVE=serve, OB_VALGRIND_LOG=os.path.join(logs, "serve.%p.log"),
               OB_TIMEOUT_SCALE="5")
    rc = subprocess.run([sys.executable] + driver[:1] + ["--serve", os.path.join(HERE,
                        "valgrind_serve.sh")] + driver[1:], env=env).returncode
    bad = 0
    runs = 0
    for name in sorted(os.listdir(logs)):
        text = open(os.path.join(logs, name), errors="replace").read()
        runs += 1
        errors = sum(int(n) for n in re.findall(r"ERROR SUMMARY: (\d+) errors", text))
        definite = sum(int(n.replace(",", "")) for n in
                       re.findall(r"definitely lost: ([\d,]+) bytes", text))
        if errors or definite:
            bad += 1
            print(f"valgrind: {name}: {errors} errors, {definite} bytes definitely lost")
            print(text[-6000:])
    print(f"valgrind: {runs} server processes, {bad} with errors or definite leaks")
    if bad == 0:
        shutil.rmtree(logs, ignore_errors=True)
    else:
        print(f"valgrind: logs kept in {logs}")
    return 1 if bad else rc


if __name__ == "__main__":
    sys.exit(main())
