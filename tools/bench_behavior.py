#!/usr/bin/env python3
"""Behaviour monitor cost, one run, each case in a fresh interpreter (audit hooks are permanent):
per audited operation (open+close of a file, a loopback connect) and per invocation of a handler
doing typical I/O, without the monitor and with it (enforcing a learned baseline).

    python tools/bench_behavior.py [--markdown]
"""

import json
import os
import subprocess
import sys
import time

CHILD = r'''
import json, os, socket, sys, tempfile, threading, time, statistics
mode = sys.argv[1]
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "data.json")
open(path, "w").write('{"a": 1}')
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1024)
port = srv.getsockname()[1]
threading.Thread(target=lambda: [srv.accept()[0].close() for _ in iter(int, 1)], daemon=True).start()

def op_open():
    with open(path) as fh:
        fh.read()

def op_connect():
    s = socket.create_connection(("127.0.0.1", port)); s.close()

def handler():
    for _ in range(5):
        op_open()
    op_connect()
    json.loads(open(path).read())
    time.sleep(0)

ctx = None
if mode != "bare":
    from edge_ssre.behavior import Monitor, BehaviorPolicy
    learn = Monitor("learn", None)
    with learn.invocation(request_id="l"):
        handler()
    mon = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml()))
    ctx = lambda: mon.invocation(request_id="r")

def timed(fn, n):
    out = []
    for _ in range(5):
        t = time.perf_counter()
        if ctx is None:
            for _ in range(n): fn()
        else:
            with ctx():
                for _ in range(n): fn()
        out.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(out)

def per_invocation(n):
    out = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            if ctx is None:
                handler()
            else:
                with ctx():
                    handler()
        out.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(out)

print(json.dumps({"open_us": timed(op_open, 3000), "connect_us": timed(op_connect, 500), "invocation_us": per_invocation(500)}))
'''


def run(mode):
    r = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=300,
                       cwd=os.path.join(os.path.dirname(__file__), ".."))
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout)


def main(argv=None):
    md = "--markdown" in (argv or sys.argv[1:])
    bare, mon = run("bare"), run("monitor")
    rows = [("open+read+close of a file", bare["open_us"], mon["open_us"]),
            ("connect to a loopback port", bare["connect_us"], mon["connect_us"]),
            ("handler invocation (6 file opens, 1 connect, JSON)", bare["invocation_us"], mon["invocation_us"])]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if md:
        print("## Behaviour monitor (tools/bench_behavior.py)\n")
        print("Command: `python tools/bench_behavior.py --markdown` · %s · 2 cores (shared, noisy); medians of 5 "
              "repeats, bare and monitored in fresh interpreters of the same run\n" % stamp)
        print("| case | bare | monitored (block mode, learned baseline) | added | ratio |\n| --- | ---: | ---: | ---: | ---: |")
        for name, b, m in rows:
            print("| %s | %.2f us | %.2f us | %.2f us | %.3fx |" % (name, b, m, m - b, m / b))
    else:
        for name, b, m in rows:
            print("%-55s bare %8.2f us  monitored %8.2f us  added %6.2f us  (%.3fx)" % (name, b, m, m - b, m / b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
