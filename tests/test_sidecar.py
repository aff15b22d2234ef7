"""The sidecar as a real process between real mosquitto clients: pass-through, blocking,
quarantine, a broker restart, malformed payloads, and the zero-config mode."""

import json
import subprocess
import sys
import threading
import time

import cbor2
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

CONFIG = """
broker = {broker}
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


def start_sidecar(tmp_path, broker, p, extra_args=(), client="builtin"):
    sink = tmp_path / "findings.jsonl"
    cfg = tmp_path / "sidecar.toml"
    where = '{ host = "%s", port = %d, client = "%s" }' % (broker.host, broker.port, client)
    cfg.write_text(CONFIG.format(broker=where, p=p, sink=sink))
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


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_sidecar_end_to_end(tmp_path, broker, topic_prefix, client):
    """Both MQTT clients the sidecar can use: its own (default) and paho-mqtt (``[broker] client``)."""
    p = topic_prefix
    probe = Probe(broker, [p + "-guarded/#", p + "-quarantine/#"], v5=True)
    pub = publisher(broker, v5=True)
    proc, sink = start_sidecar(tmp_path, broker, p, client=client)
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


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_sidecar_reconnects_after_a_broker_restart(tmp_path, broker, topic_prefix, client):
    p = topic_prefix
    proc, _ = start_sidecar(tmp_path, broker, p, client=client)
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
    cfg.write_text('broker = { host = "127.0.0.1", port = 1, client = "hbmqtt" }\n')
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "run", "--config", str(cfg)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2 and "client" in res.stderr and "paho" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_a_qos1_burst_is_paced_not_dropped_and_keeps_its_order(tmp_path, broker, topic_prefix, client):
    """3000 QoS 1 messages as fast as a client can send them, through a sidecar with a 64-slot
    queue. This mosquitto (Debian 2.0.11) sends past the sidecar's Receive Maximum once acks
    flow, so the queue would overflow if the input thread did not wait for room."""
    p = topic_prefix
    cfg = tmp_path / "small-queue.toml"
    cfg.write_text('inputs = ["%s/#"]\noutput_prefix = "%s-out"\nqueue_depth = 64\nstats_interval = 3600\n'
                   'sink = "%s"\n[broker]\nhost = "%s"\nport = %d\nclient = "%s"\n'
                   % (p, p, tmp_path / "f.jsonl", broker.host, broker.port, client))
    probe = Probe(broker, [p + "-out/#"], v5=True)
    pub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.max_inflight_messages_set(1000)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    proc = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_ready(pub, probe, p + "/ready", p + "-out")
        n = 3000
        for i in range(n):
            pub.publish(p + "/burst", cbor2.dumps({"seq": i, "temp": 20.5}), qos=1)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            with probe.lock:
                got = [cbor2.loads(m.payload)["seq"] for m in probe.msgs if m.topic == p + "-out/" + p + "/burst"]
            if len(got) >= n:
                break
            time.sleep(0.2)
    finally:
        code, err = stop(proc)
        pub.loop_stop()
        probe.close()
    assert sorted(set(got)) == list(range(n)), "lost %d of %d" % (n - len(set(got)), n)
    assert got[:n] == list(range(n))  # one publisher, one topic: the order survives the sidecar
    final = json.loads(err.split("edge-ssre final: ", 1)[1].splitlines()[0])
    assert final["overflow"] == 0 and final["errors"] == 0 and final["messages"] >= n


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_devices_messages_are_acknowledged_in_order_once_the_copies_are_held(client):
    """The sidecar's bookkeeping, without a broker: the broker's acknowledgement of our copy is
    set on the client's ``Sent`` records by hand; the input connection's ``ack`` is recorded."""
    from edge_ssre import Guard
    from edge_ssre.adapters.mqtt_sidecar import Sidecar
    if client == "paho":
        from edge_ssre.transports.paho_client import PahoSent

        def Sent(mid, data):
            return PahoSent(mid)
    else:
        from edge_ssre.transports.mqtt_wire import Sent

    sc = Sidecar(Guard(), "127.0.0.1", 1, ["in/#"], "out", client=client)
    acked = []
    sc.client.ack = lambda mid, qos: acked.append(mid)
    sc.client.epoch = 3
    c1, c2 = Sent(1, b""), Sent(2, b"")
    sc.window.extend([(c1, (3, 11, 1)), (c2, (3, 12, 1))])
    sc._ack_in_order((3, 13, 1))  # blocked, nothing published: still after 11 and 12
    sc._settle()
    assert acked == []
    c2.done = True
    sc._settle()
    assert acked == []  # 11 first
    c1.done = True
    c1.reason = 0x87  # refused by the broker (not authorized): acknowledged, and counted
    sc._settle()
    assert acked == [11, 12, 13] and not sc.window and sc.stats.errors == 1
    sc.window.append((Sent(3, b""), (2, 14, 1)))  # from an earlier input connection: never acked on this one
    sc.window[0][0].done = True
    sc._settle()
    assert acked == [11, 12, 13]


def test_the_sidecar_with_store_and_uplink_needs_no_paho(tmp_path, monkeypatch):
    """paho-mqtt hidden from the import system (as on a gateway without the ``mqtt`` extra): the
    sidecar builds with its event store and uplink, and never imports paho; asking for the paho
    client is refused with the key and the install hint."""
    from edge_ssre.adapters.mqtt_sidecar import build
    from edge_ssre.errors import PolicyError

    for name in ("paho", "paho.mqtt", "paho.mqtt.client"):
        monkeypatch.setitem(sys.modules, name, None)
    sc, store = build({"broker": "127.0.0.1:1", "inputs": ["a/#"], "output_prefix": "out",
                       "sink": "store:%s" % (tmp_path / "ev.ring"), "uplink": {"host": "127.0.0.1", "port": 1}})
    try:
        assert sc.client.host == "127.0.0.1" and sc.uplink is not None and sys.modules["paho"] is None
    finally:
        store.close()
    conf = {"broker": {"host": "127.0.0.1", "port": 1, "client": "paho"},
            "__text__": '[broker]\nhost = "127.0.0.1"\nport = 1\nclient = "paho"\n'}
    try:
        build(conf, "sc.toml")
        raise AssertionError("paho client accepted without paho")
    except PolicyError as exc:
        assert "client" in str(exc) and "edge-ssre[mqtt]" in str(exc) and "sc.toml" in str(exc)


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_messages_sent_while_the_sidecar_restarts_are_not_lost(tmp_path, broker, topic_prefix, client):
    """The input connection keeps its MQTT session (stable client id, session expiry): QoS 1
    messages devices publish while the sidecar is down are held by the broker and inspected and
    republished when it is back. With a clean session they would be gone."""
    p = topic_prefix
    probe = Probe(broker, [p + "-guarded/#"], v5=True)
    pub = publisher(broker, v5=True)
    try:
        proc, _ = start_sidecar(tmp_path, broker, p, client=client)
        assert wait_ready(pub, probe, p + "/raw/ready", p + "-guarded")
        code, err = stop(proc)
        assert code == 0, err
        for i in range(15):  # (under the config's per-client burst of 20)
            pub.publish(p + "/raw/while-down", b"reading %d" % i, qos=1)
        time.sleep(0.5)
        proc, _ = start_sidecar(tmp_path, broker, p, client=client)
        got = probe.wait(lambda m: m.topic == p + "-guarded/" + p + "/raw/while-down" and m.payload == b"reading 14",
                         timeout=20)
        with probe.lock:
            seen = {m.payload for m in probe.msgs if m.topic == p + "-guarded/" + p + "/raw/while-down"}
        code, err = stop(proc)
        assert got and seen == {b"reading %d" % i for i in range(15)}, (len(seen), err[-500:])
    finally:
        pub.loop_stop()
        probe.close()


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_retained_qos1_messages_waiting_at_start_pass_and_the_worker_lives(tmp_path, broker, topic_prefix, client):
    """Retained QoS 1 messages wait on the broker before the sidecar starts: they reach the input
    as soon as it subscribes, possibly before the output connection is up (with paho that once
    raised RuntimeError in the worker and paho's network thread). All are republished, and live
    traffic passes after them."""
    p = topic_prefix
    pub = publisher(broker, v5=True)
    probe = Probe(broker, [p + "-guarded/#"], v5=True)
    proc = None
    try:
        for i in range(10):
            pub.publish(p + "/raw/kept/%d" % i, b"retained %d" % i, qos=1, retain=True).wait_for_publish(5)
        proc, _ = start_sidecar(tmp_path, broker, p, client=client)
        kept = probe.wait(lambda m: m.topic.startswith(p + "-guarded/" + p + "/raw/kept/"), timeout=20)
        assert kept, proc.stderr.read() if proc.poll() is not None else "nothing republished"
        assert wait_ready(pub, probe, p + "/raw/live", p + "-guarded")
        with probe.lock:
            got = {m.payload for m in probe.msgs if m.topic.startswith(p + "-guarded/" + p + "/raw/kept/")}
        assert got == {b"retained %d" % i for i in range(10)}
        assert proc.poll() is None
    finally:
        if proc is not None:
            code, err = stop(proc)
        pub.loop_stop()
        probe.close()
    assert code == 0 and "Traceback" not in err and "RuntimeError" not in err, err[-2000:]
    final = json.loads(err.split("edge-ssre final: ", 1)[1].splitlines()[0])
    assert final["errors"] == 0, final
