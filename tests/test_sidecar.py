"""The sidecar as a real process between real mosquitto clients: pass-through, blocking,
quarantine, a broker restart, malformed payloads, and the zero-config mode."""

import json
import os
import subprocess
import sys
import threading
import time

import cbor2
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

CONFIG = """
broker = "{host}:{port}"
inputs = ["{p}/sensors/#", "{p}/raw/#"]
output_prefix = "{p}-guarded"
quarantine = "{p}-quarantine"
sink = "{sink}"
stats_interval = 0.5
[telemetry]
unknown_topics = "block"
client_id_level = 2
client_rate = {{ rate = 20, burst = 20 }}
[[telemetry.topic]]
filter = "{p}/sensors/+/telemetry"
format = "cbor"
max_bytes = 512
[telemetry.topic.fields]
temp = {{ type = "number", min = -40, max = 85, required = true }}
[[telemetry.topic]]
filter = "{p}/raw/#"
"""


class Probe:
    """A subscriber that records everything under some topic prefixes."""

    def __init__(self, broker, filters, v5=False):
        self.msgs = []
        self.lock = threading.Lock()
        self.c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                             protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
        self.c.on_connect = lambda c, u, f, rc, p=None: [c.subscribe(x, qos=1) for x in filters]
        self.c.on_message = self._on
        self.c.reconnect_delay_set(0.05, 0.5)
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()

    def _on(self, c, u, m):
        with self.lock:
            self.msgs.append(m)

    def wait(self, pred, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                hit = [m for m in self.msgs if pred(m)]
            if hit:
                return hit
            time.sleep(0.02)
        return []

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def publisher(broker, v5=False):
    c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


def start_sidecar(tmp_path, broker, p, extra_args=()):
    sink = tmp_path / "findings.jsonl"
    cfg = tmp_path / "sidecar.toml"
    cfg.write_text(CONFIG.format(host=broker.host, port=broker.port, p=p, sink=sink))
    args = [sys.executable, "-m", "edge_ssre.cli", "run", "--config", str(cfg)] + list(extra_args)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, sink


def wait_ready(pub, probe, topic, out_prefix, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pub.publish(topic, cbor2.dumps({"temp": 1}), qos=1)
        if probe.wait(lambda m: m.topic == out_prefix + "/" + topic, 0.3):
            return True
    return False


def stop(proc):
    proc.terminate()
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, err


def test_sidecar_end_to_end(tmp_path, broker, topic_prefix):
    p = topic_prefix
    probe = Probe(broker, [p + "-guarded/#", p + "-quarantine/#"], v5=True)
    pub = publisher(broker, v5=True)
    proc, sink = start_sidecar(tmp_path, broker, p)
    try:
        ready_topic = p + "/sensors/ready/telemetry"
        assert wait_ready(pub, probe, ready_topic, p + "-guarded"), proc.stderr.read() if proc.poll() else "not ready"
        good = cbor2.dumps({"temp": 21.5, "dev": "s-1"})
        pub.publish(p + "/sensors/s-1/telemetry", good, qos=1, retain=False)
        hits = probe.wait(lambda m: m.topic == p + "-guarded/" + p + "/sensors/s-1/telemetry")
        assert hits and hits[0].payload == good and hits[0].qos == 1

        attacks = {
            "inject": (p + "/sensors/s-2/telemetry", cbor2.dumps({"temp": 1, "note": "1' OR '1'='1' --"})),
            "schema": (p + "/sensors/s-3/telemetry", cbor2.dumps({"temp": 999})),
            "oversize": (p + "/sensors/s-4/telemetry", cbor2.dumps({"temp": 1, "pad": "x" * 900})),
            "unknown": (p + "/elsewhere/s-5", b"hello"),
            "malformed": (p + "/sensors/s-6/telemetry", bytes.fromhex("a26474656d70")),
        }
        for name, (topic, payload) in attacks.items():
            pub.publish(topic, payload, qos=1)
        for name, (topic, payload) in attacks.items():
            if name == "unknown":
                continue  # not under the sidecar's inputs: never seen, never republished
            q = probe.wait(lambda m, t=topic: m.topic == p + "-quarantine/" + t)
            assert q and q[0].payload == payload, name
            assert not [m for m in probe.msgs if m.topic == p + "-guarded/" + topic], name

        # a flood from one client: the first 20 pass, the rest are blocked
        for i in range(40):
            pub.publish(p + "/sensors/flood/telemetry", cbor2.dumps({"temp": 1, "i": i}), qos=1)
        time.sleep(1.5)
        passed = [m for m in probe.msgs if m.topic.endswith(p + "/sensors/flood/telemetry") and "-guarded/" in m.topic]
        blocked = [m for m in probe.msgs if m.topic.endswith(p + "/sensors/flood/telemetry") and "-quarantine/" in m.topic]
        assert 15 <= len(passed) <= 25 and len(blocked) >= 15

        # MQTT 5 user properties and retain pass through unchanged
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("trace", "abc123")]
        pub.publish(p + "/raw/a/b", b"plain text reading", qos=0, retain=True, properties=props)
        r = probe.wait(lambda m: m.topic == p + "-guarded/" + p + "/raw/a/b")
        assert r and r[0].payload == b"plain text reading"
        assert ("trace", "abc123") in (r[0].properties.UserProperty or [])
        late = Probe(broker, [p + "-guarded/" + p + "/raw/a/b"], v5=True)  # a retained copy reaches late subscribers
        kept = late.wait(lambda m: True)
        late.close()
        assert kept and kept[0].retain and kept[0].payload == b"plain text reading"
        assert proc.poll() is None, "the sidecar must keep running"
    finally:
        code, err = stop(proc)
        pub.loop_stop()
        probe.close()
    assert code == 0, err
    assert "edge-ssre stats:" in err and "blocked=" in err
    rows = [json.loads(x) for x in open(sink)]
    fams = {r["family"] for r in rows}
    assert {"sqli", "telemetry", "limits"} <= fams


def test_sidecar_reconnects_after_a_broker_restart(tmp_path, broker, topic_prefix):
    p = topic_prefix
    proc, _ = start_sidecar(tmp_path, broker, p)
    try:
        probe = Probe(broker, [p + "-guarded/#"])
        pub = publisher(broker)
        assert wait_ready(pub, probe, p + "/sensors/r/telemetry", p + "-guarded")
        pub.loop_stop()
        probe.close()
        broker.restart(down_seconds=1.0)
        probe = Probe(broker, [p + "-guarded/#"])
        pub = publisher(broker)
        assert wait_ready(pub, probe, p + "/sensors/after/telemetry", p + "-guarded", timeout=30)
        pub.loop_stop()
        probe.close()
        assert proc.poll() is None
    finally:
        stop(proc)


def test_zero_config_mode(tmp_path, broker, topic_prefix):
    p = topic_prefix
    probe = Probe(broker, ["guarded/%s/#" % p])
    pub = publisher(broker)
    proc = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--broker", "%s:%d" % (broker.host, broker.port),
                             "--input", p + "/#", "--output-prefix", "guarded", "--sink", str(tmp_path / "f.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ok = False
        for _ in range(50):
            pub.publish(p + "/x/y", b'{"v": 1}', qos=1)
            if probe.wait(lambda m: m.topic == "guarded/%s/x/y" % p, 0.3):
                ok = True
                break
        assert ok
        pub.publish(p + "/x/z", b'{"cmd": "; cat /etc/passwd"}', qos=1)
        time.sleep(0.5)
        assert not probe.wait(lambda m: m.topic == "guarded/%s/x/z" % p, 0.5)
    finally:
        stop(proc)
        pub.loop_stop()
        probe.close()


def test_output_inside_inputs_is_refused(broker):
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "run", "--broker", "%s:%d" % (broker.host, broker.port),
                          "--input", "#", "--output-prefix", "guarded", "--duration", "1"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "output prefix" in res.stderr and "Traceback" not in res.stderr


def test_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('broker = "127.0.0.1:1"\ncolour = "blue"\n')
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "run", "--config", str(cfg)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2 and "colour" in res.stderr and len(res.stderr.strip().splitlines()) == 1
