"""The MQTT transport against brokers other than mosquitto: every test runs on mosquitto, aedes
(npm, MQTT 3.1.1) and rumqttd (PyPI iotcore, MQTT 3.1.1 and 5), each a real broker process on
loopback (tests/mqtt_broker.py), in every protocol the broker speaks: at-least-once and order for
QoS 1, a kept session, reconnection after a broker restart, and the sidecar process end to end
with both of its clients."""

import json
import subprocess
import sys
import time

import pytest

from edge_ssre.transports.mqtt_wire import Client

PROTOCOLS = ("3.1.1", "5")


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False


def spoken(b):
    return [(p, b.port_for(p)) for p in PROTOCOLS if b.port_for(p)]


class Sink:
    """A QoS 1 subscriber (our client) that acknowledges and records payloads in arrival order."""

    def __init__(self, b, port, v5, filters, client_id="", session_expiry=0, subscribe=True):
        self.got = []
        self.sessions = []
        self.c = Client(b.host, port, client_id, v5=v5, session_expiry=session_expiry,
                        on_connect=self._connected if subscribe else (lambda c: self.sessions.append(c.session_present)),
                        on_message=self._message)
        self.filters = filters
        self.c.start()

    def _connected(self, c):
        self.sessions.append(c.session_present)
        c.subscribe(self.filters, qos=1)

    def _message(self, topic, payload, qos, retain, mid, props):
        self.got.append(payload)
        if qos:
            self.c.ack(mid)

    def ready(self, pub, topic, timeout=10.0):
        """Publish probes until one arrives (the subscription is in place)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pub.publish(topic, b"probe", qos=0)
            if wait_for(lambda: b"probe" in self.got, 0.2):
                return True
        return False


def test_qos1_is_at_least_once_and_in_order(any_broker, topic_prefix):
    """1,000 QoS 1 messages with unique ids from one publisher: each arrives, once, in order."""
    for proto, port in spoken(any_broker):
        t = "%s/%s/seq" % (topic_prefix, proto)
        v5 = proto == "5"
        sink = Sink(any_broker, port, v5, [t])
        pub = Client(any_broker.host, port, v5=v5)
        pub.start()
        try:
            assert wait_for(lambda: sink.c.connected and pub.connected), (any_broker.kind, proto)
            assert sink.ready(pub, t)
            del sink.got[:]
            n = 1000
            sent = []
            for i in range(n):
                sent.append(pub.publish(t, b"%06d" % i, qos=1))
                if i % 100 == 99:  # rumqttd holds 100 in flight per connection
                    wait_for(lambda: all(s.done for s in sent[-50:]), 10)
            assert wait_for(lambda: all(s.done for s in sent), 30), (any_broker.kind, proto)
            assert wait_for(lambda: len([x for x in sink.got if x != b"probe"]) >= n, 30), (any_broker.kind, proto)
            ids = [int(x) for x in sink.got if x != b"probe"]
            assert ids == list(range(n)), (any_broker.kind, proto, len(ids))
            assert all(s.reason < 0x80 for s in sent) and pub.epoch == 1 and sink.c.epoch == 1
        finally:
            sink.c.stop()
            pub.stop()


def test_a_kept_session_receives_what_was_published_while_away(any_broker, topic_prefix):
    """A subscriber that keeps its session (MQTT 5 session expiry, MQTT 3.1.1 clean session off)
    leaves; QoS 1 messages published meanwhile reach it when it is back, without subscribing again."""
    for proto, port in spoken(any_broker):
        t = "%s/%s/away" % (topic_prefix, proto)
        v5 = proto == "5"
        cid = "keep-%s-%s" % (topic_prefix, proto.replace(".", ""))
        sink = Sink(any_broker, port, v5, [t], client_id=cid, session_expiry=600)
        pub = Client(any_broker.host, port, v5=v5)
        pub.start()
        try:
            assert wait_for(lambda: sink.c.connected and pub.connected)
            assert sink.ready(pub, t)
            sink.c.stop()
            sent = [pub.publish(t, b"away %02d" % i, qos=1) for i in range(30)]
            assert wait_for(lambda: all(s.done for s in sent))
            back = Sink(any_broker, port, v5, [t], client_id=cid, session_expiry=600, subscribe=False)
            try:
                assert wait_for(lambda: len(back.got) >= 30, 15), (any_broker.kind, proto, len(back.got))
                assert back.sessions[0] is True, (any_broker.kind, proto)
                assert back.got == [b"away %02d" % i for i in range(30)], (any_broker.kind, proto)
            finally:
                back.c.stop()
        finally:
            sink.c.stop()
            pub.stop()


def test_clients_reconnect_after_a_broker_restart(any_broker, topic_prefix):
    """The broker goes away for a second: both clients reconnect (one log line each for the
    outage), the subscriber subscribes again, a QoS 1 message published during the outage is
    sent and acknowledged after it, and traffic flows again."""
    for proto, port in spoken(any_broker):
        t = "%s/%s/restart" % (topic_prefix, proto)
        v5 = proto == "5"
        logs = []
        sink = Sink(any_broker, port, v5, [t])
        pub = Client(any_broker.host, port, v5=v5, log=logs.append)
        pub.start()
        try:
            assert wait_for(lambda: sink.c.connected and pub.connected)
            assert sink.ready(pub, t)
            any_broker.stop()
            assert wait_for(lambda: not pub.connected, 5)
            held = pub.publish(t, b"during the outage", qos=1)
            time.sleep(1.0)
            any_broker.start()
            assert wait_for(lambda: pub.connected and sink.c.connected and pub.epoch == 2 and sink.c.epoch == 2, 15), \
                (any_broker.kind, proto, logs)
            assert wait_for(lambda: held.done, 10) and held.reason < 0x80
            del sink.got[:]
            assert sink.ready(pub, t), (any_broker.kind, proto)
            assert len([x for x in logs if "lost" in x]) == 1, logs
        finally:
            sink.c.stop()
            pub.stop()


SIDECAR = """
inputs = ["{p}/in/#"]
output_prefix = "{p}-out"
quarantine = "{p}-q"
sink = "{sink}"
stats_interval = 3600
[broker]
host = "127.0.0.1"
port = {port}
protocol = "{proto}"
client = "{client}"
"""


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_the_sidecar_on_each_broker(any_broker, topic_prefix, tmp_path, client):
    """The sidecar process on each broker, in the newest protocol it speaks, with each of its MQTT
    clients: a QoS 1 stream passes complete and in order, an attack goes to quarantine."""
    proto, port = spoken(any_broker)[-1]
    p = topic_prefix
    cfg = tmp_path / "sc.toml"
    cfg.write_text(SIDECAR.format(p=p, sink=tmp_path / "f.jsonl", port=port, proto=proto, client=client))
    v5 = proto == "5"
    sink = Sink(any_broker, port, v5, [p + "-out/#", p + "-q/#"])
    pub = Client(any_broker.host, port, v5=v5)
    pub.start()
    proc = subprocess.Popen([sys.executable, "-m", "edge_ssre.cli", "run", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: sink.c.connected and pub.connected)
        end = time.monotonic() + 20
        while time.monotonic() < end and not sink.got:
            pub.publish(p + "/in/ready", b'{"v": 0}', qos=1)
            wait_for(lambda: sink.got, 0.3)
        assert sink.got, proc.stderr.read() if proc.poll() is not None else "the sidecar passed nothing"
        del sink.got[:]
        n = 300
        sent = []
        for i in range(n):
            sent.append(pub.publish(p + "/in/stream", b'{"seq": %d}' % i, qos=1))
            if i % 50 == 49:
                wait_for(lambda: all(s.done for s in sent[-25:]), 10)
        pub.publish(p + "/in/attack", b'{"cmd": "; cat /etc/passwd"}', qos=1)
        assert wait_for(lambda: len(sink.got) >= n + 1, 30), (len(sink.got), any_broker.kind, client)
        stream = [json.loads(x)["seq"] for x in sink.got if b"seq" in x]
        assert stream == list(range(n)), (any_broker.kind, client, len(stream))
        assert [x for x in sink.got if b"passwd" in x]
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        sink.c.stop()
        pub.stop()
    assert proc.returncode == 0, err[-2000:]
    final = json.loads(err.split("edge-ssre final: ", 1)[1].splitlines()[0])
    assert final["overflow"] == 0 and final["errors"] == 0 and final["blocked"] >= 1
