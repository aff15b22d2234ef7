"""The uplink against real mosquitto brokers: a full drain, and the upstream broker stopped in
the middle of a drain and restarted; a consumer that deduplicates by (device, boot, seq) must
receive every event."""

import threading
import time

import cbor2
import paho.mqtt.client as mqtt
import pytest

from edge_ssre import EventStore
from edge_ssre.store.record import encode
from edge_ssre.uplink.batcher import encode_batch
from edge_ssre.uplink.mqtt_uplink import MqttUplink
from mqtt_broker import Broker


class Consumer:
    """A persistent-session QoS 1 subscriber (its queue survives the broker's restart)."""

    def __init__(self, broker, topic):
        self.seen = set()
        self.messages = 0
        self.lock = threading.Lock()
        self.c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                             client_id="consumer-" + topic.replace("/", "-"), clean_session=False)
        self.c.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, qos=1)
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.05, 0.5)
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()

    def _on_message(self, client, userdata, msg):
        batch = cbor2.loads(msg.payload)
        with self.lock:
            self.messages += 1
            for seq, record in batch:
                r = cbor2.loads(record) if isinstance(record, bytes) else record
                self.seen.add((r["device"], r["boot"], seq))

    def wait_for(self, n, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.seen) >= n:
                    return True
            time.sleep(0.02)
        return False

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def _fill(store, n, device="gw-1"):
    seqs = []
    for i in range(n):
        seqs.append(store.append(encode({"v": 1, "type": "finding", "device": device, "boot": store.boot,
                                         "rule": "sqli.grammar", "i": i})))
    return seqs


def test_batch_encoding_is_a_cbor_array_of_pairs():
    items = [(7, cbor2.dumps({"a": 1})), (8, cbor2.dumps({"b": 2}))]
    assert cbor2.loads(encode_batch(items)) == [[7, {"a": 1}], [8, {"b": 2}]]


def test_full_drain_commits_after_puback(tmp_path, broker, topic_prefix):
    topic = topic_prefix + "/events"
    with EventStore(str(tmp_path / "u.ring"), capacity_bytes=1 << 20, durability="none", device="gw-1") as store:
        seqs = _fill(store, 3000)
        consumer = Consumer(broker, topic)
        time.sleep(0.2)
        up = MqttUplink(store, broker.host, broker.port, topic=topic, client_id="up-" + topic_prefix,
                        rate_limit=None, max_records=200).start()
        try:
            assert up.drain(30), up.metrics()
            assert consumer.wait_for(len(seqs), 10)
        finally:
            up.stop()
            consumer.close()
        assert store.stats()["committed_seq"] == seqs[-1]
        assert {s for _, _, s in consumer.seen} == set(seqs)


def test_upstream_outage_mid_drain_loses_nothing(tmp_path, topic_prefix):
    topic = topic_prefix + "/events"
    up_broker = Broker(tmp_path / "upstream", extra_conf="persistence true\npersistence_location %s/\n"
                       % (tmp_path / "upstream")).start()
    try:
        with EventStore(str(tmp_path / "o.ring"), capacity_bytes=4 << 20, durability="none", device="gw-2") as store:
            seqs = _fill(store, 20000)
            consumer = Consumer(up_broker, topic)
            time.sleep(0.2)
            up = MqttUplink(store, up_broker.host, up_broker.port, topic=topic, client_id="up2-" + topic_prefix,
                            rate_limit=200, max_records=50, max_inflight=4)
            up.backoff.base = 0.05
            up.start()
            try:
                # wait until the drain is under way, then take the upstream broker down
                end = time.monotonic() + 20
                while store.stats()["committed_seq"] < 500 and time.monotonic() < end:
                    time.sleep(0.01)
                assert store.stats()["committed_seq"] >= 500, up.metrics()
                up_broker.stop()
                committed_during = store.stats()["committed_seq"]
                time.sleep(1.0)
                assert store.stats()["committed_seq"] - committed_during <= 4 * 50  # nothing acked while down
                up_broker.start()
                assert up.drain(60), up.metrics()
                assert consumer.wait_for(len(seqs), 30), (len(consumer.seen), len(seqs))
            finally:
                up.stop()
                consumer.close()
            assert up.disconnects >= 1
            assert {s for _, _, s in consumer.seen} == set(seqs)
    finally:
        up_broker.stop()


def test_rate_cap_spaces_publishes():
    from edge_ssre.uplink.backoff import RateCap
    t = [0.0]
    cap = RateCap(100, burst=1, clock=lambda: t[0])
    assert cap.wait_time() == 0.0
    assert cap.wait_time() == pytest.approx(0.01)
    t[0] += 0.02
    assert cap.wait_time() == 0.0


def test_backoff_grows_and_resets():
    import random
    from edge_ssre.uplink.backoff import Backoff
    b = Backoff(base=1, cap=8, rng=random.Random(0))
    delays = [b.next_delay() for _ in range(6)]
    assert all(0 <= d <= 8 for d in delays) and b.attempt == 6
    b.reset()
    assert b.attempt == 0


def _tool(name):
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
    return __import__(name)


def test_a_broker_that_accepts_but_never_acknowledges_a_batch_gets_growing_waits(tmp_path):
    """An upstream that accepts the connection and reads the first batch, then drops it without a
    PUBACK (AWS IoT Core does so for a publish its policy denies): the connection never counts as
    good, so the backoff keeps growing and the log has one line for the whole streak."""
    fm = _tool("fault_mqtt")

    def behaviour(peer, conn, n):
        fm.read_packet(conn)
        conn.sendall(fm.connack(False))
        fm.read_packet(conn)  # the first batch
        peer.stop_event.wait(2.5)  # longer than a good connection needs to count as stable

    peer = fm.ScriptedPeer(behaviour)
    with EventStore(str(tmp_path / "n.ring"), capacity_bytes=1 << 20, durability="none", device="gw-3") as store:
        _fill(store, 50)
        up = MqttUplink(store, "127.0.0.1", peer.port, topic="up/denied", rate_limit=None)
        logs = []
        up.client.log = logs.append
        up.start()
        try:
            time.sleep(9.0)
        finally:
            up.stop(timeout=2.0)
            peer.close()
        assert store.stats()["committed_seq"] == 0  # nothing acknowledged, nothing committed
    assert 2 <= len(peer.accepted) <= 4, peer.accepted
    # every connection was a failed attempt (the last may have been cut by stop()): never a reset
    assert up.client.backoff.attempt == up.retries >= len(peer.accepted) - 1
    assert len(logs) == 1 and "lost" in logs[0], logs


def test_stop_and_the_sidecars_drain_are_bounded_when_the_upstream_freezes(tmp_path, broker, topic_prefix):
    """The upstream stops reading mid-drain (a proxy that freezes): drain(while_delivering) gives up
    within ~2 s and stop() returns within its timeout, the uplink thread ended."""
    fm = _tool("fault_mqtt")
    proxy = fm.FaultProxy(broker.port)
    try:
        with EventStore(str(tmp_path / "f.ring"), capacity_bytes=8 << 20, durability="none", device="gw-4") as store:
            _fill(store, 20000)
            up = MqttUplink(store, "127.0.0.1", proxy.port, topic=topic_prefix + "/events", rate_limit=None,
                            max_records=50, keepalive=30).start()
            end = time.monotonic() + 20
            while store.stats()["committed_seq"] < 200 and time.monotonic() < end:
                time.sleep(0.01)
            assert store.stats()["committed_seq"] >= 200, up.metrics()
            proxy.freeze()
            t0 = time.monotonic()
            assert up.drain(30, while_delivering=True) is False
            assert time.monotonic() - t0 < 4.0
            t0 = time.monotonic()
            up.stop(timeout=3.0)
            assert time.monotonic() - t0 < 3.5 and not up._thread.is_alive()
    finally:
        proxy.close()
