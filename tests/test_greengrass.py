"""The Greengrass v2 component: the recipe against the documented fields, the build output (and that
its wheel installs into a fresh venv), and the IPC adapter at the SDK boundary. No Greengrass
nucleus can run here, so the IPC client is a stand-in with the signatures of awsiotsdk's
GreengrassCoreIPCClientV2, fed the SDK's own model types."""

import json
import os
import subprocess
import sys
import threading
import venv

import cbor2
import pytest

from edge_ssre.adapters import greengrass as gg

pytest.importorskip("awsiot.greengrasscoreipc.model")
from awsiot.greengrasscoreipc.model import (  # noqa: E402
    BinaryMessage, MessageContext, SubscriptionResponseMessage)

ROOT = os.path.join(os.path.dirname(__file__), "..")


def check_recipe(r):
    """The recipe fields the Greengrass developer guide documents, with their types."""
    assert r["RecipeFormatVersion"] == "2020-01-25"
    assert isinstance(r["ComponentName"], str) and not r["ComponentName"].startswith("aws.greengrass")
    assert r["ComponentVersion"].count(".") == 2
    for key in ("ComponentDescription", "ComponentPublisher"):
        assert isinstance(r[key], str) and r[key]
    conf = r["ComponentConfiguration"]["DefaultConfiguration"]
    acl = conf["accessControl"]
    assert {"aws.greengrass.ipc.pubsub", "aws.greengrass.ipc.mqttproxy"} <= set(acl)
    for service, policies in acl.items():
        for pid, pol in policies.items():
            assert pid.startswith(r["ComponentName"]) and pol["operations"] and pol["resources"]
            assert all(op.startswith("aws.greengrass#") for op in pol["operations"])
    assert {"profile", "policy", "inputs"} <= set(conf)
    archs = set()
    for m in r["Manifests"]:
        assert m["Platform"]["os"] == "linux"
        archs.add(m["Platform"]["architecture"])
        life = m["Lifecycle"]
        assert "venv" in life["Install"]["Script"] and "{artifacts:path}" in life["Install"]["Script"]
        assert "edge-ssre greengrass run" in life["Run"]["Script"]
        assert m["Artifacts"] and m["Artifacts"][0]["URI"].startswith("s3://")
    assert archs == {"aarch64", "armv7l", "amd64"}


def test_recipe_has_the_documented_shape():
    check_recipe(gg.recipe("1.2.3", "edge_ssre-1.2.3-py3-none-any.whl", "my-bucket"))


def test_build_output_is_complete_and_installs(tmp_path):
    out = tmp_path / "greengrass-build"
    res = subprocess.run([sys.executable, "-m", "edge_ssre.cli", "greengrass", "build", "--out", str(out),
                          "--version", "0.1.0", "--bucket", "b"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    recipe = json.loads((out / "recipes" / ("%s-0.1.0.json" % gg.COMPONENT)).read_text())
    check_recipe(recipe)
    art = out / "artifacts" / gg.COMPONENT / "0.1.0"
    wheels = list(art.glob("*.whl"))
    assert len(wheels) == 1 and recipe["Manifests"][0]["Artifacts"][0]["URI"].endswith(wheels[0].name)
    gdk = json.loads(open(os.path.join(ROOT, "gdk-config.json")).read())
    assert gdk["component"][gg.COMPONENT]["build"]["build_system"] == "custom"
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", str(wheels[0])], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(py), "-c", "import edge_ssre.rules.ruleset as r, edge_ssre.profiles as p; "
                        "print(len(r.compiled()['rules']), sorted(p.available_profiles()))"],
                       capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "greengrass-core" in r.stdout and "raspberry-pi-4" in r.stdout


class FakeIPC:
    def __init__(self):
        self.subs, self.published, self.iot, self.states = {}, [], [], []

    def subscribe_to_topic(self, *, topic=None, receive_mode=None, stream_handler=None, on_stream_event=None,
                           on_stream_error=None, on_stream_closed=None):
        self.subs[topic] = on_stream_event
        return object(), object()

    def publish_to_topic(self, *, topic=None, publish_message=None):
        self.published.append((topic, publish_message.binary_message.message))

    def publish_to_iot_core(self, *, topic_name=None, qos=None, payload=None):
        self.iot.append((topic_name, payload))

    def update_state(self, *, state=None):
        self.states.append(state)

    def subscribe_to_configuration_update(self, *, component_name=None, key_path=None, stream_handler=None,
                                          on_stream_event=None, on_stream_error=None, on_stream_closed=None):
        return object(), object()

    def deliver(self, filt, topic, payload):
        msg = SubscriptionResponseMessage(binary_message=BinaryMessage(message=payload,
                                                                       context=MessageContext(topic=topic)))
        self.subs[filt](msg)


def test_ipc_component_guards_and_forwards(tmp_path):
    client = FakeIPC()
    stop = threading.Event()
    conf = dict(gg.DEFAULT_CONFIGURATION, storePath=str(tmp_path / "events.ring"), inputs=["sensors/#"])
    done = {}
    th = threading.Thread(target=lambda: done.update(r=gg.run_component(conf, client=client, stop=stop)))
    th.start()
    try:
        for _ in range(100):
            if client.states:
                break
            threading.Event().wait(0.02)
        assert client.states == ["RUNNING"] and "sensors/#" in client.subs
        client.deliver("sensors/#", "sensors/s-1/telemetry", cbor2.dumps({"temp": 21.5}))
        client.deliver("sensors/#", "sensors/s-2/telemetry", cbor2.dumps({"temp": 1, "cmd": "; cat /etc/passwd"}))
        client.deliver("sensors/#", "sensors/s-3/telemetry", b"\xff\xfe not cbor")
    finally:
        threading.Event().wait(0.3)
        stop.set()
        th.join(10)
    topics = [t for t, _ in client.published]
    assert "guarded/sensors/s-1/telemetry" in topics and "quarantine/sensors/s-2/telemetry" in topics
    assert not any(t == "guarded/sensors/s-2/telemetry" for t in topics)
    adapter, uplink = done["r"]
    assert adapter.counts["messages"] == 3 and adapter.counts["errors"] == 0
    events = [rec for _, p in client.iot for _, rec in cbor2.loads(p)]
    assert events and any((r if isinstance(r, dict) else cbor2.loads(r))["family"] == "cmdi" for r in events)
