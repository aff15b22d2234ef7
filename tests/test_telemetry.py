"""Telemetry checks in-process: topic rules, deny lists, size, format, schema, rates with an
injected clock, fixed-slot tables under 100k ids, policy errors, learn -> enforce."""

import tracemalloc

import cbor2
import pytest

from edge_ssre import Guard
from edge_ssre.errors import PolicyError
from edge_ssre.telemetry.guard import TelemetryGuard
from edge_ssre.telemetry.learn import Learner
from edge_ssre.telemetry.policy import TelemetryPolicy
from edge_ssre.telemetry.rate_table import RateTable
from edge_ssre.telemetry.topic_filter import topic_matches

POLICY = """
[telemetry]
unknown_topics = "block"
client_rate = { rate = 5, burst = 5 }
[[telemetry.topic]]
filter = "sensors/+/telemetry"
format = "cbor"
max_bytes = 256
unknown_fields = "alert"
rate = { rate = 100, burst = 100 }
[telemetry.topic.fields]
temp = { type = "number", min = -40, max = 85, required = true }
status = { type = "string", enum = ["ok", "warn"] }
dev = { type = "string", max_length = 16, pattern = "^[a-z0-9-]{1,16}$" }
"""


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def make(policy=POLICY):
    clock = Clock()
    return Guard(telemetry=TelemetryGuard(TelemetryPolicy.load(text=policy), clock=clock)), clock


def ids(v):
    return sorted({f.rule_id for f in v.findings})


GOOD = cbor2.dumps({"dev": "s-1", "temp": 21.5, "status": "ok"})


def test_good_telemetry_passes():
    g, _ = make()
    assert g.inspect(GOOD, source="mqtt", topic="sensors/s-1/telemetry", client_id="s-1").action == "allow"


@pytest.mark.parametrize("payload,topic,rule", [
    (GOOD, "sensors/s-1/other", "telemetry.topic_unknown"),
    (GOOD, "$SYS/broker/load", "telemetry.topic_denied"),
    (GOOD, "$aws/things/x/shadow/update", "telemetry.topic_denied"),
    (GOOD, "sensors/" + "x/" * 20 + "telemetry", "telemetry.topic_limits"),
    (cbor2.dumps({"temp": 21.5, "pad": "x" * 300}), "sensors/s-1/telemetry", "telemetry.oversize"),
    (b'{"temp": 21.5}', "sensors/s-1/telemetry", "telemetry.format"),
    (cbor2.dumps({"temp": 500}), "sensors/s-1/telemetry", "telemetry.schema"),
    (cbor2.dumps({"temp": "hot"}), "sensors/s-1/telemetry", "telemetry.schema"),
    (cbor2.dumps({"status": "ok"}), "sensors/s-1/telemetry", "telemetry.schema"),
    (cbor2.dumps({"temp": 1, "status": "melting"}), "sensors/s-1/telemetry", "telemetry.schema"),
    (cbor2.dumps({"temp": 1, "dev": "DROP TABLE"}), "sensors/s-1/telemetry", "telemetry.schema"),
])
def test_violations_are_blocked(payload, topic, rule):
    g, _ = make()
    v = g.inspect(payload, source="mqtt", topic=topic)
    assert rule in ids(v) and v.action == "block"


def test_unknown_field_alerts_as_configured():
    g, _ = make()
    v = g.inspect(cbor2.dumps({"temp": 1, "extra": 2}), source="mqtt", topic="sensors/s-1/telemetry")
    assert ids(v) == ["telemetry.unknown_field"] and v.action == "alert"


def test_signatures_still_apply_to_telemetry():
    g, _ = make()
    v = g.inspect(cbor2.dumps({"temp": 1, "status": "ok", "dev": "x';drop--"}), source="mqtt",
                  topic="sensors/s-1/telemetry")
    assert v.action == "block"


def test_client_flood_is_rate_limited_and_recovers():
    g, clock = make()
    verdicts = [g.inspect(GOOD, source="mqtt", topic="sensors/s-1/telemetry", client_id="s-1").action for _ in range(8)]
    assert verdicts[:5] == ["allow"] * 5 and verdicts[5:] == ["block"] * 3
    clock.t += 2.0  # 2 s at 5 msg/s refills the bucket
    assert g.inspect(GOOD, source="mqtt", topic="sensors/s-1/telemetry", client_id="s-1").action == "allow"


def test_rate_table_memory_is_fixed_under_100k_ids():
    table = RateTable(1024, 10, 10)
    for i in range(1000):
        table.allow("warm-%d" % i, 0.0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100000):
        table.allow("client-%d" % i, float(i) / 1000)
    growth = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert growth < 64 * 1024, growth
    assert len(table.keys) == 1024


def test_colliding_active_ids_share_a_bucket_never_loosen():
    t = RateTable(1, rate=1, burst=2)
    assert t.allow("a", 0.0) and t.allow("b", 0.0)
    assert not t.allow("a", 0.0) and not t.allow("b", 0.0)
    assert t.collisions >= 1


@pytest.mark.parametrize("filt,topic,ok", [
    ("a/+/c", "a/b/c", True), ("a/#", "a", True), ("#", "$SYS/x", False), ("+/x", "$SYS/x", False),
    ("$SYS/#", "$SYS/broker", True), ("a/b", "a/b/c", False),
])
def test_topic_filters(filt, topic, ok):
    assert topic_matches(filt, topic) == ok


@pytest.mark.parametrize("text,key", [
    ('[telemetry]\nunknown_topics = "maybe"\n', "unknown_topics"),
    ('[telemetry]\n[[telemetry.topic]]\nfilter = "a/#/b"\n', "filter"),
    ('[telemetry]\n[[telemetry.topic]]\nfilter = "a"\nformat = "xml"\n', "format"),
    ('[telemetry]\n[[telemetry.topic]]\nfilter = "a"\n[telemetry.topic.fields]\nt = { type = "float" }\n', "t.type"),
    ('[telemetry]\n[[telemetry.topic]]\nfilter = "a"\n[telemetry.topic.fields]\nt = { pattern = "(a+)+" }\n', "t.pattern"),
    ('[telemetry]\nclient_rate = { rate = -1 }\n', "client_rate"),
    ('[telemetry]\ncolour = 1\n', "colour"),
])
def test_policy_errors_name_the_key(tmp_path, text, key):
    p = tmp_path / "tel.toml"
    p.write_text(text)
    with pytest.raises(PolicyError) as err:
        TelemetryPolicy.load(str(p))
    assert "%s:%d: " % (p, text.count("\n")) in str(err.value) and repr(key) in str(err.value)


def test_learn_then_enforce_round_trip():
    L = Learner()
    for i in range(300):
        L.observe("plant/dev-%d/telemetry" % (i % 4), cbor2.dumps({"dev": "dev-%d" % (i % 4), "temp": 20 + (i % 9),
                                                                  "status": ["ok", "warn"][i % 2]}), ts=100 + i / 20)
    text = L.baseline()
    pol = TelemetryPolicy.load(text=text)
    clock = Clock()
    g = Guard(telemetry=TelemetryGuard(pol, clock=clock))
    ok = cbor2.dumps({"dev": "dev-9", "temp": 24, "status": "ok"})
    assert g.inspect(ok, source="mqtt", topic="plant/dev-9/telemetry").action == "allow"
    assert g.inspect(cbor2.dumps({"dev": "dev-1", "temp": 900, "status": "ok"}), source="mqtt",
                     topic="plant/dev-1/telemetry").action == "block"
    assert g.inspect(ok, source="mqtt", topic="plant/dev-1/firmware").action == "block"


def test_learn_from_a_live_broker_and_a_clear_error_without_one(broker, topic_prefix):
    """`learn --broker`: the baseline covers what was published during the window; a broker
    that is not there is an OSError naming it (the CLI turns it into one line, exit 3)."""
    import threading
    import time

    from edge_ssre.telemetry.learn import from_broker
    from edge_ssre.transports.mqtt_wire import Client

    pub = Client(broker.host, broker.port)
    pub.start()
    L = Learner()
    stop = threading.Event()

    def publish():
        pub.wait_connected(10)
        i = 0
        while not stop.is_set():
            pub.publish(topic_prefix + "/line-%d/telemetry" % (i % 3), cbor2.dumps({"temp": 20 + i % 5}), qos=0)
            i += 1
            time.sleep(0.01)

    t = threading.Thread(target=publish, daemon=True)
    t.start()
    try:
        from_broker(broker.host, broker.port, [topic_prefix + "/#"], 1.5, L)
    finally:
        stop.set()
        t.join(2)
        pub.stop()
    from edge_ssre.telemetry.learn import generalize
    text = L.baseline()
    assert 'filter = "%s/+/telemetry"' % generalize(topic_prefix) in text and "temp = " in text
    try:
        from_broker("127.0.0.1", 1, ["#"], 0.1, Learner(), connect_timeout=1.0)
        raise AssertionError("no broker, no error")
    except OSError as exc:
        assert "127.0.0.1:1" in str(exc)
