#!/usr/bin/env python3
"""Event store benchmark: appends/s per durability mode vs persist-queue's SQLiteAckQueue and a
plain append+fsync file, drain events/s to a local mosquitto at QoS 1, and disk used; all in one run.

    python tools/bench_store.py [--quick] [--markdown] [--json OUT]

Needs the `bench` extra (persist-queue) and Debian's mosquitto for the drain case.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from edge_ssre import EventStore  # noqa: E402
from edge_ssre.store.record import encode  # noqa: E402

RECORD = encode({"v": 1, "type": "finding", "device": "gw-rpi4-0017", "boot": "a1b2c3d4e5f6", "ts": 1764064800.123,
                 "rule": "sqli.grammar", "family": "sqli", "action": "block", "severity": "critical",
                 "source": "mqtt", "topic": "plant-3/line-2/sensor-17/telemetry", "path": "note",
                 "excerpt": "1' or '1'='1' --", "count": 1})


def rate(fn, n, repeats=3):
    """Median operations per second of ``fn(i)`` over ``n`` calls, ``repeats`` times."""
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for i in range(n):
            fn(i)
        rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates)


def bench_appends(tmp, n_fast, n_sync):
    out = {}
    for mode, n in (("none", n_fast), ("group", n_fast), ("always", n_sync)):
        path = os.path.join(tmp, "store-%s.ring" % mode)
        with EventStore(path, capacity_bytes=64 << 20, durability=mode) as s:
            out["edge_ssre " + mode] = rate(lambda i: s.append(RECORD), n)
            if mode == "group":
                s.flush()
        out["disk_bytes " + mode] = os.path.getsize(path)
    # plain append + fsync per record: the floor for "durable before returning"
    path = os.path.join(tmp, "plain.log")
    with open(path, "ab", buffering=0) as fh:
        def plain(i):
            fh.write(RECORD)
            os.fsync(fh.fileno())
        out["plain append+fsync"] = rate(plain, n_sync)
    try:
        from persistqueue import SQLiteAckQueue
        q = SQLiteAckQueue(os.path.join(tmp, "pq"), auto_commit=True)
        out["persist-queue SQLiteAckQueue(auto_commit=True)"] = rate(lambda i: q.put(RECORD), n_sync)
    except ImportError as exc:
        out["persist-queue"] = "missing: %s (pip install -e '.[bench]')" % exc
    return out


def bench_drain(tmp, n):
    from mqtt_broker import Broker, mosquitto_binary
    if mosquitto_binary() is None:
        return {"drain": "mosquitto missing"}
    import paho.mqtt.client as mqtt
    from edge_ssre.uplink.mqtt_uplink import MqttUplink
    with Broker(os.path.join(tmp, "broker")) as b:
        with EventStore(os.path.join(tmp, "drain.ring"), capacity_bytes=64 << 20, durability="none") as s:
            for _ in range(n):
                s.append(RECORD)
            up = MqttUplink(s, b.host, b.port, topic="bench/events", client_id="bench-up", rate_limit=None,
                            max_records=500, max_inflight=16)
            t = time.perf_counter()
            up.start()
            ok = up.drain(120)
            el = time.perf_counter() - t
            up.stop()
            return {"drain events/s (QoS 1, local mosquitto)": n / el if ok else "did not finish",
                    "drain batches": up.batches}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="edge-ssre-bench-")
    try:
        n_fast, n_sync, n_drain = (5000, 200, 20000) if args.quick else (50000, 1000, 200000)
        res = bench_appends(tmp, n_fast, n_sync)
        res.update(bench_drain(tmp, n_drain))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pq = res.get("persist-queue SQLiteAckQueue(auto_commit=True)")
    rows = []
    for k, v in res.items():
        ratio = ("%.1fx" % (v / pq)) if isinstance(v, float) and isinstance(pq, float) and k.startswith("edge_ssre") else "-"
        rows.append((k, v, ratio))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.markdown:
        print("## Event store (tools/bench_store.py)\n")
        print("Command: `python tools/bench_store.py%s --markdown` · %s · 2 cores (shared, noisy), %s records of %d B\n"
              % (" --quick" if args.quick else "", stamp, "50k/1k" if not args.quick else "5k/200", len(RECORD)))
        print("| case | result | vs SQLiteAckQueue (same run) |\n| --- | ---: | ---: |")
        for k, v, r in rows:
            print("| %s | %s | %s |" % (k, ("%.0f /s" % v) if isinstance(v, float) else v, r))
    else:
        for k, v, r in rows:
            print("%-50s %14s  %s" % (k, ("%.0f /s" % v) if isinstance(v, float) else v, r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
