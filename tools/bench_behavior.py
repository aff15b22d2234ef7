#!/usr/bin/env python3
"""Behaviour monitor cost: per audited operation (open+read+close of a file, a loopback connect)
and per invocation of two handlers, without the monitor and with it (block mode, enforcing a
learned baseline). Audit hooks are permanent, so each side runs in a fresh interpreter; a round
is one bare and one monitored interpreter (the order alternates), each timing interleaved
repeats of every case and reporting medians; the table shows the median over the rounds and
the range of the added cost. On a shared machine that range is wide (one fresh interpreter
differs from the next by several per cent), so the monitored interpreter also times each batch
outside an invocation (hook installed, nothing judged) beside the same batch inside one, in
alternating order, as CPU time of the handler's thread: that A/B is the cost of judging plus the
invocation scope, free of waits on the service thread and of other processes' load (it leaves
out only the installed hook's early exit, paid on every audit event in or out of invocations).

Handlers (real files and real loopback sockets, no mocks):
  * I/O-light: 6 opens of a small JSON file, 1 connect (closed at once), a JSON parse.
  * typical edge handler: reads its config file, makes an HTTP/1.1 request (http.client) to a
    local service (another process answering on a loopback socket), reads the reply, writes a
    result file.

The services (the connect target and the HTTP service) run in one separate, unmonitored process
shared by every round, as a handler's services do: threads inside the measured interpreter would
run the audit hook too and trade the GIL with the handler, which measured scheduling, not the
monitor.

    python tools/bench_behavior.py [--markdown] [--rounds N] [--repeats N] [--service-delay-ms MS]
    python tools/bench_behavior.py --breakdown [--rounds N]

--service-delay-ms makes the HTTP service take MS milliseconds to answer (a service across a LAN, or
one doing work): the monitor's microseconds are the same, the handler longer. The target is read on
the default, a loopback service answering at once (the hardest case for a ratio).

--breakdown splits the fresh-interpreter difference: per round, in shuffled order, a bare
interpreter, one that only imports the package, one with an empty audit hook, one with the
monitor's hook installed but the handler called outside any invocation, and the monitored one;
each as the median over rounds of its difference to the same round's bare interpreter.
"""

import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time

SERVICES = r'''
import json, socket, sys, threading, time
DELAY = float(sys.argv[1])  # seconds the HTTP service takes to answer (0: at once)
# a port that accepts and closes at once, and a local HTTP/1.1 service: one request per
# connection, a small JSON answer. Its own process, as a handler's services are: threads in the
# measured interpreter would run the audit hook too and compete with the handler for the GIL.
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1024)
svc = socket.socket(); svc.bind(("127.0.0.1", 0)); svc.listen(1024)
BODY = json.dumps({"id": 7, "price": 12.5, "stock": 31, "currency": "EUR"}).encode()
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
         % len(BODY)) + BODY

def sink():
    while True:
        srv.accept()[0].close()

def serve():
    while True:
        conn, _ = svc.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            if DELAY:
                time.sleep(DELAY)
            conn.sendall(REPLY)

threading.Thread(target=sink, daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
print(srv.getsockname()[1], svc.getsockname()[1], flush=True)
sys.stdin.read()  # until the bench closes our stdin
'''

CHILD = r'''
import http.client, json, os, socket, statistics, sys, tempfile, threading, time
mode = sys.argv[1]
REPEATS = int(sys.argv[2])
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "data.json")
with open(path, "w") as fh:
    fh.write('{"a": 1}')
config = os.path.join(tmp, "config.json")
with open(config, "w") as fh:
    json.dump({"service": "/quote", "currency": "EUR", "margin": 0.07, "fields": ["id", "price", "stock"]}, fh)
result_path = os.path.join(tmp, "result.json")

port, svc_port = int(sys.argv[3]), int(sys.argv[4])  # the services run in another process (see SERVICES)

def op_open():
    with open(path) as fh:
        fh.read()

def op_connect():
    s = socket.create_connection(("127.0.0.1", port)); s.close()

def light_handler():
    for _ in range(5):
        op_open()
    op_connect()
    json.loads(open(path).read())
    time.sleep(0)

def typical_handler():
    with open(config) as fh:
        cfg = json.load(fh)
    conn = http.client.HTTPConnection("127.0.0.1", svc_port, timeout=5)
    conn.request("GET", cfg["service"] + "?id=7", headers={"Accept": "application/json"})
    reply = conn.getresponse()
    quote = json.loads(reply.read())
    conn.close()
    out = {k: quote[k] for k in cfg["fields"]}
    out["price"] = round(quote["price"] * (1 + cfg["margin"]), 2)
    with open(result_path, "w") as fh:
        json.dump(out, fh)

run = None
if mode == "emptyhook":  # --breakdown: the least any audit hook costs
    sys.addaudithook(lambda event, args: None)
elif mode == "importonly":  # --breakdown: the package imported, nothing installed
    import edge_ssre.behavior
elif mode != "bare":
    if mode == "setuponly":  # --breakdown: all the monitor's set-up, its hook swapped for an empty one
        import edge_ssre.behavior.monitor
        edge_ssre.behavior.monitor._make_hook = lambda: (lambda event, args: None)
    from edge_ssre.behavior import Monitor, BehaviorPolicy
    learn = Monitor("learn", None)
    with learn.invocation(request_id="l"):
        light_handler()
        typical_handler()
    mon = Monitor("block", BehaviorPolicy.load(text=learn.baseline_toml()))
    if mode == "monitor":  # ("installed", --breakdown: the hook installed, the calls plain)
        run = mon.run  # what protect() calls around a synchronous handler

def batch(fn, n, monitored, per_call):
    """(wall, CPU time of this thread) per call, in microseconds. Unmonitored batches call the
    function plainly, as a runtime calls a handler; monitored ones through the monitor."""
    def many():
        for _ in range(n): fn()
    t, c = time.perf_counter(), time.thread_time()
    if not monitored:
        many()
    elif per_call:  # one invocation per handler call
        for _ in range(n): run("r", fn)
    else:  # one invocation around a batch of operations
        run("r", many)
    return (time.perf_counter() - t) / n * 1e6, (time.thread_time() - c) / n * 1e6

typical_handler()  # warm both sides alike
light_handler()
cases = (("open", op_open, 500, False), ("connect", op_connect, 100, False), ("light", light_handler, 50, True),
         ("typical", typical_handler, 50, True))
# repeats interleave the cases, so a burst of load elsewhere lands on all of them alike; the
# monitored interpreter also times each batch outside any invocation (hook installed, nothing
# judged, the handler called plainly) beside the same batch inside one: an A/B in one
# interpreter. A second batch outside (an A/A) shows what the procedure itself reads into such a
# difference.
ORDERS = (("in", "out", "out2"), ("out", "out2", "in"), ("out2", "in", "out"),
          ("out2", "out", "in"), ("in", "out2", "out"), ("out", "in", "out2"))
wall = {k: [] for k, *_ in cases}
cpu = {k: [] for k, *_ in cases}  # this interpreter's handler-thread CPU time (monitored: inside invocations)
cpu_in = {k: [] for k, *_ in cases}
cpu_out = {k: [] for k, *_ in cases}
cpu_out2 = {k: [] for k, *_ in cases}
for rep in range(REPEATS):
    for key, fn, n, per_call in cases:
        if run is None:  # the bare interpreter
            w, c = batch(fn, n, False, per_call)
            wall[key].append(w)
            cpu[key].append(c)
            continue
        # the six orders of the three batches in turn, so each sits first, second and third equally
        # often (a batch leaves work behind: the service still closing connections, warm caches). With
        # "out" always in the middle, the out-vs-out control read +0.6-0.9 % every run: a position bias
        # that the in-vs-out column carried as well.
        for which in ORDERS[rep % len(ORDERS)]:
            w, c = batch(fn, n, which == "in", per_call)
            if which == "in":
                wall[key].append(w)
                cpu[key].append(c)
                cpu_in[key].append(c)
            else:
                (cpu_out if which == "out" else cpu_out2)[key].append(c)
out = {k: statistics.median(v) for k, v in wall.items()}
out["cpu"] = {k: statistics.median(v) for k, v in cpu.items()}
if run is not None:
    out["ab"] = {k: [i - o for i, o in zip(cpu_in[k], cpu_out[k])] for k in wall}
    out["aa"] = {k: [o2 - o for o2, o in zip(cpu_out2[k], cpu_out[k])] for k in wall}
print(json.dumps(out))
'''

CASES = (("open", "open+read+close of a file", "op"),
         ("connect", "connect to a loopback port (getaddrinfo + connect)", "op"),
         ("light", "I/O-light handler (6 file opens, 1 connect, JSON)", "handler"),
         ("typical", "typical edge handler (read config, HTTP request/reply over loopback, write result)", "handler"))


def run(mode, repeats, ports, seed):
    """One fresh interpreter timing every case. The interpreters of one round share a hash seed
    (drawn per round): str hashes place the keys of every dict, and two interpreters differing in
    that too differ by more than the monitor costs."""
    r = subprocess.run([sys.executable, "-c", CHILD, mode, str(repeats)] + [str(p) for p in ports],
                       capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONHASHSEED=str(seed)),
                       cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout)


@contextlib.contextmanager
def services(delay_ms=0.0):
    """The unmonitored services process (see SERVICES) for a whole run: yields its ports."""
    proc = subprocess.Popen([sys.executable, "-c", SERVICES, str(delay_ms / 1000.0)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield [int(p) for p in proc.stdout.readline().split()]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def interquartile(d):
    """The interquartile range of sorted differences, as the tables print it."""
    q = len(d) // 4
    return "(%+.0f .. %+.0f)" % (d[q], d[-1 - q])


def option(argv, name, default, kind=int):
    return kind(argv[argv.index(name) + 1]) if name in argv else default


BREAKDOWN = (("importonly", "package imported, no hook"), ("emptyhook", "an empty audit hook (lambda e, a: None)"),
             ("setuponly", "the monitor set up (learned, policy loaded), an empty hook in place of its own"),
             ("installed", "the monitor's hook, handler called outside invocations"),
             ("monitor", "monitored (Monitor.run per call)"))


def breakdown(rounds, repeats):
    rng = random.Random(7)
    modes = ["bare"] + [m for m, _ in BREAKDOWN]
    res = {m: [] for m in modes}
    with services() as ports:
        for _ in range(rounds):
            order = modes[:]
            rng.shuffle(order)
            seed = rng.randrange(1 << 32)
            for mode in order:
                res[mode].append(run(mode, repeats, ports, seed))
    print("Command: `python tools/bench_behavior.py --breakdown --rounds %d` · %s · %d cores (shared, noisy) · "
          "median over rounds of each interpreter's difference to the same round's bare one (interquartile range)\n"
          % (rounds, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count()))
    print("| case | bare | " + " | ".join(label for _, label in BREAKDOWN) + " |")
    print("| --- | ---: |" + " ---: |" * len(BREAKDOWN))
    for key, name, _ in CASES:
        b = statistics.median(r[key] for r in res["bare"])
        cells = []
        for mode, _ in BREAKDOWN:
            d = sorted(r[key] - br[key] for r, br in zip(res[mode], res["bare"]))
            cells.append("%+.1f us = %+.1f %% %s" % (statistics.median(d), statistics.median(d) / b * 100,
                                                   interquartile(d)))
        print("| %s | %.1f us | %s |" % (name, b, " | ".join(cells)))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    md = "--markdown" in argv
    split = "--breakdown" in argv
    rounds = option(argv, "--rounds", 30 if split else 11)
    if split:
        return breakdown(rounds, 12)
    repeats = option(argv, "--repeats", 24)
    delay_ms = option(argv, "--service-delay-ms", 0.0, float)
    bare, mon = [], []
    seeds = random.Random(11)
    with services(delay_ms) as ports:
        for i in range(rounds):
            order = (("monitor", mon), ("bare", bare)) if i % 2 else (("bare", bare), ("monitor", mon))
            seed = seeds.randrange(1 << 32)
            for mode, into in order:
                into.append(run(mode, repeats, ports, seed))

    def verdict(cost, kind, b):
        return "PASS" if (cost <= 5.0 if kind == "op" else cost / b <= 0.02) else "FAIL"

    rows = []
    for key, name, kind in CASES:
        if key == "typical" and delay_ms:
            name = name.replace("over loopback", "over loopback, the service answering in %g ms" % delay_ms)
        b = statistics.median(r[key] for r in bare)
        m = statistics.median(r[key] for r in mon)
        added = sorted(mr[key] - br[key] for br, mr in zip(bare, mon))
        added_cpu = sorted(mr["cpu"][key] - br["cpu"][key] for br, mr in zip(bare, mon))
        ab = statistics.median(d for r in mon for d in r["ab"][key])
        aa = statistics.median(d for r in mon for d in r["aa"][key])
        # the cost: wall time between fresh interpreters (what a caller waits), the handler
        # thread's CPU time between them (the same, without the waits on the service process and
        # the scheduler: the monitor only adds work to the handler's thread), and the
        # same-interpreter A/B (judging and scope only); each against the bare handler's wall time
        costs = (statistics.median(added), statistics.median(added_cpu), ab)
        rows.append((name, kind, b, m, added, added_cpu, ab, aa, costs, [verdict(c, kind, b) for c in costs]))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    if md:
        print("Command: `python tools/bench_behavior.py %s` · %s · %d cores (shared, noisy) · %d rounds, "
              "each a fresh bare and a fresh monitored interpreter (order alternating, one hash seed per round) timing "
              "%d interleaved repeats of every case; medians, interquartile ranges over rounds in brackets\n"
              % (" ".join(argv), stamp, os.cpu_count(), rounds, repeats))
        print("| case | bare | monitored (block, learned baseline) | added: wall, fresh interpreters | "
              "added: handler-thread "
              "CPU, fresh interpreters | added: same interpreter, handler-thread CPU in vs out of an invocation | "
              "control: out vs out, same procedure | target: wall / CPU / same interpreter |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for name, kind, b, m, added, added_cpu, ab, aa, costs, verdicts in rows:
            target = "<= 5 us" if kind == "op" else "<= 2 %"
            print("| %s | %.1f us | %.1f us | %+.1f us = %+.1f %% %s | %+.1f us = %+.1f %% %s | %+.2f us = %+.2f %% "
                  "| %+.2f us = %+.2f %% | %s: %s |" % (name, b, m, costs[0], costs[0] / b * 100, interquartile(added),
                                                    costs[1], costs[1] / b * 100, interquartile(added_cpu), ab, ab / b * 100,
                                                    aa, aa / b * 100, target, " / ".join(verdicts)))
    else:
        for name, kind, b, m, added, added_cpu, ab, aa, costs, verdicts in rows:
            print("%s\n    bare %.2f us  monitored %.2f us  added %+.2f us (%+.1f %%, interquartile %s)  %s"
                  "\n    handler-thread CPU between fresh interpreters: %+.2f us (%+.2f %%, interquartile %s)  %s"
                  "\n    same interpreter, handler-thread CPU in vs out of an invocation: %+.2f us (%+.2f %%)  %s"
                  "\n    control, out vs out by the same procedure: %+.2f us (%+.2f %%)"
                  % (name, b, m, costs[0], costs[0] / b * 100, interquartile(added), verdicts[0], costs[1],
                     costs[1] / b * 100, interquartile(added_cpu), verdicts[1], ab, ab / b * 100, verdicts[2],
                     aa, aa / b * 100))
    return 0


if __name__ == "__main__":
    sys.exit(main())
