#!/usr/bin/env python3
"""Sidecar benchmark, one run: messages/s through mosquitto with and without the sidecar
(QoS 0 and 1), added latency p50/p99, the sidecar's RSS, and RSS after many distinct client ids.

    python tools/bench_sidecar.py [--quick] [--markdown]

Messages are benign ~200 B CBOR telemetry carrying their send time; distinct client ids are
sent as the MQTT 5 user property ``client_id`` (the sidecar's rate table has fixed slots).
Publisher and subscriber use the sidecar's own lean client (``transports/mqtt_wire.py``): with
paho on both ends, the load generator itself tops out near 4,000 QoS 1 messages/s on this machine
and would be what the "bare broker" figure measures.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import cbor2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from mqtt_broker import Broker  # noqa: E402

from edge_ssre.transports.mqtt_wire import Client  # noqa: E402


def message(i):
    return cbor2.dumps({"dev": "sensor-0042", "seq": i, "t": time.perf_counter_ns(), "temp": 21.53, "hum": 45.2,
                        "pres": 1013.25, "co2": 612, "batt": 3.71, "rssi": -67, "status": "ok", "fw": "2.3.1",
                        "loc": "bldg-a/floor-3/room-12", "pad": "x" * 40})


class Counter:
    def __init__(self, broker, topic, n):
        self.n, self.got, self.lat = n, 0, []
        self.first = self.last = None
        self.done = threading.Event()
        self.c = Client(broker.host, broker.port, on_connect=lambda c: c.subscribe([topic]), on_message=self.on)
        self.c.start()
        connected(self.c)
        time.sleep(0.2)

    def on(self, topic, payload, qos, retain, mid, props):
        if qos:
            self.c.ack(mid)
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.got += 1
        if self.got % 10 == 0:
            self.lat.append((time.perf_counter_ns() - cbor2.loads(payload)["t"]) / 1000.0)
        if self.got >= self.n:
            self.done.set()

    def close(self):
        self.c.stop()


def connected(client, timeout=10.0):
    if not client.wait_connected(timeout):
        raise SystemExit("bench_sidecar: no connection to the broker")


def client_id_property(name):
    """An MQTT 5 property block holding the user property ("client_id", name)."""
    k, v = b"client_id", name.encode()
    return b"\x26" + len(k).to_bytes(2, "big") + k + len(v).to_bytes(2, "big") + v


def run_flow(broker, pub_topic, sub_topic, n, qos, ids=False, pace=None):
    """Publish ``n`` messages (as fast as possible, or ``pace`` per second); the rate is what the
    subscriber received per second between its first and last message."""
    cnt = Counter(broker, sub_topic, n)
    pub = Client(broker.host, broker.port)
    pub.start()
    connected(pub)
    t = time.perf_counter()
    for i in range(n):
        pub.publish(pub_topic, message(i), qos, False, client_id_property("client-%d" % i) if ids else b"")
        if pace:
            delay = t + (i + 1) / pace - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        elif i % 500 == 499:
            time.sleep(0.001)  # let the network threads breathe on 2 cores
    waited = 0.0
    while not cnt.done.wait(0.5):  # until all arrived or nothing arrives for 3 s
        waited = waited + 0.5 if cnt.last is None or time.perf_counter() - cnt.last > 0.5 else 0.0
        if waited >= 3.0:
            break
    ok = cnt.done.is_set()
    el = (cnt.last - t) if cnt.last else 1e9
    pub.stop()
    cnt.close()
    lat = sorted(cnt.lat)
    p = (lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] if lat else 0.0)
    return {"msgs_per_s": cnt.got / el, "complete": ok, "received": cnt.got, "sent": n,
            "lat_p50_us": p(0.5), "lat_p99_us": p(0.99)}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    n = 5000 if args.quick else 20000
    ids_small, ids_big = (10000, 100000) if args.quick else (10000, 1000000)
    tmp = tempfile.mkdtemp(prefix="edge-ssre-bench-sc-")
    res = {}
    with Broker(tmp) as b:
        for qos in (0, 1):
            res["bare qos%d" % qos] = run_flow(b, "bench/bare/%d" % qos, "bench/bare/%d" % qos, n, qos)
            res["bare lat qos%d" % qos] = run_flow(b, "bench/barel/%d" % qos, "bench/barel/%d" % qos, 2000, qos, pace=500)
        side = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--broker", "%s:%d" % (b.host, b.port),
                                 "--input", "bench/in/#", "--output-prefix", "bench/out", "--sink",
                                 os.path.join(tmp, "f.jsonl"), "--stats-interval", "3600"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        try:
            res["rss_kb idle"] = rss_kb(side.pid)
            for qos in (0, 1):
                res["sidecar lat qos%d" % qos] = run_flow(b, "bench/in/l/%d" % qos, "bench/out/bench/in/l/%d" % qos,
                                                          2000, qos, pace=500)
                res["sidecar qos%d" % qos] = run_flow(b, "bench/in/x/%d" % qos, "bench/out/bench/in/x/%d" % qos, n, qos)
            res["rss_kb after throughput"] = rss_kb(side.pid)
            run_flow(b, "bench/in/ids", "bench/out/bench/in/ids", ids_small, 0, ids=True)
            res["rss_kb after %d distinct ids" % ids_small] = rss_kb(side.pid)
            run_flow(b, "bench/in/ids2", "bench/out/bench/in/ids2", ids_big - ids_small, 0, ids=True)
            res["rss_kb after %d distinct ids" % ids_big] = rss_kb(side.pid)
        finally:
            side.terminate()
            side.wait(10)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for qos in (0, 1):
        bare, sc = res["bare qos%d" % qos], res["sidecar qos%d" % qos]
        bl, sl = res["bare lat qos%d" % qos], res["sidecar lat qos%d" % qos]
        rows.append(("QoS %d msgs/s (bare broker)" % qos, "%.0f" % bare["msgs_per_s"],
                     "%d/%d received" % (bare["received"], bare["sent"])))
        rows.append(("QoS %d msgs/s through the sidecar" % qos, "%.0f" % sc["msgs_per_s"],
                     "%.0f%% of bare; %d/%d received" % (
                         100 * sc["msgs_per_s"] / bare["msgs_per_s"], sc["received"], sc["sent"])))
        rows.append(("QoS %d added latency p50 / p99 at 500 msg/s" % qos, "%.0f / %.0f us" % (
            sl["lat_p50_us"] - bl["lat_p50_us"], sl["lat_p99_us"] - bl["lat_p99_us"]),
            "end-to-end p50 %.0f us (bare %.0f us)" % (sl["lat_p50_us"], bl["lat_p50_us"])))
    for k, v in res.items():
        if k.startswith("rss_kb"):
            rows.append((k.replace("rss_kb", "sidecar RSS"), "%.1f MB" % (v / 1024.0), ""))
    if args.markdown:
        print("## MQTT sidecar (tools/bench_sidecar.py)\n")
        print("Command: `python tools/bench_sidecar.py%s --markdown` · %s · 2 cores shared by broker, publisher, "
              "subscriber and sidecar · %d messages of %d B per flow\n" % (" --quick" if args.quick else "", stamp, n,
                                                                            len(message(0))))
        print("| case | result | note |\n| --- | ---: | --- |")
        for r in rows:
            print("| %s | %s | %s |" % r)
    else:
        for r in rows:
            print("%-45s %18s  %s" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
